"""Analysis over dissected packets: display filters for ``pktlab dissect -Y``, and what
builds on them."""

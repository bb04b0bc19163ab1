"""pktlab: a packet lab for learning and checking how the TCP/IP stack really works.

The package is organised as smoltcp is: ``pktlab.wire`` (codecs, no state), ``pktlab.capture``
(pcap and pcapng files), ``pktlab.oracle`` (comparison with Scapy and tshark) and
``pktlab.cli`` (the command line). Importing pktlab never imports Scapy.
"""

__version__ = "0.1.0"

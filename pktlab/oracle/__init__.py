"""Oracles: Scapy and tshark, against which pktlab checks itself."""

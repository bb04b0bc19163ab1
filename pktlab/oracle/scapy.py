"""Scapy as an oracle: the same bytes dissected by Scapy, compared field by field with pktlab.

Scapy is pktlab's oracle, never its engine: no codec in :mod:`pktlab.wire` calls it, and
importing :mod:`pktlab` or :mod:`pktlab.wire` does not import it. This module is the one place
that does (with :meth:`pktlab.wire.Packet.to_scapy`, which calls :func:`to_scapy`).

What it provides
----------------
* :func:`to_scapy` / :func:`from_scapy`: a dissected pktlab packet as a Scapy packet of the same
  bytes (the Scapy class chosen by the pcap link type) and back.
* :data:`SCAPY_FIELDS`: the one mapping from pktlab (Wireshark) field names to Scapy fields, for
  every layer pktlab has or is getting. The table holds names only; how a Scapy value becomes a
  pktlab value is derived from the two declarations: pktlab's :class:`~pktlab.wire.Field` (kind,
  scale, parent field) and the Scapy field's bit width. ``IP.ihl`` counts 32-bit words and
  ``ip.hdr_len`` bytes: the declaration's ``scale=4`` says so. ``ip.flags.df`` is one bit of
  ``IP.flags``: the declaration says where it lies in its parent ``ip.flags``, whose Scapy field
  is 3 bits wide. Only a handful of entries need a converter of their own (:data:`CONVERTERS`).
* :func:`compare_packets` / :func:`compare_with_scapy`: pair pktlab's layers with Scapy's, and
  compare every mapped field both have, options (TCP, IPv4, IPv6, NDP) and repeated items (SACK
  blocks, recorded routes, MLDv2 records) included. :func:`compare_build`: the bytes each
  library builds, and the field that covers the first byte where they differ.
  :func:`mapped_fields` says which fields of a dissection a comparison should have compared.
* :data:`KNOWN_SCAPY_DIFFERENCES`: where Scapy disagrees for a reason, in dissecting or in
  building. The comparisons skip those cases and list what they skipped, and why, in their
  result; ``result.disagreements(allowed)`` is what a test asserts empty: the mismatches, and
  the skips for a known difference it did not expect.

The per-codec differential tests (``tests/test_<codec>.py``) and the corpus comparison all go
through this module: a Scapy field name or value conversion belongs here, not in a test.

A field is compared only when pktlab's dissection produced it, so entries for a codec that is
not registered (or not imported) wait harmlessly until it is. Scapy is imported with this
module: import it only where Scapy is wanted.
"""

from __future__ import annotations

import socket
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from scapy.config import conf
from scapy.layers import inet, inet6, l2
from scapy.packet import NoPayload, Padding, Raw
from scapy.packet import Packet as ScapyPacket

from pktlab.wire import BUILDERS, dissect
from pktlab.wire._build import Proto, Stack
from pktlab.wire._model import Field, Header, Kind, format_ipv6, format_mac
from pktlab.wire._packet import MAX_LAYERS, Layer, Packet

__all__ = [
    "CONVERTERS",
    "KNOWN_SCAPY_DIFFERENCES",
    "NOT_IN_SCAPY",
    "SCAPY_FIELDS",
    "Comparison",
    "KnownDifference",
    "Mismatch",
    "ScapyField",
    "Skip",
    "compare_build",
    "compare_packets",
    "compare_with_scapy",
    "declared_fields",
    "field_at",
    "from_scapy",
    "linktype_of",
    "mapped_fields",
    "scapy_class",
    "scapy_value",
    "to_pktlab_value",
    "to_scapy",
]

# ------------------------------------------------------------------------ link types

_LINK_CLASSES: dict[int, Any] = {
    0: l2.Loopback,  # BSD loopback: a 4-byte address family in host byte order
    1: l2.Ether,
    108: l2.LoopbackOpenBSD,  # the same in network byte order
    113: l2.CookedLinux,
    228: inet.IP,
    229: inet6.IPv6,
    276: l2.CookedLinuxV2,
}

# The inverse, most specific class first (CookedLinuxV2 is a subclass of CookedLinux).
_CLASS_LINKTYPES: tuple[tuple[Any, int], ...] = (
    (l2.CookedLinuxV2, 276),
    (l2.CookedLinux, 113),
    (l2.LoopbackOpenBSD, 108),
    (l2.Loopback, 0),
    (l2.Ether, 1),
    (l2.Dot3, 1),
    (inet6.IPv6, 229),
    (inet.IP, 228),
)


def scapy_class(linktype: int, data: bytes = b"") -> Any:
    """The Scapy class that dissects a frame of this pcap link type.

    LINKTYPE_RAW (101) carries IPv4 or IPv6: the version nibble decides, as libpcap does.
    """
    if linktype in (101, 12, 14):  # LINKTYPE_RAW and DLT_RAW's two numbers
        version = data[0] >> 4 if data else 4
        return inet6.IPv6 if version == 6 else inet.IP if version == 4 else Raw
    found = _LINK_CLASSES.get(linktype)
    if found is not None:
        return found
    return conf.l2types.num2layer.get(linktype, Raw)


def to_scapy(packet: Packet) -> Any:
    """The same bytes as a Scapy packet, dissected by the Scapy class for the link type."""
    return scapy_class(packet.linktype, packet.data)(packet.data)


def linktype_of(pkt: Any) -> int:
    """The pcap link type whose frames start with ``pkt``'s top layer."""
    for cls, linktype in _CLASS_LINKTYPES:
        if isinstance(pkt, cls):
            return linktype
    number = conf.l2types.layer2num.get(type(pkt))
    if number is None:
        raise ValueError(f"no pcap link type starts with a Scapy {type(pkt).__name__} layer; "
                         "pass linktype explicitly")
    return int(number)


def from_scapy(pkt: Any, linktype: int | None = None, *, strict: bool = False) -> Packet:
    """The raw bytes of a Scapy packet, dissected by pktlab.

    ``linktype`` defaults to the one Scapy's top layer implies: ``Ether`` 1, ``IP`` 228,
    ``IPv6`` 229, ``CookedLinux`` 113, ``CookedLinuxV2`` 276, ``Loopback`` 0.
    """
    data = bytes(pkt)
    return dissect(data, linktype_of(pkt) if linktype is None else linktype, strict=strict)


# ------------------------------------------------------------------------ the mapping


@dataclass(frozen=True, slots=True)
class ScapyField:
    """Where a pktlab field lives in Scapy.

    ``layer`` is a Scapy class name; the entry applies to that class and its subclasses
    (``IP`` entries to ``IPerror``). A name with a leading underscore is an abstract Scapy base
    (``_ICMPv6``); ``IPv6Option`` stands for every IPv6 hop-by-hop/destination option class and
    ``TCPOption`` for one ``(name, value)`` item of Scapy's TCP option list. ``fields`` is one
    Scapy field, several whose bits are concatenated (``TCP.reserved+flags``), or none (the
    whole Scapy object goes to the converter). ``index`` picks from a tuple value
    (``Timestamp[0]``, ``SAck[0::2]``).
    """

    layer: str
    fields: tuple[str, ...]
    index: int | slice | None = None
    convert: Callable[[Any, Field | None], Any] | None = None

    @property
    def spec(self) -> str:
        text = f"{self.layer}.{'+'.join(self.fields)}"
        if isinstance(self.index, slice):
            parts = [self.index.start, self.index.stop, self.index.step]
            text += "[" + ":".join("" if p is None else str(p) for p in parts) + "]"
        elif self.index is not None:
            text += f"[{self.index}]"
        return text


# pktlab field name -> Scapy "Class.field" (alternatives in a tuple, the first that applies to
# the Scapy layer at hand wins). Names only: conversions are derived from the declarations.
_NAMES: dict[str, str | tuple[str, ...]] = {
    # Ethernet II / IEEE 802.3 (a type below 0x0600 is a length: Scapy's Dot3)
    "eth.dst": ("Ether.dst", "Dot3.dst"),
    "eth.src": ("Ether.src", "Dot3.src"),
    "eth.type": "Ether.type",
    "eth.len": "Dot3.len",
    # 802.1Q and 802.1ad tags
    "vlan.priority": "Dot1Q.prio",
    "vlan.dei": "Dot1Q.dei",
    "vlan.id": "Dot1Q.vlan",
    "vlan.etype": "Dot1Q.type",
    "ieee8021ad.priority": "Dot1AD.prio",
    "ieee8021ad.dei": "Dot1AD.dei",
    "ieee8021ad.id": "Dot1AD.vlan",
    "ieee8021ad.etype": "Dot1AD.type",
    # ARP (RFC 826)
    "arp.hw.type": "ARP.hwtype",
    "arp.proto.type": "ARP.ptype",
    "arp.hw.size": "ARP.hwlen",
    "arp.proto.size": "ARP.plen",
    "arp.opcode": "ARP.op",
    "arp.src.hw_mac": "ARP.hwsrc",
    "arp.src.proto_ipv4": "ARP.psrc",
    "arp.dst.hw_mac": "ARP.hwdst",
    "arp.dst.proto_ipv4": "ARP.pdst",
    "arp.src.hw": "ARP.hwsrc",
    "arp.src.proto": "ARP.psrc",
    "arp.dst.hw": "ARP.hwdst",
    "arp.dst.proto": "ARP.pdst",
    # IPv4 (RFC 791); inside an ICMP error Scapy's class is IPerror, a subclass of IP
    "ip.version": "IP.version",
    "ip.hdr_len": "IP.ihl",
    "ip.dsfield": "IP.tos",
    "ip.dsfield.dscp": "IP.tos",
    "ip.dsfield.ecn": "IP.tos",
    "ip.len": "IP.len",
    "ip.id": "IP.id",
    "ip.flags": "IP.flags",
    "ip.flags.rb": "IP.flags",
    "ip.flags.df": "IP.flags",
    "ip.flags.mf": "IP.flags",
    "ip.frag_offset": "IP.frag",
    "ip.ttl": "IP.ttl",
    "ip.proto": "IP.proto",
    "ip.checksum": "IP.chksum",
    "ip.src": "IP.src",
    # ip.dst also names a source route's final destination (as in Wireshark)
    "ip.dst": ("IP.dst", "IPOption_RR.routers"),
    # IPv4 options: IP.options is a list of IPOption packets
    "ip.opt.type": "IPOption.copy_flag+optclass+option",
    "ip.opt.type.copy": "IPOption.copy_flag",
    "ip.opt.type.class": "IPOption.optclass",
    "ip.opt.type.number": "IPOption.option",
    "ip.opt.len": "IPOption.length",
    "ip.opt.ptr": ("IPOption_RR.pointer", "IPOption_Timestamp.pointer"),
    "ip.rec_rt": "IPOption_RR.routers",
    "ip.empty_rt": "IPOption_RR.routers",
    "ip.src_rt": "IPOption_RR.routers",
    "ip.opt.overflow": "IPOption_Timestamp.oflw",
    "ip.opt.flag": "IPOption_Timestamp.flg",
    "ip.opt.time_stamp_addr": "IPOption_Timestamp.internet_address",
    "ip.opt.time_stamp": "IPOption_Timestamp.timestamp",
    "ip.opt.ra": "IPOption_Router_Alert.alert",
    "ip.opt.sid": "IPOption_Stream_Id.security",  # Scapy's name for the stream identifier
    "ip.opt.mtu": "IPOption_MTU_Probe.mtu",
    "ip.opt.id_number": "IPOption_Traceroute.id",
    "ip.opt.ohc": "IPOption_Traceroute.outbound_hops",
    "ip.opt.rhc": "IPOption_Traceroute.return_hops",
    "ip.opt.originator": "IPOption_Traceroute.originator_ip",
    # IPv6 (RFC 8200); IPerror6 inside an ICMPv6 error
    "ipv6.version": "IPv6.version",
    "ipv6.tclass": "IPv6.tc",
    "ipv6.tclass.dscp": "IPv6.tc",
    "ipv6.tclass.ecn": "IPv6.tc",
    "ipv6.flow": "IPv6.fl",
    "ipv6.plen": "IPv6.plen",
    "ipv6.nxt": "IPv6.nh",
    "ipv6.hlim": "IPv6.hlim",
    "ipv6.src": "IPv6.src",
    "ipv6.dst": "IPv6.dst",
    # IPv6 extension headers (Scapy keeps a type 2 routing header in its generic class)
    "ipv6.hopopts.nxt": "IPv6ExtHdrHopByHop.nh",
    "ipv6.hopopts.len": "IPv6ExtHdrHopByHop.len",
    "ipv6.dstopts.nxt": "IPv6ExtHdrDestOpt.nh",
    "ipv6.dstopts.len": "IPv6ExtHdrDestOpt.len",
    "ipv6.routing.nxt": ("IPv6ExtHdrRouting.nh", "IPv6ExtHdrSegmentRouting.nh"),
    "ipv6.routing.len": ("IPv6ExtHdrRouting.len", "IPv6ExtHdrSegmentRouting.len"),
    "ipv6.routing.type": ("IPv6ExtHdrRouting.type", "IPv6ExtHdrSegmentRouting.type"),
    "ipv6.routing.segleft": ("IPv6ExtHdrRouting.segleft", "IPv6ExtHdrSegmentRouting.segleft"),
    "ipv6.routing.src.reserved": "IPv6ExtHdrRouting.reserved",
    "ipv6.routing.src.addr": "IPv6ExtHdrRouting.addresses",
    "ipv6.routing.mipv6.reserved": "IPv6ExtHdrRouting.reserved",
    "ipv6.routing.mipv6.home_address": "IPv6ExtHdrRouting.addresses[0]",
    "ipv6.fraghdr.nxt": "IPv6ExtHdrFragment.nh",
    "ipv6.fraghdr.reserved_octet": "IPv6ExtHdrFragment.res1",
    "ipv6.fraghdr.offset": "IPv6ExtHdrFragment.offset",
    "ipv6.fraghdr.reserved_bits": "IPv6ExtHdrFragment.res2",
    "ipv6.fraghdr.more": "IPv6ExtHdrFragment.m",
    "ipv6.fraghdr.ident": "IPv6ExtHdrFragment.id",
    # IPv6 hop-by-hop and destination options (RFC 8200 section 4.2)
    "ipv6.opt.type": "IPv6Option.otype",
    "ipv6.opt.type.action": "IPv6Option.otype",
    "ipv6.opt.type.change": "IPv6Option.otype",
    "ipv6.opt.type.rest": "IPv6Option.otype",
    "ipv6.opt.length": "IPv6Option.optlen",
    "ipv6.opt.padn": "PadN.optdata",
    "ipv6.opt.router_alert": "RouterAlert.value",
    "ipv6.opt.jumbo": "Jumbo.jumboplen",
    "ipv6.opt.tel": "HBHOptUnknown.optdata",  # Scapy has no class for RFC 2473's option
    "ipv6.opt.mipv6.home_address": "HAO.hoa",
    "ipv6.opt.unknown": "HBHOptUnknown.optdata",
    # ICMP (RFC 792); ICMPerror inside an ICMP error
    "icmp.type": "ICMP.type",
    "icmp.code": "ICMP.code",
    "icmp.checksum": "ICMP.chksum",
    "icmp.ident": "ICMP.id",
    "icmp.seq": "ICMP.seq",
    "icmp.originate_timestamp": "ICMP.ts_ori",
    "icmp.receive_timestamp": "ICMP.ts_rx",
    "icmp.transmit_timestamp": "ICMP.ts_tx",
    "icmp.redir_gw": "ICMP.gw",
    "icmp.pointer": "ICMP.ptr",
    "icmp.length": "ICMP.length",
    "icmp.mtu": "ICMP.nexthopmtu",
    "icmp.address_mask": "ICMP.addr_mask",
    "icmp.reserved": "ICMP.unused",
    # Scapy splits the rest of the header differently per type; these compare with the
    # bytes it encodes there (CONVERTERS).
    "icmp.unused": "ICMP.",
    "icmp.num_addrs": "ICMP.",
    "icmp.addr_entry_size": "ICMP.",
    "icmp.lifetime": "ICMP.",
    # ICMPv6 (RFC 4443), neighbour discovery (RFC 4861), MLD (RFC 2710, RFC 9777)
    "icmpv6.type": "_ICMPv6.type",
    "icmpv6.code": ("ICMPv6MLReport2.res", "_ICMPv6.code"),
    "icmpv6.checksum": "_ICMPv6.cksum",
    "icmpv6.echo.identifier": "ICMPv6EchoRequest.id",
    "icmpv6.echo.sequence_number": "ICMPv6EchoRequest.seq",
    "icmpv6.mtu": "ICMPv6PacketTooBig.mtu",
    "icmpv6.pointer": "ICMPv6ParamProblem.ptr",
    "icmpv6.length": ("ICMPv6DestUnreach.length", "ICMPv6TimeExceeded.length"),
    "icmpv6.reserved": ("ICMPv6ND_NS.res", "ICMPv6ND_RS.res", "ICMPv6ND_Redirect.res",
                        "ICMPv6DestUnreach.length+unused", "ICMPv6TimeExceeded.length+unused",
                        "_ICMPv6ML.reserved", "ICMPv6MLQuery2.reserved",
                        "ICMPv6MLReport2.reserved"),
    "icmpv6.nd.ns.target_address": "ICMPv6ND_NS.tgt",
    "icmpv6.nd.na.target_address": "ICMPv6ND_NA.tgt",
    "icmpv6.nd.na.flag": "ICMPv6ND_NA.R+S+O+res",
    "icmpv6.nd.na.flag.r": "ICMPv6ND_NA.R",
    "icmpv6.nd.na.flag.s": "ICMPv6ND_NA.S",
    "icmpv6.nd.na.flag.o": "ICMPv6ND_NA.O",
    "icmpv6.nd.na.flag.rsv": "ICMPv6ND_NA.res",
    "icmpv6.nd.ra.cur_hop_limit": "ICMPv6ND_RA.chlim",
    "icmpv6.nd.ra.flag": "ICMPv6ND_RA.M+O+H+prf+P+res",
    "icmpv6.nd.ra.flag.m": "ICMPv6ND_RA.M",
    "icmpv6.nd.ra.flag.o": "ICMPv6ND_RA.O",
    "icmpv6.nd.ra.flag.h": "ICMPv6ND_RA.H",
    "icmpv6.nd.ra.flag.prf": "ICMPv6ND_RA.prf",
    "icmpv6.nd.ra.flag.p": "ICMPv6ND_RA.P",
    "icmpv6.nd.ra.flag.rsv": "ICMPv6ND_RA.res",
    "icmpv6.nd.ra.router_lifetime": "ICMPv6ND_RA.routerlifetime",
    "icmpv6.nd.ra.reachable_time": "ICMPv6ND_RA.reachabletime",
    "icmpv6.nd.ra.retrans_timer": "ICMPv6ND_RA.retranstimer",
    "icmpv6.nd.rd.target_address": "ICMPv6ND_Redirect.tgt",
    "icmpv6.rd.na.destination_address": "ICMPv6ND_Redirect.dst",
    "icmpv6.mld.maximum_response_delay": "_ICMPv6ML.mrd",
    "icmpv6.mld.maximum_response_code": "ICMPv6MLQuery2.mrd",
    "icmpv6.mld.multicast_address": ("_ICMPv6ML.mladdr", "ICMPv6MLQuery2.mladdr"),
    "icmpv6.mld.flag": "ICMPv6MLQuery2.Resv+S+QRV",
    "icmpv6.mld.flag.reserved": "ICMPv6MLQuery2.Resv",
    "icmpv6.mld.flag.s": "ICMPv6MLQuery2.S",
    "icmpv6.mld.flag.qrv": "ICMPv6MLQuery2.QRV",
    "icmpv6.mld.qqi": "ICMPv6MLQuery2.QQIC",
    "icmpv6.mld.nb_sources": "ICMPv6MLQuery2.sources_number",
    "icmpv6.mld.source_address": "ICMPv6MLQuery2.sources",
    "icmpv6.mldr.nb_mcast_records": "ICMPv6MLReport2.records_number",
    "icmpv6.mldr.mar.record_type": "ICMPv6MLDMultAddrRec.rtype",
    "icmpv6.mldr.mar.aux_data_len": "ICMPv6MLDMultAddrRec.auxdata_len",
    "icmpv6.mldr.mar.nb_sources": "ICMPv6MLDMultAddrRec.sources_number",
    "icmpv6.mldr.mar.multicast_address": "ICMPv6MLDMultAddrRec.dst",
    "icmpv6.mldr.mar.source_address": "ICMPv6MLDMultAddrRec.sources",
    "icmpv6.mldr.mar.auxiliary_data": "ICMPv6MLDMultAddrRec.auxdata",
    # NDP options (RFC 4861 section 4.6): Scapy chains them as payload layers
    "icmpv6.opt.type": "_ICMPv6NDGuessPayload.type",
    "icmpv6.opt.length": "_ICMPv6NDGuessPayload.len",
    "icmpv6.opt.linkaddr": "ICMPv6NDOptSrcLLAddr.lladdr",
    "icmpv6.opt.src_linkaddr": "ICMPv6NDOptSrcLLAddr.lladdr",
    "icmpv6.opt.target_linkaddr": "ICMPv6NDOptSrcLLAddr.lladdr",  # DstLLAddr subclasses it
    "icmpv6.opt.prefix.length": "ICMPv6NDOptPrefixInfo.prefixlen",
    "icmpv6.opt.prefix.flag": "ICMPv6NDOptPrefixInfo.L+A+R+res1",
    "icmpv6.opt.prefix.flag.l": "ICMPv6NDOptPrefixInfo.L",
    "icmpv6.opt.prefix.flag.a": "ICMPv6NDOptPrefixInfo.A",
    "icmpv6.opt.prefix.flag.r": "ICMPv6NDOptPrefixInfo.R",
    "icmpv6.opt.prefix.flag.reserved": "ICMPv6NDOptPrefixInfo.res1",
    "icmpv6.opt.prefix.valid_lifetime": "ICMPv6NDOptPrefixInfo.validlifetime",
    "icmpv6.opt.prefix.preferred_lifetime": "ICMPv6NDOptPrefixInfo.preferredlifetime",
    "icmpv6.opt.prefix": "ICMPv6NDOptPrefixInfo.prefix",
    "icmpv6.opt.reserved": ("ICMPv6NDOptPrefixInfo.res2", "ICMPv6NDOptMTU.res",
                            "ICMPv6NDOptRDNSS.res", "ICMPv6NDOptRedirectedHdr.res",
                            "ICMPv6NDOptAdvInterval.res", "ICMPv6NDOptHAInfo.res"),
    "icmpv6.opt.mtu": "ICMPv6NDOptMTU.mtu",
    "icmpv6.opt.rdnss.lifetime": "ICMPv6NDOptRDNSS.lifetime",
    "icmpv6.opt.rdnss": "ICMPv6NDOptRDNSS.dns",
    "icmpv6.opt.advertisement_interval": "ICMPv6NDOptAdvInterval.advint",
    "icmpv6.opt.home_agent_preference": "ICMPv6NDOptHAInfo.pref",
    "icmpv6.opt.home_agent_lifetime": "ICMPv6NDOptHAInfo.lifetime",
    "icmpv6.opt.redirected_packet": "ICMPv6NDOptRedirectedHdr.pkt",
    "icmpv6.unknown_data": "ICMPv6NDOptUnknown.data",
    # UDP (RFC 768); UDPerror inside an ICMP error
    "udp.srcport": "UDP.sport",
    "udp.dstport": "UDP.dport",
    "udp.length": "UDP.len",
    "udp.checksum": "UDP.chksum",
    # TCP (RFC 9293); TCPerror inside an ICMP error
    "tcp.srcport": "TCP.sport",
    "tcp.dstport": "TCP.dport",
    "tcp.seq": "TCP.seq",
    "tcp.ack": "TCP.ack",
    "tcp.hdr_len": "TCP.dataofs",
    "tcp.flags": "TCP.reserved+flags",
    "tcp.flags.res": "TCP.reserved",
    "tcp.flags.ae": "TCP.flags",
    "tcp.flags.cwr": "TCP.flags",
    "tcp.flags.ece": "TCP.flags",
    "tcp.flags.urg": "TCP.flags",
    "tcp.flags.ack": "TCP.flags",
    "tcp.flags.push": "TCP.flags",
    "tcp.flags.reset": "TCP.flags",
    "tcp.flags.syn": "TCP.flags",
    "tcp.flags.fin": "TCP.flags",
    "tcp.window_size_value": "TCP.window",
    "tcp.checksum": "TCP.chksum",
    "tcp.urgent_pointer": "TCP.urgptr",
    # TCP options: Scapy keeps a list of (name, value) tuples such as ("MSS", 1460), without
    # the length byte; tcp.option_len compares with the length of the option Scapy encodes
    # again from its value, the original length for every well-formed option.
    "tcp.option_kind": "TCPOption.kind",
    "tcp.option_len": "TCPOption.length",
    "tcp.options.mss_val": "TCPOption.MSS",
    "tcp.options.wscale.shift": "TCPOption.WScale",
    "tcp.options.sack_le": "TCPOption.SAck[0::2]",
    "tcp.options.sack_re": "TCPOption.SAck[1::2]",
    "tcp.options.timestamp.tsval": "TCPOption.Timestamp[0]",
    "tcp.options.timestamp.tsecr": "TCPOption.Timestamp[1]",
    # Linux cooked capture v1 and v2 (Scapy's CookedLinuxV2 subclasses CookedLinux)
    "sll.pkttype": "CookedLinux.pkttype",
    "sll.hatype": "CookedLinux.lladdrtype",
    "sll.halen": "CookedLinux.lladdrlen",
    "sll.src.eth": "CookedLinux.lladdrlen+src",
    "sll.src.ipv4": "CookedLinux.lladdrlen+src",
    "sll.src.other": "CookedLinux.lladdrlen+src",
    "sll.unused": "CookedLinux.lladdrlen+src",
    "sll.etype": "CookedLinux.proto",
    "sll.ltype": "CookedLinux.proto",
    "sll.gretype": "CookedLinux.proto",
    "sll.reserved": "CookedLinuxV2.reserved",
    "sll.ifindex": "CookedLinuxV2.ifindex",
    # BSD loopback (DLT_NULL; OpenBSD's DLT_LOOP in network byte order)
    "null.family": ("LoopbackOpenBSD.type", "Loopback.type"),
}

# Fields pktlab declares that Scapy does not keep anywhere, and why.
NOT_IN_SCAPY: dict[str, str] = {
    "icmp.router_address": "Scapy keeps a router advertisement's entries as raw payload",
    "icmp.pref_level": "Scapy keeps a router advertisement's entries as raw payload",
    "null.type": "Scapy's Loopback reads an address family only, never an EtherType",
    "icmpv6.opt.padding": "Scapy ends a link-layer address option after 6 bytes",
    "ipv6.routing.unknown_data": "Scapy reads a routing header of a type it has no class for "
                                 "as type 0's reserved word and address list",
}


def _address_part(value: tuple[Any, Any], decl: Field | None, first: bool) -> Any:
    """An SLL address field: 8 bytes whatever the length, the first ``halen`` the address."""
    length, address = value
    raw = bytes(address)
    part = raw[:length] if first else raw[length:]
    if decl is not None and decl.kind is Kind.MAC:
        return format_mac(part[:6])
    if decl is not None and decl.kind is Kind.IPV4:
        return socket.inet_ntoa(part[:4])
    return part


def _bits_of(raw: bytes, decl: Field | None) -> Any:
    """The bits ``decl`` covers in ``raw`` (counted from its start), as pktlab shows them."""
    if decl is None:
        return raw
    end = decl.bit_offset + decl.bit_width
    size = (end + 7) // 8
    if len(raw) < size:
        raise _Unconvertible
    number = int.from_bytes(raw[:size], "big") >> (size * 8 - end)
    number &= (1 << decl.bit_width) - 1
    if decl.kind is Kind.BYTES:
        return number.to_bytes(decl.bit_width // 8, "big")
    if decl.kind is Kind.IPV4:
        return socket.inet_ntoa(number.to_bytes(4, "big"))
    return number * decl.scale


def _icmp_rest(obj: Any, decl: Field | None) -> Any:
    # The four bytes after type, code and checksum, as Scapy encodes its fields there.
    return _bits_of(bytes(obj)[4:8], decl)


def _number_from_bytes(value: Any, decl: Field | None) -> int:
    return int.from_bytes(bytes(value), "big")


def _address_bytes(value: Any, decl: Field | None) -> Any:
    """An ARP address pktlab keeps raw: Scapy decodes some (IPv6 for protocol type 0x86DD)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    text = str(value)
    try:
        return socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except OSError:
        raise _Unconvertible from None


def _packet_bytes(value: Any, decl: Field | None) -> bytes:
    # Scapy dissects the Redirected Header option's data as an IPv6 packet.
    return b"" if value is None else bytes(value)


# The few conversions the declarations cannot derive: an SLL address field is 8 bytes of which
# the first ``halen`` are the address; Scapy splits ICMP's rest-of-header per type into fields
# other than Wireshark's; Scapy keeps RFC 2473's tunnel encapsulation limit as unknown bytes;
# Scapy decodes an ARP protocol address of type 0x86DD and size 16 as IPv6, which pktlab and
# Wireshark keep raw (arp.src.proto); Scapy keeps a redirected header as an IPv6 packet.
CONVERTERS: dict[str, Callable[[Any, Field | None], Any]] = {
    "sll.src.eth": lambda v, d: _address_part(v, d, True),
    "sll.src.ipv4": lambda v, d: _address_part(v, d, True),
    "sll.src.other": lambda v, d: _address_part(v, d, True),
    "sll.unused": lambda v, d: _address_part(v, d, False),
    "icmp.unused": _icmp_rest,
    "icmp.num_addrs": _icmp_rest,
    "icmp.addr_entry_size": _icmp_rest,
    "icmp.lifetime": _icmp_rest,
    "ipv6.opt.tel": _number_from_bytes,
    "arp.src.hw": _address_bytes,
    "arp.src.proto": _address_bytes,
    "arp.dst.hw": _address_bytes,
    "arp.dst.proto": _address_bytes,
    "icmpv6.opt.redirected_packet": _packet_bytes,
}


def _parse_spec(name: str, spec: str) -> ScapyField:
    layer, _, rest = spec.partition(".")
    index: int | slice | None = None
    if rest.endswith("]"):
        rest, _, selector = rest[:-1].partition("[")
        if ":" in selector:
            bounds = [int(p) if p else None for p in selector.split(":")]
            index = slice(*bounds)
        else:
            index = int(selector)
    fields = tuple(rest.split("+")) if rest else ()
    return ScapyField(layer, fields, index, CONVERTERS.get(name))


SCAPY_FIELDS: dict[str, tuple[ScapyField, ...]] = {
    name: tuple(_parse_spec(name, s) for s in ((specs,) if isinstance(specs, str) else specs))
    for name, specs in _NAMES.items()
}
"""pktlab field name -> where Scapy keeps it (the first alternative that applies wins)."""

# Inside an ICMP error Scapy dissects the quoted headers with these classes.
_QUOTED_CLASSES = {"IP": "IPerror", "TCP": "TCPerror", "UDP": "UDPerror", "ICMP": "ICMPerror",
                   "IPv6": "IPerror6"}
_ERROR_CLASSES = frozenset(_QUOTED_CLASSES.values())



def _families() -> dict[str, set[str]]:
    """Scapy class name -> first components of the pktlab names mapped to it ("vlan")."""
    found: dict[str, set[str]] = {}
    for name, entries in SCAPY_FIELDS.items():
        for entry in entries:
            found.setdefault(entry.layer, set()).add(name.split(".")[0])
    return found


# A Scapy subclass mapped for another family (Dot1AD under Dot1Q) never pairs with this one.
_FAMILIES = _families()


# ------------------------------------------------------------------------ declarations


def declared_fields() -> dict[str, Field]:
    """Every field pktlab declares, by name: headers, option kinds and their list items.

    Read from the codec modules loaded now (``pktlab.wire.*``), so a module written later is
    picked up as soon as it is imported.
    """
    found: dict[str, Field] = {}

    def take(value: Any) -> None:
        if isinstance(value, Header):
            for f in value.fields:
                found.setdefault(f.name, f)

    for builder in BUILDERS.values():
        for header in builder.headers:
            take(header)
        codec = builder.option_codec
        if codec is not None:
            for option in codec.by_kind.values():
                take(option.header)
                take(option.repeat)
            take(codec.unknown)
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith("pktlab.wire."):
            continue
        for value in vars(module).values():
            if isinstance(value, (tuple, list)):
                for item in value:
                    take(item)
            elif isinstance(value, Mapping):
                for item in value.values():
                    take(item)
            else:
                take(value)
    return found


# ------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class KnownDifference:
    """A documented case where Scapy disagrees with pktlab for a reason."""

    key: str
    reason: str


KNOWN_SCAPY_DIFFERENCES: dict[str, KnownDifference] = {
    d.key: d
    for d in (
        KnownDifference(
            "checksum-not-verified",
            "Scapy never verifies a checksum when it dissects: it shows the value found and "
            "computes one only when building. pktlab's <field>.status and <field>_calculated "
            "have no Scapy counterpart, and a frame pktlab reports as having a bad checksum "
            "passes Scapy silently."),
        KnownDifference(
            "truncated-header",
            "pktlab keeps a header cut short as raw bytes (<layer>.truncated), shows at most "
            "the whole fields it has bytes for, and reports it; Scapy fills the fields it has "
            "bytes for and leaves the others unset, or keeps the whole header as Raw. The "
            "fields both read are compared, the rest cannot be."),
        KnownDifference(
            "malformed-option",
            "pktlab reports an option whose length is impossible (RFC 9293 section 3.1, "
            "MUST-7: be prepared for illegal option lengths) and keeps its bytes raw; Scapy "
            "keeps the value as raw bytes or reads another length and goes on, so the two "
            "option lists part ways there and are compared no further."),
        KnownDifference(
            "options-after-eol",
            "After an End of Option List pktlab keeps the remaining bytes as the padding of "
            "the EOL option (RFC 791 section 3.1, RFC 9293 section 3.1); Scapy's IPv4 option "
            "list goes on and shows each padding byte as another option."),
        KnownDifference(
            "ip-timestamp-one-entry",
            "Scapy's IPOption_Timestamp holds a single time stamp (and address); an option "
            "with more entries is read as its first entry, and Scapy dissects the remaining "
            "entries as further options."),
        KnownDifference(
            "ip-option-number-only",
            "Scapy picks an IPv4 option's class by the 5-bit option number alone, ignoring the "
            "copy flag and class (RFC 791 section 3.1): a type pktlab has no codec for, such "
            "as 0x87 or 18 (RFC 1393's traceroute is 82), is read by Scapy as the option of "
            "the same number (record route, traceroute) and from there the two option lists "
            "part ways."),
        KnownDifference(
            "ip-security-fixed-length",
            "Scapy's IPOption_Security is RFC 791's 11-byte form with fixed fields; a security "
            "option of another length (RFC 1108 made it variable) is read as 11 bytes whatever "
            "its length byte says, so the option lists part ways there."),
        KnownDifference(
            "mld-aux-data-bytes",
            "Scapy reads an MLDv2 multicast address record's Aux Data Len in bytes; RFC 3810 "
            "section 5.2.6 counts 32-bit words, as pktlab and Wireshark do. A record with "
            "auxiliary data is read short by Scapy and the records after it part ways."),
        KnownDifference(
            "ipv6-routing-as-type-0",
            "Scapy reads a routing header of a type it has no class for (neither 2 nor 4) as "
            "type 0: a reserved word and whole 16-byte addresses. With an odd length (RFC "
            "8200 section 4.4 allows any) it takes the wrong number of bytes, and the headers "
            "after it part ways; pktlab keeps the type-specific data raw "
            "(ipv6.routing.unknown_data)."),
        KnownDifference(
            "ipv6-option-scapy-class",
            "Scapy has a class of its own for an IPv6 option type pktlab keeps raw "
            "(ipv6.opt.unknown): RFC 6553's RPL option (0x63), whose fixed fields Scapy reads "
            "whatever the option's length says, so the option lists part ways there."),
        KnownDifference(
            "ipv6-home-address-checksum",
            "When building, Scapy puts a Home Address option's address in the upper-layer "
            "checksum's pseudo-header (RFC 6275 section 6.3) only when the option is alone in "
            "its Destination Options header; pktlab, like Wireshark's verification, uses it "
            "wherever it is, so the two checksums differ."),
        KnownDifference(
            "ipv6-option-alignment",
            "When building, Scapy inserts the padding an IPv6 option's alignment asks for "
            "(RFC 8200 section 4.2: Router Alert 2n, Home Address 8n+6, Jumbo Payload 4n+2) "
            "before it; pktlab builds hop-by-hop and destination options as given and pads "
            "only the end of the header, so the bytes differ by Pad1/PadN options."),
        KnownDifference(
            "malformed-stops-pktlab",
            "After a header it finds malformed (a length that cannot be right, a wrong "
            "version) pktlab stops dissecting and keeps the rest as data; Scapy trusts the "
            "bytes and dissects on."),
        KnownDifference(
            "scapy-drops-bytes",
            "Some Scapy payload dissectors lose bytes: a DNS message cut short inside an ICMP "
            "error takes the frame's trailing bytes with it, so Scapy's dissection encodes "
            "fewer bytes than the frame has and shows no Padding where pktlab shows the "
            "Ethernet trailer."),
        KnownDifference(
            "layer-limit",
            "pktlab dissects at most MAX_LAYERS headers in a frame (and says so), so that a "
            "chain of extension headers crafted to be long cannot make it work without end; "
            "Scapy has no such limit and dissects the rest."),
        KnownDifference(
            "scapy-no-rarp",
            "Scapy binds its ARP class to EtherType 0x0806 only; a RARP frame (0x8035, "
            "RFC 903: the same packet format) stays Raw in Scapy while pktlab dissects it."),
        KnownDifference(
            "loopback-families",
            "After a BSD loopback header Scapy dissects only AF_INET (2) and Linux's AF_INET6 "
            "(10); the BSD AF_INET6 values (24, 28, 30), which pktlab and Wireshark dissect as "
            "IPv6, stay Raw, and so does a value above 1500, which Wireshark and pktlab read "
            "as an EtherType (null.type)."),
        KnownDifference(
            "loopback-byte-order",
            "The BSD loopback header's address family is in the byte order of the capturing "
            "host. Scapy takes the first byte as the family (little-endian, small values "
            "only); pktlab, like Wireshark, detects the byte order, so a capture from a "
            "big-endian host reads 0 in Scapy."),
        KnownDifference(
            "link-padding",
            "Scapy's Padding layer holds every byte after the network layer's declared end. "
            "pktlab, like Wireshark, shows those bytes as eth.padding and eth.trailer only "
            "after an Ethernet header whose network layer it dissected; after other link "
            "layers, in an IEEE 802.3 (LLC) frame, or after a network layer it has no codec "
            "for, they stay in the data layer."),
    )
}


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A field on which pktlab and Scapy disagree, in one packet."""

    layer: str
    field: str
    pktlab: Any
    scapy: Any
    data: bytes
    linktype: int = 1
    scapy_field: str = ""
    offset: int | None = None  # frame byte offset, for build comparisons
    note: str = ""

    def __str__(self) -> str:
        where = f" [{self.scapy_field}]" if self.scapy_field else ""
        at = f" at byte {self.offset}" if self.offset is not None else ""
        note = f" ({self.note})" if self.note else ""
        return (f"{self.layer}: {self.field}{at}: pktlab {self.pktlab!r} != Scapy "
                f"{self.scapy!r}{where}{note}; frame (linktype {self.linktype}) "
                f"{self.data.hex()}")


@dataclass(frozen=True, slots=True)
class Skip:
    """A comparison not made because of a known difference."""

    difference: str  # key of KNOWN_SCAPY_DIFFERENCES
    layer: str
    field: str
    detail: str = ""

    @property
    def reason(self) -> str:
        return KNOWN_SCAPY_DIFFERENCES[self.difference].reason


class Comparison(list[Mismatch]):
    """The mismatches found (the list itself), how many values were compared, what was skipped.

    ``compared`` counts field values compared (a list of repeated items counts once) and
    ``names`` counts them by pktlab field name;
    ``skipped`` lists the comparisons left out because of :data:`KNOWN_SCAPY_DIFFERENCES`;
    ``pairs`` lists ``(pktlab layer, Scapy class)`` for the layers paired up.
    """

    def __init__(self, data: bytes = b"", linktype: int = 1) -> None:
        super().__init__()
        self.data = data
        self.linktype = linktype
        self.compared = 0
        self.names: Counter[str] = Counter()  # how often each pktlab field was compared
        self.skipped: list[Skip] = []
        self.pairs: list[tuple[str, str]] = []

    def mismatch(self, layer: str, field: str, ours: Any, theirs: Any, scapy_field: str = "",
                 *, offset: int | None = None, note: str = "") -> None:
        self.append(Mismatch(layer, field, ours, theirs, self.data, self.linktype, scapy_field,
                             offset, note))

    def skip(self, difference: str, layer: str, field: str, detail: str = "") -> None:
        assert difference in KNOWN_SCAPY_DIFFERENCES, difference
        self.skipped.append(Skip(difference, layer, field, detail))

    def disagreements(self, allowed: Iterable[str] = ()) -> list[str]:
        """Everything that speaks against agreement, as text: each mismatch, and each
        comparison skipped for a known difference not in ``allowed``. Empty when pktlab and
        Scapy agree (a test's ``assert result.disagreements(ALLOWED) == []``)."""
        allowed = frozenset(allowed)
        unknown = allowed - KNOWN_SCAPY_DIFFERENCES.keys()
        if unknown:
            raise ValueError(f"not known Scapy differences: {sorted(unknown)}")
        return [str(m) for m in self] + [
            f"skipped ({s.difference}): {s.layer} {s.field} {s.detail}".rstrip()
            for s in self.skipped if s.difference not in allowed]

    def report(self) -> str:
        lines = [str(m) for m in self]
        lines += [f"skipped ({s.difference}): {s.layer} {s.field} {s.detail}".rstrip()
                  for s in self.skipped]
        return "\n".join(lines)


# ------------------------------------------------------------------------ Scapy access


class _Absent:
    """Scapy has no value here (a conditional field whose condition is false, say)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


@dataclass(frozen=True, slots=True)
class _TCPOption:
    """One item of Scapy's TCP option list, with the fields a mapping entry can name."""

    name: str | int
    value: Any
    kind: int
    raw: bytes  # the option as Scapy encodes it again, kind and length included

    @classmethod
    def of(cls, item: tuple[Any, Any]) -> _TCPOption:
        name, value = item
        kind = name if isinstance(name, int) else inet.TCPOptions[1].get(name, -1)
        try:
            encoded = bytes(_TCP_OPTIONS_FIELD.i2m(None, [item]))
        except Exception:  # Scapy cannot always encode again what it decoded
            encoded = b""
        if kind in (0, 1):
            raw = encoded[:1]
        else:
            raw = encoded[:encoded[1]] if len(encoded) > 1 else encoded
        return cls(name, value, kind, raw)

    def get(self, field: str) -> Any:
        if field == "kind":
            return self.kind
        if field == "length":
            return self.raw[1] if self.kind not in (0, 1) and len(self.raw) > 1 else ABSENT
        if field == "data":
            return self.raw[2:]
        return self.value if field == self.name else ABSENT


_TCP_OPTIONS_FIELD = next(f for f in inet.TCP.fields_desc if f.name == "options")


_MRO_NAMES: dict[type, tuple[str, ...]] = {}


def _class_names(obj: Any) -> tuple[str, ...]:
    if isinstance(obj, _TCPOption):
        return ("TCPOption",)
    cls = type(obj)
    names = _MRO_NAMES.get(cls)
    if names is None:
        names = tuple(c.__name__ for c in cls.__mro__)
        fields_desc = getattr(cls, "fields_desc", None)
        if fields_desc and fields_desc[0].name == "otype":
            names += ("IPv6Option",)
        _MRO_NAMES[cls] = names
    return names


@cache
def _entry_for(name: str, names: tuple[str, ...]) -> ScapyField | None:
    """The first alternative for ``name`` whose Scapy class is among ``names`` (an MRO)."""
    return next((e for e in SCAPY_FIELDS.get(name, ()) if e.layer in names), None)


def _scapy_field(obj: Any, name: str) -> Any:
    """The Scapy field object ``name`` of ``obj``, resolved for this packet, or None."""
    try:
        fld = obj.get_field(name)
    except (AttributeError, KeyError):
        return None
    # Conditional and multiple-type fields wrap the field that really applies.
    if type(fld).__name__ == "MultipleTypeField":
        fld = fld._find_fld_pkt(obj)
    return fld


@dataclass(frozen=True, slots=True)
class _FieldShape:
    """How a Scapy field of a class resolves: the same for every packet, or per packet."""

    exists: bool
    dynamic: bool  # a conditional or multiple-type field: resolved for each packet
    bits: int | None  # the width of a static field, if fixed


_SHAPES: dict[tuple[type, str], _FieldShape] = {}


def _shape(obj: Any, name: str) -> _FieldShape:
    key = (type(obj), name)
    found = _SHAPES.get(key)
    if found is None:
        try:
            fld = obj.get_field(name)  # unresolved: a multiple-type field stays one
        except (AttributeError, KeyError):
            fld = None
        dynamic = False
        probe = fld
        while probe is not None:
            if type(probe).__name__ in ("MultipleTypeField", "ConditionalField"):
                dynamic = True
                break
            probe = getattr(probe, "fld", None)
        bits = None if fld is None or dynamic else _resolved_bits(obj, fld)
        found = _SHAPES[key] = _FieldShape(fld is not None, dynamic, bits)
    return found


def _resolved_bits(obj: Any, fld: Any) -> int | None:
    while fld is not None and hasattr(fld, "fld"):
        fld = fld.fld
        if type(fld).__name__ == "MultipleTypeField":
            fld = fld._find_fld_pkt(obj)
    size = getattr(fld, "sz", None)
    if not isinstance(size, (int, float)) or size <= 0:
        return None
    return round(size * 8)


def _field_value(obj: Any, name: str) -> Any:
    fields = obj.fields
    if name not in fields:
        return ABSENT  # never dissected: a false condition, or bytes ran out
    shape = _shape(obj, name)
    if not shape.exists:
        return ABSENT
    if shape.dynamic:
        fld = _scapy_field(obj, name)
        if type(fld).__name__ == "ConditionalField" and not fld._evalcond(obj):
            return ABSENT
    return fields[name]


def _field_bits(obj: Any, name: str) -> int | None:
    shape = _shape(obj, name)
    if not shape.dynamic:
        return shape.bits
    return _resolved_bits(obj, _scapy_field(obj, name))


def scapy_value(obj: Any, entry: ScapyField) -> Any:
    """The raw Scapy value an entry names (a tuple for several fields), or ``ABSENT``."""
    if isinstance(obj, _TCPOption):
        value = obj.get(entry.fields[0])
    elif not entry.fields:
        return obj
    elif len(entry.fields) == 1:
        value = _field_value(obj, entry.fields[0])
    else:
        values = tuple(_field_value(obj, f) for f in entry.fields)
        if any(v is ABSENT for v in values):
            return ABSENT
        value = values
    if value is ABSENT or entry.index is None:
        return value
    if not isinstance(value, (tuple, list)):
        return ABSENT
    return list(value[entry.index]) if isinstance(entry.index, slice) else (
        value[entry.index] if entry.index < len(value) else ABSENT)


class _Unconvertible(Exception):
    pass


def _as_kind(decl: Field | None, value: Any, bits: int | None, like: Any) -> Any:
    """A Scapy value as pktlab shows a value of this declaration (or of ``like``'s type)."""
    kind = decl.kind if decl is not None else (
        Kind.BYTES if isinstance(like, (bytes, bytearray)) else
        Kind.UINT if isinstance(like, int) else None)
    scale = decl.scale if decl is not None else 1
    if kind is Kind.MAC:
        if isinstance(value, (bytes, bytearray)):
            return format_mac(bytes(value))
        return str(value).lower()
    if kind is Kind.IPV4:
        if isinstance(value, (bytes, bytearray)):
            return socket.inet_ntoa(bytes(value))
        return str(value)
    if kind is Kind.IPV6:
        try:
            return format_ipv6(socket.inet_pton(socket.AF_INET6, str(value)))
        except OSError:
            raise _Unconvertible from None
    if kind is Kind.BYTES:
        if isinstance(value, int):
            width = (decl.bit_width if decl is not None and decl.bit_width else bits) or 0
            return value.to_bytes((width + 7) // 8, "big")
        if isinstance(value, str):
            return value.encode("latin-1")
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise _Unconvertible
    if kind is None:
        return value
    return _number(value) * scale  # raw bytes where a number belongs cannot convert


def _number(value: Any) -> int:
    """An int from a Scapy number, enumeration or FlagValue (which is not an int subclass)."""
    if isinstance(value, int):
        return int(value)
    inner = getattr(value, "value", None)
    if isinstance(inner, int):
        return inner
    raise _Unconvertible


def _concatenate(obj: Any, entry: ScapyField, values: tuple[Any, ...]) -> int:
    total = 0
    for name, value in zip(entry.fields, values, strict=True):
        bits = _field_bits(obj, name)
        if bits is None:
            raise _Unconvertible
        total = (total << bits) | _number(value)
    return total


def to_pktlab_value(obj: Any, entry: ScapyField, value: Any, decl: Field | None,
                    parent: Field | None, like: Any = None) -> Any:
    """Convert one Scapy value (already selected by ``scapy_value``) to pktlab's form.

    Raises ``_Unconvertible`` when Scapy holds something of another type (raw bytes).
    """
    if entry.convert is not None:
        return entry.convert(value, decl)
    if len(entry.fields) > 1:
        value = _concatenate(obj, entry, value)
    bits = _field_bits(obj, entry.fields[0]) if len(entry.fields) == 1 and not isinstance(
        obj, _TCPOption) else None
    if decl is not None and parent is not None and bits is not None and bits > decl.bit_width:
        # A sub-field (ip.flags.df) of a parent Scapy keeps whole (IP.flags): its bits lie
        # where the declaration puts them, counted from the parent's low end.
        shift = parent.bit_offset + parent.bit_width - (decl.bit_offset + decl.bit_width)
        return ((_number(value) >> shift) & ((1 << decl.bit_width) - 1)) * decl.scale
    if isinstance(value, list):
        raise _Unconvertible  # a list where pktlab has one value: the caller shows both
    return _as_kind(decl, value, bits, like)


# ------------------------------------------------------------------------ comparing


class _Repeated(list[tuple[int, Any]]):
    """Values of one field from repeated items (SACK blocks, route slots): (item index, value).

    Item ``i`` is element ``i`` of Scapy's list, so route slots pktlab names differently by
    their place (``ip.rec_rt``, ``ip.empty_rt``) each compare with their own elements.
    """


def _scapy_layers(pkt: Any) -> list[Any]:
    layers = []
    current = pkt
    while isinstance(current, ScapyPacket) and not isinstance(current, NoPayload):
        layers.append(current)
        current = current.payload
    return layers


@dataclass(frozen=True, slots=True)
class _LayerShape:
    """What the comparison needs from a layer's declarations, computed once per kind of layer.

    ``decls``: field name -> declaration; ``parents``: sub-field name -> parent field;
    ``classes``: Scapy class names that can hold the layer; ``families``: the first components
    of its mapped field names ("vlan").
    """

    decls: Mapping[str, Field]
    parents: Mapping[str, Field]
    classes: frozenset[str]
    families: frozenset[str]


def _layer_shape(layer: Layer) -> _LayerShape:
    extras = tuple(h for h, _ in layer.extra_headers)
    return _shape_of(layer.name, layer.header, extras, layer.quoted)


@lru_cache(maxsize=1024)
def _shape_of(name: str, header: Header | None, extras: tuple[Header, ...],
              quoted: bool) -> _LayerShape:
    headers = ([header] if header is not None else []) + list(extras)
    decls: dict[str, Field] = {}
    parents: dict[str, Field] = {}
    for h in headers:
        for f in h.fields:
            decls[f.name] = f
        parents.update(h.parent_of)
    classes: set[str] = set(_LAYER_CLASSES.get(name, ()))
    families: set[str] = {name} if classes else set()
    for field_name in decls:
        for entry in SCAPY_FIELDS.get(field_name, ()):
            cls = entry.layer
            if quoted:
                cls = _QUOTED_CLASSES.get(cls, cls)
            classes.add(cls)
            families.add(field_name.split(".")[0])
    return _LayerShape(decls, parents, frozenset(classes), frozenset(families))


def _label(layer: Layer) -> str:
    return layer.name + (" (quoted)" if layer.quoted else "")


# Layers some of whose variants have no field Scapy keeps (null.type) still pair by class.
_LAYER_CLASSES = {"null": ("Loopback", "LoopbackOpenBSD")}


def _pairs_with(obj: Any, classes: frozenset[str], families: frozenset[str],
                quoted: bool) -> bool:
    own = type(obj).__name__
    if not quoted and own in _ERROR_CLASSES:
        return False
    if not any(n in classes for n in _class_names(obj)):
        return False
    mapped_for = _FAMILIES.get(own)
    return quoted or mapped_for is None or not mapped_for.isdisjoint(families)


_ND_MESSAGES = frozenset({"ICMPv6ND_RS", "ICMPv6ND_RA", "ICMPv6ND_NS", "ICMPv6ND_NA",
                          "ICMPv6ND_Redirect"})


def _scapy_options(obj: Any, following: Sequence[Any]) -> tuple[list[Any], int] | None:
    """Scapy's list of what pktlab keeps as child layers, and how many following layers it used.

    TCP keeps (name, value) tuples, IPv4 and IPv6 extension headers keep option packets, an
    MLDv2 report keeps its address records, and NDP options are payload layers that follow
    the ICMPv6 message. None when the pktlab children are list items of the layer itself.
    """
    names = _class_names(obj)
    if "TCP" in names:
        return [_TCPOption.of(item) for item in obj.fields.get("options") or []], 0
    if "IP" in names or "IPv6ExtHdrHopByHop" in names or "IPv6ExtHdrDestOpt" in names:
        return list(obj.fields.get("options") or []), 0
    if "ICMPv6MLReport2" in names:
        # Scapy chains the second and later records as payloads of the first.
        return [r for item in obj.fields.get("records") or [] for r in _scapy_layers(item)], 0
    if _ND_MESSAGES.intersection(names):
        options = []
        for item in following:
            if not type(item).__name__.startswith("ICMPv6NDOpt"):
                break
            options.append(item)
        return options, len(options)
    return None


def _collect(layer: Layer, into: dict[str, Any], decls: dict[str, Field]) -> None:
    """The children's fields of a layer, as repeated values by item index."""
    for index, child in enumerate(layer.children):
        decls.update(_layer_shape(child).decls)
        for name, value in child.fields.items():
            found = into.get(name)
            if not isinstance(found, _Repeated):
                found = into[name] = _Repeated()
            found.append((index, value))


def _compare_repeated(ours: _Repeated, theirs: Any) -> tuple[list[Any], list[Any]]:
    if not isinstance(theirs, list):
        theirs = [theirs]
    mine = [value for _, value in ours]
    return mine, [theirs[i] if i < len(theirs) else ABSENT for i, _ in ours]


def _compare_fields(result: Comparison, label: str, values: Mapping[str, Any], obj: Any,
                    decls: Mapping[str, Field], parents: Mapping[str, Field]) -> None:
    """Compare every value that has a mapping entry applying to the Scapy object ``obj``."""
    names = _class_names(obj)
    for name, ours in values.items():
        entry = _entry_for(name, names)
        if entry is None:
            continue
        raw_value = scapy_value(obj, entry)
        if raw_value is ABSENT:
            if isinstance(ours, (bytes, bytearray, memoryview)) and not ours:
                # Empty in pktlab, never read by Scapy (no bytes were left): they agree.
                result.compared += 1
                result.names[name] += 1
            continue
        decl = decls.get(name)
        sample = ours[0][1] if isinstance(ours, _Repeated) and ours else ours
        try:
            if isinstance(raw_value, list) and isinstance(ours, _Repeated):
                theirs: Any = [to_pktlab_value(obj, entry, v, decl, None, sample)
                               for v in raw_value]
            else:
                theirs = to_pktlab_value(obj, entry, raw_value, decl, parents.get(name), sample)
        except _Unconvertible:
            theirs = raw_value
        if isinstance(ours, _Repeated):
            if entry.layer == "IPOption_Timestamp" and len(ours) > 1:
                result.skip("ip-timestamp-one-entry", label, name,
                            f"{len(ours)} entries; Scapy keeps one")
                ours = _Repeated(ours[:1])
            ours, theirs = _compare_repeated(ours, theirs)
        elif isinstance(ours, (bytes, bytearray, memoryview)):
            ours = bytes(ours)
        result.compared += 1
        result.names[name] += 1
        if ours != theirs:
            result.mismatch(label, name, ours, theirs, entry.spec)


def _option_bytes(obj: Any) -> bytes:
    if isinstance(obj, _TCPOption):
        return obj.raw
    return bytes(obj)  # for an NDP option this runs on into the options after it


def _compare_option_data(result: Comparison, label: str, child: Layer, obj: Any) -> None:
    """An option's trailing data that no mapping names: the bytes after its fixed part."""
    name = child.name + ".data"
    if name not in child.fields or child.header is None or name in SCAPY_FIELDS:
        return
    theirs = _option_bytes(obj)[child.header.size:child.length]
    result.compared += 1
    result.names[name] += 1
    if bytes(child.fields[name]) != theirs:
        result.mismatch(label, name, bytes(child.fields[name]), theirs, "(option bytes)")


_KIND_FIELDS = frozenset({"tcp.option_kind", "ip.opt.type", "ipv6.opt.type", "icmpv6.opt.type"})


def _compare_options(result: Comparison, layer: Layer, label: str, options: list[Any]) -> None:
    children = layer.children
    for index, child in enumerate(children):
        if child.malformed or child.header is None:
            result.skip("malformed-option", label, child.name,
                        f"option {index}: " + "; ".join(p.message for p in child.problems))
            return
        if index >= len(options):
            result.mismatch(label, child.name, f"option {index}", ABSENT,
                            note=f"Scapy has {len(options)} options, pktlab {len(children)}")
            return
        obj = options[index]
        why = _option_difference(child, obj)
        if why is not None:
            result.skip(why, label, child.name,
                        f"item {index} ({type(obj).__name__} in Scapy): the rest of the "
                        "list is not compared")
            return
        values: dict[str, Any] = dict(child.fields)
        decls = _layer_shape(child).decls
        if child.children:
            decls = dict(decls)
            _collect(child, values, decls)
        before = len(result)
        _compare_fields(result, label, values, obj, decls, child.header.parent_of)
        _compare_option_data(result, label, child, obj)
        if any(m.field in _KIND_FIELDS for m in result[before:]):
            return  # the lists are out of step: what follows would only repeat the mismatch
        if child.name == "ip.options.timestamp" and len(child.children) > 1:
            result.skip("ip-timestamp-one-entry", label, child.name,
                        "the rest of the IPv4 option list is not compared")
            return
    extra = options[len(children):]
    if not extra:
        return
    if children and _is_eol(options[len(children) - 1]):
        result.skip("options-after-eol", label, layer.name,
                    f"{len(extra)} more options in Scapy after the end of the list")
        return
    result.mismatch(label, layer.name + " options", len(children), len(options),
                    note="number of options")


def _option_difference(child: Layer, obj: Any) -> str | None:
    """The known difference that makes Scapy read this option otherwise, if there is one."""
    if child.name == "ip.options.unknown" and type(obj).__name__ != "IPOption":
        return "ip-option-number-only"
    if child.name == "ip.options.security" and child.fields.get("ip.opt.len") != 11:
        return "ip-security-fixed-length"
    if "ipv6.opt.unknown" in child.fields and type(obj).__name__ != "HBHOptUnknown":
        return "ipv6-option-scapy-class"
    if child.fields.get("icmpv6.mldr.mar.aux_data_len"):
        return "mld-aux-data-bytes"
    return None


def _is_eol(obj: Any) -> bool:
    if isinstance(obj, _TCPOption):
        return obj.kind == 0
    return type(obj).__name__ == "IPOption_EOL"


def _compare_layer(result: Comparison, layer: Layer, obj: Any, following: Sequence[Any]) -> int:
    label = _label(layer)
    result.pairs.append((label, type(obj).__name__))
    fields = layer.fields
    shape = _layer_shape(layer)
    if any(name.endswith(".truncated") for name in fields):
        # The fields read before the end (a quoted TCP header's ports and sequence number)
        # still compare; Scapy leaves the others unset.
        result.skip("truncated-header", label, layer.name, "header cut short")
        _compare_fields(result, label, fields, obj, shape.decls, shape.parents)
        return 0
    for name, value in fields.items():
        if name.endswith(".status") and value == "bad":
            result.skip("checksum-not-verified", label, name, "pktlab: bad checksum")
    found = _scapy_options(obj, following)
    values: dict[str, Any] = dict(fields)
    decls = shape.decls
    if found is None and layer.children:
        decls = dict(decls)
        _collect(layer, values, decls)
    _compare_fields(result, label, values, obj, decls, shape.parents)
    if found is None:
        return 0
    options, used = found
    if options or layer.children:
        _compare_options(result, layer, label, options)
    return used


def _link_trailer(link: Layer) -> bytes | None:
    """Bytes pktlab shows after the network layer's end, or None if the link has no such idea."""
    names = [n for n in link.fields if n == "eth.padding" or n.endswith(".trailer")]
    if not names and link.name not in ("eth", "sll", "null", "raw"):
        return None
    return b"".join(bytes(link.fields[n]) for n in names)


def _compare_padding(result: Comparison, packet: Packet, layers: Sequence[Any]) -> None:
    theirs = b"".join(bytes(lay.load) for lay in layers if isinstance(lay, Padding))
    link = packet.layers[0] if packet.layers else None
    ours = _link_trailer(link) if link is not None else None
    if not theirs and not ours:
        return
    last = packet.layers[-1]
    unclaimed = last.name == "data" and last.offset + last.length == len(packet.data) and (
        last.length >= len(theirs))
    if link is None or ours is None or "eth.len" in link.fields or (unclaimed and not ours):
        result.skip("link-padding", link.name if link else "", "padding",
                    f"Scapy: {len(theirs)} bytes of Padding")
        return
    if ours != theirs and layers and len(bytes(layers[0])) < len(packet.data):
        result.skip("scapy-drops-bytes", link.name, "padding",
                    f"Scapy encodes {len(bytes(layers[0]))} of {len(packet.data)} bytes")
        return
    result.compared += 1
    result.names["padding and trailer"] += 1
    if ours != theirs:
        result.mismatch(link.name, "padding and trailer", ours, theirs, "Padding.load")


def _explain_extra(packet: Packet) -> str | None:
    """Why Scapy dissects a layer pktlab does not, if the reason is a known difference."""
    if len(packet.layers) > MAX_LAYERS:
        return "layer-limit"
    if any(lay.malformed for lay in packet.layers if lay.name != "data"):
        return "malformed-stops-pktlab"
    return None


_DECLARED: dict[tuple[int, int], dict[str, Field]] = {}


def _declared() -> dict[str, Field]:
    # Recomputed only when a module (perhaps a codec) has been loaded since the last call.
    key = (len(BUILDERS), len(sys.modules))
    found = _DECLARED.get(key)
    if found is None:
        _DECLARED.clear()
        found = _DECLARED[key] = declared_fields()
    return found


_KNOWN_CLASSES: list[tuple[dict[str, Field], frozenset[str]]] = []


def _known_class(obj: Any) -> bool:
    """Whether pktlab declares a layer that the Scapy layer ``obj`` corresponds to."""
    own = type(obj).__name__
    own = next((k for k, v in _QUOTED_CLASSES.items() if v == own), own)
    declared = _declared()
    if not _KNOWN_CLASSES or _KNOWN_CLASSES[0][0] is not declared:
        _KNOWN_CLASSES[:] = [(declared, frozenset(
            e.layer for name, entries in SCAPY_FIELDS.items() if name in declared
            for e in entries))]
    return own in _KNOWN_CLASSES[0][1]


def compare_packets(packet: Packet, pkt: Any) -> Comparison:
    """Compare a pktlab dissection with a Scapy dissection of the same bytes.

    Layers are paired in order: each pktlab layer with the next Scapy layer of a class its
    mapped fields name. Then every mapped field both have is compared, options and repeated
    items included. A pktlab layer Scapy lacks is a mismatch, and so is a layer Scapy
    dissects right after the last pair when pktlab declares it but shows data, unless a known
    difference explains it.
    """
    result = Comparison(packet.data, packet.linktype)
    layers = _scapy_layers(pkt)
    cursor = 0
    for layer in packet.layers:
        if layer.name == "data":
            continue
        shape = _layer_shape(layer)
        classes, families = shape.classes, shape.families
        if not classes:
            continue  # nothing mapped: a layer Scapy is not asked about
        found = next((i for i in range(cursor, len(layers))
                      if _pairs_with(layers[i], classes, families, layer.quoted)), None)
        if found is None:
            if _unpaired(result, packet, layer, layers[cursor:]):
                break  # Scapy stopped here, for a known reason: nothing further pairs
            continue
        cursor = found + 1
        cursor += _compare_layer(result, layer, layers[found], layers[found + 1:])
        why = _scapy_loses_its_place(layer)
        if why is not None:
            result.skip(why, _label(layer), layer.name, "the layers after it are not compared")
            return result
    if result.pairs:
        following = [x for x in layers[cursor:] if not isinstance(x, (Raw, Padding))]
        if following and _known_class(following[0]):
            why = _explain_extra(packet)
            if why is not None:
                result.skip(why, type(following[0]).__name__, "(layer)", packet.summary())
            else:
                result.mismatch("data", "(layer)", "data", type(following[0]).__name__,
                                note="Scapy dissects a layer pktlab has a codec for")
    _compare_padding(result, packet, layers)
    _explain_loopback(result, packet)
    return result


def _scapy_loses_its_place(layer: Layer) -> str | None:
    """The known difference after which Scapy's layers no longer match pktlab's, if any."""
    if layer.name == "ipv6.routing" and layer.fields.get("ipv6.routing.type") not in (
            0, 2, 4, None) and layer.fields.get("ipv6.routing.len", 0) % 2:
        return "ipv6-routing-as-type-0"
    return None


_ETHERTYPE_FIELDS = ("eth.type", "vlan.etype", "ieee8021ad.etype", "sll.etype")


def _unpaired(result: Comparison, packet: Packet, layer: Layer, rest: Sequence[Any]) -> bool:
    """Report a pktlab layer Scapy has no layer for; True if Scapy stopped for a known reason."""
    label = _label(layer)
    if any(n.endswith(".truncated") for n in layer.fields):
        result.skip("truncated-header", label, layer.name, "no Scapy layer")
        return False
    raw_next = not rest or isinstance(rest[0], (Raw, Padding))
    index = packet.layers.index(layer)
    before = packet.layers[index - 1] if index else None
    ethertype = next((before.fields[n] for n in _ETHERTYPE_FIELDS
                      if before is not None and n in before.fields), None)
    if raw_next and layer.name == "arp" and ethertype == 0x8035:
        result.skip("scapy-no-rarp", label, layer.name, "Scapy: Raw")
        return True
    if raw_next and before is not None and before.name == "null":
        result.skip("loopback-families", label, layer.name,
                    f"family {before.fields.get('null.family')}; Scapy: Raw")
        return True
    result.mismatch(label, "(layer)", layer.name,
                    " / ".join(type(x).__name__ for x in rest) or "nothing",
                    note="Scapy has no such layer here")
    return False


def _explain_loopback(result: Comparison, packet: Packet) -> None:
    # Scapy reads the family's first byte: a big-endian family (first byte 0) reads 0.
    if packet.linktype != 0 or len(packet.data) < 4 or packet.data[0] != 0:
        return
    kept = [m for m in result if m.field != "null.family"]
    if len(kept) != len(result):
        result.skip("loopback-byte-order", "null", "null.family",
                    f"stored big-endian: {packet.data[:4].hex()}")
        result[:] = kept


def mapped_fields(*layers: Layer) -> set[str]:
    """The names of the fields these layers (and their children) show that SCAPY_FIELDS maps:
    what a comparison of them with a Scapy dissection should have compared."""
    found: set[str] = set()
    for layer in layers:
        found.update(name for name in layer.fields if name in SCAPY_FIELDS)
        found |= mapped_fields(*layer.children)
    return found


def compare_with_scapy(data: bytes, linktype: int = 1, *, orig_len: int | None = None,
                       strict: bool = False) -> Comparison:
    """Dissect ``data`` with pktlab and with Scapy and compare every mapped field."""
    packet = dissect(data, linktype, orig_len=orig_len, strict=strict)
    return compare_packets(packet, scapy_class(linktype, packet.data)(packet.data))


# ------------------------------------------------------------------------ building


def field_at(packet: Packet, byte: int, xor: int = 0xFF) -> tuple[str, str]:
    """The layer and the narrowest declared field covering the first differing bit of a byte.

    ``xor`` is the difference between the two bytes; its highest set bit is the first bit
    (in wire order) that differs.
    """
    bit = byte * 8 + (8 - max(xor, 1).bit_length())
    best: tuple[int, str, str] | None = None

    def visit(layer: Layer, owner: str) -> None:
        nonlocal best
        for f, offset in layer.declared():
            start = offset * 8 + f.bit_offset
            if start <= bit < start + f.bit_width and (best is None or f.bit_width < best[0]):
                best = (f.bit_width, owner, f.name)
        for child in layer.children:
            visit(child, owner)

    for layer in packet.layers:
        visit(layer, layer.name)
    if best is not None:
        return best[1], best[2]
    for layer in packet.layers:
        if layer.offset <= byte < layer.offset + layer.length:
            if layer.name == "data":
                return "data", "data.data"
            return layer.name, f"{layer.name} (not a declared field)"
    link = packet.layers[0] if packet.layers else None
    if link is not None and "eth.padding" in link.fields:
        return link.name, "eth.padding"
    return "(frame)", "(beyond the dissected layers)"


def compare_build(stack: Stack | Proto | bytes, pkt: Any, linktype: int | None = None
                  ) -> Comparison:
    """Compare the bytes pktlab builds from a stack with the bytes Scapy builds from ``pkt``.

    The result is empty when they are equal; otherwise it holds one mismatch: the first
    differing byte offset, both bytes, and the pktlab field that covers that bit, unless a
    known difference explains it (then it is a skip, and the rest is not compared).
    """
    ours = stack if isinstance(stack, bytes) else stack.build()
    theirs = bytes(pkt)
    linktype = linktype_of(pkt) if linktype is None else linktype
    result = Comparison(ours, linktype)
    result.compared = 1
    if ours == theirs:
        return result
    packet = dissect(ours, linktype)
    common = min(len(ours), len(theirs))
    offset = next((i for i in range(common) if ours[i] != theirs[i]), common)
    if offset == common:
        layer, name = field_at(packet, max(common - 1, 0))
        result.mismatch(layer, "(length)", len(ours), len(theirs), offset=offset,
                        note=f"one frame is a prefix of the other; last common field {name}")
        return result
    layer, name = field_at(packet, offset, ours[offset] ^ theirs[offset])
    why = _explain_build(packet, theirs, pkt, layer, name)
    if why is not None:
        result.skip(why, layer, name, f"first difference at byte {offset}")
        return result
    result.mismatch(layer, name, f"0x{ours[offset]:02x}", f"0x{theirs[offset]:02x}",
                    offset=offset, note=f"Scapy frame {theirs.hex()}")
    return result


_TRANSPORT_CHECKSUMS = frozenset({"udp.checksum", "tcp.checksum", "icmpv6.checksum"})
_OPTION_HEADERS = ("ipv6.hopopts", "ipv6.dstopts")


def _explain_build(packet: Packet, theirs: bytes, pkt: Any, layer: str, name: str) -> str | None:
    """The known difference that makes Scapy build these bytes otherwise, if one does."""
    if name in _TRANSPORT_CHECKSUMS and not isinstance(pkt, (bytes, bytearray)) and any(
            type(x).__name__ == "IPv6ExtHdrDestOpt" and len(x.options) > 1
            and any(type(o).__name__ == "HAO" for o in x.options)
            for x in _scapy_layers(pkt)):
        return "ipv6-home-address-checksum"
    if layer in _OPTION_HEADERS:
        scapy_built = dissect(theirs, packet.linktype)

        def options(p: Packet) -> list[list[dict[str, Any]]]:
            return [[c.fields for c in lay.children if c.fields.get("ipv6.opt.type") not in (
                0, 1)] for lay in p.layers if lay.name in _OPTION_HEADERS]

        if options(packet) == options(scapy_built):
            return "ipv6-option-alignment"
    return None

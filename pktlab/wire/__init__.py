"""pktlab's wire codecs: one declaration per header drives parsing, building and display.

Parse with :func:`dissect`; build with layer constructors joined by ``/``::

    >>> from pktlab.wire import dissect, eth, ip, tcp
    >>> frame = (eth() / ip(dst="198.18.0.2", ttl=3) / tcp(dport=80, flags="S", mss=1460)).build()
    >>> dissect(frame)["tcp.options.mss_val"]
    1460
"""

from __future__ import annotations

from typing import Any

import pktlab.wire.arp
import pktlab.wire.ethernet
import pktlab.wire.icmp
import pktlab.wire.icmpv6
import pktlab.wire.ipv4
import pktlab.wire.ipv6
import pktlab.wire.link
import pktlab.wire.tcp
import pktlab.wire.udp  # noqa: F401 - importing a codec module registers it
from pktlab.wire._build import BUILDERS, BuildError, Proto, Stack, rebuild
from pktlab.wire._model import Field, Header, Kind
from pktlab.wire._packet import Layer, Packet, Problem, Severity, dissect

__all__ = [
    "BUILDERS",
    "BuildError",
    "Field",
    "Header",
    "Kind",
    "Layer",
    "Packet",
    "Problem",
    "Proto",
    "Severity",
    "Stack",
    "arp",
    "dissect",
    "eth",
    "icmp",
    "icmpv6",
    "ip",
    "ipv6",
    "ipv6_dstopts",
    "ipv6_frag",
    "ipv6_hopopts",
    "ipv6_routing",
    "layer",
    "loop",
    "null",
    "raw",
    "rebuild",
    "sll",
    "sll2",
    "tcp",
    "udp",
    "vlan",
]


def layer(name: str, values: dict[str, Any] | None = None, **keywords: Any) -> Proto:
    """A layer to build, by layer name: ``layer("ip", ttl=3)``."""
    return Proto(name, values, **keywords)


def eth(**keywords: Any) -> Proto:
    return Proto("eth", **keywords)


def vlan(**keywords: Any) -> Proto:
    return Proto("vlan", **keywords)


def ip(**keywords: Any) -> Proto:
    return Proto("ip", **keywords)


def tcp(**keywords: Any) -> Proto:
    return Proto("tcp", **keywords)


def udp(**keywords: Any) -> Proto:
    return Proto("udp", **keywords)


def raw(**keywords: Any) -> Proto:
    """LINKTYPE_RAW: no link header, the IP version nibble says IPv4 or IPv6."""
    return Proto("raw", **keywords)


def null(**keywords: Any) -> Proto:
    """BSD loopback (LINKTYPE_NULL): a 4-byte address family in host byte order."""
    return Proto("null", **keywords)


def loop(**keywords: Any) -> Proto:
    """OpenBSD loopback (LINKTYPE_LOOP): the address family in network byte order."""
    return Proto("null", {"byte_order": "big"}, **keywords)


def sll(**keywords: Any) -> Proto:
    """Linux cooked capture v1 (LINKTYPE_LINUX_SLL)."""
    return Proto("sll", **keywords)


def sll2(**keywords: Any) -> Proto:
    """Linux cooked capture v2 (LINKTYPE_LINUX_SLL2)."""
    return Proto("sll", {"version": 2}, **keywords)


def arp(**keywords: Any) -> Proto:
    return Proto("arp", **keywords)


def icmp(**keywords: Any) -> Proto:
    return Proto("icmp", **keywords)


def ipv6(**keywords: Any) -> Proto:
    return Proto("ipv6", **keywords)


def ipv6_hopopts(**keywords: Any) -> Proto:
    return Proto("ipv6.hopopts", **keywords)


def ipv6_dstopts(**keywords: Any) -> Proto:
    return Proto("ipv6.dstopts", **keywords)


def ipv6_routing(**keywords: Any) -> Proto:
    return Proto("ipv6.routing", **keywords)


def ipv6_frag(**keywords: Any) -> Proto:
    return Proto("ipv6.fraghdr", **keywords)


def icmpv6(**keywords: Any) -> Proto:
    return Proto("icmpv6", **keywords)

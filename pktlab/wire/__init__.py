"""pktlab's wire codecs: one declaration per header drives parsing, building and display.

Parse with :func:`dissect`; build with layer constructors joined by ``/``::

    >>> from pktlab.wire import dissect, eth, ip, tcp
    >>> frame = (eth() / ip(dst="198.18.0.2", ttl=3) / tcp(dport=80, flags="S", mss=1460)).build()
    >>> dissect(frame)["tcp.options.mss_val"]
    1460
"""

from __future__ import annotations

from typing import Any

from pktlab.wire import ethernet, ipv4, tcp, udp  # noqa: F401 - importing registers codecs
from pktlab.wire._build import BUILDERS, BuildError, Proto, Stack, rebuild
from pktlab.wire._model import Field, Header, Kind
from pktlab.wire._packet import Layer, Packet, Problem, Severity, dissect

__all__ = [
    "BUILDERS", "BuildError", "Field", "Header", "Kind", "Layer", "Packet", "Problem", "Proto",
    "Severity", "Stack", "dissect", "rebuild", "layer", "eth", "vlan", "ip", "tcp", "udp",
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


def tcp(**keywords: Any) -> Proto:  # noqa: F811 - the constructor shadows the module on purpose
    return Proto("tcp", **keywords)


def udp(**keywords: Any) -> Proto:  # noqa: F811
    return Proto("udp", **keywords)

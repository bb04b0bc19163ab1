"""Ethernet II (IEEE 802.3 clause 3), 802.1Q VLAN tags and 802.1ad (QinQ) service tags.

Frames shorter than 60 bytes are padded when built (IEEE 802.3 clause 3.2.8, the 64-byte
minimum less the 4-byte FCS, which captures do not include). When dissecting, bytes after the
network layer's declared end are shown as ``eth.padding`` (up to 60 bytes) and ``eth.trailer``,
as Wireshark does. A type field below 0x0600 is an 802.3 length (``eth.len``) followed by LLC,
which pktlab keeps raw.
"""

from __future__ import annotations

from typing import Any

from pktlab.wire._build import Builder, Built, register_builder
from pktlab.wire._model import Header, enum_field, flag, mac, uint
from pktlab.wire._packet import Dissection, Dissector, Layer, Next, register

ETHERTYPES = {
    0x0800: "IPv4",
    0x0806: "ARP",
    0x8035: "RARP",
    0x8100: "802.1Q VLAN",
    0x86DD: "IPv6",
    0x88A8: "802.1ad QinQ",
    0x8847: "MPLS",
    0x8863: "PPPoE discovery",
    0x8864: "PPPoE session",
    0x88CC: "LLDP",
    0x9000: "Loopback",
}

ETHERNET = Header(
    "eth",
    "Ethernet II",
    [
        mac("eth.dst", 0, "Destination MAC address: who on this segment receives the frame"),
        mac("eth.src", 48, "Source MAC address: the adapter that sent the frame"),
        enum_field("eth.type", 96, 16, "EtherType: which protocol the payload carries",
                   ETHERTYPES, hex=True),
    ],
    reference="IEEE 802.3 clause 3.2",
)

VLAN = Header(
    "vlan",
    "802.1Q Virtual LAN",
    [
        uint("vlan.priority", 0, 3, "Priority code point (IEEE 802.1p class of service)"),
        flag("vlan.dei", 3, "Drop eligible indicator: may be dropped first under congestion"),
        uint("vlan.id", 4, 12, "VLAN identifier: which virtual LAN the frame belongs to"),
        enum_field("vlan.etype", 16, 16, "EtherType of the tagged payload", ETHERTYPES, hex=True),
    ],
    reference="IEEE 802.1Q clause 9.6",
)

QINQ = Header(
    "ieee8021ad",
    "802.1ad Service VLAN tag (QinQ)",
    [
        uint("ieee8021ad.priority", 0, 3, "Priority code point of the service tag"),
        flag("ieee8021ad.dei", 3, "Drop eligible indicator"),
        uint("ieee8021ad.id", 4, 12, "Service VLAN identifier (S-VID)"),
        enum_field("ieee8021ad.etype", 16, 16, "EtherType of the payload, usually 0x8100",
                   ETHERTYPES, hex=True),
    ],
    reference="IEEE 802.1ad",
)

MIN_FRAME = 60  # bytes, without the FCS


def dissect_ethernet(ctx: Dissection, offset: int, end: int) -> Next | None:
    if end - offset < ETHERNET.size:
        ctx.truncated("eth", ETHERNET, offset, end)
        return None
    fields = ETHERNET.decode(ctx.data, offset)
    layer = ctx.add("eth", ETHERNET, offset, ETHERNET.size, fields)
    ethertype = fields["eth.type"]
    if ethertype < 0x0600:
        fields["eth.len"] = fields.pop("eth.type")
        layer.note("IEEE 802.3 length field with LLC payload: payload kept raw", "eth.len")
        return ("ethertype", -1, offset + ETHERNET.size, end)
    if int(fields["eth.src"][:2], 16) & 1:
        layer.warn("source MAC is a group address (IEEE 802.3 clause 3.2.3)", "eth.src")
    return ("ethertype", ethertype, offset + ETHERNET.size, end)


def _tag_dissector(header: Header) -> Dissector:
    def dissect_tag(ctx: Dissection, offset: int, end: int) -> Next | None:
        if end - offset < header.size:
            ctx.truncated(header.layer, header, offset, end)
            return None
        fields = header.decode(ctx.data, offset)
        ctx.add(header.layer, header, offset, header.size, fields)
        return ("ethertype", fields[header.layer + ".etype"], offset + header.size, end)

    return dissect_tag


register("eth", dissect_ethernet, linktype=1)
register("vlan", _tag_dissector(VLAN), ethertype=0x8100)
register("ieee8021ad", _tag_dissector(QINQ), ethertype=0x88A8)


class EthernetBuilder(Builder):
    layer = "eth"
    headers = (ETHERNET,)
    selector = ("eth.type", "ethertype")
    defaults = {"eth.dst": "ff:ff:ff:ff:ff:ff", "eth.src": "00:00:00:00:00:00",
                "eth.type": 0x9000}
    keywords = frozenset({"padding"})

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        frame = self.pack(ETHERNET, built.values) + payload
        padding = built.values.get("padding")
        if padding is None:
            padding = b"\0" * max(0, MIN_FRAME - len(frame)) if not outer else b""
        return frame + bytes(padding)

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        values = super().layer_values(layer)
        if "eth.len" in layer.fields:  # 802.3 length instead of a type
            values["eth.type"] = layer.fields["eth.len"]
        values["padding"] = b"".join(bytes(layer.fields.get(name, b""))
                                     for name in ("eth.padding", "eth.trailer", "vlan.trailer"))
        return values


class TagBuilder(Builder):
    def __init__(self, header: Header) -> None:
        self.layer = header.layer
        self.headers = (header,)
        self.selector = (header.layer + ".etype", "ethertype")
        self.defaults = {f.name: 0 for f in header.top}


register_builder(EthernetBuilder())
register_builder(TagBuilder(VLAN))
register_builder(TagBuilder(QINQ))

"""Link layers other than Ethernet: raw IP, BSD loopback and Linux cooked capture.

These are the headers, or pseudo-headers, a capture file puts in front of a packet when the
interface had no Ethernet header to record (tcpdump.org "Link-layer header types", which
draft-ietf-opsawg-pcaplinktype turns into an IANA registry):

* ``raw``: LINKTYPE_RAW (101; also DLT_RAW's numbers 12 and 14 found in pcapng files). There is
  no header: the first nibble, the IP version, says IPv4 or IPv6. Wireshark shows an empty
  "raw" layer, and so does pktlab (zero bytes long). Wireshark's guesses for old Linux PPP and
  ISDN drivers (0xFF03 framing, ten zero bytes) are not made: such frames are not IP.
* ``null``: LINKTYPE_NULL (0), BSD loopback. A 4-byte address family (AF_INET 2; AF_INET6 24,
  28 or 30 depending on the BSD) in the capturing host's byte order, which the file does not
  record, so it is guessed as Wireshark guesses it on a little-endian host; a value above 1500
  is an EtherType (``null.type``). LINKTYPE_LOOP (108, OpenBSD) is the same header in network
  byte order. Family 10, Linux's AF_INET6 (Scapy writes it), is dissected as IPv6 too, which
  Wireshark does not do.
* ``sll``: LINKTYPE_LINUX_SLL (113, 16 bytes) and LINKTYPE_LINUX_SLL2 (276, 20 bytes), Linux
  "cooked" capture on the "any" device: packet type, the interface's ARPHRD_ type, the source
  link-layer address and a protocol. The protocol is an EtherType above 1536 (``sll.etype``),
  a Linux-internal type at or below (``sll.ltype``: 3 is a whole Ethernet frame, dissected;
  Novell 802.3, 802.2 LLC and the others are kept raw) or, on ARPHRD_IPGRE interfaces, a GRE
  protocol type (``sll.gretype``). The address field is 8 bytes whatever ``sll.halen`` says:
  the first ``halen`` are the address (``sll.src.eth`` for 6, ``sll.src.ipv4`` for 4,
  ``sll.src.other`` otherwise) and the rest are ``sll.unused``.

Field names and values are Wireshark 4.0's. pktlab adds what an exact rebuild needs and
Wireshark does not show: ``null.byte_order`` (how the 4 bytes were laid out), ``null.ignored``
(the two bytes Wireshark skips in a header that is a 32-bit value in neither byte order),
``sll.reserved`` (SLL2's two must-be-zero bytes) and ``null.trailer`` / ``raw.trailer`` (bytes
after the IP packet). A cooked capture keeps an Ethernet frame's padding, so bytes after the
network layer's end are shown as Wireshark shows them: ``eth.padding`` (zeros up to a 60-byte
frame, IEEE 802.3 clause 3.2.8) and ``sll.trailer``. Those trailing fields are filled in once
the network layer has said where it ends, that is on first use of the link layer's fields.
"""

from __future__ import annotations

from typing import Any, Final

from pktlab.wire._build import Builder, BuildError, Built, register_builder
from pktlab.wire._model import Header, enum_field, ipv4, mac, raw, uint
from pktlab.wire._packet import TABLES, Dissection, Layer, Next, Problem, Severity, register
from pktlab.wire.ethernet import ETHERTYPES

LINKTYPE_NULL: Final = 0
LINKTYPE_RAW: Final = 101
LINKTYPE_LOOP: Final = 108
LINKTYPE_LINUX_SLL: Final = 113
LINKTYPE_LINUX_SLL2: Final = 276
# DLT_RAW is 12 on most systems and 14 on OpenBSD; pcapng interface blocks carry these values
# and Wireshark reads both as raw IP.
RAW_LINKTYPES: Final = (LINKTYPE_RAW, 12, 14)

ETHERTYPE_IPV4: Final = 0x0800
ETHERTYPE_IPV6: Final = 0x86DD
MIN_FRAME: Final = 60  # bytes of an Ethernet frame without its FCS (IEEE 802.3 clause 3.2.8)

# ----------------------------------------------------------------------------------- raw IP


def dissect_raw(ctx: Dissection, offset: int, end: int) -> Next | None:
    layer = ctx.add("raw", None, offset, 0, {})
    version = ctx.data[offset] >> 4
    if version == 4:
        ethertype = ETHERTYPE_IPV4
    elif version == 6:
        ethertype = ETHERTYPE_IPV6
    else:
        layer.error(f"IP version {version} in the first nibble, expected 4 or 6: LINKTYPE_RAW "
                    "carries only IPv4 or IPv6 (tcpdump.org LINKTYPE_RAW)")
        return ("ethertype", -1, offset, end)
    _claim_trailer_later(ctx, layer, None, "raw.trailer")
    return ("ethertype", ethertype, offset, end)


# ---------------------------------------------------------------------------- BSD loopback

AF_INET: Final = 2
AF_INET6_BSD: Final = 24  # NetBSD, OpenBSD, BSD/OS; also what Npcap writes on Windows
AF_INET6_LINUX: Final = 10

FAMILIES = {
    2: "IP",
    7: "OSI",
    10: "IPv6 (Linux AF_INET6)",
    16: "AppleTalk",
    23: "Netware IPX/SPX",
    24: "IPv6 (NetBSD/OpenBSD)",
    28: "IPv6 (FreeBSD)",
    30: "IPv6 (Darwin)",
}
FAMILY_ETHERTYPES = {2: ETHERTYPE_IPV4, 24: ETHERTYPE_IPV6, 28: ETHERTYPE_IPV6,
                     30: ETHERTYPE_IPV6}
MAX_FAMILY = 1500  # above this Wireshark takes the value for an EtherType (IEEE_802_3_MAX_LEN)

NULL_FAMILY = Header(
    "null",
    "Null/Loopback",
    [enum_field("null.family", 0, 32, "Address family of the payload (BSD AF_ value), in the "
                "capturing host's byte order", FAMILIES)],
    reference="tcpdump.org LINKTYPE_NULL and LINKTYPE_LOOP",
)
NULL_TYPE = Header(
    "null",
    "Null/Loopback",
    [enum_field("null.type", 0, 32, "EtherType of the payload, where a loopback header holds "
                "one instead of an address family", ETHERTYPES, hex=True)],
    reference="tcpdump.org LINKTYPE_NULL",
)

# How the 4 header bytes can hold a value: a 32-bit integer either way round, or (IRIX,
# UNICOS/mp) a 16-bit one at either end. The order of this tuple is the order of preference
# when several layouts give the same bytes.
NULL_BYTE_ORDERS: Final = ("little", "big", "big16", "little16")


def encode_null(value: int, byte_order: str, ignored: bytes = b"") -> bytes:
    """The 4 loopback header bytes holding ``value`` in ``byte_order`` (OverflowError if it
    does not fit, ValueError for an unknown order). ``ignored`` replaces the first two bytes,
    which Wireshark ignores when the value sits in the last two."""
    if byte_order == "little":
        header = value.to_bytes(4, "little")
    elif byte_order == "big":
        header = value.to_bytes(4, "big")
    elif byte_order == "big16":
        header = value.to_bytes(2, "big") + b"\0\0"
    elif byte_order == "little16":
        header = b"\0\0" + value.to_bytes(2, "little")
    else:
        raise ValueError(f"byte_order: {byte_order!r} is not one of "
                         f"{', '.join(NULL_BYTE_ORDERS)}")
    if ignored:
        if len(ignored) != 2:
            raise ValueError(f"ignored: expected 2 bytes, got {len(ignored)}")
        header = ignored + header[2:]
    return header


def wireshark_null_value(header: bytes) -> int:
    """The value Wireshark (packet-null.c, on a little-endian host) reads from a NULL header.

    The file does not say which byte order the capturing host had. An address family is small,
    so a value whose upper 16 bits are set was written the other way round, unless it looks
    like a 16-bit family in the upper half; a lone byte 1 below 6 is a 16-bit big-endian one.
    """
    value = int.from_bytes(header, "little")
    if value & 0xFFFF0000:
        if not value & 0xFF000000 and (value & 0x00FF0000) < 0x00060000:
            return value >> 16
        return int.from_bytes(header, "big")
    if not value & 0xFF and (value & 0xFF00) < 0x0600:
        return header[1]
    return value


def dissect_null(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    loop = ctx.packet.linktype == LINKTYPE_LOOP
    if not loop and data[offset:offset + 2] == b"\xff\x03":
        # Some PPP drivers hand libpcap HDLC-framed PPP on a NULL interface.
        ctx.packet.problems.append(Problem(
            Severity.NOTE, "PPP in HDLC-like framing (0xFF03) instead of a loopback header: "
            "not dissected"))
        return ("ethertype", -1, offset, end)
    if end - offset < NULL_FAMILY.size:
        _truncated(ctx, "null", NULL_FAMILY, offset, end)
        return None
    header = data[offset:offset + 4]
    if loop:
        value, name = int.from_bytes(header, "big"), "null.family"
        order: str | None = "big"
        ignored = b""
    else:
        value = wireshark_null_value(header)
        name = "null.family"
        if value > MAX_FAMILY:
            name, value = "null.type", value & 0xFFFF
        order, ignored = _null_layout(value, header)
    fields: dict[str, Any] = {name: value}
    layer = ctx.add("null", NULL_TYPE if name == "null.type" else NULL_FAMILY, offset, 4, fields)
    if order is None:
        layer.error(f"loopback header {header.hex()} holds neither an address family nor an "
                    f"EtherType in either byte order (read as {value}, as Wireshark does)", name)
    else:
        fields["null.byte_order"] = order
        if ignored:
            fields["null.ignored"] = ignored
            layer.warn(f"loopback header {header.hex()} is not a 32-bit value in either byte "
                       f"order: its last two bytes are read as {value} and its first two "
                       "ignored, as Wireshark does (tcpdump.org LINKTYPE_NULL)", name)
        elif order in ("big16", "little16"):
            layer.note(f"a 16-bit address family in a 32-bit header ({order}), as IRIX and "
                       "UNICOS/mp wrote it", name)
    start = offset + 4
    if name == "null.type":
        _claim_trailer_later(ctx, layer, None, "null.trailer")
        return ("ethertype", value, start, end)
    ethertype = FAMILY_ETHERTYPES.get(value)
    if ethertype is None and value == AF_INET6_LINUX and start < end and data[start] >> 4 == 6:
        layer.note("family 10 is AF_INET6 on Linux, not a BSD value; the payload is IPv6 "
                   "(Wireshark shows it as data)", name)
        ethertype = ETHERTYPE_IPV6
    if ethertype is None:
        known = FAMILIES.get(value)
        if known is None:
            layer.warn(f"address family {value} is not one a loopback header carries (2 for "
                       "IPv4; 24, 28 or 30 for IPv6): payload not dissected", name)
        else:
            layer.note(f"address family {value} ({known}): payload not dissected", name)
        return ("ethertype", -1, start, end)
    _claim_trailer_later(ctx, layer, None, "null.trailer")
    return ("ethertype", ethertype, start, end)


def _null_layout(value: int, header: bytes) -> tuple[str | None, bytes]:
    """The byte order that writes ``value`` as exactly these bytes, and the two leading bytes
    Wireshark ignored to read it, if it did."""
    for ignored in (b"", header[:2]):
        for order in NULL_BYTE_ORDERS:
            try:
                if encode_null(value, order, ignored) == header:
                    return order, ignored
            except OverflowError:
                continue
    return None, b""


# ----------------------------------------------------------------- Linux cooked capture

PACKET_TYPES = {
    0: "Unicast to us",
    1: "Broadcast",
    2: "Multicast",
    3: "Unicast to another host",
    4: "Sent by us",
    5: "Loopback",
    6: "To user space",
    7: "To kernel",
}

# ARPHRD_ values from linux/if_arp.h: the interface's link-layer type.
HATYPES = {
    0: "NET/ROM",
    1: "Ethernet",
    6: "IEEE 802",
    24: "IEEE 1394",
    32: "InfiniBand",
    256: "SLIP",
    280: "CAN",
    512: "PPP",
    513: "Cisco HDLC",
    519: "Raw IP",
    768: "IPIP tunnel",
    769: "IPv6-in-IPv6 tunnel",
    772: "Loopback",
    776: "IPv6-in-IPv4 (SIT)",
    778: "GRE tunnel",
    801: "IEEE 802.11",
    803: "IEEE 802.11 + radiotap",
    804: "IEEE 802.15.4",
    823: "IPv6 GRE tunnel",
    824: "Netlink",
    825: "6LoWPAN",
    65534: "None",
    65535: "Void",
}
ARPHRD_IPGRE: Final = 778
ARPHRD_NETLINK: Final = 824

# sll_protocol values at or below 1536 are Linux-internal ETH_P_ values (linux/if_ether.h).
LINUX_PROTOCOLS = {
    0x0001: "Raw 802.3 (Novell)",
    0x0003: "Ethernet",
    0x0004: "802.2 LLC",
    0x0007: "PPP (HDLC)",
    0x000C: "CAN",
    0x000D: "CAN FD",
    0x0017: "IrDA LAP",
    0x00F5: "ISI",
    0x00F6: "IEEE 802.15.4",
}
MAX_LINUX_PROTOCOL: Final = 1536  # Linux's own limit (ETH_P_802_3_MIN is 0x0600)
LINUX_ETHERNET: Final = 0x0003  # a whole Ethernet frame follows (Wireshark dissects it)
LINKTYPE_ETHERNET: Final = 1

SLL_ADDRESS_SIZE: Final = 8
SLL_SIZES: Final = {1: 16, 2: 20}
_TITLES = {1: "Linux cooked capture v1", 2: "Linux cooked capture v2"}
_SLL_REFERENCE = {1: "tcpdump.org LINKTYPE_LINUX_SLL", 2: "tcpdump.org LINKTYPE_LINUX_SLL2"}

_PACKET_TYPE = "Packet type: to us, broadcast, multicast, to another host, or sent by us"
_HATYPE = "Link-layer address type: the ARPHRD_ type of the interface"
_HALEN = "Link-layer address length in bytes"

SLL_V1 = Header(
    "sll",
    _TITLES[1],
    [
        enum_field("sll.pkttype", 0, 16, _PACKET_TYPE, PACKET_TYPES),
        enum_field("sll.hatype", 16, 16, _HATYPE, HATYPES),
        uint("sll.halen", 32, 16, _HALEN),
    ],
    reference=_SLL_REFERENCE[1],
)

_PROTOCOL_MEANINGS = {
    "sll.etype": ("EtherType of the payload", ETHERTYPES),
    "sll.ltype": ("Linux protocol type of the payload (ETH_P_ value at or below 1536)",
                  LINUX_PROTOCOLS),
    "sll.gretype": ("GRE protocol type of the payload (on a GRE tunnel interface)", ETHERTYPES),
}
PROTOCOL_FIELDS: Final = tuple(_PROTOCOL_MEANINGS)

# The protocol field of version 1, after the address; its name depends on its value.
SLL_V1_PROTOCOL = {
    name: Header("sll", _TITLES[1] + " protocol",
                 [enum_field(name, 0, 16, meaning, names, hex=True)],
                 reference=_SLL_REFERENCE[1])
    for name, (meaning, names) in _PROTOCOL_MEANINGS.items()
}

# Version 2 moves the protocol to the front and adds the interface index.
SLL_V2 = {
    name: Header(
        "sll",
        _TITLES[2],
        [
            enum_field(name, 0, 16, meaning, names, hex=True),
            uint("sll.reserved", 16, 16, "Reserved, must be zero (Wireshark does not show it)",
                 hex=True),
            uint("sll.ifindex", 32, 32, "Interface index of the interface the packet crossed"),
            enum_field("sll.hatype", 64, 16, _HATYPE, HATYPES),
            enum_field("sll.pkttype", 80, 8, _PACKET_TYPE, PACKET_TYPES),
            uint("sll.halen", 88, 8, _HALEN),
        ],
        reference=_SLL_REFERENCE[2],
    )
    for name, (meaning, names) in _PROTOCOL_MEANINGS.items()
}
SLL_V2_FIXED: Final = 12  # bytes before the address

_UNUSED = "Address bytes beyond the address length: unused"


def _other_address(length: int) -> Header:
    fields = []
    if length:
        fields.append(raw("sll.src.other", 0, length * 8, "Source link-layer address"))
    if length < SLL_ADDRESS_SIZE:
        fields.append(raw("sll.unused", length * 8, (SLL_ADDRESS_SIZE - length) * 8, _UNUSED))
    return Header("sll", f"Source address ({length} bytes)", fields)


# The 8-byte address field, split the way sll.halen says.
SLL_ADDRESS_OTHER = {length: _other_address(length) for length in range(SLL_ADDRESS_SIZE + 1)}
SLL_ADDRESS_ETH = Header("sll", "Source address (Ethernet)", [
    mac("sll.src.eth", 0, "Source MAC address"),
    raw("sll.unused", 48, 16, _UNUSED),
])
SLL_ADDRESS_IPV4 = Header("sll", "Source address (IPv4)", [
    ipv4("sll.src.ipv4", 0, "Source link-layer address, an IPv4 address (tunnels)"),
    raw("sll.unused", 32, 32, _UNUSED),
])
ADDRESS_FIELDS: Final = ("sll.src.eth", "sll.src.ipv4", "sll.src.other")


def sll_address_header(halen: int) -> Header:
    if halen == 6:
        return SLL_ADDRESS_ETH
    if halen == 4:
        return SLL_ADDRESS_IPV4
    return SLL_ADDRESS_OTHER[min(halen, SLL_ADDRESS_SIZE)]


def sll_protocol_field(protocol: int, hatype: int) -> str:
    """Which name Wireshark gives the protocol field: ltype, gretype or etype."""
    if protocol <= MAX_LINUX_PROTOCOL:
        return "sll.ltype"
    if hatype == ARPHRD_IPGRE:
        return "sll.gretype"
    return "sll.etype"


def dissect_sll(ctx: Dissection, offset: int, end: int) -> Next | None:
    version = 2 if ctx.packet.linktype == LINKTYPE_LINUX_SLL2 else 1
    size = SLL_SIZES[version]
    data = ctx.data
    if end - offset < size:
        _truncated(ctx, "sll", SLL_V1 if version == 1 else SLL_V2["sll.etype"], offset, end,
                   size)
        return None
    if version == 1:
        fields = SLL_V1.decode(data, offset)
        halen, hatype = fields["sll.halen"], fields["sll.hatype"]
        address = sll_address_header(halen)
        fields.update(address.decode(data, offset + 6))
        protocol = int.from_bytes(data[offset + 14:offset + 16], "big")
        name = sll_protocol_field(protocol, hatype)
        fields[name] = protocol
        layer = ctx.add("sll", SLL_V1, offset, size, fields)
        layer.extra_headers = [(address, offset + 6), (SLL_V1_PROTOCOL[name], offset + 14)]
    else:
        protocol = int.from_bytes(data[offset:offset + 2], "big")
        hatype = int.from_bytes(data[offset + 8:offset + 10], "big")
        name = sll_protocol_field(protocol, hatype)
        fixed = SLL_V2[name]
        fields = fixed.decode(data, offset)
        halen = fields["sll.halen"]
        address = sll_address_header(halen)
        fields.update(address.decode(data, offset + SLL_V2_FIXED))
        layer = ctx.add("sll", fixed, offset, size, fields)
        layer.extra_headers = [(address, offset + SLL_V2_FIXED)]
        if fields["sll.reserved"]:
            layer.warn(f"reserved field 0x{fields['sll.reserved']:04x}, expected 0 "
                       "(tcpdump.org LINKTYPE_LINUX_SLL2)", "sll.reserved")
    start = offset + size
    if halen > SLL_ADDRESS_SIZE:
        layer.note(f"address length {halen} exceeds the {SLL_ADDRESS_SIZE}-byte address field: "
                   "only the first 8 bytes were captured", "sll.halen")
    if hatype == ARPHRD_NETLINK:
        layer.note("ARPHRD_NETLINK: the payload is a Netlink message (Wireshark shows a netlink "
                   "pseudo-header instead of this layer): not dissected", "sll.hatype")
        return ("ethertype", -1, start, end)
    if name == "sll.ltype" and protocol == LINUX_ETHERNET:
        _claim_trailer_later(ctx, layer, "eth.padding", "eth.trailer", owner="eth")
        return ("linktype", LINKTYPE_ETHERNET, start, end)
    if name == "sll.ltype":
        label = LINUX_PROTOCOLS.get(protocol, "unknown")
        layer.note(f"Linux protocol type 0x{protocol:04x} ({label}): payload kept raw", name)
        return ("ethertype", -1, start, end)
    _claim_trailer_later(ctx, layer, "eth.padding", "sll.trailer")
    return ("ethertype", protocol, start, end)


# ------------------------------------------------------------------------------- shared parts


def _truncated(ctx: Dissection, name: str, header: Header, offset: int, end: int,
               size: int | None = None) -> None:
    """A link header cut short: what is there becomes a malformed layer of raw bytes."""
    have = max(0, end - offset)
    layer = ctx.add(name, header, offset, have, {})
    layer.error(f"{header.title} truncated: {have} of {size or header.size} bytes present")
    if have:
        layer.fields[f"{name}.truncated"] = ctx.data[offset:end]


def _claim_trailer_later(ctx: Dissection, layer: Layer, padding: str | None, trailer: str,
                         owner: str | None = None) -> None:
    """Give the link layer the bytes after the network layer's end, once that end is known.

    The network layer is dissected after this one, so the claim waits for the first use of
    the layer's fields. ``padding`` names the field for Ethernet padding, found as Wireshark
    finds it (packet-eth.c, add_ethernet_trailer): only in frames of at least 60 bytes on the
    wire, only up to byte 60 of the frame, and only if it is all zeros. ``owner`` names the
    layer right after this one that gets the fields instead (an Ethernet frame inside SLL).
    """

    def claim(lay: Layer) -> None:
        end = ctx.network_end
        data = ctx.data
        if end is None or end >= len(data):
            return
        target = lay
        if owner is not None:
            layers = ctx.packet.layers
            index = next(i for i, candidate in enumerate(layers) if candidate is lay) + 1
            if index >= len(layers) or layers[index].name != owner:
                return
            target = layers[index]
        extra = data[end:]
        pad_len = 0
        if padding is not None and ctx.packet.orig_len >= MIN_FRAME and end < MIN_FRAME:
            pad_len = min(len(extra), MIN_FRAME - end)
            if any(extra[:pad_len]):
                pad_len = 0
                target.note("bytes after the packet that pad the frame to 60 bytes are not "
                            "zeros: all shown as trailer", trailer)
        fields = target.fields
        if pad_len and padding is not None:
            fields[padding] = extra[:pad_len]
        if len(extra) > pad_len:
            fields[trailer] = extra[pad_len:]

    layer.defer(claim)


# ----------------------------------------------------------------------------------- builders


class RawBuilder(Builder):
    """LINKTYPE_RAW: nothing to emit; the IP header that follows is the frame's start."""

    layer = "raw"
    keywords = frozenset({"trailer"})

    def link(self, built: Built, inner: str) -> None:
        if TABLES["ethertype"].get(ETHERTYPE_IPV4) != inner and \
                TABLES["ethertype"].get(ETHERTYPE_IPV6) != inner:
            raise BuildError(f"raw: LINKTYPE_RAW carries only IPv4 or IPv6, not {inner}")

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        return payload + _bytes_value(self.layer, "trailer", built.values.get("trailer", b""))

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        return {"trailer": layer.fields.get("raw.trailer", b"")}


class NullBuilder(Builder):
    """BSD loopback: the address family (or EtherType) in the chosen byte order.

    ``byte_order`` is ``little`` (the default: x86 and ARM BSDs and macOS), ``big`` (as
    LINKTYPE_LOOP requires), or ``big16`` / ``little16`` for a 16-bit value. ``ignored``
    (2 bytes) overwrites the first two bytes, which Wireshark then does not read.
    """

    layer = "null"
    headers = (NULL_FAMILY, NULL_TYPE)
    defaults = {"byte_order": "little"}
    keywords = frozenset({"byte_order", "ignored", "trailer"})

    def link(self, built: Built, inner: str) -> None:
        if built.given("null.family") or built.given("null.type"):
            return
        ethertype = next((k for k, v in TABLES["ethertype"].items() if v == inner), None)
        if ethertype == ETHERTYPE_IPV4:
            built.compute("null.family", AF_INET)
        elif ethertype == ETHERTYPE_IPV6:
            built.compute("null.family", AF_INET6_BSD)
        elif ethertype is not None and ethertype > MAX_FAMILY:
            built.compute("null.type", ethertype)

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        values = built.values
        if "null.family" in values and "null.type" in values:
            raise BuildError("null: give null.family or null.type, not both")
        name = "null.type" if "null.type" in values else "null.family"
        order = str(values.get("byte_order", "little"))
        try:
            value = self.decl(name).parse_number(values.get(name, AF_INET))
        except ValueError as exc:
            raise BuildError(f"null: {exc}") from None
        top = 0xFFFF if name == "null.type" or order in ("big16", "little16") else 0xFFFFFFFF
        if not 0 <= value <= top:
            raise BuildError(f"null: {name} {value} is out of range 0..{top} "
                             f"(byte order {order})")
        ignored = _bytes_value(self.layer, "ignored", values.get("ignored", b""))
        try:
            header = encode_null(value, order, ignored)
        except ValueError as exc:
            raise BuildError(f"null: {exc}") from None
        return header + payload + _bytes_value(self.layer, "trailer", values.get("trailer", b""))

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        values = super().layer_values(layer)
        fields = layer.fields
        values["byte_order"] = fields.get("null.byte_order", "little")
        values["ignored"] = fields.get("null.ignored", b"")
        values["trailer"] = fields.get("null.trailer", b"")
        return values


class SllBuilder(Builder):
    """Linux cooked capture, version 1 by default, version 2 with ``version=2``.

    The address field is filled from whichever of ``src_eth``, ``src_ipv4`` or ``src_other``
    is given (a zero MAC address if none is and ``halen`` is not set either), ``halen`` is its
    length and ``unused`` the zeros after it, unless set. The protocol goes in whichever of
    ``etype``, ``ltype`` or ``gretype`` is given; it is one field on the wire.
    """

    layer = "sll"
    # Every field name once, in wire order of version 1, then version 2's fixed part.
    headers = (SLL_V1, SLL_ADDRESS_ETH, SLL_ADDRESS_IPV4, SLL_ADDRESS_OTHER[SLL_ADDRESS_SIZE],
               *SLL_V1_PROTOCOL.values(), SLL_V2["sll.etype"])
    selector = ("sll.etype", "ethertype")
    defaults = {"sll.pkttype": 0, "sll.hatype": 1, "sll.reserved": 0, "sll.ifindex": 0}
    keywords = frozenset({"version", "padding"})
    default_protocol = 0x9000  # as for Ethernet: the loopback test protocol, for bare payloads

    def link(self, built: Built, inner: str) -> None:
        if any(built.given(name) for name in PROTOCOL_FIELDS):
            return
        if inner == TABLES["linktype"].get(LINKTYPE_ETHERNET):
            built.compute("sll.ltype", LINUX_ETHERNET)
        else:
            super().link(built, inner)

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        values = built.values
        version = values.get("version", 1)
        if version not in (1, 2):
            raise BuildError(f"sll: version {version!r} is not 1 or 2")
        protocols = [name for name in PROTOCOL_FIELDS if name in values]
        if len(protocols) > 1:
            raise BuildError(f"sll: give one protocol field, not {', '.join(protocols)}")
        name = protocols[0] if protocols else "sll.etype"
        values.setdefault(name, self.default_protocol)
        address = self._address(built)
        if version == 1:
            header = (self.pack(SLL_V1, values) + address
                      + self.pack(SLL_V1_PROTOCOL[name], values))
        else:
            header = self.pack(SLL_V2[name], values) + address
        padding = _bytes_value(self.layer, "padding", values.get("padding", b""))
        return header + payload + padding

    def _address(self, built: Built) -> bytes:
        values = built.values
        given = [name for name in ADDRESS_FIELDS if name in values]
        if len(given) > 1:
            raise BuildError(f"sll: give one source address field, not {', '.join(given)}")
        if not given and not built.given("sll.halen"):
            given = ["sll.src.eth"]
            values["sll.src.eth"] = "00:00:00:00:00:00"
        length = 0
        if given:
            value = values[given[0]]
            if given[0] == "sll.src.other":  # any length up to 8: its header follows the length
                encoded: int | bytes = _bytes_value(self.layer, "src_other", value)
            else:
                try:
                    encoded = self.decl(given[0]).to_wire(value)
                except ValueError as exc:
                    raise BuildError(f"sll: {exc}") from None
            assert isinstance(encoded, bytes)
            length = len(encoded)
            if length > SLL_ADDRESS_SIZE:
                raise BuildError(f"sll: source address of {length} bytes does not fit the "
                                 f"{SLL_ADDRESS_SIZE}-byte address field")
        header = {"sll.src.eth": SLL_ADDRESS_ETH, "sll.src.ipv4": SLL_ADDRESS_IPV4}.get(
            given[0] if given else "", SLL_ADDRESS_OTHER[length])
        built.compute("sll.halen", length)
        if "sll.unused" not in values:
            values["sll.unused"] = b"\0" * (SLL_ADDRESS_SIZE - length)
        elif length == SLL_ADDRESS_SIZE and values["sll.unused"]:
            raise BuildError("sll: an 8-byte address leaves no unused bytes")
        return self.pack(header, values)

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        fields = layer.fields
        values = {name: fields[name] for name in (
            "sll.pkttype", "sll.hatype", "sll.halen", *ADDRESS_FIELDS, "sll.unused",
            *PROTOCOL_FIELDS, "sll.reserved", "sll.ifindex") if name in fields}
        values["version"] = 2 if "sll.ifindex" in fields else 1
        values["padding"] = (bytes(fields.get("eth.padding", b""))
                             + bytes(fields.get("sll.trailer", b"")))
        return values


def _bytes_value(layer: str, name: str, value: Any) -> bytes:
    if isinstance(value, str):
        try:
            return bytes.fromhex(value.replace(":", ""))
        except ValueError:
            raise BuildError(f"{layer}: {name} {value!r} is not hex bytes") from None
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise BuildError(f"{layer}: {name} must be bytes, not {type(value).__name__}")
    return bytes(value)


register("raw", dissect_raw, linktype=RAW_LINKTYPES)
register("null", dissect_null, linktype=(LINKTYPE_NULL, LINKTYPE_LOOP))
register("sll", dissect_sll, linktype=(LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2))
register_builder(RawBuilder())
register_builder(NullBuilder())
register_builder(SllBuilder())

"""ARP (RFC 826) and RARP (RFC 903), with gratuitous ARP, probes and announcements (RFC 5227).

The fixed part (hardware and protocol types and sizes, opcode) is one declaration. The four
addresses follow as a second declaration in ``layer.extra_headers`` whose shape depends on the
sizes: for Ethernet or IEEE 802 hardware with 6-byte addresses and IPv4 with 4-byte addresses
they are ``arp.src.hw_mac``, ``arp.src.proto_ipv4``, ``arp.dst.hw_mac`` and
``arp.dst.proto_ipv4``; any other type or size keeps an address raw under Wireshark's generic
names ``arp.src.hw``, ``arp.src.proto``, ``arp.dst.hw``, ``arp.dst.proto``. A size of zero
means no such address, as in Wireshark.

RARP (EtherType 0x8035) uses the same packet; Wireshark calls its layer ``arp`` too.
The packet ends after the target protocol address; what follows in the frame is link-layer
padding. Following Wireshark, ``arp.isgratuitous`` is set for a request or reply whose sender
and target protocol addresses are equal, ``arp.isannouncement`` for such a request with a zero
target hardware address, and ``arp.isprobe`` for a request from the all-zero sender address
(RFC 5227 section 2.1.1).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pktlab.wire._build import Builder, BuildError, Built, register_builder
from pktlab.wire._model import Field, Header, Kind, encode_address, enum_field, raw, uint
from pktlab.wire._packet import Dissection, Layer, Next, register

HARDWARE_TYPES = {
    0: "NET/ROM pseudo", 1: "Ethernet", 2: "Experimental Ethernet", 3: "AX.25", 4: "ProNET",
    5: "Chaos", 6: "IEEE 802", 7: "ARCNET", 8: "Hyperchannel", 9: "Lanstar",
    10: "Autonet Short Address", 11: "Localtalk", 12: "LocalNet", 13: "Ultra link", 14: "SMDS",
    15: "Frame Relay DLCI", 16: "ATM", 17: "HDLC", 18: "Fibre Channel", 19: "ATM (RFC 2225)",
    20: "Serial Line", 21: "ATM", 22: "MIL-STD-188-220", 23: "Metricom STRIP",
    24: "IEEE 1394.1995", 25: "MAPOS", 26: "Twinaxial", 27: "EUI-64", 28: "HIPARP",
    29: "IP and ARP over ISO 7816-3", 30: "ARPSec", 31: "IPsec tunnel", 32: "InfiniBand",
    33: "TIA-102 Project 25 CAI", 34: "Wiegand Interface", 35: "Pure IP", 36: "Experimental 1",
    37: "HFI", 256: "Experimental 2", 257: "AEthernet",
}
PROTOCOL_TYPES = {0x0800: "IPv4", 0x0806: "ARP", 0x8035: "RARP", 0x86DD: "IPv6"}
OPCODES = {
    0: "reserved", 1: "request", 2: "reply", 3: "reverse request", 4: "reverse reply",
    5: "drarp request", 6: "drarp reply", 7: "drarp error", 8: "inverse request",
    9: "inverse reply", 10: "arp nak", 11: "mars request", 12: "mars multi", 13: "mars mserv",
    14: "mars join", 15: "mars leave", 16: "mars nak", 17: "mars unserv", 18: "mars sjoin",
    19: "mars sleave", 20: "mars grouplist request", 21: "mars grouplist reply",
    22: "mars redirect map", 23: "mapos unarp", 24: "experimental 1", 25: "experimental 2",
    65535: "reserved",
}
# Scapy's opcode names, accepted when building so that Scapy habits carry over.
SCAPY_OPCODES = {"who-has": 1, "is-at": 2, "rarp-req": 3, "rarp-rep": 4, "dyn-rarp-req": 5,
                 "dyn-rar-rep": 6, "dyn-rarp-err": 7, "inarp-req": 8, "inarp-rep": 9}

ARP = Header(
    "arp",
    "Address Resolution Protocol",
    [
        enum_field("arp.hw.type", 0, 16, "Hardware type: the link layer the addresses belong to",
                   HARDWARE_TYPES),
        enum_field("arp.proto.type", 16, 16,
                   "Protocol type: an EtherType, 0x0800 for IPv4 addresses", PROTOCOL_TYPES,
                   hex=True),
        uint("arp.hw.size", 32, 8, "Hardware address length in bytes (6 for Ethernet)",
             aliases=("hwlen",)),
        uint("arp.proto.size", 40, 8, "Protocol address length in bytes (4 for IPv4)",
             aliases=("plen",)),
        enum_field("arp.opcode", 48, 16, "Opcode: request, reply, reverse request, ...",
                   OPCODES, aliases=("op",)),
    ],
    reference="RFC 826",
)

ETHER_HW_TYPES = (1, 6)  # Ethernet and IEEE 802 share 6-byte MAC addresses
IPV4_TYPE = 0x0800
RAW_NAMES = ("arp.src.hw", "arp.src.proto", "arp.dst.hw", "arp.dst.proto")

_MEANINGS = {
    "src.hw": "Sender hardware address", "src.proto": "Sender protocol address",
    "dst.hw": "Target hardware address (ignored in a request)",
    "dst.proto": "Target protocol address: the address being resolved",
}


@lru_cache(maxsize=64)
def address_header(hw_mac: bool, hw_size: int, proto_ipv4: bool, proto_size: int) -> Header | None:
    """The declaration of the four addresses for one combination of types and sizes."""
    fields: list[Field] = []
    at = 0
    for side in ("src", "dst"):
        if hw_size:
            meaning = _MEANINGS[f"{side}.hw"]
            if hw_mac:
                fields.append(Field(f"arp.{side}.hw_mac", at, 48, Kind.MAC, meaning,
                                    aliases=(f"hw{side}",)))
            else:
                fields.append(raw(f"arp.{side}.hw", at, hw_size * 8, meaning))
            at += hw_size * 8
        if proto_size:
            meaning = _MEANINGS[f"{side}.proto"]
            if proto_ipv4:
                fields.append(Field(f"arp.{side}.proto_ipv4", at, 32, Kind.IPV4, meaning,
                                    aliases=(f"p{side}",)))
            else:
                fields.append(raw(f"arp.{side}.proto", at, proto_size * 8, meaning))
            at += proto_size * 8
    if not fields:
        return None
    return Header("arp", "ARP addresses", fields, reference="RFC 826")


def _ether_ipv4() -> Header:
    header = address_header(True, 6, True, 4)
    assert header is not None
    return header


ARP_ETHER_IPV4 = _ether_ipv4()


def is_mac(hw_type: int, hw_size: int) -> bool:
    return hw_type in ETHER_HW_TYPES and hw_size == 6


def is_ipv4(proto_type: int, proto_size: int) -> bool:
    return proto_type == IPV4_TYPE and proto_size == 4


def dissect_arp(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    if end - offset < ARP.size:
        ctx.truncated("arp", ARP, offset, end)
        return None
    fields = ARP.decode(data, offset)
    hw_type, proto_type = fields["arp.hw.type"], fields["arp.proto.type"]
    hw_size, proto_size = fields["arp.hw.size"], fields["arp.proto.size"]
    total = ARP.size + 2 * hw_size + 2 * proto_size
    available = end - offset
    layer = ctx.add("arp", ARP, offset, min(total, available), fields)
    _check_types(layer, fields)
    if total > available:
        layer.error(f"hardware size {hw_size} and protocol size {proto_size} need {total} "
                    f"bytes, only {available} are present (RFC 826)", "arp.hw.size")
        fields["arp.truncated"] = data[offset + ARP.size:end]
        return None
    header = address_header(is_mac(hw_type, hw_size), hw_size, is_ipv4(proto_type, proto_size),
                            proto_size)
    if header is not None:
        fields.update(header.decode(data, offset + ARP.size))
        layer.extra_headers.append((header, offset + ARP.size))
    _classify(layer, fields, data, offset + ARP.size, hw_size, proto_size)
    if ctx.network_end is None and not ctx.quoted:
        ctx.network_end = offset + total
    return None


def _check_types(layer: Layer, fields: dict[str, Any]) -> None:
    hw_type, proto_type = fields["arp.hw.type"], fields["arp.proto.type"]
    hw_size, proto_size = fields["arp.hw.size"], fields["arp.proto.size"]
    if hw_type in ETHER_HW_TYPES and hw_size != 6:
        layer.warn(f"hardware size {hw_size} for hardware type {hw_type} "
                   f"({HARDWARE_TYPES[hw_type]}), expected 6: addresses kept raw (RFC 826)",
                   "arp.hw.size")
    elif hw_type not in HARDWARE_TYPES:
        layer.note(f"unknown hardware type {hw_type}: hardware addresses kept raw",
                   "arp.hw.type")
    if proto_type == IPV4_TYPE and proto_size != 4:
        layer.warn(f"protocol size {proto_size} for protocol type 0x0800 (IPv4), expected 4: "
                   "addresses kept raw (RFC 826)", "arp.proto.size")
    opcode = fields["arp.opcode"]
    if opcode in (0, 65535):
        layer.warn(f"opcode {opcode} is reserved (IANA ARP parameters)", "arp.opcode")
    elif opcode not in OPCODES:
        layer.note(f"unknown opcode {opcode}", "arp.opcode")


def _classify(layer: Layer, fields: dict[str, Any], data: bytes, start: int, hw_size: int,
              proto_size: int) -> None:
    """Wireshark's gratuitous, announcement and probe flags (RFC 5227 section 2.1.1, 3)."""
    opcode = fields["arp.opcode"]
    if opcode not in (1, 2) or not proto_size:
        return
    sender_proto = data[start + hw_size:start + hw_size + proto_size]
    target_hw = data[start + hw_size + proto_size:start + 2 * hw_size + proto_size]
    target_proto = data[start + 2 * hw_size + proto_size:start + 2 * hw_size + 2 * proto_size]
    zero_target_hw = hw_size > 0 and not any(target_hw)
    if sender_proto == target_proto:
        fields["arp.isgratuitous"] = 1
        if opcode == 1 and zero_target_hw:
            fields["arp.isannouncement"] = 1
            layer.note("ARP announcement: the sender claims its address (RFC 5227 section 3)")
        else:
            layer.note("gratuitous ARP: sender and target protocol addresses are equal")
    elif opcode == 1 and zero_target_hw and not any(sender_proto):
        fields["arp.isprobe"] = 1
        layer.note("ARP probe: address conflict detection (RFC 5227 section 2.1.1)")


register("arp", dissect_arp, ethertype=(0x0806, 0x8035))


_SHORT_RAW = {"src_hw": "arp.src.hw", "src_proto": "arp.src.proto", "dst_hw": "arp.dst.hw",
              "dst_proto": "arp.dst.proto"}


class ARPBuilder(Builder):
    """Builds ARP. Defaults follow Scapy's ``ARP()``: an Ethernet/IPv4 who-has request.

    Addresses are MAC/IPv4 strings (``hwsrc``, ``psrc``, ``hwdst``, ``pdst``) or raw bytes
    (``src_hw``, ``src_proto``, ``dst_hw``, ``dst_proto``) for other address types; the sizes are
    computed from the addresses unless set.
    """

    layer = "arp"
    headers = (ARP, ARP_ETHER_IPV4)
    defaults = {
        "arp.hw.type": 1, "arp.proto.type": IPV4_TYPE, "arp.opcode": 1,
        "arp.src.hw_mac": "00:00:00:00:00:00", "arp.src.proto_ipv4": "0.0.0.0",
        "arp.dst.hw_mac": "00:00:00:00:00:00", "arp.dst.proto_ipv4": "0.0.0.0",
    }
    keywords = frozenset({*RAW_NAMES, *_SHORT_RAW})

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        values = built.values
        for short, full in _SHORT_RAW.items():
            if short in values:
                values[full] = values.pop(short)
        opcode = values["arp.opcode"]
        if isinstance(opcode, str) and opcode.strip().lower() in SCAPY_OPCODES:
            values["arp.opcode"] = SCAPY_OPCODES[opcode.strip().lower()]
        addresses = [
            self._address(values, "arp.src.hw", "arp.src.hw_mac", Kind.MAC),
            self._address(values, "arp.src.proto", "arp.src.proto_ipv4", Kind.IPV4),
            self._address(values, "arp.dst.hw", "arp.dst.hw_mac", Kind.MAC),
            self._address(values, "arp.dst.proto", "arp.dst.proto_ipv4", Kind.IPV4),
        ]
        built.compute("arp.hw.size", len(addresses[0]))
        built.compute("arp.proto.size", len(addresses[1]))
        if not (built.given("arp.hw.size") or len(addresses[0]) == len(addresses[2])):
            raise BuildError("arp: sender and target hardware addresses differ in length; "
                             "set hw_size to build such a packet anyway")
        if not (built.given("arp.proto.size") or len(addresses[1]) == len(addresses[3])):
            raise BuildError("arp: sender and target protocol addresses differ in length; "
                             "set proto_size to build such a packet anyway")
        return self.pack(ARP, values) + b"".join(addresses) + payload

    @staticmethod
    def _address(values: dict[str, Any], raw_name: str, typed: str, kind: Kind) -> bytes:
        if raw_name in values:
            value = values[raw_name]
            if isinstance(value, str):
                try:
                    return bytes.fromhex(value.replace(":", ""))
                except ValueError:
                    raise BuildError(f"arp: {raw_name}: {value!r} is not hex bytes") from None
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise BuildError(f"arp: {raw_name}: expected bytes, got {type(value).__name__}")
            return bytes(value)
        try:
            return encode_address(kind, values[typed], typed)
        except ValueError as exc:
            raise BuildError(f"arp: {exc}") from None

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        values = super().layer_values(layer)
        fields = layer.fields
        typed_names = ("arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac",
                       "arp.dst.proto_ipv4")
        for name, typed in zip(RAW_NAMES, typed_names, strict=True):
            if name in fields:
                values[name] = fields[name]
            elif typed not in fields:
                values[name] = b""  # a size of zero: no such address
        return values


register_builder(ARPBuilder())

"""IPv6 (RFC 8200) and its extension headers, each dissected as a layer of its own.

* The fixed header (RFC 8200 section 3), registered for EtherType 0x86DD, LINKTYPE_IPV6 (229)
  and IP protocol 41 (IPv6 in IP). The payload length is checked against the frame as IPv4's
  total length is; a zero payload length behind a Hop-by-Hop header announces a Jumbo Payload
  option (RFC 2675 section 3).
* Hop-by-Hop and Destination Options headers (sections 4.3 and 4.6) with their TLV options
  (section 4.2): Pad1, PadN, Router Alert (RFC 2711), Jumbo Payload (RFC 2675), Tunnel
  Encapsulation Limit (RFC 2473), Home Address (RFC 6275); others are kept raw. Option lengths
  exclude the type and length bytes.
* The Routing header (section 4.4): the addresses of type 0 (RFC 5095, deprecated) and type 2
  (RFC 6275 section 6.4) as items; other types kept raw.
* The Fragment header (section 4.5): a fragment other than the first carries part of an
  upper-layer packet and is kept as ``data``; a first fragment's upper-layer header is dissected
  but its checksum cannot be verified. An atomic fragment (RFC 6946) is dissected normally.

Header lengths are shown as Wireshark shows them: ``ipv6.hopopts.len`` is the raw field (8-byte
units not counting the first 8 bytes) and ``ipv6.hopopts.len_oct`` the length in bytes. The
chain of extension headers is bounded by the driver's layer limit. A Routing header whose
segments are not exhausted names the final destination, which the upper-layer checksum uses
(RFC 8200 section 8.1); a Home Address option names the source it uses (RFC 6275 section 6.3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pktlab.wire._build import Builder, BuildError, Built, register_builder
from pktlab.wire._model import (
    Field,
    Header,
    Kind,
    encode_address,
    enum_field,
    flag,
    ipv6,
    raw,
    uint,
)
from pktlab.wire._options import OptionCodec, OptionKind, data_field
from pktlab.wire._packet import Dissection, Layer, Next, register
from pktlab.wire.checksum import pseudo_header_v6
from pktlab.wire.ipv4 import IP_PROTOCOLS, _frame_truncated

IPV6 = Header(
    "ipv6",
    "Internet Protocol Version 6",
    [
        uint("ipv6.version", 0, 4, "Version: 6 for IPv6"),
        uint("ipv6.tclass", 4, 8, "Traffic class (DSCP and ECN)", hex=True),
        uint("ipv6.tclass.dscp", 4, 6, "DSCP: the per-hop behaviour (RFC 2474)"),
        uint("ipv6.tclass.ecn", 10, 2, "ECN codepoint (RFC 3168)"),
        uint("ipv6.flow", 12, 20, "Flow label: marks packets of one flow (RFC 6437)", hex=True),
        uint("ipv6.plen", 32, 16,
             "Payload length: bytes after this header, extension headers included"),
        enum_field("ipv6.nxt", 48, 8, "Next header: the header or protocol that follows",
                   IP_PROTOCOLS),
        uint("ipv6.hlim", 56, 8, "Hop limit: routers discard the packet when it reaches 0"),
        ipv6("ipv6.src", 64, "Source address"),
        ipv6("ipv6.dst", 192, "Destination address (the next segment's, with a Routing header)"),
    ],
    reference="RFC 8200 section 3",
)

HOPOPTS = "ipv6.hopopts"
DSTOPTS = "ipv6.dstopts"
ROUTING = "ipv6.routing"
FRAGMENT = "ipv6.fraghdr"
EXTENSIONS = frozenset({HOPOPTS, DSTOPTS, ROUTING, FRAGMENT})


def _options_header(layer: str, title: str, section: str) -> Header:
    return Header(layer, title, [
        enum_field(f"{layer}.nxt", 0, 8, "Next header", IP_PROTOCOLS),
        uint(f"{layer}.len", 8, 8, "Length in 8-byte units, not counting the first 8 bytes"),
    ], reference=f"RFC 8200 section {section}")


HOP_BY_HOP = _options_header(HOPOPTS, "IPv6 Hop-by-Hop Options", "4.3")
DEST_OPTIONS = _options_header(DSTOPTS, "IPv6 Destination Options", "4.6")

ROUTING_TYPES = {0: "Source Route (deprecated)", 1: "Nimrod", 2: "Type 2 Routing",
                 3: "RPL Source Route", 4: "Segment Routing", 5: "CRH-16", 6: "CRH-32"}

ROUTING_HEADER = Header(ROUTING, "Routing Header for IPv6", [
    enum_field("ipv6.routing.nxt", 0, 8, "Next header", IP_PROTOCOLS),
    uint("ipv6.routing.len", 8, 8, "Length in 8-byte units, not counting the first 8 bytes"),
    enum_field("ipv6.routing.type", 16, 8, "Routing type", ROUTING_TYPES),
    uint("ipv6.routing.segleft", 24, 8, "Segments left: route segments still to visit"),
], reference="RFC 8200 section 4.4")
ROUTING_0 = Header(ROUTING, "Type 0 Routing (source route)", [
    raw("ipv6.routing.src.reserved", 0, 32, "Reserved: zero"),
], reference="RFC 5095 (deprecated); RFC 2460 section 4.4")
ROUTING_0_ADDRESS = Header("ipv6.routing.src.item", "Source route address", [
    ipv6("ipv6.routing.src.addr", 0, "An address on the source route"),
], reference="RFC 2460 section 4.4")
ROUTING_2 = Header(ROUTING, "Type 2 Routing (Mobile IPv6)", [
    raw("ipv6.routing.mipv6.reserved", 0, 32, "Reserved: zero"),
    ipv6("ipv6.routing.mipv6.home_address", 32, "The mobile node's home address"),
], reference="RFC 6275 section 6.4")

FRAGMENT_HEADER = Header(FRAGMENT, "Fragment Header for IPv6", [
    enum_field("ipv6.fraghdr.nxt", 0, 8, "Next header of the fragmented part", IP_PROTOCOLS),
    uint("ipv6.fraghdr.reserved_octet", 8, 8, "Reserved: zero", hex=True),
    uint("ipv6.fraghdr.offset", 16, 13,
         "Fragment offset in 8-byte units, from the start of the fragmentable part"),
    uint("ipv6.fraghdr.reserved_bits", 29, 2, "Reserved: zero"),
    flag("ipv6.fraghdr.more", 31, "More fragments: this is not the last fragment"),
    uint("ipv6.fraghdr.ident", 32, 32, "Identification: ties the fragments together", hex=True),
], reference="RFC 8200 section 4.5")

# ------------------------------------------------------------------------------ the options

OPTION_NAMES = {0x00: "Pad1", 0x01: "PadN", 0x04: "Tunnel Encapsulation Limit",
                0x05: "Router Alert", 0x26: "Quick-Start", 0x63: "RPL Option",
                0xC2: "Jumbo Payload", 0xC9: "Home Address"}
ROUTER_ALERT_NAMES = {0: "MLD", 1: "RSVP", 2: "Active Networks"}
JUMBO = 0xC2


def _option(title: str, *more: Field, one_byte: bool = False) -> Header:
    fields = [
        enum_field("ipv6.opt.type", 0, 8, "Option type", OPTION_NAMES, hex=True),
        uint("ipv6.opt.type.action", 0, 2,
             "Action if unrecognised: 0 skip, 1 discard, 2 discard and report, "
             "3 discard and report unless multicast"),
        flag("ipv6.opt.type.change", 2, "Option data may change en route"),
        uint("ipv6.opt.type.rest", 3, 5, "Rest of the option type", hex=True),
    ]
    if not one_byte:
        fields.append(uint("ipv6.opt.length", 8, 8,
                           "Length of the option data in bytes (type and length excluded)"))
    fields.extend(more)
    return Header("ipv6.opt", f"IPv6 Option - {title}", fields, reference="RFC 8200 section 4.2")


PAD1 = _option("Pad1", one_byte=True)
PADN = _option("PadN")
ROUTER_ALERT = _option("Router Alert", enum_field(
    "ipv6.opt.router_alert", 16, 16, "What routers should examine the packet for",
    ROUTER_ALERT_NAMES))
JUMBO_PAYLOAD = _option("Jumbo Payload", uint(
    "ipv6.opt.jumbo", 16, 32, "Payload length in bytes, for packets beyond 65,535 bytes"))
TUNNEL_LIMIT = _option("Tunnel Encapsulation Limit", uint(
    "ipv6.opt.tel", 16, 8, "How many more levels of encapsulation are allowed (RFC 2473)"))
HOME_ADDRESS = _option("Home Address", ipv6(
    "ipv6.opt.mipv6.home_address", 16, "The mobile node's home address (RFC 6275 6.3)"))
UNKNOWN_OPTION = _option("Unknown")


def _check_padn(layer: Layer) -> None:
    padding = layer.fields.get("ipv6.opt.padn", b"")
    if any(padding):
        layer.warn(f"PadN data {bytes(padding).hex()} is not all zero (RFC 8200 section 4.2; "
                   "RFC 4942 section 2.1.9.5: receivers may drop such packets)", "ipv6.opt.padn")


IPV6_OPTIONS = OptionCodec(
    "ipv6",
    [
        OptionKind(0x01, "padn", PADN, check=_check_padn, show_empty=True, data=data_field(
            PADN, "ipv6.opt.padn", "Padding: zero bytes")),
        OptionKind(0x04, "tel", TUNNEL_LIMIT, length=3),
        OptionKind(0x05, "router_alert", ROUTER_ALERT, length=4),
        OptionKind(0xC2, "jumbo", JUMBO_PAYLOAD, length=6),
        OptionKind(0xC9, "home_address", HOME_ADDRESS, length=18),
    ],
    kind_field=PAD1.by_name["ipv6.opt.type"],
    length_field=PADN.by_name["ipv6.opt.length"],
    unknown=OptionKind(-1, "unknown", UNKNOWN_OPTION, show_empty=True, data=data_field(
        UNKNOWN_OPTION, "ipv6.opt.unknown", "The option's data, not interpreted")),
    one_byte={0: OptionKind(0, "pad1", PAD1)},
    total_length=lambda value: value + 2,
    length_value=lambda total: total - 2,
    reference="RFC 8200 section 4.2",
)


def _option_checks(layer: Layer, data: bytes, hop_by_hop: bool, plen: int | None) -> None:
    """Rules about the option list (RFC 8200 section 4.2, RFC 2675 sections 2 and 3).

    ``plen`` is the IPv6 payload length when this is the Hop-by-Hop header right after it.
    """
    run = 0
    for child in layer._children:
        kind = child._fields.get("ipv6.opt.type")
        if kind in (0x00, 0x01):
            run += child.length
            if run > 7:
                child.note(f"{run} consecutive bytes of padding: more than 7 is never needed "
                           "for alignment (RFC 4942 section 2.1.9.5)", "ipv6.opt.type")
            continue
        run = 0
        if child.header is UNKNOWN_OPTION and kind is not None:
            action = kind >> 6
            if action:
                child.note(f"unknown option type 0x{kind:02x} with action {action}: a node that "
                           "does not recognise it discards the packet (RFC 8200 section 4.2)",
                           "ipv6.opt.type.action")
        jumbo = child._fields.get("ipv6.opt.jumbo")
        if jumbo is None or child.malformed:
            continue
        if not hop_by_hop:
            child.warn("Jumbo Payload option outside the Hop-by-Hop header "
                       "(RFC 2675 section 2)", "ipv6.opt.type")
        if jumbo <= 0xFFFF:
            IPV6_OPTIONS.error(child, data, f"jumbo payload length {jumbo} is not above "
                               "65,535 (RFC 2675 section 3)", "ipv6.opt.jumbo")
        elif plen:
            IPV6_OPTIONS.error(child, data, f"Jumbo Payload option present but payload "
                               f"length is {plen}, expected 0 (RFC 2675 section 3)",
                               "ipv6.opt.jumbo")


HOME_ADDRESS_KIND = b"\xc9"


def _home_address(layer: Layer) -> bytes | None:
    for child in layer.children:
        home = child.fields.get("ipv6.opt.mipv6.home_address")
        if home is not None and not child.malformed:
            return _address(home, "ipv6.opt.mipv6.home_address")
    return None


def _jumbo(layer: Layer) -> int | None:
    for child in layer.children:
        if child.fields.get("ipv6.opt.type") == JUMBO and "ipv6.opt.jumbo" in child.fields:
            value: int = child.fields["ipv6.opt.jumbo"]
            return value
    return None


# ----------------------------------------------------------------------------- dissection


def dissect_ipv6(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    if end - offset < IPV6.size:
        ctx.truncated("ipv6", IPV6, offset, end)
        return None
    fields = IPV6.decode(data, offset)
    layer = ctx.add("ipv6", IPV6, offset, IPV6.size, fields)
    if fields["ipv6.version"] != 6:
        layer.error(f"version {fields['ipv6.version']} in an IPv6 header, expected 6 "
                    "(RFC 8200 section 3)", "ipv6.version")
        return None
    plen = fields["ipv6.plen"]
    nxt = fields["ipv6.nxt"]
    payload = offset + IPV6.size
    packet_end = payload + plen
    jumbo_pending = False
    if plen == 0 and nxt == 59:
        packet_end = payload  # nothing follows (RFC 8200 section 4.7); the rest is padding
    elif plen == 0:
        packet_end = end
        if nxt == 0:
            # The Hop-by-Hop header's Jumbo Payload option gives the length (RFC 2675).
            jumbo_pending = True
        elif end > payload and not ctx.quoted:
            layer.note("payload length 0: probably a TSO/GSO packet captured before "
                       "segmentation", "ipv6.plen")
    elif packet_end > end:
        if ctx.quoted:
            layer.note(f"the ICMPv6 error quotes {end - payload} of {plen} payload bytes",
                       "ipv6.plen")
        elif len(data) < packet_end and ctx.network_end is None and _frame_truncated(ctx):
            layer.note(f"payload length {plen}: only {end - payload} bytes were captured",
                       "ipv6.plen")
            ctx.missing = packet_end - end
        else:
            layer.error(f"payload length {plen} exceeds the {end - payload} bytes available "
                        "(RFC 8200 section 3)", "ipv6.plen")
        ctx.complete = False
        packet_end = end
    if not ctx.quoted:
        if fields["ipv6.hlim"] == 0:
            layer.warn("hop limit 0: a router must discard this packet, not forward it "
                       "(RFC 8200 section 3; RFC 4443 section 3.3)", "ipv6.hlim")
        if data[offset + 8] == 0xFF:
            layer.warn(f"source {fields['ipv6.src']} is a multicast address; it must not be "
                       "used as a source (RFC 4291 section 2.7)", "ipv6.src")
        if not any(data[offset + 24:offset + 40]):
            layer.warn("destination is the unspecified address ::, which must never be a "
                       "destination (RFC 4291 section 2.5.2)", "ipv6.dst")
        if ctx.network_end is None and not jumbo_pending:
            ctx.network_end = packet_end
    ctx.pseudo = (data[offset + 8:offset + 24], data[offset + 24:offset + 40], True)
    return ("ip.proto", nxt, payload, packet_end)


def _chain(ctx: Dissection) -> tuple[Layer | None, list[Layer]]:
    """The IPv6 header the next extension header belongs to, and the extension headers between."""
    between: list[Layer] = []
    # The last layer is the extension header asking; the chain is what comes before it.
    for layer in reversed(ctx.packet.layers[:-1]):
        if layer.quoted != ctx.quoted:
            break
        if layer.name == "ipv6":
            between.reverse()
            return layer, between
        if layer.name not in EXTENSIONS:
            break
        between.append(layer)
    between.reverse()
    return None, between


def _check_position(ctx: Dissection, layer: Layer, name: str) -> tuple[Layer | None, list[Layer]]:
    """RFC 8200 section 4.1: Hop-by-Hop first; each header once, Destination Options twice."""
    owner, between = _chain(ctx)
    if name == HOPOPTS:
        if owner is None or between:
            layer.warn("the Hop-by-Hop Options header must immediately follow the IPv6 header "
                       "(RFC 8200 section 4.1)", "ipv6.hopopts.nxt")
    elif owner is None:
        layer.note("IPv6 extension header without an IPv6 header before it")
    seen = sum(1 for other in between if other.name == name)
    if seen >= (2 if name == DSTOPTS else 1):
        layer.note(f"{layer.header.title if layer.header else name} appears {seen + 1} times; "
                   "each extension header should occur at most once (Destination Options "
                   "twice) (RFC 8200 section 4.1)")
    return owner, between


def _extension_length(ctx: Dissection, layer: Layer, name: str, offset: int, end: int) -> int:
    """The header's length in bytes, or 0 (after recording the problem) if it runs past end."""
    length = (ctx.data[offset + 1] + 1) * 8
    layer.fields[f"{name}.len_oct"] = length
    if offset + length > end:
        message = (f"length {length} bytes runs past the end of the packet "
                   f"({end - offset} bytes left)")
        if ctx.quoted:
            layer.note(message, f"{name}.len")
        else:
            layer.error(message + " (RFC 8200 section 4)", f"{name}.len")
        layer.length = end - offset
        layer.fields[f"{name}.truncated"] = ctx.data[offset + 2:end]
        return 0
    layer.length = length
    return length


def _options_dissector(header: Header) -> Callable[[Dissection, int, int], Next | None]:
    name = header.layer
    hop_by_hop = name == HOPOPTS

    def dissect_options(ctx: Dissection, offset: int, end: int) -> Next | None:
        data = ctx.data
        if end - offset < header.size:
            ctx.truncated(name, header, offset, end)
            return None
        fields = header.decode(data, offset)
        layer = ctx.add(name, header, offset, header.size, fields)
        owner, between = _check_position(ctx, layer, name)
        length = _extension_length(ctx, layer, name, offset, end)
        if not length:
            return None

        first = hop_by_hop and owner is not None and not between
        plen = owner.fields["ipv6.plen"] if owner is not None else None

        def decode(lay: Layer) -> None:
            IPV6_OPTIONS.parse(lay, data, offset + 2, offset + length)
            _option_checks(lay, data, hop_by_hop, plen if first else None)

        layer.defer(decode)
        next_end = end
        if first and plen == 0 and owner is not None:
            next_end = _jumbo_rules(ctx, layer, owner, end)
        if name == DSTOPTS and ctx.pseudo is not None and data[offset + 2:offset + length].find(
                HOME_ADDRESS_KIND) >= 0:
            home = _home_address(layer)
            if home is not None:
                # RFC 6275 section 6.3: the home address replaces the source in upper-layer
                # checksums (as Wireshark and Scapy compute them).
                ctx.pseudo = (home, ctx.pseudo[1], True)
        return ("ip.proto", fields[f"{name}.nxt"], offset + length, next_end)

    return dissect_options


def _jumbo_rules(ctx: Dissection, layer: Layer, owner: Layer, end: int) -> int:
    """RFC 2675 section 3: a zero payload length needs a Jumbo Payload option; return the end."""
    jumbo = _jumbo(layer)
    available = end - owner.offset - IPV6.size
    if jumbo is None:
        layer.error("payload length 0 with a Hop-by-Hop header but no Jumbo Payload option "
                    "(RFC 2675 section 3)", "ipv6.plen")
        if ctx.network_end is None and not ctx.quoted:
            ctx.network_end = end
        return end
    packet_end = owner.offset + IPV6.size + jumbo
    if packet_end > end:
        if ctx.quoted or _frame_truncated(ctx):
            layer.note(f"jumbo payload length {jumbo}: only {available} bytes present",
                       "ipv6.opt.jumbo")
            if not ctx.quoted:
                ctx.missing = packet_end - end
        else:
            layer.error(f"jumbo payload length {jumbo} exceeds the {available} bytes "
                        "available (RFC 2675 section 3)", "ipv6.opt.jumbo")
        ctx.complete = False
        packet_end = end
    if ctx.network_end is None and not ctx.quoted:
        ctx.network_end = packet_end
    return packet_end


def dissect_routing(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    if end - offset < ROUTING_HEADER.size:
        ctx.truncated(ROUTING, ROUTING_HEADER, offset, end)
        return None
    fields = ROUTING_HEADER.decode(data, offset)
    layer = ctx.add(ROUTING, ROUTING_HEADER, offset, ROUTING_HEADER.size, fields)
    owner, _ = _check_position(ctx, layer, ROUTING)
    length = _extension_length(ctx, layer, ROUTING, offset, end)
    if not length:
        return None
    kind = fields["ipv6.routing.type"]
    segleft = fields["ipv6.routing.segleft"]
    final: bytes | None = None
    if kind == 0:
        layer.note("type 0 routing header is deprecated: nodes must not process it "
                   "(RFC 5095 section 3)", "ipv6.routing.type")
        layer.extra_headers.append((ROUTING_0, offset + 4))
        fields.update(ROUTING_0.decode(data, offset + 4))
        count = fields["ipv6.routing.len"] // 2
        if fields["ipv6.routing.len"] % 2:
            layer.error(f"length {fields['ipv6.routing.len']} is odd; type 0 holds whole "
                        "16-byte addresses (RFC 2460 section 4.4)", "ipv6.routing.len")
        at = offset + 8
        for _ in range(count):
            item = Layer(ROUTING_0_ADDRESS.layer, ROUTING_0_ADDRESS, at, 16,
                         ROUTING_0_ADDRESS.decode(data, at), ctx.quoted)
            if data[at] == 0xFF:
                item.warn("multicast address in the source route (RFC 2460 section 4.4)",
                          "ipv6.routing.src.addr")
            layer._children.append(item)
            at += 16
        if segleft > count:
            layer.error(f"segments left {segleft} exceeds the {count} addresses "
                        "(RFC 2460 section 4.4)", "ipv6.routing.segleft")
        elif segleft and count:
            final = data[offset + 8 + 16 * (count - 1):offset + 8 + 16 * count]
    elif kind == 2:
        if length != 24:
            layer.error(f"type 2 routing header of {length} bytes, expected 24 "
                        "(length 2, RFC 6275 section 6.4)", "ipv6.routing.len")
            fields["ipv6.routing.unknown_data"] = data[offset + 4:offset + length]
        else:
            layer.extra_headers.append((ROUTING_2, offset + 4))
            fields.update(ROUTING_2.decode(data, offset + 4))
            if segleft != 1:
                layer.warn(f"segments left {segleft} in a type 2 routing header, expected 1 "
                           "(RFC 6275 section 6.4)", "ipv6.routing.segleft")
            if segleft:
                final = data[offset + 8:offset + 24]
    else:
        fields["ipv6.routing.unknown_data"] = data[offset + 4:offset + length]
        if segleft:
            layer.note(f"routing type {kind} is not dissected; with segments left {segleft} a "
                       "node that does not know it discards the packet (RFC 8200 section 4.4)",
                       "ipv6.routing.type")
    if final is not None and ctx.pseudo is not None and owner is not None:
        # RFC 8200 section 8.1: the upper-layer checksum covers the final destination.
        ctx.pseudo = (ctx.pseudo[0], final, True)
    return ("ip.proto", fields["ipv6.routing.nxt"], offset + length, end)


def dissect_fragment(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    if end - offset < FRAGMENT_HEADER.size:
        ctx.truncated(FRAGMENT, FRAGMENT_HEADER, offset, end)
        return None
    fields = FRAGMENT_HEADER.decode(data, offset)
    layer = ctx.add(FRAGMENT, FRAGMENT_HEADER, offset, FRAGMENT_HEADER.size, fields)
    _, between = _check_position(ctx, layer, FRAGMENT)
    if fields["ipv6.fraghdr.reserved_octet"] or fields["ipv6.fraghdr.reserved_bits"]:
        layer.note("reserved bits set; they are zero when sent and ignored on receipt "
                   "(RFC 8200 section 4.5)", "ipv6.fraghdr.reserved_octet")
    for other in between:
        if other.name == HOPOPTS and _jumbo(other) is not None:
            layer.error("a Jumbo Payload packet must not carry a Fragment header "
                        "(RFC 2675 section 3)", "ipv6.fraghdr.nxt")
    start = offset + FRAGMENT_HEADER.size
    units = fields["ipv6.fraghdr.offset"]
    more = fields["ipv6.fraghdr.more"]
    if not units and not more:
        layer.note("atomic fragment (offset 0, no more fragments): the payload is whole "
                   "(RFC 6946)", "ipv6.fraghdr.offset")
        return ("ip.proto", fields["ipv6.fraghdr.nxt"], start, end)
    layer.note(f"fragment at offset {units * 8} bytes"
               f"{' (more follow)' if more else ' (last)'}: the payload is part of a packet "
               "that must be reassembled", "ipv6.fraghdr.offset")
    if more and (end - start) % 8 and ctx.complete and not ctx.quoted:
        layer.warn(f"fragment data of {end - start} bytes is not a multiple of 8, but more "
                   "fragments follow (RFC 8200 section 4.5)", "ipv6.fraghdr.more")
    if units:
        return ("ip.proto", -1, start, end)
    ctx.complete = False
    return ("ip.proto", fields["ipv6.fraghdr.nxt"], start, end)


register("ipv6", dissect_ipv6, ethertype=0x86DD, linktype=229, ip_proto=41)
register(HOPOPTS, _options_dissector(HOP_BY_HOP), ip_proto=0)
register(ROUTING, dissect_routing, ip_proto=43)
register(FRAGMENT, dissect_fragment, ip_proto=44)
register(DSTOPTS, _options_dissector(DEST_OPTIONS), ip_proto=60)


# ----------------------------------------------------------------------------- building


def _address(value: Any, name: str) -> bytes:
    try:
        return encode_address(Kind.IPV6, value, name)
    except ValueError as exc:
        raise BuildError(str(exc)) from None


def _route_plan(values: Mapping[str, Any]) -> tuple[int, list[Any], int]:
    """(routing type, addresses, segments left) as the routing builder will emit them."""
    kind = ROUTING_HEADER.by_name["ipv6.routing.type"].parse_number(
        values.get("ipv6.routing.type", 0))
    addresses = list(values.get("addresses") or ())
    if kind == 2 and not addresses:
        addresses = [values.get("ipv6.routing.mipv6.home_address", "::")]
    segleft = values.get("ipv6.routing.segleft")
    if segleft is None:
        segleft = len(addresses) if kind in (0, 2) else 0
    return kind, addresses, int(segleft)


def pseudo_header(outer: Sequence[Built], protocol: int, length: int) -> bytes | None:
    """The IPv6 pseudo-header (RFC 8200 section 8.1) for an upper layer built under ``outer``.

    None when the nearest IP layer is not IPv6. A Routing header between the IPv6 header and
    the upper layer with segments left supplies the final destination.
    """
    final: bytes | None = None
    home: bytes | None = None
    for built in reversed(outer):
        if built.layer == ROUTING and final is None:
            kind, addresses, segleft = _route_plan(built.values)
            if kind in (0, 2) and segleft and addresses:
                final = _address(addresses[-1], "ipv6.routing address")
        if built.layer == DSTOPTS and home is None:
            home = _home_option(built.values.get("options") or ())
        if built.layer == "ip":
            return None
        if built.layer == "ipv6":
            src = home or _address(built.values["ipv6.src"], "ipv6.src")
            dst = final or _address(built.values["ipv6.dst"], "ipv6.dst")
            return pseudo_header_v6(src, dst, protocol, length)
    return None


def _home_option(specs: Sequence[Any]) -> bytes | None:
    """The address of a Home Address option among option specs (RFC 6275 section 6.3)."""
    header = HOME_ADDRESS
    for spec in specs:
        if not isinstance(spec, tuple) or spec[0] not in ("home_address", 0xC9):
            continue
        value = spec[1]
        if isinstance(value, Mapping):
            value = {header.field(k).name: v for k, v in value.items()}.get(
                "ipv6.opt.mipv6.home_address", "::")
        return _address(value, "ipv6.opt.mipv6.home_address")
    return None


class IPv6Builder(Builder):
    layer = "ipv6"
    headers = (IPV6,)
    selector = ("ipv6.nxt", "ip.proto")
    defaults = {"ipv6.version": 6, "ipv6.tclass": 0, "ipv6.flow": 0, "ipv6.nxt": 59,
                "ipv6.hlim": 64, "ipv6.src": "::1", "ipv6.dst": "::1"}

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        # Beyond 65,535 bytes the length lives in a Jumbo Payload option (RFC 2675).
        built.compute("ipv6.plen", len(payload) if len(payload) <= 0xFFFF else 0)
        return self.pack(IPV6, built.values) + payload


def _pad(options: bytes) -> bytes:
    """Pad an option list so the header (2 bytes + options) is a multiple of 8 bytes."""
    need = -(len(options) + 2) % 8
    if need == 1:
        return options + b"\x00"  # Pad1
    if need:
        return options + bytes((1, need - 2)) + b"\x00" * (need - 2)  # PadN
    return options


class OptionsBuilder(Builder):
    option_codec = IPV6_OPTIONS
    keywords = frozenset({"options"})

    def __init__(self, header: Header) -> None:
        self.layer = header.layer
        self.headers = (header,)
        self.selector = (f"{header.layer}.nxt", "ip.proto")
        self.defaults = {f"{header.layer}.nxt": 59}

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        specs = list(built.values.get("options") or ())
        # A bare "jumbo" asks for the Jumbo Payload length to be computed.
        auto = [i for i, spec in enumerate(specs) if spec == "jumbo"]
        for i in auto:
            specs[i] = ("jumbo", 0x10000)
        options = self._options(specs)
        if auto:
            total = 2 + len(_pad(options)) + len(payload)
            for i in auto:
                specs[i] = ("jumbo", total)
            options = self._options(specs)
        options = _pad(options)
        built.compute(f"{self.layer}.len", (2 + len(options)) // 8 - 1)
        return self.pack(self.headers[0], built.values) + options + payload

    def _options(self, specs: list[Any]) -> bytes:
        try:
            return IPV6_OPTIONS.build(specs)
        except (KeyError, ValueError) as exc:
            raise BuildError(f"{self.layer} options: {exc}") from None

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        values = super().layer_values(layer)
        values.setdefault("options", [])
        return values


class RoutingBuilder(Builder):
    layer = ROUTING
    headers = (ROUTING_HEADER, ROUTING_0, ROUTING_2)
    selector = ("ipv6.routing.nxt", "ip.proto")
    defaults = {"ipv6.routing.nxt": 59, "ipv6.routing.type": 0}
    keywords = frozenset({"addresses", "data"})

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        values = built.values
        kind, addresses, segleft = _route_plan(values)
        built.compute("ipv6.routing.segleft", segleft)
        if kind == 0 and "data" not in values:
            body = self.pack(ROUTING_0, {"ipv6.routing.src.reserved": values.get(
                "ipv6.routing.src.reserved", b"\0" * 4)})
            body += b"".join(_address(a, "ipv6.routing.src.addr") for a in addresses)
        elif kind == 2 and "data" not in values:
            if len(addresses) != 1:
                raise BuildError("ipv6.routing: type 2 carries exactly one home address")
            body = self.pack(ROUTING_2, {
                "ipv6.routing.mipv6.reserved": values.get("ipv6.routing.mipv6.reserved",
                                                          b"\0" * 4),
                "ipv6.routing.mipv6.home_address": addresses[0]})
        else:
            body = bytes(values.get("data", b""))
            body += b"\0" * (-(len(body) + 4) % 8)
        built.compute("ipv6.routing.len", (4 + len(body)) // 8 - 1)
        return self.pack(ROUTING_HEADER, values) + body + payload

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        values = super().layer_values(layer)
        fields = layer.fields
        if "ipv6.routing.unknown_data" in fields:
            values["data"] = bytes(fields["ipv6.routing.unknown_data"])
        elif fields["ipv6.routing.type"] == 0:
            values["addresses"] = [c.fields["ipv6.routing.src.addr"] for c in layer.children]
        return values


class FragmentBuilder(Builder):
    layer = FRAGMENT
    headers = (FRAGMENT_HEADER,)
    selector = ("ipv6.fraghdr.nxt", "ip.proto")
    defaults = {"ipv6.fraghdr.nxt": 59, "ipv6.fraghdr.reserved_octet": 0,
                "ipv6.fraghdr.offset": 0, "ipv6.fraghdr.reserved_bits": 0,
                "ipv6.fraghdr.more": 0, "ipv6.fraghdr.ident": 0}


register_builder(IPv6Builder())
register_builder(OptionsBuilder(HOP_BY_HOP))
register_builder(OptionsBuilder(DEST_OPTIONS))
register_builder(RoutingBuilder())
register_builder(FragmentBuilder())

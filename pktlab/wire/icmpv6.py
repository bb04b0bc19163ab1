"""ICMPv6 (RFC 4443) with Neighbor Discovery (RFC 4861) and Multicast Listener Discovery.

The type, code and checksum (RFC 4443 section 2.1) are one declaration; each message type's
rest of header is a second declaration in ``layer.extra_headers``: echo (section 4), the four
error messages (section 3), Router and Neighbor Solicitation and Advertisement and Redirect
(RFC 4861 section 4), MLDv1 (RFC 2710 section 3) and MLDv2 queries and reports (RFC 3810
section 5). The checksum covers the IPv6 pseudo-header with next header 58 and the message
length (RFC 4443 section 2.3, RFC 8200 section 8.1).

An error message quotes as much of the invoking packet as fits (RFC 4443 section 2.4 (c)); it
is dissected as ``quoted`` layers, whose truncation is expected; a quoted ICMPv6 message's
checksum is not verified (nor is it by Wireshark).

Neighbor Discovery options (RFC 4861 section 4.6) are decoded on first use: link-layer
addresses, prefix information, redirected header, MTU, recursive DNS servers (RFC 8106),
advertisement interval and home agent information (RFC 6275 section 7); other options are kept
raw. An option of length 0 stops the option list and is an error: RFC 4861 section 4.6 has nodes
discard such packets. The validity rules of RFC 4861 (hop limit 255, code 0, target not
multicast, ...) and of MLD (hop limit 1) are warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pktlab.wire._build import Builder, BuildError, Built, register_builder
from pktlab.wire._model import Field, Header, Kind, enum_field, flag, ipv6, mac, raw, uint
from pktlab.wire._options import OptionCodec, OptionKind, data_field
from pktlab.wire._packet import Dissection, Layer, Next, register
from pktlab.wire.checksum import internet_checksum, pseudo_header_v6
from pktlab.wire.ipv6 import EXTENSIONS, pseudo_header

ICMPV6_TYPES = {
    1: "Destination Unreachable", 2: "Packet Too Big", 3: "Time Exceeded",
    4: "Parameter Problem", 100: "Private experimentation", 101: "Private experimentation",
    127: "Reserved for expansion of ICMPv6 error messages", 128: "Echo (ping) request",
    129: "Echo (ping) reply", 130: "Multicast Listener Query", 131: "Multicast Listener Report",
    132: "Multicast Listener Done", 133: "Router Solicitation", 134: "Router Advertisement",
    135: "Neighbor Solicitation", 136: "Neighbor Advertisement", 137: "Redirect",
    138: "Router Renumbering", 139: "Node Information Query", 140: "Node Information Reply",
    141: "Inverse Neighbor Discovery Solicitation",
    142: "Inverse Neighbor Discovery Advertisement", 143: "Multicast Listener Report Message v2",
    144: "Home Agent Address Discovery Request", 145: "Home Agent Address Discovery Reply",
    146: "Mobile Prefix Solicitation", 147: "Mobile Prefix Advertisement",
    148: "Certification Path Solicitation", 149: "Certification Path Advertisement",
    151: "Multicast Router Advertisement", 152: "Multicast Router Solicitation",
    153: "Multicast Router Termination", 155: "RPL Control", 160: "Extended Echo request",
    161: "Extended Echo reply", 200: "Private experimentation", 201: "Private experimentation",
    255: "Reserved for expansion of ICMPv6 informational messages",
}

DEST_UNREACHABLE_CODES = {
    0: "No route to destination",
    1: "Communication with destination administratively prohibited",
    2: "Beyond scope of source address",
    3: "Address unreachable",
    4: "Port unreachable",
    5: "Source address failed ingress/egress policy",
    6: "Reject route to destination",
    7: "Error in Source Routing Header",
    8: "Headers too long",
}
TIME_EXCEEDED_CODES = {0: "Hop limit exceeded in transit",
                       1: "Fragment reassembly time exceeded"}
PARAMETER_PROBLEM_CODES = {
    0: "Erroneous header field encountered",
    1: "Unrecognized Next Header type encountered",
    2: "Unrecognized IPv6 option encountered",
    3: "IPv6 First Fragment has incomplete IPv6 Header Chain",
    4: "SR Upper-layer Header Error",
    5: "Unrecognized Next Header type encountered by intermediate node",
    6: "Extension header too big",
    7: "Extension header chain too long",
    8: "Too many extension headers",
    9: "Too many options in extension header",
    10: "Option too big",
}


def _common(codes: Mapping[int, str] | None = None) -> Header:
    meaning = "Code: the reason, within the type"
    code = (enum_field("icmpv6.code", 8, 8, meaning, codes) if codes is not None
            else uint("icmpv6.code", 8, 8, meaning))
    return Header("icmpv6", "Internet Control Message Protocol v6", [
        enum_field("icmpv6.type", 0, 8, "Message type (below 128: an error)", ICMPV6_TYPES),
        code,
        uint("icmpv6.checksum", 16, 16, "Checksum over the IPv6 pseudo-header and message",
             hex=True),
    ], reference="RFC 4443 section 2.1")


ICMPV6 = _common()
# The code's meaning depends on the type, so the types with named codes get their own copy.
COMMON = {1: _common(DEST_UNREACHABLE_CODES), 3: _common(TIME_EXCEEDED_CODES),
          4: _common(PARAMETER_PROBLEM_CODES)}


def _rest(title: str, reference: str, *fields: Field) -> Header:
    return Header("icmpv6", title, fields, reference=reference)


def _reserved(width: int = 32, at: int = 0) -> Field:
    return raw("icmpv6.reserved", at, width, "Reserved: zero when sent, ignored on receipt")


ECHO = _rest("Echo", "RFC 4443 section 4.1",
             uint("icmpv6.echo.identifier", 0, 16, "Identifier: matches replies to requests",
                  hex=True, aliases=("id",)),
             uint("icmpv6.echo.sequence_number", 16, 16, "Sequence number", aliases=("seq",)))
DEST_UNREACHABLE = _rest("Destination Unreachable", "RFC 4443 section 3.1", _reserved())
PACKET_TOO_BIG = _rest("Packet Too Big", "RFC 4443 section 3.2", uint(
    "icmpv6.mtu", 0, 32, "MTU of the next-hop link, in bytes"))
TIME_EXCEEDED = _rest("Time Exceeded", "RFC 4443 section 3.3", _reserved())
PARAMETER_PROBLEM = _rest("Parameter Problem", "RFC 4443 section 3.4", uint(
    "icmpv6.pointer", 0, 32, "Offset in the invoking packet of the byte in error"))
ROUTER_SOLICITATION = _rest("Router Solicitation", "RFC 4861 section 4.1", _reserved())
ROUTER_ADVERTISEMENT = _rest(
    "Router Advertisement", "RFC 4861 section 4.2",
    uint("icmpv6.nd.ra.cur_hop_limit", 0, 8, "Hop limit hosts should use (0: unspecified)"),
    uint("icmpv6.nd.ra.flag", 8, 8, "Flags", hex=True),
    flag("icmpv6.nd.ra.flag.m", 8, "Managed: addresses come from DHCPv6"),
    flag("icmpv6.nd.ra.flag.o", 9, "Other configuration comes from DHCPv6"),
    flag("icmpv6.nd.ra.flag.h", 10, "Home agent (RFC 6275 section 7.1)"),
    enum_field("icmpv6.nd.ra.flag.prf", 11, 2, "Default router preference (RFC 4191)",
               {0: "Medium", 1: "High", 2: "Reserved", 3: "Low"}),
    flag("icmpv6.nd.ra.flag.p", 13, "Proxy (RFC 4389)"),
    uint("icmpv6.nd.ra.flag.rsv", 14, 2, "Reserved: zero"),
    uint("icmpv6.nd.ra.router_lifetime", 16, 16,
         "Seconds this router is a default router (0: not one)"),
    uint("icmpv6.nd.ra.reachable_time", 32, 32,
         "Milliseconds a neighbour is reachable after a confirmation (0: unspecified)"),
    uint("icmpv6.nd.ra.retrans_timer", 64, 32,
         "Milliseconds between Neighbor Solicitations (0: unspecified)"),
)
NEIGHBOR_SOLICITATION = _rest(
    "Neighbor Solicitation", "RFC 4861 section 4.3", _reserved(),
    ipv6("icmpv6.nd.ns.target_address", 32, "Target: the address being resolved"))
NEIGHBOR_ADVERTISEMENT = _rest(
    "Neighbor Advertisement", "RFC 4861 section 4.4",
    uint("icmpv6.nd.na.flag", 0, 32, "Flags", hex=True),
    flag("icmpv6.nd.na.flag.r", 0, "Router: the sender is a router"),
    flag("icmpv6.nd.na.flag.s", 1, "Solicited: a reply to a Neighbor Solicitation"),
    flag("icmpv6.nd.na.flag.o", 2, "Override: replace a cached link-layer address"),
    uint("icmpv6.nd.na.flag.rsv", 3, 29, "Reserved: zero"),
    ipv6("icmpv6.nd.na.target_address", 32, "Target: the address advertised"))
REDIRECT = _rest(
    "Redirect", "RFC 4861 section 4.5", _reserved(),
    ipv6("icmpv6.nd.rd.target_address", 32, "Target: the better first hop"),
    ipv6("icmpv6.rd.na.destination_address", 160, "Destination being redirected"))
MLD_V1 = _rest(
    "Multicast Listener Discovery", "RFC 2710 section 3",
    uint("icmpv6.mld.maximum_response_delay", 0, 16,
         "Maximum response delay in milliseconds (queries)"),
    _reserved(16, 16),
    ipv6("icmpv6.mld.multicast_address", 32, "Multicast address (:: in a general query)"))
MLD_V2_QUERY = _rest(
    "Multicast Listener Query v2", "RFC 3810 section 5.1",
    uint("icmpv6.mld.maximum_response_code", 0, 16, "Maximum response code"),
    _reserved(16, 16),
    ipv6("icmpv6.mld.multicast_address", 32, "Multicast address (:: in a general query)"),
    uint("icmpv6.mld.flag", 160, 8, "Flags", hex=True),
    uint("icmpv6.mld.flag.reserved", 160, 4, "Reserved: zero"),
    flag("icmpv6.mld.flag.s", 164, "Suppress router-side processing"),
    uint("icmpv6.mld.flag.qrv", 165, 3, "Querier's robustness variable"),
    uint("icmpv6.mld.qqi", 168, 8, "Querier's query interval code"),
    uint("icmpv6.mld.nb_sources", 176, 16, "Number of source addresses that follow"))
MLD_V2_SOURCE = Header("icmpv6.mld.source", "Source address", [
    ipv6("icmpv6.mld.source_address", 0, "A source the query asks about")],
    reference="RFC 3810 section 5.1.10")
MLD_V2_REPORT = _rest(
    "Multicast Listener Report v2", "RFC 3810 section 5.2", _reserved(16),
    uint("icmpv6.mldr.nb_mcast_records", 16, 16, "Number of multicast address records"))
MLD_RECORD = Header("icmpv6.mldr.mar", "Multicast Address Record", [
    enum_field("icmpv6.mldr.mar.record_type", 0, 8, "Record type", {
        1: "Include", 2: "Exclude", 3: "Changed to include", 4: "Changed to exclude",
        5: "Allow new sources", 6: "Block old sources"}),
    uint("icmpv6.mldr.mar.aux_data_len", 8, 8, "Auxiliary data length in 32-bit words"),
    uint("icmpv6.mldr.mar.nb_sources", 16, 16, "Number of source addresses"),
    ipv6("icmpv6.mldr.mar.multicast_address", 32, "The multicast address"),
], reference="RFC 3810 section 5.2.4")
MLD_RECORD_SOURCE = Header("icmpv6.mldr.mar.source", "Source address", [
    ipv6("icmpv6.mldr.mar.source_address", 0, "A source of the record")],
    reference="RFC 3810 section 5.2.10")

REST = {1: DEST_UNREACHABLE, 2: PACKET_TOO_BIG, 3: TIME_EXCEEDED, 4: PARAMETER_PROBLEM,
        128: ECHO, 129: ECHO, 131: MLD_V1, 132: MLD_V1, 133: ROUTER_SOLICITATION,
        134: ROUTER_ADVERTISEMENT, 135: NEIGHBOR_SOLICITATION, 136: NEIGHBOR_ADVERTISEMENT,
        137: REDIRECT, 143: MLD_V2_REPORT}
NDP_SECTIONS = {133: "6.1.1", 134: "6.1.2", 135: "7.1.1", 136: "7.1.2", 137: "8.1"}
TARGETS = {135: "icmpv6.nd.ns.target_address", 136: "icmpv6.nd.na.target_address",
           137: "icmpv6.nd.rd.target_address"}


def rest_header(msg_type: int, length: int) -> Header | None:
    """The rest-of-header declaration of a message type (MLD queries: by length, RFC 3810 8.1)."""
    if msg_type == 130:
        return MLD_V2_QUERY if length >= 28 else MLD_V1
    return REST.get(msg_type)


# ------------------------------------------------------------------ Neighbor Discovery options

OPTION_NAMES = {
    1: "Source link-layer address", 2: "Target link-layer address", 3: "Prefix information",
    4: "Redirected header", 5: "MTU", 6: "NBMA Shortcut Limit Option",
    7: "Advertisement Interval", 8: "Home Agent Information", 14: "Nonce",
    24: "Route Information", 25: "Recursive DNS Server", 26: "RA Flags Extension",
    31: "DNS Search List Option", 37: "DHCP Captive-Portal", 38: "PREF64 Option",
}


def _option(title: str, *more: Field) -> Header:
    return Header("icmpv6.opt", f"ICMPv6 Option ({title})", [
        enum_field("icmpv6.opt.type", 0, 8, "Option type", OPTION_NAMES),
        uint("icmpv6.opt.length", 8, 8, "Length in units of 8 bytes, type and length included"),
        *more,
    ], reference="RFC 4861 section 4.6")


def _opt_reserved(width: int, at: int = 16) -> Field:
    return raw("icmpv6.opt.reserved", at, width, "Reserved: zero")


SOURCE_LINKADDR = _option("Source link-layer address", mac(
    "icmpv6.opt.src_linkaddr", 16, "The sender's link-layer (MAC) address"))
TARGET_LINKADDR = _option("Target link-layer address", mac(
    "icmpv6.opt.target_linkaddr", 16, "The target's link-layer (MAC) address"))
PREFIX_INFORMATION = _option(
    "Prefix information",
    uint("icmpv6.opt.prefix.length", 16, 8, "Prefix length in bits"),
    uint("icmpv6.opt.prefix.flag", 24, 8, "Flags", hex=True),
    flag("icmpv6.opt.prefix.flag.l", 24, "On-link: the prefix is on this link"),
    flag("icmpv6.opt.prefix.flag.a", 25, "Autonomous: use it for address autoconfiguration"),
    flag("icmpv6.opt.prefix.flag.r", 26, "Router address (RFC 6275 section 7.2)"),
    uint("icmpv6.opt.prefix.flag.reserved", 27, 5, "Reserved: zero"),
    uint("icmpv6.opt.prefix.valid_lifetime", 32, 32, "Valid lifetime in seconds"),
    uint("icmpv6.opt.prefix.preferred_lifetime", 64, 32, "Preferred lifetime in seconds"),
    _opt_reserved(32, 96),
    ipv6("icmpv6.opt.prefix", 128, "The prefix"),
)
REDIRECTED_HEADER = _option("Redirected header", _opt_reserved(48))
MTU = _option("MTU", _opt_reserved(16), uint(
    "icmpv6.opt.mtu", 32, 32, "The link's MTU in bytes"))
RDNSS = _option("Recursive DNS Server", _opt_reserved(16), uint(
    "icmpv6.opt.rdnss.lifetime", 32, 32, "Seconds the servers may be used"))
RDNSS_ITEM = Header("icmpv6.opt.rdnss.item", "Recursive DNS server", [
    ipv6("icmpv6.opt.rdnss", 0, "A recursive DNS server address")],
    reference="RFC 8106 section 5.1")
ADVERTISEMENT_INTERVAL = _option("Advertisement Interval", _opt_reserved(16), uint(
    "icmpv6.opt.advertisement_interval", 32, 32,
    "Maximum milliseconds between unsolicited Router Advertisements"))
HOME_AGENT_INFORMATION = _option(
    "Home Agent Information", _opt_reserved(16),
    uint("icmpv6.opt.home_agent_preference", 32, 16, "Home agent preference"),
    uint("icmpv6.opt.home_agent_lifetime", 48, 16, "Home agent lifetime in seconds"))
UNKNOWN_OPTION = _option("Unknown")


def _check_prefix(layer: Layer) -> None:
    fields = layer.fields
    if fields["icmpv6.opt.prefix.length"] > 128:
        layer.warn(f"prefix length {fields['icmpv6.opt.prefix.length']} exceeds 128 "
                   "(RFC 4861 section 4.6.2)", "icmpv6.opt.prefix.length")
    valid = fields["icmpv6.opt.prefix.valid_lifetime"]
    preferred = fields["icmpv6.opt.prefix.preferred_lifetime"]
    if preferred > valid:
        layer.warn(f"preferred lifetime {preferred} exceeds valid lifetime {valid}: hosts "
                   "ignore this prefix (RFC 4862 section 5.5.3)",
                   "icmpv6.opt.prefix.preferred_lifetime")


def _padding(header: Header) -> Field:
    # A link-layer address longer than 6 bytes (other link types) leaves the rest as padding.
    return data_field(header, "icmpv6.opt.padding", "Bytes after the address, to whole units")


NDP_OPTIONS = OptionCodec(
    "icmpv6",
    [
        OptionKind(1, "src_linkaddr", SOURCE_LINKADDR, data=_padding(SOURCE_LINKADDR)),
        OptionKind(2, "target_linkaddr", TARGET_LINKADDR, data=_padding(TARGET_LINKADDR)),
        OptionKind(3, "prefix_info", PREFIX_INFORMATION, length=32, check=_check_prefix),
        OptionKind(4, "redirected_header", REDIRECTED_HEADER, show_empty=True, data=data_field(
            REDIRECTED_HEADER, "icmpv6.opt.redirected_packet",
            "As much of the redirected packet as fits (RFC 4861 section 4.6.3)")),
        OptionKind(5, "mtu", MTU, length=8),
        OptionKind(7, "adv_interval", ADVERTISEMENT_INTERVAL, length=8),
        OptionKind(8, "home_agent_info", HOME_AGENT_INFORMATION, length=8),
        OptionKind(25, "rdnss", RDNSS, repeat=RDNSS_ITEM),
    ],
    kind_field=UNKNOWN_OPTION.by_name["icmpv6.opt.type"],
    length_field=UNKNOWN_OPTION.by_name["icmpv6.opt.length"],
    unknown=OptionKind(-1, "unknown", UNKNOWN_OPTION, show_empty=True, data=data_field(
        UNKNOWN_OPTION, "icmpv6.unknown_data", "The option's data, not interpreted")),
    one_byte={},
    total_length=lambda value: value * 8,
    length_value=lambda total: total // 8,
    reference="RFC 4861 section 4.6",
    align=8,
    zero_length="nodes must silently discard such a packet",
)


# ------------------------------------------------------------------------------ dissection


def _ip_layer(ctx: Dissection) -> Layer | None:
    """The IPv6 header carrying the message being dissected (the last layer)."""
    for layer in reversed(ctx.packet.layers[:-1]):
        if layer.quoted != ctx.quoted:
            return None
        if layer.name == "ipv6":
            return layer
        if layer.name not in EXTENSIONS:
            return None
    return None


SOLICITED_NODE_PREFIX = bytes.fromhex("ff0200000000000000000001ff")  # ff02::1:ff00:0/104


def _link_local(address: bytes) -> bool:
    return address[0] == 0xFE and address[1] & 0xC0 == 0x80


def dissect_icmpv6(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    if end - offset < ICMPV6.size:
        ctx.truncated("icmpv6", ICMPV6, offset, end)
        return None
    msg_type = data[offset]
    fields = COMMON.get(msg_type, ICMPV6).decode(data, offset)
    layer = ctx.add("icmpv6", COMMON.get(msg_type, ICMPV6), offset, end - offset, fields)
    _verify_checksum(ctx, layer, offset, end)
    if ctx.quoted and msg_type < 128:
        layer.warn("an ICMPv6 error message quoted in an ICMPv6 error: errors must not be sent "
                   "in response to errors (RFC 4443 section 2.4 (e.1))", "icmpv6.type")
    rest = rest_header(msg_type, end - offset)
    if rest is None:
        layer.length = ICMPV6.size
        return ("ip.proto", -1, offset + ICMPV6.size, end) if end > offset + 4 else None
    body = offset + ICMPV6.size + rest.size
    if body > end:
        message = (f"{rest.title} of {end - offset} bytes: the fixed part needs "
                   f"{ICMPV6.size + rest.size} ({rest.reference})")
        if ctx.quoted:
            layer.note(message)
        else:
            layer.error(message)
        fields["icmpv6.truncated"] = data[offset + ICMPV6.size:end]
        return None
    fields.update(rest.decode(data, offset + ICMPV6.size))
    layer.extra_headers.append((rest, offset + ICMPV6.size))
    ip_layer = _ip_layer(ctx)
    if msg_type < 128:
        layer.length = body - offset
        _check_error(ctx, layer, ip_layer, end)
        if body < end:
            ctx.quoted = True
            return ("ethertype", 0x86DD, body, end)
        if not ctx.quoted:
            layer.note("the error quotes none of the invoking packet "
                       "(RFC 4443 section 2.4 (c))")
        return None
    if msg_type in NDP_SECTIONS:
        quoted = ctx.quoted
        if not quoted:
            _check_ndp(layer, ip_layer, msg_type, data, offset)

        def decode(lay: Layer) -> None:
            NDP_OPTIONS.parse(lay, data, body, end)
            if not quoted:
                _check_ndp_options(lay, ip_layer, msg_type)

        layer.defer(decode)
        return None
    if rest in (MLD_V1, MLD_V2_QUERY, MLD_V2_REPORT) and not ctx.quoted:
        _check_mld(layer, ip_layer)
    if rest is MLD_V2_QUERY:
        body = _query_sources(ctx, layer, body, end)
    elif rest is MLD_V2_REPORT:
        body = _report_records(ctx, layer, body, end)
    layer.length = body - offset
    # Echo data, and bytes after an MLD message (ignored by receivers), are payload.
    return ("ip.proto", -1, body, end) if body < end else None


def _verify_checksum(ctx: Dissection, layer: Layer, offset: int, end: int) -> None:
    fields = layer.fields
    if ctx.quoted:
        # Wireshark does not verify a quoted message's checksum either: often only part of
        # the message is quoted.
        fields["icmpv6.checksum.status"] = "unverified"
    elif ctx.pseudo is None or not ctx.pseudo[2]:
        fields["icmpv6.checksum.status"] = "unverified"
        layer.note("ICMPv6 outside IPv6: no pseudo-header to verify the checksum with",
                   "icmpv6.checksum")
    else:
        src, dst, _ = ctx.pseudo
        pseudo = pseudo_header_v6(src, dst, 58, end - offset)
        ctx.verify_checksum(layer, "icmpv6.checksum", offset, end, pseudo,
                            complete=ctx.complete, rule="RFC 4443 section 2.3")


def _check_error(ctx: Dissection, layer: Layer, ip_layer: Layer | None, end: int) -> None:
    fields = layer.fields
    if ctx.quoted:
        return
    if fields["icmpv6.type"] == 2 and fields["icmpv6.mtu"] < 1280:
        layer.note(f"MTU {fields['icmpv6.mtu']} is below the IPv6 minimum of 1280; the sender "
                   "keeps using 1280 (RFC 8200 section 5; RFC 8021)", "icmpv6.mtu")
    if ip_layer is not None and end - ip_layer.offset > 1280:
        layer.note(f"the error packet is {end - ip_layer.offset} bytes; it must not exceed "
                   "the minimum MTU of 1280 (RFC 4443 section 2.4 (c))")


def _check_ndp(layer: Layer, ip_layer: Layer | None, msg_type: int, data: bytes,
               offset: int) -> None:
    """RFC 4861 validity rules that do not depend on the options."""
    fields = layer.fields
    section = NDP_SECTIONS[msg_type]
    name = ICMPV6_TYPES[msg_type]
    if fields["icmpv6.code"] != 0:
        layer.warn(f"code {fields['icmpv6.code']} in a {name}, expected 0: receivers discard it "
                   f"(RFC 4861 section {section})", "icmpv6.code")
    target = TARGETS.get(msg_type)
    if target is not None and msg_type != 137 and data[offset + 8] == 0xFF:
        layer.warn(f"target {fields[target]} is a multicast address "
                   f"(RFC 4861 section {section})", target)
    if msg_type == 137 and data[offset + 24] == 0xFF:
        layer.warn(f"redirected destination {fields['icmpv6.rd.na.destination_address']} is a "
                   "multicast address (RFC 4861 section 8.1)", "icmpv6.rd.na.destination_address")
    if ip_layer is None:
        return
    ip = ip_layer.fields
    if ip["ipv6.hlim"] != 255:
        layer.warn(f"hop limit {ip['ipv6.hlim']}, expected 255: a {name} must come from the "
                   f"link itself, and receivers discard it (RFC 4861 section {section})",
                   "ipv6.hlim")
    src = data[ip_layer.offset + 8:ip_layer.offset + 24]
    dst = data[ip_layer.offset + 24:ip_layer.offset + 40]
    if msg_type in (134, 137) and not _link_local(src):
        layer.warn(f"source {ip['ipv6.src']} is not link-local: receivers discard a {name} "
                   f"from it (RFC 4861 section {section})", "ipv6.src")
    if msg_type == 135 and not any(src) and dst[:13] != SOLICITED_NODE_PREFIX:
        layer.warn(f"solicitation from the unspecified address to {ip['ipv6.dst']}, which is "
                   "not a solicited-node multicast address (RFC 4861 section 7.1.1)",
                   "ipv6.dst")
    if msg_type == 136 and dst[0] == 0xFF and fields["icmpv6.nd.na.flag.s"]:
        layer.warn("solicited flag set in an advertisement to a multicast address "
                   "(RFC 4861 section 7.1.2)", "icmpv6.nd.na.flag.s")


def _check_ndp_options(layer: Layer, ip_layer: Layer | None, msg_type: int) -> None:
    """RFC 4861: a message from the unspecified address carries no source link-layer address."""
    if ip_layer is None or msg_type not in (133, 135) or ip_layer.fields["ipv6.src"] != "::":
        return
    for child in layer._children:
        if child._fields.get("icmpv6.opt.type") == 1:
            child.warn(f"a {ICMPV6_TYPES[msg_type]} from the unspecified address must not "
                       f"carry a source link-layer address option (RFC 4861 section "
                       f"{NDP_SECTIONS[msg_type]})", "icmpv6.opt.src_linkaddr")


def _check_mld(layer: Layer, ip_layer: Layer | None) -> None:
    if ip_layer is not None and ip_layer.fields["ipv6.hlim"] != 1:
        layer.warn(f"hop limit {ip_layer.fields['ipv6.hlim']} in an MLD message, expected 1 "
                   "(RFC 2710 section 3; RFC 3810 section 5)", "ipv6.hlim")
    if layer.fields["icmpv6.code"] != 0:
        layer.note(f"code {layer.fields['icmpv6.code']} in an MLD message, expected 0 "
                   "(RFC 3810 section 5)", "icmpv6.code")


def _problem(ctx: Dissection, layer: Layer, message: str, field: str) -> None:
    if ctx.quoted:
        layer.note(message, field)
    else:
        layer.error(message, field)


def _query_sources(ctx: Dissection, layer: Layer, at: int, end: int) -> int:
    count = layer.fields["icmpv6.mld.nb_sources"]
    if at + 16 * count > end:
        _problem(ctx, layer, f"{count} sources need {16 * count} bytes, only {end - at} "
                 "present (RFC 3810 section 5.1.10)", "icmpv6.mld.nb_sources")
        count = (end - at) // 16
    for _ in range(count):
        layer._children.append(Layer(MLD_V2_SOURCE.layer, MLD_V2_SOURCE, at, 16,
                                     MLD_V2_SOURCE.decode(ctx.data, at), ctx.quoted))
        at += 16
    return end if layer.malformed else at


def _report_records(ctx: Dissection, layer: Layer, at: int, end: int) -> int:
    data = ctx.data
    count = layer.fields["icmpv6.mldr.nb_mcast_records"]
    for index in range(count):
        if at + MLD_RECORD.size > end:
            _problem(ctx, layer, f"record {index + 1} of {count} is cut short: "
                     f"{end - at} bytes left (RFC 3810 section 5.2)",
                     "icmpv6.mldr.nb_mcast_records")
            return end
        fields = MLD_RECORD.decode(data, at)
        sources = fields["icmpv6.mldr.mar.nb_sources"]
        aux = fields["icmpv6.mldr.mar.aux_data_len"] * 4
        size = MLD_RECORD.size + 16 * sources + aux
        if at + size > end:
            _problem(ctx, layer, f"record {index + 1} of {count} needs {size} bytes, only "
                     f"{end - at} left (RFC 3810 section 5.2.4)", "icmpv6.mldr.mar.nb_sources")
            return end
        record = Layer(MLD_RECORD.layer, MLD_RECORD, at, size, fields, ctx.quoted)
        source_at = at + MLD_RECORD.size
        for _ in range(sources):
            record._children.append(Layer(MLD_RECORD_SOURCE.layer, MLD_RECORD_SOURCE,
                                          source_at, 16,
                                          MLD_RECORD_SOURCE.decode(data, source_at),
                                          ctx.quoted))
            source_at += 16
        if aux:
            fields["icmpv6.mldr.mar.auxiliary_data"] = data[source_at:source_at + aux]
        layer._children.append(record)
        at += size
    return at


register("icmpv6", dissect_icmpv6, ip_proto=58)


# -------------------------------------------------------------------------------- building


def _zero(f: Field) -> Any:
    if f.kind is Kind.BYTES:
        return b"\0" * (f.bit_width // 8)
    if f.kind is Kind.IPV6:
        return "::"
    return 0


_V2_QUERY_ONLY = frozenset(MLD_V2_QUERY.by_name) - frozenset(MLD_V1.by_name)


class ICMPv6Builder(Builder):
    layer = "icmpv6"
    headers = (ICMPV6, ECHO, DEST_UNREACHABLE, PACKET_TOO_BIG, PARAMETER_PROBLEM,
               ROUTER_SOLICITATION, ROUTER_ADVERTISEMENT, NEIGHBOR_SOLICITATION,
               NEIGHBOR_ADVERTISEMENT, REDIRECT, MLD_V1, MLD_V2_QUERY, MLD_V2_REPORT)
    defaults = {"icmpv6.type": 128, "icmpv6.code": 0}
    keywords = frozenset({"options", "target", "sources", "records"})
    carries_quoted = True
    option_codec = NDP_OPTIONS

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        values = built.values
        try:
            msg_type = ICMPV6.by_name["icmpv6.type"].to_wire(values["icmpv6.type"])
        except ValueError as exc:
            raise BuildError(f"icmpv6: {exc}") from None
        assert isinstance(msg_type, int)
        values["icmpv6.type"] = msg_type
        common = COMMON.get(msg_type, ICMPV6)
        rest = self._rest(msg_type, built)
        if "target" in values:
            if msg_type not in TARGETS:
                raise BuildError(f"icmpv6 type {msg_type} has no target address")
            values.setdefault(TARGETS[msg_type], values["target"])
        allowed = set(common.by_name) | self.keywords | set(rest.by_name if rest else ())
        stray = sorted(name for name in built.user if name not in allowed)
        if stray:
            raise BuildError(f"icmpv6 type {msg_type} ({ICMPV6_TYPES.get(msg_type, 'unknown')})"
                             f" has no field {', '.join(stray)}")
        body = b""
        if rest is not None:
            for f in rest.top:
                values.setdefault(f.name, _zero(f))
            body = self._body(built, msg_type, rest)
            body = self.pack(rest, values) + body
        built.compute("icmpv6.checksum", 0)
        message = self.pack(common, values) + body + payload
        if not built.given("icmpv6.checksum"):
            pseudo = pseudo_header(outer, 58, len(message))
            if pseudo is None:
                raise BuildError("icmpv6.checksum: no IPv6 layer around it to take the "
                                 "pseudo-header from; set icmpv6.checksum explicitly")
            checksum = internet_checksum(pseudo, message)
            values["icmpv6.checksum"] = checksum
            message = message[:2] + checksum.to_bytes(2, "big") + message[4:]
        return message

    def _rest(self, msg_type: int, built: Built) -> Header | None:
        if msg_type == 130:
            v2 = "sources" in built.values or any(n in _V2_QUERY_ONLY for n in built.user)
            return MLD_V2_QUERY if v2 else MLD_V1
        return REST.get(msg_type)

    def _body(self, built: Built, msg_type: int, rest: Header) -> bytes:
        values = built.values
        try:
            if msg_type in NDP_SECTIONS:
                return NDP_OPTIONS.build(values.get("options") or ())
            if rest is MLD_V2_QUERY:
                sources = list(values.get("sources") or ())
                built.compute("icmpv6.mld.nb_sources", len(sources))
                return b"".join(MLD_V2_SOURCE.encode(MLD_V2_SOURCE.wire_values(
                    {"icmpv6.mld.source_address": s})) for s in sources)
            if rest is MLD_V2_REPORT:
                records = list(values.get("records") or ())
                built.compute("icmpv6.mldr.nb_mcast_records", len(records))
                return b"".join(_record(r) for r in records)
        except (KeyError, ValueError) as exc:
            raise BuildError(f"icmpv6: {exc}") from None
        if values.get("options") or values.get("sources") or values.get("records"):
            raise BuildError(f"icmpv6 type {msg_type} carries no options, sources or records")
        return b""

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        values: dict[str, Any] = {}
        fields = layer.fields
        headers = [layer.header] + [h for h, _ in layer.extra_headers]
        for header in headers:
            if header is None:
                continue
            for f in header.top:
                if f.name in fields:
                    values[f.name] = fields[f.name]
        msg_type = fields["icmpv6.type"]
        rest = layer.extra_headers[0][0] if layer.extra_headers else None
        if msg_type in NDP_SECTIONS:
            values["options"] = NDP_OPTIONS.specs(layer.children, fields)
        elif rest is MLD_V2_QUERY:
            values["sources"] = [c.fields["icmpv6.mld.source_address"] for c in layer.children]
        elif rest is MLD_V2_REPORT:
            values["records"] = [_record_values(c) for c in layer.children]
        return values


def _record(spec: Mapping[str, Any]) -> bytes:
    """One MLDv2 multicast address record from ``{record_type, multicast_address, sources,
    aux}`` (keywords or full names); the counts are computed unless given."""
    named = {MLD_RECORD.field(k).name: v for k, v in spec.items()
             if k not in ("sources", "aux")}
    sources = list(spec.get("sources") or ())
    aux = bytes(spec.get("aux", b""))
    if len(aux) % 4:
        raise ValueError(f"auxiliary data of {len(aux)} bytes is not whole 32-bit words")
    named.setdefault("icmpv6.mldr.mar.record_type", 1)
    named.setdefault("icmpv6.mldr.mar.multicast_address", "::")
    named.setdefault("icmpv6.mldr.mar.nb_sources", len(sources))
    named.setdefault("icmpv6.mldr.mar.aux_data_len", len(aux) // 4)
    out = MLD_RECORD.encode(MLD_RECORD.wire_values(named))
    for source in sources:
        out += MLD_RECORD_SOURCE.encode(MLD_RECORD_SOURCE.wire_values(
            {"icmpv6.mldr.mar.source_address": source}))
    return out + aux


def _record_values(record: Layer) -> dict[str, Any]:
    values: dict[str, Any] = {f.name: record.fields[f.name] for f in MLD_RECORD.top}
    values["sources"] = [c.fields["icmpv6.mldr.mar.source_address"] for c in record.children]
    values["aux"] = bytes(record.fields.get("icmpv6.mldr.mar.auxiliary_data", b""))
    return values


register_builder(ICMPv6Builder())

"""ICMP for IPv4 (RFC 792, RFC 1122 section 3.2.2; router discovery RFC 1256; address mask
RFC 950; codes from RFC 1812 section 5.2.7.1 and the IANA registry).

The first four bytes (type, code, checksum) are one declaration; the code's names depend on the
type. The rest of the header, whose layout depends on the type (and for destination unreachable
on the code), is a second declaration in ``layer.extra_headers``: identifier and sequence number
for echo, timestamp, information and address mask messages (``icmp.ident_le`` and
``icmp.seq_le`` are derived as Wireshark shows them), the next-hop MTU of "fragmentation
needed" (RFC 1191), the gateway of a redirect, the pointer of a parameter problem, the counts of
a router advertisement whose address entries become child layers. Types pktlab does not know
keep everything after the checksum as ``data``.

The checksum covers the whole ICMP message (RFC 792); it cannot be verified when the capture
holds less than the IP header announced. An error message (types 3, 4, 5, 11, 12) quotes the
datagram that caused it: the driver dissects the quote as IPv4 and its transport header with
``quoted`` set, where being cut short is normal. Following RFC 1122 section 3.2.2, a quote
shorter than the internet header plus 64 bits, an error about a non-initial fragment, a
multicast or broadcast datagram, or another ICMP error is flagged. RFC 4884 extension
structures are not decoded: they stay inside the quoted bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pktlab.wire._build import Builder, BuildError, Built, register_builder
from pktlab.wire._model import Field, Header, Kind, encode_address, enum_field, ipv4, raw, uint
from pktlab.wire._packet import Dissection, Layer, Next, register
from pktlab.wire.checksum import internet_checksum

ICMP_TYPES = {
    0: "Echo (ping) reply", 1: "Reserved", 2: "Reserved", 3: "Destination unreachable",
    4: "Source quench (flow control)", 5: "Redirect", 6: "Alternate host address",
    8: "Echo (ping) request", 9: "Router advertisement", 10: "Router solicitation",
    11: "Time-to-live exceeded", 12: "Parameter problem", 13: "Timestamp request",
    14: "Timestamp reply", 15: "Information request", 16: "Information reply",
    17: "Address mask request", 18: "Address mask reply", 19: "Reserved (for security)",
    30: "Traceroute", 31: "Datagram Conversion Error", 32: "Mobile Host Redirect",
    33: "IPv6 Where-Are-You", 34: "IPv6 I-Am-Here", 35: "Mobile Registration Request",
    36: "Mobile Registration Reply", 37: "Domain Name Request", 38: "Domain Name Reply",
    39: "SKIP", 40: "Photuris", 41: "Experimental mobility protocols",
}
UNREACHABLE_CODES = {
    0: "Network unreachable", 1: "Host unreachable", 2: "Protocol unreachable",
    3: "Port unreachable", 4: "Fragmentation needed", 5: "Source route failed",
    6: "Destination network unknown", 7: "Destination host unknown",
    8: "Source host isolated", 9: "Network administratively prohibited",
    10: "Host administratively prohibited", 11: "Network unreachable for TOS",
    12: "Host unreachable for TOS", 13: "Communication administratively filtered",
    14: "Host precedence violation", 15: "Precedence cutoff in effect",
}
CODE_NAMES: dict[int, dict[int, str]] = {
    3: UNREACHABLE_CODES,
    5: {0: "Redirect for network", 1: "Redirect for host", 2: "Redirect for TOS and network",
        3: "Redirect for TOS and host"},
    6: {0: "Alternate address for host"},
    9: {0: "Normal router advertisement", 16: "Does not route common traffic"},
    11: {0: "Time to live exceeded in transit", 1: "Fragment reassembly time exceeded"},
    12: {0: "Pointer indicates the error", 1: "Required option missing", 2: "Bad length"},
    40: {0: "Bad SPI", 1: "Authentication Failed", 2: "Decompression Failed",
         3: "Decryption Failed", 4: "Need Authentication", 5: "Need Authorization"},
}
# Messages that quote the offending datagram (RFC 792; RFC 1122 section 3.2.2).
ERROR_TYPES = frozenset({3, 4, 5, 11, 12})
# Types whose only defined code is 0.
CODE_ZERO_TYPES = frozenset({0, 4, 8, 10, 13, 14, 15, 16, 17, 18})
DEPRECATED = {4: "RFC 6633", 6: "RFC 6918", 15: "RFC 6918", 16: "RFC 6918", 17: "RFC 6918",
              18: "RFC 6918", 30: "RFC 6918", 31: "RFC 6918", 32: "RFC 6918", 33: "RFC 6918",
              34: "RFC 6918", 35: "RFC 6918", 36: "RFC 6918", 37: "RFC 6918", 38: "RFC 6918",
              39: "RFC 6918"}

# Scapy's names, accepted when building so that Scapy habits carry over.
SCAPY_TYPES = {"echo-reply": 0, "dest-unreach": 3, "source-quench": 4, "redirect": 5,
               "echo-request": 8, "router-advertisement": 9, "router-solicitation": 10,
               "time-exceeded": 11, "parameter-problem": 12, "timestamp-request": 13,
               "timestamp-reply": 14, "information-request": 15, "information-response": 16,
               "address-mask-request": 17, "address-mask-reply": 18}
SCAPY_CODES: dict[int, dict[str, int]] = {
    3: {"network-unreachable": 0, "host-unreachable": 1, "protocol-unreachable": 2,
        "port-unreachable": 3, "fragmentation-needed": 4, "source-route-failed": 5,
        "network-unknown": 6, "host-unknown": 7, "network-prohibited": 9,
        "host-prohibited": 10, "tos-network-unreachable": 11, "tos-host-unreachable": 12,
        "communication-prohibited": 13, "host-precedence-violation": 14,
        "precedence-cutoff": 15},
    5: {"network-redirect": 0, "host-redirect": 1, "tos-network-redirect": 2,
        "tos-host-redirect": 3},
    11: {"ttl-zero-during-transit": 0, "ttl-zero-during-reassembly": 1},
    12: {"ip-header-bad": 0, "required-option-missing": 1},
}


def _base(code_names: Mapping[int, str] | None) -> Header:
    code: Field
    if code_names is None:
        code = uint("icmp.code", 8, 8, "Code: the reason, within the type")
    else:
        code = enum_field("icmp.code", 8, 8, "Code: the reason, within the type", code_names)
    return Header("icmp", "Internet Control Message Protocol", [
        enum_field("icmp.type", 0, 8, "Type: the kind of message", ICMP_TYPES),
        code,
        uint("icmp.checksum", 16, 16, "Checksum (RFC 1071) over the whole ICMP message",
             hex=True, aliases=("chksum",)),
    ], reference="RFC 792")


ICMP = _base(None)
HEADERS_BY_TYPE = {icmp_type: _base(names) for icmp_type, names in CODE_NAMES.items()}


def _rest(title: str, *fields: Field, reference: str = "RFC 792") -> Header:
    return Header("icmp", title, fields, reference=reference)


def _ident() -> Field:
    return uint("icmp.ident", 0, 16, "Identifier: matches replies to requests",
                aliases=("id",))


def _seq() -> Field:
    return uint("icmp.seq", 16, 16, "Sequence number: matches replies to requests")


def _unused(offset: int, width: int) -> Field:
    return raw("icmp.unused", offset, width, "Unused: zero when sent")


ECHO = _rest("Echo", _ident(), _seq())
INFORMATION = _rest("Information request/reply", _ident(), _seq())
TIMESTAMP = _rest(
    "Timestamp", _ident(), _seq(),
    uint("icmp.originate_timestamp", 32, 32, "Originate timestamp: ms since midnight UT, "
         "when the request was sent", aliases=("ts_ori",)),
    uint("icmp.receive_timestamp", 64, 32, "Receive timestamp: when the echoer got it",
         aliases=("ts_rx",)),
    uint("icmp.transmit_timestamp", 96, 32, "Transmit timestamp: when the reply left",
         aliases=("ts_tx",)),
)
ADDRESS_MASK = _rest("Address mask request/reply", _ident(), _seq(),
                     Field("icmp.address_mask", 32, 32, Kind.IPV4, "Subnet address mask",
                           aliases=("addr_mask",)), reference="RFC 950")
UNREACHABLE = _rest("Destination unreachable", _unused(0, 32))
FRAGMENTATION_NEEDED = _rest(
    "Destination unreachable: fragmentation needed", _unused(0, 16),
    uint("icmp.mtu", 16, 16, "MTU of the next hop (RFC 1191 section 4)",
         aliases=("nexthopmtu",)), reference="RFC 1191 section 4")
SOURCE_QUENCH = _rest("Source quench", _unused(0, 32))
TIME_EXCEEDED = _rest("Time exceeded", _unused(0, 32))
REDIRECT = _rest("Redirect", Field("icmp.redir_gw", 0, 32, Kind.IPV4,
                                   "Gateway to send the traffic to instead",
                                   aliases=("gw",)))
PARAMETER_PROBLEM = _rest("Parameter problem",
                          uint("icmp.pointer", 0, 8, "Pointer: the byte where the error is",
                               aliases=("ptr",)), _unused(8, 24))
ROUTER_ADVERTISEMENT = _rest(
    "Router advertisement",
    uint("icmp.num_addrs", 0, 8, "Number of router addresses advertised"),
    uint("icmp.addr_entry_size", 8, 8, "32-bit words per address entry (2)"),
    uint("icmp.lifetime", 16, 16, "Seconds the addresses may be considered valid"),
    reference="RFC 1256 section 3")
ROUTER_SOLICITATION = _rest("Router solicitation",
                            raw("icmp.reserved", 0, 32, "Reserved: zero when sent"),
                            reference="RFC 1256 section 3")
ROUTER_ENTRY = Header("icmp.router", "Router address entry", [
    ipv4("icmp.router_address", 0, "A router address on the sending interface"),
    uint("icmp.pref_level", 32, 32,
         "Preference: a signed number, higher is better; 0x80000000 means never use"),
], reference="RFC 1256 section 3")

REST_HEADERS = (ECHO, INFORMATION, TIMESTAMP, ADDRESS_MASK, UNREACHABLE, FRAGMENTATION_NEEDED,
                SOURCE_QUENCH, TIME_EXCEEDED, REDIRECT, PARAMETER_PROBLEM, ROUTER_ADVERTISEMENT,
                ROUTER_SOLICITATION)
_REST_BY_TYPE = {0: ECHO, 8: ECHO, 3: UNREACHABLE, 4: SOURCE_QUENCH, 5: REDIRECT,
                 9: ROUTER_ADVERTISEMENT, 10: ROUTER_SOLICITATION, 11: TIME_EXCEEDED,
                 12: PARAMETER_PROBLEM, 13: TIMESTAMP, 14: TIMESTAMP, 15: INFORMATION,
                 16: INFORMATION, 17: ADDRESS_MASK, 18: ADDRESS_MASK}


def rest_header(icmp_type: int, code: int) -> Header | None:
    """The declaration of the bytes after the checksum, for one type and code."""
    if icmp_type == 3 and code == 4:
        return FRAGMENTATION_NEEDED
    return _REST_BY_TYPE.get(icmp_type)


def _signed32(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


def dissect_icmp(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    if end - offset < ICMP.size:
        ctx.truncated("icmp", ICMP, offset, end)
        return None
    fields = ICMP.decode(data, offset)
    icmp_type, code = fields["icmp.type"], fields["icmp.code"]
    rest = rest_header(icmp_type, code)
    need = ICMP.size + (rest.size if rest is not None else 0)
    available = end - offset
    layer = ctx.add("icmp", HEADERS_BY_TYPE.get(icmp_type, ICMP), offset, min(need, available),
                    fields)
    if ctx.quoted:
        fields["icmp.checksum.status"] = "unverified"
    else:
        ctx.verify_checksum(layer, "icmp.checksum", offset, end, complete=ctx.complete,
                            rule="RFC 792")
    _check_type(ctx, layer, icmp_type, code)
    if rest is None:
        return ("ip.proto", -1, offset + ICMP.size, end)
    at = offset + ICMP.size
    layer.extra_headers.append((rest, at))
    if available < need:
        _partial(ctx, layer, rest, at, end)
        _little_endian(fields)
        return None
    fields.update(rest.decode(data, at))
    _little_endian(fields)
    if rest is ROUTER_ADVERTISEMENT:
        _router_entries(ctx, layer, fields, offset + need, end)
    if icmp_type in ERROR_TYPES:
        return _quote(ctx, layer, offset + need, end)
    if offset + layer.length < end:
        return ("ip.proto", -1, offset + layer.length, end)
    return None


def _little_endian(fields: dict[str, Any]) -> None:
    # Wireshark shows identifier and sequence number in both byte orders: some stacks
    # (Windows) count them in little endian.
    for name in ("icmp.ident", "icmp.seq"):
        value = fields.get(name)
        if value is not None:
            fields[name + "_le"] = (value & 0xFF) << 8 | value >> 8


def _partial(ctx: Dissection, layer: Layer, rest: Header, at: int, end: int) -> None:
    """A rest of header cut short: decode the fields that are whole, flag the rest."""
    have = end - at
    padded = ctx.data[at:end] + bytes(rest.size - have)
    decoded = rest.decode(padded, 0)
    missing: list[str] = []
    for f in rest.fields:
        if f.bit_offset + f.bit_width <= have * 8:
            layer.fields[f.name] = decoded[f.name]
        else:
            missing.append(f.name)
    message = (f"{rest.title}: only {have} of the {rest.size} bytes after the checksum, "
               f"{', '.join(missing)} missing")
    if ctx.quoted:
        layer.note(message + " from the quote", missing[0])
    else:
        layer.error(message + " (RFC 792)", missing[0])


def _check_type(ctx: Dissection, layer: Layer, icmp_type: int, code: int) -> None:
    if icmp_type not in ICMP_TYPES:
        layer.note(f"unknown type {icmp_type}: the message body is kept as data", "icmp.type")
        return
    names = CODE_NAMES.get(icmp_type)
    if names is not None and code not in names:
        layer.note(f"code {code} is not defined for type {icmp_type} "
                   f"({ICMP_TYPES[icmp_type]})", "icmp.code")
    elif icmp_type in CODE_ZERO_TYPES and code:
        layer.note(f"code {code} for type {icmp_type} ({ICMP_TYPES[icmp_type]}), "
                   "expected 0 (RFC 792)", "icmp.code")
    if icmp_type in DEPRECATED:
        layer.note(f"type {icmp_type} ({ICMP_TYPES[icmp_type]}) is deprecated "
                   f"({DEPRECATED[icmp_type]})", "icmp.type")
    if ctx.quoted and icmp_type in ERROR_TYPES:
        layer.warn("an ICMP error about an ICMP error: RFC 1122 section 3.2.2 forbids sending "
                   "one", "icmp.type")


def _router_entries(ctx: Dissection, layer: Layer, fields: dict[str, Any], at: int,
                    end: int) -> None:
    count, size = fields["icmp.num_addrs"], fields["icmp.addr_entry_size"]
    if count == 0:
        layer.warn("router advertisement with no addresses (RFC 1256 section 5.1: at least "
                   "one)", "icmp.num_addrs")
    if size != 2:
        layer.warn(f"address entry size {size} words, expected 2 (RFC 1256 section 3): "
                   "entries kept as data", "icmp.addr_entry_size")
        return
    data = ctx.data
    for index in range(count):
        if at + ROUTER_ENTRY.size > end:
            message = (f"{count} address entries announced, only {index} fit in the "
                       f"message (RFC 1256 section 3)")
            if ctx.quoted:
                layer.note(message, "icmp.num_addrs")
            else:
                layer.error(message, "icmp.num_addrs")
            break
        entry = ROUTER_ENTRY.decode(data, at)
        entry["icmp.pref_level"] = _signed32(entry["icmp.pref_level"])
        layer.children.append(Layer(ROUTER_ENTRY.layer, ROUTER_ENTRY, at, ROUTER_ENTRY.size,
                                    entry, ctx.quoted))
        at += ROUTER_ENTRY.size
    layer.length = at - layer.offset


def _quote(ctx: Dissection, layer: Layer, start: int, end: int) -> Next | None:
    """Hand the quoted datagram to the IPv4 dissector, checking RFC 1122 section 3.2.2."""
    if ctx.quoted:
        # An error inside an error's quote: the quote of the quote stays data.
        return ("ip.proto", -1, start, end) if start < end else None
    data = ctx.data
    quoted = end - start
    if quoted and data[start] >> 4 == 4:
        want = (data[start] & 0x0F) * 4 + 8
        if quoted < want and ctx.complete:
            layer.warn(f"the quote holds {quoted} bytes, less than the internet header plus "
                       f"64 bits of data ({want} bytes) RFC 792 asks for", "icmp.type")
    if quoted >= 20 and data[start] >> 4 == 4:
        if int.from_bytes(data[start + 6:start + 8], "big") & 0x1FFF:
            layer.warn("error about a fragment other than the first: RFC 1122 section 3.2.2 "
                       "forbids it", "icmp.type")
        first = data[start + 16]
        if 224 <= first <= 239 or data[start + 16:start + 20] == b"\xff\xff\xff\xff":
            layer.warn("error about a multicast or broadcast datagram: RFC 1122 section 3.2.2 "
                       "forbids it", "icmp.type")
    if not quoted:
        layer.warn("an error message without the datagram it is about (RFC 792)", "icmp.type")
        return None
    ctx.quoted = True
    return ("ethertype", 0x0800, start, end)


register("icmp", dissect_icmp, ip_proto=1)


def _zero(f: Field) -> Any:
    if f.kind is Kind.IPV4:
        return "0.0.0.0"
    if f.kind is Kind.BYTES:
        return bytes(f.bit_width // 8)
    return 0


class ICMPBuilder(Builder):
    """Builds ICMP. Defaults follow Scapy's ``ICMP()``: an echo request, identifier and
    sequence number 0. The rest-of-header fields are those of the type (and code) built; an
    error's quoted datagram is the payload: ``icmp(type=3, code=3) / ip(...) / udp(...)``.
    Router advertisement entries are ``entries=[(address, preference), ...]``.
    """

    layer = "icmp"
    headers = (ICMP, *REST_HEADERS)
    defaults = {"icmp.type": 8, "icmp.code": 0}
    keywords = frozenset({"entries"})
    carries_quoted = True

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        values = built.values
        icmp_type = self._number(values, ICMP.by_name["icmp.type"], SCAPY_TYPES)
        header = HEADERS_BY_TYPE.get(icmp_type, ICMP)
        code = self._number(values, header.by_name["icmp.code"], SCAPY_CODES.get(icmp_type, {}))
        rest = rest_header(icmp_type, code)
        allowed = set(header.by_name) | self.keywords
        if rest is not None:
            allowed |= set(rest.by_name)
        stray = sorted(name for name in built.user if name not in allowed)
        if stray:
            known = ", ".join(sorted(header.short(f) for f in [*header.fields, *(
                rest.fields if rest is not None else ())]))
            raise BuildError(f"icmp type {icmp_type} code {code} has no field "
                             f"{', '.join(stray)}; its fields are: {known}")
        body = b""
        if rest is not None:
            for f in rest.top:
                values.setdefault(f.name, _zero(f))
            entries = self._entries(values.get("entries") or ())
            if rest is ROUTER_ADVERTISEMENT:
                built.compute("icmp.num_addrs", len(entries) // ROUTER_ENTRY.size)
                built.compute("icmp.addr_entry_size", 2)
            elif entries:
                raise BuildError("icmp: entries are only for router advertisements (type 9)")
            body = self.pack(rest, values) + entries
        built.compute("icmp.checksum", 0)
        message = self.pack(header, values) + body + payload
        if not built.given("icmp.checksum"):
            checksum = internet_checksum(message)
            values["icmp.checksum"] = checksum
            message = message[:2] + checksum.to_bytes(2, "big") + message[4:]
        return message

    @staticmethod
    def _number(values: dict[str, Any], f: Field, aliases: Mapping[str, int]) -> int:
        value = values[f.name]
        if isinstance(value, str) and value.strip().lower() in aliases:
            value = aliases[value.strip().lower()]
        try:
            number = f.parse_number(value)
        except ValueError as exc:
            raise BuildError(f"icmp: {exc}") from None
        values[f.name] = number
        return number

    def _entries(self, entries: Any) -> bytes:
        out = b""
        for entry in entries:
            if isinstance(entry, Mapping):
                address, preference = entry["router_address"], entry.get("pref_level", 0)
            else:
                address, preference = entry
            if not -(1 << 31) <= preference < (1 << 32):
                raise BuildError(f"icmp.pref_level: {preference} does not fit in 32 bits")
            try:
                out += encode_address(Kind.IPV4, address, "icmp.router_address")
            except ValueError as exc:
                raise BuildError(f"icmp: {exc}") from None
            out += (preference & 0xFFFFFFFF).to_bytes(4, "big")
        return out

    def layer_values(self, layer: Layer) -> dict[str, Any]:
        values = super().layer_values(layer)
        entries = [(child.fields["icmp.router_address"], child.fields["icmp.pref_level"])
                   for child in layer.children if child.header is ROUTER_ENTRY]
        if entries:
            values["entries"] = entries
        return values


register_builder(ICMPBuilder())

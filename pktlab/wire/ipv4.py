"""IPv4 (RFC 791) with its options, header checksum (RFC 1071) and fragment fields.

Sanity rules follow RFC 791 and RFC 1122 section 3.2.1: version 4, IHL at least 5, total length
at least IHL and within the frame, TTL not zero, the reserved flag clear (RFC 3514 aside). A
fragment (MF set or a non-zero offset) carries part of an upper-layer packet, so its payload is
kept as ``data`` until the capture-level reassembler puts the pieces together.
"""

from __future__ import annotations

from pktlab.wire._build import Builder, Built, register_builder
from pktlab.wire._model import Header, enum_field, flag, ipv4, uint
from pktlab.wire._packet import Dissection, Next, register
from pktlab.wire.checksum import internet_checksum
from pktlab.wire.ipv4_options import IPV4_OPTIONS

IP_PROTOCOLS = {
    0: "IPv6 Hop-by-Hop",
    1: "ICMP",
    2: "IGMP",
    4: "IPv4",
    6: "TCP",
    17: "UDP",
    41: "IPv6",
    43: "IPv6 Routing",
    44: "IPv6 Fragment",
    47: "GRE",
    50: "ESP",
    51: "AH",
    58: "ICMPv6",
    59: "IPv6 No Next Header",
    60: "IPv6 Destination Options",
    132: "SCTP",
}

IPV4 = Header(
    "ip",
    "Internet Protocol Version 4",
    [
        uint("ip.version", 0, 4, "Version: 4 for IPv4"),
        uint("ip.hdr_len", 4, 4, "Header length in bytes (the field counts 32-bit words)",
             scale=4),
        uint("ip.dsfield", 8, 8, "Differentiated services field (DSCP and ECN)", hex=True),
        uint("ip.dsfield.dscp", 8, 6, "DSCP: the per-hop behaviour (RFC 2474)"),
        uint("ip.dsfield.ecn", 14, 2, "ECN codepoint (RFC 3168)"),
        uint("ip.len", 16, 16, "Total length: header plus payload, in bytes"),
        uint("ip.id", 32, 16, "Identification: ties the fragments of one datagram together",
             hex=True),
        uint("ip.flags", 48, 3, "Flags: reserved, don't fragment, more fragments", hex=True),
        flag("ip.flags.rb", 48, "Reserved bit: must be zero"),
        flag("ip.flags.df", 49, "Don't fragment: routers must drop rather than fragment"),
        flag("ip.flags.mf", 50, "More fragments: this is not the last fragment"),
        uint("ip.frag_offset", 51, 13,
             "Fragment offset in 8-byte units: where this piece sits in the datagram"),
        uint("ip.ttl", 64, 8, "Time to live: hops left before a router discards the packet"),
        enum_field("ip.proto", 72, 8, "Protocol carried in the payload", IP_PROTOCOLS),
        uint("ip.checksum", 80, 16, "Header checksum (RFC 1071) over the header only",
             hex=True),
        ipv4("ip.src", 96, "Source address"),
        ipv4("ip.dst", 128, "Destination address"),
    ],
    reference="RFC 791 section 3.1",
)


def dissect_ipv4(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    if end - offset < IPV4.size:
        ctx.truncated("ip", IPV4, offset, end)
        return None
    fields = IPV4.decode(data, offset)
    hdr_len = fields["ip.hdr_len"]
    layer = ctx.add("ip", IPV4, offset, IPV4.size, fields)
    if fields["ip.version"] != 4:
        layer.error(f"version {fields['ip.version']} in an IPv4 header, expected 4", "ip.version")
        return None
    if hdr_len < 20:
        layer.error(f"header length {hdr_len} bytes is below the minimum of 20 (IHL >= 5)",
                    "ip.hdr_len")
        return None
    if offset + hdr_len > end:
        message = f"header length {hdr_len} bytes runs past the captured data "
        message += f"({end - offset} bytes)"
        if ctx.quoted:
            layer.note(message, "ip.hdr_len")
        else:
            layer.error(message, "ip.hdr_len")
        ctx.verify_checksum(layer, "ip.checksum", offset, end, complete=False)
        return None
    layer.length = hdr_len
    total = fields["ip.len"]
    packet_end = offset + total
    if total == 0 and not ctx.quoted:
        # Segmentation offload hands the capture point a packet before the NIC fills ip.len.
        layer.note("total length 0: probably a TSO/GSO packet captured before segmentation",
                   "ip.len")
        packet_end = end
    elif total < hdr_len:
        layer.error(f"total length {total} is less than the header length {hdr_len}", "ip.len")
        packet_end = offset + hdr_len
    elif packet_end > end:
        if ctx.quoted:
            layer.note(f"the ICMP error quotes {end - offset} of {total} bytes", "ip.len")
        elif len(data) < packet_end and ctx.network_end is None and _frame_truncated(ctx):
            layer.note(f"total length {total}: only {end - offset} bytes were captured",
                       "ip.len")
            ctx.missing = packet_end - end
        else:
            layer.error(f"total length {total} exceeds the {end - offset} bytes available",
                        "ip.len")
        ctx.complete = False
        packet_end = end
    ctx.verify_checksum(layer, "ip.checksum", offset, offset + hdr_len,
                        rule="RFC 791 section 3.1")
    if hdr_len > 20:
        layer.defer(lambda lay: IPV4_OPTIONS.parse(lay, data, offset + 20, offset + hdr_len))
    if fields["ip.ttl"] == 0 and not ctx.quoted:
        layer.warn("TTL 0: a router must not forward this packet (RFC 1122 3.2.1.7)", "ip.ttl")
    if fields["ip.flags.rb"]:
        layer.warn("reserved flag bit set; it must be zero (RFC 791 section 3.1)",
                   "ip.flags.rb")
    if ctx.network_end is None and not ctx.quoted:
        ctx.network_end = packet_end
    destination = data[offset + 16:offset + 20]
    if hdr_len > 20:
        destination = final_destination(data, offset + 20, offset + hdr_len) or destination
    ctx.pseudo = (data[offset + 12:offset + 16], destination, False)
    if fields["ip.flags.mf"] or fields["ip.frag_offset"]:
        layer.note(f"fragment at byte offset {fields['ip.frag_offset'] * 8}"
                   f"{' (more follow)' if fields['ip.flags.mf'] else ' (last)'}: the payload "
                   "is part of a datagram that must be reassembled", "ip.frag_offset")
        if fields["ip.frag_offset"]:
            return ("ip.proto", -1, offset + hdr_len, packet_end)
        ctx.complete = False
    return ("ip.proto", fields["ip.proto"], offset + hdr_len, packet_end)


def final_destination(data: bytes, start: int, end: int) -> bytes | None:
    """The last address of a loose or strict source route option, if the header has one.

    The TCP and UDP pseudo-headers use the final destination, not the next hop in ip.dst
    (RFC 9293 section 3.1, RFC 1122 section 4.1.3.4; RFC 791 source routing rewrites ip.dst).
    """
    offset = start
    found: list[bytes] = []
    while offset < end:
        kind = data[offset]
        if kind == 0:
            break
        if kind == 1:
            offset += 1
            continue
        if offset + 1 >= end or data[offset + 1] < 2 or offset + data[offset + 1] > end:
            break
        length = data[offset + 1]
        if kind in (131, 137) and length >= 7 and (length - 3) % 4 == 0:
            found.append(data[offset + length - 4:offset + length])
        offset += length
    # RFC 791 allows one source route; with several the header is broken and, as Scapy does,
    # ip.dst is used.
    return found[0] if len(found) == 1 else None


def _frame_truncated(ctx: Dissection) -> bool:
    """Whether the capture cut the frame short (snaplen) rather than the header lying."""
    return ctx.packet.orig_len > len(ctx.data)


register("ip", dissect_ipv4, ethertype=0x0800, linktype=228, ip_proto=4)


class IPv4Builder(Builder):
    option_codec = IPV4_OPTIONS
    layer = "ip"
    headers = (IPV4,)
    selector = ("ip.proto", "ip.proto")
    defaults = {
        "ip.version": 4, "ip.dsfield": 0, "ip.id": 1, "ip.flags": 0, "ip.frag_offset": 0,
        "ip.ttl": 64, "ip.proto": 0, "ip.src": "127.0.0.1", "ip.dst": "127.0.0.1",
    }
    keywords = frozenset({"options"})

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        values = built.values
        options = IPV4_OPTIONS.build(values.get("options") or ())
        if len(options) % 4:
            options += b"\0" * (4 - len(options) % 4)  # pad with EOL to a 32-bit boundary
        hdr_len = 20 + len(options)
        built.compute("ip.hdr_len", hdr_len)
        built.compute("ip.len", hdr_len + len(payload))
        built.compute("ip.checksum", 0)
        header = self.pack(IPV4, values) + options
        if not built.given("ip.checksum"):
            checksum = internet_checksum(header)
            header = header[:10] + checksum.to_bytes(2, "big") + header[12:]
            values["ip.checksum"] = checksum
        return header + payload


register_builder(IPv4Builder())

"""UDP (RFC 768), with the checksum over the IPv4 or IPv6 pseudo-header.

Over IPv4 a zero checksum means the sender did not compute one (status ``unverified``); over
IPv6 it is illegal (RFC 8200 section 8.1). A computed checksum of zero is sent as 0xFFFF.
"""

from __future__ import annotations

from pktlab.wire._build import Builder, Built, register_builder
from pktlab.wire._model import Header, uint
from pktlab.wire._packet import Dissection, Next, register
from pktlab.wire.checksum import pseudo_header_v4, pseudo_header_v6
from pktlab.wire.tcp import transport_checksum

UDP = Header(
    "udp",
    "User Datagram Protocol",
    [
        uint("udp.srcport", 0, 16, "Source port: where replies go", aliases=("sport",)),
        uint("udp.dstport", 16, 16, "Destination port: selects the receiving socket",
             aliases=("dport",)),
        uint("udp.length", 32, 16, "Length of header and data in bytes"),
        uint("udp.checksum", 48, 16, "Checksum over pseudo-header, header and data (0: none)",
             hex=True),
    ],
    reference="RFC 768",
)


def dissect_udp(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    if end - offset < UDP.size:
        ctx.truncated("udp", UDP, offset, end)
        return None
    fields = UDP.decode(data, offset)
    layer = ctx.add("udp", UDP, offset, UDP.size, fields)
    length = fields["udp.length"]
    available = end - offset
    complete = ctx.complete
    if length < 8:
        layer.error(f"length {length} is below the 8-byte header", "udp.length")
        length = available
        complete = False
    elif length > available:
        if ctx.quoted or not ctx.complete:
            layer.note(f"length {length}: only {available} bytes present", "udp.length")
        else:
            layer.error(f"length {length} exceeds the {available} bytes the IP layer carries",
                        "udp.length")
        length = available
        complete = False
    elif length < available and not ctx.quoted:
        layer.note(f"length {length} is shorter than the IP payload ({available} bytes)",
                   "udp.length")
    segment_end = offset + length
    no_checksum_v4 = fields["udp.checksum"] == 0 and not (ctx.pseudo and ctx.pseudo[2])
    if ctx.pseudo is None or no_checksum_v4 or (ctx.quoted and not complete):
        fields["udp.checksum.status"] = "unverified"
    else:
        src, dst, v6 = ctx.pseudo
        if v6 and fields["udp.checksum"] == 0:
            layer.error("zero checksum is not allowed over IPv6 (RFC 8200 section 8.1)",
                        "udp.checksum")
        pseudo = (pseudo_header_v6 if v6 else pseudo_header_v4)(src, dst, 17, length)
        ctx.verify_checksum(layer, "udp.checksum", offset, segment_end, pseudo,
                            complete=complete, rule="RFC 768")
    if segment_end > offset + 8:
        ports = sorted((fields["udp.srcport"], fields["udp.dstport"]))
        return ("udp.port", (ports[0], ports[1]), offset + 8, segment_end)
    return None


register("udp", dissect_udp, ip_proto=17)


class UDPBuilder(Builder):
    layer = "udp"
    headers = (UDP,)
    defaults = {"udp.srcport": 53, "udp.dstport": 53}

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        built.compute("udp.length", 8 + len(payload))
        built.compute("udp.checksum", 0)
        datagram = self.pack(UDP, built.values) + payload
        if not built.given("udp.checksum"):
            checksum = transport_checksum(outer, 17, datagram, "udp.checksum") or 0xFFFF
            built.values["udp.checksum"] = checksum
            datagram = datagram[:6] + checksum.to_bytes(2, "big") + datagram[8:]
        return datagram


register_builder(UDPBuilder())

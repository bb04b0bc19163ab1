"""TCP header and options (RFC 9293 section 3.1; window scale and timestamps RFC 7323; SACK
RFC 2018; Fast Open RFC 7413; AccECN's AE bit RFC 9768), with the checksum over the IPv4 or
IPv6 pseudo-header.

Sanity rules are warnings, as Wireshark's expert info: SYN with FIN or RST, no flags at all, an
acknowledgement number without ACK, a window scale shift above 14 (RFC 7323 section 2.3).
Options are decoded on first use. Other kinds (MPTCP, user timeout, TCP-AO, experiments) are
kept raw with their kind and length, their data as ``tcp.options.unknown.payload``, and build
from it: ``tcp(options=[(30, bytes.fromhex("0081..."))])``.
"""

from __future__ import annotations

from typing import Any

from pktlab.wire._build import Builder, BuildError, Built, nearest_ip, register_builder
from pktlab.wire._model import Field, Header, Kind, encode_address, flag, uint
from pktlab.wire._options import OptionCodec, OptionKind, data_field
from pktlab.wire._packet import Dissection, Layer, Next, register
from pktlab.wire.checksum import internet_checksum, pseudo_header_v4, pseudo_header_v6

TCP = Header(
    "tcp",
    "Transmission Control Protocol",
    [
        uint("tcp.srcport", 0, 16, "Source port: the sending socket's port", aliases=("sport",)),
        uint("tcp.dstport", 16, 16, "Destination port: selects the receiving socket",
             aliases=("dport",)),
        uint("tcp.seq", 32, 32, "Sequence number of the first data byte (of the SYN if set)"),
        uint("tcp.ack", 64, 32, "Acknowledgement number: the next byte expected, if ACK"),
        uint("tcp.hdr_len", 96, 4, "Header length in bytes (the field counts 32-bit words)",
             scale=4),
        uint("tcp.flags", 100, 12, "Flags", hex=True),
        uint("tcp.flags.res", 100, 3, "Reserved: must be zero"),
        flag("tcp.flags.ae", 103, "AE: Accurate ECN (formerly NS, nonce sum)"),
        flag("tcp.flags.cwr", 104, "CWR: congestion window reduced"),
        flag("tcp.flags.ece", 105, "ECE: ECN echo"),
        flag("tcp.flags.urg", 106, "URG: the urgent pointer is significant"),
        flag("tcp.flags.ack", 107, "ACK: the acknowledgement number is significant"),
        flag("tcp.flags.push", 108, "PSH: push the data to the application"),
        flag("tcp.flags.reset", 109, "RST: reset the connection"),
        flag("tcp.flags.syn", 110, "SYN: synchronise sequence numbers (opening)"),
        flag("tcp.flags.fin", 111, "FIN: no more data from the sender (closing)"),
        uint("tcp.window_size_value", 112, 16,
             "Window: bytes the receiver can accept, before scaling", aliases=("window",)),
        uint("tcp.checksum", 128, 16, "Checksum over pseudo-header, header and data", hex=True),
        uint("tcp.urgent_pointer", 144, 16, "Urgent pointer: offset of the last urgent byte"),
    ],
    reference="RFC 9293 section 3.1",
)

FLAG_LETTERS = {"F": 0x001, "S": 0x002, "R": 0x004, "P": 0x008, "A": 0x010, "U": 0x020,
                "E": 0x040, "C": 0x080, "N": 0x100}
OPTION_NAMES = {0: "EOL", 1: "NOP", 2: "MSS", 3: "Window scale", 4: "SACK permitted",
                5: "SACK", 8: "Timestamps", 28: "User timeout", 29: "TCP-AO", 30: "MPTCP",
                34: "TCP Fast Open"}


def _kind() -> Field:
    return Field("tcp.option_kind", 0, 8, Kind.ENUM, "Option kind", names=OPTION_NAMES)


def _len() -> Field:
    return uint("tcp.option_len", 8, 8, "Option length in bytes, kind and length included")


def _option(layer: str, title: str, *more: Field, one_byte: bool = False) -> Header:
    fields = [_kind()] if one_byte else [_kind(), _len()]
    return Header(layer, f"TCP Option - {title}", [*fields, *more],
                  reference="RFC 9293 section 3.2")


EOL = _option("tcp.options.eol", "End of Option List (EOL)", one_byte=True)
NOP = _option("tcp.options.nop", "No-Operation (NOP)", one_byte=True)
MSS = _option("tcp.options.mss", "Maximum segment size",
              uint("tcp.options.mss_val", 16, 16, "Largest segment the sender can receive"))
WSCALE = _option("tcp.options.wscale", "Window scale",
                 uint("tcp.options.wscale.shift", 16, 8,
                      "Shift count: windows from this side are multiplied by 2**shift"))
SACK_PERM = _option("tcp.options.sack_perm", "SACK permitted")
SACK = _option("tcp.options.sack", "SACK")
SACK_BLOCK = Header("tcp.options.sack.block", "SACK block", [
    uint("tcp.options.sack_le", 0, 32, "Left edge: first sequence number of a received block"),
    uint("tcp.options.sack_re", 32, 32, "Right edge: the sequence number after the block"),
], reference="RFC 2018 section 3")
TIMESTAMP = _option("tcp.options.timestamp", "Timestamps",
                    uint("tcp.options.timestamp.tsval", 16, 32, "Sender's timestamp clock"),
                    uint("tcp.options.timestamp.tsecr", 48, 32,
                         "Echo of the latest timestamp received"))
FAST_OPEN = _option("tcp.options.tfo", "TCP Fast Open")
UNKNOWN = _option("tcp.options.unknown", "Unknown")


def _wscale_extra(layer: Layer) -> None:
    shift = layer._fields["tcp.options.wscale.shift"]
    layer._fields["tcp.options.wscale.multiplier"] = 1 << min(shift, 14)
    if shift > 14:
        layer.warn(f"window scale shift {shift} exceeds 14; 14 is used (RFC 7323 section 2.3)",
                   "tcp.options.wscale.shift")


def _tfo_extra(layer: Layer) -> None:
    # RFC 7413 section 4.1.1: the option without a cookie asks the server for one.
    if "tcp.options.tfo.cookie" not in layer._fields:
        layer._fields["tcp.options.tfo.request"] = 1


def _check_tfo(layer: Layer) -> None:
    cookie = len(layer.fields.get("tcp.options.tfo.cookie", b""))
    if cookie and (not 4 <= cookie <= 16 or cookie % 2):
        layer.warn(f"Fast Open cookie of {cookie} bytes; a cookie is 4 to 16 bytes, an even "
                   "number (RFC 7413 section 4.1.1)", "tcp.options.tfo.cookie")


TCP_OPTIONS = OptionCodec(
    "tcp",
    [
        OptionKind(2, "mss", MSS, length=4),
        OptionKind(3, "wscale", WSCALE, length=3, extra=_wscale_extra),
        OptionKind(4, "sack_perm", SACK_PERM, length=2),
        OptionKind(5, "sack", SACK, repeat=SACK_BLOCK),
        OptionKind(8, "ts", TIMESTAMP, length=10),
        OptionKind(34, "tfo", FAST_OPEN, extra=_tfo_extra, check=_check_tfo,
                   data=data_field(FAST_OPEN, "tcp.options.tfo.cookie",
                                   "Fast Open cookie: the server's MAC of the client address")),
    ],
    kind_field=_kind(),
    length_field=_len(),
    unknown=OptionKind(-1, "unknown", UNKNOWN, data=data_field(
        UNKNOWN, "tcp.options.unknown.payload", "The option's data, not interpreted")),
    one_byte={0: OptionKind(0, "eol", EOL), 1: OptionKind(1, "nop", NOP)},
    total_length=lambda value: value,
    length_value=lambda total: total,
    reference="RFC 9293 section 3.1",
    stop_after=0,
)


def flags_text(flags: int) -> str:
    """Wireshark's compact flag string, e.g. ``SYN, ACK``."""
    names = [("AE", 0x100), ("CWR", 0x080), ("ECE", 0x040), ("URG", 0x020), ("ACK", 0x010),
             ("PSH", 0x008), ("RST", 0x004), ("SYN", 0x002), ("FIN", 0x001)]
    return ", ".join(name for name, bit in names if flags & bit)


def dissect_tcp(ctx: Dissection, offset: int, end: int) -> Next | None:
    data = ctx.data
    if end - offset < TCP.size:
        ctx.truncated("tcp", TCP, offset, end)
        return None
    fields = TCP.decode(data, offset)
    hdr_len = fields["tcp.hdr_len"]
    layer = ctx.add("tcp", TCP, offset, TCP.size, fields)
    if hdr_len < 20:
        layer.error(f"header length {hdr_len} bytes is below the minimum of 20 "
                    "(data offset >= 5)", "tcp.hdr_len")
        return None
    if offset + hdr_len > end:
        message = (f"header length {hdr_len} bytes runs past the end of the segment "
                   f"({end - offset} bytes)")
        if ctx.quoted:
            layer.note(message, "tcp.hdr_len")
        else:
            layer.error(message, "tcp.hdr_len")
        return None
    layer.length = hdr_len
    fields["tcp.len"] = end - offset - hdr_len + (0 if ctx.quoted else ctx.missing)
    _check_flags(layer, fields)
    if hdr_len > 20:
        layer.defer(lambda lay: TCP_OPTIONS.parse(lay, data, offset + 20, offset + hdr_len))
    if ctx.pseudo is not None:
        src, dst, v6 = ctx.pseudo
        length = end - offset
        pseudo = (pseudo_header_v6 if v6 else pseudo_header_v4)(src, dst, 6, length)
        ctx.verify_checksum(layer, "tcp.checksum", offset, end, pseudo, complete=ctx.complete,
                            rule="RFC 9293 section 3.1")
    else:
        fields["tcp.checksum.status"] = "unverified"
    if end - offset > hdr_len:
        ports = sorted((fields["tcp.srcport"], fields["tcp.dstport"]))
        return ("tcp.port", (ports[0], ports[1]), offset + hdr_len, end)
    return None


def _check_flags(layer: Layer, fields: dict[str, Any]) -> None:
    flags = fields["tcp.flags"]
    if flags & 0x002 and flags & 0x001:
        layer.warn("SYN and FIN both set: no legal segment opens and closes at once",
                   "tcp.flags")
    if flags & 0x002 and flags & 0x004:
        layer.warn("SYN and RST both set", "tcp.flags")
    if flags & 0xFFF == 0:
        layer.warn("no flags set (a 'null' segment, not part of any connection)", "tcp.flags")
    if fields["tcp.flags.res"]:
        layer.warn("reserved flag bits set; they must be zero", "tcp.flags.res")
    if not flags & 0x010 and fields["tcp.ack"]:
        layer.note("acknowledgement number is non-zero but ACK is not set", "tcp.ack")
    if not flags & 0x020 and fields["tcp.urgent_pointer"]:
        layer.note("urgent pointer is non-zero but URG is not set", "tcp.urgent_pointer")


register("tcp", dissect_tcp, ip_proto=6)


def parse_flags(value: Any) -> int:
    """``"SA"`` or ``"SYN,ACK"`` or 18 -> 0x012. Letters as Scapy: F S R P A U E C N."""
    if isinstance(value, int):
        return value
    text = str(value).strip().upper()
    if text.startswith("0X") or text.isdigit():
        return int(text, 0)
    words = {"FIN": "F", "SYN": "S", "RST": "R", "PSH": "P", "ACK": "A", "URG": "U",
             "ECE": "E", "CWR": "C", "AE": "N", "NS": "N"}
    if "," in text or text in words:
        text = "".join(words.get(w.strip(), "?") for w in text.split(","))
    bits = 0
    for letter in text:
        if letter not in FLAG_LETTERS:
            raise BuildError(f"tcp.flags: {value!r}: unknown flag {letter!r}; use letters "
                             "F S R P A U E C N or names FIN,SYN,RST,PSH,ACK,URG,ECE,CWR,AE")
        bits |= FLAG_LETTERS[letter]
    return bits


def transport_checksum(outer: list[Built], protocol: int, segment: bytes, name: str) -> int:
    """The checksum of a segment under the nearest IP layer's pseudo-header.

    The pseudo-header names the final destination: the last hop of an IPv4 source route
    (RFC 9293 section 3.1) or of an IPv6 routing header (RFC 8200 section 8.1).
    """
    from pktlab.wire.ipv6 import pseudo_header as ipv6_pseudo_header

    ip = nearest_ip(outer)
    if ip is None:
        raise BuildError(f"{name}: no IP layer around it to take the pseudo-header from; "
                         f"set {name} explicitly")
    if ip.layer == "ipv6":
        pseudo = ipv6_pseudo_header(outer, protocol, len(segment))
        assert pseudo is not None
        return internet_checksum(pseudo, segment)
    src = encode_address(Kind.IPV4, ip.values["ip.src"], "ip.src")
    dst = encode_address(Kind.IPV4, ip.values["ip.dst"], "ip.dst")
    if ip.values.get("options"):
        from pktlab.wire.ipv4 import final_destination
        from pktlab.wire.ipv4_options import IPV4_OPTIONS

        encoded = IPV4_OPTIONS.build(ip.values["options"])
        dst = final_destination(encoded, 0, len(encoded)) or dst
    pseudo = pseudo_header_v4(src, dst, protocol, len(segment))
    return internet_checksum(pseudo, segment)


class TCPBuilder(Builder):
    option_codec = TCP_OPTIONS
    layer = "tcp"
    headers = (TCP,)
    defaults = {"tcp.srcport": 20, "tcp.dstport": 80, "tcp.seq": 0, "tcp.ack": 0,
                "tcp.flags": 0x002, "tcp.window_size_value": 8192, "tcp.urgent_pointer": 0}
    keywords = frozenset({"options", "mss", "wscale", "sack_perm", "sackok", "sack", "ts"})

    def emit(self, built: Built, payload: bytes, outer: list[Built]) -> bytes:
        values = built.values
        values["tcp.flags"] = parse_flags(values["tcp.flags"])
        options = list(values.get("options") or ())
        if "mss" in values:
            options.append(("mss", values["mss"]))
        if "wscale" in values:
            options.append(("wscale", values["wscale"]))
        if values.get("sack_perm") or values.get("sackok"):
            options.append("sack_perm")
        if "sack" in values:
            options.append(("sack", values["sack"]))
        if "ts" in values:
            tsval, tsecr = values["ts"]
            options.append(("ts", {"tsval": tsval, "tsecr": tsecr}))
        try:
            encoded = TCP_OPTIONS.build(options)
        except (KeyError, ValueError) as exc:
            raise BuildError(f"tcp options: {exc}") from None
        if len(encoded) % 4:
            encoded += b"\0" * (4 - len(encoded) % 4)  # EOL padding to a 32-bit boundary
        built.compute("tcp.hdr_len", 20 + len(encoded))
        built.compute("tcp.checksum", 0)
        segment = self.pack(TCP, values) + encoded + payload
        if not built.given("tcp.checksum"):
            checksum = transport_checksum(outer, 6, segment, "tcp.checksum")
            values["tcp.checksum"] = checksum
            segment = segment[:16] + checksum.to_bytes(2, "big") + segment[18:]
        return segment


register_builder(TCPBuilder())

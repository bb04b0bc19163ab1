"""The one-line packet summary: source, destination, protocol, length and an info column.

The columns are tshark's default ones (``tshark -r FILE``), computed from one packet alone:

* **Source / Destination**: the addresses of the innermost network layer outside any ICMP
  quote (``ip.src``, ``ipv6.src``), or of the link layer (``eth.src``) when there is none.
* **Protocol**: Wireshark's short name of the highest layer (``TCP``, ``ICMPv6``, ``RARP``);
  a payload nobody dissects (``data``) does not count.
* **Length**: the frame's length on the wire, as tshark's ``frame.len``.
* **Info**: the highest layer's info text, formatted as Wireshark 4.0 formats it.

The info column differs from tshark's where tshark tracks conversations, which a one-packet
summary cannot: sequence and acknowledgement numbers are the **raw** values from the header
(``Seq=928549246``, as ``tshark -o tcp.relative_sequence_numbers:FALSE`` prints them; tshark's
default shows them relative to the first segment), the window is the raw window field (not
scaled by a window scale option seen earlier), and TCP analysis (``[TCP Retransmission]``),
reassembly and request/response matching (``(reply in 2)``) are not done. Fragments are not
reassembled either: a non-first IPv4 fragment is ``Fragmented IP protocol (...)``, as tshark
shows it with ``-o ip.defragment:FALSE``.

Markers follow Wireshark: ``[TCP CHECKSUM INCORRECT]`` after the window, ``[UDP CHECKSUM
INCORRECT]`` after the length, and at the end ``[Malformed Packet]`` for a packet with an error,
or ``[Packet size limited during capture]`` when the capture cut the frame short. pktlab adds a
marker for any other layer whose checksum is bad (``[IPv4 CHECKSUM INCORRECT]``), which
Wireshark leaves to the tree, and puts a space before the end markers, which tshark does not.

The protocol-specific part is two registries keyed by layer name, :data:`INFO` and
:data:`PROTOCOLS`; a new codec registers its formatter with :func:`register_info`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rich.text import Text

from pktlab.render import SEVERITY_STYLES, layer_title
from pktlab.wire._packet import Layer, Packet, Severity


class FrameInfo(Protocol):
    """What the summary needs to know about a frame beyond its bytes (a ``CaptureRecord``)."""

    @property
    def number(self) -> int: ...

    @property
    def time(self) -> str: ...


InfoFormatter = Callable[[Packet, Layer], str]
ProtocolName = str | Callable[[Layer], str]

INFO: dict[str, InfoFormatter] = {}
PROTOCOLS: dict[str, ProtocolName] = {}
# Layers whose info formatter places its own bad-checksum marker, as Wireshark does.
_OWN_CHECKSUM_MARKER: set[str] = set()


def register_info(layer: str, formatter: InfoFormatter, protocol: ProtocolName | None = None,
                  *, checksum_marker: bool = False) -> None:
    """Register the info column of a layer and its protocol column name.

    ``checksum_marker`` says that the formatter writes ``[... CHECKSUM INCORRECT]`` itself.
    """
    INFO[layer] = formatter
    if protocol is not None:
        PROTOCOLS[layer] = protocol
    if checksum_marker:
        _OWN_CHECKSUM_MARKER.add(layer)


_SEVERITY_ORDER = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Summary:
    """One packet in one line. ``severity`` is the worst problem found, if any."""

    number: int | None
    time: str | None
    source: str
    destination: str
    protocol: str
    length: int
    info: str
    severity: Severity | None = None

    def columns(self) -> tuple[str, ...]:
        """The columns as strings: number, time, source, destination, protocol, length, info."""
        number = "" if self.number is None else str(self.number)
        return (number, self.time or "", self.source, self.destination, self.protocol,
                str(self.length), self.info)

    def text(self) -> Text:
        """The summary as tshark prints it, coloured by the worst problem or the protocol."""
        parts = []
        if self.number is not None:
            parts.append(f"{self.number:>5}")
        if self.time is not None:
            parts.append(self.time)
        parts.append(f"{self.source:>15} → {self.destination:<15}")
        parts.append(f"{self.protocol} {self.length} {self.info}")
        style = ""
        if self.severity is not None and self.severity is not Severity.NOTE:
            style = SEVERITY_STYLES[self.severity.value]
        else:
            style = _PROTOCOL_STYLES.get(self.protocol, "")
        return Text(" ".join(parts), style=style)


_PROTOCOL_STYLES = {"TCP": "#87afff", "UDP": "#87d7d7", "ICMP": "#d7afff", "ICMPv6": "#d7afff",
                    "ARP": "#d7d787", "RARP": "#d7d787"}


def summarize(packet: Packet, frame_info: FrameInfo | None = None) -> Summary:
    """The summary line of one dissected packet; never raises."""
    top = _top(packet)
    source, destination = _addresses(packet)
    if top is None:
        data = packet.layers[-1] if packet.layers else None
        protocol = "Data" if data is not None else ""
        info = f"{data.length} bytes" if data is not None else ""
    else:
        protocol = protocol_name(top)
        formatter = INFO.get(top.name)
        try:
            info = formatter(packet, top) if formatter is not None else layer_title(top)
        except (KeyError, TypeError, ValueError, IndexError):
            # A header cut short lacks fields the formatter wants: fall back to its title.
            info = layer_title(top)
    info = info.rstrip() + _markers(packet, top)
    severity: Severity | None = None
    for _, problem in packet.all_problems():
        if severity is None or _SEVERITY_ORDER[problem.severity] > _SEVERITY_ORDER[severity]:
            severity = problem.severity
    return Summary(
        number=frame_info.number if frame_info is not None else None,
        time=frame_info.time if frame_info is not None else None,
        source=source,
        destination=destination,
        protocol=protocol,
        length=packet.orig_len,
        info=info.strip(),
        severity=severity,
    )


def protocol_name(layer: Layer) -> str:
    name = PROTOCOLS.get(layer.name)
    if name is None:
        return layer.name.upper()
    if isinstance(name, str):
        return name
    try:
        return name(layer)
    except (KeyError, TypeError, ValueError):
        return layer.name.upper()


def _top(packet: Packet) -> Layer | None:
    for layer in reversed(packet.layers):
        if not layer.quoted and layer.name != "data":
            return layer
    return None


def _addresses(packet: Packet) -> tuple[str, str]:
    """The innermost addresses, each taken from the last layer that has it.

    As in Wireshark, a network header too broken to trust (wrong version, impossible header
    length) does not set them, and a header cut short sets only what was captured.
    """
    source = destination = ""
    for layer in packet.layers:
        if layer.quoted or not _trusted(layer):
            continue
        fields = layer.fields
        value = fields.get(layer.name + ".src", fields.get(layer.name + ".src.eth"))
        if isinstance(value, str):
            source = value
        value = fields.get(layer.name + ".dst")
        if isinstance(value, str):
            destination = value
        final = _final_destination(layer)
        if final is not None:
            destination = final
    return source, destination


def _trusted(layer: Layer) -> bool:
    name = layer.name
    if any(p.severity is Severity.ERROR and p.field == name + ".version" for p in layer.problems):
        return False
    if name != "ip":
        return True
    fields = layer.fields
    total, hdr_len = fields.get("ip.len", 0), fields.get("ip.hdr_len", 20)
    return hdr_len >= 20 and not 0 < total < hdr_len


def _final_destination(layer: Layer) -> str | None:
    """Where a source route ends, which Wireshark shows as the destination.

    IPv4 marks the last address of a loose or strict source route option ``ip.dst``; an IPv6
    Routing header with segments left ends at its last address (type 0) or at the home
    address (type 2).
    """
    if layer.name == "ip":
        for option in layer.children:
            for item in option.children:
                if isinstance(item.fields.get("ip.dst"), str):
                    return str(item.fields["ip.dst"])
        return None
    if layer.name == "ipv6.routing" and layer.fields.get("ipv6.routing.segleft"):
        home = layer.fields.get("ipv6.routing.mipv6.home_address")
        if isinstance(home, str):
            return home
        for item in reversed(layer.children):
            address = item.fields.get("ipv6.routing.src.addr")
            if isinstance(address, str):
                return address
    return None


def _markers(packet: Packet, top: Layer | None) -> str:
    out = ""
    for layer in packet.layers:
        if layer.quoted or (layer is top and layer.name in _OWN_CHECKSUM_MARKER):
            continue
        if any(name.endswith(".status") and value == "bad"
               for name, value in layer.fields.items()):
            out += f" [{protocol_name(layer)} CHECKSUM INCORRECT]"
    malformed = packet.malformed or any(p.severity is Severity.ERROR for p in packet.problems)
    if malformed:
        if packet.orig_len > len(packet.data):
            out += " [Packet size limited during capture]"
        else:
            out += " [Malformed Packet]"
    return out


def _previous(packet: Packet, layer: Layer, names: tuple[str, ...]) -> Layer | None:
    """The nearest layer before ``layer`` with one of ``names`` (the IP under an ICMP)."""
    index = next((i for i, lay in enumerate(packet.layers) if lay is layer), 0)
    for candidate in reversed(packet.layers[:index]):
        if candidate.name in names and candidate.quoted == layer.quoted:
            return candidate
    return None


# ------------------------------------------------------------------------------ link layers


def _eth_protocol(layer: Layer) -> str:
    fields = layer.fields
    if "eth.type" in fields:
        return f"0x{fields['eth.type']:04x}"
    return "LLC" if "eth.len" in fields else "Ethernet"


def _eth_info(packet: Packet, layer: Layer) -> str:
    if "eth.len" in layer.fields:
        return f"IEEE 802.3 Ethernet, length {layer.fields['eth.len']}"
    return "Ethernet II" if "eth.type" in layer.fields else ""


def _tag_protocol(layer: Layer) -> str:
    etype = layer.fields.get(layer.name + ".etype")
    return f"0x{etype:04x}" if isinstance(etype, int) else "802.1Q"


def _tag_info(packet: Packet, layer: Layer) -> str:
    fields = layer.fields
    name = layer.name
    return (f"PRI: {fields[name + '.priority']} DEI: {fields[name + '.dei']} "
            f"ID: {fields[name + '.id']}")


# ---------------------------------------------------------------------------------- ARP

_ARP_PROTOCOLS = {3: "RARP", 4: "RARP", 5: "DRARP", 6: "DRARP", 7: "DRARP", 8: "Inverse ARP",
                  9: "Inverse ARP", **{op: "MARS" for op in range(11, 23)}}
_MARS = {11: "MARS request", 12: "MARS MULTI request", 13: "MARS MSERV request",
         14: "MARS JOIN request", 15: "MARS LEAVE", 16: "MARS NAK",
         17: "MARS UNSERV request", 18: "MARS SJOIN request", 19: "MARS SLEAVE",
         20: "MARS grouplist request", 21: "MARS grouplist reply", 22: "MARS redirect map",
         23: "MAPOS UNARP request"}


def _arp_protocol(layer: Layer) -> str:
    return _ARP_PROTOCOLS.get(layer.fields.get("arp.opcode", 1), "ARP")


def _arp_address(fields: dict[str, Any], side: str, kind: str) -> str:
    # Wireshark writes addresses of types it does not know as bare hex digits.
    typed = fields.get(f"arp.{side}.{'hw_mac' if kind == 'hw' else 'proto_ipv4'}")
    if isinstance(typed, str):
        return typed
    raw = fields.get(f"arp.{side}.{kind}")
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).hex()
    return "<No address>"


def _arp_info(packet: Packet, layer: Layer) -> str:
    fields = layer.fields
    op = fields["arp.opcode"]
    sha, spa = _arp_address(fields, "src", "hw"), _arp_address(fields, "src", "proto")
    tha, tpa = _arp_address(fields, "dst", "hw"), _arp_address(fields, "dst", "proto")
    if op in (1, 2):
        gratuitous = spa == tpa
        target_hw = fields.get("arp.dst.hw_mac", fields.get("arp.dst.hw"))
        zero_target = target_hw == "00:00:00:00:00:00" or (
            isinstance(target_hw, (bytes, bytearray)) and not any(target_hw))
        if op == 2:
            return f"Gratuitous ARP for {spa} (Reply)" if gratuitous else f"{spa} is at {sha}"
        if gratuitous:
            if zero_target:
                return f"ARP Announcement for {tpa}"
            return f"Gratuitous ARP for {tpa} (Request)"
        if zero_target and spa == "0.0.0.0":
            return f"Who has {tpa}? (ARP Probe)"
        return f"Who has {tpa}? Tell {spa}"
    if op in (3, 5, 8):
        return f"Who is {tha}? Tell {sha}"
    if op in (4, 6):
        return f"{tha} is at {tpa}"
    if op == 9:
        return f"{sha} is at {spa}"
    if op == 7:
        return "DRARP Error"
    if op == 10:
        return "ARP NAK"
    if op in _MARS:
        return f"{_MARS[op]} from {sha} at {spa}"
    if op in (24, 25):
        return f"Experimental {op - 23} ( opcode {op} )"
    if op in (0, 65535):
        return f"Reserved opcode {op}"
    return f"Unknown ARP opcode 0x{op:04x}"


# ---------------------------------------------------------------------------------- IP


def _proto_label(layer: Layer, field: str, value: int) -> str:
    decl = layer.field_decl(field)
    names = decl.names if decl is not None else None
    return (names or {}).get(value, "Unknown")


def _has_error(layer: Layer) -> bool:
    return any(p.severity is Severity.ERROR for p in layer.problems)


def _ipv4_info(packet: Packet, layer: Layer) -> str:
    fields = layer.fields
    if fields["ip.version"] != 4:
        return f"Bogus IPv4 version ({fields['ip.version']}, must be 4)"
    hdr_len = fields["ip.hdr_len"]
    if hdr_len < 20:
        return f"Bogus IP header length ({hdr_len}, must be at least 20)"
    if 0 < fields["ip.len"] < hdr_len:
        return f"Bogus IP length ({fields['ip.len']}, less than header length {hdr_len})"
    if _has_error(layer):
        return ""  # the header is cut short or inconsistent: the end marker says so
    proto = fields["ip.proto"]
    label = _proto_label(layer, "ip.proto", proto)
    if fields["ip.flags.mf"] or fields["ip.frag_offset"]:
        return (f"Fragmented IP protocol (proto={label} {proto}, "
                f"off={fields['ip.frag_offset'] * 8}, ID={fields['ip.id']:04x})")
    return f"{label} ({proto})"


def _ipv6_info(packet: Packet, layer: Layer) -> str:
    fields = layer.fields
    if layer.name == "ipv6" and fields["ipv6.version"] != 6:
        return f"Bogus IPv6 version ({fields['ipv6.version']}, must be 6)"
    if layer.name == "ipv6.fraghdr":
        return (f"IPv6 fragment (off={fields['ipv6.fraghdr.offset'] * 8} "
                f"more={'y' if fields['ipv6.fraghdr.more'] else 'n'} "
                f"ident=0x{fields['ipv6.fraghdr.ident']:08x} "
                f"nxt={fields['ipv6.fraghdr.nxt']})")
    if _has_error(layer):
        return "IPv6 hop-by-hop options" if layer.name == "ipv6.hopopts" else ""
    nxt_field = layer.name + ".nxt"
    nxt = fields[nxt_field]
    return f"Unknown IP Protocol: {_proto_label(layer, nxt_field, nxt)} ({nxt})"


# -------------------------------------------------------------------------------- ICMP

_ICMP_ID_SEQ = frozenset({0, 8, 13, 14, 15, 16, 17, 18})


def _icmp_info(packet: Packet, layer: Layer) -> str:
    fields = layer.fields
    icmp_type = fields["icmp.type"]
    type_decl = layer.field_decl("icmp.type")
    type_names = type_decl.names if type_decl is not None else None
    type_str = (type_names or {}).get(icmp_type, "Unknown ICMP (obsolete or malformed?)")
    code = fields.get("icmp.code")
    if icmp_type == 9 and code in (0, 16):
        type_str = "Mobile IP Advertisement"  # Wireshark's name when Mobile IP may follow
    info = f"{type_str:<20}"
    code_decl = layer.field_decl("icmp.code")
    if code is not None and code_decl is not None and code_decl.names is not None:
        info += f" ({code_decl.names.get(code, f'Unknown code: {code}')})"
    if icmp_type in _ICMP_ID_SEQ and "icmp.seq" in fields:
        info += (f" id=0x{fields['icmp.ident']:04x}, "
                 f"seq={fields['icmp.seq']}/{fields['icmp.seq_le']}")
        ip = _previous(packet, layer, ("ip",))
        if ip is not None and "ip.ttl" in ip.fields:
            info += f", ttl={ip.fields['ip.ttl']}"
    return info


# Wireshark's code texts, which differ from the IANA names pktlab's declarations use.
_ICMPV6_CODES: dict[int, dict[int, str]] = {
    1: {0: "no route to destination", 1: "Administratively prohibited",
        2: "Beyond scope of source address", 3: "Address unreachable", 4: "Port unreachable",
        5: "Source address failed ingress/egress policy", 6: "Reject route to destination",
        7: "Error in Source Routing Header"},
    3: {0: "hop limit exceeded in transit", 1: "fragment reassembly time exceeded"},
    4: {0: "erroneous header field encountered",
        1: "unrecognized Next Header type encountered",
        2: "unrecognized IPv6 option encountered",
        3: "IPv6 First Fragment has incomplete IPv6 Header Chain"},
}


def _ndp_option(layer: Layer, name: str) -> str | None:
    for child in layer.children:
        value = child.fields.get(name)
        if isinstance(value, str):
            return value
    return None


def _icmpv6_info(packet: Packet, layer: Layer) -> str:
    fields = layer.fields
    msg_type = fields["icmpv6.type"]
    decl = layer.field_decl("icmpv6.type")
    type_str = ((decl.names if decl is not None else None) or {}).get(
        msg_type, f"Unknown ({msg_type})")
    code = fields.get("icmpv6.code", 0)
    if msg_type in _ICMPV6_CODES:
        text = _ICMPV6_CODES[msg_type].get(code)
        if text is None:
            text = "Unknown" if msg_type == 1 else f"Unknown ({code})"
        return f"{type_str} ({text})"
    if msg_type in (128, 129) and "icmpv6.echo.sequence_number" in fields:
        info = (f"{type_str} id=0x{fields['icmpv6.echo.identifier']:04x}, "
                f"seq={fields['icmpv6.echo.sequence_number']}")
        ip = _previous(packet, layer, ("ipv6",))
        if ip is not None and "ipv6.hlim" in ip.fields:
            info += f", hop limit={ip.fields['ipv6.hlim']}"
        return info
    if msg_type == 135 and "icmpv6.nd.ns.target_address" in fields:
        info = f"{type_str} for {fields['icmpv6.nd.ns.target_address']}"
        source = _ndp_option(layer, "icmpv6.opt.src_linkaddr")
        return info + (f" from {source}" if source else "")
    if msg_type == 136 and "icmpv6.nd.na.target_address" in fields:
        flags = [text for name, text in (("r", "rtr"), ("s", "sol"), ("o", "ovr"))
                 if fields.get(f"icmpv6.nd.na.flag.{name}")]
        info = f"{type_str} {fields['icmpv6.nd.na.target_address']} ({', '.join(flags) or 'none'})"
        target = _ndp_option(layer, "icmpv6.opt.target_linkaddr")
        return info + (f" is at {target}" if target else "")
    if msg_type in (133, 134):
        source = _ndp_option(layer, "icmpv6.opt.src_linkaddr")
        return type_str + (f" from {source}" if source else "")
    return type_str


# ------------------------------------------------------------------------------ transport

# Wireshark lists the set flags from the lowest bit up.
_TCP_FLAGS = (("FIN", 0x001), ("SYN", 0x002), ("RST", 0x004), ("PSH", 0x008), ("ACK", 0x010),
              ("URG", 0x020), ("ECE", 0x040), ("CWR", 0x080), ("AE", 0x100),
              ("Reserved", 0xE00))


def _tcp_info(packet: Packet, layer: Layer) -> str:
    fields = layer.fields
    info = f"{fields['tcp.srcport']} → {fields['tcp.dstport']}"
    if "tcp.window_size_value" not in fields or fields.get("tcp.hdr_len", 0) < 20:
        return info  # the header is cut short or its length is impossible
    flags = fields["tcp.flags"]
    names = [name for name, bit in _TCP_FLAGS if flags & bit]
    info += f" [{', '.join(names) or '<None>'}] Seq={fields['tcp.seq']}"
    if flags & 0x010:
        info += f" Ack={fields['tcp.ack']}"
    info += f" Win={fields['tcp.window_size_value']}"
    if fields.get("tcp.checksum.status") == "bad":
        info += " [TCP CHECKSUM INCORRECT]"
    if flags & 0x020 and "tcp.urgent_pointer" in fields:
        info += f" Urg={fields['tcp.urgent_pointer']}"
    if "tcp.len" in fields:
        info += f" Len={fields['tcp.len']}"
    for option in layer.children:
        info += _tcp_option_info(option)
    return info


def _tcp_option_info(option: Layer) -> str:
    fields = option.fields
    if option.malformed:
        return ""
    name = option.name
    if name == "tcp.options.mss":
        return f" MSS={fields['tcp.options.mss_val']}"
    if name == "tcp.options.wscale":
        return f" WS={fields['tcp.options.wscale.multiplier']}"
    if name == "tcp.options.sack_perm":
        return " SACK_PERM"
    if name == "tcp.options.timestamp":
        return (f" TSval={fields['tcp.options.timestamp.tsval']}"
                f" TSecr={fields['tcp.options.timestamp.tsecr']}")
    if name == "tcp.options.sack":
        return "".join(f" SLE={block.fields['tcp.options.sack_le']}"
                       f" SRE={block.fields['tcp.options.sack_re']}"
                       for block in option.children)
    kind = fields.get("tcp.option_kind")
    if kind == 34:  # TCP Fast Open (RFC 7413): a cookie request, or a cookie
        return " TFO=R" if fields.get("tcp.option_len") == 2 else " TFO=C"
    data = next((bytes(v) for n, v in fields.items() if isinstance(v, (bytes, bytearray))), b"")
    if kind in (253, 254) and data[:2] == b"\xf9\x89":  # Fast Open's experimental form
        return " TFO=R" if len(data) == 2 else " TFO=C"
    return ""


def _udp_info(packet: Packet, layer: Layer) -> str:
    fields = layer.fields
    info = f"{fields['udp.srcport']} → {fields['udp.dstport']}"
    length = fields.get("udp.length")
    if length is None:
        return info
    if length < 8:
        return info + f" [BAD UDP LENGTH {length} < 8]"
    available = _ip_payload_end(packet, layer)
    if available is not None and length > available - layer.offset and not _fragment(packet):
        info += f" [BAD UDP LENGTH {length} > IP PAYLOAD LENGTH]"
    info += f" Len={length - 8}"
    if fields.get("udp.checksum.status") == "bad":
        info += " [UDP CHECKSUM INCORRECT]"
    return info


def _fragment(packet: Packet) -> bool:
    """Whether the packet is a fragment, whose IP payload is only part of the datagram."""
    for layer in packet.layers:
        if layer.name == "ipv6.fraghdr" and not layer.quoted:
            return True
        if layer.name == "ip" and not layer.quoted and layer.fields.get("ip.flags.mf"):
            return True
    return False


def _ip_payload_end(packet: Packet, layer: Layer) -> int | None:
    """Where the enclosing IP header says its payload ends, as a frame offset."""
    ip = _previous(packet, layer, ("ip", "ipv6"))
    if ip is None:
        return None
    fields = ip.fields
    if ip.name == "ip":
        total = fields.get("ip.len")
        return ip.offset + total if total else None
    plen = fields.get("ipv6.plen")
    return ip.offset + 40 + plen if plen else None


register_info("eth", _eth_info, _eth_protocol)
register_info("vlan", _tag_info, _tag_protocol)
register_info("ieee8021ad", _tag_info, _tag_protocol)
register_info("arp", _arp_info, _arp_protocol)
register_info("ip", _ipv4_info, "IPv4")
for _name in ("ipv6", "ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr", "ipv6.dstopts"):
    register_info(_name, _ipv6_info, "IPv6")
register_info("icmp", _icmp_info, "ICMP")
register_info("icmpv6", _icmpv6_info, "ICMPv6")
register_info("tcp", _tcp_info, "TCP", checksum_marker=True)
register_info("udp", _udp_info, "UDP", checksum_marker=True)
PROTOCOLS.update({"sll": "SLL", "null": "NULL", "raw": "Raw", "data": "Data"})

"""Dissected packets: layers, problems, and the dissection driver that never raises.

A dissector reads one layer and says which table and key select the next one (``ethertype``
0x0800, ``ip.proto`` 6, ...). The driver looks the key up, calls the next dissector, and stops at
an unknown key, at the end of the bytes, or after ``MAX_LAYERS`` layers. Following Wireshark's
expert info, everything wrong with the bytes becomes a :class:`Problem` on the layer where it was
found; the bytes that could not be dissected become a ``data`` layer. A bug in a dissector is
caught too and reported as an ``internal`` problem, so one bad packet never stops a capture; the
test suite treats such a problem as a failure.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pktlab.wire._model import Field, Header
from pktlab.wire.checksum import internet_checksum, ones_complement_sum

MAX_LAYERS = 128  # bounds hostile header chains; a real capture holds 102 IPv6 headers


class Severity(enum.Enum):
    ERROR = "error"  # the bytes break the protocol: the layer is malformed
    WARNING = "warning"  # legal to parse but wrong or suspicious (SYN+FIN, TTL 0, bad checksum)
    NOTE = "note"  # worth knowing (checksum not verifiable, options ignored)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a layer: which field, what was found, what was expected."""

    severity: Severity
    message: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity.value, "field": self.field, "message": self.message}


class Layer:
    """One dissected header: its declaration, byte range, field values and problems.

    ``children`` holds sub-headers such as TCP or IPv4 options, each a Layer of its own with its
    own declaration, so the breakdown and hex highlighting treat them like any header.
    ``quoted`` marks headers inside an ICMP error's quoted datagram.
    """

    __slots__ = (
        "_children",
        "_fields",
        "_pending",
        "extra_headers",
        "header",
        "length",
        "name",
        "offset",
        "problems",
        "quoted",
    )

    def __init__(
        self,
        name: str,
        header: Header | None,
        offset: int,
        length: int,
        fields: dict[str, Any],
        quoted: bool = False,
    ) -> None:
        self.name = name
        self.header = header
        self.offset = offset
        self.length = length
        self._fields = fields
        self.problems: list[Problem] = []
        self._children: list[Layer] = []
        self._pending: Callable[[Layer], None] | None = None
        self.quoted = quoted
        # Declarations of fixed parts after the first (ICMP's per-type rest of header).
        self.extra_headers: list[tuple[Header, int]] = []

    # Options are decoded on first use: dissecting a million packets for their ports should
    # not pay for parsing every option list.
    def _force(self) -> None:
        pending = self._pending
        if pending is not None:
            self._pending = None
            pending(self)

    @property
    def fields(self) -> dict[str, Any]:
        if self._pending is not None:
            self._force()
        return self._fields

    @property
    def children(self) -> list[Layer]:
        if self._pending is not None:
            self._force()
        return self._children

    def defer(self, decoder: Callable[[Layer], None]) -> None:
        self._pending = decoder

    @property
    def malformed(self) -> bool:
        if self._pending is not None:
            self._force()
        return any(p.severity is Severity.ERROR for p in self.problems) or any(
            child.malformed for child in self._children)

    def problem(self, severity: Severity, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(severity, message, field))

    def error(self, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(Severity.ERROR, message, field))

    def warn(self, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(Severity.WARNING, message, field))

    def note(self, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(Severity.NOTE, message, field))

    def __getitem__(self, name: str) -> Any:
        fields = self.fields
        if name in fields:
            return fields[name]
        for child in self.children:
            if name in child.fields:
                return child.fields[name]
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def all_fields(self) -> Iterator[tuple[str, Any]]:
        """Every (name, value) of the layer and its option children, in wire order."""
        yield from self.fields.items()
        for child in self.children:
            yield from child.all_fields()

    def declared(self) -> Iterator[tuple[Field, int]]:
        """Each declared field with the frame byte offset of its header (for spans)."""
        if self.header is not None:
            for f in self.header.fields:
                yield f, self.offset
        for header, offset in self.extra_headers:
            for f in header.fields:
                yield f, offset

    def field_decl(self, name: str) -> Field | None:
        for f, _ in self.declared():
            if f.name == name:
                return f
        for child in self.children:
            found = child.field_decl(name)
            if found is not None:
                return found
        return None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: repeated option fields become lists, bytes become hex."""
        out: dict[str, Any] = {}
        repeated: set[str] = set()  # names already turned into lists
        for name, value in self.all_fields():
            value = json_value(value)
            if name in repeated:
                out[name].append(value)
            elif name in out:
                out[name] = [out[name], value]
                repeated.add(name)
            else:
                out[name] = value
        return {
            "layer": self.name,
            "offset": self.offset,
            "length": self.length,
            "fields": out,
            "problems": [p.as_dict() for p in self.problems]
            + [p.as_dict() for c in self.children for p in c.problems],
        }

    def __repr__(self) -> str:
        mark = " malformed" if self.malformed else ""
        return f"<Layer {self.name} @{self.offset}+{self.length}{mark}>"


def json_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value


class Packet:
    """A dissected frame: its bytes, its layers in order, and frame-level metadata."""

    __slots__ = ("data", "layers", "linktype", "orig_len", "problems")

    def __init__(self, data: bytes, linktype: int, orig_len: int | None = None) -> None:
        self.data = data
        self.linktype = linktype
        self.orig_len = len(data) if orig_len is None else orig_len
        self.layers: list[Layer] = []
        self.problems: list[Problem] = []

    def layer(self, name: str, *, quoted: bool | None = None) -> Layer | None:
        for layer in self.layers:
            if layer.name == name and (quoted is None or layer.quoted == quoted):
                return layer
        return None

    def __contains__(self, name: str) -> bool:
        return any(layer.name == name for layer in self.layers)

    def __getitem__(self, name: str) -> Any:
        """The first value of a field (``pkt["tcp.flags.syn"]``), outer layers first."""
        for layer in self.layers:
            try:
                return layer[name]
            except KeyError:
                continue
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def all(self, name: str) -> list[Any]:
        """Every value of a field, in wire order (repeated options, quoted headers)."""
        return [v for layer in self.layers for n, v in layer.all_fields() if n == name]

    @property
    def malformed(self) -> bool:
        return any(layer.malformed for layer in self.layers)

    def all_problems(self) -> list[tuple[Layer | None, Problem]]:
        found: list[tuple[Layer | None, Problem]] = [(None, p) for p in self.problems]
        for layer in self.layers:
            layer._force()  # deferred decoding may add problems
            found.extend((layer, p) for p in layer.problems)
            for child in layer.children:
                found.extend((layer, p) for p in child.problems)
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "layers": [layer.as_dict() for layer in self.layers],
            "problems": [p.as_dict() for p in self.problems],
        }

    def to_scapy(self) -> Any:
        """The same bytes as a Scapy packet (imports Scapy: use only for interop)."""
        from pktlab.oracle.scapy import to_scapy

        return to_scapy(self)

    @classmethod
    def from_scapy(cls, pkt: Any, linktype: int | None = None) -> Packet:
        """Dissect the bytes of a Scapy packet (imports Scapy: use only for interop)."""
        from pktlab.oracle.scapy import from_scapy

        return from_scapy(pkt, linktype)

    def summary(self) -> str:
        return " / ".join(layer.name for layer in self.layers)

    def __repr__(self) -> str:
        return f"<Packet {len(self.data)} bytes: {self.summary()}>"


# ------------------------------------------------------------------------------ the registry

# A selector table maps a key found in one header to the name of the next layer.
TABLES: dict[str, dict[int, str]] = {
    "linktype": {},
    "ethertype": {},
    "ip.proto": {},
    "udp.port": {},
    "tcp.port": {},
}

# (table, key or keys to try in order, offset of the next layer, end of its bytes)
Next = tuple[str, int | tuple[int, ...], int, int]
Dissector = Callable[["Dissection", int, int], "Next | None"]
DISSECTORS: dict[str, Dissector] = {}


def register(layer: str, dissector: Dissector, **keys: int | tuple[int, ...]) -> None:
    """Register a dissector and the table keys that select it (``ethertype=0x0800``)."""
    DISSECTORS[layer] = dissector
    for table, key in keys.items():
        table = {"ip_proto": "ip.proto", "udp_port": "udp.port", "tcp_port": "tcp.port"}.get(
            table, table)
        for k in key if isinstance(key, tuple) else (key,):
            TABLES[table].setdefault(k, layer)


class Dissection:
    """The state one frame's dissectors share while the driver walks down the layers."""

    __slots__ = ("complete", "data", "missing", "network_end", "packet", "pseudo", "quoted")

    def __init__(self, packet: Packet) -> None:
        self.packet = packet
        self.data = packet.data
        # (source, destination, is_ipv6) of the innermost IP header, for pseudo-header checksums.
        self.pseudo: tuple[bytes, bytes, bool] | None = None
        self.quoted = False
        # Where the outermost network header says the packet ends (the rest is link trailer).
        self.network_end: int | None = None
        # False once a length field promised more bytes than were captured: checksums
        # over the missing bytes cannot be verified.
        self.complete = True
        # Bytes the network layer's length promised beyond what the capture kept (snaplen):
        # transport lengths (tcp.len) count them, as Wireshark does.
        self.missing = 0

    def add(self, name: str, header: Header | None, offset: int, length: int,
            fields: dict[str, Any]) -> Layer:
        layer = Layer(name, header, offset, length, fields, self.quoted)
        self.packet.layers.append(layer)
        return layer

    def truncated(self, name: str, header: Header, offset: int, end: int) -> None:
        """Record a header cut short: the fields whose bits are all present are decoded (a
        quoted TCP header cut after 8 bytes still shows its ports and sequence number); the
        bytes stay available as ``<name>.truncated``."""
        have = max(0, end - offset)
        padded = self.data[offset:end] + bytes(header.size - have)
        decoded = header.decode(padded, 0)
        fields = {f.name: decoded[f.name] for f in header.fields
                  if f.bit_offset + f.bit_width <= have * 8}
        layer = self.add(name, header, offset, have, fields)
        if self.quoted:
            layer.note(f"{header.title}: only {have} of {header.size} bytes were quoted")
        else:
            layer.error(f"{header.title} truncated: {have} of {header.size} bytes present")
        if have:
            layer.fields[f"{name}.truncated"] = self.data[offset:end]

    def verify_checksum(self, layer: Layer, field: str, start: int, end: int,
                        pseudo: bytes = b"", *, complete: bool = True, rule: str = "") -> None:
        """Set ``<field>.status`` from summing ``pseudo`` and frame bytes ``start:end``.

        A bad checksum is a warning carrying the expected value, as ``<field>_calculated`` too.
        ``complete=False`` (bytes missing from the capture) makes the status ``unverified``.
        """
        fields = layer._fields  # not .fields: that would force deferred option decoding
        if not complete:
            fields[field + ".status"] = "unverified"
            return
        body = self.data[start:end]
        if ones_complement_sum(pseudo, body) == 0xFFFF:
            fields[field + ".status"] = "good"
            return
        fields[field + ".status"] = "bad"
        decl = layer.header.by_name.get(field) if layer.header else None
        decl = decl or layer.field_decl(field)
        assert decl is not None, field
        at = layer.offset + decl.byte_offset - start
        expected = internet_checksum(pseudo, body[:at] + b"\0\0" + body[at + 2:])
        fields[field + "_calculated"] = expected
        found = fields[field]
        partial = ones_complement_sum(pseudo) if pseudo else -1
        if found in (partial, 0xFFFF - partial):
            # Checksum offload: the sending host left the field holding only the pseudo-header
            # sum for its network card to finish, and the capture saw it before the card did.
            layer.note(f"checksum 0x{found:04x} is only the pseudo-header sum, expected "
                       f"0x{expected:04x}: the sender offloaded checksumming to its network "
                       "card, normal for packets captured on the sending host", field)
            return
        why = f" ({rule})" if rule else ""
        layer.warn(f"bad checksum 0x{found:04x}, expected 0x{expected:04x}{why}", field)


def dissect(data: bytes, linktype: int = 1, *, orig_len: int | None = None,
            strict: bool = False) -> Packet:
    """Dissect one frame. Never raises for any input unless ``strict`` (for tests of dissectors).

    ``linktype`` is the pcap LINKTYPE_ value: 1 Ethernet, 101 raw IP, 228 IPv4, 229 IPv6, ...
    ``orig_len`` is the frame's length on the wire when the capture kept fewer bytes.
    """
    data = bytes(data)
    packet = Packet(data, linktype, orig_len)
    ctx = Dissection(packet)
    name = TABLES["linktype"].get(linktype)
    offset, end = 0, len(data)
    try:
        if name is None:
            packet.problems.append(Problem(Severity.NOTE, f"link type {linktype} is not dissected"))
        for _ in range(MAX_LAYERS):
            if name is None or offset >= end:
                break
            dissector = DISSECTORS.get(name)
            if dissector is None:
                break
            following = dissector(ctx, offset, end)
            if following is None:
                offset = end
                break
            table, key, offset, end = following
            if isinstance(key, tuple):
                name = next((TABLES[table][k] for k in key if k in TABLES[table]), None)
            else:
                name = TABLES[table].get(key)
            if name is not None and offset >= end and not ctx.quoted and (
                    table in ("ethertype", "ip.proto")):
                ctx.packet.layers[-1].error(
                    f"no bytes left for the {name} header that {table} {key} announces")
        else:
            packet.problems.append(
                Problem(Severity.ERROR, f"more than {MAX_LAYERS} layers: the rest is not dissected")
            )
    except Exception as exc:
        if strict:
            raise
        packet.problems.append(
            Problem(Severity.ERROR, f"internal: dissector failed at byte {offset}: {exc!r}")
        )
    if offset < end:
        ctx.quoted = False
        ctx.add("data", None, offset, end - offset, {"data.data": data[offset:end],
                                                    "data.len": end - offset})
    # A quoted datagram shorter than the ICMP error's quote (RFC 4884 extensions follow it)
    # leaves bytes no layer claims: keep them, so that nothing is silently lost.
    covered = max((layer.offset + layer.length for layer in packet.layers), default=0)
    limit = ctx.network_end if ctx.network_end is not None else len(data)
    if packet.layers and covered < limit:
        ctx.quoted = False
        ctx.add("data", None, covered, limit - covered, {"data.data": data[covered:limit],
                                                        "data.len": limit - covered})
    _claim_trailer(ctx)
    return packet


def _claim_trailer(ctx: Dissection) -> None:
    """Bytes after the network layer's end belong to the link layer, as Wireshark shows them."""
    end = ctx.network_end
    data = ctx.data
    if end is None or end >= len(data) or not ctx.packet.layers:
        return
    link = ctx.packet.layers[0]
    if link.name != "eth":
        return
    extra = data[end:]
    # Frames are padded to 60 bytes (64 with the FCS, IEEE 802.3 clause 3.2.8); anything
    # beyond that is a trailer. As Wireshark, only zero bytes in a frame that reached the
    # minimum size on the wire count as padding.
    pad_len = max(0, min(len(extra), 60 - end)) if ctx.packet.orig_len >= 60 else 0
    if any(extra[:pad_len]):
        pad_len = 0
    if pad_len:
        link.fields["eth.padding"] = extra[:pad_len]
    if len(extra) > pad_len:
        # Wireshark hands the trailer to the innermost 802.1Q tag when there is one.
        tagged = any(layer.name in ("vlan", "ieee8021ad") for layer in ctx.packet.layers)
        link.fields["vlan.trailer" if tagged else "eth.trailer"] = extra[pad_len:]

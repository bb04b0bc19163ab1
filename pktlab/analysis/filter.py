"""Display filters for ``pktlab dissect -Y``: Wireshark's filter language over dissected packets.

``compile_filter("tcp.port == 80 and not ip.src == 198.18.0.0/15")`` returns a :class:`Filter`;
``Filter.matches(packet, frame)`` says whether a dissected packet passes. A filter is compiled
once: a hand-written tokenizer and recursive-descent parser build a small syntax tree, names are
checked against pktlab's field declarations (an unknown name is an error that suggests near
names), literals are converted to the kind of the field they are compared with, and the tree
becomes a tree of Python closures. Matching a packet only calls closures.

The semantics are Wireshark 4.0's (wireshark-filter(4)):

* a bare field or protocol name is true when present: ``tcp``, ``ip.options.nop``, and
  ``tcp.flags.syn`` for every TCP segment (the field is there, whatever its value);
* a field can occur several times in a frame (repeated options, the addresses quoted in an ICMP
  error): ``==`` means some occurrence is equal, ``!=`` that every occurrence differs;
  ``===`` (all equal) and ``!==`` (some differs) give the other two, and the prefixes ``any`` and
  ``all`` choose explicitly. A comparison with an absent field is false;
* values compare by the field's kind: IPv4 and IPv6 addresses as addresses (CIDR literals test
  subnets), MAC addresses and byte strings as bytes, integers numerically, enumerations also by
  their names (``ip.proto == "TCP"``), Booleans as ``True``/``False``/``1``/``0``;
* ``contains`` searches byte strings, protocols (the bytes they span) and strings, ``matches``
  (``~``) searches with a case-insensitive regular expression (Python's ``re``, close to PCRE);
* ``in {80, 443, 8000..8080}`` tests membership, ranges included; ``not in`` is its negation;
* slices (``eth.src[0:3] == 00:00:5e``, ``frame[-4:]``, ``tcp[13] & 0x02``), bitwise and (``&``),
  the layer operator (``ip.src#2``: the second IPv4 header) and the functions ``count``,
  ``len``, ``upper`` and ``lower``; the ``frame.*`` fields come from a :class:`FrameInfo`.

Not supported, each with an error saying so: arithmetic, field references (``${...}``), layer
ranges, host names as addresses. Besides the declared fields, the names Wireshark derives from
pairs are known: ``ip.addr``, ``ipv6.addr``, ``eth.addr`` (source or destination),
``tcp.port`` and ``udp.port``.

Matching runs on every packet of large captures, so fields are read straight from each layer's
field dictionary; option lists, which the dissectors decode lazily, are decoded only when the
filter names a field that can live in them, and only in the layers that can carry it.
"""

from __future__ import annotations

import difflib
import enum
import operator
import re
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pktlab.wire import BUILDERS, Field, Header, Kind, Layer, Packet
from pktlab.wire._packet import DISSECTORS

if TYPE_CHECKING:
    from pktlab.capture import CaptureRecord

__all__ = [
    "COMPUTED_FIELDS",
    "Filter",
    "FilterError",
    "FrameInfo",
    "ValueType",
    "compile_filter",
    "frame_protocols",
    "known_names",
]


# ------------------------------------------------------------------------------------ errors


class FilterError(ValueError):
    """A filter that cannot be compiled: the message, and where (1-based column) in the text.

    ``str(error)`` shows the filter with a caret under the column::

        ip.src == 198.18.0.999
                  ^ not a valid IPv4 address
    """

    def __init__(self, message: str, text: str, column: int) -> None:
        self.message = message
        self.text = text
        self.column = column
        # Tabs and newlines would shift the caret: show them as spaces.
        shown = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
        super().__init__(f"{shown}\n{' ' * (column - 1)}^ {message}")


class _Error(Exception):
    """Raised inside the compiler with a 0-based position; compile_filter adds the text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


# ------------------------------------------------------------------------------ frame info


def _seconds(nanoseconds: int) -> str:
    sign = "-" if nanoseconds < 0 else ""
    whole, fraction = divmod(abs(nanoseconds), 1_000_000_000)
    return f"{sign}{whole}.{fraction:09d}"


@dataclass(slots=True)
class FrameInfo:
    """What the capture says about a frame, for the ``frame.*`` fields.

    ``time_epoch`` is ``"SECONDS.NANOSECONDS"`` as capture records give it (exact, unlike a
    float); ``time_relative`` is seconds since the first frame, a string of the same form or a
    number. ``len`` is the length on the wire, ``cap_len`` the bytes captured.
    """

    number: int = 0
    time_epoch: str = "0.000000000"
    time_relative: str | float = "0.000000000"
    len: int = 0
    cap_len: int = 0
    packet: Packet | None = field(default=None, repr=False, compare=False)

    @property
    def protocols(self) -> str:
        """``frame.protocols``: the layer names joined by colons, as tshark shows them."""
        return frame_protocols(self.packet) if self.packet is not None else ""

    @classmethod
    def from_record(cls, record: CaptureRecord, first_timestamp_ns: int | None = None,
                    packet: Packet | None = None) -> FrameInfo:
        """The frame information of a capture record; times are relative to
        ``first_timestamp_ns`` (the first record's timestamp), or to the record itself."""
        first = record.timestamp_ns if first_timestamp_ns is None else first_timestamp_ns
        return cls(record.number, record.time, _seconds(record.timestamp_ns - first),
                   record.orig_len, len(record.data), packet)


def frame_protocols(packet: Packet) -> str:
    """The protocols in the frame as tshark's ``frame.protocols`` names them.

    The layer names are tshark's already; tshark also lists an ``ethertype`` pseudo-protocol
    after every header whose EtherType field chose the next one (``eth:ethertype:ip:tcp``,
    ``sll:ethertype:arp``, ``eth:ethertype:vlan:ethertype:ipv6``). Which headers those are is
    read from the builders' selector declarations, not listed here.
    """
    names: list[str] = []
    for layer in packet.layers:
        names.append(layer.name)
        selector = _ETHERTYPE_SELECTORS.get(layer.name)
        # An 802.3 frame has a length where the EtherType would be: no ethertype there.
        if selector is not None and selector in layer._fields:
            names.append("ethertype")
    return ":".join(names)


_ETHERTYPE_SELECTORS = {
    name: builder.selector[0]
    for name, builder in BUILDERS.items()
    if builder.selector is not None and builder.selector[1] == "ethertype"
}


# ---------------------------------------------------------------------- the field catalogue


class ValueType(enum.Enum):
    """How a field's values compare, and how a literal compared with it is read."""

    INT = "integer"
    BOOL = "Boolean"
    MAC = "MAC address"
    IPV4 = "IPv4 address"
    IPV6 = "IPv6 address"
    BYTES = "byte string"
    STRING = "character string"
    STATUS = "checksum status"
    TIME = "time"
    PROTOCOL = "protocol"

    @property
    def described(self) -> str:
        """The type with its article, for messages: "an integer", "a MAC address"."""
        return ("an " if self.value[0] in "aeiouAEIOU" else "a ") + self.value


VT = ValueType
_KIND_TYPES = {Kind.UINT: VT.INT, Kind.ENUM: VT.INT, Kind.FLAG: VT.BOOL, Kind.MAC: VT.MAC,
               Kind.IPV4: VT.IPV4, Kind.IPV6: VT.IPV6, Kind.BYTES: VT.BYTES}

# Fields the dissectors compute rather than decode from a declaration: (type, deep). A *deep*
# field may be filled in by deferred decoding (link trailers) or live in option children, so
# finding it may force that decoding. Protocol modules that add computed fields list them here.
COMPUTED_FIELDS: dict[str, tuple[ValueType, bool]] = {
    "tcp.len": (VT.INT, False),
    "tcp.options.wscale.multiplier": (VT.INT, True),
    "eth.len": (VT.INT, False),
    "eth.padding": (VT.BYTES, True),
    "eth.trailer": (VT.BYTES, True),
    "vlan.trailer": (VT.BYTES, True),
    "sll.trailer": (VT.BYTES, True),
    "null.trailer": (VT.BYTES, True),
    "raw.trailer": (VT.BYTES, True),
    "null.byte_order": (VT.STRING, False),
    "null.ignored": (VT.BYTES, False),
    "data.data": (VT.BYTES, False),
    "data.len": (VT.INT, False),
    "arp.src.hw": (VT.BYTES, False),
    "arp.src.proto": (VT.BYTES, False),
    "arp.dst.hw": (VT.BYTES, False),
    "arp.dst.proto": (VT.BYTES, False),
    "arp.isgratuitous": (VT.BOOL, False),
    "arp.isannouncement": (VT.BOOL, False),
    "arp.isprobe": (VT.BOOL, False),
    "icmp.ident_le": (VT.INT, False),
    "icmp.seq_le": (VT.INT, False),
    "ipv6.hopopts.len_oct": (VT.INT, False),
    "ipv6.dstopts.len_oct": (VT.INT, False),
    "ipv6.routing.len_oct": (VT.INT, False),
    "ipv6.routing.unknown_data": (VT.BYTES, False),
    "icmpv6.mldr.mar.auxiliary_data": (VT.BYTES, True),
}

# The frame pseudo-protocol: always present, its fields come from FrameInfo.
_FRAME_FIELDS = {"frame.number": VT.INT, "frame.time_epoch": VT.TIME,
                 "frame.time_relative": VT.TIME, "frame.len": VT.INT, "frame.cap_len": VT.INT,
                 "frame.protocols": VT.STRING}

# Wireshark's checksum status values (proto_checksum_e in epan/proto.h).
_STATUS_CODES = {"bad": 0, "good": 1, "unverified": 2, "not present": 3, "illegal": 4}


@dataclass(slots=True)
class _Info:
    """What the catalogue knows about one name."""

    name: str
    vtype: ValueType
    deep: bool = False
    # Top-level layers (by name) that can hold a deep field; None: any layer.
    owners: frozenset[str] | None = frozenset()
    names: Mapping[int, str] | None = None  # enumeration labels
    parts: tuple[str, ...] = ()  # ip.addr -> ip.src, ip.dst
    is_field: bool = True
    is_layer: bool = False
    top_layer: bool = False  # a layer of Packet.layers rather than an option child


class _Catalogue:
    """Every filterable name, collected from the declarations that protocol modules register."""

    def __init__(self) -> None:
        self.infos: dict[str, _Info] = {}

    def add(self, name: str, vtype: ValueType, *, deep: bool,
            owners: frozenset[str] | None, names: Mapping[int, str] | None = None) -> None:
        info = self.infos.get(name)
        if info is None:
            self.infos[name] = _Info(name, vtype, deep, owners if deep else frozenset(), names)
            return
        if not info.is_field:  # a layer name that is also a field
            info.is_field, info.vtype, info.names = True, vtype, names
        info.names = info.names or names
        if deep:
            if not info.deep:
                info.deep, info.owners = True, owners
            elif info.owners is not None:
                info.owners = None if owners is None else info.owners | owners

    def add_layer(self, name: str, *, top: bool, owners: frozenset[str] | None) -> None:
        info = self.infos.get(name)
        if info is None:
            info = self.infos[name] = _Info(name, VT.PROTOCOL, is_field=False,
                                            owners=owners if not top else frozenset())
        info.is_layer = True
        info.top_layer = info.top_layer or top
        if not top and not info.top_layer and info.owners is not None:
            info.owners = None if owners is None else info.owners | owners


def _declarations(obj: Any, seen: dict[int, Any], depth: int = 0) -> Iterator[Header | Field]:
    """Headers and fields reachable from ``obj`` through pktlab.wire objects and containers.

    ``seen`` maps id to object: holding the object keeps its id from being reused.
    """
    if depth > 6 or id(obj) in seen:
        return
    if isinstance(obj, (Header, Field)):
        seen[id(obj)] = obj
        yield obj
        return
    values: list[Any]
    if isinstance(obj, Mapping):
        values = list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        values = list(obj)
    elif (type(obj).__module__.startswith("pktlab.wire") and not isinstance(obj, type)
          and not callable(obj)):
        attributes = getattr(obj, "__dict__", None)
        values = list(attributes.values()) if attributes is not None else [
            getattr(obj, slot, None) for slot in getattr(type(obj), "__slots__", ())]
    else:
        return
    seen[id(obj)] = obj
    for value in values:
        yield from _declarations(value, seen, depth + 1)


_CATALOGUE: dict[tuple[int, int, int], dict[str, _Info]] = {}


def _catalogue() -> dict[str, _Info]:
    """The catalogue, built on first use and again if protocols or computed fields were
    registered since (a protocol module imported later)."""
    key = (len(BUILDERS), len(DISSECTORS), len(COMPUTED_FIELDS))
    infos = _CATALOGUE.get(key)
    if infos is None:
        _CATALOGUE.clear()
        infos = _CATALOGUE[key] = _build_catalogue()
    return infos


def _build_catalogue() -> dict[str, _Info]:
    cat = _Catalogue()
    top_layers = set(DISSECTORS) | set(BUILDERS) | {"data"}
    owners: frozenset[str] | None

    def owner_by_prefix(layer: str) -> frozenset[str] | None:
        candidates = [t for t in top_layers if layer == t or layer.startswith(t + ".")]
        return frozenset({max(candidates, key=len)}) if candidates else None

    def add_field(f: Field, *, deep: bool, owners: frozenset[str] | None) -> None:
        cat.add(f.name, _KIND_TYPES[f.kind], deep=deep, owners=owners, names=f.names)

    seen: dict[int, Any] = {}
    # Headers of top-level layers: their fields sit in the layer's own dictionary.
    for builder in BUILDERS.values():
        for header in builder.headers:
            seen[id(header)] = header
            for f in header.fields:
                add_field(f, deep=False, owners=frozenset())
    # Option declarations: fields of option children, decoded on first use.
    for builder in BUILDERS.values():
        codec = builder.option_codec
        if codec is None:
            continue
        owners = frozenset({builder.layer})
        for decl in _declarations(codec, {}):
            if isinstance(decl, Header):
                seen[id(decl)] = decl
                cat.add_layer(decl.layer, top=decl.layer in top_layers, owners=owners)
                cat.add(decl.layer + ".data", VT.BYTES, deep=True, owners=owners)
                for f in decl.fields:
                    add_field(f, deep=True, owners=owners)
            else:
                add_field(decl, deep=True, owners=owners)
        protocol = getattr(codec, "protocol", None)
        if isinstance(protocol, str):
            cat.add(protocol + ".options.padding", VT.BYTES, deep=True, owners=owners)
    # Everything else the protocol modules declare (list items, ICMP router entries, MLD
    # records): children of some layer, found by walking the modules.
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("pktlab.wire") or module is None:
            continue
        for decl in _declarations(dict(vars(module)), seen):
            if isinstance(decl, Header):
                owners = owner_by_prefix(decl.layer)
                if decl.layer not in top_layers:
                    cat.add_layer(decl.layer, top=False, owners=owners)
                for f in decl.fields:
                    add_field(f, deep=True, owners=owners)
            else:
                add_field(decl, deep=True, owners=owner_by_prefix(decl.name))
    for name in top_layers:
        cat.add_layer(name, top=True, owners=frozenset())
        cat.add(name + ".truncated", VT.BYTES, deep=False, owners=frozenset())
    for name, (vtype, deep) in COMPUTED_FIELDS.items():
        cat.add(name, vtype, deep=deep, owners=None)
    # Checksums: the dissectors add <name>.status and, when bad, <name>_calculated.
    for info in list(cat.infos.values()):
        if info.is_field and info.vtype is VT.INT and info.name.rsplit(".", 1)[-1] == "checksum":
            for suffix, vtype in ((".status", VT.STATUS), ("_calculated", VT.INT)):
                cat.add(info.name + suffix, vtype, deep=info.deep, owners=info.owners)
    # Wireshark's either-direction names: ip.addr is ip.src or ip.dst, tcp.port either port.
    for info in list(cat.infos.values()):
        for one, other, union in ((".src", ".dst", ".addr"), (".srcport", ".dstport", ".port")):
            if not info.is_field or not info.name.endswith(one):
                continue
            stem = info.name[: -len(one)]
            partner = cat.infos.get(stem + other)
            if (partner is None or partner.vtype is not info.vtype or stem + union in cat.infos
                    or (one == ".src" and info.vtype not in (VT.MAC, VT.IPV4, VT.IPV6))):
                continue
            deep = info.deep or partner.deep
            owners = None if info.owners is None or partner.owners is None else (
                info.owners | partner.owners)
            cat.infos[stem + union] = _Info(stem + union, info.vtype, deep, owners,
                                            parts=(info.name, stem + other))
    cat.add_layer("frame", top=True, owners=frozenset())
    for name, vtype in _FRAME_FIELDS.items():
        cat.add(name, vtype, deep=False, owners=frozenset())
    return cat.infos


def known_names() -> list[str]:
    """Every field and protocol name a filter may use, sorted."""
    return sorted(_catalogue())


# ------------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # WORD STRING CHAR OP SLICE END
    text: str  # the operator, the word, or a string's decoded value
    start: int
    end: int
    value: Any = None  # a CHAR's number


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-/")
_OPERATORS = ("===", "!==", "==", "!=", "~=", ">=", "<=", "&&", "||", "..",
              "(", ")", "{", "}", ",", "!", ">", "<", "~", "&", "#")
_UNSUPPORTED = {
    "+": "arithmetic is not supported",
    "*": "arithmetic is not supported",
    "%": "arithmetic is not supported",
    "$": "field references (${...}) are not supported",
    "=": "use == to compare",
    "|": "use || or 'or'",
}
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t", "v": "\v"}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == '"' or (c == "r" and text.startswith('r"', i)):
            raw = c == "r"
            value, end = _read_quoted(text, i + 1 if raw else i, raw)
            tokens.append(_Token("STRING", value, i, end))
            i = end
            continue
        if c == "'":
            value, end = _read_quoted(text, i, False, quote="'")
            if len(value) != 1:
                raise _Error("a character constant holds exactly one character", i)
            tokens.append(_Token("CHAR", text[i:end], i, end, ord(value)))
            i = end
            continue
        if c == "[":
            close = text.find("]", i + 1)
            if close < 0:
                raise _Error("unterminated slice: missing ]", i)
            tokens.append(_Token("SLICE", text[i + 1:close], i, close + 1))
            i = close + 1
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(_Token("OP", op, i, i + len(op)))
            i += len(op)
            continue
        if c in _WORD_CHARS:
            start = i
            while i < n and text[i] in _WORD_CHARS and not text.startswith("..", i):
                i += 1
            word = text[start:i]
            if word in ("-", "/"):
                raise _Error("arithmetic is not supported", start)
            tokens.append(_Token("WORD", word, start, i))
            continue
        raise _Error(_UNSUPPORTED.get(c, f"unexpected character {c!r}"), i)
    tokens.append(_Token("END", "", n, n))
    return tokens


def _byte_escape(code: int) -> str:
    """A ``\\xNN`` or octal escape names a byte: above 0x7f it is kept as the lone surrogate
    that ``surrogateescape`` encodes back to that byte, so ``"\\xff"`` searches for byte 0xff
    in byte strings (not for the two UTF-8 bytes of U+00FF)."""
    return chr(code) if code < 0x80 else chr(0xDC00 + code)


def _read_quoted(text: str, start: int, raw: bool, quote: str = '"') -> tuple[str, int]:
    """Decode the quoted literal opening at ``start``; returns (value, end after the quote)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            return "".join(out), i + 1
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(text):
            break
        e = text[i + 1]
        if raw:
            # Raw strings keep the backslash, even before an escaped quote.
            out.append("\\" + e)
            i += 2
            continue
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
            continue
        width = {"x": "{1,2}", "u": "{4}", "U": "{8}"}.get(e)
        if width is not None:
            match = re.match(r"[0-9a-fA-F]" + width, text[i + 2:])
            if match is None:
                raise _Error(f"invalid escape \\{e}: expected hex digits", i)
            code = int(match[0], 16)
            if code > sys.maxunicode or 0xD800 <= code <= 0xDFFF:
                raise _Error(f"invalid escape: U+{code:X} is not a character", i)
            out.append(_byte_escape(code) if e == "x" else chr(code))
            i += 2 + len(match[0])
            continue
        if e in "01234567":
            match = re.match(r"[0-7]{1,3}", text[i + 1:])
            assert match is not None
            code = int(match[0], 8)
            if code > 0xFF:
                raise _Error(f"invalid escape \\{match[0]}: a byte is at most \\377", i)
            out.append(_byte_escape(code))
            i += 1 + len(match[0])
            continue
        raise _Error(f"invalid escape \\{e}", i)
    what = "character constant" if quote == "'" else "string"
    raise _Error(f"unterminated {what}: missing closing {quote}", start)


# ---------------------------------------------------------------------------------- syntax

_COMPARISONS = {
    "==": "eq", "eq": "eq", "any_eq": "eq",
    "!=": "ne", "ne": "ne", "all_ne": "ne",
    "===": "all_eq", "all_eq": "all_eq",
    "!==": "any_ne", "~=": "any_ne", "any_ne": "any_ne",
    ">": "gt", "gt": "gt", "<": "lt", "lt": "lt", ">=": "ge", "ge": "ge", "<=": "le", "le": "le",
    "contains": "contains", "matches": "matches", "~": "matches",
}
_KEYWORDS = frozenset({"and", "or", "not", "in", "any", "all", "bitwise_and",
                       *(k for k in _COMPARISONS if k.isalpha() or "_" in k)})
_FUNCTIONS = ("count", "len", "lower", "upper")


@dataclass(slots=True)
class _Name:
    token: _Token
    layer_number: int | None = None


@dataclass(slots=True)
class _Literal:
    token: _Token


@dataclass(slots=True)
class _Slice:
    inner: _Operand
    token: _Token
    ranges: list[tuple[int, int | None, str]]  # (start, length or end, ":" "-" or "1")


@dataclass(slots=True)
class _Mask:
    inner: _Operand
    mask: _Token
    operator: _Token


@dataclass(slots=True)
class _Call:
    name: _Token
    argument: _Operand


_Operand = _Name | _Literal | _Slice | _Mask | _Call


@dataclass(slots=True)
class _Exists:
    operand: _Operand


@dataclass(slots=True)
class _Compare:
    op: str
    token: _Token
    quantifier: str | None
    left: _Operand
    right: _Operand


@dataclass(slots=True)
class _In:
    operand: _Operand
    token: _Token
    members: list[tuple[_Literal, _Literal | None]]
    negated: bool


@dataclass(slots=True)
class _Not:
    inner: _Node


@dataclass(slots=True)
class _Bool:
    op: str  # "and" / "or"
    items: list[_Node]


_Node = _Exists | _Compare | _In | _Not | _Bool


def _position(node: _Operand) -> int:
    if isinstance(node, (_Name, _Literal)):
        return node.token.start
    if isinstance(node, _Call):
        return node.name.start
    return _position(node.inner)


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> _Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token.kind in ("OP", "WORD") and token.text in texts

    def expect(self, text: str, what: str) -> _Token:
        token = self.peek()
        if token.kind == "OP" and token.text == text:
            return self.next()
        raise _Error(f"expected {what}, found {_describe(token)}", token.start)

    def parse(self) -> _Node:
        node = self.parse_or()
        token = self.peek()
        if token.kind != "END":
            # Two tests side by side (tcp.port 80, tcp udp): the joining word is missing.
            hint = " (join tests with 'and' or 'or')" if token.kind in (
                "WORD", "STRING", "CHAR") and token.text not in _KEYWORDS else ""
            raise _Error(f"unexpected {_describe(token)}{hint}", token.start)
        return node

    def parse_or(self) -> _Node:
        items = [self.parse_and()]
        while self.at("or", "||"):
            self.next()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else _Bool("or", items)

    def parse_and(self) -> _Node:
        items = [self.parse_not()]
        while self.at("and", "&&"):
            self.next()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else _Bool("and", items)

    def parse_not(self) -> _Node:
        if self.at("not", "!"):
            self.next()
            return _Not(self.parse_not())
        if self.at("("):
            self.next()
            inner = self.parse_or()
            self.expect(")", "')'")
            return inner
        return self.parse_test()

    def parse_test(self) -> _Node:
        quantifier = None
        if self.at("any", "all") and self.peek(1).kind in ("WORD", "STRING", "CHAR"):
            quantifier = self.next().text
        left = self.parse_operand()
        token = self.peek()
        if token.kind in ("OP", "WORD") and token.text in _COMPARISONS:
            self.next()
            right = self.parse_operand()
            return _Compare(_COMPARISONS[token.text], token, quantifier, left, right)
        negated = False
        if self.at("not") and self.peek(1).kind == "WORD" and self.peek(1).text == "in":
            negated = True
            self.next()
            token = self.peek()
        if self.at("in"):
            self.next()
            return _In(left, token, self.parse_set(), negated)
        if quantifier is not None:
            raise _Error(f"expected a comparison after '{quantifier}', found "
                         f"{_describe(token)}", token.start)
        return _Exists(left)

    def parse_set(self) -> list[tuple[_Literal, _Literal | None]]:
        self.expect("{", "'{' to open the set")
        members: list[tuple[_Literal, _Literal | None]] = []
        while True:
            low = self.parse_member("a value in the set")
            high = None
            if self.at(".."):
                self.next()
                high = self.parse_member("the end of the range after ..")
            members.append((low, high))
            if self.at(","):
                self.next()
                continue
            if self.at("}"):
                self.next()
                return members
            token = self.peek()
            if token.kind in ("WORD", "STRING", "CHAR"):
                raise _Error("separate the members of a set with commas", token.start)
            raise _Error(f"expected ',' or '}}' in the set, found {_describe(token)}",
                         token.start)

    def parse_member(self, what: str) -> _Literal:
        token = self.peek()
        if token.kind in ("WORD", "STRING", "CHAR") and token.text not in _KEYWORDS:
            self.next()
            return _Literal(token)
        if token.kind == "OP" and token.text == "}" and self.peek(-1).text == "{":
            raise _Error("a set needs at least one value", token.start)
        raise _Error(f"expected {what}, found {_describe(token)}", token.start)

    def parse_operand(self) -> _Operand:
        token = self.peek()
        node: _Operand
        if token.kind == "WORD" and token.text not in _KEYWORDS:
            self.next()
            following = self.peek()
            if following.kind == "OP" and following.text == "(" and following.start == token.end:
                if token.text not in _FUNCTIONS:
                    raise _Error(f"unknown function {token.text}(); pktlab knows "
                                 + ", ".join(f + "()" for f in _FUNCTIONS), token.start)
                self.next()
                argument = self.parse_operand()
                self.expect(")", f"')' to close {token.text}(")
                node = _Call(token, argument)
            else:
                node = _Name(token)
                if following.kind == "OP" and following.text == "#":
                    self.next()
                    number = self.peek()
                    if number.kind == "SLICE":
                        raise _Error("layer ranges (#[...]) are not supported", number.start)
                    if number.kind != "WORD" or not number.text.isdigit() or (
                            int(number.text) < 1):
                        raise _Error("expected a layer number (1, 2, ...) after #", number.start)
                    self.next()
                    node.layer_number = int(number.text)
        elif token.kind in ("STRING", "CHAR"):
            self.next()
            node = _Literal(token)
        elif token.kind == "OP" and token.text == "{":
            raise _Error("arithmetic is not supported", token.start)
        else:
            raise _Error(f"expected a field, protocol or value, found {_describe(token)}",
                         token.start)
        while self.peek().kind == "SLICE":
            slice_token = self.next()
            node = _Slice(node, slice_token, _parse_slice(slice_token))
        if self.at("&", "bitwise_and"):
            operator = self.next()
            mask = self.peek()
            if mask.kind not in ("WORD", "STRING", "CHAR") or mask.text in _KEYWORDS:
                raise _Error(f"expected a mask after {operator.text}, found {_describe(mask)}",
                             mask.start)
            self.next()
            node = _Mask(node, mask, operator)
        token = self.peek()
        if token.kind == "WORD" and token.text.startswith("-") and token.start > 0:
            raise _Error("arithmetic is not supported", token.start)
        return node


def _describe(token: _Token) -> str:
    if token.kind == "END":
        return "the end of the filter"
    if token.kind == "STRING":
        return "a string"
    return f"'{token.text}'" if token.kind != "SLICE" else "a slice"


_SLICE_ITEM = re.compile(r"\s*(?:(-?\d+)\s*(?:(:)\s*(\d+)?|(-)\s*(-?\d+))?|(:)\s*(\d+))\s*")


def _parse_slice(token: _Token) -> list[tuple[int, int | None, str]]:
    ranges: list[tuple[int, int | None, str]] = []
    for item in token.text.split(","):
        m = _SLICE_ITEM.fullmatch(item)
        if m is None:
            raise _Error("not a valid slice: use [i:length], [i-j], [i], [:length] or [i:]",
                         token.start)
        start, colon, length, dash, end, lead_colon, lead_length = m.groups()
        if lead_colon:
            ranges.append((0, int(lead_length), ":"))
        elif colon:
            if length is not None and int(length) == 0:
                raise _Error("a slice length must be at least 1", token.start)
            ranges.append((int(start), int(length) if length is not None else None, ":"))
        elif dash:
            ranges.append((int(start), int(end), "-"))
        else:
            ranges.append((int(start), 1, ":"))
    return ranges


# ---------------------------------------------------------------------------- value access

Getter = Callable[[Packet, "FrameInfo | None"], list[Any]]
Test = Callable[[Packet, "FrameInfo | None"], bool]
_Collector = Callable[[Packet, Layer, list[Any]], None]


def _collect_deep(layer: Layer, name: str, out: list[Any]) -> None:
    try:
        fields = layer.fields  # decodes deferred options: the filter names a field in them
        children = layer.children
    except Exception:  # a failing deferred decoder must not stop a capture
        fields, children = layer._fields, layer._children
    if name in fields:
        out.append(fields[name])
    for child in children:
        _collect_deep(child, name, out)


def _field_collector(info: _Info) -> _Collector:
    """Collects the field's values found in one top-level layer (and its children)."""
    name = info.name
    if info.deep:
        owners = info.owners

        def deep(packet: Packet, layer: Layer, out: list[Any]) -> None:
            if owners is None or layer.name in owners:
                _collect_deep(layer, name, out)
        return deep

    def top(packet: Packet, layer: Layer, out: list[Any]) -> None:
        # _fields, not fields: reading it does not force deferred option decoding.
        fields = layer._fields
        if name in fields:
            out.append(fields[name])
    return top


def _span(packet: Packet, layer: Layer, top: bool) -> bytes:
    """The bytes a protocol spans, as a filter compares them: a header with its payload."""
    data = packet.data
    if not top:
        return data[layer.offset:layer.offset + layer.length]
    end = len(data)
    link = packet.layers[0]
    if layer is not link:
        # The link layer's padding and trailer are not part of what it carries.
        end -= sum(len(v) for k, v in link._fields.items()
                   if k.endswith((".padding", ".trailer")) and isinstance(v, bytes))
    return data[layer.offset:max(end, layer.offset)]


def _layer_collector(info: _Info) -> _Collector:
    """For a protocol name: collects the bytes of each layer of that name."""
    name = info.name
    if info.top_layer:
        def top(packet: Packet, layer: Layer, out: list[Any]) -> None:
            if layer.name == name:
                out.append(_span(packet, layer, True))
        return top
    owners = info.owners

    def children(packet: Packet, layer: Layer, out: list[Any]) -> None:
        for child in layer.children:
            if child.name == name:
                out.append(_span(packet, child, False))
            children(packet, child, out)

    def deep(packet: Packet, layer: Layer, out: list[Any]) -> None:
        if owners is None or layer.name in owners:
            try:
                children(packet, layer, out)
            except Exception:  # a failing deferred decoder must not stop a capture
                return
    return deep


def _make_getter(info: _Info, layer_number: int | None) -> Getter:
    """The values of a name in a packet, in wire order, restricted to one layer if numbered."""
    name = info.name
    if name == "frame" or name in _FRAME_FIELDS:
        return _frame_getter(name)
    if not info.is_field:
        return _protocol_getter(info, layer_number)
    collectors = [_field_collector(_catalogue()[part]) for part in info.parts] or [
        _field_collector(info)]
    if layer_number is not None:
        return _numbered(collectors, layer_number)
    if not info.deep:
        # The common case, as a plain loop over the layers' own dictionaries.
        names = info.parts or (name,)

        def top(packet: Packet, frame: FrameInfo | None) -> list[Any]:
            out = []
            for layer in packet.layers:
                fields = layer._fields
                for each_name in names:
                    if each_name in fields:
                        out.append(fields[each_name])
            return out
        return top

    def each(packet: Packet, frame: FrameInfo | None) -> list[Any]:
        out: list[Any] = []
        for layer in packet.layers:
            for collect in collectors:
                collect(packet, layer, out)
        return out
    return each


def _numbered(collectors: list[_Collector], number: int) -> Getter:
    def get(packet: Packet, frame: FrameInfo | None) -> list[Any]:
        out: list[Any] = []
        seen: dict[str, int] = {}
        for layer in packet.layers:
            count = seen[layer.name] = seen.get(layer.name, 0) + 1
            if count == number:
                for collect in collectors:
                    collect(packet, layer, out)
        return out
    return get


def _protocol_getter(info: _Info, layer_number: int | None) -> Getter:
    collect = _layer_collector(info)
    if layer_number is not None:
        return _numbered([collect], layer_number)

    def get(packet: Packet, frame: FrameInfo | None) -> list[Any]:
        out: list[Any] = []
        for layer in packet.layers:
            collect(packet, layer, out)
        return out
    return get


def _frame_getter(name: str) -> Getter:
    if name == "frame":
        return lambda packet, frame: [packet.data]
    if name == "frame.len":
        return lambda packet, frame: [frame.len if frame is not None else packet.orig_len]
    if name == "frame.cap_len":
        return lambda packet, frame: [frame.cap_len if frame is not None else len(packet.data)]
    if name == "frame.protocols":
        return lambda packet, frame: [frame_protocols(packet)]
    if name == "frame.number":
        return lambda packet, frame: [frame.number] if frame is not None else []
    if name == "frame.time_epoch":
        return lambda packet, frame: [_decimal(frame.time_epoch)] if frame is not None else []
    return lambda packet, frame: [_decimal(frame.time_relative)] if frame is not None else []


def _decimal(value: str | float | int) -> Decimal:
    return Decimal(value) if isinstance(value, (str, int)) else Decimal(repr(value))


def _make_exists(info: _Info, layer_number: int | None, getter: Getter) -> Test:
    name = info.name
    if name == "frame" or (name in _FRAME_FIELDS and name not in (
            "frame.number", "frame.time_epoch", "frame.time_relative")):
        return lambda packet, frame: True
    if layer_number is None and info.is_layer and info.top_layer:
        def present(packet: Packet, frame: FrameInfo | None) -> bool:
            # A loop, not any() over a generator: this runs per packet and is half the cost.
            for layer in packet.layers:  # noqa: SIM110
                if layer.name == name:
                    return True
            return False
        if info.is_field:  # a layer name that is also a field
            return lambda packet, frame: present(packet, frame) or bool(getter(packet, frame))
        return present
    if layer_number is None and info.is_field and not info.deep and not info.parts:
        return lambda packet, frame: any(name in layer._fields for layer in packet.layers)
    if info.is_layer and info.is_field:
        protocol = _protocol_getter(info, layer_number)
        return lambda packet, frame: bool(getter(packet, frame)) or bool(protocol(packet, frame))
    return lambda packet, frame: bool(getter(packet, frame))


# -------------------------------------------------------------------------- value handling


def _truth(value: Any) -> int:
    return 1 if value else 0


# Addresses repeat throughout a capture: converting each text form once keeps subnet tests and
# address ordering cheap. The caches stop growing at a bound (a scan can hold millions).
_CACHE_LIMIT = 1 << 16
_IP4_CACHE: dict[str, int] = {}
_IP6_CACHE: dict[str, int] = {}


def _ip4(value: Any) -> int:
    number = _IP4_CACHE.get(value)
    if number is None:
        number = int.from_bytes(socket.inet_pton(socket.AF_INET, value), "big")
        if len(_IP4_CACHE) < _CACHE_LIMIT:
            _IP4_CACHE[value] = number
    return number


def _ip6(value: Any) -> int:
    number = _IP6_CACHE.get(value)
    if number is None:
        number = int.from_bytes(socket.inet_pton(socket.AF_INET6, value), "big")
        if len(_IP6_CACHE) < _CACHE_LIMIT:
            _IP6_CACHE[value] = number
    return number


def _mac(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return bytes.fromhex(value.replace(":", "").replace("-", ""))


def _status_code(value: Any) -> int:
    return _STATUS_CODES.get(str(value).lower(), -1)


def _utf8(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


def _bytes(value: Any) -> bytes:
    return bytes(value)


# Equality keys (None: the value itself), ordering keys and byte forms, per value type.
_EQ_KEY: dict[ValueType, Callable[[Any], Any] | None] = {
    VT.INT: None, VT.BOOL: _truth, VT.MAC: None, VT.IPV4: None, VT.IPV6: None,
    VT.BYTES: _bytes, VT.STRING: None, VT.STATUS: None, VT.TIME: None, VT.PROTOCOL: None,
}
_ORD_KEY: dict[ValueType, Callable[[Any], Any] | None] = {
    VT.INT: None, VT.BOOL: _truth, VT.MAC: _mac, VT.IPV4: _ip4, VT.IPV6: _ip6,
    VT.BYTES: _bytes, VT.STRING: None, VT.STATUS: _status_code, VT.TIME: None,
    VT.PROTOCOL: None,
}
_AS_BYTES: dict[ValueType, Callable[[Any], bytes]] = {
    VT.MAC: _mac,
    VT.IPV4: lambda v: socket.inet_pton(socket.AF_INET, v),
    VT.IPV6: lambda v: socket.inet_pton(socket.AF_INET6, v),
    VT.BYTES: _bytes, VT.PROTOCOL: _bytes, VT.STRING: _utf8,
}
_BYTE_TYPES = (VT.BYTES, VT.PROTOCOL)


def _family(vtype: ValueType) -> str:
    """Types within one family can be compared with each other."""
    if vtype in (VT.INT, VT.BOOL):
        return "number"
    if vtype in _BYTE_TYPES:
        return "bytes"
    return vtype.name


@dataclass(slots=True)
class _Source:
    """A compiled operand: its values' type and how to get them from a packet."""

    vtype: ValueType
    get: Getter
    label: str
    position: int
    names: Mapping[int, str] | None = None
    exists: Test | None = None  # set for plain names: a bare name tests presence
    truthy: bool = False  # a bare masked value tests for a non-zero result


@dataclass(frozen=True, slots=True)
class _Lit:
    """A literal converted for one value type: equality key, ordering key, subnet."""

    eq: Any
    ord: Any
    prefix: tuple[int, int] | None = None  # (mask, network) on the ordering key


_INT_RE = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_TIME_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_HEX_GROUP = re.compile(r"[0-9a-fA-F]+")


def _parse_int(text: str) -> int | None:
    if not _INT_RE.fullmatch(text):
        return None
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    prefix = body[:2].lower()
    if prefix == "0x":
        return sign * int(body[2:], 16)
    if prefix == "0b":
        return sign * int(body[2:], 2)
    if len(body) > 1 and body.startswith("0"):
        return sign * int(body, 8)  # C-style octal, as Wireshark reads 012
    return sign * int(body)


def _parse_hex_bytes(text: str) -> bytes | None:
    """``01:02:ff``, ``01-02-ff``, ``0102.03ff``, ``0.1.0.d``, ``7a``; None if not bytes."""
    groups = re.split(r"[:.\-]", text)
    out = bytearray()
    for group in groups:
        if not _HEX_GROUP.fullmatch(group):
            return None
        if len(group) == 1 and len(groups) > 1:
            out.append(int(group, 16))
        elif len(group) % 2:
            return None
        else:
            out += bytes.fromhex(group)
    return bytes(out)


def _looks_like_field(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)+", text)) and (
        _parse_hex_bytes(text) is None)


def _label_lookup(names: Mapping[int, str], text: str) -> int | None:
    wanted = text.strip().lower()
    for number, label in names.items():
        if label.lower() == wanted:
            return number
    return None


def _unknown_label(text: str, label: str, names: Mapping[int, str]) -> str:
    close = difflib.get_close_matches(text, list(names.values()), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"{text!r} cannot be found among the possible values for {label}{hint}"


def _convert(token: _Token, source: _Source) -> _Lit:
    """Read a literal as a value of the source's type; raises _Error at the literal."""
    vtype = source.vtype
    text = token.text
    at = token.start
    word = token.kind == "WORD"
    quoted = token.kind == "STRING"
    number: int | None
    raw: bytes | None
    if token.kind == "CHAR":
        number = int(token.value)
        if vtype in (VT.INT, VT.BOOL):
            return _Lit(_truth(number) if vtype is VT.BOOL else number, number)
        if vtype in _BYTE_TYPES:
            raw = bytes([number & 0xFF])
            return _Lit(raw, raw)
        raise _Error(f"a character constant cannot be compared with {vtype.described}", at)
    if vtype is VT.INT:
        number = _parse_int(text) if word else None
        if number is None and source.names:
            number = _label_lookup(source.names, text)
            if number is None:
                raise _Error(_unknown_label(text, source.label, source.names), at)
        if number is None:
            if quoted:
                raise _Error(f"{source.label} is an integer: it cannot be compared with a "
                             "string", at)
            raise _Error("not a valid integer", at)
        return _Lit(number, number)
    if vtype is VT.BOOL:
        if text in ("True", "TRUE") and word:
            return _Lit(1, 1)
        if text in ("False", "FALSE") and word:
            return _Lit(0, 0)
        number = _parse_int(text) if word else None
        if number is None:
            labels = {1: "Set", 0: "Not set", **(source.names or {})}
            number = _label_lookup(labels, text)
        if number is None:
            raise _Error("not a Boolean: use True, False, 1 or 0", at)
        return _Lit(_truth(number), _truth(number))
    if quoted and vtype in (VT.MAC, VT.IPV4, VT.IPV6, VT.TIME):
        raise _Error(f"{source.label} is {vtype.described}: write it without quotes", at)
    if vtype is VT.MAC:
        raw = _parse_hex_bytes(text) if word else None
        if raw is None or len(raw) != 6:
            raise _Error("not a valid MAC address", at)
        return _Lit(raw.hex(":"), raw)
    if vtype in (VT.IPV4, VT.IPV6):
        return _address(text, vtype, at)
    if vtype in _BYTE_TYPES:
        if quoted:
            raw = _utf8(text)
        else:
            number = _parse_int(text) if text[:2].lower() == "0x" else None
            raw = bytes([number]) if number is not None and 0 <= number <= 0xFF else (
                _parse_hex_bytes(text))
            if raw is None:
                raise _Error("not a valid byte string: use hex bytes such as 01:02:ff, or a "
                             "quoted string", at)
        return _Lit(raw, raw)
    if vtype is VT.STRING:
        return _Lit(text, text)
    if vtype is VT.STATUS:
        number = _parse_int(text) if word else None
        if number is not None:
            name = next((n for n, c in _STATUS_CODES.items() if c == number), None)
        else:
            name = text.lower() if text.lower() in _STATUS_CODES else None
        if name is None:
            raise _Error("not a checksum status: use good, bad, unverified (or 1, 0, 2)", at)
        return _Lit(name, _STATUS_CODES[name])
    if vtype is VT.TIME:
        if not word or not _TIME_RE.fullmatch(text):
            raise _Error("not a valid time: give seconds, such as 1.5", at)
        try:
            seconds = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise _Error("not a valid time: give seconds, such as 1.5", at) from None
        return _Lit(seconds, seconds)
    raise _Error(f"cannot compare {vtype.described} with a literal", at)  # pragma: no cover


def _address(text: str, vtype: ValueType, at: int) -> _Lit:
    family, bits, what = ((socket.AF_INET, 32, "IPv4") if vtype is VT.IPV4
                          else (socket.AF_INET6, 128, "IPv6"))
    address, slash, prefix = text.partition("/")
    try:
        raw = socket.inet_pton(family, address)
    except (OSError, ValueError):
        hint = ""
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9\-]*(\.[A-Za-z0-9\-]+)*", address):
            hint = " (pktlab does not resolve host names)"
        raise _Error(f"not a valid {what} address{hint}", at) from None
    number = int.from_bytes(raw, "big")
    if not slash:
        return _Lit(socket.inet_ntop(family, raw), number)
    if not prefix.isdigit() or int(prefix) > bits:
        raise _Error(f"not a valid prefix length: expected 0 to {bits} after /",
                     at + len(address) + 1)
    length = int(prefix)
    if length == bits:
        return _Lit(socket.inet_ntop(family, raw), number)
    mask = ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)
    return _Lit(None, number & mask, (mask, number & mask))


# ----------------------------------------------------------------------------- compiling


_ANY, _ALL = "any", "all"
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "lt": operator.lt, "ge": operator.ge, "le": operator.le}


def _quantify(get: Getter, predicate: Callable[[Any], bool], quantifier: str) -> Test:
    if quantifier == _ANY:
        def any_value(packet: Packet, frame: FrameInfo | None) -> bool:
            try:
                return any(map(predicate, get(packet, frame)))
            except (TypeError, ValueError, OSError, AttributeError):
                return False  # a value of an unexpected form never matches
        return any_value

    def all_values(packet: Packet, frame: FrameInfo | None) -> bool:
        try:
            values = get(packet, frame)
            return bool(values) and all(map(predicate, values))
        except (TypeError, ValueError, OSError, AttributeError):
            return False
    return all_values


class _Compiler:
    def __init__(self) -> None:
        self.catalogue = _catalogue()
        self.names: set[str] = set()

    # --------------------------------------------------------------------------- operands

    def near(self, name: str) -> list[str]:
        """Known names close to ``name``, best first."""
        close = difflib.get_close_matches(name, list(self.catalogue), n=3, cutoff=0.6)
        if not close:
            # A misspelt last part (ip.sourc): compare within the same protocol.
            stem = name.rsplit(".", 1)[0]
            same = [n for n in self.catalogue if n.startswith(stem + ".")]
            close = difflib.get_close_matches(name, same, n=3, cutoff=0.4)
        return close

    def unknown(self, token: _Token) -> _Error:
        close = self.near(token.text)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        return _Error(f"unknown field or protocol {token.text!r}{hint}", token.start)

    def source(self, node: _Operand) -> _Source:
        """Compile an operand that must be a field, protocol, slice, mask or function."""
        if isinstance(node, _Name):
            info = self.catalogue.get(node.token.text)
            if info is None:
                raise self.unknown(node.token)
            self.names.add(info.name)
            getter = _make_getter(info, node.layer_number)
            return _Source(info.vtype, getter, info.name, node.token.start, info.names,
                           exists=_make_exists(info, node.layer_number, getter))
        if isinstance(node, _Slice):
            return self.slice(node)
        if isinstance(node, _Mask):
            return self.mask(node)
        if isinstance(node, _Call):
            return self.call(node)
        raise _Error(f"expected a field or protocol, found {_describe(node.token)}",
                     node.token.start)

    def is_field(self, node: _Operand) -> bool:
        """Whether an operand names a field (a word that is no known name is a literal)."""
        if isinstance(node, _Name):
            return node.token.text in self.catalogue or node.layer_number is not None
        return not isinstance(node, _Literal)

    def slice(self, node: _Slice) -> _Source:
        inner = self.source(node.inner)
        as_bytes = _AS_BYTES.get(inner.vtype)
        if as_bytes is None:
            raise _Error(f"{inner.label} is {inner.vtype.described}: only byte strings, "
                         "addresses, strings and protocols can be sliced", node.token.start)
        ranges = node.ranges
        get = inner.get

        def cut(value: Any) -> bytes | None:
            raw = as_bytes(value)
            size = len(raw)
            out = b""
            for start, second, form in ranges:
                begin = start if start >= 0 else size + start
                if form == "-":
                    end = (second if second >= 0 else size + second) + 1  # type: ignore[operator]
                else:
                    end = size if second is None else begin + second
                if begin < 0 or end > size or end <= begin:
                    return None  # a slice beyond the value does not exist
                out += raw[begin:end]
            return out

        def sliced(packet: Packet, frame: FrameInfo | None) -> list[Any]:
            out = []
            for value in get(packet, frame):
                try:
                    piece = cut(value)
                except (TypeError, ValueError, OSError):
                    continue
                if piece is not None:
                    out.append(piece)
            return out
        return _Source(VT.BYTES, sliced, f"{inner.label}[{node.token.text}]", inner.position)

    def mask(self, node: _Mask) -> _Source:
        inner = self.source(node.inner)
        get = inner.get
        if inner.vtype in (VT.INT, VT.BOOL):
            number = _parse_int(node.mask.text) if node.mask.kind == "WORD" else (
                node.mask.value if node.mask.kind == "CHAR" else None)
            if number is None:
                raise _Error("the mask of & must be an integer such as 0x02", node.mask.start)

            def masked(packet: Packet, frame: FrameInfo | None) -> list[Any]:
                return [int(v) & number for v in get(packet, frame)]
            return _Source(VT.INT, masked, f"{inner.label} & {node.mask.text}", inner.position,
                           truthy=True)
        if inner.vtype in _BYTE_TYPES:
            lit = _convert(node.mask, _Source(VT.BYTES, get, inner.label, inner.position))
            mask_bytes: bytes = lit.eq

            def masked_bytes(packet: Packet, frame: FrameInfo | None) -> list[Any]:
                return [bytes(a & b for a, b in zip(v, mask_bytes, strict=True))
                        for v in get(packet, frame) if len(v) == len(mask_bytes)]
            return _Source(VT.BYTES, masked_bytes, f"{inner.label} & {node.mask.text}",
                           inner.position, truthy=True)
        raise _Error(f"& needs an integer field or a byte slice; {inner.label} is a "
                     f"{inner.vtype.value}", node.operator.start)

    def call(self, node: _Call) -> _Source:
        function = node.name.text
        inner = self.source(node.argument)
        get = inner.get
        label = f"{function}({inner.label})"
        if function == "count":
            def count(packet: Packet, frame: FrameInfo | None) -> list[Any]:
                values = get(packet, frame)
                # As Wireshark: the argument's implicit existence test makes count() absent.
                return [len(values)] if values else []
            return _Source(VT.INT, count, label, node.name.start)
        if function == "len":
            as_bytes = _AS_BYTES.get(inner.vtype)
            if as_bytes is None:
                raise _Error(f"len() needs a byte string, string, address or protocol; "
                             f"{inner.label} is {inner.vtype.described}", node.name.start)
            measure: Callable[[Any], int] = len if inner.vtype is VT.STRING else (
                lambda v: len(as_bytes(v)))

            def length(packet: Packet, frame: FrameInfo | None) -> list[Any]:
                return [measure(v) for v in get(packet, frame)]
            return _Source(VT.INT, length, label, node.name.start)
        if inner.vtype is not VT.STRING:
            raise _Error(f"{function}() needs a string field; {inner.label} is a "
                         f"{inner.vtype.value}", node.name.start)
        change: Callable[[str], str] = str.lower if function == "lower" else str.upper

        def cased(packet: Packet, frame: FrameInfo | None) -> list[Any]:
            return [change(v) for v in get(packet, frame)]
        return _Source(VT.STRING, cased, label, node.name.start)

    # ------------------------------------------------------------------------------ tests

    def test(self, node: _Node) -> Test:
        if isinstance(node, _Bool):
            items = [self.test(item) for item in node.items]
            return _combine(node.op, items)
        if isinstance(node, _Not):
            inner = self.test(node.inner)
            return lambda packet, frame: not inner(packet, frame)
        if isinstance(node, _Exists):
            return self.exists(node)
        if isinstance(node, _In):
            return self.membership(node)
        return self.compare(node)

    def exists(self, node: _Exists) -> Test:
        operand = node.operand
        if isinstance(operand, _Name) and operand.token.text not in self.catalogue:
            if operand.layer_number is None and not _looks_like_field(operand.token.text) and (
                    _parse_int(operand.token.text) is not None
                    or _parse_hex_bytes(operand.token.text) is not None):
                raise _Error(f"a test needs a field or protocol, not the value "
                             f"{operand.token.text}", operand.token.start)
            raise self.unknown(operand.token)
        if isinstance(operand, _Literal):
            raise _Error("a test needs a field or protocol, not a value", operand.token.start)
        source = self.source(operand)
        if source.exists is not None:
            return source.exists
        get = source.get
        if source.truthy and source.vtype in _BYTE_TYPES:
            # A masked slice is true when some byte of the result is non-zero.
            return lambda packet, frame: any(any(v) for v in get(packet, frame))
        if source.truthy:
            return lambda packet, frame: any(get(packet, frame))
        return lambda packet, frame: bool(get(packet, frame))

    def compare(self, node: _Compare) -> Test:
        op, left, right = node.op, node.left, node.right
        left_field, right_field = self.is_field(left), self.is_field(right)
        if not left_field:
            if isinstance(left, _Name) and _looks_like_field(left.token.text):
                raise self.unknown(left.token)
            what = left.token.text if isinstance(left, _Literal) and (
                left.token.kind != "STRING") else "a value"
            if isinstance(left, _Literal) and left.token.kind == "STRING":
                what = "a string"
            raise _Error(f"the left side of {node.token.text} must be a field or function, "
                         f"not {what}", _position(left))
        source = self.source(left)
        quantifier = node.quantifier or (_ALL if op in ("ne", "all_eq") else _ANY)
        if right_field:
            return self.compare_fields(node, source, self.source(right), quantifier)
        assert isinstance(right, (_Name, _Literal))
        token = right.token
        if op == "matches":
            return self.matches(node, source, token, quantifier)
        if op == "contains":
            return self.contains(node, source, token, quantifier)
        try:
            lit = _convert(token, source)
        except _Error:
            # A misspelt field name on the right reads as a bad literal: say which it was.
            if token.kind == "WORD" and _looks_like_field(token.text) and self.near(token.text):
                raise self.unknown(token) from None
            raise
        get = source.get
        if op in _ORDERING:
            if lit.prefix is not None:
                raise _Error("a subnet can only be tested with ==, != or in", token.start)
            bound = lit.ord
            order_key = _ORD_KEY[source.vtype]
            relation = _ORDERING[op]
            if order_key is None and quantifier == _ANY:
                # frame.len > 100, tcp.len > 0: a plain loop, no function per value.
                def ordered(packet: Packet, frame: FrameInfo | None) -> bool:
                    try:
                        for value in get(packet, frame):
                            if relation(value, bound):
                                return True
                    except TypeError:
                        pass
                    return False
                return ordered
            if order_key is None:
                return _quantify(get, lambda v: relation(v, bound), quantifier)
            return _quantify(get, lambda v: relation(order_key(v), bound), quantifier)
        equal = _equality(source.vtype, lit)
        positive = op in ("eq", "all_eq")
        eq_key = _EQ_KEY[source.vtype]
        if source.vtype is VT.BOOL and (positive, quantifier) in ((True, _ANY), (False, _ALL)):
            # tcp.flags.syn == 1 and friends, with the built-in any() and all().
            return _flag_test(get, positive, bool(lit.eq))
        if lit.prefix is None and eq_key is None:
            wanted = lit.eq
            # The common cases, tcp.port == 80 and ip.src != 10.0.0.1, as list searches.
            if positive and quantifier == _ANY:
                return lambda packet, frame: wanted in get(packet, frame)
            if not positive and quantifier == _ALL:
                def none_equal(packet: Packet, frame: FrameInfo | None) -> bool:
                    values = get(packet, frame)
                    return bool(values) and wanted not in values
                return none_equal
        predicate = equal if positive else (lambda v: not equal(v))
        return _quantify(get, predicate, quantifier)

    def compare_fields(self, node: _Compare, left: _Source, right: _Source,
                       quantifier: str) -> Test:
        op = node.op
        if op == "matches":
            raise _Error("the right side of matches must be a quoted string",
                         right.position)
        family = _family(left.vtype)
        relation: Callable[[Any, Any], bool]
        if op == "contains":
            if left.vtype is VT.STRING and right.vtype is VT.STRING:
                relation = operator.contains
            elif family == "bytes" and _family(right.vtype) == "bytes":
                relation = _bytes_contain
            else:
                raise _Error(f"{left.label} and {right.label} are not of types contains "
                             "can compare", node.token.start)
        else:
            if family != _family(right.vtype):
                raise _Error(f"{left.label} and {right.label} are not of compatible types "
                             f"({left.vtype.value} and {right.vtype.value})", right.position)
            relation = _keyed(_ORDERING.get(op) or (operator.eq if op in ("eq", "all_eq")
                                                     else operator.ne),
                              _ORD_KEY[left.vtype] or _identity,
                              _ORD_KEY[right.vtype] or _identity)
        get_left, get_right = left.get, right.get

        def pairs(packet: Packet, frame: FrameInfo | None) -> bool:
            try:
                a_values = get_left(packet, frame)
                b_values = get_right(packet, frame)
                if quantifier == _ANY:
                    return any(relation(a, b) for a in a_values for b in b_values)
                return bool(a_values) and bool(b_values) and all(
                    relation(a, b) for a in a_values for b in b_values)
            except (TypeError, ValueError, OSError, AttributeError):
                return False
        return pairs

    def contains(self, node: _Compare, source: _Source, token: _Token,
                 quantifier: str) -> Test:
        get = source.get
        if source.vtype is VT.STRING:
            needle_text = chr(int(token.value)) if token.kind == "CHAR" else token.text
            return _quantify(get, lambda v: needle_text in v, quantifier)
        if source.vtype not in _BYTE_TYPES:
            raise _Error(f"contains cannot be used on {source.label}, {source.vtype.described}: "
                         "only on byte strings, strings and protocols", node.token.start)
        needle: bytes = _convert(token, source).eq
        return _quantify(get, lambda v: needle in v, quantifier)

    def matches(self, node: _Compare, source: _Source, token: _Token,
                quantifier: str) -> Test:
        if token.kind != "STRING":
            raise _Error("the right side of matches must be a quoted string (a regular "
                         "expression)", token.start)
        if source.vtype not in (VT.STRING, *_BYTE_TYPES):
            raise _Error(f"matches needs a string, byte string or protocol; {source.label} is "
                         f"{source.vtype.described}", node.token.start)
        pattern = token.text
        flags = re.IGNORECASE
        # Python cannot switch a flag off for the whole pattern: honour PCRE's leading (?-i).
        if pattern.startswith("(?-i)"):
            pattern, flags = pattern[5:], re.NOFLAG
        try:
            text_re = re.compile(pattern, flags)
            bytes_re = re.compile(_utf8(pattern), flags) if source.vtype is not VT.STRING else (
                None)
        except re.error as exc:
            raise _Error(f"invalid regular expression: {exc}", token.start) from None
        get = source.get
        if bytes_re is None:
            search_text = text_re.search
            return _quantify(get, lambda v: search_text(v) is not None, quantifier)
        search_bytes = bytes_re.search
        return _quantify(get, lambda v: search_bytes(v) is not None, quantifier)

    def membership(self, node: _In) -> Test:
        if not self.is_field(node.operand):
            raise _Error("the left side of in must be a field or function",
                         _position(node.operand))
        source = self.source(node.operand)
        order_key = _ORD_KEY[source.vtype] or _identity
        eq_key = _EQ_KEY[source.vtype] or _identity
        scalars: set[Any] = set()
        subnets: list[tuple[int, int]] = []
        ranges: list[tuple[Any, Any]] = []
        for low, high in node.members:
            low_lit = _convert(low.token, source)
            if high is None:
                if low_lit.prefix is not None:
                    subnets.append(low_lit.prefix)
                else:
                    scalars.add(low_lit.eq)
                continue
            high_lit = _convert(high.token, source)
            if low_lit.prefix is not None or high_lit.prefix is not None:
                raise _Error("a range cannot have a subnet as an end", low.token.start)
            ranges.append((low_lit.ord, high_lit.ord))

        get = source.get
        if not subnets and not ranges and _EQ_KEY[source.vtype] is None:
            # tcp.port in {80, 443}: one set operation.
            def any_member(packet: Packet, frame: FrameInfo | None) -> bool:
                try:
                    return not scalars.isdisjoint(get(packet, frame))
                except TypeError:
                    return False
            if node.negated:
                return lambda packet, frame: not any_member(packet, frame)
            return any_member

        def member(value: Any) -> bool:
            if eq_key(value) in scalars:
                return True
            if subnets or ranges:
                key = order_key(value)
                return any(key & mask == net for mask, net in subnets) or any(
                    lo <= key <= hi for lo, hi in ranges)
            return False

        test = _quantify(get, member, _ANY)
        if node.negated:
            return lambda packet, frame: not test(packet, frame)
        return test


def _identity(value: Any) -> Any:
    return value


def _bytes_contain(haystack: Any, needle: Any) -> bool:
    return bytes(needle) in bytes(haystack)


def _keyed(relation: Callable[[Any, Any], bool], left_key: Callable[[Any], Any],
           right_key: Callable[[Any], Any]) -> Callable[[Any, Any], bool]:
    return lambda a, b: relation(left_key(a), right_key(b))


def _equality(vtype: ValueType, lit: _Lit) -> Callable[[Any], bool]:
    if lit.prefix is not None:
        mask, network = lit.prefix
        to_int = _ORD_KEY[vtype]
        assert to_int is not None
        return lambda v: to_int(v) & mask == network
    key = _EQ_KEY[vtype]
    wanted = lit.eq
    if key is None:
        return lambda v: v == wanted
    return lambda v: key(v) == wanted


def _flag_test(get: Getter, positive: bool, wanted: bool) -> Test:
    """``flag == wanted`` (some value is) or ``flag != wanted`` (no value is), with the
    built-in any() and all() rather than a function call per value."""
    if positive and wanted:
        return lambda packet, frame: any(get(packet, frame))

    def test(packet: Packet, frame: FrameInfo | None) -> bool:
        values = get(packet, frame)
        if not values:
            return False
        if positive:  # some value is clear
            return not all(values)
        return all(values) if not wanted else not any(values)
    return test


def _combine(op: str, items: list[Test]) -> Test:
    if len(items) == 2:
        a, b = items
        if op == "and":
            return lambda packet, frame: a(packet, frame) and b(packet, frame)
        return lambda packet, frame: a(packet, frame) or b(packet, frame)
    if op == "and":
        return lambda packet, frame: all(t(packet, frame) for t in items)
    return lambda packet, frame: any(t(packet, frame) for t in items)


# -------------------------------------------------------------------------------- filters


class Filter:
    """A compiled display filter. ``fields`` holds the field and protocol names it reads."""

    __slots__ = ("_test", "fields", "text")

    def __init__(self, text: str, test: Test, fields: frozenset[str]) -> None:
        self.text = text
        self._test = test
        self.fields = fields

    def matches(self, packet: Packet, frame: FrameInfo | None = None) -> bool:
        """Whether the packet passes. Without ``frame``, ``frame.len`` and ``frame.cap_len``
        come from the packet and the other ``frame.*`` fields are absent."""
        return self._test(packet, frame)

    __call__ = matches

    def __repr__(self) -> str:
        return f"Filter({self.text!r})"


def compile_filter(text: str) -> Filter:
    """Compile a display filter; raises :class:`FilterError` naming the column of a mistake.

    An empty filter (only white space) matches every packet, as in Wireshark.
    """
    if not text.strip():
        return Filter(text, lambda packet, frame: True, frozenset())
    try:
        tree = _Parser(_tokenize(text)).parse()
        compiler = _Compiler()
        test = compiler.test(tree)
    except _Error as error:
        raise FilterError(error.message, text, error.position + 1) from None
    return Filter(text, test, frozenset(compiler.names))

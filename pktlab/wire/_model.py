"""The field model: every header is declared once, as data.

A :class:`Header` is a list of :class:`Field` declarations: the Wireshark display-filter name, bit
offset, bit width, value kind and a one-line meaning. Everything that reads or writes a header
reads that declaration: the parser, the builder, the annotated breakdown, hex highlighting, the bit
diagram, JSON output and the oracle comparison.

Design notes
------------
* Like dpkt's ``__hdr__``, a declaration is compiled once, at import, into a single
  ``struct.Struct``: a fixed header decodes with one ``unpack_from`` call and a generated
  function that shifts and masks bit fields, never a loop over field objects.
* Field values are what Wireshark shows, so that comparisons with tshark need no translation:
  ``ip.hdr_len`` is in bytes (the wire nibble times 4), while ``ip.frag_offset`` stays in
  8-byte units, as tshark 4.0 shows it.
  ``Field.scale`` records the factor; the builder divides by it again.
* A field may lie inside another (``tcp.flags.syn`` inside ``tcp.flags``): such a *sub-field* is
  decoded from its parent's value and, when building, is merged back into it.
* Values are plain Python: ``int`` for numbers, flags and enumerations, ``str`` for MAC (lowercase,
  colon separated), IPv4 (dotted) and IPv6 (RFC 5952) addresses, ``bytes`` for opaque data.
"""

from __future__ import annotations

import enum
import socket
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Kind(enum.Enum):
    """How a field's bits become a value."""

    UINT = "uint"
    FLAG = "flag"
    ENUM = "enum"
    MAC = "mac"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    BYTES = "bytes"


_ADDRESS_BYTES = {Kind.MAC: 6, Kind.IPV4: 4, Kind.IPV6: 16}


@dataclass(frozen=True, slots=True)
class Field:
    """One header field: where its bits are and what they mean."""

    name: str
    bit_offset: int
    bit_width: int
    kind: Kind = Kind.UINT
    meaning: str = ""
    names: Mapping[int, str] | None = None
    scale: int = 1
    hex: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def byte_offset(self) -> int:
        return self.bit_offset // 8

    def describe(self, value: Any) -> str:
        """The value as a person reads it: ``6 (TCP)``, ``0x0800 (IPv4)``, ``Set``."""
        if self.kind is Kind.FLAG:
            return "Set" if value else "Not set"
        if isinstance(value, (bytes, bytearray)):
            return value.hex() if value else "(empty)"
        if not isinstance(value, int):
            return str(value)
        digits = (self.bit_width * self.scale + 3) // 4 if self.scale == 1 else 0
        text = f"0x{value:0{max(digits, 2)}x}" if self.hex else str(value)
        if self.names is not None:
            label = self.names.get(value)
            return f"{text} ({label})" if label else f"{text} (unknown)"
        return text

    def to_wire(self, value: Any) -> int | bytes:
        """Convert a user value to the integer (or bytes) that goes into the bits.

        Raises ``ValueError`` naming the field when the value does not fit.
        """
        if self.kind in _ADDRESS_BYTES:
            raw = encode_address(self.kind, value, self.name)
            return raw
        if self.kind is Kind.BYTES:
            if isinstance(value, str):
                try:
                    value = bytes.fromhex(value.replace(":", ""))
                except ValueError:
                    raise ValueError(f"{self.name}: {value!r} is not hex bytes") from None
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise ValueError(f"{self.name}: expected bytes, got {type(value).__name__}")
            raw_bytes = bytes(value)
            if self.bit_width and len(raw_bytes) * 8 != self.bit_width:
                raise ValueError(
                    f"{self.name}: expected {self.bit_width // 8} bytes, got {len(raw_bytes)}"
                )
            return raw_bytes
        number = self.parse_number(value)
        if number % self.scale:
            raise ValueError(f"{self.name}: {number} is not a multiple of {self.scale}")
        number //= self.scale
        if not 0 <= number < (1 << self.bit_width):
            top = ((1 << self.bit_width) - 1) * self.scale
            raise ValueError(f"{self.name}: {value!r} is out of range 0..{top}")
        return number

    def parse_number(self, value: Any) -> int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            text = value.strip()
            if self.names is not None:
                for number, label in self.names.items():
                    if label.lower() == text.lower():
                        return number
            try:
                return int(text, 0)
            except ValueError:
                choices = ""
                if self.names:
                    choices = " (or one of: " + ", ".join(sorted(self.names.values())) + ")"
                raise ValueError(f"{self.name}: {value!r} is not a number{choices}") from None
        raise ValueError(f"{self.name}: expected a number, got {type(value).__name__}")


def encode_address(kind: Kind, value: Any, name: str = "address") -> bytes:
    if isinstance(value, (bytes, bytearray)) and len(value) == _ADDRESS_BYTES[kind]:
        return bytes(value)
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an address string, got {value!r}")
    try:
        if kind is Kind.MAC:
            digits = value.replace(":", "").replace("-", "").replace(".", "")
            raw = bytes.fromhex(digits)
            if len(raw) != 6:
                raise ValueError
            return raw
        if kind is Kind.IPV4:
            return socket.inet_pton(socket.AF_INET, value)
        return socket.inet_pton(socket.AF_INET6, value)
    except (ValueError, OSError):
        raise ValueError(f"{name}: {value!r} is not a valid {kind.value.upper()} address") from None


def format_mac(raw: bytes) -> str:
    return raw.hex(":")


def format_ipv4(raw: bytes) -> str:
    return socket.inet_ntoa(raw)


def format_ipv6(raw: bytes) -> str:
    # glibc's inet_ntop follows RFC 5952: lowercase, longest zero run compressed.
    return socket.inet_ntop(socket.AF_INET6, raw)


# ---------------------------------------------------------------- field helpers for declarations


def uint(name: str, offset: int, width: int, meaning: str, **kw: Any) -> Field:
    return Field(name, offset, width, Kind.UINT, meaning, **kw)


def flag(name: str, offset: int, meaning: str, width: int = 1) -> Field:
    return Field(name, offset, width, Kind.FLAG, meaning)


def enum_field(
    name: str, offset: int, width: int, meaning: str, names: Mapping[int, str], **kw: Any
) -> Field:
    return Field(name, offset, width, Kind.ENUM, meaning, names=names, **kw)


def mac(name: str, offset: int, meaning: str) -> Field:
    return Field(name, offset, 48, Kind.MAC, meaning)


def ipv4(name: str, offset: int, meaning: str) -> Field:
    return Field(name, offset, 32, Kind.IPV4, meaning)


def ipv6(name: str, offset: int, meaning: str) -> Field:
    return Field(name, offset, 128, Kind.IPV6, meaning)


def raw(name: str, offset: int, width: int, meaning: str) -> Field:
    return Field(name, offset, width, Kind.BYTES, meaning)


# ---------------------------------------------------------------------------- the compiler


@dataclass(slots=True)
class _Unit:
    """One struct item: a whole field, or a group of bit fields sharing a byte-aligned word."""

    code: str
    fields: list[Field] = field(default_factory=list)
    bit_offset: int = 0
    bit_width: int = 0


_INT_CODES = {8: "B", 16: "H", 32: "I", 64: "Q"}


class Header:
    """A fixed-size header declaration, compiled into one struct and two generated functions.

    ``decode(buf, offset)`` returns ``{name: value}`` for every field (sub-fields included);
    ``encode(values)`` packs a mapping that has a value for every top-level field.
    """

    def __init__(
        self,
        layer: str,
        title: str,
        fields: Iterable[Field],
        *,
        reference: str = "",
    ) -> None:
        self.layer = layer
        self.title = title
        self.reference = reference
        self.fields: tuple[Field, ...] = tuple(sorted(fields, key=lambda f: f.bit_offset))
        self.by_name: dict[str, Field] = {}
        for f in self.fields:
            if f.name in self.by_name:
                raise TypeError(f"{layer}: field {f.name} declared twice")
            self.by_name[f.name] = f
            for alias in f.aliases:
                self.by_name.setdefault(alias, f)
        self.top: tuple[Field, ...]
        self.parent_of: dict[str, Field]
        self._units: list[_Unit]
        self._compile()
        self.size = self.struct.size
        self.by_short: dict[str, Field] = {}
        for f in self.fields:
            self.by_short.setdefault(self.short(f), f)
            for alias in f.aliases:
                self.by_short.setdefault(alias, f)

    def short(self, f: Field) -> str:
        """The building keyword: the name less the dotted prefix it shares with the layer.

        ``ip.flags.df`` in ``ip`` -> ``flags_df``; ``tcp.options.timestamp.tsval`` in
        ``tcp.options.timestamp`` -> ``tsval``; ``tcp.options.mss_val`` -> ``mss_val``.
        """
        parts = f.name.split(".")
        prefix = self.layer.split(".")
        shared = 0
        while shared < min(len(parts) - 1, len(prefix)) and parts[shared] == prefix[shared]:
            shared += 1
        return "_".join(parts[max(shared, 1):])

    # Compilation happens once per declaration at import time; speed here is irrelevant.
    def _compile(self) -> None:
        top: list[Field] = []
        parent_of: dict[str, Field] = {}
        for f in self.fields:
            container = next(
                (
                    p
                    for p in top
                    if p.bit_offset <= f.bit_offset
                    and f.bit_offset + f.bit_width <= p.bit_offset + p.bit_width
                ),
                None,
            )
            if container is not None:
                if container.kind not in (Kind.UINT, Kind.ENUM) or container.scale != 1:
                    raise TypeError(f"{f.name}: sub-fields must sit in a plain integer field")
                parent_of[f.name] = container
                continue
            end = top[-1].bit_offset + top[-1].bit_width if top else 0
            if f.bit_offset != end:
                raise TypeError(
                    f"{self.layer}: {f.name} starts at bit {f.bit_offset}, expected bit {end}"
                )
            top.append(f)
        total = top[-1].bit_offset + top[-1].bit_width if top else 0
        if total % 8:
            raise TypeError(f"{self.layer}: header is {total} bits, not whole bytes")
        self.top = tuple(top)
        self.parent_of = parent_of

        units: list[_Unit] = []
        group: _Unit | None = None
        for f in top:
            aligned = f.bit_offset % 8 == 0
            if group is None and aligned and f.kind in (Kind.BYTES, *_ADDRESS_BYTES):
                if f.bit_width % 8:
                    raise TypeError(f"{f.name}: byte-valued field must be whole bytes")
                units.append(_Unit(f"{f.bit_width // 8}s", [f], f.bit_offset, f.bit_width))
                continue
            if group is None and aligned and f.bit_width in _INT_CODES:
                units.append(_Unit(_INT_CODES[f.bit_width], [f], f.bit_offset, f.bit_width))
                continue
            if f.kind in (Kind.BYTES, *_ADDRESS_BYTES):
                raise TypeError(f"{f.name}: byte-valued field must be byte aligned")
            if group is None:
                group = _Unit("", [], f.bit_offset, 0)
            group.fields.append(f)
            group.bit_width += f.bit_width
            if group.bit_width in _INT_CODES:
                group.code = _INT_CODES[group.bit_width]
                units.append(group)
                group = None
            elif group.bit_width > 64:
                raise TypeError(f"{self.layer}: bit group at {group.bit_offset} is not 8/16/32/64")
        if group is not None:
            raise TypeError(f"{self.layer}: bit group at {group.bit_offset} ends unaligned")
        self._units = units
        self.struct = struct.Struct("!" + "".join(u.code for u in units))
        self.decode: Callable[[Any, int], dict[str, Any]] = self._make_decoder()
        self.encode: Callable[[Mapping[str, Any]], bytes] = self._make_encoder()

    def _value_expr(self, f: Field, unit_var: str, unit: _Unit) -> str:
        if f.kind is Kind.MAC:
            return f"_mac({unit_var})"
        if f.kind is Kind.IPV4:
            return f"_ip4({unit_var})"
        if f.kind is Kind.IPV6:
            return f"_ip6({unit_var})"
        if f.kind is Kind.BYTES:
            return unit_var
        shift = unit.bit_offset + unit.bit_width - (f.bit_offset + f.bit_width)
        mask = (1 << f.bit_width) - 1
        expr = unit_var
        if shift:
            expr = f"({expr} >> {shift})"
        if f.bit_width != unit.bit_width:
            expr = f"({expr} & {mask})"
        if f.scale != 1:
            expr = f"{expr} * {f.scale}"
        return expr

    def _make_decoder(self) -> Callable[[Any, int], dict[str, Any]]:
        names = [f"u{i}" for i in range(len(self._units))]
        lines = ["def decode(buf, offset):"]
        target = ", ".join(names) + ("," if len(names) == 1 else "")
        lines.append(f"    {target} = _unpack(buf, offset)")
        items: list[str] = []
        for var, unit in zip(names, self._units, strict=True):
            for f in unit.fields:
                items.append(f"{f.name!r}: {self._value_expr(f, var, unit)}")
                for sub in self.fields:
                    parent = self.parent_of.get(sub.name)
                    if parent is f:
                        pseudo = _Unit("", [], f.bit_offset, f.bit_width)
                        parent_value = self._value_expr(f, var, unit)
                        items.append(f"{sub.name!r}: {self._value_expr(sub, parent_value, pseudo)}")
        lines.append("    return {" + ", ".join(items) + "}")
        scope: dict[str, Any] = {
            "_unpack": self.struct.unpack_from,
            "_mac": format_mac,
            "_ip4": format_ipv4,
            "_ip6": format_ipv6,
        }
        exec("\n".join(lines), scope)
        decoder: Callable[[Any, int], dict[str, Any]] = scope["decode"]
        return decoder

    def _make_encoder(self) -> Callable[[Mapping[str, Any]], bytes]:
        args: list[str] = []
        for unit in self._units:
            if len(unit.fields) == 1 and unit.fields[0].bit_width == unit.bit_width:
                args.append(f"v[{unit.fields[0].name!r}]")
                continue
            parts = []
            for f in unit.fields:
                shift = unit.bit_offset + unit.bit_width - (f.bit_offset + f.bit_width)
                parts.append(f"(v[{f.name!r}] << {shift})" if shift else f"v[{f.name!r}]")
            args.append(" | ".join(parts))
        source = "def encode(v):\n    return _pack(" + ", ".join(args) + ")"
        scope: dict[str, Any] = {"_pack": self.struct.pack}
        exec(source, scope)
        encoder: Callable[[Mapping[str, Any]], bytes] = scope["encode"]
        return encoder

    # ------------------------------------------------------------------ building support

    def field(self, key: str) -> Field:
        """Look a field up by full name (``ip.ttl``) or building keyword (``ttl``)."""
        found = self.by_name.get(key) or self.by_short.get(key)
        if found is None:
            known = ", ".join(self.short(f) for f in self.fields)
            raise KeyError(f"{self.layer} has no field {key!r}; its fields are: {known}")
        return found

    def wire_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Turn user values (full names, top-level and sub-fields) into encodable wire values.

        Sub-fields are merged into their parent; a parent set explicitly wins over its parts'
        defaults but parts set explicitly are applied on top, like setting bits in a register.
        """
        wire: dict[str, Any] = {}
        subs: list[tuple[Field, int]] = []
        for name, value in values.items():
            f = self.field(name)
            converted = f.to_wire(value)
            if f.name in self.parent_of:
                assert isinstance(converted, int)
                subs.append((f, converted))
            else:
                wire[f.name] = converted
        for f, bits in subs:
            parent = self.parent_of[f.name]
            shift = parent.bit_offset + parent.bit_width - (f.bit_offset + f.bit_width)
            mask = ((1 << f.bit_width) - 1) << shift
            current = wire.get(parent.name, 0)
            wire[parent.name] = (current & ~mask) | (bits << shift)
        return wire

    def __repr__(self) -> str:
        return f"<Header {self.layer}: {len(self.fields)} fields, {self.size} bytes>"

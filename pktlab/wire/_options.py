"""Type-length-value options, declared once per kind and shared by TCP, IPv4, IPv6 and NDP.

Each option kind is an :class:`OptionKind`: a :class:`~pktlab.wire._model.Header` for its fixed
part (kind and length included) and, as declared data, what follows the fixed part: either a
*repeat* declaration for one list item (SACK blocks, recorded routes, time stamps, DNS servers)
or a *data* field naming the option's trailing bytes as Wireshark does (``ipv6.opt.padn``,
``icmpv6.opt.redirected_packet``, ``tcp.options.tfo.cookie``); plus the only legal length where
there is one, building defaults (an IPv4 route's pointer starts at 4) and sanity rules. The
unknown kind of each protocol is an :class:`OptionKind` too, so its data carries Wireshark's
name (``tcp.options.unknown.payload``, ``ipv6.opt.unknown``, ``icmpv6.unknown_data``).

Parsing turns each option into a child :class:`~pktlab.wire._packet.Layer` of the header that
carries it, so option fields get bit positions, hex highlighting and JSON exactly like header
fields. Building reads the same declarations, and :meth:`OptionCodec.specs` turns parsed
options back into build specs that reproduce them byte for byte: well-formed options from their
fields, unknown kinds as ``(kind, data)``, and malformed options from their raw bytes, which
every malformed option keeps in ``<layer>.data`` (its bytes after type and length).

The protocols differ only in how the length byte counts: TCP and IPv4 count the whole option
(RFC 9293 section 3.1, RFC 791 section 3.1), IPv6 options exclude the two type and length bytes
(RFC 8200 section 4.2), NDP counts units of 8 bytes (RFC 4861 section 4.6). That is the
``total_length`` function of an :class:`OptionCodec` (and ``align``, the unit whole options are
padded to when built).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pktlab.wire._model import Field, Header, Kind
from pktlab.wire._packet import Layer


def data_field(header: Header, name: str, meaning: str) -> Field:
    """The declaration of an option's trailing bytes: variable length, after ``header``."""
    return Field(name, header.size * 8, 0, Kind.BYTES, meaning)


@dataclass(frozen=True)
class OptionKind:
    """One option kind: its number, short name, declarations and rules."""

    kind: int
    name: str  # short name used when building: "mss", "wscale", "sack"
    header: Header  # fixed part, including the kind (and length) fields
    # One list item, repeated to fill the option; a function of the fixed fields when the
    # item's layout depends on them (the IPv4 time stamp option's flag).
    repeat: Header | Callable[[dict[str, Any]], Header] | None = None
    length: int | None = None  # the only legal total length, when there is one
    check: Callable[[Layer], None] | None = None  # sanity rules beyond the lengths
    extra: Callable[[Layer], None] | None = None  # derived fields (wscale multiplier)
    # The bytes after the fixed part (see data_field); None: "<layer>.data".
    data: Field | None = None
    show_empty: bool = False  # show the data field even when empty, as Wireshark does PadN
    # Building defaults for fields the user leaves out (full names or keywords); fields
    # with neither a default nor a value are zero.
    defaults: Mapping[str, Any] = field(default_factory=dict)

    @property
    def data_name(self) -> str:
        return self.data.name if self.data is not None else self.header.layer + ".data"


def _reserved(f: Field) -> bool:
    return "reserved" in f.name.rsplit(".", 1)[-1]


def _zero(f: Field) -> Any:
    # Addresses and byte fields accept raw bytes of their size.
    return 0 if f.kind in (Kind.UINT, Kind.FLAG, Kind.ENUM) else bytes(f.bit_width // 8)


class OptionCodec:
    """Parses and builds one protocol's option list."""

    def __init__(
        self,
        protocol: str,
        kinds: Sequence[OptionKind],
        *,
        kind_field: Field,
        length_field: Field,
        unknown: OptionKind,
        one_byte: Mapping[int, OptionKind],
        total_length: Callable[[int], int],
        length_value: Callable[[int], int],
        reference: str,
        stop_after: int | None = None,
        align: int = 1,
        zero_length: str = "",
    ) -> None:
        self.protocol = protocol
        self.by_kind = {k.kind: k for k in kinds}
        self.by_kind.update(one_byte)
        self.by_name = {k.name: k for k in self.by_kind.values()}
        self.kind_field = kind_field
        self.length_field = length_field
        self.unknown_option = unknown
        self.unknown = unknown.header
        self.one_byte = one_byte
        self.total_length = total_length
        self.length_value = length_value
        self.reference = reference  # the RFC section problems cite
        self.stop_after = stop_after  # end-of-list kind: what follows is padding
        self.align = align  # whole options are multiples of this many bytes (NDP: 8)
        self.zero_length = zero_length  # what the protocol says of a length byte of 0

    # -------------------------------------------------------------------------- parsing

    def parse(self, parent: Layer, data: bytes, start: int, end: int) -> None:
        """Decode ``data[start:end]`` into option children of ``parent``; never raises."""
        offset = start
        children = parent._children
        while offset < end:
            kind = data[offset]
            option = self.one_byte.get(kind)
            if option is not None:
                child = Layer(option.header.layer, option.header, offset, 1,
                              option.header.decode(data, offset), parent.quoted)
                children.append(child)
                offset += 1
                if kind == self.stop_after:
                    if any(data[offset:end]):
                        child.note(f"{end - offset} non-zero bytes after end of option list "
                                   f"({self.reference})")
                    if offset < end:
                        child._fields[f"{self.protocol}.options.padding"] = data[offset:end]
                        child.length = end - start - (offset - 1 - start)
                    break
                continue
            option = self.by_kind.get(kind)
            title = option.header.title if option else f"option {kind}"
            if end - offset < 2:
                self._broken(parent, data, offset, end, f"{title}: no room for the length byte "
                             f"({self.reference})")
                break
            total = self.total_length(data[offset + 1])
            if total < 2:
                rule = (f"option length 0: {self.zero_length}"
                        if self.zero_length and data[offset + 1] == 0
                        else f"length {data[offset + 1]} is too small")
                self._broken(parent, data, offset, end, f"{title}: {rule} ({self.reference})",
                             self.length_field.name)
                break
            if offset + total > end:
                self._broken(parent, data, offset, end,
                             f"{title}: length {total} runs past the end of the options "
                             f"({end - offset} bytes left; {self.reference})",
                             self.length_field.name)
                break
            if option is None:
                child = self._decode(self.unknown_option, data, offset, total, parent.quoted)
                child.note(f"unknown option kind {kind} kept raw", self.kind_field.name)
            else:
                child = self._decode(option, data, offset, total, parent.quoted)
            children.append(child)
            offset += total

    def _decode(self, option: OptionKind, data: bytes, offset: int, total: int,
                quoted: bool) -> Layer:
        header = option.header
        if total < header.size or (option.length is not None and total != option.length):
            child = Layer(header.layer, header, offset, total,
                          {self.kind_field.name: data[offset],
                           self.length_field.name: data[offset + 1]}, quoted)
            want = option.length if option.length is not None else f"at least {header.size}"
            child.error(f"{header.title}: length {total}, expected {want} ({self.reference})",
                        self.length_field.name)
            self.keep_raw(child, data)
            return child
        child = Layer(header.layer, header, offset, total, header.decode(data, offset), quoted)
        rest = total - header.size
        at = offset + header.size
        if option.repeat is not None:
            item = option.repeat if isinstance(option.repeat, Header) else option.repeat(
                child._fields)
            for _ in range(rest // item.size):
                child._children.append(
                    Layer(item.layer, item, at, item.size, item.decode(data, at), quoted))
                at += item.size
            if rest % item.size:
                child.error(f"{header.title}: {rest % item.size} bytes left over after "
                            f"{rest // item.size} items of {item.size} bytes "
                            f"({self.reference})", self.length_field.name)
        elif rest or option.show_empty:
            child._fields[option.data_name] = data[at:offset + total]
        if option.extra is not None:
            option.extra(child)
        if option.check is not None:
            option.check(child)
        if child.malformed:
            self.keep_raw(child, data)
        return child

    def _broken(self, parent: Layer, data: bytes, offset: int, end: int, message: str,
                field: str | None = None) -> None:
        child = Layer(self.unknown.layer, None, offset, end - offset,
                      {self.unknown.layer + ".data": data[offset:end]}, parent.quoted)
        child.error(message, field)
        parent._children.append(child)

    def keep_raw(self, child: Layer, data: bytes) -> None:
        """Keep a malformed option's bytes after type and length, so that it rebuilds exactly."""
        fields = child._fields
        if self.kind_field.name in fields and self.length_field.name in fields:
            fields[child.name + ".data"] = data[child.offset + 2:child.offset + child.length]

    def error(self, child: Layer, data: bytes, message: str, field: str) -> None:
        """Report an error a protocol rule found in a parsed option; it then rebuilds raw."""
        child.error(message, field)
        self.keep_raw(child, data)

    # ------------------------------------------------------------------------- building

    def build(self, options: Sequence[Any]) -> bytes:
        """Encode a list of options.

        Each item is raw ``bytes``, an option name (``"nop"``, ``"sack_perm"``), or a pair
        ``(name_or_kind, value)``; value is

        * a mapping of field keywords or full names, ``"items"`` for a list-carrying option
          and ``"data"`` (or the data field's name) for the bytes after the fixed part;
        * ``bytes``: the data after the fixed part (``("padn", bytes(4))``,
          ``("security", bytes(9))``), also for a kind the codec does not know
          (``(34, b"cookie")``);
        * a list of items for a list-carrying option (``("sack", [(1, 100), (200, 300)])``);
        * a single value for the one field a caller must give (``("mss", 1460)``,
          ``("mtu", 1500)``: reserved fields and fields with a default are not counted).

        Lengths are computed unless given; fields left out take the option's defaults, else
        zero; data is padded with zeros to whole units (NDP: 8 bytes).
        """
        out = bytearray()
        for item in options:
            if isinstance(item, (bytes, bytearray)):
                out += item
                continue
            if isinstance(item, str):
                name, value = item, None
            else:
                name, value = item
            option = self.by_kind.get(name) if isinstance(name, int) else self.by_name.get(name)
            if option is None and isinstance(name, int):
                out += self._encode(self.unknown_option, value, name)
                continue
            if option is None:
                known = ", ".join(sorted(self.by_name))
                raise ValueError(f"{self.protocol}: unknown option {name!r}; known: {known}")
            out += self._encode(option, value, option.kind)
        return bytes(out)

    def _encode(self, option: OptionKind, value: Any, kind: int) -> bytes:
        header = option.header
        structural = (self.kind_field.name, self.length_field.name)
        own = [f for f in header.top if f.name not in structural]
        values: dict[str, Any] = {}
        items: list[Any] = []
        data = b""
        loose: dict[str, Any] = {}  # keys that are no header field: the data, or a mistake
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
        elif isinstance(value, Mapping):
            for key, v in value.items():
                if key == "items":
                    items = list(v)
                elif key in header.by_name or key in header.by_short:
                    values[header.field(key).name] = v
                else:
                    loose[key] = v
        elif option.repeat is not None and value is not None:
            items = list(value)
        elif value is not None:
            defaults = {header.field(k).name for k in option.defaults}
            fill = [f for f in own if not _reserved(f) and f.name not in defaults]
            if len(fill) != 1:
                wanted = [header.short(f) for f in own]
                raise ValueError(f"{header.title}: give a mapping of {wanted}")
            values[fill[0].name] = value
        if kind in self.one_byte:
            if data or items or loose:
                raise ValueError(f"{header.title}: a one-byte option carries no data")
            values.setdefault(self.kind_field.name, kind)
            return header.encode(header.wire_values(values))
        for key, v in option.defaults.items():
            values.setdefault(header.field(key).name, v)
        values.setdefault(self.kind_field.name, kind)
        for f in own:
            values.setdefault(f.name, _zero(f))
        # The fixed fields as parsing shows them: what the item layout depends on.
        fixed = header.decode(header.encode(header.wire_values(
            {**values, self.length_field.name: values.get(self.length_field.name, 0)})), 0)
        data_name = option.data_name
        for key, v in loose.items():
            if key not in ("data", data_name, data_name.rsplit(".", 1)[-1]):
                known = ", ".join(header.short(f) for f in own)
                raise KeyError(f"{header.layer} has no field {key!r}; its fields are: "
                               f"{known}, data")
            data = bytes(v)
        body = b""
        if items and option.repeat is None:
            raise ValueError(f"{header.title} carries no list of items")
        if option.repeat is not None:
            repeat = option.repeat if isinstance(option.repeat, Header) else option.repeat(fixed)
            for entry in items:
                if isinstance(entry, Mapping):
                    named = {repeat.field(k).name: v for k, v in entry.items()}
                else:
                    entry = entry if isinstance(entry, (tuple, list)) else (entry,)
                    named = {f.name: v for f, v in zip(repeat.top, entry, strict=False)}
                body += repeat.encode(repeat.wire_values(named))
        body += data
        body += bytes(-(header.size + len(body)) % self.align)
        total = header.size + len(body)
        if self.length_field.name not in values:
            length = self.length_value(total)
            if not 0 <= length < 1 << self.length_field.bit_width or (
                    self.total_length(length) != total):
                raise ValueError(f"{header.title}: an option of {total} bytes cannot be "
                                 f"encoded ({self.length_field.name} {length})")
            values[self.length_field.name] = length
        return header.encode(header.wire_values(values)) + body

    def specs(self, children: Sequence[Layer], parent_fields: Mapping[str, Any]) -> list[Any]:
        """Option entries that rebuild ``children`` exactly (see ``Builder.layer_values``)."""
        out: list[Any] = []
        for child in children:
            fields = child.fields
            kind = fields.get(self.kind_field.name, -1)
            option = self.by_kind.get(kind)
            if child.header is None or child.malformed:
                out.append(self._raw(child))
                continue
            if child.header is self.unknown or option is None:
                out.append((kind, bytes(fields.get(self.unknown_option.data_name, b""))))
                continue
            values: dict[str, Any] = {f.name: fields[f.name] for f in child.header.top}
            if option.repeat is not None:
                values["items"] = [
                    {f.name: item.fields[f.name] for f in item.header.top}
                    for item in child.children if item.header is not None
                ]
            elif option.data_name in fields:
                values[option.data_name] = bytes(fields[option.data_name])
            out.append((option.kind, values))
            padding = fields.get(f"{self.protocol}.options.padding")
            if padding:
                out.append(bytes(padding))
        return out

    def _raw(self, child: Layer) -> bytes:
        """The original bytes of an option kept raw (malformed, or cut short)."""
        fields = child.fields
        data = bytes(fields.get(child.name + ".data", b""))
        kind, length = self.kind_field.name, self.length_field.name
        if kind in fields and length in fields:
            return bytes((fields[kind], fields[length])) + data
        return data

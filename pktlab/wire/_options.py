"""Type-length-value options, declared once per kind and shared by TCP, IPv4, IPv6 and NDP.

Each option kind is a :class:`~pktlab.wire._model.Header` (its fixed part, kind and length
included) plus, where the option carries a list (SACK blocks, recorded routes, timestamps), a
*repeat* declaration for one list item. Parsing turns each option into a child
:class:`~pktlab.wire._packet.Layer` of the header that carries it, so option fields get bit
positions, hex highlighting and JSON exactly like header fields. Building reads the same
declarations.

The protocols differ only in how the length byte counts: TCP and IPv4 count the whole option
(RFC 9293 section 3.1, RFC 791 section 3.1), IPv6 options exclude the two type and length bytes
(RFC 8200 section 4.2), NDP counts units of 8 bytes (RFC 4861 section 4.6). That is the
``total_length`` function of an :class:`OptionCodec`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pktlab.wire._model import Field, Header
from pktlab.wire._packet import Layer


@dataclass(frozen=True)
class OptionKind:
    """One option kind: its number, short name, declarations and length rule."""

    kind: int
    name: str  # short name used when building: "mss", "wscale", "sack"
    header: Header  # fixed part, including the kind (and length) fields
    # One list item, repeated to fill the option; a function of the fixed fields when the
    # item's layout depends on them (the IPv4 time stamp option's flag).
    repeat: Header | Callable[[dict[str, Any]], Header] | None = None
    length: int | None = None  # the only legal total length, when there is one
    check: Callable[[Layer], None] | None = None  # sanity rules beyond the lengths
    extra: Callable[[Layer], None] | None = None  # derived fields (wscale multiplier)


class OptionCodec:
    """Parses and builds one protocol's option list."""

    def __init__(
        self,
        protocol: str,
        kinds: Sequence[OptionKind],
        *,
        kind_field: Field,
        length_field: Field,
        unknown: Header,
        one_byte: Mapping[int, OptionKind],
        total_length: Callable[[int], int],
        length_value: Callable[[int], int],
        stop_after: int | None = None,
    ) -> None:
        self.protocol = protocol
        self.by_kind = {k.kind: k for k in kinds}
        self.by_kind.update(one_byte)
        self.by_name = {k.name: k for k in self.by_kind.values()}
        self.kind_field = kind_field
        self.length_field = length_field
        self.unknown = unknown
        self.one_byte = one_byte
        self.total_length = total_length
        self.length_value = length_value
        self.stop_after = stop_after  # end-of-list kind: what follows is padding

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
                        child.note(f"{end - offset} non-zero bytes after end of option list")
                    if offset < end:
                        child._fields[f"{self.protocol}.options.padding"] = data[offset:end]
                        child.length = end - start - (offset - 1 - start)
                    break
                continue
            option = self.by_kind.get(kind)
            title = option.header.title if option else f"option {kind}"
            if end - offset < 2:
                self._broken(parent, data, offset, end, f"{title}: no room for the length byte")
                break
            total = self.total_length(data[offset + 1])
            if total < 2:
                self._broken(parent, data, offset, end,
                             f"{title}: length {data[offset + 1]} is too small",
                             self.length_field.name)
                break
            if offset + total > end:
                self._broken(parent, data, offset, end,
                             f"{title}: length {total} runs past the end of the options "
                             f"({end - offset} bytes left)", self.length_field.name)
                break
            if option is None:
                child = Layer(self.unknown.layer, self.unknown, offset, total,
                              self.unknown.decode(data, offset), parent.quoted)
                child._fields[self.unknown.layer + ".data"] = data[offset + 2:offset + total]
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
            child.error(f"{header.title}: length {total}, expected {want}",
                        self.length_field.name)
            child._fields[header.layer + ".data"] = data[offset + 2:offset + total]
            return child
        child = Layer(header.layer, header, offset, total, header.decode(data, offset), quoted)
        rest = total - header.size
        if option.repeat is not None:
            item = option.repeat if isinstance(option.repeat, Header) else option.repeat(
                child._fields)
            at = offset + header.size
            for _ in range(rest // item.size):
                child._children.append(
                    Layer(item.layer, item, at, item.size, item.decode(data, at), quoted))
                at += item.size
            if rest % item.size:
                child.error(f"{header.title}: {rest % item.size} bytes left over after "
                            f"{rest // item.size} items of {item.size} bytes",
                            self.length_field.name)
        elif rest:
            child._fields[header.layer + ".data"] = data[offset + header.size:offset + total]
        if option.extra is not None:
            option.extra(child)
        if option.check is not None:
            option.check(child)
        return child

    def _broken(self, parent: Layer, data: bytes, offset: int, end: int, message: str,
                field: str | None = None) -> None:
        child = Layer(self.unknown.layer, None, offset, end - offset,
                      {self.unknown.layer + ".data": data[offset:end]}, parent.quoted)
        child.error(message, field)
        parent._children.append(child)

    # ------------------------------------------------------------------------- building

    def build(self, options: Sequence[Any]) -> bytes:
        """Encode a list of options.

        Each item is raw ``bytes``, an option name (``"nop"``, ``"sack_perm"``), or a pair
        ``(name_or_kind, values)`` where values is a mapping of field keywords, a single value
        for a one-field option (``("mss", 1460)``), or, for list-carrying options, a list of
        items (``("sack", [(1, 100), (200, 300)])``).
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
            if option is None:
                known = ", ".join(sorted(self.by_name))
                raise ValueError(f"{self.protocol}: unknown option {name!r}; known: {known}")
            out += self._encode(option, value)
        return bytes(out)

    def _encode(self, option: OptionKind, value: Any) -> bytes:
        header = option.header
        own = [f for f in header.top if f.name not in (self.kind_field.name,
                                                       self.length_field.name)]
        values: dict[str, Any] = {}
        items: list[Any] = []
        if isinstance(value, Mapping):
            for key, v in value.items():
                if key == "items":
                    items = list(v)
                else:
                    values[header.field(key).name] = v
        elif option.repeat is not None and value is not None:
            items = list(value)
        elif value is not None:
            if len(own) != 1:
                wanted = [header.short(f) for f in own]
                raise ValueError(f"{header.title}: give a mapping of {wanted}")
            values[own[0].name] = value
        body = b""
        if option.repeat is not None:
            repeat = option.repeat if isinstance(option.repeat, Header) else option.repeat(
                {f.name: values.get(f.name, 0) for f in own})
            for entry in items:
                if isinstance(entry, Mapping):
                    named = {repeat.field(k).name: v for k, v in entry.items()}
                else:
                    entry = entry if isinstance(entry, (tuple, list)) else (entry,)
                    named = {f.name: v for f, v in zip(repeat.top, entry, strict=False)}
                body += repeat.encode(repeat.wire_values(named))
        values.setdefault(self.kind_field.name, option.kind)
        if option.kind not in self.one_byte:
            total = header.size + len(body)
            values.setdefault(self.length_field.name, self.length_value(total))
        for f in own:
            values.setdefault(f.name, 0)
        return header.encode(header.wire_values(values)) + body

    def specs(self, children: Sequence[Layer], parent_fields: Mapping[str, Any]) -> list[Any]:
        """Option entries that rebuild ``children`` exactly (see ``Builder.layer_values``)."""
        out: list[Any] = []
        for child in children:
            option = self.by_kind.get(child.fields.get(self.kind_field.name, -1))
            if child.header is None or child.malformed or option is None or (
                    child.header is self.unknown):
                out.append(self._raw(child))
                continue
            values = {f.name: child.fields[f.name] for f in child.header.top}
            extra = child.fields.get(child.header.layer + ".data")
            if extra is not None and option.repeat is None:
                # Bytes beyond the declared fields: carry the option raw, length as found.
                header = child.header
                out.append(header.encode(header.wire_values(values)) + bytes(extra))
                continue
            if option.repeat is not None:
                values["items"] = [
                    {f.name: item.fields[f.name] for f in item.header.top}
                    for item in child.children if item.header is not None
                ]
            out.append((option.kind, values))
            padding = child.fields.get(f"{self.protocol}.options.padding")
            if padding:
                out.append(bytes(padding))
        return out


    def _raw(self, child: Layer) -> bytes:
        """The original bytes of an option kept raw (unknown kind or malformed)."""
        fields = child.fields
        data = bytes(fields.get(child.name + ".data", b""))
        kind, length = self.kind_field.name, self.length_field.name
        if kind in fields and length in fields:
            return bytes((fields[kind], fields[length])) + data
        return data

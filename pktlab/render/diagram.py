"""RFC-style bit diagrams of a packet's headers, filled in with the packet's values.

One diagram per header, 32 bits to a row, drawn from the field declarations alone::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |            srcport            |            dstport            |
    |             40000             |               80              |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

* Cells are the top-level fields of the layer's declarations (its header, then any extra
  header such as ICMP's rest of header). A field split into sub-fields that fill it exactly
  (``tcp.flags`` into its flags) is drawn as those sub-fields, flags as one-bit cells.
* **Labels** are short names taken from the Wireshark names: a top-level field's label is the
  building keyword (:meth:`Header.short`: ``srcport``, ``hdr_len``, ``flags_df``...); a sub-field
  cell's label is the last part of its name (``dscp``, ``res``), upper case for a flag or its
  abbreviation from the meaning (``SYN``, ``DF``). A label too wide for its cell is wrapped, and
  written top to bottom in a one-bit cell, as the RFCs do for TCP's flags.
* The **value line** shows this packet's value: the described value when it fits (``6 (TCP)``),
  else the bare number, else cut with ``…``.
* A field wider than a row (IPv6 addresses, MAC addresses) continues on the next rows, with
  ``+   +`` separators where it does; its label and value sit in its widest row.
* Options and other sub-headers get their own small diagram after their layer's, with their
  own sub-headers (SACK blocks) drawn inside it at their offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from rich.text import Text

from pktlab.render import (
    FieldMap,
    TextBuilder,
    format_bytes,
    headers_of,
    layer_title,
    short_label,
    sub_fields,
)
from pktlab.wire._model import Field, Header, Kind
from pktlab.wire._packet import Layer, Packet

BITS = 32
MAX_ROWS = 64  # longer diagrams (hundreds of bytes of raw addresses) are cut


@dataclass(slots=True)
class _Cell:
    start: int  # bit offset within the diagram
    width: int
    label: str
    value: str
    compact: str
    style: str


@dataclass(slots=True)
class _Segment:
    cell: int
    column: int  # first bit within the row
    width: int


def render_diagram(packet: Packet, *, field_map: FieldMap | None = None) -> Text:
    """Bit diagrams of every declared header of a packet, options after their layer."""
    fmap = field_map if field_map is not None else FieldMap(packet)
    out = TextBuilder()
    for layer in packet.layers:
        if layer.header is None and not layer.extra_headers:
            continue
        _layer_diagram(out, layer, fmap, inline_children=False)
        for child in layer.children:
            if child.header is not None or child.extra_headers:
                _layer_diagram(out, child, fmap, inline_children=True)
    return out.text()


def layer_diagram(layer: Layer, fmap: FieldMap, *, inline_children: bool = False) -> Text:
    """One layer's diagram; ``inline_children`` draws its sub-layers inside it."""
    out = TextBuilder()
    _layer_diagram(out, layer, fmap, inline_children=inline_children)
    return out.text()


def _layer_diagram(out: TextBuilder, layer: Layer, fmap: FieldMap, *,
                   inline_children: bool) -> None:
    cells: list[_Cell] = []
    _collect(layer, layer.offset, fmap, cells, inline_children)
    if out.written:
        out.append("\n\n")
    out.append(layer_title(layer), "bold")
    if layer.quoted:
        out.append(" (quoted)", "dim")
    if layer.header is not None and layer.header.reference:
        out.append(f"  {layer.header.reference}", "dim")
    _draw(out, _tile(cells))


def _collect(layer: Layer, origin: int, fmap: FieldMap, cells: list[_Cell],
             inline_children: bool) -> None:
    fields = layer.fields
    for header, offset in headers_of(layer):
        base = (offset - origin) * 8
        for f, label, parent in _layout(header):
            span = fmap.lookup(layer, parent.name)
            cells.append(_cell(f, base, fields, label, span.style if span is not None else ""))
    if inline_children:
        for child in layer.children:
            _collect(child, origin, fmap, cells, True)


@cache
def _layout(header: Header) -> tuple[tuple[Field, str, Field], ...]:
    """A header's cells as (field, label, top-level field it belongs to), worked out once."""
    out: list[tuple[Field, str, Field]] = []
    subs_of = sub_fields(header)
    for f in header.top:
        subs = subs_of.get(f.name, ())
        if subs and _tiles(f, subs):
            out.extend((sub, short_label(sub), f) for sub in subs)
        else:
            out.append((f, short_label(f) if f.kind is Kind.FLAG else header.short(f), f))
    return tuple(out)


def _tiles(parent: Field, subs: tuple[Field, ...]) -> bool:
    at = parent.bit_offset
    for sub in subs:
        if sub.bit_offset != at:
            return False
        at += sub.bit_width
    return at == parent.bit_offset + parent.bit_width


def _cell(f: Field, base: int, fields: dict[str, Any], label: str, style: str) -> _Cell:
    value = fields.get(f.name)
    full, compact = _value_texts(f, value)
    return _Cell(base + f.bit_offset, f.bit_width, label, full, compact, style)


def _value_texts(f: Field, value: Any) -> tuple[str, str]:
    if value is None:
        return "", ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        text = format_bytes(bytes(value), 64)
        return text, text
    if f.kind is Kind.FLAG:
        return str(int(bool(value))), str(int(bool(value)))
    if isinstance(value, int):
        compact = f"0x{value:x}" if f.hex else str(value)
        return f.describe(value), compact
    return str(value), str(value)


def _tile(cells: list[_Cell]) -> list[_Cell]:
    """Cells in bit order with blank cells filling any gap and overlaps dropped."""
    out: list[_Cell] = []
    at = 0
    for cell in sorted(cells, key=lambda c: c.start):
        if cell.start < at or cell.width <= 0:
            continue
        if cell.start > at:
            out.append(_Cell(at, cell.start - at, "", "", "", ""))
        out.append(cell)
        at = cell.start + cell.width
    return out


def _draw(out: TextBuilder, cells: list[_Cell]) -> None:
    if not cells:
        out.append("\n(no fields)", "dim")
        return
    total = cells[-1].start + cells[-1].width
    rows: list[list[_Segment]] = [[] for _ in range((total + BITS - 1) // BITS)]
    for index, cell in enumerate(cells):
        at, end = cell.start, cell.start + cell.width
        while at < end:
            line, column = divmod(at, BITS)
            width = min(end, (line + 1) * BITS) - at
            rows[line].append(_Segment(index, column, width))
            at += width
    shown = _display_segments(rows)
    cut = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    _ruler(out, min(BITS, total))
    out.append("\n" + _separator(None, rows[0]))
    for number, row in enumerate(rows):
        _row_lines(out, number, rows, cells, shown)
        below = rows[number + 1] if number + 1 < len(rows) else None
        out.append("\n" + _separator(row, below))
    if cut:
        more = (total + BITS - 1) // BITS - MAX_ROWS
        out.append(f"\n... {more} more rows not shown", "dim")


def _display_segments(rows: list[list[_Segment]]) -> set[tuple[int, int]]:
    """(row, cell) pairs where a cell's label and value go: its widest segment, first if tied."""
    best: dict[int, tuple[int, int]] = {}
    for number, row in enumerate(rows):
        for segment in row:
            current = best.get(segment.cell)
            if current is None or segment.width > current[1]:
                best[segment.cell] = (number, segment.width)
    return {(number, cell) for cell, (number, _) in best.items()}


def _ruler(out: TextBuilder, width: int) -> None:
    tens = "".join(f" {b // 10}" if b % 10 == 0 else "  " for b in range(width))
    ones = "".join(f" {b % 10}" for b in range(width))
    out.append("\n" + tens.rstrip() + "\n" + ones, "dim")


def _separator(above: list[_Segment] | None, below: list[_Segment] | None) -> str:
    """The ``+-+-+`` line between two rows, open (``+     +``) where a field goes on."""
    width = max(_width(above), _width(below))
    line = "+-" * width + "+"
    # Only a field ending one row and starting the next can go on across the line.
    if above and below and above[-1].cell == below[0].cell:
        low, high = above[-1].column, below[0].width
        if low < high:
            line = line[:2 * low + 1] + " " * (2 * (high - low) - 1) + line[2 * high:]
    return line


def _width(row: list[_Segment] | None) -> int:
    return sum(segment.width for segment in row) if row else 0


def _row_lines(out: TextBuilder, number: int, rows: list[list[_Segment]], cells: list[_Cell],
               shown: set[tuple[int, int]]) -> None:
    row = rows[number]
    labels: list[list[str]] = []
    values: list[str] = []
    for segment in row:
        inner = 2 * segment.width - 1
        cell = cells[segment.cell]
        if (number, segment.cell) in shown:
            labels.append(_label_lines(cell.label, inner))
            values.append(_fit_value(cell, inner))
        elif cell.label and not _joined(segment, number, rows):
            # A piece of a field cut by the row end, not visibly joined to the rest of it.
            labels.append([_fit(f"({cell.label})", inner)])
            values.append("")
        else:
            labels.append([])
            values.append("")
    height = max((len(lines) for lines in labels), default=0)
    for line_number in range(height):
        parts = ["\n|"]
        for segment, lines in zip(row, labels, strict=True):
            # Labels are bottom-aligned so that every value sits on the row's last line.
            index = line_number - (height - len(lines))
            text = lines[index] if index >= 0 else ""
            parts.append(text.center(2 * segment.width - 1))
            parts.append("|")
        out.append("".join(parts))
    out.append("\n|")
    for segment, value in zip(row, values, strict=True):
        out.append(value.center(2 * segment.width - 1), cells[segment.cell].style)
        out.append("|")


def _joined(segment: _Segment, number: int, rows: list[list[_Segment]]) -> bool:
    """Whether a segment shares columns with a segment of its cell in the row above or below,
    so that the open separator joins them."""
    neighbours = []
    if number > 0 and rows[number - 1]:
        neighbours.append(rows[number - 1][-1])
    if number + 1 < len(rows) and rows[number + 1]:
        neighbours.append(rows[number + 1][0])
    return any(other.cell == segment.cell and other.column < segment.column + segment.width
               and segment.column < other.column + other.width for other in neighbours)


def _label_lines(label: str, width: int) -> list[str]:
    if not label:
        return []
    if len(label) <= width:
        return [label]
    if width <= 2:
        return list(label)  # written top to bottom, as RFC 9293 writes its flags
    words = label.replace(".", "_").split("_")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current}_{word}" if current else word
        if len(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(word) > width:
            lines.append(word[:width])
            word = word[width:]
        current = word
    if current:
        lines.append(current)
    return lines


def _fit_value(cell: _Cell, width: int) -> str:
    for text in (cell.value, cell.compact):
        if len(text) <= width:
            return text
    return _fit(cell.compact, width)


def _fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return text[: width - 1] + "…"

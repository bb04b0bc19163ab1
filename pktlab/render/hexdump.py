"""The hex dump: offset, 16 bytes in hex, the same bytes as ASCII, coloured field by field.

Each byte takes the colour of the declared field covering it (:class:`FieldMap`), the same
colour the field tree gives that field; bytes no field covers (payload data, padding, option
data) are dim. Without colour the link to the tree is the *key line* under each row: the key of
every field starting in that row, written under its first byte (``4,5`` when two fields start
in the same byte, like IPv4's version and header length). Rows without a field start, such as
payload rows, get no key line.
"""

from __future__ import annotations

from rich.text import Span, Text

from pktlab.render import UNCOVERED_STYLE, FieldMap, FieldSpan, make_text
from pktlab.wire._packet import Packet

ROW = 16


def render_hexdump(packet: Packet, *, keys: bool = True,
                   field_map: FieldMap | None = None) -> Text:
    """The coloured hex dump of a packet's captured bytes; ``keys`` adds the key lines."""
    fmap = field_map if field_map is not None else FieldMap(packet)
    data = packet.data
    if not data:
        return Text("(no bytes captured)", style=UNCOVERED_STYLE)
    runs = _runs(fmap.spans, len(data))
    labels = _labels(fmap.spans) if keys else {}
    offset_width = max(4, len(f"{len(data) - 1:x}"))
    prefix = offset_width + 2
    ascii_column = prefix + 3 * ROW + 2
    half = ROW // 2
    # Hex and ASCII of the whole frame at once: slicing them per row is much cheaper than
    # converting each row.
    hex_all = data.hex(" ") + " "
    ascii_all = data.translate(_ASCII).decode("ascii")
    pad = ascii_column - prefix
    parts: list[str] = []
    spans: list[Span] = []
    at = 0  # characters written so far
    run = 0
    row = 0
    while row < len(data):
        while runs[run][1] <= row:
            run += 1
        start, end, style = runs[run]
        # Whole rows inside one run (payload, mostly) in one go: their lines all have the
        # same length and the same two spans.
        stop = min(end, len(data)) // ROW * ROW
        if start <= row and stop - row >= 2 * ROW and not any(
                r in labels for r in range(row, stop, ROW)):
            block = [f"{r:0{offset_width}x}  {hex_all[3 * r:3 * r + 23]}  "
                     f"{hex_all[3 * r + 24:3 * r + 47]}  {ascii_all[r:r + half]} "
                     f"{ascii_all[r + half:r + ROW]}\n" for r in range(row, stop, ROW)]
            width = len(block[0])
            for number in range(len(block)):
                line_at = at + number * width
                spans.append(Span(line_at + prefix, line_at + prefix + 3 * ROW, style))
                spans.append(Span(line_at + ascii_column, line_at + ascii_column + ROW + 1,
                                  style))
            parts.extend(block)
            at += width * len(block)
            row = stop
            continue
        size = min(ROW, len(data) - row)
        left = hex_all[3 * row:3 * (row + min(size, half)) - 1]
        if size > half:
            hex_text = left + "  " + hex_all[3 * (row + half):3 * (row + size) - 1]
            text = ascii_all[row:row + half] + " " + ascii_all[row + half:row + size]
        else:
            hex_text, text = left, ascii_all[row:row + size]
        line = f"{row:0{offset_width}x}  {hex_text.ljust(pad)}{text}\n"
        # Colour the row's bytes run by run: a run is one field, or bytes no field covers.
        index = run
        while index < len(runs) and runs[index][0] < row + size:
            start, end, style = runs[index]
            first, last = max(start, row) - row, min(end, row + size) - row - 1
            spans.append(Span(at + prefix + _HEX_COLUMN[first],
                              at + prefix + _HEX_COLUMN[last] + 2, style))
            spans.append(Span(at + ascii_column + first + (first >= half),
                              at + ascii_column + last + (last >= half) + 1, style))
            index += 1
        parts.append(line)
        at += len(line)
        if row in labels:
            key_line = _key_line(labels[row], prefix, at, spans) + "\n"
            parts.append(key_line)
            at += len(key_line)
        row += ROW
    return make_text("".join(parts)[:-1], spans)


_HEX_COLUMN = [3 * index + (1 if index >= ROW // 2 else 0) for index in range(ROW)]


# Printable ASCII stays, everything else becomes a dot.
_ASCII = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


def _runs(spans: list[FieldSpan], size: int) -> list[tuple[int, int, str]]:
    """The frame cut into (start, end, style) runs: one per field, dim ones between fields.

    Where fields share bytes (IPv4's version and header length share one), the first one
    colours them.
    """
    runs: list[tuple[int, int, str]] = []
    cursor = 0
    for span in sorted((s for s in spans if s.start < s.end), key=lambda s: (s.start, s.key)):
        start = max(span.start, cursor)
        if start >= span.end:
            continue
        if start > cursor:
            runs.append((cursor, start, UNCOVERED_STYLE))
        runs.append((start, span.end, span.style))
        cursor = span.end
    if cursor < size:
        runs.append((cursor, size, UNCOVERED_STYLE))
    return runs


def _labels(spans: list[FieldSpan]) -> dict[int, list[tuple[int, str, str]]]:
    """Per row offset, the (byte in row, keys, style) of the fields starting in that row."""
    starts: dict[int, list[FieldSpan]] = {}
    for span in spans:
        if span.start < span.end:
            starts.setdefault(span.start, []).append(span)
    rows: dict[int, list[tuple[int, str, str]]] = {}
    for start in sorted(starts):
        group = starts[start]
        row, index = divmod(start, ROW)
        rows.setdefault(row * ROW, []).append(
            (index, ",".join(str(s.key) for s in group), group[0].style))
    return rows


def _key_line(labels: list[tuple[int, str, str]], prefix: int, at: int,
              spans: list[Span]) -> str:
    """The keys under one row, as a string starting at text position ``at``."""
    line = ""
    for index, label, style in labels:
        column = prefix + _HEX_COLUMN[index]
        # A label longer than its byte pushes the next one right rather than hiding it; a
        # space always separates two labels.
        start = max(column, len(line) + 1) if line else column
        line += " " * (start - len(line))
        spans.append(Span(at + start, at + start + len(label), style))
        line += label
    return line

"""Renderers behind ``pktlab dissect``: summary line, field tree, hex dump and bit diagram.

Every renderer returns a :class:`rich.text.Text`. The styles it carries give colour on a
terminal; ``text.plain`` is the same output without colour, for pipes, files and tests. Nothing
here is written per protocol except where the output format itself is (the summary's info
column): the tree, the hex dump and the diagram are driven by the layers and field declarations
a packet holds, so a new codec (DNS, HTTP) shows up in them without any change here.

This module holds what the renderers share: the :class:`FieldMap`, which gives every declared
field of a packet a *key* (a number shown in the tree and under the hex dump) and a colour, and
the bit-level helpers that work out which bytes and bits a field occupies.

* A field's bytes are frame bytes ``header offset + bit_offset // 8`` up to
  ``header offset + ceil((bit_offset + bit_width) / 8)``.
* Only top-level fields get keys; a sub-field (``tcp.flags.syn`` inside ``tcp.flags``) shares
  its parent's key and colour, because it shares its bytes.
* Each top-level layer gets its own colour family and its fields cycle through it, so adjacent
  fields differ and adjacent layers differ; option sub-layers use their layer's family.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from rich.text import Span, Text

from pktlab.wire._model import Field, Header, Kind
from pktlab.wire._packet import Layer, Packet

# Colour families, one per layer; red is left out because problems are shown in red.
PALETTES: tuple[tuple[str, ...], ...] = (
    ("#5fafff", "#87d7ff", "#0087d7", "#afd7ff"),  # blues
    ("#87d75f", "#d7ff87", "#00af5f", "#afd787"),  # greens
    ("#ffaf5f", "#ffd7af", "#d78700", "#ffd75f"),  # oranges
    ("#d787ff", "#ffafff", "#af5fd7", "#d7afff"),  # purples
    ("#5fd7d7", "#afffff", "#00afaf", "#87d7af"),  # teals
    ("#d7d75f", "#ffffaf", "#afaf00", "#d7d7af"),  # yellows
)
UNCOVERED_STYLE = "dim"
SEVERITY_STYLES = {"error": "bold red", "warning": "red", "note": "yellow"}


# Not frozen: a frozen dataclass's __init__ is several times slower, and a large packet has
# hundreds of spans.
@dataclass(slots=True)
class FieldSpan:
    """One top-level field occurrence: its key, where its bytes lie and how it is coloured."""

    key: int
    layer: Layer
    field: Field
    header_offset: int
    start: int  # frame byte offsets, end exclusive, clipped to the captured bytes
    end: int
    style: str


def field_bytes(f: Field, header_offset: int) -> tuple[int, int]:
    """The frame byte range ``[start, end)`` holding a field's bits."""
    start = header_offset + f.bit_offset // 8
    end = header_offset + (f.bit_offset + f.bit_width + 7) // 8
    return start, end


def headers_of(layer: Layer) -> Iterator[tuple[Header, int]]:
    """A layer's declarations with the frame offset of each: the header, then extra headers."""
    if layer.header is not None:
        yield layer.header, layer.offset
    yield from layer.extra_headers


@cache
def sub_fields(header: Header) -> dict[str, tuple[Field, ...]]:
    """A header's sub-fields by the name of the field containing them, in bit order."""
    found: dict[str, list[Field]] = {}
    for f in header.fields:
        parent = header.parent_of.get(f.name)
        if parent is not None:
            found.setdefault(parent.name, []).append(f)
    return {name: tuple(subs) for name, subs in found.items()}


def layer_title(layer: Layer) -> str:
    if layer.header is not None:
        return layer.header.title
    if layer.extra_headers:
        return layer.extra_headers[0][0].title
    return _UNDECLARED_TITLES.get(layer.name, layer.name)


_UNDECLARED_TITLES = {"data": "Data", "raw": "Raw packet data"}


class FieldMap:
    """Keys and colours for every declared field of a packet, shared by tree and hex dump.

    Keys are numbered 1, 2, 3... in wire order: layer by layer, each layer's own fields, then
    its option sub-layers (recursively). Building the map twice for one packet gives the same
    keys, so separately rendered tree and hex dump agree.
    """

    def __init__(self, packet: Packet) -> None:
        self.packet = packet
        self.spans: list[FieldSpan] = []
        self._by_field: dict[tuple[int, str], FieldSpan] = {}
        self._family: dict[int, int] = {}
        family = 0
        for layer in packet.layers:
            if layer.header is None and not layer.extra_headers and not layer.children:
                continue
            self._add(layer, family, 0)
            family += 1

    def _add(self, layer: Layer, family: int, index: int) -> int:
        self._family[id(layer)] = family
        palette = PALETTES[family % len(PALETTES)]
        values = layer.fields
        size = len(self.packet.data)
        for header, offset in headers_of(layer):
            for f in header.top:
                if f.name not in values:
                    continue
                start, end = field_bytes(f, offset)
                span = FieldSpan(len(self.spans) + 1, layer, f, offset, min(start, size),
                                 min(end, size), palette[index % len(palette)])
                index += 1
                self.spans.append(span)
                self._by_field[(id(layer), f.name)] = span
                for sub in sub_fields(header).get(f.name, ()):
                    self._by_field[(id(layer), sub.name)] = span
        for child in layer.children:
            index = self._add(child, family, index)
        return index

    def lookup(self, layer: Layer, name: str) -> FieldSpan | None:
        """The span of a field (or of the parent of a sub-field) in one layer."""
        return self._by_field.get((id(layer), name))

    def layer_style(self, layer: Layer) -> str:
        family = self._family.get(id(layer))
        if family is None:
            return ""
        return PALETTES[family % len(PALETTES)][0]


class TextBuilder:
    """Accumulates plain text and style spans, then makes one :class:`Text`.

    Building a ``Text`` piece by piece with ``append`` costs far more than the renderers' own
    work for a large frame; collecting strings and spans and joining once is several times
    faster.
    """

    __slots__ = ("_at", "_parts", "_spans")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._spans: list[Span] = []
        self._at = 0

    def append(self, text: str, style: str = "") -> None:
        if style:
            end = self._at + len(text)
            spans = self._spans
            if spans and spans[-1].end == self._at and spans[-1].style == style:
                spans[-1] = Span(spans[-1].start, end, style)
            else:
                spans.append(Span(self._at, end, style))
            self._at = end
        else:
            self._at += len(text)
        self._parts.append(text)

    def newline(self) -> None:
        self._parts.append("\n")
        self._at += 1

    @property
    def written(self) -> int:
        """Characters written so far."""
        return self._at

    @property
    def column(self) -> int:
        """Characters written since the last newline."""
        count = 0
        for part in reversed(self._parts):
            newline = part.rfind("\n")
            if newline >= 0:
                return count + len(part) - newline - 1
            count += len(part)
        return count

    def text(self) -> Text:
        return make_text("".join(self._parts), self._spans)


def make_text(plain: str, spans: list[Span]) -> Text:
    """A :class:`Text` of ``plain`` with ``spans``, control characters replaced by ``?``."""
    if _CONTROL.search(plain):
        # Same length, so the spans stay in place.
        plain = _CONTROL.sub("?", plain)
    if not _FAST_TEXT:
        return Text(plain, spans=spans)
    # Text() would scan the whole string again for the control codes just replaced; on a
    # large frame that scan costs as much as rendering it.
    text = Text(spans=spans)
    text._text = [plain]
    text._length = len(plain)
    return text


# The characters rich strips from text (rich.control.STRIP_CONTROL_CODES).
_CONTROL = re.compile("[\x07\x08\x0b\x0c\x0d]")
_FAST_TEXT = all(hasattr(Text(), name) for name in ("_text", "_length", "_spans"))


# ---------------------------------------------------------------------------- bit helpers


def needs_mask(f: Field) -> bool:
    """Whether a field shares bytes with others, so its bits are shown as a mask."""
    return bool(f.bit_offset % 8 or f.bit_width % 8)


def mask_frame(f: Field, parent: Field | None) -> tuple[int, int]:
    """The bits a field's mask is drawn over, as (first bit, width) within its header.

    A sub-field is drawn over its parent's bits, as Wireshark draws TCP flags over 12 bits,
    unless the parent's width does not split into groups of four (IPv4's 3 flag bits): then,
    like any top-level field that is not whole bytes, over the bytes containing it.
    """
    base = parent if parent is not None else f
    if parent is not None and parent.bit_width % 4 == 0:
        return parent.bit_offset, parent.bit_width
    first = base.bit_offset // 8 * 8
    last = (base.bit_offset + base.bit_width + 7) // 8 * 8
    return first, last - first


def wire_bits(f: Field, value: Any) -> int | None:
    """The integer a field's bits hold (the value before Wireshark's scaling), if any."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and f.kind in (Kind.UINT, Kind.FLAG, Kind.ENUM):
        return value // f.scale if f.scale > 1 else value
    return None


def bit_mask(f: Field, value: Any, frame: tuple[int, int]) -> str:
    """Wireshark's bit rendering: ``.... ..1.`` with the field's bits shown, grouped by four."""
    first, width = frame
    bits = wire_bits(f, value)
    chars: list[str] = []
    for position in range(first, first + width):
        inside = f.bit_offset <= position < f.bit_offset + f.bit_width
        if not inside:
            chars.append(".")
        elif bits is None:
            chars.append("?")
        else:
            shift = f.bit_offset + f.bit_width - 1 - position
            chars.append("1" if bits >> shift & 1 else "0")
    groups = ["".join(chars[i:i + 4]) for i in range(0, len(chars), 4)]
    return " ".join(groups)


def short_label(f: Field) -> str:
    """A short name for a field: ``SYN`` for a flag whose meaning starts ``SYN:``, else the
    last part of its Wireshark name (``df`` -> ``DF`` for flags, ``srcport`` otherwise)."""
    last = f.name.rsplit(".", 1)[-1]
    if f.kind is Kind.FLAG:
        prefix = f.meaning.split(":", 1)[0] if ":" in f.meaning else ""
        if prefix and len(prefix) <= 4 and " " not in prefix:
            return prefix
        return last.upper()
    return last


def format_bytes(value: bytes, limit: int = 24) -> str:
    """Hex digits of a byte value, cut after ``limit`` bytes with the total length."""
    if not value:
        return "(empty)"
    if len(value) <= limit:
        return value.hex()
    return f"{value[:limit].hex()}… ({len(value)} bytes)"


from pktlab.render.diagram import render_diagram  # noqa: E402 - the helpers above come first
from pktlab.render.hexdump import render_hexdump  # noqa: E402
from pktlab.render.summary import FrameInfo, Summary, register_info, summarize  # noqa: E402
from pktlab.render.tree import render_tree  # noqa: E402

__all__ = [
    "PALETTES",
    "FieldMap",
    "FieldSpan",
    "FrameInfo",
    "Summary",
    "register_info",
    "render_diagram",
    "render_hexdump",
    "render_tree",
    "summarize",
]

"""The verbose field tree, in the style of ``tshark -V``: one block per layer, one line per field.

Each layer's block starts with its title, byte range and reference. Each declared field gets a
line ``[key] name: value  meaning``: the key is the number the hex dump shows under the field's
bytes, in the same colour; the value is :meth:`Field.describe`'s (``6 (TCP)``), followed for a
scaled field by its wire value, as Wireshark shows it (``ip.hdr_len: 20 (5)``), and for a flags
field by the flags set (``0x002 (SYN)``).
A field that does not fill whole bytes is preceded by its bits, as Wireshark shows them
(``0100 .... = ip.version: 4``); sub-fields follow their parent, drawn over the parent's bits
(``.... .... ..1. = tcp.flags.syn: Set``). A checksum shows its status (``[correct]``,
``[incorrect, should be 0x1c46]`` or ``[unverified]``). Values pktlab computes rather than reads
(``tcp.len``, ``eth.padding``) follow in brackets, as Wireshark marks generated fields.

Options are child blocks, recursively (a SACK option holds its blocks). Problems are shown in
red under the field they name, or at the end of the layer, with their severity. Headers quoted
in an ICMP error are indented under the ICMP layer.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from pktlab.render import (
    SEVERITY_STYLES,
    FieldMap,
    TextBuilder,
    bit_mask,
    format_bytes,
    headers_of,
    layer_title,
    mask_frame,
    needs_mask,
    short_label,
    sub_fields,
)
from pktlab.render.summary import FrameInfo
from pktlab.wire._model import Field, Kind
from pktlab.wire._packet import Layer, Packet, Problem

INDENT = "    "
MEANING_COLUMN = 56  # where meanings start, when the field text is shorter


def render_tree(packet: Packet, frame_info: FrameInfo | None = None, *, meanings: bool = True,
                field_map: FieldMap | None = None) -> Text:
    """The field tree of a packet; ``meanings=False`` leaves out the one-line explanations."""
    fmap = field_map if field_map is not None else FieldMap(packet)
    writer = _Writer(fmap, meanings, len(f"[{len(fmap.spans)}]"))
    writer.frame(packet, frame_info)
    for layer in packet.layers:
        writer.layer(layer, 1 if layer.quoted else 0)
    return writer.out.text()


class _Writer:
    def __init__(self, fmap: FieldMap, meanings: bool, key_width: int) -> None:
        self.fmap = fmap
        self.meanings = meanings
        self.key_width = key_width
        self.out = TextBuilder()
        self.first = True

    def line(self, indent: str) -> TextBuilder:
        if not self.first:
            self.out.newline()
        self.first = False
        self.out.append(indent)
        return self.out

    def frame(self, packet: Packet, frame_info: FrameInfo | None) -> None:
        wire, captured = packet.orig_len, len(packet.data)
        number = f" {frame_info.number}" if frame_info is not None else ""
        time = f", time {frame_info.time}" if frame_info is not None else ""
        self.line("").append(f"Frame{number}: {wire} bytes on wire ({wire * 8} bits), "
                             f"{captured} bytes captured ({captured * 8} bits), link type "
                             f"{packet.linktype}{time}", "bold")
        for problem in packet.problems:
            self.problem(problem, 1, show_field=True)

    def layer(self, layer: Layer, depth: int) -> None:
        out = self.line(INDENT * depth)
        out.append(layer_title(layer), f"bold {self.fmap.layer_style(layer)}".strip())
        if layer.length:
            span = f"bytes {layer.offset}-{layer.offset + layer.length - 1}"
            out.append(f"  [{span}, {layer.length} byte{'s' if layer.length != 1 else ''}]",
                       "dim")
        else:
            out.append(f"  [at byte {layer.offset}, 0 bytes]", "dim")
        if layer.quoted:
            out.append("  quoted", "dim italic")
        if layer.header is not None and layer.header.reference:
            out.append(f"  {layer.header.reference}", "dim")
        fields = layer.fields
        declared: set[str] = set()
        attached: set[int] = set()
        for header, _ in headers_of(layer):
            subs_of = sub_fields(header)
            for f in header.fields:
                declared.add(f.name)
            for f in header.top:
                if f.name not in fields:
                    continue
                subs = subs_of.get(f.name, ())
                self.field(layer, f, None, fields, depth + 1, subs)
                for sub in subs:
                    if sub.name in fields:
                        self.field(layer, sub, f, fields, depth + 1, ())
                names = {f.name, *(s.name for s in subs)}
                for index, problem in enumerate(layer.problems):
                    if problem.field in names:
                        self.problem(problem, depth + 2, show_field=problem.field != f.name)
                        attached.add(index)
        for name, value in fields.items():
            if name in declared or _is_status(name, fields):
                continue
            out = self.line(INDENT * (depth + 1) + " " * (self.key_width + 1))
            out.append(f"[{name}: {_plain_value(value)}]", "dim")
        for child in layer.children:
            self.layer(child, depth + 1)
        for index, problem in enumerate(layer.problems):
            if index not in attached:
                self.problem(problem, depth + 1, show_field=True)

    def field(self, layer: Layer, f: Field, parent: Field | None, fields: dict[str, Any],
              depth: int, subs: tuple[Field, ...]) -> None:
        value = fields[f.name]
        span = self.fmap.lookup(layer, f.name)
        style = span.style if span is not None else ""
        out = self.line("")
        # Unstyled text is gathered into one string between styled pieces: a tree has many
        # lines and each append costs more than the string work.
        if parent is None:
            key = f"[{span.key}]" if span is not None else ""
            lead = INDENT * depth + " " * (self.key_width - len(key))
            out.append(lead)
            out.append(key, style)
            text = " "
            used = len(lead) + len(key) + 1
        else:
            text = INDENT * depth + " " * (self.key_width + 3)
            used = len(text)
        if parent is not None or needs_mask(f):
            mask = bit_mask(f, value, mask_frame(f, parent)) + " = "
            text += mask
            used += len(mask)
        out.append(text)
        out.append(f.name, style)
        text = ": " + _describe(f, value, fields, subs)
        out.append(text)
        used += len(f.name) + len(text)
        status = fields.get(f.name + ".status")
        if status is not None:
            if status == "good":
                text, status_style = " [correct]", "green"
            elif status == "bad":
                expected = fields.get(f.name + "_calculated")
                should = f", should be 0x{expected:04x}" if isinstance(expected, int) else ""
                text, status_style = f" [incorrect{should}]", "bold red"
            else:
                text, status_style = f" [{status}]", "dim"
            out.append(text, status_style)
            used += len(text)
        if self.meanings and f.meaning:
            out.append(" " * max(2, MEANING_COLUMN - used))
            out.append(f.meaning, "dim")

    def problem(self, problem: Problem, depth: int, *, show_field: bool) -> None:
        severity = problem.severity.value
        where = f" [{problem.field}]" if show_field and problem.field else ""
        out = self.line(INDENT * depth + " " * (self.key_width + 1))
        out.append(f"{severity}: {problem.message}{where}", SEVERITY_STYLES[severity])


def _is_status(name: str, fields: dict[str, Any]) -> bool:
    """Checksum status fields, shown on the checksum's own line."""
    if name.endswith(".status"):
        return True
    return name.endswith("_calculated") and name[: -len("_calculated")] + ".status" in fields


def _describe(f: Field, value: Any, fields: dict[str, Any], subs: tuple[Field, ...]) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return format_bytes(bytes(value))
    text = f.describe(value)
    if f.scale > 1 and isinstance(value, int):
        text += f" ({value // f.scale})"  # the value in the field's own units
    flags = [short_label(s) for s in subs if s.kind is Kind.FLAG and fields.get(s.name)]
    if flags:
        text += f" ({', '.join(flags)})"
    return text


def _plain_value(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return format_bytes(bytes(value))
    return str(value)

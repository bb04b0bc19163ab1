"""``pktlab dissect``: stream a capture file through the dissector and show each packet.

The loop reads one record at a time (constant memory on any file size), dissects it, applies
``--frames`` and the display filter, and hands the packet to one output: summary lines (the
default), the annotated tree (``-V``), the coloured hex dump (``--hex``), the bit diagram
(``--diagram``), JSON Lines (``--json``) or tab-separated field values (``-e``, like
``tshark -T fields``). A damaged capture file shows every packet before the damage, then an
error naming the byte offset, and the exit status is 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import click

from pktlab.wire import Packet, dissect
from pktlab.wire._model import Field

BUNDLED = "http-get.pcap"


def bundled_capture() -> Path:
    """The capture ``pktlab dissect`` shows when no file is named."""
    return Path(str(resources.files("pktlab") / "data" / BUNDLED))


def parse_frames(spec: str) -> set[int] | None:
    """``1,5-9`` -> {1, 5, 6, 7, 8, 9}; a clear error for anything else."""
    wanted: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part:
                low, high = (int(x) for x in part.split("-", 1))
                if low < 1 or high < low:
                    raise ValueError
                wanted.update(range(low, high + 1))
            else:
                number = int(part)
                if number < 1:
                    raise ValueError
                wanted.add(number)
        except ValueError:
            raise click.BadParameter(f"{part!r} is not a frame number or range like 5-9",
                                     param_hint="--frames") from None
    return wanted


def _decl(packet: Packet, name: str) -> Field | None:
    for layer in packet.layers:
        found = layer.field_decl(name)
        if found is not None:
            return found
    return None


def format_value(value: Any, decl: Field | None) -> str:
    """A value as ``tshark -T fields`` prints it: hex fields as 0x.. padded to their type."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, int) and decl is not None and decl.hex:
        width = decl.bit_width * decl.scale
        digits = 2 if width <= 8 else 4 if width <= 16 else 6 if width <= 24 else 8
        return f"0x{value:0{digits}x}"
    return str(value)


def frame_object(record: Any, packet: Packet) -> dict[str, Any]:
    return {"number": record.number, "time": record.time, "len": record.orig_len,
            "caplen": len(record.data), "interface": record.interface,
            "linktype": record.linktype}


def packet_json(record: Any, packet: Packet) -> str:
    body = packet.as_dict()
    for layer, out in zip(packet.layers, body["layers"], strict=True):
        if layer.quoted:
            out["quoted"] = True
    return json.dumps({"frame": frame_object(record, packet), **body}, separators=(",", ":"))


def field_row(names: list[str], packet: Packet, frame: Any) -> str:
    cells: list[str] = []
    for name in names:
        if name.startswith("frame."):
            value = frame.get(name)
            cells.append("" if value is None else str(value))
            continue
        values = packet.all(name)
        if not values:
            cells.append("")
            continue
        decl = _decl(packet, name)
        cells.append(",".join(format_value(v, decl) for v in values))
    return "\t".join(cells)


def records(path: Path) -> Iterator[Any]:
    from pktlab.capture import open_capture

    with open_capture(path) as reader:
        yield from reader


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-V", "--verbose", is_flag=True,
              help="The annotated breakdown: every field with its value, meaning and bits.")
@click.option("--hex", "hexdump", is_flag=True,
              help="Hex and ASCII dump with each field's bytes coloured as in the tree.")
@click.option("--diagram", is_flag=True, help="RFC-style bit diagrams filled with the values.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one object per packet.")
@click.option("-e", "--field", "fields", multiple=True, metavar="FIELD",
              help="Print this field's values, tab separated (repeatable), like tshark -e.")
@click.option("-c", "--count", type=click.IntRange(min=1), help="Stop after N shown packets.")
@click.option("--frames", "frames_spec", metavar="LIST",
              help="Only these frame numbers, e.g. 1,5-9.")
@click.option("-Y", "--filter", "display_filter", metavar="EXPR",
              help="A Wireshark-style display filter, e.g. 'tcp.flags.syn == 1 && ip.ttl < 64'.")
@click.option("--color/--no-color", default=None,
              help="Colour even when piped (default: colour only on a terminal).")
def dissect_command(file: Path | None, verbose: bool, hexdump: bool, diagram: bool,
                    as_json: bool, fields: tuple[str, ...], count: int | None,
                    frames_spec: str | None, display_filter: str | None,
                    color: bool | None) -> None:
    """Dissect a capture file (pcap or pcapng) packet by packet.

    FILE defaults to a bundled capture of an HTTP GET. Without options each packet gets one
    summary line; -V, --hex, --diagram, --json and -e choose other views. Examples:

    \b
      pktlab dissect capture.pcap -V -c 3
      pktlab dissect capture.pcap -Y 'tcp.flags.syn == 1' -e ip.src -e tcp.srcport
      pktlab dissect capture.pcap --json | jq '.layers[].layer'
    """
    from pktlab.analysis.filter import FilterError, FrameInfo, compile_filter
    from pktlab.capture import CaptureError

    path = file if file is not None else bundled_capture()
    if not path.exists():
        raise click.BadParameter(f"no such file: {path}", param_hint="FILE")
    wanted = parse_frames(frames_spec) if frames_spec else None
    last_wanted = max(wanted) if wanted else None
    try:
        flt = compile_filter(display_filter) if display_filter else None
    except FilterError as exc:
        raise click.UsageError(f"bad display filter:\n{exc}") from None
    views = [v for v in (verbose, hexdump, diagram, as_json, bool(fields)) if v]
    if (as_json or fields) and len(views) > 1:
        raise click.UsageError("--json and -e each stand alone; -V, --hex and --diagram combine")
    if fields:
        from pktlab.analysis.filter import known_names

        known = known_names()
        unknown = [f for f in fields if f not in known and not f.startswith("frame.")]
        if unknown:
            raise click.BadParameter(f"unknown field {unknown[0]!r}", param_hint="-e")

    out = sys.stdout
    renderer = None if (as_json or fields) else _renderer(verbose, hexdump, diagram, color)
    shown = 0
    first_ns: int | None = None
    try:
        for record in records(path):
            if first_ns is None:
                first_ns = record.timestamp_ns
            if wanted is not None and record.number not in wanted:
                if last_wanted is not None and record.number > last_wanted:
                    break
                continue
            packet = dissect(record.data, record.linktype, orig_len=record.orig_len)
            info = FrameInfo.from_record(record, first_ns, packet)
            if flt is not None and not flt.matches(packet, info):
                continue
            if as_json:
                out.write(packet_json(record, packet) + "\n")
            elif fields:
                out.write(field_row(list(fields), packet, _frame_values(info)) + "\n")
            else:
                assert renderer is not None
                renderer(packet, info)
            shown += 1
            if count is not None and shown >= count:
                break
    except CaptureError as exc:
        out.flush()
        click.echo(f"pktlab: {path}: {exc}", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.stderr.close()  # `| head` closed the pipe: stop quietly


class _Frame:
    """Frame number and relative time, as the summary and tree show them."""

    __slots__ = ("number", "time")

    def __init__(self, number: int, time: str) -> None:
        self.number = number
        self.time = time


def _frame_values(info: Any) -> dict[str, Any]:
    return {"frame.number": info.number, "frame.time_epoch": info.time_epoch,
            "frame.time_relative": info.time_relative, "frame.len": info.len,
            "frame.cap_len": info.cap_len, "frame.protocols": info.protocols}


def _renderer(verbose: bool, hexdump: bool, diagram: bool, color: bool | None) -> Any:
    from rich.console import Console

    console = Console(force_terminal=color, no_color=color is False, highlight=False,
                      soft_wrap=True)
    if color is None and not sys.stdout.isatty():
        console = Console(no_color=True, highlight=False, soft_wrap=True)

    def show(packet: Packet, info: Any) -> None:
        from pktlab.render import FieldMap
        from pktlab.render.diagram import render_diagram
        from pktlab.render.hexdump import render_hexdump
        from pktlab.render.summary import summarize
        from pktlab.render.tree import render_tree

        relative = _Frame(info.number, f"{float(info.time_relative):.6f}")
        console.print(summarize(packet, relative).text())
        if not (verbose or hexdump or diagram):
            return
        fmap = FieldMap(packet)
        if verbose:
            console.print(render_tree(packet, relative, field_map=fmap))
        if diagram:
            console.print(render_diagram(packet, field_map=fmap))
        if hexdump:
            console.print(render_hexdump(packet, field_map=fmap))
        console.print()

    return show

"""The ``pktlab`` command line (click, rendered with rich).

Commands import what they need when they run, so ``pktlab --help`` and every command on a small
file start without importing Scapy.
"""

from __future__ import annotations

import json
import sys

import click

from pktlab import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pktlab")
def main() -> None:
    """pktlab: dissect, craft and verify TCP/IP packets, and see how the stack really works.

    Every header pktlab knows is declared once, field by field (Wireshark's names, bit
    positions and meanings); `pktlab fields` shows those declarations.
    """


@main.command()
@click.argument("layer", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per field, for programs.")
def fields(layer: str | None, as_json: bool) -> None:
    """List the header fields pktlab declares: name, bit offset and width, meaning.

    LAYER narrows the list to one layer (eth, vlan, ip, tcp, udp, ...); without it every
    layer is listed. Option fields (tcp.options.*) are listed with their option.
    """
    from pktlab.wire import BUILDERS
    from pktlab.wire._model import Header

    headers: list[Header] = []
    for name, builder in sorted(BUILDERS.items()):
        if layer is None or name == layer:
            headers.extend(builder.headers)
            codec = builder.option_codec
            if codec is not None:
                seen = {id(h) for h in headers}
                for option in codec.by_kind.values():
                    for h in (option.header, option.repeat):
                        if isinstance(h, Header) and id(h) not in seen:
                            headers.append(h)
                            seen.add(id(h))
    if not headers:
        known = ", ".join(sorted(BUILDERS))
        raise click.BadParameter(f"unknown layer {layer!r}; known layers: {known}",
                                 param_hint="LAYER")
    if as_json:
        for header in headers:
            for f in header.fields:
                record = {"layer": header.layer, "name": f.name, "bit_offset": f.bit_offset,
                          "bit_width": f.bit_width, "kind": f.kind.value, "meaning": f.meaning,
                          "scale": f.scale}
                if f.names:
                    record["names"] = {str(k): v for k, v in f.names.items()}
                sys.stdout.write(json.dumps(record) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for header in headers:
        table = Table(title=f"{header.title} ({header.layer})", title_justify="left",
                      caption=header.reference or None, caption_justify="left")
        table.add_column("field")
        table.add_column("bits", justify="right")
        table.add_column("width", justify="right")
        table.add_column("meaning")
        for f in header.fields:
            indent = "  " if f.name in header.parent_of else ""
            table.add_row(indent + f.name, str(f.bit_offset), str(f.bit_width), f.meaning)
        console.print(table)


def _register() -> None:
    from pktlab.cli.dissect import dissect_command

    main.add_command(dissect_command, "dissect")


_register()

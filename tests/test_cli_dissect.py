"""``pktlab dissect``: the JSON contract, -e against tshark -T fields, filters, frames, damage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from oracles import MALFORMED, REAL, require_tshark

from pktlab.cli import main
from pktlab.cli.dissect import bundled_capture, parse_frames

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted((ROOT / "pcaps").glob("*.pcap"))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["dissect", *args])
    return result.exit_code, result.stdout, result.stderr


def test_bundled_default_is_the_committed_http_capture() -> None:
    assert bundled_capture().read_bytes() == (ROOT / "pcaps" / "http-get.pcap").read_bytes()
    code, out, _ = run()
    assert code == 0 and len(out.splitlines()) == 12


def test_json_lines_follow_the_contract() -> None:
    code, out, _ = run("--json")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    first = lines[0]
    assert set(first) == {"frame", "layers", "problems"}
    assert set(first["frame"]) == {"number", "time", "len", "caplen", "interface", "linktype"}
    assert first["frame"]["number"] == 1 and first["frame"]["linktype"] == 1
    seconds, _, nanos = first["frame"]["time"].partition(".")
    assert seconds.isdigit() and len(nanos) == 9
    assert [layer["layer"] for layer in first["layers"]] == ["eth", "ip", "tcp"]
    tcp = first["layers"][2]
    assert set(tcp) == {"layer", "offset", "length", "fields", "problems"}
    assert tcp["fields"]["tcp.flags.syn"] == 1 and tcp["fields"]["tcp.checksum.status"] == "good"
    assert isinstance(tcp["fields"]["tcp.seq"], int)
    assert first["layers"][0]["fields"]["eth.type"] == 2048


def test_json_marks_quoted_layers() -> None:
    code, out, _ = run(str(ROOT / "pcaps" / "arp-icmp.pcap"), "--json", "-Y",
                       "icmp.type == 3")
    assert code == 0
    layers = json.loads(out.splitlines()[0])["layers"]
    assert [(lay["layer"], lay.get("quoted", False)) for lay in layers][:5] == [
        ("eth", False), ("ip", False), ("icmp", False), ("ip", True), ("udp", True)]


FIELDS = ["frame.number", "frame.len", "frame.cap_len", "eth.src", "eth.type", "ip.src",
          "ip.dst", "ip.id", "ip.ttl", "ip.flags", "tcp.srcport", "tcp.seq", "tcp.flags",
          "tcp.flags.syn", "tcp.options.mss_val", "tcp.options.sack_le", "udp.length",
          "icmp.type", "ipv6.src", "icmpv6.type", "arp.opcode", "tcp.len"]


@pytest.mark.oracle
@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_fields_output_equals_tshark(path: Path) -> None:
    require_tshark()
    args = [a for f in FIELDS for a in ("-e", f)]
    code, out, _ = run(str(path), *args)
    assert code == 0
    theirs = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", *args,
                             "-o", "tcp.relative_sequence_numbers:FALSE"],
                            capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == theirs.splitlines()


def test_filter_count_and_frames() -> None:
    code, out, _ = run("-e", "frame.number", "-Y", "tcp.flags.fin == 1")
    assert code == 0 and len(out.split()) == 2
    code, out, _ = run("-e", "frame.number", "--frames", "2,4-5,11")
    assert out.split() == ["2", "4", "5", "11"]
    code, out, _ = run("-e", "frame.number", "-c", "3")
    assert out.split() == ["1", "2", "3"]


@pytest.mark.parametrize("args, message", [
    (["-Y", "ip.src == 198.18.0.999"], "^ not a valid IPv4 address"),
    (["-Y", "tcp.flgs.syn"], "tcp.flgs.syn"),
    (["--frames", "3-x"], "not a frame number"),
    (["-e", "nope.field"], "unknown field 'nope.field'"),
    (["--json", "-e", "ip.src"], "stand alone"),
    (["/no/such/file.pcap"], "no such file"),
])
def test_bad_arguments_are_explained(args: list[str], message: str) -> None:
    code, _, err = run(*args)
    assert code == 2 and message in err


def test_damaged_file_shows_what_came_before_then_the_offset() -> None:
    path = MALFORMED / "dpkt-dns-truncated-file.pcap"
    code, out, err = run(str(path), "-e", "frame.number")
    assert code == 1
    assert out.split() == ["1"]
    assert "byte 240" in err


def test_parse_frames() -> None:
    assert parse_frames("1,5-7") == {1, 5, 6, 7}


@pytest.mark.parametrize("path", sorted(REAL.glob("*.pcap*"))[:85], ids=lambda p: p.name)
def test_every_real_capture_dissects_as_json(path: Path) -> None:
    code, out, err = run(str(path), "--json")
    assert code == 0, err
    for line in out.splitlines():
        json.loads(line)


def test_dissecting_a_small_file_does_not_import_scapy() -> None:
    capture = str(ROOT / "pcaps" / "arp-icmp.pcap")
    code = ("import sys\n"
            "from pktlab.cli import main\n"
            "try:\n"
            f"    main(['dissect', '-V', '--hex', '--diagram', {capture!r}])\n"
            "except SystemExit as exit:\n"
            "    assert not exit.code, exit.code\n"
            "assert 'scapy' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr

"""The tshark adapter against the shared corpus: frame counts, known values, nesting, damage."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pktlab.oracle.tshark import (
    TsharkError,
    TsharkFrame,
    TsharkResult,
    field_type,
    frame_meta,
    normalise,
    parse_tshark_json,
    run_tshark,
    tshark_available,
    tshark_command,
    tshark_version,
)

PCAPS = (
    Path(os.environ.get("PKTLAB_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "pcaps"
)
REAL = PCAPS / "real"
MALFORMED = PCAPS / "malformed"


def _require_tshark() -> None:
    if not shutil.which("tshark"):
        if os.environ.get("PKTLAB_REQUIRE_ORACLES") == "1":
            pytest.fail("tshark required")
        pytest.skip("tshark not installed")


def _require_corpus() -> None:
    if not (REAL.is_dir() and MALFORMED.is_dir()):
        if os.environ.get("PKTLAB_REQUIRE_ORACLES") == "1":
            pytest.fail(f"capture corpus required at {PCAPS}")
        pytest.skip(f"capture corpus not found at {PCAPS}")


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".pcap", ".pcapng"))


def _expected() -> dict[str, tuple[int, bool]]:
    """file -> (frames tshark prints, whether tshark reports a file error)."""
    counts: dict[str, int] = {}
    for line in (PCAPS / "INDEX.tsv").read_text().splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 3:
            counts[cols[0]] = int(cols[2])
    facts: dict[str, tuple[int, bool]] = {}
    for line in (PCAPS / "SOURCES.md").read_text().splitlines():
        m = re.match(r"^\| `((?:real|malformed)/[^`]+)` \|", line)
        if not m:
            continue
        override = re.search(r"\(tshark frames: (\d+)\)", line)
        count = int(override.group(1)) if override else counts[m.group(1)]
        facts[m.group(1)] = (count, "file error:" in line)
    return facts


@pytest.fixture(scope="session")
def corpus() -> dict[str, TsharkResult | BaseException]:
    """One tshark run per corpus file, in parallel (tshark's start-up dominates)."""
    _require_tshark()
    _require_corpus()
    paths = _files(REAL) + _files(MALFORMED)

    def one(path: Path) -> TsharkResult | BaseException:
        try:
            return run_tshark(path)
        except Exception as exc:  # kept, so the test that owns the file reports it
            return exc

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        outcomes = list(pool.map(one, paths))
    return {f"{p.parent.name}/{p.name}": o for p, o in zip(paths, outcomes, strict=True)}


@pytest.fixture(scope="session")
def expected() -> dict[str, tuple[int, bool]]:
    _require_corpus()
    return _expected()


def _result(corpus: dict[str, TsharkResult | BaseException], name: str) -> TsharkResult:
    outcome = corpus[name]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _frame(corpus: dict[str, TsharkResult | BaseException], name: str, n: int) -> TsharkFrame:
    frame = _result(corpus, name)[n - 1]
    assert frame.number == n
    return frame


# ------------------------------------------------------------------------- basics


def test_version() -> None:
    _require_tshark()
    assert tshark_available()
    version = tshark_version()
    assert version is not None and re.fullmatch(r"\d+\.\d+\.\d+", version)


def test_corpus_present() -> None:
    _require_corpus()
    assert len(_files(REAL)) == 85
    assert len(_files(MALFORMED)) == 59


def test_command_line() -> None:
    cmd = tshark_command("x.pcap", extra_prefs=["ip.defragment:FALSE"], display_filter="tcp")
    assert cmd[:6] == ["tshark", "-n", "-r", "x.pcap", "-T", "json"]
    prefs = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-o"]
    assert "tcp.relative_sequence_numbers:FALSE" in prefs
    assert prefs[-1] == "ip.defragment:FALSE"
    assert cmd[-2:] == ["-Y", "tcp"]
    with pytest.raises(ValueError):
        tshark_command("x.pcap", extra_prefs=["nonsense"])


def test_default_prefs_exist() -> None:
    """Every preference the adapter passes is one this tshark knows."""
    _require_tshark()
    known = subprocess.run(
        ["tshark", "-G", "defaultprefs"], capture_output=True, text=True, check=True
    ).stdout
    names = set(re.findall(r"^#?([a-z0-9_.-]+):", known, re.MULTILINE))
    cmd = tshark_command("x.pcap")
    for pref in (cmd[i + 1] for i, a in enumerate(cmd) if a == "-o"):
        assert pref.split(":")[0] in names, pref


# ------------------------------------------------------------------------- the corpus


@pytest.mark.parametrize("path", _files(REAL), ids=lambda p: p.name)
def test_real_file(
    path: Path,
    corpus: dict[str, TsharkResult | BaseException],
    expected: dict[str, tuple[int, bool]],
) -> None:
    name = f"real/{path.name}"
    result = _result(corpus, name)
    count, file_error = expected[name]
    assert not file_error
    assert result.error is None and result.complete and result.returncode == 0
    assert len(result) == count
    assert [f.number for f in result] == list(range(1, count + 1))
    for frame in result:
        # First, except that pcapng comments (pkt_comment) come before it.
        assert next(lay.name for lay in frame.layers if lay.name != "pkt_comment") == "frame"
        meta = frame_meta(frame)
        assert meta["frame.number"] == frame.number
        assert isinstance(meta["frame.len"], int) and isinstance(meta["frame.cap_len"], int)
        assert meta["frame.cap_len"] <= meta["frame.len"]
        assert frame.protocols == [p for p in str(meta["frame.protocols"]).split(":") if p]


@pytest.mark.parametrize("path", _files(MALFORMED), ids=lambda p: p.name)
def test_malformed_file(
    path: Path,
    corpus: dict[str, TsharkResult | BaseException],
    expected: dict[str, tuple[int, bool]],
) -> None:
    name = f"malformed/{path.name}"
    outcome = corpus[name]
    count, file_error = expected[name]
    if isinstance(outcome, TsharkError):
        # Refused outright: tshark's own message, without the running-as-root noise.
        assert file_error and count == 0
        assert "TShark" in str(outcome) or "file" in str(outcome)
        assert "Running as user" not in str(outcome)
        return
    assert isinstance(outcome, TsharkResult), f"unexpected {outcome!r}"
    assert len(outcome) == count
    if file_error:
        assert outcome.error and "Running as user" not in outcome.error
    else:
        assert outcome.error is None
    numbers = [f.number for f in outcome]
    assert numbers == sorted(numbers)
    for frame in outcome:
        for layer in frame.walk():
            assert all(isinstance(v, str) for vs in layer.fields.values() for v in vs)
            for name_, values in layer.fields.items():
                for value in values:
                    normalise(name_, value)


# ------------------------------------------------------------------------- known values


def test_http_get_first_frame(corpus: dict[str, TsharkResult | BaseException]) -> None:
    frame = _frame(corpus, "real/tcpdump-http-get-print-flags.pcap", 1)
    assert frame.protocols == ["eth", "ethertype", "ip", "tcp"]
    assert [lay.name for lay in frame.layers] == ["frame", "eth", "ip", "tcp"]
    eth, ip, tcp = frame.layer("eth"), frame.layer("ip"), frame.layer("tcp")
    assert eth and ip and tcp
    assert normalise("eth.type", eth.values("eth.type")[0]) == 0x0800
    # Duplicate keys in one JSON object are all kept, in order.
    assert ip.values("ip.addr") == ["127.0.0.1", "127.0.0.1"]
    assert normalise("ip.checksum.status", ip.values("ip.checksum.status")[0]) == "good"
    assert normalise("ip.id", ip.values("ip.id")[0]) == 0x1B68
    assert normalise("ip.flags.df", ip.values("ip.flags.df")[0]) == 1
    assert tcp.values("tcp.srcport") == ["55920"]
    assert tcp.values("tcp.port") == ["55920", "80"]
    assert tcp.values("tcp.options.mss_val") == ["16396"]
    assert normalise("tcp.options.mss_val", "16396") == 16396
    assert tcp.values("tcp.option_kind") == ["2", "4", "8", "1", "3"]
    assert normalise("tcp.options.mss", tcp.values("tcp.options.mss")[0]) == b"\x02\x04\x40\x0c"
    assert normalise("tcp.flags.syn", tcp.values("tcp.flags.syn")[0]) == 1
    assert tcp.values("tcp.seq") == ["928549246"]  # absolute, not relative
    assert "tcp.analysis.flags" not in tcp.fields and "tcp.time_delta" not in tcp.fields
    assert not any(k.startswith("_ws.") for k in tcp.fields)
    assert tcp.expert and tcp.expert[0]["field"] == "tcp.connection.syn"
    assert tcp.expert[0]["severity"] == "chat" and tcp.expert[0]["group"] == "sequence"
    assert frame_meta(frame) == {
        "frame.number": 1,
        "frame.len": 74,
        "frame.cap_len": 74,
        "frame.time_epoch": "1120622255.938066000",
        "frame.protocols": "eth:ethertype:ip:tcp",
    }
    statuses = {
        normalise("tcp.checksum.status", s)
        for f in _result(corpus, "real/tcpdump-http-get-print-flags.pcap")
        for s in (f.layer("tcp") or f.layers[0]).values("tcp.checksum.status")
    }
    assert statuses == {"good", "bad"}  # SOURCES.md: two offloaded (bad) TCP checksums


def test_icmp_error_quotes_nest(corpus: dict[str, TsharkResult | BaseException]) -> None:
    frame = _frame(corpus, "real/zeek-icmp-destunreach-port-udp.pcap", 1)
    assert [lay.name for lay in frame.layers] == ["frame", "eth", "ip", "icmp", "dns"]
    outer, icmp = frame.layer("ip"), frame.layer("icmp")
    assert outer and icmp
    assert [c.name for c in icmp.children] == ["ip", "udp"]
    inner_ip, inner_udp = icmp.child("ip"), icmp.child("udp")
    assert inner_ip and inner_udp
    assert normalise("icmp.type", icmp.values("icmp.type")[0]) == 3
    assert icmp.values("icmp.code") == ["3"]
    assert inner_ip.values("ip.src") == ["192.168.1.1"]
    assert inner_ip.values("ip.dst") == ["192.168.1.102"]
    assert inner_udp.values("udp.srcport") == ["53"]
    assert outer.values("ip.proto") == ["1"] and inner_ip.values("ip.proto") == ["17"]
    # The quoted header's fields are in the icmp layer too, never in the outer ip layer.
    assert icmp.values("udp.srcport") == ["53"]
    assert outer.values("ip.src") != inner_ip.values("ip.src")
    assert [lay.name for lay in frame.walk()] == ["frame", "eth", "ip", "icmp", "ip", "udp", "dns"]


def test_icmp_quoting_icmp(corpus: dict[str, TsharkResult | BaseException]) -> None:
    result = _result(corpus, "real/chrissanders-icmp-traceroute.pcapng")
    nested = [f for f in result if (i := f.layer("icmp")) and i.child("icmp")]
    assert nested
    icmp = nested[0].layer("icmp")
    assert icmp is not None
    assert [c.name for c in icmp.children][:2] == ["ip", "icmp"]
    assert sum(f.malformed for f in result) == 3  # SOURCES.md: 3 malformed


def test_ipv6_extension_headers_nest(corpus: dict[str, TsharkResult | BaseException]) -> None:
    frame = _frame(corpus, "real/pcapplusplus-ipv6-ext-headers.pcapng", 1)
    ipv6 = frame.layer("ipv6")
    assert ipv6
    assert [c.name for c in ipv6.children] == ["ipv6.hopopts", "ipv6.dstopts", "ipv6.routing", "ah"]
    hop, dst = ipv6.child("ipv6.hopopts"), ipv6.child("ipv6.dstopts")
    assert hop and dst
    assert hop.values("ipv6.hopopts.nxt") == ["60"]
    assert hop.values("ipv6.opt.type") == ["0x05", "0x01"]
    assert dst.values("ipv6.opt.type") == ["0x0b", "0x01"]
    # The enclosing layer sees every option, in order.
    assert ipv6.values("ipv6.opt.type") == ["0x05", "0x01", "0x0b", "0x01"]
    assert [lay.name for lay in frame.layers][-1] == "ospf"

    many = _frame(corpus, "real/libpcap-ipv6-all-ext-headers.pcap", 1)
    layer = many.layer("ipv6")
    assert layer
    names = [c.name for c in layer.children]
    assert names[:4] == ["ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr", "ipv6.dstopts"]
    assert names == [p for p in many.protocols if p.startswith("ipv6.")]


def test_sack_blocks_are_lists(corpus: dict[str, TsharkResult | BaseException]) -> None:
    result = _result(corpus, "real/chrissanders-tcp-dupack-sack.pcapng")
    sacks = [
        tcp.values("tcp.options.sack_le")
        for f in result
        if (tcp := f.layer("tcp")) and tcp.values("tcp.options.sack_le")
    ]
    assert sacks == [["1310978658"]] * 5  # absolute: relative numbering would give 5473
    assert normalise("tcp.options.sack_le", sacks[0][0]) == 1310978658

    frame = _frame(corpus, "real/suricata-tcp-vlan-syn-retx-sack-ts.pcap", 53)
    tcp = frame.layer("tcp")
    assert tcp
    assert tcp.values("tcp.options.sack_le") == ["1513501210", "1513479490"]
    assert tcp.values("tcp.options.sack_re") == ["1513502658", "1513499762"]
    assert tcp.values("tcp.option_kind") == ["1", "1", "8", "1", "1", "5"]


def test_mptcp_option_is_child_and_in_tcp(corpus: dict[str, TsharkResult | BaseException]) -> None:
    tcp = _frame(corpus, "real/tcpdump-mptcp-v1-sll.pcap", 1).layer("tcp")
    assert tcp and [c.name for c in tcp.children] == ["mptcp"]
    assert tcp.values("tcp.option_kind") == ["2", "4", "8", "1", "3", "30"]
    mptcp = tcp.child("mptcp")
    assert mptcp and mptcp.values("tcp.option_kind") == ["30"]


def test_short_frames_and_partial_files(corpus: dict[str, TsharkResult | BaseException]) -> None:
    result = _result(corpus, "real/gopacket-pcapngtestgen-le-test202.pcapng")
    assert sum(f.short for f in result) == 6  # SOURCES.md: 6 truncated
    short = next(f for f in result if f.short)
    assert any(lay.name == "_ws.short" for lay in short.layers)
    assert not any(k.startswith("_ws.") for lay in short.walk() for k in lay.fields)

    partial = _result(corpus, "malformed/suricata-fuzzed-truncated-file.pcap")
    assert len(partial) == 2 and partial.returncode == 2
    assert partial.error and "damaged or corrupt" in partial.error
    assert partial.complete  # tshark still closed its JSON array


def test_display_filter_keeps_numbers() -> None:
    _require_tshark()
    _require_corpus()
    result = run_tshark(
        REAL / "tcpdump-http-get-print-flags.pcap", display_filter="tcp.flags.syn==1"
    )
    assert [f.number for f in result] == [1, 2]


def test_extra_prefs_override() -> None:
    _require_tshark()
    _require_corpus()
    result = run_tshark(
        REAL / "tcpdump-http-get-print-flags.pcap", extra_prefs=["ip.check_checksum:FALSE"]
    )
    ip = result[0].layer("ip")
    assert ip and normalise("ip.checksum.status", ip.values("ip.checksum.status")[0]) == (
        "unverified"
    )


def test_refusals_raise() -> None:
    _require_tshark()
    _require_corpus()
    with pytest.raises(TsharkError, match="doesn't exist"):
        run_tshark(PCAPS / "no-such-file.pcap")
    with pytest.raises(TsharkError, match="unknown preference"):
        run_tshark(REAL / "zeek-http-get.pcap", extra_prefs=["tcp.no_such_pref:TRUE"])
    with pytest.raises(TsharkError, match="timed out"):
        run_tshark(REAL / "zeek-http-206-partial-content-b-zerowindow.pcap", timeout=0.05)
    with pytest.raises(TsharkError) as info:
        run_tshark(MALFORMED / "libpcap-pcap-invalid-version.pcap")
    assert info.value.returncode == 2 and "major version 1 unsupported" in str(info.value)


# ------------------------------------------------------------------------- parsing alone


def test_truncated_json_keeps_complete_frames() -> None:
    _require_tshark()
    _require_corpus()
    cmd = tshark_command(REAL / "tcpdump-http-get-print-flags.pcap")
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    whole = parse_tshark_json(out)
    assert len(whole) == 10 and whole.complete and whole.error is None
    cut = parse_tshark_json(iter(out[: len(out) // 2].splitlines(keepends=True)))
    assert 1 <= len(cut) < 10 and not cut.complete
    assert cut.error and "truncated" in cut.error
    assert cut[0] == whole[0]
    # Any other layout (here: compact JSON) goes through the whole-text parser.
    compact = json.dumps(json.loads(out), separators=(",", ":")).encode()
    assert [f.number for f in parse_tshark_json(compact)] == list(range(1, 11))
    partial = parse_tshark_json(compact[: len(compact) * 3 // 4])
    assert 1 <= len(partial) < 10 and not partial.complete


def test_parse_handles_odd_layouts() -> None:
    assert parse_tshark_json(b"[\n]\n") == [] and parse_tshark_json(b"") == []
    text = """[
  {
    "_source": {
      "layers": {
        "frame": {"frame.number": "7", "frame.protocols": "eth:ip"},
        "ip": {
          "Text label: with spaces": {"ip.opt.type": "1"},
          "ip.opt.type": "2",
          "_ws.expert": {"ip.bogus": "", "_ws.expert.message": "m",
            "_ws.expert.severity": "8388608", "_ws.expert.group": "117440512"},
          "_ws.malformed": "Malformed Packet",
          "plain text line": "",
          "ip.array": ["a", "b"]
        },
        "_ws.short": "[Packet size limited during capture]"
      }
    }
  }
]
"""
    (frame,) = parse_tshark_json(text)
    assert frame.number == 7 and frame.protocols == ["eth", "ip"]
    ip = frame.layer("ip")
    assert ip
    assert ip.fields == {"ip.opt.type": ["1", "2"], "ip.array": ["a", "b"]}
    assert ip.expert[0] == {
        "field": "ip.bogus",
        "message": "m",
        "severity": "error",
        "group": "malformed",
    }
    assert ip.expert[1]["field"] == "_ws.malformed"
    assert frame.malformed and frame.short


# ------------------------------------------------------------------------- normalise


def test_normalise_by_shape() -> None:
    """Names tshark does not declare: the value's shape decides."""
    assert normalise("x.hex", "0x0800") == 2048
    assert normalise("x.dec", "55920") == 55920
    assert normalise("x.flag", "True") == 1 and normalise("x.flag", "False") == 0
    assert normalise("x.src", "AA:BB:CC:DD:EE:FF") == "aa:bb:cc:dd:ee:ff"
    assert normalise("x.blob", "02:04:05:b4") == b"\x02\x04\x05\xb4"
    assert normalise("x.ip", "192.0.2.1") == "192.0.2.1"
    assert normalise("x.ip6", "2001:0DB8:0:0:0:0:0:1") == "2001:db8::1"
    assert normalise("x.text", "hello") == "hello"
    assert normalise("x.none", "") is None
    for status, word in [("0", "bad"), ("1", "good"), ("2", "unverified"), ("3", "not_present")]:
        assert normalise("x.checksum.status", status) == word


def test_normalise_by_type() -> None:
    _require_tshark()
    assert field_type("eth.src") == "FT_ETHER" and field_type("no.such.field") is None
    assert normalise("eth.src", "00:1B:21:3A:4F:5C") == "00:1b:21:3a:4f:5c"
    assert normalise("eth.type", "0x86dd") == 0x86DD
    assert normalise("ipv6.src", "2001:db8:0:0:1:0:0:1") == "2001:db8::1:0:0:1"
    assert normalise("ipv6.src", "::ffff:192.0.2.1") == "::ffff:192.0.2.1"
    assert normalise("ip.src", "10.0.0.1") == "10.0.0.1"
    assert field_type("tcp.options.nop") == "FT_PROTOCOL"
    assert normalise("tcp.options.nop", "01") == b"\x01"  # bytes, not the number 1
    assert normalise("tcp.options.mss", "02:04:05:b4") == b"\x02\x04\x05\xb4"
    assert normalise("tcp.options.mss_val", "1460") == 1460
    assert normalise("ip.dsfield", "0x00") == 0
    assert normalise("raw", "Raw packet data") == "Raw packet data"
    assert normalise("tcp.options", "") == b""
    assert normalise("tcp.flags.syn", "1") == 1
    assert normalise("frame.time_epoch", "1120622255.938066000") == "1120622255.938066000"
    assert normalise("tcp.checksum.status", "1") == "good"
    assert normalise("udp.checksum.status", "3") == "not_present"

"""Tests for pktlab.capture: pcap and pcapng reading, writing and damage handling.

Oracles: tshark (frame bytes, lengths, timestamps, comments) for every file of the shared corpus,
tshark and Scapy for files pktlab writes. The corpus' own INDEX.tsv gives the expected packet
counts; SOURCES.md documents where tshark legitimately differs, and each difference is handled
explicitly below with its reason.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import random
import re
import shutil
import struct
import subprocess
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from oracles import PCAPS, missing, require_corpus, require_scapy, require_tshark

from pktlab.capture import (
    LINKTYPE_NAMES,
    MAX_RECORD,
    CaptureError,
    CaptureRecord,
    PcapngReader,
    PcapngWriter,
    PcapReader,
    PcapWriter,
    linktype_name,
    open_capture,
)


def _index() -> dict[str, int]:
    """INDEX.tsv: corpus-relative file name -> packet records in the file."""
    path = PCAPS / "INDEX.tsv"
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        return {row["file"]: int(row["packets"]) for row in csv.DictReader(f, delimiter="\t")}


INDEX = _index()
REAL = sorted(name for name in INDEX if name.startswith("real/"))
MALFORMED = sorted(name for name in INDEX if name.startswith("malformed/"))


# Files whose *container* is damaged: (records delivered, what the error must say).
# Every other malformed/ file damages only the packets inside and must read completely.
CONTAINER_DAMAGE = {
    # Version 1.4 predates the format libpcap writes; tshark refuses it too.
    "malformed/libpcap-pcap-invalid-version.pcap": (0, "unsupported pcap version 1.4"),
    "malformed/libpcap-pcapng-invalid-shb-version.pcapng": (0, "unsupported pcapng version 0.1"),
    # The SHB's options run past its end; its trailing length is option bytes (0x30303030).
    "malformed/libpcap-pcapng-shb-option-too-long.pcapng": (
        0,
        "block length mismatch (leading 52, trailing 808464432)",
    ),
    "malformed/dpkt-dns-truncated-file.pcap": (
        1,
        "file ends in the middle of a record header at byte 240 (need 16 bytes, have 7)",
    ),
    # tshark's heuristics read this fuzzed file as another pcap variant and report a
    # different length; read as plain pcap, record 2's caplen field holds 0x53fe6000.
    "malformed/suricata-fuzzed-truncated-file.pcap": (
        1,
        "record 2 at byte 228: captured length 1409179648 exceeds the 262144-byte limit",
    ),
    # The first section is fine; the second SHB says version 2.0 (tshark also stops there).
    "malformed/gopacket-pcapngtestgen-le-test901-shb-v2.pcapng": (
        1,
        "SHB block at byte 480: unsupported pcapng version 2.0",
    ),
}

# tshark refuses this header-only file (reserved link-type bits set); pktlab ignores the bits,
# as draft-ietf-opsawg-pcap section 4 tells readers to, and reads zero records.
RESERVED_BITS = "malformed/libpcap-linktype-reserved-bits-set.pcap"
# tshark's pcap heuristics take this fuzzed file for another pcap variant (one with a longer
# record header): its first frame has the right lengths and time but data from 8 bytes later,
# and a bogus second frame follows (1048576 bytes long, 1 captured). pktlab reads plain pcap.
TSHARK_MISREADS = {"malformed/suricata-fuzzed-truncated-file.pcap"}


def read_all(source: bytes | Path) -> tuple[list[CaptureRecord], CaptureError | None, Any]:
    """Every record a reader delivers, the error that stopped it (or None), and the reader."""
    records: list[CaptureRecord] = []
    reader = None
    try:
        with open_capture(io.BytesIO(source) if isinstance(source, bytes) else source) as reader:
            for record in reader:
                records.append(record)
    except CaptureError as error:
        return records, error, reader
    return records, None, reader


# -- hand-made pcap and pcapng bytes ----------------------------------------------------------


def pcap_header(
    order: str = "<",
    nanosecond: bool = False,
    version: tuple[int, int] = (2, 4),
    snaplen: int = 65535,
    linktype: int = 1,
) -> bytes:
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    return struct.pack(order + "IHHiIII", magic, *version, 0, 0, snaplen, linktype)


def pcap_record(
    data: bytes,
    seconds: int = 1_700_000_000,
    fraction: int = 0,
    orig_len: int | None = None,
    caplen: int | None = None,
    order: str = "<",
) -> bytes:
    caplen = len(data) if caplen is None else caplen
    orig_len = len(data) if orig_len is None else orig_len
    return struct.pack(order + "IIII", seconds, fraction, caplen, orig_len) + data


def option(code: int, value: bytes, order: str = "<") -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def end_of_options(order: str = "<") -> bytes:
    return option(0, b"", order)


def block(
    btype: int,
    body: bytes,
    order: str = "<",
    length: int | None = None,
    trailing: int | None = None,
) -> bytes:
    total = len(body) + 12
    length = total if length is None else length
    trailing = length if trailing is None else trailing
    return struct.pack(order + "II", btype, length) + body + struct.pack(order + "I", trailing)


def shb(order: str = "<", version: tuple[int, int] = (1, 0), options: bytes = b"") -> bytes:
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, *version, -1) + options
    return block(0x0A0D0D0A, body, order)


def idb(linktype: int = 1, snaplen: int = 0, options: bytes = b"", order: str = "<") -> bytes:
    return block(1, struct.pack(order + "HHI", linktype, 0, snaplen) + options, order)


def epb(
    data: bytes,
    ticks: int = 0,
    interface: int = 0,
    orig_len: int | None = None,
    options: bytes = b"",
    order: str = "<",
    caplen: int | None = None,
) -> bytes:
    header = struct.pack(
        order + "IIIII",
        interface,
        ticks >> 32,
        ticks & 0xFFFFFFFF,
        len(data) if caplen is None else caplen,
        len(data) if orig_len is None else orig_len,
    )
    return block(6, header + data + b"\0" * (-len(data) % 4) + options, order)


def spb(data: bytes, orig_len: int, order: str = "<") -> bytes:
    return block(3, struct.pack(order + "I", orig_len) + data + b"\0" * (-len(data) % 4), order)


FRAME = bytes(range(60))


# -- the corpus ---------------------------------------------------------------------------------


def test_corpus_is_indexed() -> None:
    require_corpus()
    on_disk = {
        f"{kind}/{p.name}" for kind in ("real", "malformed") for p in (PCAPS / kind).iterdir()
    }
    assert on_disk == set(INDEX)
    assert len(REAL) == 85 and len(MALFORMED) == 59


@pytest.mark.parametrize("name", REAL)
def test_real_file_reads_to_expected_count(name: str) -> None:
    records, error, reader = read_all(PCAPS / name)
    assert error is None, error
    assert len(records) == INDEX[name]
    assert [r.number for r in records] == list(range(1, len(records) + 1))
    if "pcapngtestgen" in name:
        # pcapng-test-generator puts records of unassigned types (0x0123, 0x8123) in its NRBs.
        assert reader.warnings and all("record type" in w for w in reader.warnings)
    else:
        assert reader.warnings == []
    assert all(len(r.data) <= r.orig_len for r in records)
    offsets = [r.file_offset for r in records]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """tshark's JSON repeats a key for repeated fields (two comments); keep every value."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            previous = result[key]
            result[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            result[key] = value
    return result


def _tshark_frames(path: Path) -> list[dict[str, Any]]:
    """Each frame tshark reads from ``path``: its 'frame' fields plus raw bytes and comments."""
    result = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-T", "json", "-x", "-j", "frame pkt_comment"],
        capture_output=True,
        check=False,
        timeout=120,
    )
    frames = []
    for packet in json.loads(result.stdout or b"[]", object_pairs_hook=_json_pairs):
        layers = packet["_source"]["layers"]
        frame = dict(layers["frame"])
        raw = layers.get("frame_raw", [""])
        frame["raw"] = bytes.fromhex(raw[0] if isinstance(raw[0], str) else raw[0][0])
        comments = layers.get("pkt_comment", {}).get("frame.comment", [])
        frame["comments"] = comments if isinstance(comments, list) else [comments]
        frames.append(frame)
    return frames


def _mergeable(name: str) -> bool:
    """Whether a corpus file can go through mergecap (see ``tshark_corpus``)."""
    return name.endswith(".pcap") and name not in CONTAINER_DAMAGE and name != RESERVED_BITS


@pytest.fixture(scope="session")
def tshark_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """tshark's view of every corpus file, computed once.

    tshark needs about 0.3 s just to start, so 144 runs would dominate this file's run time.
    The classic pcap files that tshark reads completely are therefore concatenated by mergecap
    (-a: in order; -I none: every input keeps its own interface) and read by one tshark run:
    a pcap file has exactly one interface, so frame.interface_id in the merged file is the
    index of the source file. Every pcapng file, and every file tshark rejects or stops in,
    gets a tshark run of its own: sections, interface numbering, custom blocks and where
    reading stops are exactly what is being checked, and those do not survive a merge.
    """
    require_corpus()
    require_tshark()
    if shutil.which("mergecap") is None:
        missing("mergecap (ships with tshark)")
    merged_names = [name for name in INDEX if _mergeable(name)]
    alone = [name for name in INDEX if not _mergeable(name)]
    merged = tmp_path_factory.mktemp("tshark") / "merged-pcaps.pcapng"
    subprocess.run(
        ["mergecap", "-a", "-I", "none", "-w", str(merged)]
        + [str(PCAPS / name) for name in merged_names],
        check=True,
        timeout=60,
    )
    view: dict[str, list[dict[str, Any]]] = {name: [] for name in INDEX}
    with ThreadPoolExecutor(max_workers=4) as pool:
        per_file = pool.map(_tshark_frames, [PCAPS / name for name in alone])
        for frame in _tshark_frames(merged):
            view[merged_names[int(frame["frame.interface_id"])]].append(frame)
        for name, frames in zip(alone, per_file, strict=True):
            view[name] = frames
    return view


@pytest.mark.oracle
@pytest.mark.parametrize("name", REAL + MALFORMED)
def test_file_matches_tshark(name: str, tshark_corpus: dict[str, list[dict[str, Any]]]) -> None:
    """Every record pktlab delivers is the frame tshark shows, byte for byte and to the ns.

    For damaged files this also checks that everything before the damage was delivered:
    tshark stops at the first unreadable record, and so must pktlab, with the same records.
    """
    records, _, reader = read_all(PCAPS / name)
    frames = tshark_corpus[name]
    if isinstance(reader, PcapngReader):
        # SOURCES.md: tshark shows pcapng Custom Blocks as frames of their own (they carry
        # frame.cb_pen, the block's Private Enterprise Number); they are not packets.
        custom = [f for f in frames if "frame.cb_pen" in f]
        assert len(custom) == sum(reader.skipped_blocks.get(t, 0) for t in (0xBAD, 0x40000BAD))
        frames = [f for f in frames if "frame.cb_pen" not in f]
    if name in TSHARK_MISREADS:
        first = (frames[0]["frame.len"], frames[0]["frame.cap_len"], frames[0]["frame.time_epoch"])
        assert first == (str(records[0].orig_len), str(records[0].caplen), records[0].time)
        assert len(records) == 1 and len(frames) == 2
        return
    assert len(frames) == len(records)
    # Records with an out-of-range fraction of a second: tshark prints them without carrying
    # into the seconds ("1418145370.1000000000"), so their times cannot be compared as text.
    warnings = getattr(reader, "warnings", [])
    odd_times = {int(m[1]) for w in warnings if (m := re.match(r"record (\d+) .*second field", w))}
    for record, frame in zip(records, frames, strict=True):
        where = f"{name} frame {record.number}"
        assert record.data == frame["raw"], where
        assert record.caplen == int(frame["frame.cap_len"]), where
        assert record.orig_len == int(frame["frame.len"]), where
        assert list(record.comments) == frame["comments"], where
        if "frame.time_epoch" not in frame:
            # Simple Packet Blocks have no timestamp; tshark shows none, pktlab says 0.
            assert isinstance(reader, PcapngReader)
            assert record.timestamp_ns == 0, where
        elif record.number not in odd_times:
            assert record.time == frame["frame.time_epoch"], where
        if isinstance(reader, PcapngReader):
            interface = reader.interfaces[record.interface]
            assert interface.local_id == int(frame["frame.interface_id"]), where
            assert interface.section + 1 == int(frame["frame.section_number"]), where


def test_multi_section_pcapng_structure() -> None:
    require_corpus()
    for order in ("le", "be"):
        path = PCAPS / f"real/gopacket-pcapngtestgen-{order}-test202.pcapng"
        records, error, reader = read_all(path)
        assert error is None
        # The generator flips the byte order of the middle section to exercise readers.
        first, other = ("little", "big") if order == "le" else ("big", "little")
        assert [s.byte_order for s in reader.sections] == [first, other, first]
        assert reader.comments == ["test202 SHB-0", "test202 SHB-1", "test202 SHB-2"]
        assert len(reader.interfaces) == 5
        assert [i.section for i in reader.interfaces] == [0, 0, 1, 2, 2]
        assert [i.local_id for i in reader.interfaces] == [0, 1, 0, 0, 1]
        assert reader.skipped_blocks == {0x00000BAD: 1, 0x40000BAD: 2}
        assert reader.names and all(names for _, names in reader.names)
        assert sorted(reader.statistics) == [1, 2, 3]
        assert reader.statistics[3].received == 100 and reader.statistics[3].delivered == 6
        # Both SPBs are in the middle section, whose only interface has snaplen 128.
        spb_records = [r for r in records if r.timestamp_ns == 0]
        assert [(r.interface, r.caplen, r.orig_len) for r in spb_records] == [(2, 128, 314)] * 2


def test_pcapng_with_126_interfaces_and_name_resolution() -> None:
    require_corpus()
    records, error, reader = read_all(PCAPS / "real/zeek-pcapng-126-idb-nrb-ldap.pcapng")
    assert error is None and len(records) == 17
    assert len(reader.interfaces) == 126
    assert {r.interface for r in records} == {48}
    assert {i.linktype for i in reader.interfaces} == {1, 113, 274}
    assert len(reader.names) > 0
    address, names = reader.names[0]
    assert isinstance(address, str) and names and all(isinstance(n, str) for n in names)


def test_pcapng_statistics_and_comments() -> None:
    require_corpus()
    records, error, reader = read_all(PCAPS / "real/pcapplusplus-pcapng-11-interfaces-isb.pcapng")
    assert error is None and len(reader.statistics) == 11
    assert all(s.interface in range(11) for s in reader.statistics.values())
    path = PCAPS / "real/pcapplusplus-pcapng-eth-sll-comments-nsec.pcapng"
    records, error, reader = read_all(path)
    assert error is None
    commented = [r for r in records if r.comments]
    assert (commented[0].number, commented[0].comments) == (60, ("Packet #1",))
    # The SLL interface has no if_tsresol option, so it gets the default, microseconds.
    assert [i.ts_units_per_second for i in reader.interfaces] == [10**9, 10**6]


def test_classic_pcap_header_metadata() -> None:
    require_corpus()
    reader = open_capture(PCAPS / "real/pcapplusplus-nanosec-bigendian-http.pcap")
    with reader:
        assert isinstance(reader, PcapReader)
        assert (reader.byte_order, reader.nanosecond, reader.version) == ("big", True, (2, 4))
        assert (reader.snaplen, reader.linktype, reader.fcs_len) == (262144, 1, None)
    records, _, _ = read_all(PCAPS / "real/tcpdump-time-2106-max.pcap")
    assert records[0].timestamp_ns // 10**9 == 0xFFFFFFFF  # seconds are unsigned


# -- deliberately broken files ------------------------------------------------------------------


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_file_fails_cleanly(name: str) -> None:
    started = time.perf_counter()
    records, error, _ = read_all(PCAPS / name)
    assert time.perf_counter() - started < 2.0
    if name in CONTAINER_DAMAGE:
        delivered, message = CONTAINER_DAMAGE[name]
        assert error is not None, "damage went unnoticed"
        assert message in str(error)
        assert (len(records), error.delivered) == (delivered, delivered)
        assert error.offset >= 0
        assert delivered <= INDEX[name]
    else:
        assert error is None, error
        assert len(records) == INDEX[name]


def test_out_of_range_timestamps_are_delivered_with_warnings() -> None:
    require_corpus()
    for resolution, unit in (("micro", 1000), ("nano", 1)):
        records, error, reader = read_all(
            PCAPS / f"malformed/tcpdump-timestamp-invalid-{resolution}.pcap"
        )
        assert error is None and len(records) == 3
        assert len(reader.warnings) == 2
        assert reader.warnings[0].startswith("record 2 at byte 116: ")
        # The fraction is added as is: 1418145370 s + 10**6 us (or 10**9 ns) = one more second.
        assert records[1].timestamp_ns == 1418145370 * 10**9 + 10**9
        assert records[2].timestamp_ns == 1418145370 * 10**9 + 0x80000000 * unit


def test_reserved_linktype_bits_are_ignored_with_a_warning() -> None:
    require_corpus()
    records, error, reader = read_all(PCAPS / "malformed/libpcap-linktype-reserved-bits-set.pcap")
    assert (records, error) == ([], None)
    assert reader.linktype == 0 and reader.linktype_field == 0x00300000
    assert "reserved bits 0x00300000" in reader.warnings[0]


def test_fcs_bits_in_the_linktype_field() -> None:
    # Bit 26 (P) set: bits 28-31 give the FCS length in 16-bit words.
    header = pcap_header(linktype=0x24000000 | 1)
    _, error, reader = read_all(header)
    assert error is None and (reader.linktype, reader.fcs_len) == (1, 4)
    require_corpus()
    # Fuzzed files have 0x3 in the FCS nibble but P clear: the FCS length is unknown.
    _, _, reader = read_all(PCAPS / "malformed/tcpdump-tcp-header-overflow.pcap")
    assert (reader.linktype, reader.linktype_field, reader.fcs_len) == (1, 0x30000001, None)


# -- hand-made corrupt input ---------------------------------------------------------------------

GOOD_PCAP = pcap_header() + pcap_record(FRAME)
GOOD_PCAPNG = shb() + idb() + epb(FRAME)

CORRUPT: list[tuple[str, bytes, int, int, str]] = [
    # (case, file bytes, records delivered, error offset, exact message)
    ("empty", b"", 0, 0, "empty file"),
    ("bad magic", bytes.fromhex("12345678") + bytes(20), 0, 0,
     "bad magic 0x12345678 at byte 0: not a pcap or pcapng file"),
    ("short magic", b"\xd4\xc3", 0, 0,
     "file ends in the middle of the magic number at byte 0 (need 4 bytes, have 2)"),
    ("truncated pcap header", pcap_header()[:10], 0, 0,
     "pcap: file ends in the middle of the file header at byte 0 (need 24 bytes, have 10)"),
    ("pcap version 3.0", pcap_header(version=(3, 0)), 0, 0,
     "pcap: file header at byte 0: unsupported pcap version 3.0"),
    ("truncated record header", GOOD_PCAP + b"\0" * 5, 1, 100,
     "pcap: record 2: file ends in the middle of a record header at byte 100 "
     "(need 16 bytes, have 5)"),
    ("truncated record", GOOD_PCAP + pcap_record(FRAME)[:50], 1, 100,
     "pcap: record 2: file ends in the middle of a record at byte 100 (need 76 bytes, have 50)"),
    ("huge caplen", GOOD_PCAP + pcap_record(b"", caplen=0xFFFFFF), 1, 100,
     "pcap: record 2 at byte 100: captured length 16777215 exceeds the 262144-byte limit"),
    ("pcapng length mismatch", GOOD_PCAPNG + epb(FRAME)[:-4] + struct.pack("<I", 88), 1, 140,
     "pcapng: EPB block at byte 140: block length mismatch (leading 92, trailing 88)"),
    ("pcapng length not a multiple of 4", GOOD_PCAPNG + block(6, bytes(20), length=13), 1, 140,
     "pcapng: EPB block at byte 140: total length 13 is not a multiple of 4"),
    ("pcapng length below minimum", GOOD_PCAPNG + block(6, bytes(16)), 1, 140,
     "pcapng: EPB block at byte 140: total length 28 is less than the minimum 32 for this "
     "block type"),
    ("pcapng SHB major version 2", shb(version=(2, 0)) + idb() + epb(FRAME), 0, 0,
     "pcapng: SHB block at byte 0: unsupported pcapng version 2.0"),
    ("pcapng second SHB version 1.1", GOOD_PCAPNG + shb(version=(1, 1)), 1, 140,
     "pcapng: SHB block at byte 140: unsupported pcapng version 1.1"),
    ("pcapng bad byte-order magic", GOOD_PCAPNG + shb()[:8] + b"ABCD" + shb()[12:], 1, 140,
     "pcapng: SHB block at byte 140: bad byte-order magic 0x41424344 (expected 0x1a2b3c4d "
     "in either byte order)"),
    ("pcapng EPB for a missing IDB", GOOD_PCAPNG + epb(FRAME, interface=3), 1, 140,
     "pcapng: EPB block at byte 140 (packet 2): interface 3 is not defined in this section "
     "(1 interface(s) so far)"),
    ("pcapng SPB without IDB", shb() + spb(FRAME, 60), 0, 28,
     "pcapng: SPB block at byte 28 (packet 1): no interface is defined in this section "
     "(a Simple Packet Block belongs to interface 0)"),
    ("pcapng caplen past the block", GOOD_PCAPNG + epb(FRAME, caplen=61), 1, 140,
     "pcapng: EPB block at byte 140 (packet 2): captured length 61 does not fit in the block "
     "(room for 60 bytes)"),
    ("pcapng huge caplen", GOOD_PCAPNG + epb(FRAME, caplen=0x7FFFFFFF), 1, 140,
     "pcapng: EPB block at byte 140 (packet 2): captured length 2147483647 exceeds the "
     "262144-byte limit"),
    ("pcapng huge block", GOOD_PCAPNG + block(6, bytes(20), length=0x7FFFFFF0), 1, 140,
     "pcapng: EPB block at byte 140: total length 2147483632 exceeds the 327680-byte limit"),
    ("pcapng option overrun", GOOD_PCAPNG + epb(FRAME, options=struct.pack("<HH", 1, 400)),
     1, 140,
     "pcapng: EPB block at byte 140: option 1 at byte 228 has length 400, but only 0 bytes "
     "remain in the block"),
    ("pcapng truncated block", GOOD_PCAPNG + epb(FRAME)[:40], 1, 140,
     "pcapng: EPB block at byte 140: file ends in the middle of a block at byte 140 "
     "(need 92 bytes, have 40)"),
    ("pcapng truncated block header", GOOD_PCAPNG + b"\x06\0\0", 1, 140,
     "pcapng: block at byte 140: file ends in the middle of a block header at byte 140 "
     "(need 8 bytes, have 3)"),
    ("pcapng truncated SHB", shb()[:20], 0, 0,
     "pcapng: SHB block at byte 0: file ends in the middle of a block at byte 0 "
     "(need 28 bytes, have 20)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "delivered", "offset", "message"),
    [case[1:] for case in CORRUPT],
    ids=[case[0] for case in CORRUPT],
)
def test_corrupt_input(data: bytes, delivered: int, offset: int, message: str) -> None:
    records, error, _ = read_all(data)
    assert error is not None
    assert (str(error), error.offset, error.delivered) == (message, offset, delivered)
    assert len(records) == delivered
    assert all(r.data == FRAME for r in records)


def test_error_is_raised_again_after_the_first_time() -> None:
    reader = open_capture(io.BytesIO(GOOD_PCAP + b"\0" * 5))
    assert next(reader).data == FRAME
    with pytest.raises(CaptureError) as first:
        next(reader)
    with pytest.raises(CaptureError) as second:
        list(reader)
    assert first.value is second.value is reader.error


def test_random_damage_never_escapes_as_another_exception() -> None:
    """Flip, cut and overwrite bytes of valid files: only CaptureError, never a hang."""
    rng = random.Random(20240601)
    pcapng = (
        shb(">", options=option(1, b"section", ">") + end_of_options(">"))
        + idb(1, 0, option(9, b"\x89", ">") + option(14, bytes(8), ">"), ">")
        + epb(FRAME, 5, options=option(1, b"hello", ">"), order=">")
        + spb(FRAME, 60, ">")
        + block(4, option(1, bytes(4) + b"a\0", ">") + end_of_options(">"), ">")
        + block(5, struct.pack(">III", 0, 0, 0) + option(4, bytes(8), ">"), ">")
    )
    pcap = pcap_header() + pcap_record(FRAME) * 3
    started = time.perf_counter()
    for original in (pcap, pcapng):
        for _ in range(400):
            data = bytearray(original)
            for _ in range(rng.randint(1, 4)):
                kind = rng.random()
                at = rng.randrange(len(data))
                if kind < 0.5:
                    data[at] ^= 1 << rng.randrange(8)
                elif kind < 0.8:
                    data[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\0\0\0\0", b"\x7f"])
                else:
                    del data[at:]
                    break
            records, error, _ = read_all(bytes(data))
            if error is not None:
                assert error.delivered == len(records) and error.offset >= 0
    assert time.perf_counter() - started < 10


# -- pcapng features built by hand ---------------------------------------------------------------


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_timestamp_resolutions_and_offset(order: str) -> None:
    ticks = 0x0001_0000_0000_0001
    cases = [
        (None, 0, ticks * 1000),  # no if_tsresol: microseconds
        (b"\x09", 0, ticks),
        (b"\x03", 0, ticks * 1_000_000),
        (b"\x0c", 0, ticks // 1000),  # picoseconds: floored to whole nanoseconds
        (b"\x8a", 0, ticks * 10**9 // 1024),  # 2**-10 s
        (b"\x80", -5, ticks * 10**9 - 5 * 10**9),  # 2**0: whole seconds, minus 5 s offset
    ]
    data = shb(order)
    for tsresol, tsoffset, _ in cases:
        options = option(9, tsresol, order) if tsresol is not None else b""
        options += option(14, struct.pack(order + "q", tsoffset), order) + end_of_options(order)
        data += idb(1, 0, options, order)
    for interface in range(len(cases)):
        data += epb(FRAME, ticks, interface, order=order)
    records, error, reader = read_all(data)
    assert error is None
    assert [r.timestamp_ns for r in records] == [expected for _, _, expected in cases]
    assert [r.interface for r in records] == list(range(len(cases)))
    assert reader.interfaces[4].ts_units_per_second == 1024
    assert reader.interfaces[5].tsoffset == -5


def test_pcapng_sections_may_switch_byte_order_and_reset_interfaces() -> None:
    data = (
        shb("<", options=option(1, b"first") + end_of_options())
        + idb(1, 0)
        + idb(101, 0)
        + epb(FRAME, 1, 1)
        + shb(">", (1, 2), option(1, b"second", ">") + end_of_options(">"))
        + idb(113, 0, order=">")
        + epb(FRAME, 2, 0, order=">")
    )
    records, error, reader = read_all(data)
    assert error is None
    assert [(r.linktype, r.interface) for r in records] == [(101, 1), (113, 2)]
    assert [s.byte_order for s in reader.sections] == ["little", "big"]
    assert reader.sections[1].version == (1, 2)  # the draft says read 1.2 as 1.0
    assert reader.comments == ["first", "second"]
    # Interface 1 existed only in the first section.
    _, error, _ = read_all(data + epb(FRAME, 3, 1, order=">"))
    assert error is not None and "interface 1 is not defined" in str(error)


def test_pcapng_simple_packet_block_lengths() -> None:
    # Captured length = min(original length, snaplen, room in the block).
    data = shb() + idb(1, 40) + spb(FRAME[:40], 60) + spb(FRAME[:12], 12) + spb(FRAME[:20], 90)
    records, error, _ = read_all(data)
    assert error is None
    assert [(r.caplen, r.orig_len) for r in records] == [(40, 60), (12, 12), (20, 90)]
    assert records[0].data == FRAME[:40] and records[0].timestamp_ns == 0


def test_pcapng_obsolete_packet_block() -> None:
    body = struct.pack("<HHIIII", 0, 7, 0, 1500, 60, 64) + FRAME + option(1, b"old") + bytes(4)
    records, error, _ = read_all(shb() + idb() + block(2, body))
    assert error is None
    assert (records[0].data, records[0].orig_len, records[0].timestamp_ns) == (
        FRAME,
        64,
        1_500_000,
    )
    assert records[0].comments == ("old",)


def test_pcapng_name_resolution_statistics_and_skipped_blocks() -> None:
    records_body = (
        option(1, bytes([192, 0, 2, 1]) + b"host.example\0alias\0")
        + option(2, bytes.fromhex("20010db8" + "00" * 11 + "01") + b"v6.example\0")
        + option(3, bytes.fromhex("020000000001") + b"nic\0")
        + end_of_options()
    )
    isb_body = (
        struct.pack("<III", 0, 0, 3_000_000)
        + option(2, struct.pack("<II", 0, 1_000_000))
        + option(4, struct.pack("<Q", 100))
        + option(5, struct.pack("<Q", 7))
        + option(1, b"stats")
        + end_of_options()
    )
    data = (
        shb()
        + idb()
        + block(4, records_body)
        + block(0x00000BAD, struct.pack("<I", 32473) + b"custom\0\0")
        + block(0x40000BAD, struct.pack("<I", 32473) + b"nocopy!!")
        + block(0x7777, bytes(8))
        + epb(FRAME)
        + block(5, isb_body)
    )
    records, error, reader = read_all(data)
    assert error is None and len(records) == 1
    assert reader.names == [
        ("192.0.2.1", ["host.example", "alias"]),
        ("2001:db8::1", ["v6.example"]),
        ("02:00:00:00:00:01", ["nic"]),
    ]
    stats = reader.statistics[0]
    assert (stats.timestamp_ns, stats.starttime_ns, stats.received, stats.dropped) == (
        3_000_000_000,
        1_000_000_000,
        100,
        7,
    )
    assert stats.endtime_ns is None and stats.comments == ("stats",)
    assert reader.skipped_blocks == {0xBAD: 1, 0x40000BAD: 1, 0x7777: 1}


def test_oversized_unknown_block_is_skipped_without_buffering_it() -> None:
    big = block(0x0BAD, bytes(1_000_000))
    records, error, reader = read_all(GOOD_PCAPNG + big + epb(FRAME))
    assert error is None and len(records) == 2
    assert reader.skipped_blocks == {0xBAD: 1}


# -- streaming and memory ------------------------------------------------------------------------


class _Trickle(io.RawIOBase):
    """A non-seekable stream that returns at most 7 bytes per read, like a slow pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), 7, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


@pytest.mark.parametrize("data", [GOOD_PCAP, GOOD_PCAPNG], ids=["pcap", "pcapng"])
def test_short_reads_from_a_pipe(data: bytes) -> None:
    more = pcap_record(FRAME, fraction=5) * 50 if data.startswith(b"\xd4") else epb(FRAME) * 50
    reader = open_capture(cast(BinaryIO, _Trickle(data + more)))
    records = list(reader)
    assert len(records) == 51 and all(r.data == FRAME for r in records)


class _Generated(io.RawIOBase):
    """A pcap file of ``count`` 4 KiB records produced on the fly (never held in memory)."""

    def __init__(self, count: int) -> None:
        self._chunks = self._produce(count)
        self._pending = b""

    @staticmethod
    def _produce(count: int) -> Iterator[bytes]:
        yield pcap_header(snaplen=MAX_RECORD)
        payload = bytes(4096)
        for i in range(count):
            yield pcap_record(payload, seconds=i)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self._pending) < len(buffer):
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._pending += chunk
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def test_memory_stays_bounded_on_a_large_stream() -> None:
    count = 5000  # 20 MB of records
    tracemalloc.start()
    try:
        total = 0
        for record in open_capture(cast(BinaryIO, io.BufferedReader(_Generated(count)))):
            total += record.caplen
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == count * 4096
    assert peak < 2_000_000


def test_open_capture_accepts_paths_and_closes_what_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(GOOD_PCAP)
    for source in (path, str(path)):
        with open_capture(source) as reader:
            assert [r.data for r in reader] == [FRAME]
        assert reader._file.closed
    with path.open("rb") as f:
        with open_capture(f) as reader:
            list(reader)
        assert not f.closed  # a caller's file stays open
    with pytest.raises(TypeError), path.open("r") as text:
        open_capture(text)  # type: ignore[arg-type]


def test_capture_record_time_is_exact() -> None:
    record = CaptureRecord(b"ab", 2, 1_700_000_000_123_456_789, 1)
    assert record.time == "1700000000.123456789" and record.caplen == 2
    assert CaptureRecord(b"", 0, -1_500_000_000, 1).time == "-1.500000000"
    assert CaptureRecord(b"", 0, 5, 1).time == "0.000000005"
    assert "caplen=2" in repr(record)


def test_readers_build_ordinary_frozen_records() -> None:
    # Readers construct records through a fast path; the result must be indistinguishable.
    read = read_all(GOOD_PCAP)[0][0]
    made = CaptureRecord(FRAME, 60, 1_700_000_000 * 10**9, 1, 0, (), 1, 24)
    assert read == made and hash(read) == hash(made) and type(read) is CaptureRecord
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.orig_len = 5  # type: ignore[misc]


def test_linktype_names() -> None:
    assert LINKTYPE_NAMES[1] == "ETHERNET" and LINKTYPE_NAMES[276] == "LINUX_SLL2"
    assert [LINKTYPE_NAMES[n] for n in (0, 101, 113, 228, 229)] == [
        "NULL",
        "RAW",
        "LINUX_SLL",
        "IPV4",
        "IPV6",
    ]
    assert linktype_name(4242) == "LINKTYPE_4242"


def test_pcap_snaplen_and_length_oddities_are_delivered_with_notes() -> None:
    data = (
        pcap_header(snaplen=32)
        + pcap_record(FRAME)  # 60 > snaplen 32: libpcap delivers it
        + pcap_record(FRAME[:20], orig_len=10)  # captured more than the wire length
    )
    records, error, reader = read_all(data)
    assert error is None and len(records) == 2
    assert reader.warnings == [
        "record 1 at byte 24: captured length 60 exceeds the file's snaplen 32 "
        "(delivered, as libpcap does)",
        "record 2 at byte 100: captured length 20 exceeds original length 10",
    ]


def test_old_pcap_minor_versions_swap_lengths_like_libpcap() -> None:
    # Before 2.3 the header stored (len, caplen) instead of (caplen, len).
    data = pcap_header(version=(2, 2)) + struct.pack("<IIII", 0, 0, 100, 60) + FRAME
    records, error, reader = read_all(data)
    assert error is None and (records[0].caplen, records[0].orig_len) == (60, 100)
    assert "pcap version 2.2" in reader.warnings[0]


# -- writers: pktlab, tshark and Scapy must all read back the same packets ---------------------

PACKETS = [
    (bytes(range(256))[:42], 1_700_000_000_123_456_789, None),
    (b"\x00" * 60 + b"\xff", 1_700_000_001_000_000_001, 1514),
    (bytes(range(64)), 1_700_000_002_999_999_999, None),
]


def _write_pcap(nanosecond: bool) -> bytes:
    f = io.BytesIO()
    with PcapWriter(f, linktype=1, nanosecond=nanosecond) as writer:
        for data, timestamp_ns, orig_len in PACKETS:
            writer.write(data, timestamp_ns, orig_len)
    return f.getvalue()


def _write_pcapng() -> bytes:
    f = io.BytesIO()
    with PcapngWriter(f) as writer:
        eth = writer.add_interface(1, "eth0")
        raw = writer.add_interface(101, "tun0", tsresol_ns=False)
        assert writer.add_interface(1, "eth0") == eth  # one IDB per (linktype, name)
        for i, (data, timestamp_ns, orig_len) in enumerate(PACKETS):
            comment = "héllo, wörld" if i == 0 else None
            writer.write(data, timestamp_ns, eth if i < 2 else raw, orig_len, comment)
    return f.getvalue()


WRITTEN: dict[str, tuple[Callable[[], bytes], int]] = {
    # name: (writer, timestamp resolution in ns for each packet)
    "pcap-us": (lambda: _write_pcap(False), 1000),
    "pcap-ns": (lambda: _write_pcap(True), 1),
    "pcapng": (_write_pcapng, 0),  # 0: nanoseconds on eth0, microseconds on tun0
}


def _expected_ns(kind: str, index: int, timestamp_ns: int) -> int:
    resolution = WRITTEN[kind][1] or (1000 if index == 2 else 1)
    return timestamp_ns - timestamp_ns % resolution


@pytest.mark.parametrize("kind", list(WRITTEN))
def test_writer_round_trip_pktlab(kind: str) -> None:
    records, error, reader = read_all(WRITTEN[kind][0]())
    assert error is None and reader.warnings == []
    assert len(records) == len(PACKETS)
    for i, (record, (data, timestamp_ns, orig_len)) in enumerate(
        zip(records, PACKETS, strict=True)
    ):
        assert record.data == data
        assert record.orig_len == (orig_len or len(data))
        assert record.timestamp_ns == _expected_ns(kind, i, timestamp_ns)
    if kind == "pcapng":
        assert [r.linktype for r in records] == [1, 1, 101]
        assert records[0].comments == ("héllo, wörld",)
        assert [i.name for i in reader.interfaces] == ["eth0", "tun0"]


@pytest.mark.oracle
@pytest.mark.parametrize("kind", list(WRITTEN))
def test_writer_round_trip_tshark(kind: str, tmp_path: Path) -> None:
    require_tshark()
    path = tmp_path / f"{kind}.{'pcapng' if kind == 'pcapng' else 'pcap'}"
    path.write_bytes(WRITTEN[kind][0]())
    frames = _tshark_frames(path)
    assert len(frames) == len(PACKETS)
    for i, (frame, (data, timestamp_ns, orig_len)) in enumerate(zip(frames, PACKETS, strict=True)):
        assert frame["raw"] == data
        assert int(frame["frame.len"]) == (orig_len or len(data))
        expected = CaptureRecord(b"", 0, _expected_ns(kind, i, timestamp_ns), 1).time
        assert frame["frame.time_epoch"] == expected
        if kind == "pcapng":
            assert frame["comments"] == (["héllo, wörld"] if i == 0 else [])


@pytest.mark.oracle
@pytest.mark.parametrize("kind", list(WRITTEN))
def test_writer_round_trip_scapy(kind: str, tmp_path: Path) -> None:
    require_scapy()
    from scapy.utils import rdpcap

    path = tmp_path / f"{kind}.{'pcapng' if kind == 'pcapng' else 'pcap'}"
    path.write_bytes(WRITTEN[kind][0]())
    packets = rdpcap(str(path))
    assert len(packets) == len(PACKETS)
    for i, (packet, (data, timestamp_ns, orig_len)) in enumerate(
        zip(packets, PACKETS, strict=True)
    ):
        assert bytes(packet) == data
        assert packet.wirelen == (orig_len or len(data))
        # Scapy keeps time as a Decimal-based EDecimal, exact for these resolutions.
        assert int(Decimal(packet.time) * 10**9) == _expected_ns(kind, i, timestamp_ns)


def test_writers_refuse_what_they_cannot_write() -> None:
    writer = PcapWriter(io.BytesIO(), snaplen=100)
    with pytest.raises(ValueError, match="exceed the snaplen 100"):
        writer.write(bytes(101), 0)
    with pytest.raises(ValueError, match="orig_len"):
        writer.write(bytes(10), 0, orig_len=5)
    with pytest.raises(ValueError, match="unsigned 32-bit seconds"):
        writer.write(b"", 2**32 * 10**9)
    ng = PcapngWriter(io.BytesIO())
    with pytest.raises(ValueError, match="call add_interface first"):
        ng.write(b"", 0)
    ng.add_interface(1, "eth0")
    with pytest.raises(ValueError, match="already exists"):
        ng.add_interface(1, "eth0", tsresol_ns=False)
    with pytest.raises(ValueError, match="64 unsigned bits"):
        ng.write(b"", -1)

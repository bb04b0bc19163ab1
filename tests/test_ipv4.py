"""IPv4 and its options: known answers, every problem path, exact round trips, and differential
tests against Scapy (``IP`` with ``IPOption_*``) and tshark's JSON for the option captures."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from corpus import frames
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import DIFF_EXAMPLES, MALFORMED, REAL, require_corpus, require_scapy, require_tshark

from pktlab.wire import Layer, Packet, Severity, dissect, eth, ip, rebuild, udp
from pktlab.wire.checksum import internet_checksum, is_valid, ones_complement_sum
from pktlab.wire.ipv4 import IPV4
from pktlab.wire.ipv4_options import IPV4_OPTIONS

RAW_IPV4 = 228  # LINKTYPE_IPV4: the frame is the IPv4 datagram

KNOWN_TYPES = frozenset({0, 1, 7, 11, 12, 68, 82, 130, 131, 133, 134, 136, 137, 148})


def problems(packet: Packet, severity: Severity | None = None) -> list[str]:
    return [p.message for _, p in packet.all_problems()
            if severity is None or p.severity is severity]


def ip_layer(packet: Packet) -> Layer:
    found = packet.layer("ip")
    assert found is not None
    return found


def option_fields(layer: Layer) -> list[tuple[str, Any]]:
    """Every (name, value) of the option children, in wire order."""
    return [pair for child in layer.children for pair in child.all_fields()]


# ------------------------------------------------------------------ checksum known answers


def test_rfc1071_numerical_example() -> None:
    # RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement).
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert ones_complement_sum(data) == 0xDDF2
    assert internet_checksum(data) == 0x220D
    assert is_valid(data + (0x220D).to_bytes(2, "big"))


def _reference_checksum(header: bytes) -> int:
    """A textbook word-by-word implementation, independent of pktlab's big-integer one."""
    total = 0
    for i in range(0, len(header), 2):
        total += (header[i] << 8) | header[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


# A header with a hand-verified checksum (the widely reproduced UDP example: 0xb861).
HAND_HEADER = bytes.fromhex("450000730000400040 11b861c0a80001c0a800c7".replace(" ", ""))


def test_hand_checked_header() -> None:
    assert _reference_checksum(HAND_HEADER[:10] + b"\0\0" + HAND_HEADER[12:]) == 0xB861
    fields = IPV4.decode(HAND_HEADER, 0)
    assert fields == {
        "ip.version": 4, "ip.hdr_len": 20, "ip.dsfield": 0, "ip.dsfield.dscp": 0,
        "ip.dsfield.ecn": 0, "ip.len": 0x73, "ip.id": 0, "ip.flags": 2, "ip.flags.rb": 0,
        "ip.flags.df": 1, "ip.flags.mf": 0, "ip.frag_offset": 0, "ip.ttl": 64, "ip.proto": 17,
        "ip.checksum": 0xB861, "ip.src": "192.168.0.1", "ip.dst": "192.168.0.199",
    }
    packet = dissect(HAND_HEADER + bytes(0x73 - 20), RAW_IPV4, strict=True)
    layer = ip_layer(packet)
    assert layer.fields["ip.checksum.status"] == "good"
    assert layer.problems == []


def test_built_header_matches_hand_header() -> None:
    built = (ip(id=0, flags_df=1, ttl=64, proto=17, src="192.168.0.1", dst="192.168.0.199")
             / bytes(0x73 - 20)).build()
    assert built[:20] == HAND_HEADER


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=20, max_size=60).map(lambda b: b[: len(b) // 2 * 2]))
def test_checksum_agrees_with_reference(header: bytes) -> None:
    zeroed = header[:10] + b"\0\0" + header[12:]
    assert internet_checksum(zeroed) == _reference_checksum(zeroed)


# ------------------------------------------------------------------------ problem paths


def test_dscp_ecn_and_fragment_fields_build_and_parse() -> None:
    frame = (ip(dsfield_dscp=46, dsfield_ecn=1, flags_df=1, frag_offset=185, id=0x1234, proto=17)
             / b"12345678").build()
    assert frame[1] == (46 << 2 | 1)
    assert frame[6:8] == bytes.fromhex("40b9")  # DF, offset 1480 / 8 = 185
    packet = dissect(frame, RAW_IPV4, strict=True)
    expect = {"ip.dsfield.dscp": 46, "ip.dsfield.ecn": 1, "ip.flags": 2, "ip.flags.df": 1,
              "ip.flags.mf": 0, "ip.frag_offset": 185, "ip.id": 0x1234}
    for name, value in expect.items():
        assert packet[name] == value, name
    assert rebuild(packet) == frame


def test_fragment_offset_counts_8_byte_units_up_to_13_bits() -> None:
    with pytest.raises(ValueError, match=r"out of range 0\.\.8191"):
        ip(frag_offset=8192).build()


@pytest.mark.parametrize("keywords, message, severity", [
    ({"version": 6}, "version 6 in an IPv4 header, expected 4", Severity.ERROR),
    ({"hdr_len": 16}, "below the minimum of 20", Severity.ERROR),
    ({"hdr_len": 60}, "runs past the captured data", Severity.ERROR),
    ({"len": 10}, "total length 10 is less than the header length 20", Severity.ERROR),
    ({"len": 100}, "total length 100 exceeds the 28 bytes available", Severity.ERROR),
    ({"ttl": 0}, "TTL 0", Severity.WARNING),
    ({"flags_rb": 1}, "reserved flag bit set", Severity.WARNING),
    ({"checksum": 0x1234}, "bad checksum 0x1234", Severity.WARNING),
    ({"flags_mf": 1}, "fragment at byte offset 0 (more follow)", Severity.NOTE),
    ({"frag_offset": 64}, "fragment at byte offset 512 (last)", Severity.NOTE),
    ({"len": 0}, "total length 0: probably a TSO/GSO packet", Severity.NOTE),
])
def test_problem_paths(keywords: dict[str, int], message: str, severity: Severity) -> None:
    frame = (ip(proto=253, **keywords) / b"8 bytes!").build()
    packet = dissect(frame, RAW_IPV4, strict=True)
    found = problems(packet, severity)
    assert any(message in m for m in found), found
    assert packet.malformed == (severity is Severity.ERROR)


def test_every_problem_names_its_field() -> None:
    frame = (ip(ttl=0, flags_rb=1, checksum=0x1234, proto=253) / b"x").build()
    packet = dissect(frame, RAW_IPV4, strict=True)
    assert {p.field for _, p in packet.all_problems()} == {
        "ip.ttl", "ip.flags.rb", "ip.checksum"}


def test_truncated_capture_is_a_note_not_an_error() -> None:
    frame = (ip(proto=253) / bytes(100)).build()
    packet = dissect(frame[:48], RAW_IPV4, orig_len=len(frame), strict=True)
    assert any("only 48 bytes were captured" in m for m in problems(packet, Severity.NOTE))
    assert not packet.malformed
    # The same short datagram without a snap length is lying about its length.
    packet = dissect(frame[:48], RAW_IPV4, strict=True)
    assert packet.malformed


def test_checksum_of_header_cut_short_is_unverified() -> None:
    frame = ip(proto=253, options=[("rr", ["192.0.2.1"])]).build()
    packet = dissect(frame[:22], RAW_IPV4, strict=True)
    assert packet["ip.checksum.status"] == "unverified"
    assert packet.malformed


def test_first_fragment_payload_checksum_is_unverified() -> None:
    frame = (ip(flags_mf=1, src="198.18.0.1") / udp(sport=1, dport=2) / b"payload").build()
    packet = dissect(frame, RAW_IPV4, strict=True)
    assert packet.summary() == "ip / udp / data"
    assert packet["udp.checksum.status"] == "unverified"


def test_later_fragment_is_data() -> None:
    frame = (ip(frag_offset=185, proto=17) / b"rest of the datagram").build()
    packet = dissect(frame, RAW_IPV4, strict=True)
    assert packet.summary() == "ip / data"
    assert rebuild(packet) == frame


def test_wrong_checksum_survives_the_build_and_shows_the_expected_value() -> None:
    good = dissect(ip(proto=253).build(), RAW_IPV4, strict=True)["ip.checksum"]
    frame = ip(proto=253, checksum=0xBEEF).build()
    assert frame[10:12] == b"\xbe\xef"
    packet = dissect(frame, RAW_IPV4, strict=True)
    assert packet["ip.checksum"] == 0xBEEF
    assert packet["ip.checksum.status"] == "bad"
    assert packet["ip.checksum_calculated"] == good
    assert any(f"expected 0x{good:04x}" in m for m in problems(packet, Severity.WARNING))
    assert rebuild(packet) == frame


@pytest.mark.parametrize("frame", [
    (eth() / ip(options=[("rr", ["192.0.2.1", "0.0.0.0"]), ("ra", 0)]) / udp() / b"x").build(),
    (eth() / ip(flags_df=1, ttl=1, proto=253) / b"\x01\x02").build(),
])
def test_every_truncation_is_noticed_and_never_raises(frame: bytes) -> None:
    for cut in range(len(frame)):
        packet = dissect(frame[:cut], strict=True)
        if 14 <= cut < len(frame.rstrip(b"\0")):
            assert packet.all_problems(), f"cut at {cut} went unnoticed"


# --------------------------------------------------------------------- options: known answers

# (option bytes, expected (name, value) pairs in wire order, problems expected)
OPTION_VECTORS: list[tuple[str, list[tuple[str, Any]]]] = [
    ("01", [("ip.opt.type", 1), ("ip.opt.type.copy", 0), ("ip.opt.type.class", 0),
            ("ip.opt.type.number", 1)]),
    ("94040000", [("ip.opt.type", 148), ("ip.opt.type.copy", 1), ("ip.opt.type.class", 0),
                  ("ip.opt.type.number", 20), ("ip.opt.len", 4), ("ip.opt.ra", 0)]),
    # Record route, pointer 8: the first address is recorded, the second slot is free.
    ("070b08c0000201 00000000", [
        ("ip.opt.type", 7), ("ip.opt.type.copy", 0), ("ip.opt.type.class", 0),
        ("ip.opt.type.number", 7), ("ip.opt.len", 11), ("ip.opt.ptr", 8),
        ("ip.rec_rt", "192.0.2.1"), ("ip.empty_rt", "0.0.0.0")]),
    # Loose source route, pointer 8: one hop visited, one to go, then the final destination.
    ("830f08c0000201c0000202c0000203", [
        ("ip.opt.type", 131), ("ip.opt.type.copy", 1), ("ip.opt.type.class", 0),
        ("ip.opt.type.number", 3), ("ip.opt.len", 15), ("ip.opt.ptr", 8),
        ("ip.rec_rt", "192.0.2.1"), ("ip.src_rt", "192.0.2.2"), ("ip.dst", "192.0.2.3")]),
    # Strict source route whose pointer is past the end: every address is a visited one.
    ("890b0cc0000201c0000202", [
        ("ip.opt.type", 137), ("ip.opt.type.copy", 1), ("ip.opt.type.class", 0),
        ("ip.opt.type.number", 9), ("ip.opt.len", 11), ("ip.opt.ptr", 12),
        ("ip.rec_rt", "192.0.2.1"), ("ip.rec_rt", "192.0.2.2")]),
    # Time stamps only (flag 0), one stamped.
    ("440c0900 0000002a 00000000", [
        ("ip.opt.type", 68), ("ip.opt.type.copy", 0), ("ip.opt.type.class", 2),
        ("ip.opt.type.number", 4), ("ip.opt.len", 12), ("ip.opt.ptr", 9),
        ("ip.opt.overflow", 0), ("ip.opt.flag", 0), ("ip.opt.time_stamp", 42),
        ("ip.opt.time_stamp", 0)]),
    # Address and time stamp (flag 1), overflow 3.
    ("440c0d31 c6120001 00000007", [
        ("ip.opt.type", 68), ("ip.opt.type.copy", 0), ("ip.opt.type.class", 2),
        ("ip.opt.type.number", 4), ("ip.opt.len", 12), ("ip.opt.ptr", 13),
        ("ip.opt.overflow", 3), ("ip.opt.flag", 1), ("ip.opt.time_stamp_addr", "198.18.0.1"),
        ("ip.opt.time_stamp", 7)]),
    # Prespecified addresses (flag 3).
    ("440c0503 c6120002 00000000", [
        ("ip.opt.type", 68), ("ip.opt.type.copy", 0), ("ip.opt.type.class", 2),
        ("ip.opt.type.number", 4), ("ip.opt.len", 12), ("ip.opt.ptr", 5),
        ("ip.opt.overflow", 0), ("ip.opt.flag", 3), ("ip.opt.time_stamp_addr", "198.18.0.2"),
        ("ip.opt.time_stamp", 0)]),
    ("88040102", [("ip.opt.type", 136), ("ip.opt.type.copy", 1), ("ip.opt.type.class", 0),
                  ("ip.opt.type.number", 8), ("ip.opt.len", 4), ("ip.opt.sid", 0x0102)]),
    ("0b0405dc", [("ip.opt.type", 11), ("ip.opt.type.copy", 0), ("ip.opt.type.class", 0),
                  ("ip.opt.type.number", 11), ("ip.opt.len", 4), ("ip.opt.mtu", 1500)]),
    ("520c0001000200 03c6120001", [
        ("ip.opt.type", 82), ("ip.opt.type.copy", 0), ("ip.opt.type.class", 2),
        ("ip.opt.type.number", 18), ("ip.opt.len", 12), ("ip.opt.id_number", 1),
        ("ip.opt.ohc", 2), ("ip.opt.rhc", 3), ("ip.opt.originator", "198.18.0.1")]),
    # Security (RFC 791 form) is kept raw.
    ("820b 0000 0000 0000 000000", [
        ("ip.opt.type", 130), ("ip.opt.type.copy", 1), ("ip.opt.type.class", 0),
        ("ip.opt.type.number", 2), ("ip.opt.len", 11),
        ("ip.options.security.data", bytes(9))]),
    # An unknown option (type 0x9e) is kept raw.
    ("9e04abcd", [("ip.opt.type", 158), ("ip.opt.type.copy", 1), ("ip.opt.type.class", 0),
                  ("ip.opt.type.number", 30), ("ip.opt.len", 4),
                  ("ip.options.unknown.data", b"\xab\xcd")]),
]


@pytest.mark.parametrize("hex_option, expected", OPTION_VECTORS,
                         ids=[v[0].replace(" ", "")[:8] for v in OPTION_VECTORS])
def test_option_known_answers(hex_option: str, expected: list[tuple[str, Any]]) -> None:
    option = bytes.fromhex(hex_option.replace(" ", ""))
    padding = bytes(-len(option) % 4)
    frame = (ip(proto=253, options=[option + padding]) / b"data").build()
    packet = dissect(frame, RAW_IPV4, strict=True)
    layer = ip_layer(packet)
    found = option_fields(layer)
    assert found[:len(expected)] == expected
    assert not packet.malformed
    assert rebuild(packet) == frame


def test_option_layers_carry_wireshark_names() -> None:
    frame = ip(proto=253, options=[b"\x01", ("rr", ["192.0.2.1"]), ("lsrr", ["192.0.2.2"]),
                        ("ssrr", ["192.0.2.3"]), ("ts", {"items": [1]}), ("ra", 0),
                        ("cipso", b"\0\0")]).build()
    layer = ip_layer(dissect(frame, RAW_IPV4, strict=True))
    assert [c.name for c in layer.children] == [
        "ip.options.nop", "ip.options.record_route", "ip.options.route",
        "ip.options.source_route", "ip.options.timestamp", "ip.options.routeralert",
        "ip.options.cipso", "ip.options.eol"]


@pytest.mark.parametrize("spec, expected", [
    (("rr", ["192.0.2.1", "0.0.0.0"]), "070b04c000020100000000"),
    (("lsrr", {"ptr": 8, "items": ["192.0.2.1", "192.0.2.2"]}), "830b08c0000201c0000202"),
    (("ssrr", ["192.0.2.9"]), "890704c0000209"),
    (("ts", {"items": [0, 0]}), "440c0500" + "00" * 8),
    (("ts", {"flag": 1, "items": [("198.18.0.1", 5)]}), "440c0501c612000100000005"),
    (("ts", {"flag": 3, "overflow": 2, "ptr": 13, "items": [("198.18.0.1", 5)]}),
     "440c0d23c612000100000005"),
    (("ra", 0), "94040000"),
    (("sid", 7), "88040007"),
    (("mtu_probe", 576), "0b040240"),
    (("mtu_reply", 1500), "0c0405dc"),
    (("traceroute", {"id_number": 1, "ohc": 2, "rhc": 3, "originator": "198.18.0.1"}),
     "520c000100020003c6120001"),
    (("security", bytes(9)), "820b" + "00" * 9),
    ("nop", "01"),
    ("eol", "00"),
])
def test_option_building(spec: Any, expected: str) -> None:
    assert IPV4_OPTIONS.build([spec]) == bytes.fromhex(expected)


def test_options_are_padded_to_a_word_with_eol() -> None:
    frame = ip(proto=253, options=["nop", ("ra", 0)]).build()
    assert frame[0] & 0x0F == 7 and frame[20:28] == bytes.fromhex("0194040000000000")


@pytest.mark.parametrize("hex_option, message", [
    ("070702c0000201", "points before the first address"),
    ("070706c0000201", "points into the middle of an address"),
    ("83070cc0000201", "lies beyond the option"),
    ("070708c0000201", "the route record is full"),
    ("440c0300 00000000 00000000", "points before the first time stamp"),
    ("440c0701 c0000201 00000000", "points into the middle of a 8-byte slot"),
    ("44081100 00000000", "lies beyond the option"),
    ("44080502 00000000", "flag 2 is undefined"),
])
def test_pointer_sanity(hex_option: str, message: str) -> None:
    option = bytes.fromhex(hex_option.replace(" ", ""))
    frame = ip(proto=253, options=[option + bytes(-len(option) % 4)]).build()
    packet = dissect(frame, RAW_IPV4, strict=True)
    found = problems(packet)
    assert any(message in m for m in found), found
    assert not packet.malformed
    assert all(p.field == "ip.opt.ptr" or p.field == "ip.opt.flag"
               for _, p in packet.all_problems())
    assert rebuild(packet) == frame


@pytest.mark.parametrize("hex_options, message", [
    ("44 0e 05 01 00003470 49422002 0105 f513",
     "2 bytes left over after 1 items of 8 bytes"),
    ("07 02 0000", "expected at least 3"),
    ("94 05 0000 00 000000", "length 5, expected 4"),
    ("07 27 04 00", "runs past the end of the options"),
    ("07 01 0000", "length 1 is too small"),
    ("0000 00 07", "non-zero bytes after end of option list"),
])
def test_broken_options(hex_options: str, message: str) -> None:
    options = bytes.fromhex(hex_options.replace(" ", ""))
    frame = ip(proto=253, options=[options + bytes(-len(options) % 4)]).build()
    packet = dissect(frame, RAW_IPV4, strict=True)
    assert any(message in m for m in problems(packet)), problems(packet)


def test_timestamp_option_bad_capture() -> None:
    # tcpdump's ip_ts_opts_asan.pcap: a fuzzed time stamp with length 14 and a bad option after.
    require_corpus()
    (frame,) = frames(MALFORMED / "tcpdump-ipv4-timestamp-option-bad.pcap")
    packet = dissect(frame.data, frame.linktype, orig_len=frame.orig_len, strict=True)
    errors = problems(packet, Severity.ERROR)
    assert any("2 bytes left over after 1 items" in m for m in errors)
    assert any("option 245: length 19 runs past the end" in m for m in errors)
    assert packet["ip.checksum.status"] == "bad"


def test_record_route_option_bad_capture() -> None:
    # tcpdump's ip_printroute_asan.pcap: IHL says 60 bytes, the snap length kept fewer.
    require_corpus()
    (frame,) = frames(MALFORMED / "tcpdump-ipv4-record-route-option-bad.pcap")
    packet = dissect(frame.data, frame.linktype, orig_len=frame.orig_len, strict=True)
    assert any("runs past the captured data" in m for m in problems(packet, Severity.ERROR))


# --------------------------------------------------------------- options: real captures/tshark


OPTION_CAPTURES = ["pcapplusplus-ipv4-options.pcap", "tcpdump-igmpv2-ip-router-alert-option.pcap"]
OPTION_NAMES = ("ip.opt.type", "ip.opt.type.copy", "ip.opt.type.class", "ip.opt.type.number",
                "ip.opt.len", "ip.opt.ptr", "ip.opt.overflow", "ip.opt.flag", "ip.opt.ra",
                "ip.opt.time_stamp", "ip.opt.time_stamp_addr", "ip.rec_rt", "ip.empty_rt",
                "ip.src_rt", "ip.dst")


def _tshark_options(path: str) -> list[dict[str, list[str]]]:
    """Per frame, each option field's values in wire order, from ``tshark -T json``."""
    output = subprocess.run([require_tshark(), "-r", path, "-T", "json"], check=True,
                            capture_output=True, text=True).stdout
    packets = json.loads(output, object_pairs_hook=lambda pairs: pairs)
    found: list[dict[str, list[str]]] = []

    def walk(pairs: list[tuple[str, Any]], inside: bool, into: dict[str, list[str]]) -> None:
        for key, value in pairs:
            if isinstance(value, list) and value and isinstance(value[0], tuple):
                walk(value, inside or key.startswith("Options:"), into)
            elif inside and key in OPTION_NAMES:
                into.setdefault(key, []).append(value)

    for packet in packets:
        layers = dict(dict(dict(packet)["_source"])["layers"])
        values: dict[str, list[str]] = {}
        walk(layers["ip"], False, values)
        found.append(values)
    return found


def _shown(value: Any, name: str) -> str:
    if name == "ip.opt.flag":
        return f"0x{value:02x}"
    return str(value)


@pytest.mark.parametrize("name", OPTION_CAPTURES)
def test_option_captures_match_tshark_and_rebuild(name: str) -> None:
    require_corpus()
    path = REAL / name
    expected = _tshark_options(str(path))
    for frame, tshark in zip(frames(path), expected, strict=True):
        packet = dissect(frame.data, frame.linktype, orig_len=frame.orig_len, strict=True)
        layer = ip_layer(packet)
        ours: dict[str, list[str]] = {}
        for field, value in option_fields(layer):
            if field in OPTION_NAMES:
                ours.setdefault(field, []).append(_shown(value, field))
        assert ours == tshark, f"frame {frame.number}"
        assert not packet.malformed
        assert rebuild(packet) == frame.data


# ---------------------------------------------------------------- options: round trips


addresses = st.ip_addresses(v=4).map(str)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


@st.composite
def route_option(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(["rr", "lsrr", "ssrr"]))
    items = draw(st.lists(addresses, min_size=1, max_size=9))
    pointer = 4 + 4 * draw(st.integers(0, len(items)))
    return name, {"ptr": pointer, "items": items}


@st.composite
def timestamp_option(draw: st.DrawFn, max_items: int = 4) -> tuple[str, dict[str, Any]]:
    flag = draw(st.sampled_from([0, 1, 3]))
    if flag:
        items: list[Any] = draw(st.lists(st.tuples(addresses, u32), min_size=1,
                                         max_size=max_items))
    else:
        items = draw(st.lists(u32, min_size=1, max_size=max_items * 2))
    slot = 8 if flag else 4
    pointer = 5 + slot * draw(st.integers(0, len(items)))
    return "ts", {"flag": flag, "overflow": draw(st.integers(0, 15)), "ptr": pointer,
                  "items": items}


unknown_types = st.integers(2, 255).filter(lambda t: t not in KNOWN_TYPES)
simple_options = st.one_of(
    st.just("nop"),
    st.tuples(st.just("ra"), u16),
    st.tuples(st.just("sid"), u16),
    st.tuples(st.sampled_from(["mtu_probe", "mtu_reply"]), u16),
    st.tuples(st.just("traceroute"), st.fixed_dictionaries(
        {"id_number": u16, "ohc": u16, "rhc": u16, "originator": addresses})),
    st.tuples(st.sampled_from(["security", "ext_security", "cipso"]),
              st.binary(max_size=10)),
    st.builds(lambda t, d: bytes((t, len(d) + 2)) + d, unknown_types, st.binary(max_size=8)),
)
option_lists = st.lists(st.one_of(simple_options, route_option(), timestamp_option()),
                        max_size=5).filter(lambda opts: len(IPV4_OPTIONS.build(opts)) <= 40)


def _check_option(child: Layer, spec: Any) -> None:
    """The parsed child carries what the spec asked for."""
    if isinstance(spec, bytes):
        assert child.fields["ip.opt.type"] == spec[0]
        assert bytes(child.fields.get(child.name + ".data", b"")) == spec[2:]
        return
    if isinstance(spec, str):
        assert child.fields["ip.opt.type"] == {"nop": 1, "eol": 0}[spec]
        return
    kind, value = spec
    option = IPV4_OPTIONS.by_name[kind]
    assert child.header is option.header
    if isinstance(value, bytes):
        assert child.fields.get(child.name + ".data", b"") == value
    elif isinstance(value, dict):
        for key, wanted in value.items():
            if key == "items":
                got = [tuple(item.fields.values()) for item in child.children]
                flat = [w if isinstance(w, tuple) else (w,) for w in wanted]
                assert got == flat
            else:
                assert child.fields[option.header.field(key).name] == wanted
    else:
        own = [f for f in option.header.top if f.name not in ("ip.opt.type", "ip.opt.len")]
        assert child.fields[own[0].name] == value
    assert all(p.severity is Severity.NOTE for p in child.problems)  # e.g. a full record


@settings(max_examples=300, deadline=None)
@given(option_lists, st.binary(max_size=16))
def test_option_round_trip(options: list[Any], payload: bytes) -> None:
    frame = (ip(proto=253, options=options) / payload).build()
    packet = dissect(frame, RAW_IPV4, strict=True)
    layer = ip_layer(packet)
    assert len(layer.children) >= len(options)
    for child, spec in zip(layer.children, options, strict=False):
        _check_option(child, spec)
    assert packet["ip.checksum.status"] == "good"
    assert rebuild(packet) == frame


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40))
def test_random_option_bytes_never_raise(options: bytes) -> None:
    options += bytes(-len(options) % 4)
    frame = (ip(proto=253, options=[options]) / b"x").build()
    packet = dissect(frame, RAW_IPV4, strict=True)
    packet.as_dict()
    assert rebuild(packet) == frame  # broken options are kept raw


# ------------------------------------------------------------- Scapy differential tests
# Both directions compare through pktlab.oracle.scapy (SCAPY_FIELDS maps the header and every
# option; KNOWN_SCAPY_DIFFERENCES says where Scapy reads options otherwise, and why).

DIFF = settings(max_examples=DIFF_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def scapy_has_class(option_type: int) -> bool:
    """Whether Scapy reads this option type with a class of its own (by the number alone)."""
    from scapy.layers.inet import IPOption

    return option_type & 0x1F in IPOption.registered_ip_options


scapy_unknown = st.builds(lambda t, d: bytes((t, len(d) + 2)) + d,
                          st.integers(2, 255).filter(
                              lambda t: t not in KNOWN_TYPES and not scapy_has_class(t)),
                          st.binary(max_size=8))
# Options Scapy can build and reads as pktlab does.
scapy_option_lists = st.lists(st.one_of(
    st.just("nop"), st.tuples(st.just("ra"), u16), st.tuples(st.just("sid"), u16),
    st.tuples(st.sampled_from(["mtu_probe", "mtu_reply"]), u16),
    st.tuples(st.just("traceroute"), st.fixed_dictionaries(
        {"id_number": u16, "ohc": u16, "rhc": u16, "originator": addresses})),
    st.tuples(st.just("security"), st.binary(min_size=9, max_size=9)),
    route_option(), timestamp_option(max_items=1).filter(lambda o: len(o[1]["items"]) == 1),
    scapy_unknown,
), max_size=4).filter(lambda opts: len(IPV4_OPTIONS.build(opts)) <= 40)


@st.composite
def header_values(draw: st.DrawFn) -> dict[str, Any]:
    frag = draw(st.sampled_from([0, 0x4000, 0x2000, 0x00B9]))
    return {"dsfield": draw(st.integers(0, 255)), "id": draw(u16),
            "ttl": draw(st.integers(0, 255)), "src": draw(addresses), "dst": draw(addresses),
            "flags": frag >> 13, "frag_offset": frag & 0x1FFF}


def expected_differences(options: list[Any]) -> set[str]:
    """The known differences these options may make the comparison skip."""
    found = {"options-after-eol"}  # Scapy shows the padding after an EOL as more options
    for spec in options:
        kind, value = spec if isinstance(spec, tuple) else (spec, None)
        if isinstance(spec, bytes) and scapy_has_class(spec[0]):
            found.add("ip-option-number-only")
        elif kind == "ts" and len(value["items"]) > 1:
            found.add("ip-timestamp-one-entry")
        elif kind == "security" and len(value) != 9:
            found.add("ip-security-fixed-length")
    return found


def pktlab_ip(v: dict[str, Any], options: list[Any]) -> Any:
    return ip(proto=253, options=options, **v) / b"payload"


def scapy_option(spec: Any) -> Any:
    from scapy.layers import inet

    if isinstance(spec, bytes):
        return inet.IPOption(copy_flag=spec[0] >> 7, optclass=spec[0] >> 5 & 3,
                             option=spec[0] & 0x1F, value=spec[2:])
    if spec == "nop":
        return inet.IPOption_NOP()
    kind, value = spec
    if kind in ("rr", "lsrr", "ssrr"):
        route = {"rr": inet.IPOption_RR, "lsrr": inet.IPOption_LSRR,
                 "ssrr": inet.IPOption_SSRR}[kind]
        return route(pointer=value["ptr"], routers=value["items"])
    if kind == "ts":
        (item,) = value["items"]
        address, stamp = item if value["flag"] else ("0.0.0.0", item)
        return inet.IPOption_Timestamp(pointer=value["ptr"], oflw=value["overflow"],
                                       flg=value["flag"], internet_address=address,
                                       timestamp=stamp)
    if kind == "security":
        return inet.IPOption_Security(
            security=int.from_bytes(value[:2], "big"),
            compartment=int.from_bytes(value[2:4], "big"),
            handling_restrictions=int.from_bytes(value[4:6], "big"),
            transmission_control_code=value[6:])
    if kind == "traceroute":  # RFC 1393's type 82 is class 2; Scapy's default is class 0
        return inet.IPOption_Traceroute(optclass=2, id=value["id_number"],
                                        outbound_hops=value["ohc"],
                                        return_hops=value["rhc"],
                                        originator_ip=value["originator"])
    if kind == "ra":
        return inet.IPOption_Router_Alert(alert=value)
    if kind == "sid":  # Scapy calls the stream identifier "security"
        return inet.IPOption_Stream_Id(security=value)
    probe = inet.IPOption_MTU_Probe if kind == "mtu_probe" else inet.IPOption_MTU_Reply
    return probe(mtu=value)


def scapy_ip(v: dict[str, Any], options: list[Any]) -> Any:
    from scapy.layers.inet import IP

    pkt = IP(tos=v["dsfield"], id=v["id"], ttl=v["ttl"], src=v["src"], dst=v["dst"],
             flags=v["flags"], frag=v["frag_offset"], proto=253,
             options=[scapy_option(o) for o in options])
    pkt.add_payload(b"payload")  # not "/", which copies
    return pkt


def assert_ip_agrees(result: Any, packet: Packet, allowed: set[str]) -> None:
    from pktlab.oracle.scapy import mapped_fields

    assert result.disagreements(allowed) == []
    assert result.pairs == [("ip", "IP")]
    layer = ip_layer(packet)
    mapped = mapped_fields(layer)
    if not {s.difference for s in result.skipped} <= {"options-after-eol"}:
        mapped &= layer.fields.keys()  # the option list was compared up to a difference
    assert mapped <= result.names.keys()


@pytest.mark.oracle
@DIFF
@given(header_values(), scapy_option_lists | option_lists)
def test_differential_scapy_parses_what_pktlab_builds(v: dict[str, Any],
                                                      options: list[Any]) -> None:
    require_scapy()
    from pktlab.oracle.scapy import compare_with_scapy

    frame = pktlab_ip(v, options).build()
    result = compare_with_scapy(frame, RAW_IPV4, strict=True)
    assert_ip_agrees(result, dissect(frame, RAW_IPV4, strict=True),
                     expected_differences(options))


@pytest.mark.oracle
@DIFF
@given(header_values(), scapy_option_lists)
def test_differential_pktlab_parses_what_scapy_builds(v: dict[str, Any],
                                                      options: list[Any]) -> None:
    require_scapy()
    from scapy.layers.inet import IP

    from pktlab.oracle.scapy import compare_build, compare_packets

    frame = bytes(scapy_ip(v, options))
    packet = dissect(frame, RAW_IPV4, strict=True)
    assert_ip_agrees(compare_packets(packet, IP(frame)), packet, {"options-after-eol"})
    assert packet["ip.checksum.status"] == "good"
    assert compare_build(pktlab_ip(v, options), frame, RAW_IPV4).disagreements() == []
    assert rebuild(packet) == frame

"""Ethernet, 802.1Q/802.1ad, TCP and UDP: known answers, problems, and exact round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pktlab.wire import Severity, dissect, eth, ip, layer, rebuild, tcp, udp, vlan
from pktlab.wire.tcp import parse_flags

# A SYN from the tcpdump corpus (tests/print-flags.pcap, frame 1), checked against tshark.
SYN = bytes.fromhex(
    "000000000000000000000000080045000 03c1b6840004006 2152 7f0000017f000001"
    "da70 0050 3758 897e 00000000 a002 7fff 1421 0000"
    "020440 0c 0402 080a 4ddc9216 00000000 01 030302".replace(" ", "")
)


def problems(packet: object, severity: Severity | None = None) -> list[str]:
    found = packet.all_problems()  # type: ignore[attr-defined]
    return [p.message for _, p in found if severity is None or p.severity is severity]


def test_known_syn_fields() -> None:
    packet = dissect(SYN, strict=True)
    assert [lay.name for lay in packet.layers] == ["eth", "ip", "tcp"]
    expect = {
        "eth.type": 0x0800, "ip.len": 60, "ip.id": 0x1B68, "ip.flags.df": 1, "ip.ttl": 64,
        "ip.checksum": 0x2152, "ip.checksum.status": "good", "tcp.srcport": 55920,
        "tcp.dstport": 80, "tcp.seq": 928549246, "tcp.hdr_len": 40, "tcp.flags": 0x002,
        "tcp.flags.syn": 1, "tcp.flags.ack": 0, "tcp.window_size_value": 32767,
        "tcp.checksum": 0x1421, "tcp.checksum.status": "good", "tcp.len": 0,
        "tcp.options.mss_val": 16396, "tcp.options.timestamp.tsval": 1306300950,
        "tcp.options.timestamp.tsecr": 0, "tcp.options.wscale.shift": 2,
        "tcp.options.wscale.multiplier": 4,
    }
    for name, value in expect.items():
        assert packet[name] == value, name
    assert packet.all("tcp.option_kind") == [2, 4, 8, 1, 3]
    assert problems(packet) == []
    assert rebuild(packet) == SYN


def test_options_are_decoded_lazily() -> None:
    packet = dissect(SYN, strict=True)
    tcp_layer = packet.layer("tcp")
    assert tcp_layer is not None and tcp_layer._pending is not None
    assert len(tcp_layer.children) == 5 and tcp_layer._pending is None
    assert [c.name for c in tcp_layer.children] == [
        "tcp.options.mss", "tcp.options.sack_perm", "tcp.options.timestamp",
        "tcp.options.nop", "tcp.options.wscale"]


def test_built_syn_matches_hand_assembled_bytes() -> None:
    frame = (eth(dst="00:00:00:00:00:00") / ip(id=0x1B68, flags_df=1, src="127.0.0.1")
             / tcp(sport=55920, dport=80, seq=928549246, window=32767, options=[
                 ("mss", 16396), "sack_perm", ("ts", {"tsval": 1306300950, "tsecr": 0}),
                 "nop", ("wscale", 2)])).build()
    assert frame == SYN


@pytest.mark.parametrize("flags, bits", [
    ("S", 0x002), ("SA", 0x012), ("FA", 0x011), ("R", 0x004), ("PA", 0x018),
    ("SYN,ACK", 0x012), ("N", 0x100), ("EC", 0x0C0), (0x1FF, 0x1FF), ("0x18", 0x18), ("", 0),
])
def test_flag_notations(flags: str | int, bits: int) -> None:
    assert parse_flags(flags) == bits


def test_unknown_flag_letter_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="unknown flag 'X'"):
        parse_flags("SX")


@pytest.mark.parametrize("flags, message", [
    ("SF", "SYN and FIN both set"),
    ("SR", "SYN and RST both set"),
    ("", "no flags set"),
])
def test_flag_sanity_warnings(flags: str, message: str) -> None:
    packet = dissect((eth() / ip() / tcp(flags=flags)).build(), strict=True)
    assert any(message in m for m in problems(packet, Severity.WARNING))
    assert not packet.malformed


def test_ack_number_without_ack_flag_is_noted() -> None:
    packet = dissect((eth() / ip() / tcp(flags="S", ack=5)).build(), strict=True)
    assert any("ACK is not set" in m for m in problems(packet, Severity.NOTE))


def test_wrong_checksum_survives_building_and_is_reported_with_expected_value() -> None:
    good = dissect((eth() / ip() / tcp()).build(), strict=True)["tcp.checksum"]
    packet = dissect((eth() / ip() / tcp(checksum=0x1234)).build(), strict=True)
    assert packet["tcp.checksum"] == 0x1234
    assert packet["tcp.checksum.status"] == "bad"
    assert packet["tcp.checksum_calculated"] == good
    assert any(f"expected 0x{good:04x}" in m for m in problems(packet, Severity.WARNING))


@pytest.mark.parametrize("hdr_len, message", [
    (16, "below the minimum of 20"),
    (60, "runs past the end of the segment"),
])
def test_bad_data_offset_is_malformed(hdr_len: int, message: str) -> None:
    frame = (eth() / ip() / tcp(hdr_len=hdr_len)).build()
    packet = dissect(frame, strict=True)
    assert packet.layer("tcp").malformed  # type: ignore[union-attr]
    assert any(message in m for m in problems(packet, Severity.ERROR))


def test_option_running_past_the_header_is_an_error_and_rest_kept() -> None:
    frame = (eth() / ip() / tcp(options=[b"\x02\x08\x05\xb4"])).build()
    packet = dissect(frame, strict=True)
    assert any("runs past the end of the options" in m for m in problems(packet))
    assert rebuild(packet) == frame


def test_wscale_shift_above_14_is_clamped_with_a_warning() -> None:
    packet = dissect((eth() / ip() / tcp(wscale=15)).build(), strict=True)
    assert packet["tcp.options.wscale.multiplier"] == 1 << 14
    assert any("exceeds 14" in m for m in problems(packet, Severity.WARNING))


def test_sack_blocks_are_a_list() -> None:
    options = ["nop", "nop", ("sack", [(1, 2), (5, 9)])]
    frame = (eth() / ip() / tcp(flags="A", options=options)).build()
    packet = dissect(frame, strict=True)
    assert packet.all("tcp.options.sack_le") == [1, 5]
    assert packet.all("tcp.options.sack_re") == [2, 9]
    assert rebuild(packet) == frame


def test_udp_zero_checksum_over_ipv4_means_none() -> None:
    packet = dissect((eth() / ip() / udp(checksum=0) / b"x").build(), strict=True)
    assert packet["udp.checksum.status"] == "unverified"
    assert problems(packet) == []


@pytest.mark.parametrize("length, message, severity", [
    (4, "below the 8-byte header", Severity.ERROR),
    (100, "exceeds the", Severity.ERROR),
    (9, "shorter than the IP payload", Severity.NOTE),
])
def test_udp_length_problems(length: int, message: str, severity: Severity) -> None:
    packet = dissect((eth() / ip() / udp(length=length) / b"abc").build(), strict=True)
    assert any(message in m for m in problems(packet, severity))


def test_ethernet_padding_and_trailer() -> None:
    frame = (eth() / ip() / udp() / b"hi").build()
    assert len(frame) == 60
    packet = dissect(frame, strict=True)
    assert packet["eth.padding"] == bytes(60 - 44)
    assert rebuild(packet) == frame
    with_trailer = frame + b"\xde\xad\xbe\xef"
    packet = dissect(with_trailer, strict=True)
    assert packet["eth.trailer"] == b"\xde\xad\xbe\xef"
    assert rebuild(packet) == with_trailer


def test_stacked_vlan_tags() -> None:
    frame = (eth() / layer("ieee8021ad", id=200) / vlan(id=2001, priority=5) / ip() / udp()).build()
    packet = dissect(frame, strict=True)
    assert [lay.name for lay in packet.layers] == ["eth", "ieee8021ad", "vlan", "ip", "udp"]
    assert packet["eth.type"] == 0x88A8 and packet["ieee8021ad.etype"] == 0x8100
    assert packet["vlan.id"] == 2001 and packet["vlan.priority"] == 5
    assert rebuild(packet) == frame


def test_8023_length_frame_keeps_llc_raw() -> None:
    frame = bytes(12) + b"\x00\x26" + b"\x42\x42\x03" + bytes(35)
    packet = dissect(frame, strict=True)
    assert packet["eth.len"] == 0x26 and packet.layers[-1].name == "data"
    assert rebuild(packet) == frame


@pytest.mark.parametrize("frame", [SYN, (eth() / ip() / udp() / b"payload").build()])
def test_every_truncation_parses_without_raising(frame: bytes) -> None:
    whole = dissect(frame, strict=True)
    end = whole.layers[-1].offset + whole.layers[-1].length
    for cut in range(len(frame)):
        packet = dissect(frame[:cut], strict=True)
        if 14 <= cut < end:
            assert packet.all_problems(), f"cut at {cut} went unnoticed"


ports = st.integers(0, 65535)
u32 = st.integers(0, 2**32 - 1)
tcp_options = st.lists(st.one_of(
    st.just("nop"), st.just("sack_perm"),
    st.tuples(st.just("mss"), st.integers(0, 65535)),
    st.tuples(st.just("wscale"), st.integers(0, 14)),
    st.tuples(st.just("ts"), st.fixed_dictionaries({"tsval": u32, "tsecr": u32})),
    st.tuples(st.just("sack"), st.lists(st.tuples(u32, u32), min_size=1, max_size=3)),
), max_size=4).filter(lambda opts: _options_size(opts) <= 40)


def _options_size(options: list[object]) -> int:
    sizes = {"nop": 1, "sack_perm": 2, "mss": 4, "wscale": 3, "ts": 10}
    total = 0
    for opt in options:
        if isinstance(opt, str):
            total += sizes[opt]
        elif opt[0] == "sack":  # type: ignore[index]
            total += 2 + 8 * len(opt[1])  # type: ignore[index, arg-type]
        else:
            total += sizes[opt[0]]  # type: ignore[index]
    return total


@settings(max_examples=300, deadline=None)
@given(ports, ports, u32, u32, st.integers(0, 0x1FF), st.integers(0, 65535), tcp_options,
       st.binary(max_size=64), st.ip_addresses(v=4), st.ip_addresses(v=4))
def test_tcp_build_parse_round_trip(sport: int, dport: int, seq: int, ack: int, flags: int,
                                    window: int, options: list[object], payload: bytes,
                                    src: object, dst: object) -> None:
    frame = (eth(src="02:00:00:00:00:01") / ip(src=str(src), dst=str(dst))
             / tcp(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=window,
                   options=options) / payload).build()
    packet = dissect(frame, strict=True)
    assert packet["tcp.srcport"] == sport and packet["tcp.dstport"] == dport
    assert packet["tcp.seq"] == seq and packet["tcp.ack"] == ack
    assert packet["tcp.flags"] == flags and packet["tcp.window_size_value"] == window
    assert packet["tcp.checksum.status"] == "good" and packet["ip.checksum.status"] == "good"
    assert packet["tcp.len"] == len(payload)
    assert not packet.malformed
    assert rebuild(packet) == frame


@settings(max_examples=200, deadline=None)
@given(ports, ports, st.binary(max_size=100), st.integers(0, 4095), st.integers(0, 7))
def test_udp_in_vlan_round_trip(sport: int, dport: int, payload: bytes, vid: int, pcp: int) -> None:
    frame = (eth() / vlan(id=vid, priority=pcp) / ip() / udp(sport=sport, dport=dport)
             / payload).build()
    packet = dissect(frame, strict=True)
    assert packet["udp.srcport"] == sport and packet["udp.length"] == 8 + len(payload)
    assert packet["udp.checksum.status"] == "good" and packet["vlan.id"] == vid
    assert rebuild(packet) == frame


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_never_raise(data: bytes) -> None:
    for linktype in (1, 228):
        dissect(data, linktype, strict=True)
    dissect(b"\x08\x00\x45" + data, 1, strict=True)


def test_offloaded_checksum_is_explained_not_blamed() -> None:
    from pktlab.wire.checksum import ones_complement_sum, pseudo_header_v4

    payload = b"GET / HTTP/1.1\r\n\r\n"
    pseudo = pseudo_header_v4(bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]), 6,
                              20 + len(payload))
    partial = ones_complement_sum(pseudo)
    frame = (eth() / ip(src="198.18.0.1", dst="198.18.0.2")
             / tcp(flags="PA", checksum=partial) / payload).build()
    packet = dissect(frame, strict=True)
    assert packet["tcp.checksum.status"] == "bad"
    notes = problems(packet, Severity.NOTE)
    assert any("offloaded checksumming" in m for m in notes)
    assert problems(packet, Severity.WARNING) == []

"""ARP and RARP: known answers, problems, exact round trips, and differential tests against
Scapy's ``ARP`` and tshark's JSON for every ARP packet of the corpus."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from corpus import frames
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import DIFF_EXAMPLES, MALFORMED, REAL, require_corpus, require_scapy, require_tshark

import pktlab.wire.arp  # noqa: F401 - registers the codec until pktlab.wire imports it
from pktlab.wire import Layer, Packet, Proto, Severity, dissect, eth, layer, rebuild, vlan
from pktlab.wire._packet import TABLES
from pktlab.wire.arp import address_header


def arp(**keywords: Any) -> Proto:
    return layer("arp", **keywords)


def problems(packet: Packet, severity: Severity | None = None) -> list[str]:
    return [p.message for _, p in packet.all_problems()
            if severity is None or p.severity is severity]


def arp_layer(packet: Packet) -> Layer:
    found = packet.layer("arp")
    assert found is not None
    return found


# zeek's arp-who-has.pcap, frames 1 and 2 (checked against tshark).
WHO_HAS = bytes.fromhex(
    "ffffffffffff7831c1c63fc20806" "0001080006040001" "7831c1c63fc20a000002"
    "0000000000000a000001" + "00" * 18)
IS_AT = bytes.fromhex(
    "7831c1c63fc2f8eda5c0a4f10806" "0001080006040002" "f8eda5c0a4f10a000001"
    "7831c1c63fc20a000002" + "00" * 18)


def test_who_has_known_answer() -> None:
    packet = dissect(WHO_HAS, strict=True)
    assert packet.summary() == "eth / arp"
    assert arp_layer(packet).fields == {
        "arp.hw.type": 1, "arp.proto.type": 0x0800, "arp.hw.size": 6, "arp.proto.size": 4,
        "arp.opcode": 1, "arp.src.hw_mac": "78:31:c1:c6:3f:c2", "arp.src.proto_ipv4": "10.0.0.2",
        "arp.dst.hw_mac": "00:00:00:00:00:00", "arp.dst.proto_ipv4": "10.0.0.1",
    }
    assert arp_layer(packet).length == 28
    assert packet["eth.padding"] == bytes(18)
    assert problems(packet) == []
    assert rebuild(packet) == WHO_HAS


def test_who_has_and_is_at_build_from_keywords() -> None:
    who_has = (eth(src="78:31:c1:c6:3f:c2") / arp(hwsrc="78:31:c1:c6:3f:c2", psrc="10.0.0.2",
                                                    pdst="10.0.0.1")).build()
    assert who_has == WHO_HAS
    is_at = (eth(dst="78:31:c1:c6:3f:c2", src="f8:ed:a5:c0:a4:f1")
             / arp(op="is-at", hwsrc="f8:ed:a5:c0:a4:f1", psrc="10.0.0.1",
                   hwdst="78:31:c1:c6:3f:c2", pdst="10.0.0.2")).build()
    assert is_at == IS_AT
    assert dissect(IS_AT, strict=True)["arp.opcode"] == 2


def test_defaults_follow_scapy() -> None:
    frame = (eth() / arp()).build()
    assert frame[12:14] == b"\x08\x06"
    assert frame[14:42] == bytes.fromhex("0001080006040001") + bytes(20)


@pytest.mark.parametrize("opcode", ["request", "reply", "reverse request", "who-has",
                                    "RARP-rep", 9])
def test_opcode_names(opcode: str | int) -> None:
    frame = (eth() / arp(op=opcode)).build()
    assert dissect(frame, strict=True)["arp.opcode"] in (1, 2, 3, 4, 9)


def test_rarp_ethertype_is_dissected_as_arp() -> None:
    # libpcap's rarp_req_reply.pcapng, frame 2: a reverse reply, no padding.
    frame = bytes.fromhex("000c29340bde000c29c5f69b8035" "0001080006040004"
                          "000c29c5f69b0a01010a" "000c29340bde0a010164")
    packet = dissect(frame, strict=True)
    assert packet.summary() == "eth / arp"
    assert packet["arp.opcode"] == 4 and packet["arp.dst.proto_ipv4"] == "10.1.1.100"
    assert rebuild(packet) == frame
    built = (eth(dst="00:0c:29:34:0b:de", src="00:0c:29:c5:f6:9b", type=0x8035, padding=b"")
             / arp(op=4, hwsrc="00:0c:29:c5:f6:9b", psrc="10.1.1.10",
                   hwdst="00:0c:29:34:0b:de", pdst="10.1.1.100")).build()
    assert built == frame


def test_arp_in_vlan() -> None:
    frame = (eth() / vlan(id=7) / arp(psrc="192.0.2.1", pdst="192.0.2.2")).build()
    packet = dissect(frame, strict=True)
    assert packet.summary() == "eth / vlan / arp" and packet["vlan.etype"] == 0x0806
    assert rebuild(packet) == frame


# --------------------------------------------------------------------- other address types


def test_ieee802_hardware_uses_mac_addresses() -> None:
    frame = (eth() / arp(hw_type=6, hwsrc="02:00:00:00:00:01", psrc="192.0.2.1",
                         pdst="192.0.2.2")).build()
    packet = dissect(frame, strict=True)
    assert packet["arp.src.hw_mac"] == "02:00:00:00:00:01"
    assert problems(packet) == []


def test_ipv6_protocol_addresses_are_raw() -> None:
    source = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
    target = socket.inet_pton(socket.AF_INET6, "2001:db8::2")
    frame = (eth() / arp(proto_type=0x86DD, src_proto=source, dst_proto=target)).build()
    packet = dissect(frame, strict=True)
    fields = arp_layer(packet).fields
    assert fields["arp.proto.size"] == 16
    assert fields["arp.src.proto"] == source and fields["arp.dst.proto"] == target
    assert "arp.src.proto_ipv4" not in fields
    assert problems(packet) == []
    assert rebuild(packet) == frame


def test_address_declaration_gives_spans() -> None:
    frame = (eth() / arp(hw_type=0x1234, src_hw=b"\x01\x02\x03", dst_hw=b"\x04\x05\x06")).build()
    packet = dissect(frame, strict=True)
    found = arp_layer(packet)
    header, offset = found.extra_headers[0]
    assert header is address_header(False, 3, True, 4)
    assert offset == 14 + 8
    assert [(f.name, f.byte_offset, f.bit_width // 8) for f in header.fields] == [
        ("arp.src.hw", 0, 3), ("arp.src.proto_ipv4", 3, 4), ("arp.dst.hw", 7, 3),
        ("arp.dst.proto_ipv4", 10, 4)]
    assert found.field_decl("arp.dst.hw") is header.by_name["arp.dst.hw"]
    assert rebuild(packet) == frame


@pytest.mark.parametrize("keywords, message, severity", [
    ({"hw_size": 8, "src_hw": bytes(8), "dst_hw": bytes(8)},
     "hardware size 8 for hardware type 1 (Ethernet), expected 6", Severity.WARNING),
    ({"proto_size": 16, "src_proto": bytes(16), "dst_proto": bytes(16)},
     "protocol size 16 for protocol type 0x0800 (IPv4), expected 4", Severity.WARNING),
    ({"hw_type": 4321}, "unknown hardware type 4321", Severity.NOTE),
    ({"op": 0}, "opcode 0 is reserved", Severity.WARNING),
    ({"op": 65535}, "opcode 65535 is reserved", Severity.WARNING),
    ({"op": 300}, "unknown opcode 300", Severity.NOTE),
    ({"psrc": "192.0.2.1", "pdst": "192.0.2.1", "op": 2}, "gratuitous ARP", Severity.NOTE),
    ({"psrc": "192.0.2.1", "pdst": "192.0.2.1"}, "ARP announcement", Severity.NOTE),
    ({"psrc": "0.0.0.0", "pdst": "192.0.2.1"}, "ARP probe", Severity.NOTE),
])
def test_problems(keywords: dict[str, Any], message: str, severity: Severity) -> None:
    frame = (eth() / arp(**keywords)).build()
    packet = dissect(frame, strict=True)
    found = problems(packet, severity)
    assert any(message in m for m in found), problems(packet)
    assert not packet.malformed
    assert rebuild(packet) == frame


@pytest.mark.parametrize("keywords, flag", [
    ({"psrc": "192.0.2.1", "pdst": "192.0.2.1", "op": 2}, "arp.isgratuitous"),
    ({"psrc": "192.0.2.1", "pdst": "192.0.2.1", "hwdst": "ff:ff:ff:ff:ff:ff"},
     "arp.isgratuitous"),
    ({"psrc": "192.0.2.1", "pdst": "192.0.2.1"}, "arp.isannouncement"),
    ({"psrc": "0.0.0.0", "pdst": "192.0.2.1"}, "arp.isprobe"),
])
def test_rfc5227_flags(keywords: dict[str, Any], flag: str) -> None:
    packet = dissect((eth() / arp(**keywords)).build(), strict=True)
    assert packet[flag] == 1


def test_plain_request_has_no_flags() -> None:
    fields = arp_layer(dissect(WHO_HAS, strict=True)).fields
    assert not {"arp.isgratuitous", "arp.isannouncement", "arp.isprobe"} & set(fields)


def test_addresses_running_past_the_frame_are_malformed() -> None:
    frame = (eth(padding=b"") / arp(hw_size=20, src_hw=bytes(6), dst_hw=bytes(6))).build()
    packet = dissect(frame, strict=True)
    assert packet.malformed
    assert any("need 56 bytes, only 28 are present" in m for m in problems(packet, Severity.ERROR))
    assert arp_layer(packet).length == 28
    assert rebuild(packet) == frame


def test_zero_sizes_mean_no_addresses() -> None:
    frame = (eth() / arp(hw_size=0, proto_size=0, src_hw=b"", dst_hw=b"", src_proto=b"",
                         dst_proto=b"")).build()
    packet = dissect(frame, strict=True)
    found = arp_layer(packet)
    assert found.length == 8 and found.extra_headers == []
    assert rebuild(packet) == frame


def test_mismatched_address_lengths_need_explicit_sizes() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        (eth() / arp(src_hw=bytes(6), dst_hw=bytes(4))).build()
    frame = (eth() / arp(hw_size=6, src_hw=bytes(6), dst_hw=bytes(4))).build()
    assert frame[14 + 4] == 6


def test_every_truncation_is_noticed_and_never_raises() -> None:
    frame = (eth() / arp(psrc="192.0.2.1", pdst="192.0.2.2")).build()
    for cut in range(len(frame)):
        packet = dissect(frame[:cut], strict=True)
        if 14 <= cut < 42:
            assert packet.malformed, f"cut at {cut} went unnoticed"


def test_arp_too_long_tha_capture() -> None:
    # tcpdump's arp-too-long-tha.pcap: hardware type 0x3030, hardware size 14.
    require_corpus()
    (frame,) = frames(MALFORMED / "tcpdump-arp-too-long-tha.pcap")
    packet = dissect(frame.data, frame.linktype, orig_len=frame.orig_len, strict=True)
    fields = arp_layer(packet).fields
    assert fields["arp.hw.type"] == 0x3030 and fields["arp.hw.size"] == 14
    assert fields["arp.src.hw"] == b"0" * 14 and fields["arp.src.proto_ipv4"] == "48.48.48.48"
    assert any("unknown hardware type 12336" in m for m in problems(packet, Severity.NOTE))
    assert rebuild(packet) == frame.data


# -------------------------------------------------------------- corpus against tshark


ARP_NAMES = ("arp.hw.type", "arp.proto.type", "arp.hw.size", "arp.proto.size", "arp.opcode",
             "arp.src.hw_mac", "arp.src.hw", "arp.src.proto_ipv4", "arp.src.proto",
             "arp.dst.hw_mac", "arp.dst.hw", "arp.dst.proto_ipv4", "arp.dst.proto",
             "arp.isgratuitous", "arp.isannouncement", "arp.isprobe")
ARP_CAPTURES = [REAL / name for name in (
    "zeek-arp-who-has.pcap", "chrissanders-arp-resolution.pcapng",
    "libpcap-rarp-request-reply.pcapng", "tcpdump-8021ad-qinq-arp.pcap",
    "zeek-vlan-8021q-icmp-arp.pcap", "libpcap-arp-icmp-icmpv6-gateway.pcap",
    "dpkt-nb6-http-pppoe-l2tp-ipv6.pcap", "zeek-sll-arp.pcap", "pcapplusplus-sll-mixed.pcap",
    "zeek-sll2-arp-icmp-icmpv6.pcap")] + [MALFORMED / "tcpdump-arp-too-long-tha.pcap"]


def _tshark_arp(path: Path) -> dict[int, dict[str, str]]:
    output = subprocess.run([require_tshark(), "-r", str(path), "-T", "json", "-Y", "arp"],
                            check=True, capture_output=True, text=True).stdout
    found: dict[int, dict[str, str]] = {}
    for packet in json.loads(output):
        layers = packet["_source"]["layers"]
        number = int(layers["frame"]["frame.number"])
        found[number] = {k: v for k, v in layers["arp"].items() if k in ARP_NAMES}
    return found


def _shown(name: str, value: Any) -> str:
    if isinstance(value, bytes):
        return value.hex(":")
    if name == "arp.proto.type":
        return f"0x{value:04x}"
    return str(value)


@pytest.mark.parametrize("path", ARP_CAPTURES, ids=[p.name for p in ARP_CAPTURES])
def test_corpus_arp_matches_tshark_and_rebuilds(path: Path) -> None:
    require_corpus()
    expected = _tshark_arp(path)
    seen = 0
    for frame in frames(path):
        if frame.number not in expected or frame.linktype not in TABLES["linktype"]:
            continue
        packet = dissect(frame.data, frame.linktype, orig_len=frame.orig_len, strict=True)
        fields = arp_layer(packet).fields
        ours = {k: _shown(k, v) for k, v in fields.items() if k in ARP_NAMES}
        assert ours == expected[frame.number], f"frame {frame.number}"
        assert rebuild(packet) == frame.data
        seen += 1
    if seen == 0:
        pytest.skip(f"{path.name}: its link type is not dissected yet")


# --------------------------------------------------------------------- round trips


macs = st.binary(min_size=6, max_size=6).map(lambda b: b.hex(":"))
ipv4s = st.ip_addresses(v=4).map(str)
opcodes = st.integers(0, 0xFFFF)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([1, 6]), opcodes, macs, ipv4s, macs, ipv4s)
def test_ethernet_ipv4_round_trip(hw_type: int, op: int, hwsrc: str, psrc: str, hwdst: str,
                                  pdst: str) -> None:
    frame = (eth() / arp(hw_type=hw_type, op=op, hwsrc=hwsrc, psrc=psrc, hwdst=hwdst,
                         pdst=pdst)).build()
    packet = dissect(frame, strict=True)
    fields = arp_layer(packet).fields
    assert (fields["arp.hw.type"], fields["arp.opcode"]) == (hw_type, op)
    assert (fields["arp.src.hw_mac"], fields["arp.src.proto_ipv4"]) == (hwsrc, psrc)
    assert (fields["arp.dst.hw_mac"], fields["arp.dst.proto_ipv4"]) == (hwdst, pdst)
    assert not packet.malformed
    assert rebuild(packet) == frame


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), opcodes, st.integers(0, 12),
       st.integers(0, 20), st.data())
def test_any_types_and_sizes_round_trip(hw_type: int, proto_type: int, op: int, hw_size: int,
                                        proto_size: int, data: st.DataObject) -> None:
    def address(size: int) -> bytes:
        return data.draw(st.binary(min_size=size, max_size=size))

    addresses = [address(hw_size), address(proto_size), address(hw_size), address(proto_size)]
    frame = (eth() / arp(hw_type=hw_type, proto_type=proto_type, op=op, src_hw=addresses[0],
                         src_proto=addresses[1], dst_hw=addresses[2],
                         dst_proto=addresses[3])).build()
    packet = dissect(frame, strict=True)
    fields = arp_layer(packet).fields
    assert fields["arp.hw.size"] == hw_size and fields["arp.proto.size"] == proto_size
    raw = b"".join(_as_bytes(fields, side) for side in (
        "src.hw", "src.proto", "dst.hw", "dst.proto"))
    assert raw == b"".join(addresses)
    assert not packet.malformed
    assert rebuild(packet) == frame


def _as_bytes(fields: dict[str, Any], part: str) -> bytes:
    for name in (f"arp.{part}", f"arp.{part}_mac", f"arp.{part}_ipv4"):
        if name in fields:
            return _bytes_of(fields[name])
    return b""


def _bytes_of(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    text = str(value)
    if text.count(":") == 5 and "." not in text:
        return bytes.fromhex(text.replace(":", ""))
    if "." in text:
        return socket.inet_aton(text)
    return socket.inet_pton(socket.AF_INET6, text)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_never_raise(body: bytes) -> None:
    for ethertype in (b"\x08\x06", b"\x80\x35"):
        packet = dissect(bytes(12) + ethertype + body, strict=True)
        packet.as_dict()
        if not packet.malformed:
            assert rebuild(packet) == bytes(12) + ethertype + body


# ----------------------------------------------------------- Scapy differential tests
# Both directions compare through pktlab.oracle.scapy, whose SCAPY_FIELDS maps every ARP field
# (Scapy has one field per address whatever its type; an IPv6 protocol address, which Scapy
# decodes and pktlab keeps raw, compares through the oracle's converter).

DIFF = settings(max_examples=DIFF_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
ARP_PAIRS = [("eth", "Ether"), ("arp", "ARP")]


@st.composite
def arp_values(draw: st.DrawFn) -> dict[str, Any]:
    """Types, sizes and raw addresses: Ethernet/IPv4 half the time, anything the other half."""
    if draw(st.booleans()):
        hw_type, proto_type, hw_size, proto_size = draw(st.sampled_from([1, 6])), 0x0800, 6, 4
    else:
        hw_type = draw(st.sampled_from([1, 6, 0x1234]) | st.integers(2, 0xFFFF))
        proto_type = draw(st.sampled_from([0x0800, 0x86DD, 0x0806])
                          | st.integers(0x0900, 0x86DC))
        hw_size, proto_size = draw(st.integers(0, 10)), draw(st.integers(0, 16))

    def address(size: int) -> bytes:
        return draw(st.binary(min_size=size, max_size=size))

    return {"hw_type": hw_type, "proto_type": proto_type, "op": draw(opcodes),
            "src_hw": address(hw_size), "src_proto": address(proto_size),
            "dst_hw": address(hw_size), "dst_proto": address(proto_size)}


def pktlab_arp(v: dict[str, Any]) -> Any:
    return eth(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01", padding=b"") / arp(**v)


def scapy_arp(v: dict[str, Any]) -> Any:
    from scapy.layers.l2 import ARP, Ether

    hw_mac = v["hw_type"] == 1 and len(v["src_hw"]) == 6
    ipv4 = v["proto_type"] == 0x0800 and len(v["src_proto"]) == 4
    ipv6 = v["proto_type"] == 0x86DD and len(v["src_proto"]) == 16

    def hw(raw: bytes) -> Any:  # Scapy's field for the address takes its text form
        return raw.hex(":") if hw_mac else raw

    def proto(raw: bytes) -> Any:
        if ipv4:
            return socket.inet_ntoa(raw)
        return socket.inet_ntop(socket.AF_INET6, raw) if ipv6 else raw

    pkt = Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01")
    pkt.add_payload(ARP(  # add_payload, not "/": no copies (a test runs it 10000 times)
        hwtype=v["hw_type"], ptype=v["proto_type"], hwlen=len(v["src_hw"]),
        plen=len(v["src_proto"]), op=v["op"], hwsrc=hw(v["src_hw"]),
        psrc=proto(v["src_proto"]), hwdst=hw(v["dst_hw"]), pdst=proto(v["dst_proto"])))
    return pkt


@pytest.mark.oracle
@DIFF
@given(arp_values())
def test_differential_scapy_parses_what_pktlab_builds(v: dict[str, Any]) -> None:
    require_scapy()
    from pktlab.oracle.scapy import compare_with_scapy, mapped_fields

    frame = pktlab_arp(v).build()
    result = compare_with_scapy(frame, 1, strict=True)
    assert result.disagreements() == []
    assert result.pairs == ARP_PAIRS
    assert mapped_fields(*dissect(frame, strict=True).layers) <= result.names.keys()


@pytest.mark.oracle
@DIFF
@given(arp_values())
def test_differential_pktlab_parses_what_scapy_builds(v: dict[str, Any]) -> None:
    require_scapy()
    from scapy.layers.l2 import Ether

    from pktlab.oracle.scapy import compare_build, compare_packets, mapped_fields

    frame = bytes(scapy_arp(v))
    packet = dissect(frame, strict=True)
    result = compare_packets(packet, Ether(frame))
    assert result.disagreements() == []
    assert result.pairs == ARP_PAIRS
    assert mapped_fields(*packet.layers) <= result.names.keys()
    assert compare_build(pktlab_arp(v), frame, 1).disagreements() == []
    assert rebuild(packet) == frame

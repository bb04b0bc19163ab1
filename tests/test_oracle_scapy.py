"""Scapy as pktlab's oracle: the mapping, the comparison, and differential tests against Scapy.

* Every packet of the shared corpus whose link type pktlab dissects is dissected by both and
  compared field by field: zero mismatches that no known difference explains.
* Differential: packets pktlab builds from random values parse in Scapy to the same fields,
  packets Scapy builds parse in pktlab to the same fields, and both build the same bytes from
  the same values (PKTLAB_DIFF_EXAMPLES examples each; CI runs 10000).
* Importing pktlab or pktlab.wire never imports Scapy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import DIFF_EXAMPLES, REQUIRED, corpus_files, require_corpus


def require_module(name: str) -> Any:
    """Import an oracle's module, or skip; under PKTLAB_REQUIRE_ORACLES=1 fail instead."""
    if REQUIRED:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            pytest.fail(f"{name} is required (PKTLAB_REQUIRE_ORACLES=1) but cannot be "
                        f"imported: {exc}", pytrace=False)
    return pytest.importorskip(name)


require_module("scapy")

from scapy.layers import inet, inet6, l2  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import RawPcapNgReader, RawPcapReader  # noqa: E402

from pktlab.oracle import scapy as oracle  # noqa: E402
from pktlab.oracle.scapy import (  # noqa: E402
    KNOWN_SCAPY_DIFFERENCES,
    NOT_IN_SCAPY,
    SCAPY_FIELDS,
    Comparison,
    Mismatch,
    compare_build,
    compare_packets,
    compare_with_scapy,
    declared_fields,
    from_scapy,
    to_scapy,
)
from pktlab.wire import Proto, Stack, dissect, eth, ip, layer, tcp, udp, vlan  # noqa: E402
from pktlab.wire._packet import MAX_LAYERS, TABLES  # noqa: E402
from pktlab.wire.tcp import TCP_OPTIONS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Codec modules written alongside this oracle: compared as soon as they exist.
for _name in ("arp", "link", "ipv6", "icmp", "icmpv6"):
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(f"pktlab.wire.{_name}")


def has_codec(layer_name: str) -> bool:
    from pktlab.wire._packet import DISSECTORS

    return layer_name in DISSECTORS


# ------------------------------------------------------------------------- reading the corpus


@dataclass(frozen=True)
class Frame:
    number: int
    data: bytes
    linktype: int
    orig_len: int


def frames(path: Path) -> Iterator[Frame]:
    """pktlab's own reader when it exists, Scapy's raw readers until then."""
    pktlab_frames: Callable[[Path], Iterator[Any]] | None
    try:
        from corpus import frames as pktlab_frames
    except ImportError:
        pktlab_frames = None
    if pktlab_frames is not None:
        for f in pktlab_frames(path):
            yield Frame(f.number, f.data, f.linktype, f.orig_len)
        return
    reader_class = RawPcapNgReader if path.suffix == ".pcapng" else RawPcapReader
    reader = reader_class(str(path))
    try:
        for number, (data, meta) in enumerate(reader, 1):
            linktype = getattr(meta, "linktype", None)
            if linktype is None:
                linktype = reader.linktype
            yield Frame(number, data, linktype, getattr(meta, "wirelen", len(data)))
    finally:
        reader.close()


REAL = corpus_files("real")


@dataclass
class FileResult:
    frames: int = 0
    compared: int = 0
    mismatches: list[str] = dataclasses.field(default_factory=list)
    skipped: Counter[str] = dataclasses.field(default_factory=Counter)


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, FileResult]:
    require_corpus()
    results: dict[str, FileResult] = {}
    for path in REAL:
        result = results[path.name] = FileResult()
        for frame in frames(path):
            if frame.linktype not in TABLES["linktype"]:
                continue
            try:
                comparison = compare_with_scapy(frame.data, frame.linktype,
                                                orig_len=frame.orig_len, strict=True)
            except Exception as exc:  # a dissector bug fails this file only
                result.mismatches.append(f"frame {frame.number}: raised {exc!r}")
                continue
            result.frames += 1
            result.compared += comparison.compared
            result.mismatches += [f"frame {frame.number}: {m}" for m in comparison]
            result.skipped.update(s.difference for s in comparison.skipped)
    return results


@pytest.mark.oracle
@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_corpus_packets_agree_with_scapy(path: Path,
                                         corpus_results: dict[str, FileResult]) -> None:
    result = corpus_results[path.name]
    assert result.mismatches == [], "\n".join(result.mismatches[:20])
    if result.frames:
        assert result.compared > 0, "frames were dissected but no field was compared"


@pytest.mark.oracle
def test_corpus_comparison_covers_many_fields(corpus_results: dict[str, FileResult],
                                              record_property: Any) -> None:
    frames_total = sum(r.frames for r in corpus_results.values())
    compared = sum(r.compared for r in corpus_results.values())
    skipped: Counter[str] = Counter()
    for r in corpus_results.values():
        skipped.update(r.skipped)
    record_property("frames", frames_total)
    record_property("fields_compared", compared)
    print(f"\nScapy oracle: {frames_total} frames, {compared} field values compared; "
          f"skipped for known differences: {dict(skipped)}")
    assert frames_total > 3000
    assert compared > 100_000
    assert set(skipped) <= set(KNOWN_SCAPY_DIFFERENCES)


# --------------------------------------------------------------------------------- the mapping


def scapy_class_named(name: str) -> Any:
    for module in (l2, inet, inet6):
        found = getattr(module, name, None)
        if found is not None:
            return found
    from scapy.config import conf

    return next((c for c in conf.layers if c.__name__ == name), None)


PSEUDO_CLASSES = {"TCPOption", "IPv6Option"}


def all_subclasses(cls: Any) -> list[Any]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *all_subclasses(sub)]
    return found


@pytest.mark.parametrize("name", sorted(SCAPY_FIELDS))
def test_mapping_names_real_scapy_fields(name: str) -> None:
    for entry in SCAPY_FIELDS[name]:
        if entry.layer in PSEUDO_CLASSES:
            continue
        cls = scapy_class_named(entry.layer)
        assert cls is not None, f"{name}: no Scapy class {entry.layer}"
        known = {f.name for f in getattr(cls, "fields_desc", ())}
        if entry.layer.startswith("_"):  # an abstract base: its subclasses have the fields
            known = set().union(*({f.name for f in getattr(c, "fields_desc", ())}
                                  for c in all_subclasses(cls)))
        for field_name in entry.fields:
            assert field_name in known, f"{name}: {entry.layer} has no field {field_name}"
        if not entry.fields:
            assert entry.convert is not None, f"{name}: a whole-object entry needs a converter"


def test_every_declared_field_is_mapped_or_explained() -> None:
    declared = declared_fields()
    unexplained = sorted(n for n in declared if n not in SCAPY_FIELDS and n not in NOT_IN_SCAPY)
    assert unexplained == [], ("map these in pktlab/oracle/scapy.py or list them in "
                               f"NOT_IN_SCAPY with a reason: {unexplained}")


def test_known_differences_all_have_reasons() -> None:
    for key, difference in KNOWN_SCAPY_DIFFERENCES.items():
        assert difference.key == key
        assert len(difference.reason) > 40, key


def test_derived_conversions_follow_the_declarations() -> None:
    # ip.hdr_len is in bytes (IHL x 4), the fragment offset in bytes (x 8), DF is bit 1 of
    # Scapy's 3-bit flags, DSCP the top 6 bits of TOS, tcp.flags 12 bits = reserved + flags.
    frame = bytes(l2.Ether() / inet.IP(ihl=6, tos=0xB9, flags="DF", frag=3,
                                       options=[inet.IPOption_NOP()] * 4)
                  / inet.TCP(reserved=5, flags="SAN"))
    packet = dissect(frame, 1)
    assert packet["ip.hdr_len"] == 24 and packet["ip.frag_offset"] == 3
    assert packet["ip.dsfield.dscp"] == 0xB9 >> 2 and packet["ip.flags.df"] == 1
    result = compare_with_scapy(frame)
    assert list(result) == [] and result.compared > 15


# --------------------------------------------------------------------------- the comparison


def test_comparison_reports_a_field_scapy_disagrees_on() -> None:
    frame = (eth() / ip(ttl=7, src="192.0.2.1", dst="198.51.100.2")
             / tcp(flags="SA", mss=1460, sack=[(5, 9)], dport=443)).build()
    packet = dissect(frame, 1)
    theirs = l2.Ether(frame)
    theirs[inet.IP].ttl = 8
    theirs[inet.TCP].flags = "S"
    theirs[inet.TCP].options = [("MSS", 1400), ("SAck", (5, 10)), ("EOL", None)]
    result = compare_packets(packet, theirs)
    found = {(m.layer, m.field): (m.pktlab, m.scapy) for m in result}
    assert found[("ip", "ip.ttl")] == (7, 8)
    assert found[("tcp", "tcp.flags")] == (0x012, 0x002)
    assert found[("tcp", "tcp.flags.ack")] == (1, 0)
    assert found[("tcp", "tcp.options.mss_val")] == (1460, 1400)
    assert found[("tcp", "tcp.options.sack_re")] == ([9], [10])
    assert all(m.data == frame and m.linktype == 1 for m in result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result[0].field = "x"  # type: ignore[misc]


def test_comparison_reports_a_layer_scapy_lacks() -> None:
    frame = (eth() / ip() / udp(dport=9) / (b"x" * 30)).build()
    packet = dissect(frame, 1)
    result = compare_packets(packet, l2.Ether(frame[:14]) / Raw(frame[14:]))
    assert [(m.layer, m.field) for m in result] == [("ip", "(layer)"), ("udp", "(layer)")]


def test_comparison_is_a_list_with_counts_and_skips() -> None:
    frame = bytearray((eth() / ip(ttl=9) / udp() / b"abc").build())
    frame[24] ^= 0xFF  # break the IPv4 header checksum
    result = compare_with_scapy(bytes(frame))
    assert isinstance(result, Comparison) and isinstance(result, list) and result == []
    assert result.compared > 10
    assert [(s.difference, s.field) for s in result.skipped] == [
        ("checksum-not-verified", "ip.checksum.status")]
    assert "never verifies" in result.skipped[0].reason
    assert result.pairs == [("eth", "Ether"), ("ip", "IP"), ("udp", "UDP")]


IPV4_UDP = bytes(inet.IP(src="192.0.2.1", dst="192.0.2.2") / inet.UDP() / b"hi")
IPV6_UDP = bytes(inet6.IPv6(src="2001:db8::1", dst="2001:db8::2") / inet.UDP() / b"hi")
ETH = bytes.fromhex("020000000001020000000002")

# Frames on which Scapy disagrees for a documented reason: (difference, frame, link type,
# pktlab layer whose codec the frame needs).
KNOWN_CASES: list[tuple[str, bytes, int, str]] = [
    ("checksum-not-verified", ETH + b"\x08\x00" + IPV4_UDP[:10] + b"\0\0" + IPV4_UDP[12:],
     1, "ip"),
    ("truncated-header", ETH + b"\x08\x00" + IPV4_UDP[:12], 1, "ip"),
    ("malformed-option",
     bytes(l2.Ether() / inet.IP() / inet.TCP(dataofs=7) / (b"\x02\x04\x05\xb4\x05\x09\0\0")),
     1, "tcp"),
    ("options-after-eol", bytes(l2.Ether() / inet.IP(options=[inet.IPOption_NOP(),
                                                              inet.IPOption_EOL()])
                                / inet.UDP()), 1, "ip"),
    ("ip-timestamp-one-entry",
     bytes(l2.Ether() / inet.IP(options=[inet.IPOption(bytes([68, 12, 13, 0]) + bytes(8))])
           / inet.UDP()), 1, "ip"),
    ("ip-option-number-only", ETH + b"\x08\x00" + bytes(inet.IP(
        src="192.0.2.1", dst="192.0.2.2",
        options=[inet.IPOption(bytes([0x87, 7, 4, 10, 0, 0, 1])), inet.IPOption_NOP()])
        / inet.UDP()), 1, "ip"),
    ("ip-security-fixed-length", (eth() / ip(options=[bytes([130, 7, 1, 2, 3, 4, 5]), "nop"])
                                  / udp()).build(), 1, "ip"),
    ("mld-aux-data-bytes", (eth() / layer("ipv6", src="fe80::1", dst="ff02::16", hlim=1)
                            / layer("icmpv6", type=143, records=[
                                {"record_type": 1, "multicast_address": "ff02::1:3",
                                 "sources": ["2001:db8::1"], "aux": b"abcd"},
                                {"record_type": 2, "multicast_address": "ff02::1:4"}])).build(),
     1, "icmpv6"),
    ("ipv6-routing-as-type-0", (eth() / layer("ipv6") / layer("ipv6.routing", type=5, segleft=3,
                                                              data=b"\1" * 12)
                                / udp(sport=1, dport=2) / b"abc").build(), 1, "ipv6"),
    ("ipv6-option-scapy-class", (eth() / layer("ipv6") / layer("ipv6.hopopts", options=[
        (0x63, b""), ("router_alert", 0)]) / udp()).build(), 1, "ipv6"),
    ("malformed-stops-pktlab", bytes(l2.Ether() / inet.IP(version=5) / inet.TCP()), 1, "ip"),
    ("layer-limit", ETH + b"\x81\x00" + b"\x00\x05\x81\x00" * MAX_LAYERS
     + b"\x00\x05\x08\x00" + IPV4_UDP, 1, "vlan"),
    ("link-padding", ETH + b"\x00\x06" + b"\xaa\xaa\x03abc" + bytes(40), 1, "eth"),
    ("scapy-no-rarp", bytes(l2.Ether(type=0x8035) / l2.ARP(op=3, hwsrc="02:00:00:00:00:01",
                                                           psrc="0.0.0.0")), 1, "arp"),
    ("loopback-families", b"\x1e\0\0\0" + IPV6_UDP, 0, "null"),  # AF_INET6 on macOS
    ("loopback-byte-order", b"\0\0\0\x02" + IPV4_UDP, 0, "null"),  # from a big-endian host
    # zeek-icmp-destunreach-port-udp.pcap frame 1: Scapy's DNS swallows the frame's trailer.
    ("scapy-drops-bytes", bytes.fromhex(
        "0019e3e75d23000bdb6358a60800450000b0281e000080018e77c0a80166c0a80101030303bb00000000"
        "450000a3371100004011bf81c0a80101c0a801660035e747008f76d298a4818000010001000400000673"
        "656375726503656434036e65740000010001c00c000100010000012c0004d05e140ec013000200010000"
        "012c000f05646e7330320665786f647573c017c013000200010000012c000805646e733031c042c01300"
        "0200010000012c000805646e733034c042c013000200c9146f2d"),
     1, "icmp"),
]


@pytest.mark.parametrize(("difference", "frame", "linktype", "needs"), KNOWN_CASES,
                         ids=[c[0] for c in KNOWN_CASES])
def test_known_difference_is_skipped_and_named(difference: str, frame: bytes, linktype: int,
                                               needs: str) -> None:
    if not has_codec(needs):
        pytest.skip(f"pktlab has no {needs} codec yet")
    result = compare_with_scapy(frame, linktype, strict=True)
    assert [str(m) for m in result] == []
    assert difference in {s.difference for s in result.skipped}, result.report()


def _v6_udp(options: list[Any]) -> Stack:
    return (eth(dst="02:00:00:00:00:02", src="02:00:00:00:00:01", padding=b"")
            / layer("ipv6", src="2001:db8::1", dst="2001:db8::2")
            / layer("ipv6.dstopts", options=options) / udp(sport=1, dport=2) / b"x")


def _scapy_v6_udp(options: list[Any]) -> Any:
    return (l2.Ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01")
            / inet6.IPv6(src="2001:db8::1", dst="2001:db8::2")
            / inet6.IPv6ExtHdrDestOpt(options=options) / inet.UDP(sport=1, dport=2) / b"x")


# Differences in building: (difference, pktlab stack, Scapy packet).
KNOWN_BUILD_CASES: list[tuple[str, Any, Any]] = [
    ("ipv6-option-alignment", lambda: _v6_udp([("home_address", "2001:db8::9")]),
     lambda: _scapy_v6_udp([inet6.HAO(hoa="2001:db8::9")])),
    ("ipv6-home-address-checksum",
     lambda: _v6_udp([bytes((1, 2, 0, 0)), ("home_address", "2001:db8::9")]),
     lambda: _scapy_v6_udp([inet6.PadN(optdata=b"\0\0"), inet6.HAO(hoa="2001:db8::9")])),
]


@pytest.mark.parametrize(("difference", "ours", "theirs"), KNOWN_BUILD_CASES,
                         ids=[c[0] for c in KNOWN_BUILD_CASES])
def test_known_build_difference_is_skipped_and_named(difference: str, ours: Any,
                                                     theirs: Any) -> None:
    result = compare_build(ours(), theirs())
    assert list(result) == []
    assert [s.difference for s in result.skipped] == [difference]
    assert result.disagreements([difference]) == []
    assert result.disagreements() != []


def test_known_differences_table_is_exercised() -> None:
    exercised = {c[0] for c in KNOWN_CASES} | {c[0] for c in KNOWN_BUILD_CASES}
    assert exercised == set(KNOWN_SCAPY_DIFFERENCES)


def test_disagreements_refuses_an_unknown_difference() -> None:
    with pytest.raises(ValueError, match="not known"):
        Comparison().disagreements(["no-such-difference"])


# ------------------------------------------------- Scapy builds, pktlab parses: every layer

# The same headers in both: built by Scapy, each case names the fields it must get compared
# (the corpus lacks some of them).
E = l2.Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def _v4() -> Any:
    return inet.IP(src="192.0.2.1", dst="192.0.2.2")


def _v6(dst: str = "ff02::1", hlim: int = 255) -> Any:
    return inet6.IPv6(src="fe80::1", dst=dst, hlim=hlim)


def _quoted() -> Any:
    return (inet.IPerror(src="192.0.2.2", dst="198.51.100.7", ttl=1)
            / inet.UDPerror(sport=5000, dport=33434) / b"payload!")


def _quoted6() -> Any:
    return (inet6.IPerror6(src="2001:db8::2", dst="2001:db8::9")
            / inet.UDPerror(sport=5000, dport=53) / b"q")


def _hbh_alert() -> Any:
    return inet6.IPv6ExtHdrHopByHop(options=[inet6.RouterAlert()])


SCAPY_BUILT: list[tuple[str, Any, int, str, set[str]]] = [
    ("icmp-frag-needed", lambda: E / _v4() / inet.ICMP(type=3, code=4, nexthopmtu=1400)
     / _quoted(), 1, "icmp", {"icmp.mtu", "icmp.unused", "udp.dstport"}),
    ("icmp-param-problem", lambda: E / _v4() / inet.ICMP(type=12, ptr=5)
     / inet.IPerror(src="192.0.2.9", dst="192.0.2.8") / inet.TCPerror(sport=1, dport=2), 1,
     "icmp", {"icmp.pointer", "icmp.unused", "tcp.seq"}),
    ("icmp-redirect", lambda: E / _v4() / inet.ICMP(type=5, code=1, gw="192.0.2.254")
     / _quoted(), 1, "icmp", {"icmp.redir_gw"}),
    ("icmp-timestamp", lambda: E / _v4() / inet.ICMP(type=13, id=1, seq=2, ts_ori=3, ts_rx=4,
                                                     ts_tx=5), 1, "icmp",
     {"icmp.ident", "icmp.seq", "icmp.originate_timestamp", "icmp.receive_timestamp",
      "icmp.transmit_timestamp"}),
    ("icmp-address-mask", lambda: E / _v4() / inet.ICMP(type=17, addr_mask="255.255.255.0"),
     1, "icmp", {"icmp.address_mask"}),
    ("icmp-router-solicitation", lambda: E / _v4() / inet.ICMP(type=10), 1, "icmp",
     {"icmp.reserved"}),
    ("icmp-router-advertisement", lambda: E / _v4() / inet.ICMP(type=9, unused=0x02020708)
     / bytes.fromhex("c0000201000000010a0000010000000a"), 1, "icmp",
     {"icmp.num_addrs", "icmp.addr_entry_size", "icmp.lifetime"}),
    ("icmpv6-echo", lambda: E / _v6() / inet6.ICMPv6EchoRequest(id=5, seq=6, data=b"x"), 1,
     "icmpv6", {"icmpv6.echo.identifier", "icmpv6.echo.sequence_number"}),
    ("icmpv6-packet-too-big", lambda: E / _v6() / inet6.ICMPv6PacketTooBig(mtu=1280)
     / _quoted6(), 1, "icmpv6", {"icmpv6.mtu", "ipv6.src"}),
    ("icmpv6-parameter-problem", lambda: E / _v6() / inet6.ICMPv6ParamProblem(code=1, ptr=40)
     / _quoted6(), 1, "icmpv6", {"icmpv6.pointer"}),
    ("icmpv6-unreachable", lambda: E / _v6() / inet6.ICMPv6DestUnreach(code=4) / _quoted6(),
     1, "icmpv6", {"icmpv6.reserved"}),
    ("nd-router-advertisement", lambda: E / _v6() / inet6.ICMPv6ND_RA(
        chlim=64, M=1, O=1, H=1, prf=1, P=1, routerlifetime=1800, reachabletime=5,
        retranstimer=6)
     / inet6.ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, R=1, validlifetime=100,
                                   preferredlifetime=50, prefix="2001:db8::")
     / inet6.ICMPv6NDOptMTU(mtu=1500)
     / inet6.ICMPv6NDOptRDNSS(lifetime=60, dns=["2001:db8::53", "2001:db8::54"])
     / inet6.ICMPv6NDOptAdvInterval(advint=1000) / inet6.ICMPv6NDOptHAInfo(pref=3, lifetime=77)
     / inet6.ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01"), 1, "icmpv6",
     {"icmpv6.nd.ra.flag.prf", "icmpv6.nd.ra.router_lifetime", "icmpv6.opt.prefix",
      "icmpv6.opt.prefix.flag.a", "icmpv6.opt.mtu", "icmpv6.opt.rdnss",
      "icmpv6.opt.advertisement_interval", "icmpv6.opt.home_agent_lifetime",
      "icmpv6.opt.src_linkaddr", "icmpv6.opt.reserved"}),
    ("nd-neighbor-solicitation", lambda: E / _v6() / inet6.ICMPv6ND_NS(tgt="fe80::2")
     / inet6.ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01"), 1, "icmpv6",
     {"icmpv6.nd.ns.target_address", "icmpv6.reserved", "icmpv6.opt.src_linkaddr"}),
    ("nd-neighbor-advertisement", lambda: E / _v6() / inet6.ICMPv6ND_NA(R=1, S=1, tgt="fe80::2")
     / inet6.ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:03"), 1, "icmpv6",
     {"icmpv6.nd.na.flag", "icmpv6.nd.na.flag.s", "icmpv6.opt.target_linkaddr"}),
    ("nd-redirect", lambda: E / _v6() / inet6.ICMPv6ND_Redirect(tgt="fe80::5",
                                                                dst="2001:db8::7"), 1, "icmpv6",
     {"icmpv6.nd.rd.target_address", "icmpv6.rd.na.destination_address"}),
    ("mld-query", lambda: E / _v6(hlim=1) / _hbh_alert()
     / inet6.ICMPv6MLQuery(mrd=10000, mladdr="::"), 1, "icmpv6",
     {"icmpv6.mld.maximum_response_delay", "icmpv6.mld.multicast_address",
      "ipv6.opt.router_alert"}),
    ("mldv2-query", lambda: E / _v6(hlim=1) / _hbh_alert() / inet6.ICMPv6MLQuery2(
        mrd=100, mladdr="ff02::1:3", S=1, QRV=2, QQIC=125,
        sources=["2001:db8::1", "2001:db8::2"]), 1, "icmpv6",
     {"icmpv6.mld.maximum_response_code", "icmpv6.mld.flag.qrv", "icmpv6.mld.source_address"}),
    ("mldv2-report", lambda: E / _v6("ff02::16", 1) / _hbh_alert() / inet6.ICMPv6MLReport2(
        records=[inet6.ICMPv6MLDMultAddrRec(rtype=1, dst="ff02::1:3", sources=["2001:db8::1"]),
                 inet6.ICMPv6MLDMultAddrRec(rtype=4, dst="ff02::1:4")]), 1, "icmpv6",
     {"icmpv6.mldr.nb_mcast_records", "icmpv6.mldr.mar.record_type",
      "icmpv6.mldr.mar.source_address"}),
    ("ipv6-extension-headers", lambda: E / inet6.IPv6(src="2001:db8::1", dst="2001:db8::2")
     / inet6.IPv6ExtHdrHopByHop(options=[inet6.PadN(optdata=b"\0\0\0\0")])
     / inet6.IPv6ExtHdrRouting(addresses=["2001:db8::10", "2001:db8::11"], segleft=2)
     / inet6.IPv6ExtHdrDestOpt(options=[inet6.HAO(hoa="2001:db8::99"),
                                        inet6.HBHOptUnknown(otype=4, optdata=b"\x05")])
     / inet6.IPv6ExtHdrFragment(m=1, id=0x1234) / inet.UDP() / b"x", 1, "ipv6",
     {"ipv6.opt.padn", "ipv6.routing.src.addr", "ipv6.routing.segleft",
      "ipv6.opt.mipv6.home_address", "ipv6.opt.tel", "ipv6.opt.type.action",
      "ipv6.fraghdr.more", "ipv6.fraghdr.ident", "udp.srcport"}),
    ("ipv6-mobile-routing", lambda: E / inet6.IPv6(src="2001:db8::1", dst="2001:db8::2")
     / inet6.IPv6ExtHdrRouting(type=2, addresses=["2001:db8::77"], segleft=1) / inet.UDP(),
     1, "ipv6", {"ipv6.routing.mipv6.home_address", "ipv6.routing.mipv6.reserved"}),
    ("arp-reply", lambda: E / l2.ARP(op=2, hwsrc="02:00:00:00:00:01", psrc="192.0.2.1",
                                     hwdst="02:00:00:00:00:02", pdst="192.0.2.2"), 1, "arp",
     {"arp.opcode", "arp.src.hw_mac", "arp.dst.proto_ipv4"}),
    # Scapy builds its traceroute option with class 0 (type 18); RFC 1393 says type 82.
    ("ip-options-obsolete", lambda: E / inet.IP(src="192.0.2.1", dst="192.0.2.2", options=[
        inet.IPOption_Traceroute(optclass=2, id=5, outbound_hops=1, return_hops=2,
                                 originator_ip="192.0.2.3"),
        inet.IPOption_MTU_Probe(mtu=576), inet.IPOption_Stream_Id(security=42)]) / inet.UDP(),
     1, "ip", {"ip.opt.id_number", "ip.opt.ohc", "ip.opt.originator", "ip.opt.mtu",
               "ip.opt.sid"}),
    ("sll-ipv4-source", lambda: l2.CookedLinux(pkttype=0, lladdrtype=778, lladdrlen=4,
                                               src=b"\xc0\x00\x02\x01\0\0\0\0", proto=0x0800)
     / _v4() / inet.UDP(), 113, "sll", {"sll.src.ipv4", "sll.unused", "sll.hatype"}),
    ("sll-other-source", lambda: l2.CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=2,
                                                src=b"\xab\xcd" + bytes(6), proto=4)
     / b"\xaa\xaa\x03xyz", 113, "sll", {"sll.src.other", "sll.ltype"}),
    ("sll2", lambda: l2.CookedLinuxV2(proto=0x86DD, ifindex=3, lladdrtype=1, lladdrlen=6,
                                      src=b"\x02\0\0\0\0\x01\0\0")
     / _v6() / inet.UDP(), 276, "sll", {"sll.ifindex", "sll.reserved", "sll.src.eth"}),
    ("null-ipv4", lambda: l2.Loopback(type=2) / _v4() / inet.UDP(), 0, "null",
     {"null.family", "ip.src"}),
]


@pytest.mark.oracle
@pytest.mark.parametrize(("build", "linktype", "needs", "fields"),
                         [c[1:] for c in SCAPY_BUILT], ids=[c[0] for c in SCAPY_BUILT])
def test_scapy_built_layers_parse_in_pktlab_to_the_same_fields(
        build: Any, linktype: int, needs: str, fields: set[str]) -> None:
    if not has_codec(needs):
        pytest.skip(f"pktlab has no {needs} codec yet")
    result = compare_with_scapy(bytes(build()), linktype, strict=True)
    assert [str(m) for m in result] == []
    assert result.skipped == []
    assert fields <= set(result.names), sorted(fields - set(result.names))


# ---------------------------------------------------------------- to_scapy and from_scapy


LINK_CASES = [
    (1, (eth() / ip() / udp()).build(), "Ether"),
    (228, IPV4_UDP, "IP"),
    (229, IPV6_UDP, "IPv6"),
    (101, IPV4_UDP, "IP"),
    (101, IPV6_UDP, "IPv6"),
    (113, bytes(l2.CookedLinux(src=b"\x02\0\0\0\0\x01\0\0", lladdrlen=6) / inet.IP()),
     "CookedLinux"),
    (276, bytes(l2.CookedLinuxV2(src=b"\x02\0\0\0\0\x01\0\0", lladdrlen=6) / inet.IP()),
     "CookedLinuxV2"),
    (0, b"\x02\0\0\0" + IPV4_UDP, "Loopback"),
]


@pytest.mark.parametrize(("linktype", "frame", "cls"), LINK_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in LINK_CASES])
def test_to_scapy_uses_the_class_of_the_link_type(linktype: int, frame: bytes,
                                                  cls: str) -> None:
    packet = dissect(frame, linktype)
    theirs = to_scapy(packet)
    assert type(theirs).__name__ == cls
    assert bytes(theirs) == frame
    assert type(packet.to_scapy()).__name__ == cls


@pytest.mark.parametrize(("linktype", "frame", "cls"), LINK_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in LINK_CASES])
def test_from_scapy_infers_the_link_type(linktype: int, frame: bytes, cls: str) -> None:
    theirs = oracle.scapy_class(linktype, frame)(frame)
    packet = from_scapy(theirs)
    assert packet.data == frame
    assert packet.linktype == (228 if linktype == 101 and cls == "IP" else
                               229 if linktype == 101 else linktype)


def test_round_trip_through_scapy_keeps_bytes_and_fields() -> None:
    frame = (eth(src="02:00:00:00:00:01") / vlan(id=7) / ip(ttl=3, options=["nop", ("ra", 0)])
             / tcp(dport=22, mss=1200, ts=(5, 6), sack_perm=True) / b"data").build()
    packet = dissect(frame, 1, strict=True)
    again = from_scapy(to_scapy(packet))
    assert again.data == frame and again.linktype == 1
    assert [lay.as_dict() for lay in again.layers] == [lay.as_dict() for lay in packet.layers]
    assert from_scapy(inet.IP() / inet.UDP(), linktype=101).linktype == 101


def test_from_scapy_refuses_a_layer_no_link_type_starts_with() -> None:
    with pytest.raises(ValueError, match="link type"):
        from_scapy(inet.UDP())


# ------------------------------------------------------------------------------- compare_build


def test_compare_build_of_equal_frames_is_empty() -> None:
    ours = eth(dst="02:00:00:00:00:02", src="02:00:00:00:00:01", padding=b"") / ip(
        id=1, src="192.0.2.1", dst="192.0.2.2") / udp(sport=53, dport=53) / b"x"
    theirs = (l2.Ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01")
              / inet.IP(id=1, src="192.0.2.1", dst="192.0.2.2") / inet.UDP() / b"x")
    assert list(compare_build(ours, theirs)) == []


@pytest.mark.parametrize(("ours", "theirs", "field", "offset"), [
    (ip(ttl=3, id=1) / udp(), inet.IP(ttl=4) / inet.UDP(), "ip.ttl", 8),
    (ip(id=1, flags_df=1) / udp(), inet.IP() / inet.UDP(), "ip.flags.df", 6),
    (ip(id=1) / tcp(flags="S", sport=20, window=8192), inet.IP() / inet.TCP(flags="SF"),
     "tcp.flags.fin", 33),
    (ip(id=1) / tcp(flags="S", sport=20, window=8192, mss=1460, checksum=0),
     inet.IP() / inet.TCP(flags="S", chksum=0, options=[("MSS", 1400)]),
     "tcp.options.mss_val", 43),
], ids=["ttl", "df", "fin", "mss"])
def test_compare_build_names_the_field_of_the_first_differing_bit(
        ours: Stack, theirs: Any, field: str, offset: int) -> None:
    result = compare_build(ours, theirs)
    assert [(m.field, m.offset) for m in result] == [(field, offset)], result.report()


def test_compare_build_reports_a_length_difference() -> None:
    result = compare_build(ip(id=1, len=30) / udp(length=10, checksum=0) / b"ab",
                           inet.IP(len=30) / inet.UDP(len=10, chksum=0) / b"a")
    assert [m.field for m in result] == ["(length)"]


# ------------------------------------------------------------------ differential: strategies

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
macs = st.binary(min_size=6, max_size=6).map(lambda b: b.hex(":"))
addresses = st.binary(min_size=4, max_size=4).map(socket.inet_ntoa)
payloads = st.binary(max_size=48)

DIFF = settings(max_examples=DIFF_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Values:
    """One random packet's field values, given to pktlab and to Scapy alike."""

    eth: dict[str, Any]
    tags: list[tuple[str, dict[str, Any]]]  # ("ieee8021ad" | "vlan", values)
    ip: dict[str, Any]
    ip_options: list[tuple[str, Any]]
    transport: str
    l4: dict[str, Any]
    tcp_options: list[tuple[str, Any]]
    payload: bytes


TCP_OPTION = st.one_of(
    u16.map(lambda v: ("mss", v)),
    u8.map(lambda v: ("wscale", v)),
    st.just(("sack_perm", None)),
    st.lists(st.tuples(u32, u32), min_size=1, max_size=4).map(lambda b: ("sack", b)),
    st.tuples(u32, u32).map(lambda t: ("ts", t)),
    st.just(("nop", None)),
)

IP_OPTION = st.one_of(
    st.just(("nop", None)),
    st.tuples(st.integers(0, 40), st.lists(addresses, min_size=1, max_size=4)).map(
        lambda v: ("rr", v)),
    st.tuples(st.integers(0, 40), st.lists(addresses, min_size=1, max_size=4)).map(
        lambda v: ("lsrr", v)),
    st.tuples(st.integers(0, 40), st.lists(addresses, min_size=1, max_size=4)).map(
        lambda v: ("ssrr", v)),
    st.tuples(st.integers(0, 40), st.integers(0, 15), u32).map(lambda v: ("ts", v)),
    u16.map(lambda v: ("ra", v)),
)

def _ip_option_size(option: tuple[str, Any]) -> int:
    kind, value = option
    if kind in ("rr", "lsrr", "ssrr"):
        return 3 + 4 * len(value[1])
    return {"nop": 1, "ra": 4, "ts": 8}[kind]


def _tcp_option_size(option: tuple[str, Any]) -> int:
    kind, value = option
    if kind == "sack":
        return 2 + 8 * len(value)
    return _TCP_OPTION_SIZE[kind]


_TCP_OPTION_SIZE = {"mss": 4, "wscale": 3, "sack_perm": 2, "ts": 10, "nop": 1}


def _fit(options: list[tuple[str, Any]], size: Callable[[tuple[str, Any]], int],
         end: bool) -> list[tuple[str, Any]]:
    """The options that fit the 40 bytes an IPv4 or TCP header has room for."""
    kept, room = [], 40
    for option in options:
        need = size(option)
        if need <= room:
            kept.append(option)
            room -= need
    if end and room:
        kept.append(("eol", None))
    return kept


@st.composite
def packet_values(draw: st.DrawFn) -> Values:
    tags: list[tuple[str, dict[str, Any]]] = []
    n_tags = draw(st.integers(0, 2))
    if n_tags == 2 and draw(st.booleans()):
        tags.append(("ieee8021ad", {}))
    while len(tags) < n_tags:
        tags.append(("vlan", {}))
    tags = [(kind, {"priority": draw(st.integers(0, 7)), "dei": draw(st.integers(0, 1)),
                    "id": draw(st.integers(0, 4095))}) for kind, _ in tags]
    transport = draw(st.sampled_from(["tcp", "udp"]))
    l4: dict[str, Any] = {"sport": draw(u16), "dport": draw(u16)}
    tcp_options: list[tuple[str, Any]] = []
    if transport == "tcp":
        l4.update(seq=draw(u32), ack=draw(u32), flags=draw(st.integers(0, 0xFFF)),
                  window=draw(u16), urgent_pointer=draw(u16))
        tcp_options = _fit(draw(st.lists(TCP_OPTION, max_size=6)),
                           _tcp_option_size, draw(st.booleans()))
    return Values(
        eth={"dst": draw(macs), "src": draw(macs)},
        tags=tags,
        ip={"dsfield": draw(u8), "id": draw(u16), "flags": draw(st.integers(0, 7)),
            "frag_offset": draw(st.one_of(st.just(0), st.integers(0, 0x1FFF))),
            "ttl": draw(u8), "src": draw(addresses), "dst": draw(addresses)},
        ip_options=_fit(draw(st.lists(IP_OPTION, max_size=4)),
                        _ip_option_size, draw(st.booleans())),
        transport=transport, l4=l4, tcp_options=tcp_options, payload=draw(payloads))


def pktlab_stack(v: Values, *, pad: bool = True) -> Stack:
    ip_options: list[Any] = []
    for kind, value in v.ip_options:
        if kind in ("nop", "eol"):
            ip_options.append(kind)
        elif kind in ("rr", "lsrr", "ssrr"):
            ip_options.append((kind, {"ptr": value[0], "items": value[1]}))
        elif kind == "ts":
            ip_options.append(("ts", {"ptr": value[0], "overflow": value[1], "flag": 0,
                                      "items": [value[2]]}))
        else:
            ip_options.append(("ra", value))
    tcp_options: list[Any] = []
    for kind, value in v.tcp_options:
        if value is None:
            tcp_options.append(kind)
        elif kind == "ts":
            tcp_options.append(("ts", {"tsval": value[0], "tsecr": value[1]}))
        else:
            tcp_options.append((kind, value))
    stack: Proto | Stack = eth(**v.eth) if pad else eth(**v.eth, padding=b"")
    for kind, values in v.tags:
        stack = stack / layer(kind, values)
    stack = stack / ip(**v.ip, options=ip_options)
    if v.transport == "tcp":
        stack = stack / tcp(**v.l4, options=tcp_options)
    else:
        stack = stack / udp(**v.l4)
    return stack / v.payload


_SCAPY_TCP_NAMES = {"mss": "MSS", "wscale": "WScale", "sack_perm": "SAckOK", "sack": "SAck",
                    "ts": "Timestamp", "nop": "NOP", "eol": "EOL"}


def scapy_packet(v: Values) -> Any:
    pkt = l2.Ether(**v.eth)  # layers are added with add_payload: "/" copies both sides
    for kind, values in v.tags:
        cls = l2.Dot1AD if kind == "ieee8021ad" else l2.Dot1Q
        pkt.add_payload(cls(prio=values["priority"], dei=values["dei"], vlan=values["id"]))
    options: list[Any] = []
    for kind, value in v.ip_options:
        if kind == "nop":
            options.append(inet.IPOption_NOP())
        elif kind == "eol":
            options.append(inet.IPOption_EOL())
        elif kind in ("rr", "lsrr", "ssrr"):
            route = {"rr": inet.IPOption_RR, "lsrr": inet.IPOption_LSRR,
                     "ssrr": inet.IPOption_SSRR}[kind]
            options.append(route(pointer=value[0], routers=value[1]))
        elif kind == "ts":
            options.append(inet.IPOption_Timestamp(pointer=value[0], oflw=value[1], flg=0,
                                                   timestamp=value[2]))
        else:
            options.append(inet.IPOption_Router_Alert(alert=value))
    fields = v.ip
    pkt.add_payload(inet.IP(tos=fields["dsfield"], id=fields["id"], flags=fields["flags"],
                            frag=fields["frag_offset"], ttl=fields["ttl"], src=fields["src"],
                            dst=fields["dst"], options=options))
    if v.transport == "tcp":
        l4 = v.l4
        tcp_options = []
        for kind, value in v.tcp_options:
            if kind == "sack":
                value = tuple(edge for block in value for edge in block)
            elif kind == "sack_perm":
                value = b""
            tcp_options.append((_SCAPY_TCP_NAMES[kind], value))
        pkt.add_payload(inet.TCP(sport=l4["sport"], dport=l4["dport"], seq=l4["seq"],
                                 ack=l4["ack"], reserved=l4["flags"] >> 9,
                                 flags=l4["flags"] & 0x1FF, window=l4["window"],
                                 urgptr=l4["urgent_pointer"], options=tcp_options,
                                 chksum=l4.get("checksum")))
    else:
        pkt.add_payload(inet.UDP(sport=v.l4["sport"], dport=v.l4["dport"],
                                 chksum=v.l4.get("checksum")))
    if v.payload:
        pkt.add_payload(Raw(v.payload))
    return pkt


def expected_pairs(v: Values) -> list[tuple[str, str]]:
    pairs = [("eth", "Ether")]
    pairs += [(kind, "Dot1AD" if kind == "ieee8021ad" else "Dot1Q") for kind, _ in v.tags]
    pairs.append(("ip", "IP"))
    if v.ip["frag_offset"] == 0:
        pairs.append((v.transport, v.transport.upper()))
    return pairs


def source_routed(v: Values) -> bool:
    return any(kind in ("lsrr", "ssrr") for kind, _ in v.ip_options)


def assert_agrees(result: Comparison, v: Values) -> None:
    # Scapy shows IPv4 option padding after an EOL as more EOL options.
    assert result.disagreements({"options-after-eol"}) == []
    assert result.pairs == expected_pairs(v)


def assert_values(frame: bytes, v: Values) -> None:
    """pktlab reads back the values both libraries were given."""
    packet = dissect(frame, 1, strict=True)
    assert packet["eth.src"] == v.eth["src"] and packet["eth.dst"] == v.eth["dst"]
    for name, value in v.ip.items():
        assert packet[f"ip.{name}"] == value, name
    if v.ip["frag_offset"] == 0:
        for name, value in v.l4.items():
            key = {"sport": "srcport", "dport": "dstport", "window": "window_size_value"}.get(
                name, name)
            assert packet[f"{v.transport}.{key}"] == value, name


@pytest.mark.oracle
@DIFF
@given(packet_values())
def test_differential_packets_pktlab_builds_parse_in_scapy_to_the_same_fields(
        v: Values) -> None:
    frame = pktlab_stack(v).build()
    assert_values(frame, v)
    assert_agrees(compare_with_scapy(frame, 1, strict=True), v)


@pytest.mark.oracle
@DIFF
@given(packet_values())
def test_differential_packets_scapy_builds_parse_in_pktlab_and_build_alike(v: Values) -> None:
    frame = bytes(scapy_packet(v))
    assert_values(frame, v)
    packet = dissect(frame, 1, strict=True)
    assert_agrees(compare_packets(packet, l2.Ether(frame)), v)
    # Both libraries build the same bytes from the same values.
    assert compare_build(pktlab_stack(v, pad=False), frame, 1).disagreements() == []


def test_transport_checksum_over_a_source_route_uses_the_final_destination() -> None:
    route = ("lsrr", {"ptr": 4, "items": ["10.9.9.9"]})
    ours = ip(id=1, src="10.0.0.1", dst="10.0.0.2", options=[route]) / tcp()
    theirs = inet.IP(src="10.0.0.1", dst="10.0.0.2",
                     options=[inet.IPOption_LSRR(pointer=4, routers=["10.9.9.9"])]) / inet.TCP()
    assert list(compare_build(ours, theirs)) == []


def test_tcp_option_budget_matches_the_codec() -> None:
    sizes = {"mss": ("mss", 1), "wscale": ("wscale", 1), "sack_perm": "sack_perm",
             "ts": ("ts", {"tsval": 1, "tsecr": 2}), "nop": "nop"}
    for kind, spec in sizes.items():
        assert len(TCP_OPTIONS.build([spec])) == _TCP_OPTION_SIZE[kind], kind


# ------------------------------------------------------------------------- Scapy stays out


def test_importing_pktlab_does_not_import_scapy() -> None:
    codecs = sorted(f"pktlab.wire.{p.stem}" for p in (ROOT / "pktlab" / "wire").glob("*.py")
                    if p.stem != "__init__")
    modules = ["pktlab", "pktlab.wire", *codecs]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'scapy' not in sys.modules, name\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_missing_oracle_fails_when_oracles_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scapy_that_is_not_there", None)
    monkeypatch.setattr(sys.modules[__name__], "REQUIRED", True)
    with pytest.raises(pytest.fail.Exception, match="PKTLAB_REQUIRE_ORACLES"):
        require_module("scapy_that_is_not_there")
    monkeypatch.setattr(sys.modules[__name__], "REQUIRED", False)
    with pytest.raises(pytest.skip.Exception):
        require_module("scapy_that_is_not_there")


def test_mismatch_text_names_layer_field_values_and_frame() -> None:
    mismatch = Mismatch("ip", "ip.ttl", 7, 8, b"\x01\x02", 1, "IP.ttl")
    assert str(mismatch) == ("ip: ip.ttl: pktlab 7 != Scapy 8 [IP.ttl]; frame (linktype 1) "
                             "0102")

"""Display filters (pktlab dissect -Y): Wireshark's language, case by case and against tshark.

The table tests run each filter over six packets built with pktlab's builder and compare the set
of packets it matches; the error tests check each mistake's message and column; the oracle test
runs ~40 filters over a merge of real captures and requires tshark's frame numbers exactly.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from corpus import frames
from oracles import REAL, corpus_files, missing, require_corpus, require_tshark

from pktlab.analysis.filter import (
    FilterError,
    FrameInfo,
    compile_filter,
    frame_protocols,
    known_names,
)
from pktlab.capture import CaptureRecord, open_capture
from pktlab.wire import (
    Packet,
    arp,
    dissect,
    eth,
    icmp,
    icmpv6,
    ip,
    ipv6,
    ipv6_hopopts,
    null,
    raw,
    sll,
    tcp,
    udp,
    vlan,
)

HTTP_GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"

STACKS = {
    "syn": eth(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    / ip(src="198.18.0.1", dst="198.19.0.2", flags_df=1)
    / tcp(sport=40000, dport=80, flags="S", mss=1460, wscale=7, sack_perm=True, ts=(100, 0)),
    "get": eth(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    / ip(src="198.18.0.1", dst="198.19.0.2")
    / tcp(sport=40000, dport=80, flags="PA", sack=[(1, 100), (200, 300)]) / HTTP_GET,
    "dns": eth(src="02:00:00:00:00:03", dst="ff:ff:ff:ff:ff:ff") / vlan(id=20)
    / ip(src="10.0.0.1", dst="10.0.0.2", options=["nop", ("ra", 0)])
    / udp(sport=5353, dport=53) / b"\x12\x34",
    # A port unreachable quoting the datagram that caused it: ip.src occurs twice.
    "unreach": eth() / ip(src="192.0.2.1", dst="198.18.0.1") / icmp(type=3, code=3)
    / ip(src="198.18.0.1", dst="203.0.113.9") / udp(sport=33434, dport=53),
    "ping6": eth() / ipv6(src="2001:db8::1", dst="fe80::1", hlim=255)
    / ipv6_hopopts(options=[("router_alert", 0)]) / icmpv6(type=128),
    "arp": eth(src="02:00:00:00:00:04", dst="ff-ff-ff-ff-ff-ff")
    / arp(hwsrc="02:00:00:00:00:04", psrc="10.0.0.4", pdst="10.0.0.1"),
}
NAMES = list(STACKS)


def frame_info(index: int, packet: Packet) -> FrameInfo:
    """Frame ``index + 1``, a quarter second after the one before."""
    seconds, nanoseconds = divmod(index * 250_000_000, 1_000_000_000)
    return FrameInfo(index + 1, f"{1_700_000_000 + seconds}.{nanoseconds:09d}",
                     f"{seconds}.{nanoseconds:09d}", len(packet.data), len(packet.data), packet)


def packets() -> list[tuple[str, Packet, FrameInfo]]:
    out = []
    for index, (name, stack) in enumerate(STACKS.items()):
        packet = dissect(stack.build(), strict=True)
        out.append((name, packet, frame_info(index, packet)))
    return out


def matching(text: str) -> set[str]:
    compiled = compile_filter(text)
    return {name for name, packet, frame in packets() if compiled.matches(packet, frame)}


ALL = set(NAMES)
TCP = {"syn", "get"}
IPV4 = {"syn", "get", "dns", "unreach"}

CASES: list[tuple[str, set[str]]] = [
    # presence of protocols, option layers and fields (a flag is present even when clear)
    ("tcp", TCP),
    ("udp", {"dns", "unreach"}),
    ("ip", IPV4),
    ("frame", ALL),
    ("data", {"get", "dns"}),
    ("vlan", {"dns"}),
    ("ipv6.hopopts", {"ping6"}),
    ("ipv6.opt", {"ping6"}),
    ("ip.options.nop", {"dns"}),
    ("ip.options.routeralert", {"dns"}),
    ("tcp.options.sack_perm", {"syn"}),
    ("tcp.options.eol", TCP),
    ("tcp.flags.syn", TCP),
    ("arp.isgratuitous", set()),
    ("not tcp", ALL - TCP),
    ("!arp && !ip", {"ping6"}),
    ("not not tcp", TCP),
    # integers: decimal, hex, octal, character constants, enumeration names
    ("tcp.port == 80", TCP),
    ("tcp.dstport == 0x50", TCP),
    ("tcp.srcport == 0116100", TCP),
    ("udp.dstport > '\\x20'", {"dns", "unreach"}),
    ("udp.port == 53", {"dns", "unreach"}),
    ("ip.proto == UDP", {"dns", "unreach"}),
    ('ip.proto == "icmp"', {"unreach"}),
    ("ip.proto in {TCP, UDP}", IPV4),
    ("eth.type == IPv4", {"syn", "get", "unreach"}),
    ("eth.type == 0x86dd", {"ping6"}),
    ("vlan.etype == 0x0800 and vlan.id == 20", {"dns"}),
    ('icmp.type == "Destination unreachable" and icmp.code == 3', {"unreach"}),
    ("icmpv6.type == 128", {"ping6"}),
    ("arp.opcode == 1", {"arp"}),
    ("ip.ttl == 64", IPV4),
    ("ip.hdr_len > 20", {"dns"}),
    ("ip.opt.ra == 0", {"dns"}),
    ("ipv6.opt.router_alert == 0", {"ping6"}),
    ("tcp.len == 0", {"syn"}),
    ("tcp.len > 0", {"get"}),
    ("udp.length > 8", {"dns"}),
    # several occurrences: == is any, != is all, === and !== the other two
    ("ip.src == 198.18.0.1", {"syn", "get", "unreach"}),
    ("ip.src != 198.18.0.1", {"dns"}),
    ("ip.src !== 198.18.0.1", {"dns", "unreach"}),
    ("ip.src ~= 198.18.0.1", {"dns", "unreach"}),
    ("ip.src === 198.18.0.1", {"syn", "get"}),
    ("not ip.src == 198.18.0.1", {"dns", "ping6", "arp"}),
    ("tcp.options.sack_le == 200", {"get"}),
    ("tcp.options.sack_le != 1", set()),
    ("tcp.options.sack_le > 150", {"get"}),
    ("all tcp.options.sack_le > 150", set()),
    ("all tcp.options.sack_le < 250", {"get"}),
    ("any tcp.port == 80", TCP),
    ("all tcp.port == 80", set()),
    ("all ip.ttl == 64", IPV4),
    ("count(ip.src) == 2", {"unreach"}),
    ("count(tcp.options.sack_le) == 2", {"get"}),
    ("ip.src#2 == 198.18.0.1", {"unreach"}),
    ("ip.src#1 == 198.18.0.1", TCP),
    ("udp.srcport#1 == 33434", {"unreach"}),
    # addresses: subnets, either direction, other spellings
    ("ip.src == 198.18.0.0/15", {"syn", "get", "unreach"}),
    ("ip.dst == 198.18.0.0/15", {"syn", "get", "unreach"}),
    ("ip.addr == 203.0.113.9", {"unreach"}),
    ("ip.src in {10.0.0.0/8, 192.0.2.1}", {"dns", "unreach"}),
    ("ip.src in {198.18.0.0 .. 198.18.0.255}", {"syn", "get", "unreach"}),
    ("ip.src > 198.18.0.0", {"syn", "get", "unreach"}),
    ("arp.src.proto_ipv4 == 10.0.0.0/24", {"arp"}),
    ("ipv6.src == 2001:db8::/32", {"ping6"}),
    ("ipv6.addr == FE80:0:0::1", {"ping6"}),
    ("ipv6.dst == fe80::/10", {"ping6"}),
    ("eth.dst == ff:ff:ff:ff:ff:ff", {"dns", "unreach", "ping6", "arp"}),
    ("eth.src == 02-00-00-00-00-01", TCP),
    ("eth.src == 0200.0000.0001", TCP),
    ("eth.addr == 02:00:00:00:00:04", {"arp"}),
    # field against field
    ("ip.src == ip.dst", {"unreach"}),
    ("ip.src != ip.dst", {"syn", "get", "dns"}),
    ("tcp.srcport > tcp.dstport", TCP),
    ("udp.srcport == udp.dstport", set()),
    ("frame.len == frame.cap_len", ALL),
    # Booleans, masks and slices
    ("tcp.flags.syn == 1", {"syn"}),
    ("tcp.flags.syn == True", {"syn"}),
    ("tcp.flags.syn == 0", {"get"}),
    ("tcp.flags.syn != 1", {"get"}),
    ("tcp.flags.syn != 0", {"syn"}),
    ('tcp.flags.push == "Set"', {"get"}),
    ("ip.flags.df == 1", {"syn"}),
    ("tcp.flags & 0x02", {"syn"}),
    ("tcp.flags & 0x12 == 0x02", {"syn"}),
    ("tcp[13] & 0x02", {"syn"}),
    ("tcp[13] == 02", {"syn"}),
    ("eth.src[0:3] == 02:00:00", {"syn", "get", "dns", "arp"}),
    ("eth.dst[-1] == ff", {"dns", "unreach", "ping6", "arp"}),
    ("eth.dst[4-5] == ff:ff", {"dns", "unreach", "ping6", "arp"}),
    ("ip.src[0] == c6", {"syn", "get", "unreach"}),
    ("frame[12:2] == 81:00", {"dns"}),
    # options
    ("tcp.options.mss_val == 1460", {"syn"}),
    ("tcp.options.mss_val >= 1000 and tcp.options.wscale.shift == 7", {"syn"}),
    ("tcp.options.timestamp.tsval == 100", {"syn"}),
    # sets
    ("tcp.port in {22, 80..90}", TCP),
    ("tcp.port not in {80}", ALL - TCP),
    ("udp.port in {53}", {"dns", "unreach"}),
    # bytes and strings
    ('tcp contains "GET"', {"get"}),
    ("tcp contains 47:45:54", {"get"}),
    ('frame contains "Host"', {"get"}),
    ("data.data contains 12:34", {"dns"}),
    ('data.data contains "\\x12\\x34"', {"dns"}),
    ('data.data contains "\\022\\x34"', {"dns"}),
    ('frame contains "\\xff\\xff\\xff\\xff\\xff\\xff"', {"dns", "unreach", "ping6", "arp"}),
    ('data.data matches "^get /"', {"get"}),
    ('data.data matches "(?-i)^get"', set()),
    ("len(data.data) == 2", {"dns"}),
    ('frame.protocols == "eth:ethertype:vlan:ethertype:ip:udp:data"', {"dns"}),
    ('frame.protocols == r"eth:ethertype:arp"', {"arp"}),
    ('frame.protocols contains "icmp"', {"unreach", "ping6"}),
    ('frame.protocols matches ":ip:icmp:ip:udp$"', {"unreach"}),
    ('lower(frame.protocols) contains "ARP"', set()),
    ('upper(frame.protocols) contains "ARP"', {"arp"}),
    # checksum status: pktlab's words or Wireshark's numbers
    ("ip.checksum.status == good", IPV4),
    ('tcp.checksum.status == "Good"', TCP),
    ("udp.checksum.status == 1", {"dns", "unreach"}),
    # frame fields
    ("frame.number == 3", {"dns"}),
    ("frame.number in {1..2, 6}", {"syn", "get", "arp"}),
    ("frame.time_relative >= 0.75", {"unreach", "ping6", "arp"}),
    ("frame.time_epoch < 1700000000.5", {"syn", "get"}),
    ("frame.len > 100", {"get"}),
    ("frame.cap_len <= 60", {"dns", "arp"}),
    # precedence: not binds tightest, then and, then or
    ("ip.dst == 198.19.0.2 || ip.dst == 10.0.0.2 && ip.ttl == 1", TCP),
    ("(ip.dst == 198.19.0.2 || ip.dst == 10.0.0.2) && ip.ttl == 64", {"syn", "get", "dns"}),
    ("tcp.port eq 80 and ip.src ne 10.0.0.1", TCP),
    ("not tcp or udp and not vlan", ALL - TCP),
    ("", ALL),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_filter_matches_wireshark_semantics(text: str, expected: set[str]) -> None:
    assert matching(text) == expected


ERRORS: list[tuple[str, int, str]] = [
    ("ip.src == 198.18.0.999", 11, "not a valid IPv4 address"),
    ("ip.src == 10.0.0.0/33", 20, "not a valid prefix length: expected 0 to 32"),
    ("ipv6.dst == 2001:db8::g", 13, "not a valid IPv6 address"),
    ("ipv6.dst == 2001:db8::/129", 24, "expected 0 to 128"),
    ("ip.src == www.example.com", 11, "pktlab does not resolve host names"),
    ("eth.src == 00:11:22", 12, "not a valid MAC address"),
    ('ip.src == "10.0.0.1"', 11, "ip.src is an IPv4 address: write it without quotes"),
    ("tcp.port == abc", 13, "not a valid integer"),
    ("ip.ttl == 64.0", 11, "not a valid integer"),
    ('ip.len == "84"', 11, "ip.len is an integer: it cannot be compared with a string"),
    ("ip.proto == bogus", 13, "'bogus' cannot be found among the possible values for ip.proto"),
    ("tcp.flags.syn == true", 18, "not a Boolean"),
    ("frame.time_relative > abc", 23, "not a valid time"),
    ("tcp.checksum.status == fine", 24, "not a checksum status"),
    ("data.data == 0x100", 14, "not a valid byte string"),
    ("ip.srcc == 1.2.3.4", 1, "unknown field or protocol 'ip.srcc'; did you mean ip.src"),
    ("tcp.flags.sin == 1", 1, "did you mean tcp.flags.syn"),
    ("tcp.srcport == tcp.dstportt", 16, "did you mean tcp.dstport"),
    ("x", 1, "unknown field or protocol 'x'"),
    ("10.0.0.1", 1, "a test needs a field or protocol, not the value 10.0.0.1"),
    ('"abc"', 1, "a test needs a field or protocol, not a value"),
    ("80 == tcp.port", 1, "the left side of == must be a field or function"),
    ('frame.protocols == "abc', 20, 'unterminated string: missing closing "'),
    ('frame.protocols == "\\q"', 21, "invalid escape \\q"),
    ('frame.protocols == "\\x"', 21, "invalid escape \\x: expected hex digits"),
    ('data.data contains "\\400"', 21, "a byte is at most \\377"),
    ("frame.len > 'ab'", 13, "a character constant holds exactly one character"),
    ("tcp.port == 80 or", 18, "found the end of the filter"),
    ("(tcp", 5, "expected ')'"),
    ("()", 2, "expected a field, protocol or value, found ')'"),
    ("tcp.port 80", 10, "unexpected '80' (join tests with 'and' or 'or')"),
    ("tcp.port = 80", 10, "use == to compare"),
    ("tcp.port | udp.port", 10, "use || or 'or'"),
    ("tcp.port == 80 @", 16, "unexpected character '@'"),
    ("ip.src == eth.src", 11, "ip.src and eth.src are not of compatible types"),
    ("udp.port == tcp", 13, "udp.port and tcp are not of compatible types"),
    ("tcp.port contains 80", 10, "contains cannot be used on tcp.port, an integer"),
    ("frame.protocols matches abc", 25, "the right side of matches must be a quoted string"),
    ('frame.protocols matches "("', 25, "invalid regular expression"),
    ('eth.src ~ "ab"', 9, "matches needs a string, byte string or protocol"),
    ("tcp.port in {}", 14, "a set needs at least one value"),
    ("tcp.port in {80 443}", 17, "separate the members of a set with commas"),
    ("tcp.port in {80, 443", 21, "expected ',' or '}' in the set"),
    ("tcp.port in {80..}", 18, "expected the end of the range after .."),
    ("tcp.port in 80", 13, "expected '{' to open the set"),
    ("ip.dst in {1.2.3.4..10.0.0.0/8}", 12, "a range cannot have a subnet as an end"),
    ("ip.src > 10.0.0.0/8", 10, "a subnet can only be tested with ==, != or in"),
    ("tcp.port[0] == 01", 9, "only byte strings, addresses, strings and protocols can be sliced"),
    ("eth.src[a:b] == 01", 8, "not a valid slice"),
    ("frame[0:0] == 00", 6, "a slice length must be at least 1"),
    ("eth.src[0:3 == 00", 8, "unterminated slice: missing ]"),
    ("frame.protocols & 0x02", 17, "& needs an integer field or a byte slice"),
    ("tcp.flags & ab:cd", 13, "the mask of & must be an integer"),
    ("tcp.port + 1 == 2", 10, "arithmetic is not supported"),
    ("tcp.port - 1 == 2", 10, "arithmetic is not supported"),
    ("ip.src == ${ip.dst}", 11, "field references (${...}) are not supported"),
    ("foo(tcp.port)", 1, "unknown function foo()"),
    ("len(tcp.port) == 2", 1, "len() needs a byte string, string, address or protocol"),
    ('upper(ip.src) == "x"', 1, "upper() needs a string field"),
    ("ip.src#x == 1.2.3.4", 8, "expected a layer number (1, 2, ...) after #"),
    ("ip.src#[1-2] == 1.2.3.4", 8, "layer ranges (#[...]) are not supported"),
    ("all tcp.port", 13, "expected a comparison after 'all'"),
]


@pytest.mark.parametrize(("text", "column", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_mistakes_are_errors_naming_the_column(text: str, column: int, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(text)
    assert message in caught.value.message
    assert caught.value.column == column


def test_error_shows_the_filter_with_a_caret_under_the_column() -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter("ip.src == 198.18.0.999")
    assert str(caught.value) == ("ip.src == 198.18.0.999\n"
                                 "          ^ not a valid IPv4 address")


def test_fields_lists_the_names_a_filter_reads() -> None:
    compiled = compile_filter("tcp.port == 80 and ip.addr == 10.0.0.0/8 or frame.len > 3 "
                              "and tcp[13] & 0x02 or count(tcp.options.sack_le) > 1")
    assert compiled.fields == {"tcp.port", "ip.addr", "frame.len", "tcp",
                               "tcp.options.sack_le"}


def test_known_names_include_derived_frame_and_option_names() -> None:
    names = set(known_names())
    assert {"ip.addr", "ipv6.addr", "eth.addr", "tcp.port", "udp.port", "frame.protocols",
            "frame.time_relative", "tcp.checksum.status", "tcp.checksum_calculated",
            "tcp.options.mss_val", "ip.options.nop", "tcp.len", "ipv6.opt"} <= names


def test_without_frame_info_lengths_come_from_the_packet_and_the_rest_is_absent() -> None:
    packet = dissect(STACKS["syn"].build())
    assert compile_filter(f"frame.len == {len(packet.data)}").matches(packet)
    assert compile_filter(f"frame.cap_len == {len(packet.data)}").matches(packet)
    assert not compile_filter("frame.number").matches(packet)
    assert compile_filter("not frame.time_relative").matches(packet)
    assert compile_filter('frame.protocols == "eth:ethertype:ip:tcp"').matches(packet)


def test_frame_info_from_a_capture_record() -> None:
    data = STACKS["arp"].build()[:42]  # a snapshot length cut the padding off
    record = CaptureRecord(data, 60, 1_700_000_001_250_000_000, 1, number=7)
    packet = dissect(data, 1, orig_len=60)
    info = FrameInfo.from_record(record, 1_700_000_000_000_000_000, packet)
    assert (info.number, info.time_epoch, info.time_relative, info.len, info.cap_len) == (
        7, "1700000001.250000000", "1.250000000", 60, 42)
    assert info.protocols == "eth:ethertype:arp"
    assert compile_filter("frame.len > frame.cap_len && frame.time_relative == 1.25").matches(
        packet, info)
    assert FrameInfo.from_record(record).time_relative == "0.000000000"


def test_time_relative_may_be_given_as_a_float() -> None:
    packet = dissect(STACKS["syn"].build())
    info = FrameInfo(1, "1.0", 0.1, 74, 74)
    assert compile_filter("frame.time_relative == 0.1").matches(packet, info)


@pytest.mark.parametrize(("stack", "linktype", "expected"), [
    (eth() / ip() / tcp(), 1, "eth:ethertype:ip:tcp"),
    (eth() / vlan() / vlan() / ipv6() / udp() / b"x", 1,
     "eth:ethertype:vlan:ethertype:vlan:ethertype:ipv6:udp:data"),
    (eth() / arp(), 1, "eth:ethertype:arp"),
    (sll() / ip() / udp(), 113, "sll:ethertype:ip:udp"),
    (null() / ip() / udp(), 0, "null:ip:udp"),
    (raw() / ipv6() / tcp(), 101, "raw:ipv6:tcp"),
    (ip() / icmp(type=11) / ip() / udp(), 228, "ip:icmp:ip:udp"),
], ids=["tcp", "double-vlan", "arp", "sll", "null", "raw", "ipv4-linktype-quoted"])
def test_frame_protocols_follow_tsharks_naming(stack: object, linktype: int,
                                               expected: str) -> None:
    packet = dissect(stack.build(), linktype)  # type: ignore[attr-defined]
    assert frame_protocols(packet) == expected


def test_port_and_address_filters_leave_option_lists_undecoded() -> None:
    frame = (eth() / ip(options=["nop", ("ra", 0)]) / tcp(mss=1460) / b"x").build()
    packet = dissect(frame)
    assert compile_filter("tcp.port == 80 and ip.src == 127.0.0.1 and tcp.len == 1").matches(
        packet)
    assert all(layer._pending is not None for layer in packet.layers[1:3])


def test_option_filters_decode_only_the_layers_that_can_carry_them() -> None:
    frame = (eth() / ip(options=["nop", ("ra", 0)]) / tcp(mss=1460) / b"x").build()
    packet = dissect(frame)
    assert compile_filter("tcp.options.mss_val == 1460").matches(packet)
    ip_layer, tcp_layer = packet.layers[1:3]
    assert tcp_layer._pending is None
    assert ip_layer._pending is not None


def test_filters_never_raise_on_damaged_packets() -> None:
    compiled = [compile_filter(text) for text, _ in CASES]
    damaged: list[Packet] = []
    for stack in STACKS.values():
        data = stack.build()
        damaged.extend(dissect(data[:cut]) for cut in range(0, len(data), 3))
        damaged.extend(dissect(data, linktype) for linktype in (0, 101, 113, 228, 229))
    for path in corpus_files("malformed"):
        damaged.extend(dissect(f.data, f.linktype, orig_len=f.orig_len) for f in frames(path))
    for packet in damaged:
        for one in compiled:
            assert one.matches(packet) in (True, False)


def test_every_field_the_dissectors_produce_can_be_filtered() -> None:
    """Each name found in the corpus is known, and a name that sits in option children or is
    filled in by deferred decoding is looked up there (else filters would miss it)."""
    require_corpus()
    from pktlab.analysis.filter import _catalogue

    catalogue = _catalogue()
    wrong: dict[str, str] = {}

    def check(top: str, fields: dict[str, object], eager: set[str], child: bool) -> None:
        for name in fields:
            info = catalogue.get(name)
            if info is None:
                wrong[name] = f"unknown (in {top})"
            elif (child or name not in eager) and (
                    not info.deep or (info.owners is not None and top not in info.owners)):
                wrong[name] = f"found in {top}'s options or deferred fields, looked up at top"

    def walk(top: str, layer: object, child: bool) -> None:
        assert hasattr(layer, "children")
        for sub in layer.children:
            if sub.name not in catalogue:
                wrong[sub.name] = "unknown layer"
            check(top, sub.fields, set(), True)
            walk(top, sub, True)

    for kind in ("real", "malformed"):
        for path in corpus_files(kind):
            for f in frames(path):
                for layer in dissect(f.data, f.linktype, orig_len=f.orig_len).layers:
                    eager = set(layer._fields)
                    check(layer.name, layer.fields, eager, False)
                    walk(layer.name, layer, False)
    assert wrong == {}


# ------------------------------------------------------------------------ tshark cross-check

ORACLE_FILES = [
    "gopacket-http-get-ethernet.pcap",
    "chrissanders-icmp-traceroute.pcapng",
    "pcapplusplus-ipv4-options.pcap",
    "pcapplusplus-vlan-single-double.pcap",
    "libpcap-arp-icmp-icmpv6-gateway.pcap",
    "tcpdump-icmpv6-mld-ra-hopbyhop.pcap",
    "chrissanders-tcp-dupack-sack.pcapng",
    "zeek-icmp-destunreach-port-udp.pcap",
]

# Fields named as tshark names them; none that tshark computes differently (frame.protocols of
# application payloads, reassembled fragments) or that pktlab leaves out.
ORACLE_FILTERS = [
    "tcp", "udp", "icmp", "arp", "ipv6", "vlan", "ipv6.hopopts", "ipv6.opt", "tcp.options.nop",
    "ip.src == 10.1.1.1",
    "ip.addr == 10.1.1.0/24",
    "ip.src != 192.168.100.138",
    "ip.src !== 192.168.100.138",
    "ip.dst === 192.168.100.138",
    "ip.src#2 == 192.168.100.138",
    "count(ip.src) == 2",
    "ip.src == ip.dst",
    "ip.src in {10.1.1.1 .. 10.1.1.5, 192.168.0.0/16}",
    "tcp.port in {80, 443, 1000..2000}",
    "tcp.flags.syn == 1 and tcp.flags.ack == 0",
    "tcp.flags & 0x12 == 0x12",
    "tcp[13] & 0x02",
    "tcp.options.mss_val == 1460",
    "tcp.options.sack_le > 1",
    "all tcp.options.sack_le > 1",
    "tcp.len > 0 and not tcp.port == 80",
    "tcp.window_size_value < 1000",
    "ip.ttl <= 1 or ip.ttl === 64",
    "icmp.type in {0, 8}",
    "icmp.type not in {0, 8}",
    'arp.opcode == reply or ipv6.nxt == "ICMPv6" or ip.proto == "IGMP"',
    'icmpv6.type == "Multicast Listener Report Message v2"',
    "ip.proto == UDP",
    "udp.port == 53",
    "eth.addr == 00:12:80:4b:c0:7f",
    "eth.src[0:3] == 00-12-80",
    "eth.type == 0x0800",
    "vlan.id == 20",
    "ipv6.src == fe80::/10",
    "ipv6.addr == ff02::16",
    "icmpv6.type == 143",
    "arp.src.proto_ipv4 == 10.20.30.41",
    "ip.dsfield.dscp != 0",
    "ip.dsfield.dscp !== 0",
    "ip.hdr_len > 20 && ip.options.routeralert",
    "frame.len > 100 and frame.cap_len < 200",
    "frame.number in {1..5, 20}",
    "frame.time_relative >= 1.5",
    'frame.protocols contains "icmp"',
    'frame.protocols == "eth:ethertype:arp"',
    'frame contains "HTTP"',
    'tcp contains "GET"',
]


@pytest.fixture(scope="module")
def oracle_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[
        Packet, FrameInfo]]]:
    require_tshark()
    require_corpus()
    mergecap = shutil.which("mergecap")
    if mergecap is None:
        missing("mergecap")
    assert mergecap is not None
    merged = tmp_path_factory.mktemp("filter") / "merged.pcapng"
    # One merged file: one tshark run per filter instead of one per filter and file.
    subprocess.run([mergecap, "-a", "-F", "pcapng", "-w", str(merged),
                    *(str(REAL / name) for name in ORACLE_FILES)], check=True)
    decoded: list[tuple[Packet, FrameInfo]] = []
    with open_capture(merged) as reader:
        first: int | None = None
        for record in reader:
            first = record.timestamp_ns if first is None else first
            packet = dissect(record.data, record.linktype, orig_len=record.orig_len)
            decoded.append((packet, FrameInfo.from_record(record, first, packet)))
    return merged, decoded


@pytest.mark.oracle
@pytest.mark.slow
@pytest.mark.parametrize("text", ORACLE_FILTERS)
def test_matching_frames_equal_tsharks(
        text: str, oracle_capture: tuple[Path, list[tuple[Packet, FrameInfo]]]) -> None:
    merged, decoded = oracle_capture
    compiled = compile_filter(text)
    ours = [frame.number for packet, frame in decoded if compiled.matches(packet, frame)]
    result = subprocess.run([require_tshark(), "-n", "-r", str(merged), "-Y", text,
                             "-T", "fields", "-e", "frame.number"],
                            capture_output=True, text=True, check=True)
    theirs = [int(number) for number in result.stdout.split()]
    assert ours == theirs

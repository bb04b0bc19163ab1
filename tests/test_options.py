"""The generic type-length-value option codec (pktlab.wire._options), tested directly.

The four protocols' codecs are the four length rules: TCP and IPv4 count the whole option, IPv6
excludes the type and length bytes, NDP counts units of 8 bytes. A small codec declared here
covers what none of them declares (a sanity rule that finds an error). Every parse is checked
to rebuild byte for byte through ``specs()``, malformed and unknown options included.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pktlab.wire  # noqa: F401  (registers every codec)
from pktlab.wire._model import Header, enum_field, raw, uint
from pktlab.wire._options import OptionCodec, OptionKind, data_field
from pktlab.wire._packet import Layer, Severity
from pktlab.wire.icmpv6 import NDP_OPTIONS
from pktlab.wire.ipv4_options import IPV4_OPTIONS
from pktlab.wire.ipv6 import IPV6_OPTIONS
from pktlab.wire.tcp import TCP_OPTIONS

CODECS = {"tcp": TCP_OPTIONS, "ip": IPV4_OPTIONS, "ipv6": IPV6_OPTIONS, "icmpv6": NDP_OPTIONS}


def parse(codec: OptionCodec, data: bytes) -> list[Layer]:
    parent = Layer("parent", None, 0, len(data), {})
    codec.parse(parent, data, 0, len(data))
    return parent.children


def rebuilt(codec: OptionCodec, children: list[Layer]) -> bytes:
    return codec.build(codec.specs(children, {}))


def messages(children: list[Layer], severity: Severity | None = None) -> list[str]:
    return [p.message for c in children for p in c.problems
            if severity is None or p.severity is severity]


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# ----------------------------------------------------------------------------- length rules

# (codec, option bytes, the one option's layer, its total length in bytes, a field and value)
LENGTH_RULES = [
    ("tcp", "0204 05b4", "tcp.options.mss", 4, ("tcp.option_len", 4)),
    ("ip", "9404 0000", "ip.options.routeralert", 4, ("ip.opt.len", 4)),
    ("ipv6", "0502 0000", "ipv6.opt", 4, ("ipv6.opt.length", 2)),
    ("icmpv6", "0501 0000 000005dc", "icmpv6.opt", 8, ("icmpv6.opt.length", 1)),
]


@pytest.mark.parametrize("protocol, hex_option, layer, total, field", LENGTH_RULES,
                         ids=[r[0] for r in LENGTH_RULES])
def test_each_protocol_counts_the_length_its_own_way(
        protocol: str, hex_option: str, layer: str, total: int, field: tuple[str, int]) -> None:
    codec = CODECS[protocol]
    (child,) = parse(codec, h(hex_option))
    assert (child.name, child.offset, child.length) == (layer, 0, total)
    assert child.fields[field[0]] == field[1]
    assert child.problems == []
    assert codec.total_length(child.fields[codec.length_field.name]) == total
    assert codec.length_value(total) == field[1]
    assert rebuilt(codec, [child]) == h(hex_option)


@pytest.mark.parametrize("protocol, hex_options, names", [
    ("tcp", "01 01 0204 05b4", ["tcp.options.nop", "tcp.options.nop", "tcp.options.mss"]),
    ("ip", "01 9404 0000", ["ip.options.nop", "ip.options.routeralert"]),
    ("ipv6", "00 00 0100", ["ipv6.opt"] * 3),
])
def test_one_byte_kinds_have_no_length_byte(protocol: str, hex_options: str,
                                            names: list[str]) -> None:
    codec = CODECS[protocol]
    children = parse(codec, h(hex_options))
    assert [c.name for c in children] == names
    assert children[0].length == 1 and codec.length_field.name not in children[0].fields
    assert rebuilt(codec, children) == h(hex_options)


def test_ndp_has_no_one_byte_kinds_a_zero_type_needs_a_length() -> None:
    (child,) = parse(NDP_OPTIONS, h("0001 000000000000"))
    assert child.fields["icmpv6.opt.type"] == 0 and child.length == 8
    assert child.fields["icmpv6.unknown_data"] == bytes(6)


# ------------------------------------------------------------------------- end of the list

@pytest.mark.parametrize("protocol, hex_options, padding, note", [
    ("tcp", "01 00 0000", b"\0\0", False),
    ("tcp", "00 0007", b"\0\x07", True),
    ("ip", "00 000000", bytes(3), False),
    ("ip", "0000 00 07", b"\0\0\x07", True),
])
def test_end_of_list_takes_the_rest_as_padding(protocol: str, hex_options: str,
                                               padding: bytes, note: bool) -> None:
    codec = CODECS[protocol]
    data = h(hex_options)
    children = parse(codec, data)
    eol = children[-1]
    assert eol.fields[codec.kind_field.name] == 0
    assert eol.fields[f"{protocol}.options.padding"] == padding
    assert eol.offset + eol.length == len(data)  # the padding is part of the EOL's span
    assert any("non-zero bytes after end of option list" in m
               for m in messages(children, Severity.NOTE)) == note
    assert not any(c.malformed for c in children)
    assert rebuilt(codec, children) == data


def test_ipv6_has_no_end_of_list_pad1_repeats() -> None:
    children = parse(IPV6_OPTIONS, bytes(3))
    assert len(children) == 3 and all(c.length == 1 for c in children)


# ---------------------------------------------------------------------- broken lengths

# (codec, option bytes, message, the length kept raw from where it breaks)
BROKEN = [
    ("tcp", "02", "no room for the length byte"),
    ("tcp", "0200 05b4", "length 0 is too small"),
    ("tcp", "0201 05b4", "length 1 is too small"),
    ("tcp", "0208 05b4", "length 8 runs past the end of the options (4 bytes left"),
    ("tcp", "01 6310 00", "option 99: length 16 runs past the end"),
    ("ip", "0701 0000", "length 1 is too small"),
    ("ip", "0727 0400", "runs past the end of the options"),
    ("ipv6", "05", "no room for the length byte"),
    ("ipv6", "0509 0000 0000", "length 11 runs past the end"),
    ("icmpv6", "0100 aabbccddeeff", "option length 0: nodes must silently discard"),
    ("icmpv6", "0102 aabbccddeeff", "length 16 runs past the end"),
]


@pytest.mark.parametrize("protocol, hex_options, message", BROKEN,
                         ids=[f"{b[0]}-{b[1]}" for b in BROKEN])
def test_broken_lengths_stop_parsing_and_keep_the_rest_raw(protocol: str, hex_options: str,
                                                           message: str) -> None:
    codec = CODECS[protocol]
    data = h(hex_options)
    children = parse(codec, data)
    last = children[-1]
    assert last.header is None and last.malformed
    assert any(message in m for m in messages([last], Severity.ERROR)), messages([last])
    assert codec.reference in last.problems[0].message
    assert last.offset + last.length == len(data)
    assert bytes(last.fields[last.name + ".data"]) == data[last.offset:]
    assert rebuilt(codec, children) == data


def test_ipv6_length_zero_is_legal() -> None:
    (child,) = parse(IPV6_OPTIONS, h("1e00"))
    assert child.length == 2 and child.fields["ipv6.opt.unknown"] == b""
    assert not child.malformed


# (codec, option bytes, message): a known kind with a length its declaration forbids
WRONG_LENGTH = [
    ("tcp", "0205 05b4 00", "length 5, expected 4"),
    ("tcp", "0403 00", "length 3, expected 2"),
    ("ip", "0702", "expected at least 3"),
    ("ip", "9405 0000 00", "length 5, expected 4"),
    ("ipv6", "c203 000000", "length 5, expected 6"),
    ("icmpv6", "0301 000000000000", "length 8, expected 32"),
]


@pytest.mark.parametrize("protocol, hex_options, message", WRONG_LENGTH,
                         ids=[f"{b[0]}-{b[1]}" for b in WRONG_LENGTH])
def test_wrong_length_for_a_known_kind_keeps_the_option_raw(protocol: str, hex_options: str,
                                                            message: str) -> None:
    codec = CODECS[protocol]
    data = h(hex_options)
    children = parse(codec, data)
    (child,) = children
    assert child.header is not None and child.malformed
    assert any(message in m for m in messages(children, Severity.ERROR))
    # kind and length as found; the rest (after type and length) kept as it was
    assert child.fields[codec.kind_field.name] == data[0]
    assert child.fields[codec.length_field.name] == data[1]
    assert bytes(child.fields[child.name + ".data"]) == data[2:]
    assert codec.specs(children, {}) == [data]
    assert rebuilt(codec, children) == data


# ------------------------------------------------------------------------- unknown kinds

# (codec, option bytes, data field name, data, or None where Wireshark shows none)
UNKNOWN = [
    ("tcp", "1e04 0081", "tcp.options.unknown.payload", b"\x00\x81"),  # MPTCP stays raw
    ("tcp", "6302", "tcp.options.unknown.payload", None),  # tshark shows no empty payload
    ("ip", "9e04 abcd", "ip.options.unknown.data", b"\xab\xcd"),
    ("ip", "9e02", "ip.options.unknown.data", b""),
    ("ipv6", "1e03 616263", "ipv6.opt.unknown", b"abc"),
    ("ipv6", "1e00", "ipv6.opt.unknown", b""),  # as Wireshark shows it, even empty
    ("icmpv6", "2801 616263646566", "icmpv6.unknown_data", b"abcdef"),
]


@pytest.mark.parametrize("protocol, hex_option, name, value", UNKNOWN,
                         ids=[f"{u[0]}-{u[1]}" for u in UNKNOWN])
def test_unknown_kinds_keep_kind_length_and_data(protocol: str, hex_option: str, name: str,
                                                 value: bytes | None) -> None:
    codec = CODECS[protocol]
    data = h(hex_option)
    (child,) = parse(codec, data)
    assert child.header is codec.unknown and not child.malformed
    assert child.fields[codec.kind_field.name] == data[0]
    assert child.fields[codec.length_field.name] == data[1]
    assert child.fields.get(name) == value
    assert [p.severity for p in child.problems] == [Severity.NOTE]
    assert f"unknown option kind {data[0]} kept raw" in child.problems[0].message
    assert codec.specs([child], {}) == [(data[0], value or b"")]
    assert rebuilt(codec, [child]) == data


# ------------------------------------------------------------------------ repeated items

def test_items_fill_the_option() -> None:
    data = h("0512 00000001 00000002 00000003 00000004") + h("0000")
    children = parse(TCP_OPTIONS, data)
    sack = children[0]
    assert [(c.fields["tcp.options.sack_le"], c.fields["tcp.options.sack_re"])
            for c in sack.children] == [(1, 2), (3, 4)]
    assert [c.offset for c in sack.children] == [2, 10]
    assert rebuilt(TCP_OPTIONS, children) == data


@pytest.mark.parametrize("protocol, hex_option, items, message", [
    ("tcp", "050c 00000001 00000002 0000", 1, "2 bytes left over after 1 items of 8 bytes"),
    ("ip", "440e 0501 00003470 49422002 0105", 1, "2 bytes left over after 1 items of 8 bytes"),
    ("icmpv6", "1902 0000 0000003c 20010db800000000", 0,
     "8 bytes left over after 0 items of 16 bytes"),
])
def test_items_with_bytes_left_over_are_an_error_and_rebuild_raw(
        protocol: str, hex_option: str, items: int, message: str) -> None:
    codec = CODECS[protocol]
    data = h(hex_option)
    (child,) = parse(codec, data)
    assert len(child.children) == items
    assert any(message in m for m in messages([child], Severity.ERROR))
    assert bytes(child.fields[child.name + ".data"]) == data[2:]
    assert rebuilt(codec, [child]) == data


def test_item_layout_may_depend_on_the_fixed_fields() -> None:
    # IPv4 time stamp: flag 0 holds 4-byte stamps, flag 1 (address, stamp) pairs.
    only = parse(IPV4_OPTIONS, h("440c 0500 00000001 00000002"))[0]
    pairs = parse(IPV4_OPTIONS, h("440c 0501 c6120001 00000005"))[0]
    assert [c.fields for c in only.children] == [{"ip.opt.time_stamp": 1},
                                                 {"ip.opt.time_stamp": 2}]
    assert pairs.children[0].fields == {"ip.opt.time_stamp_addr": "198.18.0.1",
                                        "ip.opt.time_stamp": 5}
    spec = ("ts", {"flag": 1, "items": [("198.18.0.1", 5)]})
    assert IPV4_OPTIONS.build([spec]) == h("440c 0501 c6120001 00000005")


# ------------------------------------------------------------------------------ data fields

@pytest.mark.parametrize("protocol, hex_option, name, value", [
    ("ipv6", "0100", "ipv6.opt.padn", b""),  # shown even when empty, as Wireshark does
    ("ipv6", "0102 0000", "ipv6.opt.padn", b"\0\0"),
    ("icmpv6", "0401 000000000000", "icmpv6.opt.redirected_packet", b""),
    ("icmpv6", "0402 000000000000 6000000000003a40", "icmpv6.opt.redirected_packet",
     h("6000000000003a40")),
    ("icmpv6", "0102 aabbccddeeff 0000000000000000", "icmpv6.opt.padding", bytes(8)),
    ("icmpv6", "0101 aabbccddeeff", "icmpv6.opt.padding", None),  # none: not shown
    ("tcp", "2206 aabbccdd", "tcp.options.tfo.cookie", h("aabbccdd")),
    ("ip", "820b 000000000000000000", "ip.options.security.data", bytes(9)),
])
def test_trailing_bytes_carry_the_declared_name(protocol: str, hex_option: str, name: str,
                                                value: bytes | None) -> None:
    codec = CODECS[protocol]
    data = h(hex_option)
    (child,) = parse(codec, data)
    assert not child.malformed, messages([child])
    assert child.fields.get(name) == value
    assert rebuilt(codec, [child]) == data


def test_fast_open_request_and_cookie() -> None:
    request, cookie = parse(TCP_OPTIONS, h("2202 2206 09090909"))
    assert request.name == cookie.name == "tcp.options.tfo"
    assert request.fields["tcp.options.tfo.request"] == 1
    assert "tcp.options.tfo.cookie" not in request.fields
    assert cookie.fields["tcp.options.tfo.cookie"] == h("09090909")
    assert "tcp.options.tfo.request" not in cookie.fields
    assert TCP_OPTIONS.build(["tfo", ("tfo", h("09090909"))]) == h("2202 2206 09090909")
    (odd,) = parse(TCP_OPTIONS, h("2205 090909"))
    assert any("4 to 16 bytes" in m for m in messages([odd], Severity.WARNING))


# --------------------------------------------------------------------------------- building

BUILD = [
    # raw bytes, bare names
    ("tcp", [b"\x01\x01"], "0101"),
    ("tcp", ["nop", "sack_perm", "eol"], "01 0402 00"),
    ("ipv6", ["pad1"], "00"),
    # one value for the one field a caller gives
    ("tcp", [("mss", 1460)], "0204 05b4"),
    ("ip", [("ra", 0)], "9404 0000"),
    ("ipv6", [("tel", 4)], "0401 04"),
    ("icmpv6", [("mtu", 1500)], "0501 0000 000005dc"),  # the reserved field is skipped
    ("icmpv6", [("src_linkaddr", "02:00:00:00:00:01")], "0101 020000000001"),
    # a mapping, by keyword or full name; fields left out are zero ("::" for addresses)
    ("tcp", [("ts", {"tsval": 1, "tsecr": 2})], "080a 00000001 00000002"),
    ("tcp", [("ts", {"tcp.options.timestamp.tsval": 1})], "080a 00000001 00000000"),
    ("icmpv6", [("prefix_info", {"prefix_length": 64})],
     "0304 40 00 00000000 00000000 00000000" + "00" * 16),
    # a list of items, or items in a mapping; defaults fill the rest
    ("tcp", [("sack", [(1, 2)])], "050a 00000001 00000002"),
    ("ip", [("rr", ["192.0.2.1"])], "0707 04 c0000201"),  # pointer 4 by default
    ("ip", [("lsrr", {"ptr": 8, "items": ["192.0.2.1"]})], "8307 08 c0000201"),
    ("ip", [("ts", {"items": [7]})], "4408 0500 00000007"),  # pointer 5 by default
    ("icmpv6", [("rdnss", {"rdnss_lifetime": 60, "items": ["2001:db8::53"]})],
     "1903 0000 0000003c 20010db8000000000000000000000053"),
    # bytes: the data after the fixed part, for known and unknown kinds
    ("ip", [("security", bytes(9))], "820b" + "00" * 9),
    ("ipv6", [("padn", bytes(3))], "0103 000000"),
    ("ipv6", [("padn", {"padn": bytes(1)})], "0101 00"),
    ("ipv6", [(0x1E, b"abc")], "1e03 616263"),
    ("tcp", [(30, h("0081"))], "1e04 0081"),
    ("tcp", [(99, b"")], "6302"),
    ("tcp", [("tfo", {"cookie": h("01020304")})], "2206 01020304"),
    ("icmpv6", [(40, b"abcdef")], "2801 616263646566"),
    ("icmpv6", [(40, b"ab")], "2801 616200000000"),  # padded to whole units of 8
    ("icmpv6", [("redirected_header", {"data": b"\x60"})], "0402 000000000000 6000000000000000"),
    # a known kind by number
    ("tcp", [(2, 1460)], "0204 05b4"),
    # a length given explicitly is kept, however wrong
    ("tcp", [("mss", {"mss_val": 1, "option_len": 9})], "0209 0001"),
    ("ipv6", [(0x1E, {"length": 9, "data": b"abc"})], "1e09 616263"),
]


@pytest.mark.parametrize("protocol, specs, expected", BUILD,
                         ids=[f"{b[0]}-{b[1]!r}"[:60] for b in BUILD])
def test_build_from_each_spec_form(protocol: str, specs: list[Any], expected: str) -> None:
    assert CODECS[protocol].build(specs) == h(expected)


@pytest.mark.parametrize("protocol, spec, error, match", [
    ("tcp", "foo", ValueError, "unknown option 'foo'; known: eol, mss"),
    ("tcp", ("ts", 5), ValueError, "give a mapping of"),
    ("tcp", ("mss", {"nonsense": 1}), KeyError, "no field 'nonsense'"),
    ("tcp", ("mss", 70000), ValueError, "out of range"),
    ("tcp", ("nop", b"x"), ValueError, "one-byte option carries no data"),
    ("tcp", ("mss", {"items": [1]}), ValueError, "carries no list of items"),
    ("tcp", (99, bytes(254)), ValueError, "cannot be encoded"),
    ("ipv6", (0x1E, bytes(256)), ValueError, "cannot be encoded"),
    ("tcp", (300, b""), ValueError, "out of range"),
])
def test_build_errors_name_the_problem(protocol: str, spec: Any, error: type[Exception],
                                       match: str) -> None:
    with pytest.raises(error, match=match):
        CODECS[protocol].build([spec])


# ---------------------------------------------------------------- rules found after parsing

def test_an_error_found_by_a_protocol_rule_keeps_the_option_raw() -> None:
    data = h("c204 00000001")  # a jumbo payload length of 1: not a jumbogram
    (child,) = parse(IPV6_OPTIONS, data)
    assert not child.malformed
    IPV6_OPTIONS.error(child, data, "jumbo payload length 1", "ipv6.opt.jumbo")
    assert child.malformed and child.fields["ipv6.opt.data"] == data[2:]
    assert IPV6_OPTIONS.specs([child], {}) == [data]


TOY_KIND = Header("toy.opt", "Toy option", [
    enum_field("toy.opt.kind", 0, 8, "Kind", {}), uint("toy.opt.len", 8, 8, "Length"),
    raw("toy.opt.reserved", 16, 8, "Reserved"), uint("toy.opt.value", 24, 8, "Value"),
])
TOY_UNKNOWN = Header("toy.unknown", "Toy unknown", [
    enum_field("toy.opt.kind", 0, 8, "Kind", {}), uint("toy.opt.len", 8, 8, "Length")])


def _toy_check(layer: Layer) -> None:
    if layer.fields["toy.opt.value"] == 0xFF:
        layer.error("value 255 is reserved", "toy.opt.value")


TOY = OptionCodec(
    "toy",
    [OptionKind(7, "value", TOY_KIND, check=_toy_check, defaults={"value": 3},
                data=data_field(TOY_KIND, "toy.opt.tail", "Trailing bytes"))],
    kind_field=TOY_KIND.by_name["toy.opt.kind"],
    length_field=TOY_KIND.by_name["toy.opt.len"],
    unknown=OptionKind(-1, "unknown", TOY_UNKNOWN),
    one_byte={},
    total_length=lambda value: value * 4,
    length_value=lambda total: total // 4,
    reference="toy section 1",
    align=4,
)


def test_an_error_found_by_a_declared_check_keeps_the_option_raw() -> None:
    data = h("0702 00ff abcd0000")
    (child,) = parse(TOY, data)
    assert child.malformed and "value 255 is reserved" in messages([child])
    assert child.fields["toy.opt.tail"] == h("abcd0000")
    assert child.fields["toy.opt.data"] == data[2:]
    assert TOY.specs([child], {}) == [data]
    assert rebuilt(TOY, [child]) == data


def test_declared_defaults_data_and_units_in_a_new_protocol() -> None:
    assert TOY.build(["value"]) == h("0701 0003")  # the default value; reserved is zero
    assert TOY.build([("value", {"value": 9, "tail": b"x"})]) == h("0702 0009 78000000")
    (child,) = parse(TOY, h("0702 0009 78000000"))
    assert child.fields["toy.opt.tail"] == h("78000000")
    assert TOY.build([(9, b"ab")]) == h("0901 6162")
    # No data field declared for the unknown kind: its data is "<layer>.data".
    assert parse(TOY, h("0901 6162"))[0].fields["toy.unknown.data"] == b"ab"


# ------------------------------------------------------------------------- round trips

@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(CODECS)), st.binary(max_size=48))
def test_any_bytes_parse_without_raising_and_rebuild_exactly(protocol: str,
                                                            data: bytes) -> None:
    codec = CODECS[protocol]
    children = parse(codec, data)
    assert sum(c.length for c in children) == len(data)
    for child in children:
        child.as_dict()
    assert rebuilt(codec, children) == data

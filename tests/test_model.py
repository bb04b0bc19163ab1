"""The field model: declarations compile to one struct, decode and encode agree, errors speak."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pktlab.wire import BUILDERS, BuildError, Header, Kind, Proto, dissect, eth, ip, tcp
from pktlab.wire._model import enum_field, flag, ipv4, mac, uint
from pktlab.wire.ipv4 import IPV4
from pktlab.wire.tcp import TCP


def test_fixed_header_is_one_struct() -> None:
    assert IPV4.struct.format == "!BBHHHBBH4s4s"
    assert TCP.struct.format == "!HHIIHHHH"
    assert IPV4.size == 20 and TCP.size == 20


def test_sub_fields_are_decoded_from_their_parent() -> None:
    header = Header("t", "test", [
        uint("t.flags", 0, 8, "flags"),
        flag("t.flags.hi", 0, "top bit"),
        uint("t.flags.lo", 4, 4, "low nibble"),
    ])
    assert header.decode(b"\x8a", 0) == {"t.flags": 0x8A, "t.flags.hi": 1, "t.flags.lo": 0xA}
    assert header.parent_of["t.flags.lo"].name == "t.flags"


def test_scaled_fields_show_wireshark_units() -> None:
    values = IPV4.decode(bytes.fromhex("4600003c000120b9" "4006000a" "c6120001c6120002"), 0)
    assert values["ip.hdr_len"] == 24  # IHL 6 words
    assert values["ip.frag_offset"] == 185
    assert values["ip.flags.mf"] == 1


@pytest.mark.parametrize("fields, message", [
    ([uint("x.a", 0, 8, ""), uint("x.b", 16, 8, "")], "starts at bit 16, expected bit 8"),
    ([uint("x.a", 0, 4, "")], "not whole bytes"),
    ([uint("x.a", 0, 4, ""), mac("x.m", 4, ""), uint("x.b", 52, 4, "")], "byte aligned"),
    ([uint("x.a", 0, 8, ""), uint("x.a", 0, 8, "")], "declared twice"),
])
def test_bad_declarations_are_rejected_at_import(fields: list, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(TypeError, match=message):
        Header("x", "bad", fields)


def test_values_are_range_checked_with_the_field_named() -> None:
    with pytest.raises(BuildError, match=r"ip\.ttl.*out of range 0\.\.255"):
        ip(ttl=256).build()
    with pytest.raises(BuildError, match=r"ip\.hdr_len.*not a multiple of 4"):
        ip(hdr_len=22).build()
    with pytest.raises(ValueError, match=r"ip\.src.*not a valid IPV4 address"):
        (ip(src="198.18.0.999") / tcp()).build()


def test_unknown_keyword_lists_the_fields_that_exist() -> None:
    with pytest.raises(BuildError, match=r"ip has no field 'tll'.*ttl"):
        ip(tll=3)


def test_unknown_layer_is_an_error() -> None:
    with pytest.raises(BuildError, match="unknown layer 'tpc'"):
        Proto("tpc")


def test_enumerations_accept_names_and_show_them() -> None:
    header = Header("e", "enum", [enum_field("e.kind", 0, 8, "kind", {1: "one", 2: "two"})])
    f = header.by_name["e.kind"]
    assert f.to_wire("two") == 2
    assert f.describe(2) == "2 (two)" and f.describe(9) == "9 (unknown)"
    assert IPV4.by_name["ip.proto"].describe(6) == "6 (TCP)"


def test_building_keywords_derive_from_names() -> None:
    assert IPV4.short(IPV4.by_name["ip.flags.df"]) == "flags_df"
    assert TCP.field("sport").name == "tcp.srcport"
    assert TCP.field("tcp.flags.syn").name == "tcp.flags.syn"


def test_sub_field_set_on_top_of_parent() -> None:
    frame = (eth() / ip(flags_df=1, flags_mf=1) / tcp(flags="S")).build()
    packet = dissect(frame, strict=True)
    assert packet["ip.flags"] == 0b011 and packet["ip.flags.df"] == 1


def test_every_field_has_a_meaning_and_a_wireshark_style_name() -> None:
    for name, builder in BUILDERS.items():
        for header in builder.headers:
            for f in header.fields:
                assert f.meaning, f"{f.name} has no meaning"
                assert f.name == f.name.lower() or f.kind is Kind.BYTES, f.name
                assert "." in f.name, f"{name}: {f.name} is not a display-filter name"


@given(st.integers(0, 2**32 - 1), st.integers(0, 255), st.ip_addresses(v=4))
def test_decode_inverts_encode(ident: int, ttl: int, addr: object) -> None:
    values = {"ip.version": 4, "ip.hdr_len": 20, "ip.dsfield": 0, "ip.len": 20,
              "ip.id": ident & 0xFFFF, "ip.flags": 2, "ip.frag_offset": 0, "ip.ttl": ttl,
              "ip.proto": 6, "ip.checksum": 0, "ip.src": str(addr), "ip.dst": "198.18.0.1"}
    raw = IPV4.encode(IPV4.wire_values(values))
    decoded = IPV4.decode(raw, 0)
    for name, value in values.items():
        assert decoded[name] == value
    assert ipv4("z.a", 0, "").kind is Kind.IPV4

"""The Internet checksum: RFC 1071's worked example, pseudo-headers, and the modulo shortcut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pktlab.wire.checksum import (
    internet_checksum,
    is_valid,
    ones_complement_sum,
    pseudo_header_v4,
    pseudo_header_v6,
)


def reference_sum(data: bytes) -> int:
    """RFC 1071 section 4.1's loop: add 16-bit words, fold the carries."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def test_rfc1071_numerical_example() -> None:
    # RFC 1071 section 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert ones_complement_sum(data) == 0xDDF2
    assert internet_checksum(data) == 0x220D


def test_known_ipv4_header_checksum() -> None:
    # A textbook header (Wikipedia's IPv4 checksum example), checksum b861.
    header = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert internet_checksum(header) == 0xB861
    assert is_valid(header[:10] + b"\xb8\x61" + header[12:])


def test_all_zero_and_negative_zero() -> None:
    assert ones_complement_sum(b"\0\0\0\0") == 0
    assert internet_checksum(b"\0\0") == 0xFFFF
    # A non-zero message whose words sum to a multiple of 0xffff has sum 0xffff, never 0.
    assert ones_complement_sum(b"\xff\xff") == 0xFFFF
    assert ones_complement_sum(b"\x80\x00\x7f\xff") == 0xFFFF


@given(st.binary(max_size=3000))
def test_modulo_shortcut_matches_rfc1071_loop(data: bytes) -> None:
    assert ones_complement_sum(data) == reference_sum(data)


@given(st.binary(min_size=2, max_size=64).filter(lambda b: len(b) % 2 == 0), st.binary(max_size=64))
def test_parts_sum_like_their_concatenation(first: bytes, second: bytes) -> None:
    assert ones_complement_sum(first, second) == reference_sum(first + second)


@given(st.binary(max_size=200))
def test_checksum_makes_message_valid(data: bytes) -> None:
    if len(data) % 2:
        data += b"\0"
    message = data + internet_checksum(data).to_bytes(2, "big")
    assert is_valid(message) or not any(message)


def test_pseudo_headers_layout() -> None:
    v4 = pseudo_header_v4(bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]), 6, 40)
    assert v4 == bytes.fromhex("c6120001c61200020006" "0028")
    v6 = pseudo_header_v6(b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x01",
                          b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x02", 17, 16)
    assert len(v6) == 40 and v6[32:] == bytes.fromhex("00000010000000" "11")

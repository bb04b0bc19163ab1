"""The Internet checksum (RFC 1071) and the pseudo-headers of RFC 768, RFC 793/9293 and RFC 8200.

The one's-complement sum of 16-bit words equals the whole message, read as one big-endian
integer, modulo 0xFFFF (because 2**16 is congruent to 1 modulo 0xFFFF). ``int.from_bytes`` and a
single modulo run in C, so a 1500-byte segment is summed in about a microsecond without a Python
loop over words. The one wrinkle: a non-zero message whose sum is a multiple of 0xFFFF has the
one's-complement sum 0xFFFF ("negative zero"), never 0.
"""

from __future__ import annotations

import struct

_PSEUDO4 = struct.Struct("!4s4sxBH")
_PSEUDO6 = struct.Struct("!16s16sI3xB")


def ones_complement_sum(*parts: bytes) -> int:
    """The 16-bit one's-complement sum of the parts, as if concatenated.

    Every part but the last must have an even length (true of all pseudo-headers and headers).
    """
    total = 0
    nonzero = False
    for part in parts:
        if len(part) & 1:
            part = bytes(part) + b"\0"
        number = int.from_bytes(part, "big")
        if number:
            nonzero = True
            total += number % 0xFFFF
    total %= 0xFFFF
    if total == 0 and nonzero:
        return 0xFFFF
    return total


def internet_checksum(*parts: bytes) -> int:
    """The checksum to put in a header whose checksum field is zero in ``parts``."""
    return 0xFFFF - ones_complement_sum(*parts)


def is_valid(*parts: bytes) -> bool:
    """True when the parts, checksum field included, sum to 0xFFFF (RFC 1071 section 3)."""
    return ones_complement_sum(*parts) == 0xFFFF


def pseudo_header_v4(src: bytes, dst: bytes, protocol: int, length: int) -> bytes:
    """RFC 9293 section 3.1 / RFC 768: source, destination, zero, protocol, TCP/UDP length."""
    return _PSEUDO4.pack(src, dst, protocol, length & 0xFFFF)


def pseudo_header_v6(src: bytes, dst: bytes, protocol: int, length: int) -> bytes:
    """RFC 8200 section 8.1: source, destination, upper-layer length (32 bits), next header."""
    return _PSEUDO6.pack(src, dst, length & 0xFFFFFFFF, protocol)

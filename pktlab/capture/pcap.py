"""Classic libpcap capture files: a streaming reader and a writer.

Implements the format of draft-ietf-opsawg-pcap (sections 4-6):

* File header (section 4): the magic number gives byte order and timestamp resolution
  (0xA1B2C3D4 microseconds, 0xA1B23C4D nanoseconds, either byte order); version 2.4; SnapLen;
  and the "LinkType and additional information" word, whose low 16 bits are the link type,
  bits 16-25 are reserved, bit 26 (P) says bits 28-31 hold the FCS length in 16-bit words.
* Packet records (section 5): 16-byte header (seconds, fraction, captured length, original
  length, all unsigned 32-bit) followed by the captured bytes.

Reading is incremental and in constant memory. Damage ends iteration with a ``CaptureError``
after every good record before it was delivered; oddities libpcap accepts (a record longer than
SnapLen, a fraction of a second that is not below one second) are delivered and reported in
``reader.warnings`` instead.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from os import PathLike
from typing import BinaryIO, Final

from ._base import MAX_RECORD, CaptureError, _open_source, _ReaderBase, _Stream, _WriterBase
from ._record import CaptureRecord, build_record

MAGIC_MICROSECONDS: Final = 0xA1B2C3D4
MAGIC_NANOSECONDS: Final = 0xA1B23C4D
# Alexey Kuznetzov's "modified pcap" (extra per-record fields); recognised only to say so.
_MAGIC_KUZNETZOV: Final = 0xA1B2CD34

_FILE_HEADER_LEN: Final = 24
_RECORD_HEADER_LEN: Final = 16
_NS: Final = 1_000_000_000

# Bit layout of the LinkType word (draft-ietf-opsawg-pcap section 4, libpcap's LT_* macros).
_LINKTYPE_MASK: Final = 0x0000FFFF
_RESERVED_MASK: Final = 0x03FF0000
_FCS_PRESENT: Final = 0x04000000
_FCS_SHIFT: Final = 28

_HEADER_BODY = {"<": struct.Struct("<HHiIII"), ">": struct.Struct(">HHiIII")}
_RECORD = {"<": struct.Struct("<IIII"), ">": struct.Struct(">IIII")}

Source = str | bytes | PathLike[str] | PathLike[bytes] | BinaryIO


def _pcap_magic(first4: bytes) -> tuple[str, bool] | None:
    """(struct byte-order prefix, nanosecond) for a pcap magic number, else None."""
    for order in ("<", ">"):
        (magic,) = struct.unpack(order + "I", first4)
        if magic == MAGIC_MICROSECONDS:
            return order, False
        if magic == MAGIC_NANOSECONDS:
            return order, True
    return None


def is_pcap_magic(first4: bytes) -> bool:
    """Whether four bytes are a classic pcap magic number (any byte order or resolution)."""
    return len(first4) == 4 and _pcap_magic(first4) is not None


def _is_kuznetzov(first4: bytes) -> bool:
    return first4 in (
        _MAGIC_KUZNETZOV.to_bytes(4, "little"),
        _MAGIC_KUZNETZOV.to_bytes(4, "big"),
    )


class PcapReader(_ReaderBase):
    """Iterate over the records of a classic pcap file.

    ``source`` is a path or a binary file object (read forward only, so pipes work). The file
    header is parsed at once, so a file that is not pcap fails here with ``CaptureError``;
    damage in the records raises ``CaptureError`` from iteration after the good records.

    Header metadata: ``version`` ((major, minor)), ``snaplen``, ``linktype`` (the low 16 bits
    of the LinkType word), ``linktype_field`` (the whole word), ``fcs_len`` (octets of FCS at
    the end of each frame, or None when the file does not say), ``nanosecond`` and
    ``byte_order`` ("little" or "big").
    """

    format = "pcap"

    def __init__(self, source: Source) -> None:
        fileobj, owns = _open_source(source)
        self._setup(_Stream(fileobj), fileobj, owns)

    @classmethod
    def _from_stream(cls, stream: _Stream, fileobj: BinaryIO, owns: bool) -> PcapReader:
        reader = cls.__new__(cls)
        reader._setup(stream, fileobj, owns)
        return reader

    def _setup(self, stream: _Stream, fileobj: BinaryIO, owns: bool) -> None:
        super().__init__(stream, fileobj, owns)
        try:
            self._read_header()
        except CaptureError:
            self.close()
            raise

    def _read_header(self) -> None:
        stream = self._stream
        have = stream.fill(_FILE_HEADER_LEN)
        if have == 0:
            raise self._fail("empty file", 0)
        if have < 4:
            raise self._fail(
                f"pcap: file ends in the middle of the file header at byte 0 "
                f"(need {_FILE_HEADER_LEN} bytes, have {have})",
                0,
            )
        first4 = stream.buf[stream.pos : stream.pos + 4]
        kind = _pcap_magic(first4)
        if kind is None:
            if _is_kuznetzov(first4):
                raise self._fail(
                    "pcap: file header at byte 0: Kuznetzov's modified pcap format "
                    "(magic 0xa1b2cd34) is not supported",
                    0,
                )
            raise self._fail(f"bad magic 0x{first4.hex()} at byte 0: not a pcap or pcapng file", 0)
        order, self.nanosecond = kind
        self.byte_order = "little" if order == "<" else "big"
        if have < _FILE_HEADER_LEN:
            raise self._fail(
                f"pcap: file ends in the middle of the file header at byte 0 "
                f"(need {_FILE_HEADER_LEN} bytes, have {have})",
                0,
            )
        major, minor, _thiszone, _sigfigs, snaplen, field = _HEADER_BODY[order].unpack_from(
            stream.buf, stream.pos + 4
        )
        stream.pos += _FILE_HEADER_LEN
        self.version = (major, minor)
        if major != 2:
            raise self._fail(
                f"pcap: file header at byte 0: unsupported pcap version {major}.{minor}", 0
            )
        if minor != 4:
            self._warn(f"file header: pcap version 2.{minor} (expected 2.4); read as libpcap does")
        # Files before 2.3 stored the two lengths the other way round; 2.3 files may or may
        # not have (libpcap's sf-pcap.c "lengths_swapped"), so there swap only when needed.
        self._swap_lengths = 2 if minor < 3 else 1 if minor == 3 else 0
        self.snaplen: int = snaplen
        self.linktype_field: int = field
        self.linktype: int = field & _LINKTYPE_MASK
        self.fcs_len: int | None = (
            ((field >> _FCS_SHIFT) & 0xF) * 2 if field & _FCS_PRESENT else None
        )
        if field & _RESERVED_MASK:
            self._warn(
                f"file header: link-type field 0x{field:08x} has reserved bits "
                f"0x{field & _RESERVED_MASK:08x} set; ignored, as the pcap spec requires"
            )
        self._struct = _RECORD[order]

    def _iter_records(self) -> Generator[CaptureRecord, None, None]:
        stream = self._stream
        unpack_from = self._struct.unpack_from
        frac_scale = 1 if self.nanosecond else 1000
        frac_limit = _NS // frac_scale
        linktype = self.linktype
        snaplen = self.snaplen or MAX_RECORD  # SnapLen 0 means "not recorded"
        swap = self._swap_lengths
        header_len = _RECORD_HEADER_LEN
        number = 0
        # The buffer and position live in locals; the stream only hears of them on a refill.
        buf, pos, base = stream.buf, stream.pos, stream.base
        while True:
            if len(buf) - pos < header_len:
                stream.pos = pos
                have = stream.fill(header_len)
                buf, pos, base = stream.buf, stream.pos, stream.base
                if have == 0:
                    return
                if have < header_len:
                    raise self._fail(
                        f"pcap: record {number + 1}: file ends in the middle of a record header "
                        f"at byte {base + pos} (need {header_len} bytes, have {have})",
                        base + pos,
                    )
            ts_sec, ts_frac, caplen, orig_len = unpack_from(buf, pos)
            number += 1
            if swap and (swap == 2 or caplen > orig_len):
                caplen, orig_len = orig_len, caplen
            if caplen > MAX_RECORD:
                raise self._fail(
                    f"pcap: record {number} at byte {base + pos}: captured length {caplen} "
                    f"exceeds the {MAX_RECORD}-byte limit",
                    base + pos,
                )
            end = pos + header_len + caplen
            if end > len(buf):
                stream.pos = pos
                need = header_len + caplen
                have = stream.fill(need)
                buf, pos, base = stream.buf, stream.pos, stream.base
                if have < need:
                    raise self._fail(
                        f"pcap: record {number}: file ends in the middle of a record at byte "
                        f"{base + pos} (need {need} bytes, have {have})",
                        base + pos,
                    )
                end = pos + need
            if caplen > snaplen or ts_frac >= frac_limit or caplen > orig_len:
                self._note_oddities(number, base + pos, caplen, orig_len, ts_frac)
            self._count = number
            yield build_record(
                buf[pos + header_len : end],
                orig_len,
                ts_sec * _NS + ts_frac * frac_scale,
                linktype,
                0,
                (),
                number,
                base + pos,
            )
            pos = end

    def _note_oddities(
        self, number: int, offset: int, caplen: int, orig_len: int, ts_frac: int
    ) -> None:
        where = f"record {number} at byte {offset}"
        if self.snaplen and caplen > self.snaplen:
            self._warn(
                f"{where}: captured length {caplen} exceeds the file's snaplen {self.snaplen} "
                f"(delivered, as libpcap does)"
            )
        unit, limit = ("nanosecond", _NS) if self.nanosecond else ("microsecond", 1_000_000)
        if ts_frac >= limit:
            self._warn(
                f"{where}: {unit} field {ts_frac} is not below {limit}; "
                f"the excess is carried into the seconds"
            )
        if caplen > orig_len:
            self._warn(f"{where}: captured length {caplen} exceeds original length {orig_len}")


class PcapWriter(_WriterBase):
    """Write a classic pcap file (little-endian, version 2.4) to a binary file object.

    The file header is written at once. ``nanosecond`` selects the 0xA1B23C4D magic; with
    microseconds, timestamps are truncated to whole microseconds (toward the past). Nothing is
    silently cut: data longer than ``snaplen`` is a ``ValueError``. The writer does not close
    ``fileobj``; ``flush()`` or leaving a ``with`` block flushes it.
    """

    def __init__(
        self,
        fileobj: BinaryIO,
        linktype: int = 1,
        snaplen: int = MAX_RECORD,
        nanosecond: bool = True,
    ) -> None:
        if not 0 <= linktype <= _LINKTYPE_MASK:
            raise ValueError(f"linktype {linktype} does not fit in 16 bits")
        if not 0 < snaplen <= 0xFFFFFFFF:
            raise ValueError(f"snaplen {snaplen} is not a positive 32-bit value")
        self._file = fileobj
        self.linktype = linktype
        self.snaplen = snaplen
        self.nanosecond = nanosecond
        self.written = 0
        """Records written so far."""
        self._record = _RECORD["<"]
        magic = MAGIC_NANOSECONDS if nanosecond else MAGIC_MICROSECONDS
        fileobj.write(
            struct.pack("<I", magic) + _HEADER_BODY["<"].pack(2, 4, 0, 0, snaplen, linktype)
        )

    def write(
        self,
        data: bytes | bytearray | memoryview,
        timestamp_ns: int,
        orig_len: int | None = None,
    ) -> None:
        """Append one record; ``orig_len`` defaults to ``len(data)`` (nothing truncated)."""
        caplen = len(data)
        if caplen > self.snaplen or caplen > MAX_RECORD:
            raise ValueError(
                f"{caplen} bytes of data exceed the snaplen {min(self.snaplen, MAX_RECORD)}; "
                "slice the data and pass orig_len"
            )
        if orig_len is None:
            orig_len = caplen
        elif not caplen <= orig_len <= 0xFFFFFFFF:
            raise ValueError(f"orig_len {orig_len} is not between {caplen} and 2**32-1")
        seconds, fraction = divmod(timestamp_ns, _NS)
        if not 0 <= seconds <= 0xFFFFFFFF:
            raise ValueError(
                f"timestamp {timestamp_ns} ns is outside pcap's unsigned 32-bit seconds"
            )
        if not self.nanosecond:
            fraction //= 1000
        self._file.write(self._record.pack(seconds, fraction, caplen, orig_len))
        self._file.write(data)
        self.written += 1


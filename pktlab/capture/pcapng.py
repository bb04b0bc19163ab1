"""pcapng capture files: a streaming reader and a writer.

Implements draft-ietf-opsawg-pcapng:

* Section 3.1 general block structure (type, total length repeated at the end, 32-bit
  alignment) and section 3.5 options (opt_endofopt, opt_comment).
* Section 4.1 Section Header Block: byte-order magic, version 1.0 (1.2 read as 1.0, as the
  draft requires), shb_hardware/os/userappl. A file may hold several sections, each with its
  own byte order; interfaces are numbered afresh in each section.
* Section 4.2 Interface Description Block: link type, SnapLen, if_name, if_description, if_os,
  if_hardware, if_tsresol (power of 10 or, with the top bit set, power of 2), if_fcslen and
  if_tsoffset.
* Section 4.3 Enhanced Packet Block, 4.4 Simple Packet Block (interface 0 of its section,
  captured length min(original length, SnapLen, room in the block), no timestamp), 4.5 Name
  Resolution Block (IPv4, IPv6, EUI-48 and EUI-64 records), 4.6 Interface Statistics Block,
  and Appendix A's obsolete Packet Block (type 2).
* Custom blocks (section 5.2, types 0x00000BAD and 0x40000BAD), Decryption Secrets Blocks and
  any unknown block type are skipped and counted in ``reader.skipped_blocks``.

Timestamps become integer nanoseconds with integer arithmetic only: ticks * 10**9 //
units_per_second (exact whenever the resolution divides a nanosecond, floored otherwise, the
same rounding Wireshark uses), plus if_tsoffset seconds.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Generator
from dataclasses import dataclass
from os import PathLike
from typing import BinaryIO, Final

from ._base import MAX_RECORD, CaptureError, _open_source, _ReaderBase, _Stream, _WriterBase
from ._record import CaptureRecord, build_record

BLOCK_SHB: Final = 0x0A0D0D0A
BLOCK_IDB: Final = 0x00000001
BLOCK_PB: Final = 0x00000002
BLOCK_SPB: Final = 0x00000003
BLOCK_NRB: Final = 0x00000004
BLOCK_ISB: Final = 0x00000005
BLOCK_EPB: Final = 0x00000006
BLOCK_DSB: Final = 0x0000000A
BLOCK_CUSTOM: Final = 0x00000BAD
BLOCK_CUSTOM_NOCOPY: Final = 0x40000BAD

SHB_MAGIC: Final = bytes.fromhex("0a0d0d0a")
_BOM_LITTLE: Final = bytes.fromhex("4d3c2b1a")
_BOM_BIG: Final = bytes.fromhex("1a2b3c4d")

MAX_BLOCK: Final = MAX_RECORD + 65_536
"""Largest block read into memory: a maximal packet plus generous room for options.

Larger NRB, ISB, custom and unknown blocks are skipped without being buffered; larger SHB,
IDB and packet blocks are errors, because reading on without them would give wrong results.
"""

MAX_NAMES: Final = 100_000
"""Name-resolution entries kept in ``PcapngReader.names``; more are counted as a warning."""

_NS: Final = 1_000_000_000
_OPT_ENDOFOPT: Final = 0
_OPT_COMMENT: Final = 1

_BLOCK_NAMES: Final = {
    BLOCK_SHB: "SHB",
    BLOCK_IDB: "IDB",
    BLOCK_PB: "PB",
    BLOCK_SPB: "SPB",
    BLOCK_NRB: "NRB",
    BLOCK_ISB: "ISB",
    BLOCK_EPB: "EPB",
    BLOCK_DSB: "DSB",
    BLOCK_CUSTOM: "CB",
    BLOCK_CUSTOM_NOCOPY: "DCB",
}
_MIN_BLOCK_LEN: Final = {
    BLOCK_SHB: 28,
    BLOCK_IDB: 20,
    BLOCK_PB: 32,
    BLOCK_SPB: 16,
    BLOCK_ISB: 24,
    BLOCK_EPB: 32,
}
# Blocks whose loss changes nothing about the packets, so an oversized one can be skipped.
_SKIPPABLE: Final = frozenset({BLOCK_NRB, BLOCK_ISB})
_NRB_ADDRESS_LEN: Final = {1: 4, 2: 16, 3: 6, 4: 8}


class _Layout:
    """Precompiled structs for one byte order."""

    def __init__(self, order: str) -> None:
        self.order = order
        self.u32 = struct.Struct(order + "I")
        self.u64 = struct.Struct(order + "Q")
        self.i64 = struct.Struct(order + "q")
        self.header = struct.Struct(order + "II")  # block type, total length
        self.shb = struct.Struct(order + "HHq")  # major, minor, section length
        self.idb = struct.Struct(order + "HHI")  # link type, reserved, snaplen
        self.epb = struct.Struct(order + "IIIII")  # interface, ts high, ts low, caplen, len
        self.pb = struct.Struct(order + "HHIIII")  # interface, drops, ts high/low, caplen, len
        self.isb = struct.Struct(order + "III")  # interface, ts high, ts low
        self.option = struct.Struct(order + "HH")  # code, length (also NRB records)
        self.ts_pair = struct.Struct(order + "II")


_LAYOUTS: Final = {"<": _Layout("<"), ">": _Layout(">")}

Source = str | bytes | PathLike[str] | PathLike[bytes] | BinaryIO


@dataclass(frozen=True, slots=True)
class Section:
    """One Section Header Block."""

    index: int
    byte_order: str
    version: tuple[int, int]
    section_length: int | None
    hardware: str | None
    os: str | None
    userappl: str | None
    comments: tuple[str, ...]
    file_offset: int


@dataclass(frozen=True, slots=True)
class Interface:
    """One Interface Description Block.

    ``local_id`` is the interface ID inside its section (what EPBs refer to); the interface's
    position in ``PcapngReader.interfaces`` is what ``CaptureRecord.interface`` holds.
    ``tsresol`` is the raw if_tsresol byte and ``ts_units_per_second`` what it means.
    ``fcs_len`` is the if_fcslen value, in octets: the draft's text says bits, but its example
    (4) and every implementation (Wireshark, libpcap) use octets.
    """

    section: int
    local_id: int
    linktype: int
    snaplen: int
    name: str | None = None
    description: str | None = None
    os: str | None = None
    hardware: str | None = None
    tsresol: int = 6
    ts_units_per_second: int = 1_000_000
    tsoffset: int = 0
    fcs_len: int | None = None
    comments: tuple[str, ...] = ()
    file_offset: int = 0

    def timestamp_ns(self, ticks: int) -> int:
        """Nanoseconds since the epoch for a timestamp of ``ticks`` units of this interface."""
        return ticks * _NS // self.ts_units_per_second + self.tsoffset * _NS


@dataclass(frozen=True, slots=True)
class InterfaceStatistics:
    """One Interface Statistics Block; None for counters the block does not carry."""

    interface: int
    timestamp_ns: int
    starttime_ns: int | None = None
    endtime_ns: int | None = None
    received: int | None = None
    dropped: int | None = None
    filter_accepted: int | None = None
    os_dropped: int | None = None
    delivered: int | None = None
    comments: tuple[str, ...] = ()
    file_offset: int = 0


def _text(value: bytes) -> str:
    # Strings are UTF-8 and not zero-terminated, but some writers add a NUL anyway, and some
    # (the PcapPlusPlus corpus file) leave garbage after it; Wireshark stops at the NUL too.
    return value.split(b"\0", 1)[0].decode("utf-8", "replace")


def _block_name(btype: int) -> str:
    return _BLOCK_NAMES.get(btype) or f"type 0x{btype:08x}"


class PcapngReader(_ReaderBase):
    """Iterate over the packets (EPB, SPB and obsolete PB) of a pcapng file.

    ``source`` is a path or a binary file object, read forward only. The first Section Header
    Block is parsed at once; later blocks as iteration reaches them, so ``interfaces``,
    ``names``, ``statistics``, ``sections`` and ``comments`` (section comments) fill in as
    the file is read and are complete once iteration ends.
    """

    format = "pcapng"

    def __init__(self, source: Source) -> None:
        fileobj, owns = _open_source(source)
        self._setup(_Stream(fileobj), fileobj, owns)

    @classmethod
    def _from_stream(cls, stream: _Stream, fileobj: BinaryIO, owns: bool) -> PcapngReader:
        reader = cls.__new__(cls)
        reader._setup(stream, fileobj, owns)
        return reader

    def _setup(self, stream: _Stream, fileobj: BinaryIO, owns: bool) -> None:
        super().__init__(stream, fileobj, owns)
        self.sections: list[Section] = []
        self.interfaces: list[Interface] = []
        self.names: list[tuple[str, list[str]]] = []
        self.statistics: dict[int, InterfaceStatistics] = {}
        self.comments: list[str] = []
        self.skipped_blocks: dict[int, int] = {}
        """Block type -> how many blocks of that type were skipped (custom, unknown, ...)."""
        self._layout = _LAYOUTS["<"]
        self._section_ifaces: list[int] = []  # local interface ID -> index in self.interfaces
        try:
            have = stream.fill(4)
            if have == 0:
                raise self._fail("empty file", 0)
            first4 = stream.buf[stream.pos : stream.pos + 4]
            if have < 4 or first4 != SHB_MAGIC:
                raise self._fail(
                    f"bad magic 0x{first4.hex()} at byte 0: not a pcapng file "
                    "(it must start with a Section Header Block)",
                    0,
                )
            self._read_shb()
        except CaptureError:
            self.close()
            raise

    # Header-ish properties of the current section, for symmetry with PcapReader.
    @property
    def byte_order(self) -> str:
        return self.sections[-1].byte_order

    @property
    def version(self) -> tuple[int, int]:
        return self.sections[-1].version

    @property
    def linktype(self) -> int | None:
        """Link type of the first interface, or None before any IDB has been read."""
        return self.interfaces[0].linktype if self.interfaces else None

    # -- block framing -------------------------------------------------------------------

    def _truncated(self, name: str, offset: int, need: int, have: int) -> CaptureError:
        return self._fail(
            f"pcapng: {name} block at byte {offset}: file ends in the middle of a block at "
            f"byte {offset} (need {need} bytes, have {have})",
            offset,
        )

    def _check_length(self, btype: int, blen: int, offset: int) -> None:
        name = _block_name(btype)
        if blen % 4:
            raise self._fail(
                f"pcapng: {name} block at byte {offset}: total length {blen} "
                "is not a multiple of 4",
                offset,
            )
        minimum = _MIN_BLOCK_LEN.get(btype, 12)
        if blen < minimum:
            raise self._fail(
                f"pcapng: {name} block at byte {offset}: total length {blen} is less than "
                f"the minimum {minimum} for this block type",
                offset,
            )

    def _load_block(self, btype: int, blen: int, offset: int) -> tuple[bytes, int]:
        """Buffer a whole block, check its trailing length, consume it; return (buf, start)."""
        stream = self._stream
        have = stream.fill(blen)
        if have < blen:
            raise self._truncated(_block_name(btype), offset, blen, have)
        buf = stream.buf
        pos = stream.pos
        (trailing,) = self._layout.u32.unpack_from(buf, pos + blen - 4)
        if trailing != blen:
            raise self._fail(
                f"pcapng: {_block_name(btype)} block at byte {offset}: block length mismatch "
                f"(leading {blen}, trailing {trailing})",
                offset,
            )
        stream.pos = pos + blen
        return buf, pos

    def _skip_block(self, btype: int, blen: int, offset: int) -> None:
        """Skip a block without buffering it (it may be larger than MAX_BLOCK)."""
        stream = self._stream
        skipped = stream.skip(blen - 4)
        have = stream.fill(4) if skipped == blen - 4 else 0
        if have < 4:
            raise self._truncated(_block_name(btype), offset, blen, skipped + have)
        (trailing,) = self._layout.u32.unpack_from(stream.buf, stream.pos)
        if trailing != blen:
            raise self._fail(
                f"pcapng: {_block_name(btype)} block at byte {offset}: block length mismatch "
                f"(leading {blen}, trailing {trailing})",
                offset,
            )
        stream.pos += 4

    def _options(
        self, buf: bytes, start: int, end: int, name: str, offset: int
    ) -> list[tuple[int, bytes]]:
        """Parse the options in buf[start:end]; a length that overruns the block is fatal."""
        options: list[tuple[int, bytes]] = []
        unpack_from = self._layout.option.unpack_from
        base = self._stream.base
        p = start
        while end - p >= 4:
            code, length = unpack_from(buf, p)
            if code == _OPT_ENDOFOPT:
                break
            value_end = p + 4 + length
            if value_end > end:
                raise self._fail(
                    f"pcapng: {name} block at byte {offset}: option {code} at byte {base + p} "
                    f"has length {length}, but only {end - p - 4} bytes remain in the block",
                    offset,
                )
            options.append((code, buf[p + 4 : value_end]))
            p += 4 + ((length + 3) & ~3)
        return options

    def _comments(self, options: list[tuple[int, bytes]]) -> tuple[str, ...]:
        return tuple(_text(value) for code, value in options if code == _OPT_COMMENT)

    # -- blocks other than packets -------------------------------------------------------

    def _read_shb(self) -> None:
        stream = self._stream
        offset = stream.tell()
        have = stream.fill(12)
        if have < 12:
            raise self._truncated("SHB", offset, 12, have)
        bom = stream.buf[stream.pos + 8 : stream.pos + 12]
        if bom == _BOM_LITTLE:
            layout = _LAYOUTS["<"]
        elif bom == _BOM_BIG:
            layout = _LAYOUTS[">"]
        else:
            raise self._fail(
                f"pcapng: SHB block at byte {offset}: bad byte-order magic 0x{bom.hex()} "
                "(expected 0x1a2b3c4d in either byte order)",
                offset,
            )
        self._layout = layout
        (blen,) = layout.u32.unpack_from(stream.buf, stream.pos + 4)
        self._check_length(BLOCK_SHB, blen, offset)
        if blen > MAX_BLOCK:
            raise self._fail(
                f"pcapng: SHB block at byte {offset}: total length {blen} exceeds the "
                f"{MAX_BLOCK}-byte limit",
                offset,
            )
        buf, pos = self._load_block(BLOCK_SHB, blen, offset)
        major, minor, section_length = layout.shb.unpack_from(buf, pos + 12)
        # Minor version 2 was written by some old tools for files identical to 1.0; the
        # draft (section 4.1) says readers MUST treat it as 0. Anything else is a format we
        # cannot promise to read correctly.
        if major != 1 or minor not in (0, 2):
            raise self._fail(
                f"pcapng: SHB block at byte {offset}: unsupported pcapng version {major}.{minor}",
                offset,
            )
        options = self._options(buf, pos + 24, pos + blen - 4, "SHB", offset)
        strings = {code: _text(value) for code, value in options if code in (2, 3, 4)}
        comments = self._comments(options)
        section = Section(
            index=len(self.sections),
            byte_order="little" if layout.order == "<" else "big",
            version=(major, minor),
            section_length=section_length if section_length >= 0 else None,
            hardware=strings.get(2),
            os=strings.get(3),
            userappl=strings.get(4),
            comments=comments,
            file_offset=offset,
        )
        self.sections.append(section)
        self.comments.extend(comments)
        self._section_ifaces = []  # interface IDs are per section (draft section 4.2)

    def _read_idb(self, buf: bytes, pos: int, blen: int, offset: int) -> None:
        layout = self._layout
        linktype, _reserved, snaplen = layout.idb.unpack_from(buf, pos + 8)
        options = self._options(buf, pos + 16, pos + blen - 4, "IDB", offset)
        strings: dict[int, str] = {}
        tsresol = 6
        units = 1_000_000
        tsoffset = 0
        fcs_len: int | None = None
        where = f"IDB block at byte {offset}"
        for code, value in options:
            if code in (2, 3, 12, 15):
                strings[code] = _text(value)
            elif code == 9:
                if len(value) != 1:
                    self._warn(f"{where}: if_tsresol has length {len(value)}, not 1; ignored")
                    continue
                tsresol = value[0]
                exponent = tsresol & 0x7F
                units = 2**exponent if tsresol & 0x80 else 10**exponent
            elif code == 13:
                if len(value) != 1:
                    self._warn(f"{where}: if_fcslen has length {len(value)}, not 1; ignored")
                    continue
                fcs_len = value[0]
            elif code == 14:
                if len(value) != 8:
                    self._warn(f"{where}: if_tsoffset has length {len(value)}, not 8; ignored")
                    continue
                (tsoffset,) = layout.i64.unpack(value)
        interface = Interface(
            section=len(self.sections) - 1,
            local_id=len(self._section_ifaces),
            linktype=linktype,
            snaplen=snaplen,
            name=strings.get(2),
            description=strings.get(3),
            os=strings.get(12),
            hardware=strings.get(15),
            tsresol=tsresol,
            ts_units_per_second=units,
            tsoffset=tsoffset,
            fcs_len=fcs_len,
            comments=self._comments(options),
            file_offset=offset,
        )
        self._section_ifaces.append(len(self.interfaces))
        self.interfaces.append(interface)

    def _read_isb(self, buf: bytes, pos: int, blen: int, offset: int) -> None:
        layout = self._layout
        local_id, ts_high, ts_low = layout.isb.unpack_from(buf, pos + 8)
        options = self._options(buf, pos + 20, pos + blen - 4, "ISB", offset)
        where = f"ISB block at byte {offset}"
        if local_id >= len(self._section_ifaces):
            self._warn(
                f"{where}: interface {local_id} is not defined in this section "
                f"({len(self._section_ifaces)} interface(s)); statistics ignored"
            )
            return
        index = self._section_ifaces[local_id]
        interface = self.interfaces[index]
        values: dict[int, int] = {}
        for code, value in options:
            if 2 <= code <= 8:
                if len(value) != 8:
                    self._warn(f"{where}: option {code} has length {len(value)}, not 8; ignored")
                elif code <= 3:  # isb_starttime / isb_endtime: high and low 32-bit words
                    high, low = layout.ts_pair.unpack(value)
                    values[code] = interface.timestamp_ns((high << 32) | low)
                else:
                    (values[code],) = layout.u64.unpack(value)
        self.statistics[index] = InterfaceStatistics(
            interface=index,
            timestamp_ns=interface.timestamp_ns((ts_high << 32) | ts_low),
            starttime_ns=values.get(2),
            endtime_ns=values.get(3),
            received=values.get(4),
            dropped=values.get(5),
            filter_accepted=values.get(6),
            os_dropped=values.get(7),
            delivered=values.get(8),
            comments=self._comments(options),
            file_offset=offset,
        )

    def _read_nrb(self, buf: bytes, pos: int, blen: int, offset: int) -> None:
        unpack_from = self._layout.option.unpack_from
        base = self._stream.base
        where = f"NRB block at byte {offset}"
        p = pos + 8
        end = pos + blen - 4
        while end - p >= 4:
            rtype, length = unpack_from(buf, p)
            value_end = p + 4 + length
            if value_end > end:
                raise self._fail(
                    f"pcapng: {where}: name record at byte {base + p} has length {length}, "
                    f"but only {end - p - 4} bytes remain in the block",
                    offset,
                )
            value = buf[p + 4 : value_end]
            record_offset = base + p
            p += 4 + ((length + 3) & ~3)
            if rtype == 0:  # nrb_record_end; options follow
                self._options(buf, p, end, "NRB", offset)
                return
            address_len = _NRB_ADDRESS_LEN.get(rtype)
            if address_len is None:
                self._warn(f"{where}: record type {rtype} at byte {record_offset} skipped")
                continue
            names = [_text(n) for n in value[address_len:].split(b"\0") if n]
            if len(value) <= address_len or not names:
                self._warn(
                    f"{where}: record at byte {record_offset} has no name after its "
                    f"{address_len}-byte address; skipped"
                )
                continue
            address = value[:address_len]
            if rtype == 1:
                text = str(ipaddress.IPv4Address(address))
            elif rtype == 2:
                text = str(ipaddress.IPv6Address(address))
            else:
                text = address.hex(":")
            if len(self.names) < MAX_NAMES:
                self.names.append((text, names))
            else:
                self._warn(f"{where}: more than {MAX_NAMES} names; the rest are not kept")

    # -- the main loop -------------------------------------------------------------------

    def _iter_records(self) -> Generator[CaptureRecord, None, None]:
        stream = self._stream
        number = 0
        while True:
            offset = stream.tell()
            have = stream.fill(8)
            if have == 0:
                return
            if have < 8:
                raise self._fail(
                    f"pcapng: block at byte {offset}: file ends in the middle of a block "
                    f"header at byte {offset} (need 8 bytes, have {have})",
                    offset,
                )
            if stream.buf[stream.pos : stream.pos + 4] == SHB_MAGIC:
                self._read_shb()
                continue
            layout = self._layout
            btype, blen = layout.header.unpack_from(stream.buf, stream.pos)
            self._check_length(btype, blen, offset)
            packet = btype in (BLOCK_EPB, BLOCK_PB, BLOCK_SPB)
            if blen > MAX_BLOCK:
                if packet or btype == BLOCK_IDB:
                    if btype != BLOCK_IDB:
                        self._check_caplen(btype, offset, number + 1)
                    raise self._fail(
                        f"pcapng: {_block_name(btype)} block at byte {offset}: total length "
                        f"{blen} exceeds the {MAX_BLOCK}-byte limit",
                        offset,
                    )
                if btype in _SKIPPABLE:
                    self._warn(
                        f"{_block_name(btype)} block at byte {offset}: {blen} bytes is more "
                        f"than the {MAX_BLOCK}-byte limit; skipped"
                    )
                self.skipped_blocks[btype] = self.skipped_blocks.get(btype, 0) + 1
                self._skip_block(btype, blen, offset)
                continue
            buf, pos = self._load_block(btype, blen, offset)
            if packet:
                number += 1
                record = self._packet(btype, buf, pos, blen, offset, number)
                self._count = number
                yield record
            elif btype == BLOCK_IDB:
                self._read_idb(buf, pos, blen, offset)
            elif btype == BLOCK_ISB:
                self._read_isb(buf, pos, blen, offset)
            elif btype == BLOCK_NRB:
                self._read_nrb(buf, pos, blen, offset)
            else:
                self.skipped_blocks[btype] = self.skipped_blocks.get(btype, 0) + 1

    def _check_caplen(self, btype: int, offset: int, number: int) -> None:
        """For an oversized packet block, say so in terms of its captured length if that's why."""
        stream = self._stream
        if btype == BLOCK_SPB or stream.fill(28) < 28:
            return
        layout = self._layout
        if btype == BLOCK_EPB:
            caplen = layout.epb.unpack_from(stream.buf, stream.pos + 8)[3]
        else:
            caplen = layout.pb.unpack_from(stream.buf, stream.pos + 8)[4]
        if caplen > MAX_RECORD:
            raise self._fail(
                f"pcapng: {_block_name(btype)} block at byte {offset} (packet {number}): "
                f"captured length {caplen} exceeds the {MAX_RECORD}-byte limit",
                offset,
            )

    def _packet(
        self, btype: int, buf: bytes, pos: int, blen: int, offset: int, number: int
    ) -> CaptureRecord:
        layout = self._layout
        name = _block_name(btype)
        block = f"{name} block at byte {offset} (packet {number})"
        where = f"pcapng: {block}"
        if btype == BLOCK_SPB:
            if not self._section_ifaces:
                raise self._fail(
                    f"{where}: no interface is defined in this section "
                    "(a Simple Packet Block belongs to interface 0)",
                    offset,
                )
            index = self._section_ifaces[0]
            interface = self.interfaces[index]
            (orig_len,) = layout.u32.unpack_from(buf, pos + 8)
            room = blen - 16
            caplen = min(orig_len, room)
            if interface.snaplen:
                caplen = min(caplen, interface.snaplen)
            if caplen > MAX_RECORD:
                raise self._fail(
                    f"{where}: captured length {caplen} exceeds the {MAX_RECORD}-byte limit",
                    offset,
                )
            # An SPB carries no timestamp; 0 (the epoch) is what libpcap reports too.
            return build_record(
                buf[pos + 12 : pos + 12 + caplen],
                orig_len,
                0,
                interface.linktype,
                index,
                (),
                number,
                offset,
            )
        if btype == BLOCK_EPB:
            local_id, ts_high, ts_low, caplen, orig_len = layout.epb.unpack_from(buf, pos + 8)
        else:
            local_id, _drops, ts_high, ts_low, caplen, orig_len = layout.pb.unpack_from(
                buf, pos + 8
            )
        if caplen > MAX_RECORD:
            raise self._fail(
                f"{where}: captured length {caplen} exceeds the {MAX_RECORD}-byte limit", offset
            )
        if caplen > blen - 32:
            raise self._fail(
                f"{where}: captured length {caplen} does not fit in the block "
                f"(room for {blen - 32} bytes)",
                offset,
            )
        if local_id >= len(self._section_ifaces):
            raise self._fail(
                f"{where}: interface {local_id} is not defined in this section "
                f"({len(self._section_ifaces)} interface(s) so far)",
                offset,
            )
        index = self._section_ifaces[local_id]
        interface = self.interfaces[index]
        data_end = pos + 28 + caplen
        options_start = pos + 28 + ((caplen + 3) & ~3)
        comments: tuple[str, ...] = ()
        if options_start < pos + blen - 4:
            options = self._options(buf, options_start, pos + blen - 4, name, offset)
            comments = self._comments(options)
        if (interface.snaplen and caplen > interface.snaplen) or caplen > orig_len:
            self._note_lengths(block, caplen, orig_len, interface.snaplen)
        return build_record(
            buf[pos + 28 : data_end],
            orig_len,
            interface.timestamp_ns((ts_high << 32) | ts_low),
            interface.linktype,
            index,
            comments,
            number,
            offset,
        )

    def _note_lengths(self, where: str, caplen: int, orig_len: int, snaplen: int) -> None:
        if snaplen and caplen > snaplen:
            self._warn(
                f"{where}: captured length {caplen} exceeds the interface's snaplen {snaplen} "
                "(delivered anyway)"
            )
        if caplen > orig_len:
            self._warn(f"{where}: captured length {caplen} exceeds original length {orig_len}")


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(btype: int, body: bytes) -> bytes:
    length = len(body) + 12
    return struct.pack("<II", btype, length) + body + struct.pack("<I", length)


class PcapngWriter(_WriterBase):
    """Write a little-endian pcapng file: one section, IDBs on demand, EPBs.

    The Section Header Block is written at once. ``add_interface`` writes an Interface
    Description Block (or returns the index of the one already written for the same link type
    and name); ``write`` appends an Enhanced Packet Block with an optional comment. Data
    longer than the interface's snaplen is a ``ValueError``, never silently cut. The writer
    does not close ``fileobj``; ``flush()`` or leaving a ``with`` block flushes it.
    """

    def __init__(self, fileobj: BinaryIO, userappl: str | None = "pktlab") -> None:
        self._file = fileobj
        self._interfaces: list[tuple[int, str | None, bool, int]] = []
        self.written = 0
        """Packets written so far."""
        options = _option(4, userappl.encode()) if userappl else b""
        if options:
            options += _option(_OPT_ENDOFOPT, b"")
        body = _BOM_LITTLE + struct.pack("<HHq", 1, 0, -1) + options
        fileobj.write(_block(BLOCK_SHB, body))

    def add_interface(
        self,
        linktype: int,
        name: str | None = None,
        tsresol_ns: bool = True,
        snaplen: int = MAX_RECORD,
    ) -> int:
        """Describe an interface and return its ID (0, 1, ...) for ``write``.

        ``tsresol_ns`` chooses nanosecond timestamps (if_tsresol 9) over the default
        microseconds. The same (linktype, name) pair always maps to the same interface.
        """
        if not 0 <= linktype <= 0xFFFF:
            raise ValueError(f"linktype {linktype} does not fit in 16 bits")
        if not 0 <= snaplen <= 0xFFFFFFFF:
            raise ValueError(f"snaplen {snaplen} is not a 32-bit value")
        for index, (known_type, known_name, known_ns, _snaplen) in enumerate(self._interfaces):
            if (known_type, known_name) == (linktype, name):
                if known_ns != tsresol_ns:
                    raise ValueError(
                        f"interface {index} ({linktype}, {name!r}) already exists with "
                        f"{'nano' if known_ns else 'micro'}second timestamps"
                    )
                return index
        options = b""
        if name is not None:
            options += _option(2, name.encode())
        if tsresol_ns:
            options += _option(9, b"\x09")
        if options:
            options += _option(_OPT_ENDOFOPT, b"")
        body = struct.pack("<HHI", linktype, 0, snaplen) + options
        self._file.write(_block(BLOCK_IDB, body))
        self._interfaces.append((linktype, name, tsresol_ns, snaplen))
        return len(self._interfaces) - 1

    def write(
        self,
        data: bytes | bytearray | memoryview,
        timestamp_ns: int,
        interface: int = 0,
        orig_len: int | None = None,
        comment: str | None = None,
    ) -> None:
        """Append one Enhanced Packet Block; ``orig_len`` defaults to ``len(data)``."""
        if not 0 <= interface < len(self._interfaces):
            raise ValueError(
                f"interface {interface} does not exist "
                f"({len(self._interfaces)} added); call add_interface first"
            )
        _linktype, _name, nanoseconds, snaplen = self._interfaces[interface]
        caplen = len(data)
        limit = min(snaplen or MAX_RECORD, MAX_RECORD)
        if caplen > limit:
            raise ValueError(
                f"{caplen} bytes of data exceed the snaplen {limit}; "
                "slice the data and pass orig_len"
            )
        if orig_len is None:
            orig_len = caplen
        elif not caplen <= orig_len <= 0xFFFFFFFF:
            raise ValueError(f"orig_len {orig_len} is not between {caplen} and 2**32-1")
        ticks = timestamp_ns if nanoseconds else timestamp_ns // 1000
        if not 0 <= ticks <= 0xFFFFFFFFFFFFFFFF:
            raise ValueError(f"timestamp {timestamp_ns} ns does not fit in 64 unsigned bits")
        options = b""
        if comment is not None:
            options = _option(_OPT_COMMENT, comment.encode()) + _option(_OPT_ENDOFOPT, b"")
        header = struct.pack("<IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, caplen, orig_len)
        padding = b"\0" * (-caplen % 4)
        self._file.write(_block(BLOCK_EPB, header + bytes(data) + padding + options))
        self.written += 1



__all__ = [
    "MAX_BLOCK",
    "CaptureError",
    "Interface",
    "InterfaceStatistics",
    "PcapngReader",
    "PcapngWriter",
    "Section",
]

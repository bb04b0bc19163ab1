"""Open a capture file without knowing its format: sniff the magic number, pick the reader."""

from __future__ import annotations

from ._base import CaptureError, _open_source, _Stream
from .pcap import PcapReader, Source, is_pcap_magic
from .pcapng import SHB_MAGIC, PcapngReader

Reader = PcapReader | PcapngReader


def open_capture(source: Source) -> Reader:
    """Open a pcap or pcapng file (path or binary file object) for reading records.

    The format is chosen by the first four bytes, never by the file name. Errors in the file
    header raise ``CaptureError`` here; damage further on is raised by iteration, after every
    record before it has been delivered. Use the reader as a context manager (or call
    ``close()``) to close a file it opened from a path.
    """
    fileobj, owns = _open_source(source)
    stream = _Stream(fileobj)
    try:
        have = stream.fill(4)
        first4 = stream.buf[stream.pos : stream.pos + 4]
        if have == 0:
            raise CaptureError("empty file", 0)
        if first4 == SHB_MAGIC:
            return PcapngReader._from_stream(stream, fileobj, owns)
        if have < 4:
            raise CaptureError(
                f"file ends in the middle of the magic number at byte 0 "
                f"(need 4 bytes, have {have})",
                0,
            )
        if is_pcap_magic(first4) or first4.hex() in ("a1b2cd34", "34cdb2a1"):
            return PcapReader._from_stream(stream, fileobj, owns)
        raise CaptureError(f"bad magic 0x{first4.hex()} at byte 0: not a pcap or pcapng file", 0)
    except CaptureError:
        if owns:
            fileobj.close()
        raise

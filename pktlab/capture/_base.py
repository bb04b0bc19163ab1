"""Machinery shared by the pcap and pcapng readers: the error type, limits and buffered input.

The readers never trust a length field. Every length is checked against what the format allows
and against ``MAX_RECORD`` before any memory is taken for it, so a corrupt or hostile file costs
at most a few hundred KiB of memory and one pass over its bytes: no hangs, no huge allocations.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from types import TracebackType
from typing import BinaryIO, Final, Self

from ._record import CaptureRecord

MAX_RECORD: Final = 262_144
"""Largest captured length accepted for one packet (libpcap's and Wireshark's limit)."""

MAX_WARNINGS: Final = 100
"""How many warning strings a reader keeps; ``warning_count`` counts them all."""

_CHUNK: Final = 65_536


class CaptureError(Exception):
    """A capture file is damaged or in a format variant pktlab does not read.

    ``offset`` is the byte offset of the damaged header, record or block, and ``delivered`` is
    how many records the reader had handed out before it stopped.
    """

    def __init__(self, message: str, offset: int, delivered: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.delivered = delivered

    def __reduce__(self) -> tuple[type[CaptureError], tuple[str, int, int]]:
        return (type(self), (self.message, self.offset, self.delivered))


class _Stream:
    """Forward-only buffered reading from a binary file object, with absolute offsets.

    Reading large chunks and slicing records out of them is several times faster than two
    ``read()`` calls per record. The buffer holds at most one chunk plus the largest object
    asked for, and callers never ask for more than the format limits allow.
    """

    __slots__ = ("_f", "base", "buf", "eof", "pos")

    def __init__(self, fileobj: BinaryIO) -> None:
        self._f = fileobj
        self.buf = b""
        self.pos = 0  # index into buf of the next unread byte
        self.base = 0  # file offset of buf[0]
        self.eof = False

    def tell(self) -> int:
        return self.base + self.pos

    def fill(self, n: int) -> int:
        """Try to have ``n`` unread bytes buffered; return how many are (fewer only at EOF)."""
        have = len(self.buf) - self.pos
        if have >= n or self.eof:
            return have
        parts = [self.buf[self.pos :]]
        self.base += self.pos
        self.pos = 0
        while have < n:
            chunk = self._f.read(max(_CHUNK, n - have))
            if not chunk:  # b"" at EOF; None would mean a non-blocking file with no data yet
                self.eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self.buf = b"".join(parts)
        return have

    def skip(self, n: int) -> int:
        """Move ``n`` bytes forward without buffering them all; return how many were skipped."""
        have = len(self.buf) - self.pos
        if have >= n:
            self.pos += n
            return n
        skipped = have
        self.base += len(self.buf)
        self.buf = b""
        self.pos = 0
        while skipped < n and not self.eof:
            chunk = self._f.read(min(_CHUNK, n - skipped))
            if not chunk:
                self.eof = True
                break
            skipped += len(chunk)
            self.base += len(chunk)
        return skipped


def _open_source(source: str | bytes | BinaryIO | object) -> tuple[BinaryIO, bool]:
    """A binary file object for ``source`` and whether the reader owns (must close) it."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        # Unbuffered: _Stream does its own chunking, so a BufferedReader would only copy twice.
        return open(source, "rb", buffering=0), True
    if not hasattr(source, "read"):
        raise TypeError(f"expected a path or a binary file object, not {type(source).__name__}")
    if isinstance(source, io.TextIOBase):
        raise TypeError("capture files must be opened in binary mode ('rb')")
    return source, False  # type: ignore[return-value]


class _ReaderBase:
    """What both readers share: iteration with a kept error, warnings, closing."""

    format: str = ""

    def __init__(self, stream: _Stream, fileobj: BinaryIO, owns_file: bool) -> None:
        self._stream = stream
        self._file = fileobj
        self._owns_file = owns_file
        self._count = 0
        self.error: CaptureError | None = None
        """The error that stopped iteration, if any."""
        self.warnings: list[str] = []
        """Problems that did not stop reading (the first ``MAX_WARNINGS``)."""
        self.warning_count = 0
        """How many problems were found, including ones not kept in ``warnings``."""
        self._records = self._iter_records()

    @property
    def delivered(self) -> int:
        """How many records have been handed out so far."""
        return self._count

    def _warn(self, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)

    def _fail(self, message: str, offset: int) -> CaptureError:
        """Build (and remember) the error that ends reading; the caller raises it."""
        self.error = CaptureError(message, offset, self._count)
        return self.error

    def _iter_records(self) -> Generator[CaptureRecord, None, None]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[CaptureRecord]:
        # Hand out the generator itself so that a for loop runs at generator speed; once an
        # error has been raised, a new loop gets the error again instead of a silent end.
        if self.error is not None:
            return self
        return self._records

    def __next__(self) -> CaptureRecord:
        try:
            return next(self._records)
        except StopIteration:
            # A generator that raised is finished; keep raising the same error so that a
            # second loop over a damaged file cannot mistake it for a clean end.
            if self.error is not None:
                raise self.error from None
            raise

    def close(self) -> None:
        """Close the file if the reader opened it (a caller's file object is left open)."""
        self._records.close()
        if self._owns_file:
            self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _WriterBase:
    """What both writers share: flushing, and flushing when a ``with`` block ends."""

    _file: BinaryIO

    def flush(self) -> None:
        self._file.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.flush()

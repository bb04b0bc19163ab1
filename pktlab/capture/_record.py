"""The one value every capture reader yields: a captured frame with its exact timestamp.

A record is format-neutral: pcap records and pcapng Enhanced, Simple and obsolete Packet Blocks
all become a ``CaptureRecord``. Timestamps are integer nanoseconds since the Unix epoch, never
floats: a double cannot hold today's epoch in nanoseconds exactly (it has 53 bits of mantissa,
the value needs 61), so a float round trip would silently move packets by up to 256 ns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

_NS_PER_SECOND = 1_000_000_000


def format_timestamp(timestamp_ns: int) -> str:
    """``SECONDS.NANOSECONDS`` with exactly nine decimals, the way tshark prints frame.time_epoch.

    Negative values (possible with a negative pcapng if_tsoffset) keep the sign in front of the
    whole number, so ``-1_500_000_000`` is ``"-1.500000000"``, not ``"-2.500000000"``.
    """
    sign = "-" if timestamp_ns < 0 else ""
    seconds, nanoseconds = divmod(abs(timestamp_ns), _NS_PER_SECOND)
    return f"{sign}{seconds}.{nanoseconds:09d}"


@dataclass(frozen=True, slots=True, repr=False)
class CaptureRecord:
    """One captured frame.

    ``data`` is what the capture stored (possibly cut short by the snapshot length), ``orig_len``
    is the frame's length on the wire. ``linktype`` is the LINKTYPE_* value of the frame's link
    layer. ``interface`` is 0 for pcap; for pcapng it indexes ``PcapngReader.interfaces`` (the
    interfaces of all sections in file order). ``number`` is the 1-based frame number in the file
    and ``file_offset`` the byte offset where the record or block starts.
    """

    data: bytes
    orig_len: int
    timestamp_ns: int
    linktype: int
    interface: int = 0
    comments: tuple[str, ...] = ()
    number: int = 0
    file_offset: int = 0

    @property
    def caplen(self) -> int:
        """How many bytes of the frame were captured (``len(data)``)."""
        return len(self.data)

    @property
    def truncated(self) -> bool:
        """Whether the capture holds fewer bytes than the frame had on the wire."""
        return len(self.data) < self.orig_len

    @property
    def time(self) -> str:
        """The timestamp as ``"SECONDS.NANOSECONDS"`` with nine decimals."""
        return format_timestamp(self.timestamp_ns)

    def __repr__(self) -> str:
        # The default dataclass repr would print every captured byte.
        head = self.data[:16].hex()
        more = "..." if len(self.data) > 16 else ""
        comments = f", comments={self.comments!r}" if self.comments else ""
        return (
            f"CaptureRecord(number={self.number}, time={self.time}, caplen={len(self.data)}, "
            f"orig_len={self.orig_len}, linktype={self.linktype}, interface={self.interface}"
            f"{comments}, file_offset={self.file_offset}, data={head}{more})"
        )


def _record_builder() -> Callable[
    [bytes, int, int, int, int, tuple[str, ...], int, int], CaptureRecord
]:
    """A positional constructor for readers that skips the frozen dataclass ``__init__``.

    A frozen dataclass assigns each field through ``object.__setattr__`` looked up anew per
    field, which made building the record most of a reader's per-packet cost. Writing the
    slots through their descriptors gives the identical object about a third faster.
    """
    names = [f.name for f in fields(CaptureRecord)]
    expected = ["data", "orig_len", "timestamp_ns", "linktype", "interface", "comments"]
    if names != [*expected, "number", "file_offset"]:  # a field was added: update build()
        raise RuntimeError(f"CaptureRecord fields changed: {names}")
    s0, s1, s2, s3, s4, s5, s6, s7 = (getattr(CaptureRecord, n).__set__ for n in names)
    new = object.__new__

    def build(
        data: bytes,
        orig_len: int,
        timestamp_ns: int,
        linktype: int,
        interface: int,
        comments: tuple[str, ...],
        number: int,
        file_offset: int,
    ) -> CaptureRecord:
        record: CaptureRecord = new(CaptureRecord)
        s0(record, data)
        s1(record, orig_len)
        s2(record, timestamp_ns)
        s3(record, linktype)
        s4(record, interface)
        s5(record, comments)
        s6(record, number)
        s7(record, file_offset)
        return record

    return build


build_record = _record_builder()

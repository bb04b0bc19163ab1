"""Reading the shared capture corpus for tests: every record of every file, damage included."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pktlab.capture import CaptureError, open_capture


@dataclass(frozen=True)
class Frame:
    file: str
    number: int
    data: bytes
    linktype: int
    orig_len: int


def frames(path: Path) -> Iterator[Frame]:
    """Every record pktlab's reader delivers; a damaged file simply ends at the damage."""
    try:
        with open_capture(path) as reader:
            for record in reader:
                yield Frame(path.name, record.number, record.data, record.linktype,
                            record.orig_len)
    except CaptureError:
        return

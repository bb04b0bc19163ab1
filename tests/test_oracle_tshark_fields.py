"""pktlab's dissection against tshark's, field by field, on every frame of the real corpus.

For every field both name, the values must agree (as lists, in wire order). The differences
that remain are listed in ``pktlab.oracle.tshark_compare.KNOWN_TSHARK_DIFFERENCES`` with the
reason, and counted as skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import Frame, frames
from oracles import corpus_files, require_tshark

from pktlab.oracle.tshark import TsharkFrame, frame_meta, run_tshark
from pktlab.oracle.tshark_compare import TsharkComparison, compare_frame
from pktlab.wire import dissect

REAL = corpus_files("real")


def align(ours: list[Frame], theirs: list[TsharkFrame]) -> list[tuple[Frame, TsharkFrame]]:
    """Pair records with tshark frames. tshark also counts pcapng custom blocks as frames and
    stops at the first record it cannot read: pair by wire and captured length, in order."""
    pairs: list[tuple[Frame, TsharkFrame]] = []
    index = 0
    for frame in theirs:
        meta = frame_meta(frame)
        if index < len(ours) and meta["frame.cap_len"] == len(ours[index].data) and (
                meta["frame.len"] == ours[index].orig_len):
            pairs.append((ours[index], frame))
            index += 1
    return pairs


@pytest.mark.oracle
@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_fields_agree_with_tshark(path: Path) -> None:
    require_tshark()
    ours = list(frames(path))
    pairs = align(ours, list(run_tshark(path)))
    assert len(pairs) == len(ours), f"{len(ours) - len(pairs)} records have no tshark frame"
    total = TsharkComparison()
    for record, theirs in pairs:
        packet = dissect(record.data, record.linktype, orig_len=record.orig_len, strict=True)
        total.merge(compare_frame(packet, theirs))
    assert [str(d) for d in total.differences] == []
    assert total.compared > 0 or all(len(r.data) == 0 for r in ours)

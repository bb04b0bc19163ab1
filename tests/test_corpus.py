"""Every packet of the shared corpus: dissection never raises, and rebuilds byte for byte.

These tests cover every codec at once: as a codec is added, its packets stop being ``data``
and start being rebuilt from their fields.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import frames
from oracles import corpus_files, require_corpus

from pktlab.wire import dissect, rebuild
from pktlab.wire._packet import TABLES

REAL = corpus_files("real")
MALFORMED = corpus_files("malformed")


def internal_problems(packet: object) -> list[str]:
    return [p.message for _, p in packet.all_problems()  # type: ignore[attr-defined]
            if p.message.startswith("internal")]


def exercise(packet: object) -> None:
    """Touch everything a renderer would: lazy options, JSON, problems."""
    packet.as_dict()  # type: ignore[attr-defined]
    for layer in packet.layers:  # type: ignore[attr-defined]
        for child in layer.children:
            child.as_dict()


def test_corpus_is_present() -> None:
    require_corpus()
    assert len(REAL) >= 80 and len(MALFORMED) >= 50


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_real_captures_dissect_and_rebuild_exactly(path: Path) -> None:
    mismatches: list[str] = []
    for frame in frames(path):
        packet = dissect(frame.data, frame.linktype, orig_len=frame.orig_len, strict=True)
        exercise(packet)
        assert internal_problems(packet) == []
        if frame.linktype not in TABLES["linktype"]:
            continue  # link type not dissected: nothing to rebuild
        if packet.malformed:
            continue  # malformed layers are carried raw by rebuild: nothing to prove
        if rebuild(packet) != frame.data:
            mismatches.append(f"frame {frame.number}: {packet.summary()}")
    assert mismatches == [], f"{path.name}: {len(mismatches)} frames rebuild differently"


@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_malformed_captures_never_raise(path: Path) -> None:
    for frame in frames(path):
        packet = dissect(frame.data, frame.linktype, orig_len=frame.orig_len, strict=True)
        exercise(packet)
        assert internal_problems(packet) == []

"""Shared test helpers: where the capture corpus is, and oracles that must not silently skip.

Locally a test that needs tshark, Scapy or network namespaces may skip with a reason. Under
``PKTLAB_REQUIRE_ORACLES=1`` (set by ``.ci/run``) the same test fails instead, so CI can never
pass by skipping the checks that matter.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("PKTLAB_SHARED", Path(__file__).resolve().parents[2] / "shared"))
PCAPS = SHARED / "pcaps"
REAL = PCAPS / "real"
MALFORMED = PCAPS / "malformed"
REQUIRED = os.environ.get("PKTLAB_REQUIRE_ORACLES") == "1"
DIFF_EXAMPLES = int(os.environ.get("PKTLAB_DIFF_EXAMPLES", "300"))


def missing(what: str) -> None:
    if REQUIRED:
        pytest.fail(f"{what} is required (PKTLAB_REQUIRE_ORACLES=1) but not available")
    pytest.skip(f"{what} not available")


def require_tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        missing("tshark")
    assert path is not None
    return path


def require_scapy() -> None:
    try:
        import scapy  # noqa: F401
    except ImportError:
        missing("Scapy")


def require_corpus() -> Path:
    if not REAL.is_dir():
        missing(f"the shared capture corpus at {PCAPS}")
    return PCAPS


def corpus_files(kind: str = "real") -> list[Path]:
    folder = PCAPS / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".pcap", ".pcapng"))

"""Throw random and mutated frames at the dissector: nothing may raise, ever.

Not part of the default test run (it takes a minute or more). Usage::

    python fuzz/fuzz_dissect.py --count 1000000 --seed 1 [--jobs 2]

Seeds are real frames from the shared corpus; each case is a frame mutated by bit flips, byte
overwrites, insertions, deletions, truncation or splicing, or pure random bytes, dissected under
several link types with ``strict=True`` so that a dissector bug raises instead of being
reported as an ``internal`` problem. Every layer is rendered to JSON to force lazy decoding.
Exit status 1 and the failing inputs (hex) on stderr if anything raised.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pktlab.capture import CaptureError, open_capture  # noqa: E402
from pktlab.wire import dissect, rebuild  # noqa: E402

SHARED = Path(os.environ.get("PKTLAB_SHARED", Path(__file__).resolve().parents[2] / "shared"))
LINKTYPES = (1, 101, 228, 229, 113, 276, 0)


def load_seeds() -> list[tuple[bytes, int]]:
    seeds: list[tuple[bytes, int]] = []
    for folder in ("real", "malformed"):
        for path in sorted((SHARED / "pcaps" / folder).glob("*.pcap*")):
            try:
                with open_capture(path) as reader:
                    for record in reader:
                        seeds.append((record.data, record.linktype))
            except CaptureError:
                pass
    return seeds


def mutate(rng: random.Random, data: bytes, seeds: list[tuple[bytes, int]]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        op = rng.randrange(7)
        if op == 0 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            i = rng.randrange(len(buf))
            buf[i] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        elif op == 2:
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = rng.randbytes(rng.randrange(1, 9))
        elif op == 3 and buf:
            i = rng.randrange(len(buf))
            del buf[i:i + rng.randrange(1, 9)]
        elif op == 4:
            buf = buf[:rng.randrange(len(buf) + 1)]
        elif op == 5:
            other = rng.choice(seeds)[0]
            i = rng.randrange(len(buf) + 1)
            buf = buf[:i] + other[rng.randrange(len(other) + 1):]
        else:
            i = rng.randrange(len(buf) + 1)
            buf[i:i + 2] = rng.randbytes(2)
    return bytes(buf)


def run(job: tuple[int, int, int]) -> tuple[int, list[str]]:
    seed, count, worker = job
    rng = random.Random(seed * 1000 + worker)
    seeds = load_seeds()
    failures: list[str] = []
    for _ in range(count):
        if rng.random() < 0.05:
            data = rng.randbytes(rng.randrange(0, 200))
            linktype = rng.choice(LINKTYPES)
        else:
            base, linktype = rng.choice(seeds)
            data = mutate(rng, base, seeds)
            if rng.random() < 0.05:
                linktype = rng.choice(LINKTYPES)
        try:
            packet = dissect(data, linktype, strict=True)
            packet.as_dict()
            if not packet.malformed:
                rebuild(packet)
        except Exception:  # noqa: BLE001 - we are collecting every failure
            if len(failures) < 20:
                failures.append(f"linktype {linktype} {data.hex()}\n{traceback.format_exc()}")
            else:
                failures.append("")
    return count, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    started = time.monotonic()
    share = [args.count // args.jobs + (1 if i < args.count % args.jobs else 0)
             for i in range(args.jobs)]
    with multiprocessing.Pool(args.jobs) as pool:
        results = pool.map(run, [(args.seed, n, i) for i, n in enumerate(share)])
    done = sum(n for n, _ in results)
    failures = [f for _, fs in results for f in fs]
    elapsed = time.monotonic() - started
    print(f"{done} cases in {elapsed:.1f} s ({done / elapsed:,.0f}/s), "
          f"{len(failures)} raised", file=sys.stderr)
    for failure in failures[:10]:
        if failure:
            print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

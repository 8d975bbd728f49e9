"""The fuzz run at scale (issue 11): stream bodies from tests/core/fuzzing.py, judged by
`diagnose_bytes`, by the live `Pipeline` under several chunkings (whole, byte by byte for
short bodies, random cuts) and as a saved run replayed. Prints inputs, verdict comparisons,
uncaught exceptions, chunking mismatches and time. The CI test runs the same check small.

    python bench/fuzz.py [--examples 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.core.fuzzing import bodies, check_body


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    stats: collections.Counter[str] = collections.Counter()
    failures: list[str] = []

    @seed(args.seed)
    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # count every failure; do not stop to shrink the first
        suppress_health_check=list(HealthCheck),
    )
    @given(bodies(), st.lists(st.integers(0, 100_000), max_size=8))
    def one(case: tuple[str, bytes], cuts: list[int]) -> None:
        dialect, body = case
        stats["inputs"] += 1
        stats[f"dialect {dialect}"] += 1
        stats["bytes"] += len(body)
        try:
            stats["verdict comparisons"] += check_body(dialect, body, cuts)
        except AssertionError:
            stats["chunking mismatches"] += 1
            failures.append(traceback.format_exc(limit=2))
        except Exception:
            stats["uncaught exceptions"] += 1
            failures.append(traceback.format_exc(limit=4))

    start = time.perf_counter()
    one()
    elapsed = time.perf_counter() - start
    print(f"fuzz: {stats['inputs']:,} inputs ({stats['bytes']:,} bytes) in {elapsed:.1f} s")
    compared = stats["verdict comparisons"]
    print(f"  verdict comparisons (chunkings + saved-run replays): {compared:,}")
    print(f"  uncaught exceptions: {stats['uncaught exceptions']}")
    print(f"  chunking mismatches: {stats['chunking mismatches']}")
    for key in sorted(k for k in stats if k.startswith("dialect ")):
        print(f"  {key}: {stats[key]:,}")
    for text in failures[:3]:
        print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

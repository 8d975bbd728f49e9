"""Statistics over a lane's runs; pure.

Percentiles interpolate linearly between closest ranks (numpy's default `linear` method, the
one vLLM's `np.percentile` uses; DESIGN §4): for sorted x[0..n−1] and p in [0, 100], the
rank is h = (n − 1)·p/100 and the value x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).

Which runs enter: each run is `successful`, `incomplete` or `errored` (guidellm's split):

    successful  completed, tool_calls, truncated (the stream ended on the provider's own end
                signal: a max-tokens cut is how benchmarks bound a run)
    incomplete  interrupted (cut, stalled, timed out, cancelled): the provider started and
                did not finish
    errored     everything else: http_error, upstream_error, protocol_error, blocked,
                paused, not_sent

By default only successful runs enter the statistics (`include=("successful",)`); the other
two are counted apart, and `outcomes` counts every run by "outcome/detail".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.stream.definitions import STAT_KEYS, samples
from core.stream.outcome import Verdict
from core.stream.stamps import RunStamps

__all__ = [
    "CLASSES",
    "LaneStats",
    "Summary",
    "classify_run",
    "lane_stats",
    "percentile",
    "summarize",
]

CLASSES = ("successful", "incomplete", "errored")
_SUCCESSFUL = frozenset({"completed", "tool_calls", "truncated"})
PERCENTILES = (50, 90, 95, 99)


def percentile(ordered: Sequence[float], p: float) -> float:
    """numpy's default (linear) percentile of an already sorted, non-empty sequence."""
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is not within 0..100")
    h = (len(ordered) - 1) * p / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])


@dataclass(frozen=True, slots=True)
class Summary:
    n: int
    mean: float
    min: float
    max: float
    p50: float
    p90: float
    p95: float
    p99: float

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": _r(self.mean),
            "min": _r(self.min),
            "max": _r(self.max),
            "p50": _r(self.p50),
            "p90": _r(self.p90),
            "p95": _r(self.p95),
            "p99": _r(self.p99),
        }


def _r(x: float) -> float:
    return round(x, 3)


def summarize(values: Iterable[float]) -> Summary | None:
    """n, mean, min, max and the percentiles; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    p50, p90, p95, p99 = (percentile(ordered, p) for p in PERCENTILES)
    mean = math.fsum(ordered) / len(ordered)
    return Summary(len(ordered), mean, ordered[0], ordered[-1], p50, p90, p95, p99)


def classify_run(verdict: Verdict) -> str:
    if verdict.outcome in _SUCCESSFUL:
        return "successful"
    if verdict.outcome == "interrupted":
        return "incomplete"
    return "errored"


@dataclass(frozen=True, slots=True)
class LaneStats:
    definition: str
    runs: int
    counts: dict[str, int]  # successful / incomplete / errored
    outcomes: dict[str, int]  # "outcome/detail" → runs
    included: tuple[str, ...]  # which classes entered `stats`
    stats: dict[str, Summary | None]  # STAT_KEYS → summary (None: no run gave a value)

    def stats_json(self) -> dict[str, Any]:
        return {k: (v.to_json() if v is not None else None) for k, v in self.stats.items()}


def lane_stats(
    runs: Iterable[tuple[Verdict, RunStamps]],
    definition: str = "streamscope",
    include: Sequence[str] = ("successful",),
) -> LaneStats:
    """A lane's statistics under `definition`, over the runs whose class is in `include`."""
    unknown = set(include) - set(CLASSES)
    if unknown:
        raise ValueError(f"include: {sorted(unknown)[0]!r} is not one of {', '.join(CLASSES)}")
    pooled: dict[str, list[float]] = {k: [] for k in STAT_KEYS}
    counts = dict.fromkeys(CLASSES, 0)
    outcomes: Counter[str] = Counter()
    total = 0
    for verdict, stamps in runs:
        total += 1
        kind = classify_run(verdict)
        counts[kind] += 1
        outcomes[f"{verdict.outcome}/{verdict.detail}" if verdict.detail else verdict.outcome] += 1
        if kind not in include:
            continue
        for key, values in samples(stamps, definition).items():
            pooled[key].extend(values)
    return LaneStats(
        definition,
        total,
        counts,
        dict(outcomes),
        tuple(include),
        {k: summarize(v) for k, v in pooled.items()},
    )

"""`BoundedSeries`: what the latency graph draws of a long run, against the same buckets
computed by hand from every point."""

from __future__ import annotations

import numpy as np
import pytest

from gui.run.peaks import BoundedSeries


def by_hand(xs: np.ndarray, ys: np.ndarray, size: int, keep: str) -> tuple[list, list]:
    bx, by = [], []
    for i in range(0, len(xs), size):
        bx.append(float(xs[min(i + size, len(xs)) - 1]))
        part = ys[i : i + size]
        by.append(float(part.max() if keep == "peak" else part[-1]))
    return bx, by


@pytest.mark.parametrize("keep", ["peak", "last"])
@pytest.mark.parametrize("total", [1, 7, 8, 9, 40, 1000])
def test_buckets_match_a_hand_computation_whatever_the_batches(keep: str, total: int) -> None:
    rng = np.random.default_rng(total)
    xs = np.cumsum(rng.random(total))
    ys = rng.random(total) * 100
    series = BoundedSeries(limit=4, keep=keep)  # at most 8 buckets, then they merge
    i = 0
    while i < total:
        n = int(rng.integers(1, 6))
        series.extend(xs[i : i + n], ys[i : i + n])
        i += n
    x, y = series.arrays()
    assert len(x) <= 9 and series.count == total
    want_x, want_y = by_hand(xs, ys, series.size, keep)
    assert x.tolist() == want_x and y.tolist() == pytest.approx(want_y)
    assert series.last_x == float(xs[-1])


def test_one_slow_token_among_a_million_still_shows() -> None:
    series = BoundedSeries(keep="peak")
    gaps = np.full(1_000_000, 0.05)
    gaps[612_345] = 2500.0  # a 2.5 s stall
    series.extend(np.arange(1_000_000) / 1000, gaps)
    x, y = series.arrays()
    assert len(x) <= 8193 and y.max() == 2500.0
    assert series.size > 1 and series.count == 1_000_000

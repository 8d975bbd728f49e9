"""Columns.search: searchsorted over an int32 column without widening the column (a Python
int needle made numpy copy a million-row column to int64 at every hover and trim)."""

from __future__ import annotations

import tracemalloc

import numpy as np

from gui.widgets.columns import Columns


def test_search_matches_searchsorted_and_copies_nothing() -> None:
    cols = Columns(start="i4")
    cols.extend(start=np.arange(0, 2_000_000, 2))
    starts = cols["start"]
    for value in (-5, 0, 7, 8, 1_999_998, 2**40):
        for side in ("left", "right"):
            want = np.searchsorted(starts.astype(np.int64), value, side)
            assert cols.search("start", value, side) == want
    assert cols.search("start", [7, 2**40], "right").tolist() == [4, 1_000_000]
    tracemalloc.start()
    try:
        cols.search("start", 1_234_567, "right")
        cols.search("start", [10, 20], "left")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024  # not the column again (4 MB as int32, 8 MB as int64)

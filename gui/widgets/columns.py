"""Columns of numpy arrays, preallocated and doubled when full (pyqtgraph's scrolling-plot
pattern): per-token timings live here, never in a widget or an object per token."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Columns"]


class Columns:
    def __init__(self, capacity: int = 4096, **dtypes: Any) -> None:
        self._dtypes = dtypes
        self._capacity = max(16, capacity)
        self._n = 0
        self._data = {name: np.zeros(self._capacity, dtype) for name, dtype in dtypes.items()}

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, name: str) -> np.ndarray:
        """A view of the filled part (valid until the next `extend`)."""
        return self._data[name][: self._n]

    def search(self, name: str, values: Any, side: str = "left") -> Any:
        """`np.searchsorted` over a sorted column, the needles cast to its dtype first: a
        Python int or an int64 against an int32 column makes numpy convert the whole column
        to int64 at each call (8 MB at a million rows, and the time to copy it)."""
        column = self[name]
        info = np.iinfo(column.dtype) if column.dtype.kind in "iu" else None
        needles = np.asarray(values)
        if info is not None:
            needles = np.clip(needles, info.min, info.max)
        return np.searchsorted(column, needles.astype(column.dtype, copy=False), side)

    def extend(self, **values: Any) -> None:
        """Append equal-length sequences, one per column (every column must be given)."""
        arrays = {name: np.asarray(values[name]) for name in self._dtypes}
        count = len(next(iter(arrays.values()))) if arrays else 0
        if count == 0:
            return
        need = self._n + count
        if need > self._capacity:
            while self._capacity < need:
                self._capacity *= 2
            for name, old in self._data.items():
                grown = np.zeros(self._capacity, old.dtype)
                grown[: self._n] = old[: self._n]
                self._data[name] = grown
        for name, arr in arrays.items():
            self._data[name][self._n : need] = arr
        self._n = need

    def clear(self) -> None:
        self._n = 0

"""A series of bounded size for drawing, however long the run (no Qt: numpy only).

Points go into buckets of `size` consecutive points (1 at first, so a run of up to
`2 * limit` points is drawn exactly). A bucket keeps its last x and either its highest y
(`peak`: a single slow token still shows on a million-token run) or its last y (`last`:
a cumulative count). When `2 * limit` buckets are full, neighbours merge in pairs and the
size doubles: an append costs amortised O(1), and what is drawn never exceeds
`2 * limit + 1` points, so a redraw costs the same at the millionth token as at the first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BoundedSeries"]


class BoundedSeries:
    def __init__(self, limit: int = 4096, *, keep: str = "peak") -> None:
        if keep not in ("peak", "last"):
            raise ValueError(f"keep is 'peak' or 'last', not {keep!r}")
        self._cap = 2 * max(1, limit)
        self._peak = keep == "peak"
        self._x = np.zeros(self._cap)
        self._y = np.zeros(self._cap)
        self.clear()

    def clear(self) -> None:
        self.size = 1  # points a bucket holds
        self._n = 0  # full buckets
        self._fill = 0  # points in the partial bucket
        self._px = self._py = 0.0  # the partial bucket's last x and kept y
        self.count = 0  # points appended

    def __len__(self) -> int:
        """How many points the series draws."""
        return self._n + (1 if self._fill else 0)

    @property
    def last_x(self) -> float | None:
        if self._fill:
            return self._px
        return float(self._x[self._n - 1]) if self._n else None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) to draw: one point a bucket, the partial one last."""
        x, y = self._x[: self._n], self._y[: self._n]
        if self._fill:
            x, y = np.append(x, self._px), np.append(y, self._py)
        return x.copy(), y.copy()

    def extend(self, xs: np.ndarray | list[float], ys: np.ndarray | list[float]) -> None:
        xs, ys = np.asarray(xs, float), np.asarray(ys, float)
        self.count += len(xs)
        i = 0
        while i < len(xs):
            if self._fill:  # top up the partial bucket first
                k = min(self.size - self._fill, len(xs) - i)
                self._take(xs[i : i + k], ys[i : i + k])
                i += k
                continue
            whole = min((len(xs) - i) // self.size, self._cap - self._n)
            if whole:
                end = i + whole * self.size
                bx = xs[i + self.size - 1 : end : self.size]
                by = ys[i:end].reshape(whole, self.size)
                by = by.max(axis=1) if self._peak else by[:, -1]
                self._x[self._n : self._n + whole] = bx
                self._y[self._n : self._n + whole] = by
                self._n += whole
                i = end
            elif self._n < self._cap:
                self._take(xs[i:], ys[i:])  # fewer than a bucket left
                i = len(xs)
            if self._n == self._cap:
                self._merge()

    def _take(self, xs: np.ndarray, ys: np.ndarray) -> None:
        y = float(ys.max()) if self._peak else float(ys[-1])
        self._py = max(self._py, y) if (self._peak and self._fill) else y
        self._px = float(xs[-1])
        self._fill += len(xs)
        if self._fill == self.size:
            self._x[self._n], self._y[self._n] = self._px, self._py
            self._n += 1
            self._fill = 0
            if self._n == self._cap:
                self._merge()

    def _merge(self) -> None:
        half = self._cap // 2
        y = self._y.reshape(half, 2)
        self._y[:half] = y.max(axis=1) if self._peak else y[:, 1]
        self._x[:half] = self._x[1::2]
        self._n = half
        self.size *= 2

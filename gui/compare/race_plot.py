"""The race graph: cumulative tokens against time for every lane of the round on screen, one
colour a lane with a legend, TTFB (○) and TTFT (●) markers, and silences of 2 s or more
shaded. Points are kept in numpy columns and drawn on a timer, never once per token.

A paint of this graph was the Compare view's dearest cost (~35 ms for 16 lanes), and most of
it followed a change of range: the axes, whose grid lines cross the whole plot, and every
curve are redrawn then. So while lanes stream, the auto-range grows in steps (a quarter of a
power of two: at most 25 % headroom) and changes a few times a second, not on every redraw;
when the race ends it fits the data exactly, as pyqtgraph's own auto-range would. The
bounds come from the numpy columns (a few numbers a lane), not from asking every item; the
markers are spots of one scatter item; the axes and the legend paint from a pixmap cache."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from core import RefusalDelta, RunStamps, TextDelta, ThinkingDelta, ToolCallDelta
from gui.theme import LIGHT, Theme, qcolor
from gui.widgets.columns import Columns

__all__ = ["LANE_COLORS", "RacePlot"]

LANE_COLORS = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
)  # fmt: skip
_CONTENT = (TextDelta, ThinkingDelta, RefusalDelta, ToolCallDelta)
STALL_S = 2.0
DOWNSAMPLE_FACTOR = 5  # pyqtgraph's auto default: points per pixel before it downsamples
MARK_SIZE = 9
_CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache


def _step(span: float) -> float:
    """A quarter of the power of two at or below `span` (1 for an empty span)."""
    return 2.0 ** (math.floor(math.log2(span)) - 2) if span > 0 else 1.0


class _RaceViewBox(pg.ViewBox):
    """A ViewBox whose auto-range takes the bounds its plot keeps (`bounds`), not the union
    of every child's data bounds (16 curves and their markers scanned on each update)."""

    def __init__(self) -> None:
        super().__init__()
        self.bounds: list[list[float] | None] | None = None

    def childrenBounds(
        self, frac: Any = None, orthoRange: Any = (None, None), items: Any = None
    ) -> Any:
        if items is not None or self.bounds is None or orthoRange != (None, None):
            return super().childrenBounds(frac=frac, orthoRange=orthoRange, items=items)
        return [None if b is None else list(b) for b in self.bounds]


class RacePlot(QWidget):
    """Drawn when its owner calls `redraw` (the Compare view, on its frame ticks)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = LIGHT
        self._view_box = _RaceViewBox()
        self.plot = pg.PlotWidget(viewBox=self._view_box)
        self.plot.setLabel("bottom", "time since the lane's request (s)")
        self.plot.setLabel("left", "tokens received")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setCacheMode(_CACHED)
        self.legend = self.plot.addLegend(offset=(10, 10))
        self._labels: list[str] = []  # the shown legend's
        self._staged = pg.LegendItem(offset=(10, 10))  # the next race's, built aside
        self._staged.setParentItem(self._view_box)
        self._staged.hide()
        self._staged_labels: list[str] = []
        self._points: list[Columns] = []
        self._curves: list[pg.PlotDataItem] = []  # lane i's curve, made once, every race's
        self._spots: list[dict[str, Any]] = []  # TTFB and TTFT markers, every lane
        self._marks = pg.ScatterPlotItem(size=MARK_SIZE)
        self._marks.setZValue(10)
        self.plot.addItem(self._marks)
        self._marks_dirty = False
        self._last: list[float | None] = []
        self._regions: list[pg.LinearRegionItem] = []
        self._dirty = False
        self._streaming = False  # see `_stream_mode`
        self._ds = 1
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.plot)

    def point_count(self, lane: int) -> int:
        return len(self._points[lane]) if lane < len(self._points) else 0

    def drawn_count(self, lane: int) -> int:
        """Points the lane's curve holds (tests: the graph shows every point)."""
        if lane >= len(self._curves):
            return 0
        x, _ = self._curves[lane].getOriginalDataset()
        return 0 if x is None else len(x)

    def marker_count(self) -> int:
        """TTFB and TTFT markers drawn (tests)."""
        return len(self._marks.getData()[0])

    def legend_labels(self) -> list[str]:
        """The labels the legend shows (tests)."""
        return list(self._labels)

    def prepare(self, labels: list[str]) -> None:
        """The lanes of the next race, as they are set up: their curves made now (empty, so
        nothing on screen changes) and their legend built aside, shown when the race starts.
        A first `set_lanes` of 16 new lanes cost 70 ms, 230-360 ms in the window while the
        race's engine started; a lane added costs a few ms."""
        self._ensure_curves(len(labels))
        if labels != self._labels:
            self._fill(self._staged, self._staged_labels, labels)

    def set_lanes(self, labels: list[str]) -> None:
        """A new round: one empty curve per lane. The curves and legend `prepare` made are
        shown; the next round of the same lanes (Repeat K) empties the curves it has."""
        self._points = [Columns(capacity=1024, t="f8", n="i8") for _ in labels]
        self._last = [None] * len(labels)
        self._spots = []
        self._marks.clear()
        for region in self._regions:
            self.plot.removeItem(region)
        self._regions = []
        self._view_box.bounds = None
        self._dirty = True
        self._ensure_curves(len(labels))
        self._stream_mode(True)
        for lane, curve in enumerate(self._curves):
            if self.drawn_count(lane):
                curve.setData([], [])
        if labels == self._labels:
            return
        if labels == self._staged_labels:  # swap: the shown legend is the next one aside
            self.legend.hide()
            self._staged.show()
            self.legend, self._staged = self._staged, self.legend
            self._labels, self._staged_labels = self._staged_labels, self._labels
        else:  # lanes nobody prepared (runs from the history)
            self._fill(self.legend, self._labels, labels)

    def _ensure_curves(self, count: int) -> None:
        for i in range(len(self._curves), count):
            color = LANE_COLORS[i % len(LANE_COLORS)]
            # a 1-px cosmetic pen: wider pens cost Qt's raster engine several ms a curve
            curve = pg.PlotDataItem([], [], pen=pg.mkPen(color, width=1))
            self._set_mode(curve)
            self.plot.addItem(curve)
            self._curves.append(curve)

    def _stream_mode(self, streaming: bool) -> None:
        """While lanes stream, every curve draws all its points (or every `_ds`-th peak):
        with pyqtgraph's auto downsampling, clipping to the view and range limit, each
        change of range re-computed all 16 curves at once (up to 35 ms of CPU in one
        frame), and the streaming range shows every point anyway. Afterwards (zoom, pan,
        long runs) pyqtgraph's own again."""
        if streaming != self._streaming:
            self._streaming, self._ds = streaming, 1
            for curve in self._curves:
                self._set_mode(curve)

    def _set_mode(self, curve: pg.PlotDataItem) -> None:
        if self._streaming:
            curve.setClipToView(False)
            curve.setDownsampling(ds=self._ds, auto=False, method="peak")
            curve.setDynamicRangeLimit(None)
        else:
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.setDynamicRangeLimit()

    def _fill(self, legend: pg.LegendItem, shown: list[str], labels: list[str]) -> None:
        """`legend` (whose entries are `shown`, updated in place) made to list `labels`:
        entries renamed, removed past the end, added for new lanes."""
        for i in range(min(len(shown), len(labels))):
            if shown[i] != labels[i]:
                legend.items[i][1].setText(labels[i])
        for i in reversed(range(len(labels), len(shown))):
            legend.removeItem(self._curves[i])
        for i in range(len(shown), len(labels)):
            legend.addItem(self._curves[i], labels[i])
            for item in legend.items[-1]:  # each sample and label: a pixmap once
                item.setCacheMode(_CACHED)
                for child in item.childItems():
                    child.setCacheMode(_CACHED)
        legend.updateSize()
        shown[:] = labels

    @Slot(object)
    def on_lane_events(self, events: list) -> None:
        grouped: dict[int, list[float]] = {}
        for lane_event in events:
            if isinstance(lane_event.event, _CONTENT) and lane_event.lane < len(self._points):
                grouped.setdefault(lane_event.lane, []).append(lane_event.event.t_ns)
        for lane, stamps in grouped.items():
            times = np.asarray(stamps, dtype="f8") / 1e9
            self._append(lane, times)
        self._dirty = self._dirty or bool(grouped)

    def _append(self, lane: int, times: np.ndarray) -> None:
        points = self._points[lane]
        start = len(points)
        if not start:
            self._mark(lane, float(times[0]), filled=True)  # TTFT
        last = self._last[lane]
        edges = np.concatenate(([times[0] if last is None else last], times))
        for i in np.flatnonzero(np.diff(edges) >= STALL_S):  # silences only, not every token
            self._shade(lane, float(edges[i]), float(edges[i + 1]))
        self._last[lane] = float(times[-1])
        points.extend(t=times, n=np.arange(start + 1, start + len(times) + 1))

    def add_stamps(self, lane: int, stamps: RunStamps) -> None:
        """A recorded run's content stamps as that lane's curve."""
        if stamps.content_ns and lane < len(self._points):
            self._append(lane, np.asarray(stamps.content_ns, dtype="f8") / 1e9)
            self._dirty = True

    def mark_first_byte(self, lane: int, ttfb_ms: float | None) -> None:
        if ttfb_ms is not None and lane < len(self._points):
            self._mark(lane, ttfb_ms / 1e3, filled=False)

    def _mark(self, lane: int, t: float, *, filled: bool) -> None:
        color = LANE_COLORS[lane % len(LANE_COLORS)]
        brush = pg.mkBrush(color) if filled else pg.mkBrush(self._theme.base)
        self._spots.append({"pos": (t, 0), "pen": pg.mkPen(color), "brush": brush})
        self._marks_dirty = self._dirty = True  # drawn with the curves, all at once

    def _shade(self, lane: int, start: float, end: float) -> None:
        color = qcolor(LANE_COLORS[lane % len(LANE_COLORS)])
        color.setAlpha(40)
        region = pg.LinearRegionItem((start, end), movable=False, brush=pg.mkBrush(color))
        region.setZValue(-10)
        self.plot.addItem(region)
        self._regions.append(region)

    def _bounds(self, *, exact: bool) -> list[list[float] | None] | None:
        """What the curves and markers span, [[t min, t max], [0, n max]]; unless `exact`,
        widened to the next step so that the range changes only now and then."""
        lows = [p["t"][0] for p in self._points if len(p)]
        highs = [p["t"][-1] for p in self._points if len(p)]
        lows += [spot["pos"][0] for spot in self._spots]
        highs += [spot["pos"][0] for spot in self._spots]
        if not lows:
            return None
        top = max((len(p) for p in self._points), default=0)
        t_low, t_high = float(min(lows)), float(max(highs))
        if exact:
            return [[t_low, t_high], [0.0, float(top)]]
        t_step = _step(t_high - t_low)
        return [
            [math.floor(t_low / t_step) * t_step, math.ceil(t_high / t_step) * t_step],
            [0.0, math.ceil(top / _step(top)) * _step(top)],
        ]

    def redraw(self, *, exact: bool = False) -> bool:
        """The points and markers that arrived since the last call onto the graph (its
        paint follows); False when there were none."""
        if not self._dirty and not exact:
            return False
        self._dirty = False
        curves = self._curves[: len(self._points)]
        if self._streaming:  # downsampled by a power of two as points outgrow the plot
            top = max((len(p) for p in self._points), default=0)
            ds = top // (DOWNSAMPLE_FACTOR * max(1, int(self._view_box.width())))
            ds = 2 ** int(math.log2(ds)) if ds > 1 else 1
            if ds != self._ds:
                self._ds = ds
                for curve in curves:
                    curve.setDownsampling(ds=ds, auto=False, method="peak")
        for lane, (points, curve) in enumerate(zip(self._points, curves, strict=True)):
            if len(points) != self.drawn_count(lane):
                curve.setData(points["t"], points["n"])
        if self._marks_dirty:
            self._marks_dirty = False
            self._marks.setData(spots=self._spots)
        bounds = self._bounds(exact=exact)
        shown = self._view_box.bounds
        if not exact and bounds and shown and bounds[0] != shown[0] and bounds[1] != shown[1]:
            # one axis's range a redraw: each change re-renders that axis's cached picture,
            # grid lines across the plot (~10 ms in a race); the other at the next redraw
            bounds = [bounds[0], shown[1]]
            self._dirty = True
        if bounds != self._view_box.bounds:
            self._view_box.bounds = bounds
            self._view_box.updateAutoRange()
        return True

    def flush(self) -> None:
        """Draw every point now, in a range that fits them exactly (a race's end)."""
        self._stream_mode(False)
        self.redraw(exact=True)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.plot.setBackground(theme.plot_bg)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen(theme.text)
            self.plot.getAxis(axis).setPen(theme.muted)

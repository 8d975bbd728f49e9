"""The race graph: cumulative tokens against time for every lane of the round on screen, one
colour a lane with a legend, TTFB (○) and TTFT (●) markers, and silences of 2 s or more
shaded. Points are kept in numpy columns and drawn on a timer, never once per token."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

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
REDRAW_MS = 50


class RacePlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = LIGHT
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "time since the lane's request (s)")
        self.plot.setLabel("left", "tokens received")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.legend = self.plot.addLegend(offset=(10, 10))
        self._points: list[Columns] = []
        self._curves: list[pg.PlotDataItem] = []
        self._marks: list[pg.ScatterPlotItem] = []
        self._last: list[float | None] = []
        self._regions: list[pg.LinearRegionItem] = []
        self._dirty = False
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.plot)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    def point_count(self, lane: int) -> int:
        return len(self._points[lane]) if lane < len(self._points) else 0

    def set_lanes(self, labels: list[str]) -> None:
        """A new round: one empty curve per lane."""
        self.plot.clear()
        self.legend.clear()
        self._points, self._curves, self._marks, self._last = [], [], [], []
        self._regions = []
        for i, label in enumerate(labels):
            color = LANE_COLORS[i % len(LANE_COLORS)]
            # a 1-px cosmetic pen: wider pens cost Qt's raster engine several ms a curve
            curve = self.plot.plot([], [], pen=pg.mkPen(color, width=1), name=label)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            marks = pg.ScatterPlotItem(size=9, pen=pg.mkPen(color), brush=pg.mkBrush(color))
            self.plot.addItem(marks)
            self._points.append(Columns(capacity=1024, t="f8", n="i8"))
            self._curves.append(curve)
            self._marks.append(marks)
            self._last.append(None)
        self._dirty = True

    @Slot(object)
    def on_lane_events(self, events: list) -> None:
        grouped: dict[int, list[float]] = {}
        for lane_event in events:
            if isinstance(lane_event.event, _CONTENT) and lane_event.lane < len(self._points):
                grouped.setdefault(lane_event.lane, []).append(lane_event.event.t_ns / 1e9)
        for lane, times in grouped.items():
            points = self._points[lane]
            if not len(points):
                self._mark(lane, times[0], 0, filled=True)  # TTFT
            start = len(points)
            last = self._last[lane]
            for t in times:
                if last is not None and t - last >= STALL_S:
                    self._shade(lane, last, t)
                last = t
            self._last[lane] = last
            points.extend(t=times, n=np.arange(start + 1, start + len(times) + 1))
        self._dirty = self._dirty or bool(grouped)

    def add_stamps(self, lane: int, stamps: RunStamps) -> None:
        """A recorded run's content stamps as that lane's curve."""
        times = [t / 1e9 for t in stamps.content_ns]
        if times and lane < len(self._points):
            self._mark(lane, times[0], 0, filled=True)
            self._points[lane].extend(t=times, n=np.arange(1, len(times) + 1))
            self._dirty = True

    def mark_first_byte(self, lane: int, ttfb_ms: float | None) -> None:
        if ttfb_ms is not None and lane < len(self._marks):
            self._mark(lane, ttfb_ms / 1e3, 0, filled=False)

    def _mark(self, lane: int, t: float, n: int, *, filled: bool) -> None:
        color = LANE_COLORS[lane % len(LANE_COLORS)]
        brush = pg.mkBrush(color) if filled else pg.mkBrush(self._theme.base)
        self._marks[lane].addPoints([{"pos": (t, n), "brush": brush}])

    def _shade(self, lane: int, start: float, end: float) -> None:
        color = qcolor(LANE_COLORS[lane % len(LANE_COLORS)])
        color.setAlpha(40)
        region = pg.LinearRegionItem((start, end), movable=False, brush=pg.mkBrush(color))
        region.setZValue(-10)
        self.plot.addItem(region)
        self._regions.append(region)

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for points, curve in zip(self._points, self._curves, strict=True):
            if len(points):
                curve.setData(points["t"], points["n"])

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.plot.setBackground(theme.plot_bg)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen(theme.text)
            self.plot.getAxis(axis).setPen(theme.muted)

"""Pieces of the latency graph: its two plots, a labelled vertical marker (twinned on the
lower plot), a shaded stall region, and the step line of the gaps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gui.theme import qcolor

__all__ = [
    "TimeAxis",
    "build_plots",
    "marker_lines",
    "restyle_marker",
    "stall_region",
    "step_line",
    "time_label",
]

MS_BELOW_S = 2.0  # a time range ending before this is labelled in milliseconds


class TimeAxis(pg.AxisItem):
    """The time axis, in seconds or milliseconds as the window's plot chooses for both
    plots alike; never an SI-prefix multiplier in the label."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.enableAutoSIPrefix(False)
        self.in_ms = False

    def set_ms(self, in_ms: bool) -> None:
        if in_ms != self.in_ms:
            self.in_ms = in_ms
            self.picture = None  # pyqtgraph caches the drawn ticks
            self.update()

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if not self.in_ms:
            return super().tickStrings(values, scale, spacing)
        return [f"{round(v * 1000, 6):g}" for v in values]


def time_label(in_ms: bool) -> str:
    return f"time since the request was sent ({'ms' if in_ms else 's'})"


def build_plots() -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem, pg.PlotItem]:
    """The gap plot over the cumulative-count plot, x-linked, set up for cheap redraws."""
    graphics = pg.GraphicsLayoutWidget()
    gap_plot = graphics.addPlot(row=0, col=0, axisItems={"bottom": TimeAxis()})
    count_plot = graphics.addPlot(row=1, col=0, axisItems={"bottom": TimeAxis()})
    graphics.ci.layout.setRowStretchFactor(0, 3)
    graphics.ci.layout.setRowStretchFactor(1, 2)
    count_plot.setXLink(gap_plot)
    gap_plot.setLabel("left", "gap (ms)")
    count_plot.setLabel("left", "tokens")
    count_plot.setLabel("bottom", time_label(False))
    for plot in (gap_plot, count_plot):
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.getAxis("left").setWidth(56)  # both alike, so the two plots line up
        plot.showGrid(x=False, y=False)  # grid lines cost ~4 ms per axis paint
        plot.setMenuEnabled(False)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.disableAutoRange()
    return graphics, gap_plot, count_plot


def _marker_pen(color: str, dash: bool) -> Any:
    style = Qt.PenStyle.DashLine if dash else Qt.PenStyle.SolidLine
    return pg.mkPen(color, width=1.2, style=style)


def restyle_marker(
    pair: tuple[pg.InfiniteLine, pg.InfiniteLine],
    x: float,
    label: str,
    color: str,
    plot_bg: str,
    dash: bool = True,
    height: float = 0.95,
) -> None:
    """Show a hidden pair from `marker_lines` again as the marker those arguments make: a
    new pair, added to both plots, took 6-13 ms here, and a run starts with four (the
    window's loop stalled 40-60 ms on them as the first tokens came)."""
    line = pair[0]
    pen = _marker_pen(color, dash)
    for item in pair:
        item.setVisible(True)  # first: a hidden label does not lay out its text
        item.setPen(pen)
        item.setValue(x)
    text = line.label
    text.fill = pg.mkBrush(qcolor(plot_bg + "d0"))
    text.setColor(color)
    text.orthoPos = height
    text.setFormat(label)  # lays out the text and places it


def marker_lines(
    x: float, label: str, color: str, plot_bg: str, dash: bool = True, height: float = 0.95
) -> tuple[pg.InfiniteLine, pg.InfiniteLine]:
    """A labelled line for the gap plot and its unlabelled twin for the count plot."""
    pen = _marker_pen(color, dash)
    line = pg.InfiniteLine(
        x,
        angle=90,
        pen=pen,
        movable=False,
        label=label,
        labelOpts={
            "position": height,
            "color": color,
            "fill": qcolor(plot_bg + "d0"),
            "anchors": [(0, 0), (0, 0)],
        },
    )
    return line, pg.InfiniteLine(x, angle=90, pen=pen, movable=False)


def stall_region(start: float, end: float, fill: str) -> pg.LinearRegionItem:
    brush = pg.mkBrush(qcolor(fill))
    region = pg.LinearRegionItem((start, end), movable=False, brush=brush, pen=pg.mkPen(None))
    region.setZValue(-10)
    return region


def step_line(x0: float, xs: np.ndarray, gaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each token's gap spans the interval since the previous token: a step line (built
    here rather than with stepMode, which breaks pyqtgraph's clipToView)."""
    edges = np.concatenate(([x0], xs))
    return np.repeat(edges, 2)[1:-1], np.repeat(gaps, 2)

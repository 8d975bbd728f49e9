"""The live latency graph: gap before each token (ms) above, cumulative tokens below, on one
time axis (seconds since the request went out). Markers for TTFB, TTFT and the first answer
token, shaded stalls, a marker per retry or continuation, and a live tokens/s readout.

Events land in preallocated numpy columns as they arrive; the curves are redrawn by a ~30 Hz
timer (10 Hz while tokens pour in) only when something changed.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QFont, QImage, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core import (
    AttemptStarted,
    ChunkBatch,
    DeltaBatch,
    Progress,
    RefusalDelta,
    ResponseStarted,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from gui.run.messages import SessionOutcome, SessionStart
from gui.run.peaks import BoundedSeries
from gui.run.plot_items import (
    MS_BELOW_S,
    TimeAxis,
    build_plots,
    marker_lines,
    restyle_marker,
    stall_region,
    step_line,
    time_label,
)
from gui.theme import LIGHT, Theme, qcolor
from gui.widgets.elided_label import LiveLabel

__all__ = ["REDRAW_MS", "LatencyPlot"]

REDRAW_MS = 33
# A stream faster than this many tokens a redraw (~3,000 tok/s) is redrawn every
# REDRAW_FAST_MS: a graph paint costs the window 7-20 ms on a 2-core machine, and its curve
# cannot show more at 30 Hz than at 10 while the window has tens of thousands of tokens a
# second to lay out (bench/gui_throughput.py).
FAST_TOKENS = 100
REDRAW_FAST_MS = 100
SPARE_MARKERS = 6  # a run's markers: attempt, headers, TTFB, TTFT, first answer; and one more
_HEADROOM = 1.3  # a range grows to this multiple of the data when the data outgrows it
# ... and to this one when it grew less than _REGROWN_S ago: a range change redraws the
# axes it moves (7-9 ms a frame here), and a fast stream outgrew 1.3x every frame or two
_FAST_HEADROOM = 2.0
_REGROWN_S = 0.25
_FILL_LIMIT = 6000  # vertices; filling a longer step line costs more than it shows
_CONTENT = (TextDelta, ThinkingDelta, RefusalDelta, ToolCallDelta)


def _joined(parts: list) -> np.ndarray:
    """Floats and float arrays, in order, as one array."""
    return np.concatenate([np.atleast_1d(np.asarray(p, np.float64)) for p in parts] or [[]])


class LatencyPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False)
        self._theme = LIGHT
        self._zoom = 1.0
        self.readout = LiveLabel("No run yet")  # changes every frame: repaints alone
        self.readout.setObjectName("readout")
        self.export_button = QPushButton("Export PNG…")
        self.no_timings = QLabel(
            "No timings in this source: a pasted log or a plain body says what was sent, "
            "not when. The verdict and the events are still read."
        )
        self.no_timings.setObjectName("muted")
        self.no_timings.setWordWrap(True)
        self.no_timings.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_timings.setVisible(False)
        self.graphics, self.gap_plot, self.count_plot = build_plots()
        self.gap_plot.sigXRangeChanged.connect(self._on_x_range_changed)
        self._attempt_no = 0  # attempts shown since the views were cleared, from 1
        self._suffix = ""  # marker labels of a later attempt: " #2"
        self._kept_text = False  # the count runs on across a continuation (whole answer)
        for plot in (self.gap_plot, self.count_plot):
            plot.getViewBox().sigRangeChangedManually.connect(self._on_user_zoomed)
        self.gap_curve = self.gap_plot.plot([], [])
        self.count_curve = self.count_plot.plot([], [])
        # bounded for drawing: a million-token run holds and redraws ~8,000 points a series
        self._gaps = BoundedSeries(keep="peak")
        self._counts = BoundedSeries(keep="last")
        self._items: list[tuple[pg.PlotItem, pg.GraphicsObject]] = []  # removed on reset
        # Marker pairs are made ahead (here, after the window's first frame) and hidden on
        # reset for the next run's markers, not made as a run starts: see `restyle_marker`.
        self._markers: list[tuple[pg.InfiniteLine, pg.InfiniteLine]] = []  # shown
        self._spare: list[tuple[pg.InfiniteLine, pg.InfiniteLine]] = []  # hidden
        self._live_stall: pg.LinearRegionItem | None = None
        self._offset = 0
        self._fresh_attempt = True  # markers TTFB/TTFT only for the first attempt shown
        self._seen: set[str] = set()
        self._ttft: int | None = None
        self._x0: float | None = None  # left edge of the first gap interval (seconds)
        self._max_gap = 0.0
        self._now = 0.0  # the latest Progress time on the axis (s): a stall grows the x range
        self._x_end = 0.0  # the end of the time range shown (s): kept after the run, stalls in
        self._follow = True  # ranges follow the data until the user zooms or pans
        self._last_content: int | None = None
        self._count = 0
        self._drawn = 0  # the count at the last redraw
        self._grown_at: dict[object, float] = {}  # when each axis's range last grew
        self.clock = time.monotonic
        self._tps: float | None = None
        self._state = ""
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 0)
        top.addWidget(self.readout, 1)
        top.addWidget(self.export_button)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addLayout(top)
        col.addWidget(self.graphics, 1)
        col.addWidget(self.no_timings, 1)
        self.set_theme(LIGHT)
        self._spare = [self._new_marker() for _ in range(SPARE_MARKERS)]

    # --- what tests and the window read ---------------------------------------------------

    def x_range(self) -> tuple[float, float]:
        """The time range shown (seconds)."""
        (x0, x1), _ = self.gap_plot.viewRange()
        return x0, x1

    def has_timings(self) -> bool:
        """Something timed to plot (and export): not a source without timings."""
        return self._counts.count > 0 and not self.no_timings.isVisibleTo(self)

    def point_count(self) -> int:
        """Tokens plotted so far (the cumulative series)."""
        return self._counts.count

    def drawn_count(self) -> int:
        """Points the curve holds after the last redraw."""
        x, _ = self.count_curve.getOriginalDataset()
        return 0 if x is None else len(x)

    def render_image(self, stamp: str = "", scale: float = 2.0) -> QImage:
        """The graph alone (no button), re-drawn at `scale`, under a strip stamped with what
        it shows; the stamp is also the PNG's Description text."""
        w, h = self.graphics.width(), self.graphics.height()
        head = round(26 * scale) if stamp else 0
        image = QImage(round(w * scale), round(h * scale) + head, QImage.Format.Format_ARGB32)
        image.fill(qcolor(self._theme.plot_bg))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if stamp:
            font = QFont()
            font.setPixelSize(round(13 * scale))
            painter.setFont(font)
            painter.setPen(qcolor(self._theme.text))
            strip = QRectF(8 * scale, 0, image.width() - 16 * scale, head)
            painter.drawText(strip, int(Qt.AlignmentFlag.AlignVCenter), stamp)
        target = QRectF(0, head, w * scale, h * scale)
        self.graphics.render(painter, target, self.graphics.viewport().rect())
        painter.end()
        if stamp:
            image.setText("Description", stamp)
        return image

    def export_png(self, path: Path, stamp: str = "") -> bool:
        return self.render_image(stamp).save(str(path), "PNG")

    # --- slots -------------------------------------------------------------------------

    @Slot(object)
    def on_session_started(self, start: SessionStart) -> None:
        if not start.fresh:
            return
        self._gaps.clear()
        self._counts.clear()
        for plot, item in self._items:
            if isinstance(item, pg.InfiniteLine):
                item.setVisible(False)  # kept for the next markers
            else:
                plot.removeItem(item)
        self._items.clear()
        self._spare += self._markers
        self._markers.clear()
        self._drop_live_stall()
        self._fresh_attempt, self._seen, self._count, self._ttft = True, set(), 0, None
        self._x0, self._max_gap, self._follow, self._now = None, 0.0, True, 0.0
        self._x_end = 0.0
        self._grown_at.clear()
        self._tps, self._state, self._last_content = None, "", None
        self._attempt_no, self._suffix = 0, ""
        self.graphics.setVisible(True)
        self.no_timings.setVisible(False)
        self.readout.setText("Replay" if start.kind == "replay" else "Connecting…")
        self._dirty = True

    @Slot(object, object)
    def on_attempt_started(self, attempt: AttemptStarted, axis_offset_ns: int) -> None:
        self._offset = axis_offset_ns
        self._last_content = None
        self._drop_live_stall()
        self._attempt_no += 1
        if attempt.kind == "first" or self._attempt_no == 1:
            return
        # every attempt gets its own TTFB/TTFT markers, numbered like the attempts table
        self._fresh_attempt, self._seen, self._ttft = True, set(), None
        self._suffix = f" #{self._attempt_no}"
        self._kept_text = attempt.kind == "continue"
        if attempt.kind in ("retry", "more_tokens"):
            self._count = 0
        kind = {"more_tokens": "more tokens"}.get(attempt.kind, attempt.kind)
        color = self._theme.outcomes["truncated" if attempt.kind == "continue" else "interrupted"]
        self._marker(
            axis_offset_ns / 1e9, f"#{self._attempt_no} {kind}", color, dash=False, height=0.3
        )

    @Slot(object)
    def on_chunks_received(self, chunks: ChunkBatch) -> None:
        if chunks and "ttfb" not in self._seen and self._fresh_attempt:
            self._seen.add("ttfb")
            ttfb = "TTFB" + self._suffix
            self._marker(
                (chunks.t_ns[0] + self._offset) / 1e9,
                ttfb,
                self._theme.marker_text or self._theme.muted,
            )

    @Slot(object)
    def on_response_started(self, response: ResponseStarted) -> None:
        """The response headers' arrival (core's `headers_ms`): its own marker, since a
        server may send them at once and compute for seconds before the first byte."""
        if response.t_ns > 0 and self._fresh_attempt:
            self._headers_marker((response.t_ns + self._offset) / 1e9)

    def _headers_marker(self, x: float) -> None:
        if "headers" not in self._seen:
            self._seen.add("headers")
            color = self._theme.marker_text or self._theme.muted
            self._marker(x, "headers" + self._suffix, color, height=0.56)

    @Slot(object)
    def on_events_received(self, events: list) -> None:
        xs: list = []  # floats, and arrays for the rest of a batch
        gx: list = []
        gy: list = []
        for ev in events:
            if type(ev) is DeltaBatch:
                if not ev:
                    continue
                t_all = np.frombuffer(ev.t_ns, np.int64) + self._offset
                self._content(ev.kind, int(t_all[0]), xs, gx, gy)  # markers, the first gap
                if len(t_all) > 1:
                    xs.append(t_all[1:] / 1e9)
                    gx.append(t_all[1:] / 1e9)
                    gy.append(np.diff(t_all) / 1e6)
                    self._last_content = int(t_all[-1])
            elif isinstance(ev, _CONTENT):
                self._content(type(ev), ev.t_ns + self._offset, xs, gx, gy)
        if xs:
            x, gxs, gys = _joined(xs), _joined(gx), _joined(gy)
            n = len(x)
            self._counts.extend(x, np.arange(self._count + 1, self._count + n + 1))
            self._count += n
            self._gaps.extend(gxs, gys)
            self._max_gap = max(self._max_gap, float(gys.max()) if len(gys) else 0.0)
            self._drop_live_stall()
            self._dirty = True

    def _content(self, kind: type, t: int, xs: list, gx: list, gy: list) -> None:
        """One content event at axis time `t`: the first-token markers, and its gap."""
        if self._fresh_attempt:
            if self._ttft is None:
                self._ttft = t
                self._marker(t / 1e9, "TTFT" + self._suffix, self._theme.accent, height=0.82)
            if kind is TextDelta and "answer" not in self._seen:
                self._seen.add("answer")
                if t != self._ttft:  # after reasoning: its own marker
                    self._marker(t / 1e9, "first answer", self._theme.cumulative_pen, height=0.69)
        if self._last_content is not None:
            gx.append(t / 1e9)
            gy.append((t - self._last_content) / 1e6)
        elif self._x0 is None:
            self._x0 = t / 1e9
        else:  # a later attempt's first token: the interval since the last one is flat
            gx.append(t / 1e9)
            gy.append(0.0)
        self._last_content = t
        xs.append(t / 1e9)

    @Slot(object)
    def on_progress_changed(self, p: Progress) -> None:
        self._tps, self._state = p.tokens_per_s or self._tps, p.state
        self._now = (p.t_ns + self._offset) / 1e9
        if p.state == "stalled" and self._last_content is not None:
            end = self._now
            if self._live_stall is None:
                self._live_stall = self._region(self._last_content / 1e9, end)
            else:
                self._live_stall.setRegion((self._last_content / 1e9, end))
        self._dirty = True

    @Slot(object)
    def on_verdict_ready(self, outcome: SessionOutcome) -> None:
        self._drop_live_stall()
        v = outcome.verdict
        m = v.metrics
        for stall in m.stalls:
            start = self._offset / 1e9 + stall.at_ms / 1e3
            self._region(start, start + stall.gap_ms / 1e3)
        if v.detail == "stall" and self._last_content is not None and m.total_ms:
            self._region(self._last_content / 1e9, self._offset / 1e9 + m.total_ms / 1e3)
        if m.headers_ms is not None and self._fresh_attempt:  # a replay: from the verdict
            self._headers_marker(self._offset / 1e9 + m.headers_ms / 1e3)
        if m.total_ms:  # the whole run, a stall or Esc at its end included
            self._x_end = max(self._x_end, self._offset / 1e9 + m.total_ms / 1e3)
        self._state = ""
        self._tps = m.output_tokens_per_s
        if outcome.replay_kind is not None and m.ttfb_ms is None and m.total_ms is None:
            self.graphics.setVisible(False)  # nothing to plot: say so instead of empty axes
            self.no_timings.setVisible(True)
            self.readout.setText(f"{self._count:,} tokens · no timings")
            return
        source = "usage" if m.tokens_source == "usage" else "chunks"
        self._readout(final=f"(N from {source})")
        self._redraw()
        self._fit_ranges(headroom=1.02)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.graphics.setBackground(theme.plot_bg)
        for plot in (self.gap_plot, self.count_plot):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(theme.border))
                axis.setTextPen(pg.mkPen(theme.muted))
        self.gap_curve.setPen(pg.mkPen(theme.gap_pen, width=1))
        self.gap_curve.setBrush(pg.mkBrush(qcolor(theme.gap_fill)))
        self.count_curve.setPen(pg.mkPen(theme.cumulative_pen, width=1))
        self._dirty = True

    def set_zoom(self, factor: float) -> None:
        self._zoom = factor
        font = QFont()
        font.setPointSizeF(9 * factor)
        label_font = QFont()
        label_font.setPointSizeF(9 * min(factor, 1.4))  # the two y labels must not meet
        for plot in (self.gap_plot, self.count_plot):
            for name in ("left", "bottom"):
                plot.getAxis(name).setStyle(tickFont=font)
                plot.getAxis(name).label.setFont(label_font)
            plot.getAxis("left").setWidth(round(40 + 16 * factor))

    @Slot(object, object)
    def _on_x_range_changed(self, _view: object, x_range: object) -> None:
        """One time unit for both plots, chosen by the length shown: ms under 2 s."""
        _, x1 = x_range  # type: ignore[misc]
        in_ms = x1 < MS_BELOW_S
        for plot in (self.gap_plot, self.count_plot):
            axis = plot.getAxis("bottom")
            if isinstance(axis, TimeAxis):
                axis.set_ms(in_ms)
        if self.count_plot.getAxis("bottom").labelText != time_label(in_ms):
            self.count_plot.setLabel("bottom", time_label(in_ms))

    def time_unit(self) -> str:
        axis = self.count_plot.getAxis("bottom")
        return "ms" if isinstance(axis, TimeAxis) and axis.in_ms else "s"

    # --- drawing -------------------------------------------------------------------------

    def _marker(
        self, x: float, label: str, color: str, dash: bool = True, height: float = 0.95
    ) -> None:
        pair = self._spare.pop() if self._spare else self._new_marker()
        restyle_marker(pair, x, label, color, self._theme.plot_bg, dash, height)
        self._markers.append(pair)
        self._items += [(self.gap_plot, pair[0]), (self.count_plot, pair[1])]

    def _new_marker(self) -> tuple[pg.InfiniteLine, pg.InfiniteLine]:
        """A hidden marker pair on both plots, for `_marker` to show."""
        pair = marker_lines(0.0, "", self._theme.muted, self._theme.plot_bg)
        self.gap_plot.addItem(pair[0], ignoreBounds=True)
        self.count_plot.addItem(pair[1], ignoreBounds=True)
        for item in pair:
            item.setVisible(False)
        return pair

    def _region(self, start: float, end: float) -> pg.LinearRegionItem:
        region = stall_region(start, end, self._theme.stall_fill)
        self.gap_plot.addItem(region)
        self._items.append((self.gap_plot, region))
        return region

    def _drop_live_stall(self) -> None:
        if self._live_stall is not None:
            self.gap_plot.removeItem(self._live_stall)
            self._items.remove((self.gap_plot, self._live_stall))
            self._live_stall = None

    def _readout(self, final: str = "") -> None:
        parts = []
        if self._state:
            parts.append(f"● {self._state}")
        if self._tps:
            parts.append(f"{self._tps:,.0f} tok/s {final}".rstrip())
        parts.append(f"{self._count:,} tokens" + self._scope())
        self.readout.setText("  ·  ".join(parts))

    def _scope(self) -> str:
        """Which answer the token count covers (issue 14 item 10)."""
        if self._attempt_no <= 1:
            return ""
        return " (whole answer)" if self._kept_text else " (this attempt)"

    @Slot(object, object)
    def _on_user_zoomed(self, *_: object) -> None:
        self._follow = False

    def _fit_ranges(self, headroom: float = _HEADROOM) -> None:
        """Grow the ranges in steps, not every frame: a range change redraws every axis."""
        if not self._follow or self._counts.last_x is None:
            return
        x_end = float(self._counts.last_x)
        if self._live_stall is not None:
            self._x_end = max(self._x_end, self._now)
        x_end = max(x_end, self._x_end)
        top = (float(self._count), self._max_gap)
        (_, x1), _ = self.gap_plot.viewRange()
        if x_end > x1 or headroom < _HEADROOM:
            grow = self._growth("x", headroom)
            self.gap_plot.setXRange(0, max(x_end * grow, 0.01), padding=0)
        for plot, value in ((self.count_plot, top[0]), (self.gap_plot, top[1])):
            _, (_, y1) = plot.viewRange()
            if value > y1 or headroom < _HEADROOM:
                grow = self._growth(plot, headroom)
                plot.setYRange(0, max(value * grow, 1.0), padding=0)

    def _growth(self, axis: object, headroom: float) -> float:
        """How far a range outgrown now grows: `headroom`, or more if it grew just before."""
        now = self.clock()
        last = self._grown_at.get(axis)
        self._grown_at[axis] = now
        if headroom < _HEADROOM or last is None or now - last >= _REGROWN_S:
            return headroom
        return _FAST_HEADROOM

    @Slot()
    def _redraw(self) -> None:
        fast = self._count - self._drawn > FAST_TOKENS
        self._drawn = self._count
        self._timer.setInterval(REDRAW_FAST_MS if fast else REDRAW_MS)
        if not self._dirty:
            return
        self._dirty = False
        if len(self._gaps) and self._x0 is not None:
            x, y = step_line(self._x0, *self._gaps.arrays())
            fill = 0 if len(x) <= _FILL_LIMIT else None
            if self.gap_curve.opts["fillLevel"] != fill:
                self.gap_curve.setFillLevel(fill)
            self.gap_curve.setData(x, y)
        else:
            self.gap_curve.setData([], [])
        self.count_curve.setData(*self._counts.arrays())
        self._fit_ranges()
        if self._state:
            self._readout()

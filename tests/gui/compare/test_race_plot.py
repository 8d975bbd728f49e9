"""The race graph's range while lanes stream: it changes one axis a redraw."""

from __future__ import annotations

from typing import Any

from core import LaneEvent, TextDelta
from gui.compare.race_plot import RacePlot


def tokens(*times_s: float) -> list[LaneEvent]:
    return [LaneEvent(0, 0, TextDelta("x", int(t * 1e9))) for t in times_s]


def test_the_range_changes_one_axis_a_redraw(qtbot: Any) -> None:
    plot = RacePlot()
    qtbot.addWidget(plot)
    plot.prepare(["a", "b"])
    plot.set_lanes(["a", "b"])
    plot.on_lane_events(tokens(*(i / 9 for i in range(10))))
    plot.redraw()
    (x0, y0) = plot._view_box.bounds
    plot.on_lane_events(
        tokens(*(1.1 + i * 7.9 / 299 for i in range(300)))
    )  # both axes past their step
    plot.redraw()
    (x1, y1) = plot._view_box.bounds
    assert x1 != x0 and y1 == y0
    assert plot.redraw()  # the other axis still due
    (x2, y2) = plot._view_box.bounds
    assert x2 == x1 and y2 != y1 and y2[1] >= 310
    plot.flush()  # a race's end: both, exactly
    assert plot._view_box.bounds == [[0.0, 9.0], [0.0, 310.0]]
    assert plot.legend_labels() == ["a", "b"]


def test_curves_skip_view_dependent_work_while_lanes_stream(qtbot: Any) -> None:
    """While streaming a change of range re-computes no curve; after the race, pyqtgraph's
    auto downsampling and clipping are back for zoom and pan."""
    plot = RacePlot()
    qtbot.addWidget(plot)
    plot.set_lanes(["a", "b"])
    opts = plot._curves[0].opts
    assert not opts["clipToView"] and not opts["autoDownsample"]
    assert opts["dynamicRangeLimit"] is None
    plot.on_lane_events(tokens(0.1, 0.2, 0.3))
    plot.flush()
    assert opts["clipToView"] and opts["autoDownsample"]
    assert plot.drawn_count(0) == 3
    plot.set_lanes(["a", "b"])  # the next round streams again
    assert not plot._curves[1].opts["clipToView"]

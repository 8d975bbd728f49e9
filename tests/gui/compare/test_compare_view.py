"""The Compare view as a user drives it: lanes on the mock, Send all, live cards, the race
graph, the statistics table under each definition, a failing lane counted apart, Stop all,
exports, and a lane opened in the Run view."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from core import RunSpec
from gui.compare.view import demo_lanes
from gui.main_window import MainWindow
from tests.gui.conftest import configure


def mock_lane(win: MainWindow, model: str, params: str) -> RunSpec:
    return RunSpec(
        "openai-chat",
        win._mock_urls["openai-chat"],
        model,
        RunSpec.user("x"),
        headers={"x-mock-params": params},
        profile="Mock",
    )


def race(qtbot: Any, win: MainWindow, timeout: int = 30_000) -> Any:
    """Send all; returns the result once the view shows all of it."""
    view = win.compare_view
    with (
        qtbot.waitSignal(view.race_shown, timeout=timeout),  # waited for second
        qtbot.waitSignal(view.controller.race_finished, timeout=timeout) as blocker,
    ):
        qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.controller.busy, timeout=timeout)
    return blocker.args[0]


def test_a_race_of_three_lanes_fills_cards_graph_and_table(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    view = window.compare_view
    window.views.setCurrentWidget(view)
    assert not view.send_button.isEnabled()  # fewer than 2 lanes
    view.add_lane("fast", mock_lane(window, "mock-normal", "tokens=30;tps=600"))
    view.add_lane("slow", mock_lane(window, "mock-normal", "tokens=30;tps=150"))
    view.add_lane("cut", mock_lane(window, "mock-reset_mid_stream", "tokens=30;tps=400"))
    view.repeat.setValue(2)
    result = race(qtbot, window)
    assert len(result.runs) == 6
    labels = {(r.lane, r.verdict.label) for r in result.runs}
    assert (0, "completed/natural") in labels and (2, "interrupted/connection_reset") in labels
    # each lane's card shows its verdict; the failing lane is counted apart
    assert "COMPLETED" in view.lane_cards.cards[0].chip.text()
    assert "INTERRUPTED" in view.lane_cards.cards[2].chip.text()
    assert view.lane_cards.cards[2].retry_button.isEnabled()
    table = view.table
    assert table.rowCount() == 3
    assert table.item(2, 3).text() == "0 / 2 / 0"  # successful / incomplete / errored
    assert table.item(2, 7).text() == "–"  # no successful run: no TTFT statistic
    # the faster lane has the best tokens/s
    assert table.item(table.best_row("tok/s p50"), 0).text() == "fast"
    assert view.plot.point_count(0) == 30 and view.plot.point_count(1) == 30
    # the graph drawn when the race ends: every point of the last round, and its markers
    # (a TTFT for each lane that streamed, a TTFB for each of the round's runs)
    plot = view.plot
    assert all(plot.drawn_count(i) == plot.point_count(i) for i in range(3))
    last_round = [r for r in result.runs if r.round == 1]
    firsts = sum(r.verdict.metrics.ttfb_ms is not None for r in last_round)
    assert plot.marker_count() == sum(plot.point_count(i) > 0 for i in range(3)) + firsts
    (x_low, x_high), (_, y_high) = plot.plot.getViewBox().viewRange()
    stamps = [t for r in last_round for t in r.stamps.content_ns]
    assert x_low <= min(stamps) / 1e9 and max(stamps) / 1e9 <= x_high and y_high >= 30
    # another definition recomputes the table from the same stamps
    view.definitions.setCurrentText("llmperf")
    assert table.item(0, 11).text() == "–"  # llmperf has no TPOT
    # exports
    data = json.loads(view.export_text("json"))
    assert data["definitions"] == "llmperf" and len(data["lanes"]) == 3
    assert view.export_text("csv").count("\n") >= 6
    assert "| fast |" in view.export_text("md")
    assert view.export_png(tmp_path / "race.png")
    assert (tmp_path / "race.png").stat().st_size > 1000


def test_stop_all_stops_every_lane(qtbot: Any, window: MainWindow) -> None:
    view = window.compare_view
    window.views.setCurrentWidget(view)
    for label in ("a", "b"):
        view.add_lane(label, mock_lane(window, "mock-normal", "tokens=5000;tps=40"))
    view.repeat.setValue(5)
    with qtbot.waitSignal(view.controller.race_finished, timeout=20_000) as blocker:
        window.send()  # Ctrl+Enter on the Compare tab sends all
        qtbot.waitUntil(
            lambda: view.lane_cards.cards and view.lane_cards.cards[0]._chars > 0, timeout=10_000
        )
        window.stop_current()  # Esc
    result = blocker.args[0]
    assert result.stopped
    assert {r.verdict.label for r in result.runs} == {"interrupted/cancelled"}
    qtbot.waitUntil(lambda: view.send_button.isEnabled())


def test_demo_lanes_and_a_lane_from_the_request_pane(qtbot: Any, window: MainWindow) -> None:
    assert window._compare_controller is None  # nothing of Compare before its tab
    view = window.compare_view
    engine = window.compare_controller._engine  # started as the lanes are set up
    assert engine is not None and engine.alive
    configure(window, scenario="max_tokens")
    window.add_compare_lane()
    assert view.lane_count == 1
    assert view.lane_list.item(0).text().startswith("Mock max_tokens")
    for _, spec in demo_lanes(window._mock_urls):
        assert spec.base_url == window._mock_urls["openai-chat"]
    view.add_demo_lanes()
    assert view.lane_count == 4 and view.send_button.isEnabled()


def test_a_lane_opens_in_the_run_view(qtbot: Any, window: MainWindow) -> None:
    view = window.compare_view
    view.add_lane("a", mock_lane(window, "mock-max_tokens", "tokens=40;tps=800"))
    view.add_lane("b", mock_lane(window, "mock-normal", "tokens=40;tps=800"))
    view.max_tokens.setValue(20)
    view.repeat.setValue(1)
    race(qtbot, window)
    card = view.lane_cards.cards[0]
    assert card.continue_button.isEnabled()  # truncated: Continue makes sense
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        qtbot.mouseDClick(card, Qt.MouseButton.LeftButton)
    assert blocker.args[0].verdict.label == "truncated/max_tokens"
    assert window.views.currentWidget() is window.main_split
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        qtbot.mouseClick(card.continue_button, Qt.MouseButton.LeftButton)
    assert len(blocker.args[0].parts) == 2


def test_cards_curves_and_legend_are_made_as_lanes_are_set_up(
    qtbot: Any, window: MainWindow
) -> None:
    """Send all builds no card, curve or legend entry: they follow the lane list, and a
    second race of the same lanes reuses them."""
    view = window.compare_view
    window.views.setCurrentWidget(view)
    for label in ("a", "b", "c"):
        view.add_lane(label, mock_lane(window, "mock-normal", "tokens=20;tps=800"))
    cards = list(view.lane_cards.cards)
    assert [card.lane_key for card in cards] == [(x, "mock-normal") for x in "abc"]
    curves = list(view.plot._curves)
    assert len(curves) == 3
    view.repeat.setValue(1)
    race(qtbot, window)
    assert view.lane_cards.cards == cards and view.plot._curves == curves
    assert view.plot.legend_labels() == ["a", "b", "c"]
    race(qtbot, window)
    assert view.lane_cards.cards == cards and view.plot._curves == curves
    assert all("COMPLETED" in card.chip.text() for card in cards)
    # a lane removed: its card is reused for the lane after it, retitled and emptied, and
    # a card showing another lane than the race's opens nothing
    view.lane_list.setCurrentRow(0)
    qtbot.mouseClick(view.remove_button, Qt.MouseButton.LeftButton)
    assert view.lane_cards.cards == cards[:2]
    assert cards[0].lane_key == ("b", "mock-normal") and cards[0].chip.text() == "waiting"
    assert not cards[2].isVisibleTo(view)
    assert view.plot.legend_labels() == ["a", "b", "c"]  # the last race's graph stays
    with qtbot.assertNotEmitted(view.open_run_requested):
        qtbot.mouseDClick(cards[0], Qt.MouseButton.LeftButton)
    race(qtbot, window)
    assert view.plot.legend_labels() == ["b", "c"] and view.plot._curves == curves

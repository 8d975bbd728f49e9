"""The run window as a tester and a presenter use it (issue 14), and the window side of
issue 11: screen fit, action states from one rule, stall range, scenario defaults, the wheel,
graph axes, the seam tooltip, numbering from 1, scopes, export, small items, the close
warning, the headers figure, tokens/s reasons and the limit More tokens sent."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QTextCursor, QWheelEvent

from core import Metrics, Progress
from gui.main_window import MainWindow
from gui.request.hints import countdown_text, watchdog_text
from gui.request.values import RequestValues
from gui.run.verdict_parts import present_explanation
from tests.gui.conftest import click_and_wait, configure, send_and_wait

pytestmark = pytest.mark.gui

SAMPLES = Path(__file__).parents[3] / "resources" / "samples"


def menu(win: MainWindow, key: str) -> bool:
    return win._menus.actions[key].isEnabled()


# --- 1. the screen ---------------------------------------------------------------------------


def test_the_window_fits_a_1280x720_screen_and_long_values_elide(
    qtbot: Any, window: MainWindow
) -> None:
    screen = QRect(0, 0, 1280, 720)
    window.fit_to_screen(screen)
    assert window.minimumSizeHint().width() <= 1280
    assert window.minimumSizeHint().height() <= 720
    assert screen.contains(window.frameGeometry()), window.frameGeometry()
    panel = window.verdict_panel
    right = panel.mapTo(window, QPoint(panel.width(), 0)).x()
    assert right <= window.width()
    width = panel.width()
    long_http = "429 application/json · Retry-After 1 · " + "x" * 300
    value = panel.metrics.values["http"]
    value.setText(long_http)
    qtbot.wait(1)  # let the layout settle (no timing asserted)
    assert panel.width() == width  # the panel did not widen
    assert value.toolTip() == long_http  # the full text on hover


# --- 4. one rule for every action ------------------------------------------------------------


def test_a_pasted_log_offers_no_recovery_and_nothing_to_save(
    qtbot: Any, window: MainWindow
) -> None:
    configure(window, scenario="max_tokens")
    send_and_wait(qtbot, window)
    assert menu(window, "continue") and window.verdict_panel.continue_button.isEnabled()
    qtbot.waitUntil(lambda: not window.controller.busy)
    assert menu(window, "save")
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        assert window.open_path(SAMPLES / "pasted-log.txt")
    assert "continue" in blocker.args[0].verdict.actions  # the verdict allows it …
    panel = window.verdict_panel
    # … but nothing can continue a log: panel, menu and shortcut agree
    for key in ("retry", "continue", "more_tokens"):
        assert not panel.buttons[key].isEnabled()
        assert not menu(window, key)
    assert "opened" in panel.continue_button.toolTip()
    assert not menu(window, "save")
    # and every state comes from the same rule
    assert menu(window, "retry") == panel.retry_button.isEnabled()


def test_run_retry_in_the_menu_follows_the_panel(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="normal")
    send_and_wait(qtbot, window)
    assert not window.verdict_panel.retry_button.isEnabled() and not menu(window, "retry")
    window._menus.actions["retry"].trigger()  # a disabled action does nothing …
    window._retry()  # … and neither does its slot
    assert window.verdict_panel.attempts.topLevelItemCount() == 1


def test_paste_log_with_an_empty_clipboard_gives_a_paste_box(
    qtbot: Any, window: MainWindow
) -> None:
    QGuiApplication.clipboard().clear()
    window.paste_log()
    box = window.paste_box
    assert box is not None and box.isVisible()
    assert not box.open_button.isEnabled()
    box.edit.setPlainText((SAMPLES / "pasted-log.txt").read_text())
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        qtbot.mouseClick(box.open_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].verdict.label == "truncated/max_tokens"
    assert not box.isVisible()


# --- 3. stalls and watchdogs -----------------------------------------------------------------


def test_the_stall_stays_in_the_time_range_after_the_run(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="stall", stall_s=0.6, prompt="a stall to keep")
    verdict = send_and_wait(qtbot, window).verdict
    assert verdict.label == "interrupted/stall"
    assert verdict.metrics.total_ms is not None and verdict.metrics.total_ms >= 600
    _, x1 = window.latency_plot.x_range()
    assert x1 >= verdict.metrics.total_ms / 1000  # not shrunk back to the content
    assert window.request_pane.watchdogs.text() == "Watchdogs: first byte 20 s · stall 0.6 s"


def test_watchdog_line_and_countdown() -> None:
    assert watchdog_text(60, 0) == "Watchdogs: first byte 60 s"
    assert watchdog_text(0, 0) == "Watchdogs: off (no time limit)"
    waiting = Progress("waiting", None, None, None, 0, t_ns=2_000_000_000)
    assert countdown_text(waiting, 60, 60) == "First-byte timeout in 58 s"
    stalled = Progress("stalled", 3000.0, 4500.0, None, 10, t_ns=9_000_000_000)
    assert countdown_text(stalled, 60, 8) == "Stall timeout in 3.5 s"
    assert countdown_text(stalled, 60, None) == "No stall timeout"


# --- 5. scenario defaults --------------------------------------------------------------------


def test_scenarios_say_what_they_do_and_recovery_succeeds_on_the_mock(
    qtbot: Any, window: MainWindow
) -> None:
    pane = window.request_pane
    pane.set_values(replace(pane.values(), max_tokens=1024))
    pane.scenario.setCurrentIndex(pane.scenario.findData("max_tokens"))
    assert 0 < pane.max_tokens.value() <= 100  # low enough for the cut to happen
    assert "max tokens" in pane.scenario_note.text()
    index = pane.scenario.findData("max_tokens")
    assert pane.scenario.itemData(index, Qt.ItemDataRole.ToolTipRole)
    pane.tps.setValue(2000)
    first = send_and_wait(qtbot, window).verdict
    assert first.label == "truncated/max_tokens"
    outcome = click_and_wait(qtbot, window, window.verdict_panel.more_tokens_button)
    assert outcome.verdict.label == "completed/natural"  # More tokens can succeed
    sent = window.controller.last_spec
    assert sent is not None and pane.max_tokens.value() == sent.max_tokens  # issue 11 item 8
    # pause_turn is Anthropic's: the other dialects are not offered
    pane.scenario.setCurrentIndex(pane.scenario.findData("pause_turn"))
    assert pane.dialect.currentData() == "anthropic"
    model = pane.dialect.model()
    offered = {
        pane.dialect.itemData(i) for i in range(pane.dialect.count()) if model.item(i).isEnabled()
    }
    assert offered == {"anthropic"}


def test_the_window_fail_first_default_lets_retry_succeed(qtbot: Any, window: MainWindow) -> None:
    pane = window.request_pane
    configure(window, scenario="http_429", prompt="the default fail first")
    pane.fail_first.setValue(RequestValues().fail_first)  # the window's default
    assert pane.values().fail_first == 1
    assert send_and_wait(qtbot, window).verdict.label == "http_error/rate_limited"
    outcome = click_and_wait(qtbot, window, window.verdict_panel.retry_button, timeout=20_000)
    assert outcome.verdict.label == "completed/natural"


# --- 6. the wheel ----------------------------------------------------------------------------


def test_the_wheel_changes_a_spin_box_only_when_it_has_the_focus(window: MainWindow) -> None:
    box = window.request_pane.temperature
    box.setValue(0.7)
    window.request_pane.prompt.setFocus()
    center = QPointF(box.rect().center())

    def wheel() -> None:
        event = QWheelEvent(
            center,
            QPointF(box.mapToGlobal(box.rect().center())),
            QPoint(0, 0),
            QPoint(0, 120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QGuiApplication.sendEvent(box, event)

    wheel()
    assert box.value() == pytest.approx(0.7)
    assert box.focusPolicy() == Qt.FocusPolicy.StrongFocus
    box.setFocus()
    if box.hasFocus():  # offscreen focus needs an active window
        wheel()
        assert box.value() == pytest.approx(0.8)


# --- 7. graph axes ---------------------------------------------------------------------------


def test_one_time_unit_on_both_plots_and_no_timings_said_plainly(
    qtbot: Any, window: MainWindow
) -> None:
    configure(window, scenario="normal")
    send_and_wait(qtbot, window)
    plot = window.latency_plot
    qtbot.waitUntil(lambda: plot.drawn_count() > 0)
    assert plot.time_unit() == "ms"  # a run under 2 s
    for p in (plot.gap_plot, plot.count_plot):
        axis = p.getAxis("bottom")
        assert axis.in_ms and not axis.autoSIPrefix
    assert plot.count_plot.getAxis("bottom").labelText.endswith("(ms)")
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000):
        window.open_path(SAMPLES / "pasted-log.txt")
    assert plot.no_timings.isVisibleTo(window) and not plot.graphics.isVisibleTo(window)
    assert "No timings" in plot.no_timings.text()


# --- 8, 9, 10. seam tooltip, numbering, scopes ----------------------------------------------


def _seam_point(win: MainWindow) -> QPoint:
    view = win.stream_view
    start = view.toPlainText().index("⟫")
    cursor = QTextCursor(view.document())
    cursor.setPosition(start)
    left = view.cursorRect(cursor)
    cursor.setPosition(start + 1)
    right = view.cursorRect(cursor)
    return QPoint((left.left() + right.left()) // 2, left.center().y())


def test_continue_seam_tooltip_numbering_and_scopes(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="max_tokens", tokens=80, prompt="seam and scopes")
    send_and_wait(qtbot, window)
    outcome = click_and_wait(qtbot, window, window.verdict_panel.continue_button)
    assert outcome.verdict.label == "completed/natural"
    view = window.stream_view
    # 8: hovering ⟫ shows the seam's tip, not the token beside it
    tip = view.tip_at(_seam_point(window))
    assert tip.startswith("Continued here"), tip
    assert "Max tokens sent" in tip
    # 9: one numbering from 1
    inspector = window.inspector
    assert inspector.chunks.data(inspector.chunks.index(0, 0)) == "1"
    assert "attempt 2: continue" in inspector.exchange.toPlainText()
    assert "attempt 1" in inspector.exchange.toPlainText()
    rows = window.verdict_panel.attempts
    assert [rows.topLevelItem(i).text(0) for i in range(rows.topLevelItemCount())] == ["1", "2"]
    # 10: every figure says its scope
    panel = window.verdict_panel
    assert "LAST SEGMENT" in panel.metrics_title.text()
    assert panel.metrics.values["whole"].isVisibleTo(window)
    whole = panel.metrics.values["whole"].text()
    assert "segments" in whole and "tokens" in whole
    assert "(whole answer)" in window.latency_plot.readout.text()
    markers = [label for _, item in window.latency_plot._items if (label := _label(item))]
    assert "TTFT #2" in markers and "TTFB #2" in markers  # the continued segment's own


def _label(item: Any) -> str:
    label = getattr(item, "label", None)
    return label.toPlainText() if label is not None else ""


def test_a_new_run_reuses_the_last_runs_markers_and_shows_only_its_own(
    qtbot: Any, window: MainWindow
) -> None:
    """Markers are made ahead and kept hidden between runs (making them as a run started
    stalled the loop as the first tokens came): a run shows exactly its own, in its colours,
    and the plots hold no more marker items after many runs than after one."""
    import pyqtgraph as pg

    plot = window.latency_plot
    theme = window._theme

    def shown() -> dict[str, tuple[float, str]]:
        return {
            _label(item): (item.value(), item.pen.color().name())
            for item in plot.gap_plot.items
            if isinstance(item, pg.InfiniteLine) and item.isVisible() and _label(item)
        }

    def lines() -> int:
        return sum(isinstance(i, pg.InfiniteLine) for i in plot.gap_plot.items)

    configure(window, scenario="http_429", fail_first=1, prompt="markers once", retries=1)
    send_and_wait(qtbot, window)
    first = shown()
    assert {"#2 retry", "headers #2", "TTFB #2", "TTFT #2"} <= set(first), first
    assert first["TTFT #2"][1] == QColor(theme.accent).name()
    after_one = lines()
    for n in range(3):
        configure(window, scenario="normal", prompt=f"markers again {n}")
        send_and_wait(qtbot, window)
    now = shown()
    assert set(now) == {"headers", "TTFB", "TTFT"}, now  # the retry's marker is hidden again
    assert now["TTFT"][1] == QColor(theme.accent).name()
    assert now["TTFT"][0] != first["TTFT #2"][0]  # at this run's own time
    assert lines() == after_one


def test_the_graph_is_redrawn_less_often_while_tokens_pour_in(
    qtbot: Any, window: MainWindow
) -> None:
    """Over ~3,000 tok/s (more than FAST_TOKENS since the last redraw) the graph is redrawn
    every REDRAW_FAST_MS, and at 30 Hz again once the stream slows down; each redraw still
    shows every token counted so far."""
    from core import TextDelta
    from core.stream.batches import Batcher
    from gui.run.latency_plot import FAST_TOKENS, REDRAW_FAST_MS, REDRAW_MS

    configure(window, tokens=20)
    send_and_wait(qtbot, window)
    plot = window.latency_plot
    plot._redraw()
    assert plot._timer.interval() == REDRAW_MS
    t0 = 10**9

    def tokens(n: int) -> None:
        nonlocal t0
        batcher = Batcher()
        for i in range(n):
            batcher.add(TextDelta("x", t0 + 1000 * i))
        t0 += 1000 * n
        plot.on_events_received(batcher.take())

    before = plot.point_count()
    tokens(FAST_TOKENS + 1)
    plot._redraw()
    assert plot._timer.interval() == REDRAW_FAST_MS
    assert plot.point_count() == before + FAST_TOKENS + 1
    tokens(FAST_TOKENS)
    plot._redraw()
    assert plot._timer.interval() == REDRAW_MS


def test_a_range_outgrown_again_soon_grows_further(qtbot: Any, window: MainWindow) -> None:
    """A range the data outgrows grows to 1.3x the data; outgrown again within 0.25 s (a
    fast stream), to 2x, so the axes are redrawn less often; after a pause, 1.3x again."""
    from core import TextDelta
    from core.stream.batches import Batcher

    configure(window, tokens=20)
    send_and_wait(qtbot, window)
    plot = window.latency_plot
    now = [time.monotonic() + 10.0]  # past the run's own growths
    plot.clock = lambda: now[0]
    t = [int(plot.x_range()[1] * 1e9)]

    def outgrow() -> tuple[float, float]:
        """Tokens past the right edge, a redraw: (the data's end, the range's end)."""
        batcher = Batcher()
        x_end = plot.x_range()[1] * 1.5
        while t[0] < x_end * 1e9:
            t[0] += 2_000_000
            batcher.add(TextDelta("x", t[0]))
        plot.on_events_received(batcher.take())
        plot._redraw()
        return plot._counts.last_x, plot.x_range()[1]

    first = outgrow()
    assert first[1] == pytest.approx(first[0] * 1.3, rel=1e-3)
    now[0] += 0.1
    again = outgrow()
    assert again[1] == pytest.approx(again[0] * 2.0, rel=1e-3)
    now[0] += 1.0
    later = outgrow()
    assert later[1] == pytest.approx(later[0] * 1.3, rel=1e-3)


def test_retry_divider_is_numbered_like_the_attempts(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="http_429", fail_first=1, prompt="numbered retry")
    send_and_wait(qtbot, window)
    click_and_wait(qtbot, window, window.verdict_panel.retry_button, timeout=20_000)
    shown = window.stream_view.toPlainText()
    assert "retry 0" not in shown
    markers = [label for _, item in window.latency_plot._items if (label := _label(item))]
    assert "#2 retry" in markers


# --- 12. export ------------------------------------------------------------------------------


def test_export_png_at_2x_stamped_without_the_button(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    configure(window, scenario="normal")
    send_and_wait(qtbot, window)
    plot = window.latency_plot
    path = tmp_path / "graph.png"
    assert plot.export_png(path, window.export_stamp())
    image = QImage(str(path))
    assert image.width() == 2 * plot.graphics.width()  # the graph only: no button row
    assert image.height() > 2 * plot.graphics.height()  # plus the stamp strip
    stamp = image.text("Description")
    for fact in ("Mock", "openai-chat", "mock-normal", "completed/natural"):
        assert fact in stamp


# --- 13. smaller items -----------------------------------------------------------------------


def test_title_and_status_follow_the_provider_and_errors_read_well(window: MainWindow) -> None:
    configure(window, scenario="normal")
    assert window.windowTitle() == "Mock · openai-chat · normal — StreamScope"
    configure(window, provider="custom", base_url="http://127.0.0.1:9/v1", model="m1")
    assert window.windowTitle().count("StreamScope") == 1
    assert "Custom · openai-chat · m1" in window.windowTitle()
    assert "Built-in mock" not in window.statusBar().currentMessage()
    verdict_like = replace(
        _any_verdict(window),
        outcome="interrupted",
        detail="connect_failed",
        explanation="The stream stopped before any event: [Errno -2] Name or service not "
        "known; no end signal came.",
    )
    assert present_explanation(verdict_like).startswith("Name resolution failed")
    sorry = replace(verdict_like, outcome="upstream_error", detail="server_error")
    sorry = replace(sorry, explanation="The provider said: Sorry about that!.")
    assert present_explanation(sorry).endswith("that!")


def _any_verdict(window: MainWindow) -> Any:
    from core import diagnose_bytes

    return diagnose_bytes((SAMPLES / "cut-before-done.sse").read_bytes()).verdict


# --- 14. closing -----------------------------------------------------------------------------


def test_closing_asks_only_when_the_run_is_stored_nowhere(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    assert window.close_warning() == ""  # nothing run yet
    configure(window, scenario="normal", prompt="kept by the history")
    send_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: window.controller.history_id is not None)
    assert window.close_warning() == ""  # the history store keeps it
    window.controller.history_path = None  # the store switched off
    configure(window, scenario="normal", prompt="kept nowhere")
    send_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: not window.controller.busy)
    assert "not stored anywhere" in window.close_warning()
    assert "history is off" in window.close_warning()
    window.close()
    assert window.isVisible() and window.close_box is not None and window.close_box.isVisible()
    window.close_box.hide()
    assert window.save_run(tmp_path / "kept.jsonl")
    assert window.close_warning() == ""


# --- issue 11, the window side ---------------------------------------------------------------


def test_headers_row_and_tokens_per_s_reason(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="normal", tokens=2, prompt="a tiny burst")
    verdict = send_and_wait(qtbot, window).verdict
    grid = window.verdict_panel.metrics
    assert verdict.metrics.headers_ms is not None
    assert grid.values["headers"].text() != "–"
    assert verdict.metrics.output_tokens_per_s is None
    assert grid.values["tps"].text() == "–"
    assert verdict.metrics.tokens_per_s_note
    assert verdict.metrics.tokens_per_s_note in grid.values["tps"].toolTip()
    markers = [label for _, item in window.latency_plot._items if (label := _label(item))]
    assert "headers" in markers


def test_a_preset_without_a_model_says_a_model_is_needed(qtbot: Any, window: MainWindow) -> None:
    from core import mock_profile

    window.profile_store.put(replace(mock_profile("mock", "openai-chat"), name="Local", model=""))
    window.refresh_profiles()
    pane = window.request_pane
    pane.provider.setCurrentIndex(pane.provider.findData("profile:Local"))
    pane.model.setText("")
    with qtbot.waitSignal(window.controller.probes.models_fetched, timeout=10_000):
        window.send()
    # the mock serves many models: the window does not guess, it says so at the field
    assert "Model: needed" in pane.field_error.text() and "name one" in pane.field_error.text()
    assert not window.controller.busy


def test_metrics_grid_shows_tpot_and_a_live_tps_reason(window: MainWindow) -> None:
    grid = window.verdict_panel.metrics
    grid.show_live(Metrics(content_events=2, tokens_per_s_note="fewer than 3 content events"))
    assert grid.values["tps"].text() == "–"
    assert "fewer than 3" in grid.values["tps"].toolTip()
    assert "tpot" in grid.values


def test_a_run_on_a_profile_with_its_own_price_is_stored_with_that_cost(
    qtbot: Any, window: MainWindow
) -> None:
    """The history's cost uses the profile's own price (genai-prices knows no mock)."""
    from core import HistoryStore, Price, mock_profile

    price = Price(input=2.0, output=10.0)
    priced = replace(mock_profile("mock", "openai-chat"), name="Priced", model="mock-normal")
    window.profile_store.put(replace(priced, price=price))
    window.refresh_profiles()
    pane = window.request_pane
    pane.provider.setCurrentIndex(pane.provider.findData("profile:Priced"))
    verdict = send_and_wait(qtbot, window).verdict
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=10_000)  # the run is stored
    usage = verdict.to_json()["usage"]
    assert usage["input_tokens"] and usage["output_tokens"]
    with HistoryStore.open(window.controller.history_path) as store:
        cost = store.summary(window.controller.history_id).cost_usd
    expected = (usage["input_tokens"] * 2.0 + usage["output_tokens"] * 10.0) / 1e6
    assert cost == pytest.approx(expected)


def test_a_continued_answer_without_usage_counts_its_tokens_from_chunks(
    qtbot: Any, window: MainWindow
) -> None:
    """With no usage (a local server that sends none), the whole answer's token count is
    the segments' content chunks, as each segment's own row says, not "–"."""
    configure(window, scenario="max_tokens", tokens=80, include_usage=False, prompt="no usage")
    first = send_and_wait(qtbot, window).verdict
    assert first.output_tokens is None
    outcome = click_and_wait(qtbot, window, window.verdict_panel.continue_button)
    assert len(outcome.parts) == 2
    whole = window.verdict_panel.metrics.values["whole"].text()
    counted = sum(v.metrics.content_events for v, _ in outcome.parts)
    assert whole.startswith(f"{counted:,} (chunks) tokens · 2 segments"), whole

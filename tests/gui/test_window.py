"""The real window against the in-process mock: send, stream, verdict, actions, stop, files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt

from core import Metrics, Progress, new_client
from gui.app import build_window, serve
from gui.main_window import MainWindow
from tests.gui.conftest import configure, send_and_wait

pytestmark = pytest.mark.gui

# scenario, expected label, extra pane values
ENDINGS = [
    ("normal", "completed/natural", {}),
    ("max_tokens", "truncated/max_tokens", {}),
    ("eof_mid_stream", "interrupted/eof_before_terminator", {}),
    ("reset_mid_stream", "interrupted/connection_reset", {}),
    ("stall", "interrupted/stall", {"stall_s": 0.3}),
    ("mid_stream_error", "upstream_error/server_error", {}),
    ("http_429", "http_error/rate_limited", {}),
]


def buttons(win: MainWindow) -> dict[str, bool]:
    panel = win.verdict_panel
    return {
        "retry": panel.retry_button.isEnabled(),
        "continue": panel.continue_button.isEnabled(),
        "retry_more_tokens": panel.more_tokens_button.isEnabled(),
    }


def test_title_and_default_profile(window: MainWindow) -> None:
    assert "StreamScope" in window.windowTitle()
    values = window.request_pane.values()
    assert (values.provider, values.scenario) == ("mock", "normal")


@pytest.mark.parametrize(("scenario", "label", "extra"), ENDINGS, ids=[e[0] for e in ENDINGS])
def test_send_shows_stream_graph_and_verdict(
    qtbot: Any, window: MainWindow, scenario: str, label: str, extra: dict[str, Any]
) -> None:
    configure(window, scenario=scenario, **extra)
    outcome = send_and_wait(qtbot, window)
    verdict = outcome.verdict
    assert verdict.label == label
    assert window.verdict_panel.outcome_label == label
    assert window.stream_view.answer_text() == verdict.text
    if verdict.had_output:
        assert window.latency_plot.point_count() == window.stream_view.token_count() > 0
        qtbot.waitUntil(lambda: window.latency_plot.drawn_count() > 0)
        assert window.inspector.chunks.rowCount() > 0
        assert window.inspector.events.rowCount() > 0
    else:
        assert window.stream_view.token_count() == 0
    expected = {a: a in verdict.actions for a in ("retry", "continue", "retry_more_tokens")}
    assert buttons(window) == expected
    assert window.verdict_panel.attempts.topLevelItemCount() == 1
    assert "StreamScope" in window.windowTitle()


def test_buttons_disabled_while_streaming(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="max_tokens")
    send_and_wait(qtbot, window)
    assert buttons(window)["continue"]
    configure(window, scenario="normal", tps=40.0, tokens=400)
    qtbot.mouseClick(window.request_pane.send_button, Qt.MouseButton.LeftButton)
    assert not any(buttons(window).values())
    assert window.request_pane.stop_button.isEnabled()
    window.controller.stop()
    qtbot.waitUntil(lambda: not window.controller.busy)


def test_stop_mid_stream_keeps_partial_text(qtbot: Any, window: MainWindow) -> None:
    configure(window, tps=50.0, tokens=400)
    qtbot.mouseClick(window.request_pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stream_view.token_count() >= 5, timeout=10_000)
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    verdict = blocker.args[0].verdict
    assert verdict.label == "interrupted/cancelled"
    assert verdict.text
    assert window.stream_view.answer_text() == verdict.text
    assert window.verdict_panel.outcome_label == "interrupted/cancelled"
    assert window.request_pane.send_button.isEnabled()
    assert not window.request_pane.stop_button.isEnabled()


def test_metrics_grid_shows_live_figures_before_the_verdict(qtbot: Any, window: MainWindow) -> None:
    configure(window, tps=40.0, tokens=200)
    verdicts: list[Any] = []
    window.controller.verdict_ready.connect(verdicts.append)
    grid = window.verdict_panel.metrics.values
    qtbot.mouseClick(window.request_pane.send_button, Qt.MouseButton.LeftButton)
    # Only core's Progress.metrics can fill these cells before the verdict arrives.
    qtbot.waitUntil(lambda: "–" not in (grid["ttfb"].text(), grid["ttft"].text()), timeout=10_000)
    assert not verdicts and window.controller.busy
    live_ttfb, live_ttft = grid["ttfb"].text(), grid["ttft"].text()
    assert live_ttfb[0].isdigit() and live_ttfb.endswith("ms")
    assert live_ttft[0].isdigit() and live_ttft.endswith("ms")
    assert grid["tokens"].text().endswith("(N from content chunks)")
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        window.controller.stop()
    verdict = blocker.args[0].verdict
    assert verdict.label == "interrupted/cancelled"
    # The verdict's figures replace the live ones; first byte and content are the same facts.
    assert (grid["ttfb"].text(), grid["ttft"].text()) == (live_ttfb, live_ttft)
    out, n = verdict.output_tokens, verdict.metrics.content_events
    shown = out if out is not None else n
    assert grid["tokens"].text().startswith(f"{shown:,} (N from ")
    # A late Progress does not overwrite the verdict's figures.
    window.verdict_panel.on_progress_changed(Progress("streaming", 0.0, 0.0, None, 0, 0, Metrics()))
    assert grid["ttfb"].text() == live_ttfb
    qtbot.waitUntil(lambda: not window.controller.busy)


def test_new_send_cancels_the_running_one(qtbot: Any, window: MainWindow) -> None:
    configure(window, tps=50.0, tokens=400)
    qtbot.mouseClick(window.request_pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stream_view.token_count() >= 3, timeout=10_000)
    configure(window, scenario="max_tokens")
    labels: list[str] = []
    window.controller.verdict_ready.connect(lambda o: labels.append(o.verdict.label))
    qtbot.mouseClick(window.request_pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(labels) == 2, timeout=15_000)
    assert labels == ["interrupted/cancelled", "truncated/max_tokens"]
    qtbot.waitUntil(lambda: not window.controller.busy)
    assert window.verdict_panel.outcome_label == "truncated/max_tokens"


def test_save_then_open_gives_same_verdict_and_text(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    configure(window, scenario="max_tokens")
    live = send_and_wait(qtbot, window).verdict
    path = tmp_path / "saved.jsonl"
    assert window.save_run(path)
    text_live = window.stream_view.answer_text()
    configure(window, scenario="normal")
    send_and_wait(qtbot, window)  # something else on screen first
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        assert window.open_path(path)
    opened = blocker.args[0].verdict
    assert opened.label == live.label == "truncated/max_tokens"
    assert opened.text == live.text
    assert window.stream_view.answer_text() == text_live
    assert window.verdict_panel.outcome_label == live.label
    assert window.latency_plot.point_count() == window.stream_view.token_count()


def test_open_garbage_shows_message_not_traceback(window: MainWindow, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><title>Bad Gateway</title></html>")
    assert not window.open_path(page)
    assert window.verdict_panel.error_box.isVisibleTo(window)
    assert "HTML page" in window.verdict_panel.error.text()


def test_bad_tools_json_is_shown_at_the_field(qtbot: Any, window: MainWindow) -> None:
    send_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: not window.controller.busy)
    shown = window.verdict_panel.outcome_label
    configure(window, tools_json="[{not json")
    window.send()
    pane = window.request_pane
    assert "Tools" in pane.field_error.text() and pane.field_error.isVisibleTo(window)
    assert pane.tools_json.property("invalid") is True
    assert pane.advanced.isVisibleTo(window)  # opened to show the field
    assert not window.verdict_panel.error_box.isVisibleTo(window)  # not in the old verdict
    assert window.verdict_panel.outcome_label == shown
    assert not window.controller.busy
    configure(window, tools_json="")
    send_and_wait(qtbot, window)
    assert not pane.field_error.isVisibleTo(window)
    assert not pane.tools_json.property("invalid")


def test_closing_mid_stream_exits_cleanly(
    qtbot: Any, qloop: Any, mock_server: Any, tmp_path: Path
) -> None:
    client = new_client()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = build_window(client, mock_server.base_urls, tmp_path / "data", settings)
    served = asyncio.ensure_future(serve(win, client))
    qtbot.waitExposed(win)
    configure(win, tps=50.0, tokens=400)
    qtbot.mouseClick(win.request_pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.stream_view.token_count() >= 3, timeout=10_000)
    win.close()  # a run is streaming: the window asks first, and stays
    assert win.isVisible() and not served.done()
    assert win.close_box is not None and win.close_box.isVisible()
    assert "streaming" in win.close_box.text()
    win._close_anyway.click()
    qtbot.waitUntil(served.done, timeout=10_000)
    assert served.result() == 0
    assert not win.controller.busy
    assert win.verdict_panel.outcome_label == "interrupted/cancelled"
    assert client.is_closed
    assert (
        "request/values"
        in QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat).allKeys()
    )
    win.deleteLater()


def test_settings_round_trip(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    configure(window, scenario="stall", prompt="remember me")
    window.save_settings()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    again = build_window(object(), {"openai-chat": "http://x/v1"}, tmp_path / "d2", settings)
    values = again.request_pane.values()
    assert (values.scenario, values.prompt) == ("stall", "remember me")
    again.deleteLater()

"""The window's network engine through its life, as a user meets it: runs go through a
child process; Stop, a second run, closing mid-run and a crashed engine all leave the
window usable and nothing behind."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt

from core import new_client
from gui.app import build_window, serve
from gui.main_window import MainWindow
from tests.gui.conftest import configure, send_and_wait


def engine_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "engine-reader"]


def test_a_run_goes_through_the_engine_process(qtbot: Any, window: MainWindow) -> None:
    configure(window, tokens=80)
    outcome = send_and_wait(qtbot, window)
    assert outcome.verdict.label == "completed/natural"
    engine = window.controller.engine
    assert engine.alive and engine.pid != os.getpid()
    assert window.stream_view.answer_text() == outcome.verdict.text
    assert window.latency_plot.point_count() == window.stream_view.token_count() > 0


def test_two_runs_back_to_back_share_one_engine(qtbot: Any, window: MainWindow) -> None:
    configure(window, tokens=50)
    first = send_and_wait(qtbot, window).verdict
    pid = window.controller.engine.pid
    configure(window, scenario="max_tokens")
    second = send_and_wait(qtbot, window).verdict
    assert (first.label, second.label) == ("completed/natural", "truncated/max_tokens")
    assert window.controller.engine.pid == pid
    assert window.stream_view.answer_text() == second.text


def test_stop_mid_stream_ends_the_run_as_cancelled(qtbot: Any, window: MainWindow) -> None:
    configure(window, tps=40.0, tokens=400)
    qtbot.mouseClick(window.request_pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stream_view.token_count() >= 3, timeout=10_000)
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        qtbot.mouseClick(window.request_pane.stop_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].verdict.label == "interrupted/cancelled"
    qtbot.waitUntil(lambda: not window.controller.busy)
    assert window.request_pane.send_button.isEnabled()


def test_a_killed_engine_ends_the_run_and_the_next_run_works(
    qtbot: Any, window: MainWindow
) -> None:
    configure(window, tps=40.0, tokens=400)
    qtbot.mouseClick(window.request_pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stream_view.token_count() >= 3, timeout=10_000)
    dead = window.controller.engine
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        dead.kill()
    verdict = blocker.args[0].verdict
    assert verdict.label == "interrupted/engine_failed"
    assert verdict.actions == ("retry",) and verdict.text
    assert verdict.text == window.stream_view.answer_text()  # what arrived is kept
    assert window.verdict_panel.outcome_label == "interrupted/engine_failed"
    qtbot.waitUntil(lambda: not window.controller.busy)
    configure(window, tps=2000.0, tokens=40)
    again = send_and_wait(qtbot, window).verdict
    assert again.label == "completed/natural"
    assert window.controller.engine.pid != dead.pid


def test_closing_mid_run_leaves_no_process_or_thread(
    qtbot: Any, qloop: Any, mock_server: Any, tmp_path: Path
) -> None:
    client = new_client()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = build_window(client, mock_server.base_urls, tmp_path / "data", settings)
    served = asyncio.ensure_future(serve(win, client))
    qtbot.waitExposed(win)
    configure(win, tps=40.0, tokens=400)
    qtbot.mouseClick(win.request_pane.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.stream_view.token_count() >= 3, timeout=10_000)
    pid = win.controller.engine.pid
    win.close()  # mid-run, the window asks first (issue 14 item 14)
    assert win.close_box is not None and win.close_box.isVisible()
    win._close_anyway.click()
    qtbot.waitUntil(served.done, timeout=10_000)
    assert win.verdict_panel.outcome_label == "interrupted/cancelled"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the engine process outlived the window")
    assert not engine_threads()
    win.deleteLater()

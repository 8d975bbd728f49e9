"""Start-up builds only what the first frame shows. Compare and History are built when their
tab is first shown, and then work as if they had always been there (the window's wiring, its
theme, the history listing on showing); the mock serves, the engine starts, the latency graph
is built (pyqtgraph is not even imported before) and the heap is settled, and the HTTP client
is made, once the window is on screen (`first_frame_shown`)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import QSettings, Qt

from core import mock_profile
from core.mock import listen_mock_server
from gui.app import SharedClient, build_window, start_deferred
from gui.main_window import MainWindow
from tests.gui.conftest import configure, run_async, send_and_wait


def click_tab(qtbot: Any, window: MainWindow, title: str) -> None:
    bar = window.views.tabBar()
    (index,) = [i for i in range(bar.count()) if bar.tabText(i) == title]
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert window.views.currentIndex() == index


def test_start_up_builds_neither_compare_nor_history(window: MainWindow) -> None:
    assert not window.compare_tab.built and not window.history_tab.built
    assert [window.views.tabText(i) for i in range(window.views.count())] == [
        "Run",
        "Compare",
        "History",
    ]
    assert not window.comparing()


def test_compare_is_built_on_first_show_and_adds_lanes(qtbot: Any, window: MainWindow) -> None:
    window.set_theme_choice("dark")
    click_tab(qtbot, window, "Compare")
    assert window.compare_tab.built
    view = window.compare_view
    assert window.views.currentWidget() is view and view.isVisible()
    assert window.comparing()
    assert view._theme is window._theme  # the theme chosen before it existed
    # its signals reach the window: "Add lane from request pane" takes the Run view's request
    configure(window, scenario="normal")
    qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    assert view.lane_count == 2
    assert view.send_button.isEnabled()
    click_tab(qtbot, window, "Run")
    click_tab(qtbot, window, "Compare")
    assert window.compare_view is view and view.lane_count == 2  # built once


def test_history_is_built_on_first_show_and_lists_runs(qtbot: Any, window: MainWindow) -> None:
    configure(window, prompt="remember the lazy tab")
    send_and_wait(qtbot, window)
    qtbot.waitUntil(lambda: window.controller.history_id is not None, timeout=5_000)
    assert not window.history_tab.built
    click_tab(qtbot, window, "History")
    assert window.history_tab.built
    panel = window.history_panel
    assert window.views.currentWidget() is panel and panel.isVisible()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5_000)
    assert panel.model.rows[0].id == window.controller.history_id
    # a run finished while History is shown refreshes it, as before
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=15_000):
        window.controller.start(window.controller.last_spec)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=5_000)


def test_the_mock_and_engine_start_once_the_first_frame_is_shown(
    qtbot: Any, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    server = listen_mock_server(defaults={"tps": "2000"})
    client = SharedClient()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = build_window(client, server.base_urls, tmp_path / "data", settings)
    try:
        win.first_frame_shown.connect(start_deferred(win, server, client))
        # nothing started before the window shows
        assert win.controller._engine is None and client._client is None
        assert win._latency_plot is None
        with qtbot.waitSignal(win.first_frame_shown, timeout=10_000):
            win.show()
        assert win.windowHandle().isExposed()
        assert win.controller._engine is not None
        plot = win._latency_plot  # in the place kept for it, at the size kept for it
        assert plot is not None and win.stream_split.widget(1) is plot
        assert win.stream_split.count() == 2 and plot.height() > 100
        assert client._client is None  # the HTTP client waits for its first use (a probe)
        configure(win, scenario="normal")
        assert send_and_wait(qtbot, win).verdict.label == "completed/natural"
        # the profiles dialog's probes use the shared client
        profile = mock_profile(server.base_urls["openai-chat"])
        failures: list[str] = []
        win.controller.probes.probe_failed.connect(lambda _t, m: failures.append(m))
        with qtbot.waitSignal(win.controller.probes.models_fetched, timeout=10_000) as got:
            win.controller.probes.fetch_models("t", profile)
        assert failures == [] and "mock-normal" in got.args[1]
    finally:
        run_async(qtbot, win.shutdown())
        run_async(qtbot, client.aclose())
        win._close_confirmed = True
        win.close()
        win.deleteLater()
        server.stop()
        gc.unfreeze()  # start_deferred froze the heap: leave later tests a collector as usual


def test_a_shared_client_is_made_on_first_use_and_closed_only_if_made(
    qtbot: Any, qloop: qasync.QEventLoop
) -> None:
    unused = SharedClient()
    run_async(qtbot, unused.aclose())
    assert unused._client is None
    used = SharedClient()
    assert not used.is_closed  # an attribute of the client: it is made
    run_async(qtbot, used.aclose())
    assert used.is_closed


def test_first_frame_work_runs_once_even_for_a_window_never_exposed(qtbot: Any) -> None:
    from PySide6.QtWidgets import QApplication, QWidget

    from gui.widgets.first_frame import notify_first_frame

    calls: list[int] = []
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.winId()  # a native window that is not shown, so never exposed
    assert not widget.windowHandle().isExposed()
    notify_first_frame(widget, lambda: calls.append(1))
    qtbot.waitUntil(lambda: calls == [1], timeout=10_000)  # the fallback ran it
    widget.show()
    qtbot.waitUntil(lambda: widget.windowHandle().isExposed())
    QApplication.processEvents()
    assert calls == [1]  # and the expose did not run it again


def test_the_window_is_built_without_importing_pyqtgraph(tmp_path: Path) -> None:
    """What keeps the first frame a third sooner: a fresh process builds the main window
    without pyqtgraph, which the graph then brings when it is built."""
    script = """
import sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from gui.app import SharedClient, build_window
from gui.pyside_fixes import collect_on_the_loop
app = QApplication([])
collect_on_the_loop()
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
win = build_window(SharedClient(), {}, __import__("pathlib").Path(sys.argv[2]), settings)
print("before", "pyqtgraph" in sys.modules)
win.build_plot()
print("after", "pyqtgraph" in sys.modules)
"""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "s.ini"), str(tmp_path / "data")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["before False", "after True"]


def test_a_run_before_the_graph_is_built_builds_and_draws_it(
    qtbot: Any, qloop: qasync.QEventLoop, mock_server: Any, tmp_path: Path
) -> None:
    """Whatever reaches the graph before its turn after the first frame (a run, a file given
    on the command line) builds it then and there, in its place, with the window's zoom and
    theme, and the graph gets every signal of the run."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = build_window(SharedClient(), mock_server.base_urls, tmp_path / "data", settings)
    try:
        win.set_theme_choice("dark")
        win.set_zoom(1.5)
        configure(win, scenario="normal")
        assert win._latency_plot is None
        send_and_wait(qtbot, win)  # the run's first signal builds it
        plot = win._latency_plot
        assert plot is not None and win.stream_split.widget(1) is plot
        assert plot.has_timings() and win.action_states["export"].enabled
        assert plot.export_button.isEnabled()
        assert plot._theme is win._theme and plot._zoom == 1.5
    finally:
        run_async(qtbot, win.shutdown())
        win._close_confirmed = True
        win.close()
        win.deleteLater()

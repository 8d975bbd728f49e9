"""Compare and History are built when their tab is first shown (start-up builds only the Run
view), and then work as if they had always been there: the window's wiring, its theme, the
history listing on showing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from gui.main_window import MainWindow
from tests.gui.conftest import configure, send_and_wait


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

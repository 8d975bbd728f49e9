"""Present mode (View → Present, F11): full screen, the request pane hidden, type twice the
size in every panel; pressed again, everything as it was."""

from __future__ import annotations

from typing import Any

from gui.main_window import PRESENT_SCALE, MainWindow


def test_present_doubles_type_hides_the_request_pane_and_restores(
    qtbot: Any, window: MainWindow
) -> None:
    base_font = window.font().pointSizeF()
    stream_font = window.stream_view.font().pointSizeF()
    verdict_font = window.verdict_panel.font().pointSizeF()
    window.toggle_present()
    assert window.presenting and not window.request_pane.isVisible()
    qtbot.waitUntil(lambda: window.font().pointSizeF() == base_font * PRESENT_SCALE)
    qtbot.waitUntil(lambda: window.verdict_panel.font().pointSizeF() >= verdict_font * 2)
    assert window.compare_view.status.font().pointSizeF() >= base_font * PRESENT_SCALE
    assert window.stream_view.font().pointSizeF() >= stream_font * PRESENT_SCALE
    window.toggle_present()
    assert not window.presenting and window.request_pane.isVisible()
    qtbot.waitUntil(lambda: window.font().pointSizeF() == base_font)
    assert window.stream_view.font().pointSizeF() == stream_font

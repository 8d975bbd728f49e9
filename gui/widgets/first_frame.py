"""`notify_first_frame(widget, callback)`: call back once a shown top-level widget is on
screen, in the event loop's next turn after its window is first exposed (the expose is what
paints it), so work started there never delays the first frame."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

__all__ = ["notify_first_frame"]


class _FirstExpose(QObject):
    def __init__(self, widget: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self._callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        window = self._window()
        if event.type() == QEvent.Type.Expose and window is not None and window.isExposed():
            watched.removeEventFilter(self)
            widget = self.parent()
            assert isinstance(widget, QWidget)
            QTimer.singleShot(0, widget, self._callback)  # not at all if the widget is gone
            self.deleteLater()
        return False

    def _window(self) -> object:
        widget = self.parent()
        return widget.windowHandle() if isinstance(widget, QWidget) else None


FALLBACK_MS = 2000  # a window never exposed (started minimized, ...) still gets its work


def notify_first_frame(widget: QWidget, callback: Callable[[], None]) -> None:
    """Call `callback` once, when `widget`'s window is first exposed (at once if it is
    already, or if it has no window yet: call this from its first show event), or after
    `FALLBACK_MS` if it never is."""
    fired = False

    def once() -> None:
        nonlocal fired
        if not fired:
            fired = True
            callback()

    window = widget.windowHandle()
    if window is None or window.isExposed():
        QTimer.singleShot(0, widget, once)
    else:
        window.installEventFilter(_FirstExpose(widget, once))
        QTimer.singleShot(FALLBACK_MS, widget, once)

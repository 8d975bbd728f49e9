"""Spin boxes and combo boxes take the mouse wheel only when they have the focus: scrolling a
form must scroll the form, never change a temperature on the way past."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QWidget

__all__ = ["guard_wheel"]


class _WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        wheel = event.type() == QEvent.Type.Wheel
        if wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # the scroll area above gets it
            return True
        return False


def guard_wheel(root: QWidget) -> None:
    """Guard every spin box and combo box under `root` (call after the form is built)."""
    guard = _WheelGuard(root)
    for widget in root.findChildren(QWidget):
        if isinstance(widget, QAbstractSpinBox | QComboBox):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel no longer focuses it
            widget.installEventFilter(guard)

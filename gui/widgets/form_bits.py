"""Small form helpers shared by the request pane and the profiles dialog: spin boxes with a
"special" lowest value (off / not sent / default), section titles, plain-text editors, and
reading or writing any of these field widgets by its type."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

__all__ = ["editor", "read_field", "section_title", "spin", "write_field"]


def spin(lo: float, hi: float, step: float = 1, special: str = "", dec: int = 0) -> QWidget:
    """A spin box; with `special`, its lowest value shows that word (off, default, …)."""
    box: QSpinBox | QDoubleSpinBox
    if dec:
        box = QDoubleSpinBox()
        box.setDecimals(dec)
    else:
        box = QSpinBox()
    box.setRange(lo, hi)  # type: ignore[arg-type]
    box.setSingleStep(step)  # type: ignore[arg-type]
    if special:
        box.setSpecialValueText(special)
    box.setAccelerated(True)
    return box


def section_title(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionTitle")
    return label


def editor(placeholder: str, height: int, mono: bool = False) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setPlaceholderText(placeholder)
    edit.setFixedHeight(height)
    edit.setTabChangesFocus(True)
    if mono:
        edit.setFont(QFont("DejaVu Sans Mono", 9))
    return edit


def read_field(widget: QWidget) -> Any:
    """The value of a form widget: data of a combo's item (its text when editable), text,
    number or check state."""
    if isinstance(widget, QComboBox):
        return widget.currentText() if widget.isEditable() else widget.currentData()
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.value()
    raise TypeError(f"not a field widget: {type(widget).__name__}")


def write_field(widget: QWidget, value: Any) -> None:
    """Set a form widget; a combo without an item of that data keeps its choice."""
    if isinstance(widget, QComboBox):
        index = widget.findData(value)
        if index >= 0:
            widget.setCurrentIndex(index)
        elif widget.isEditable():
            widget.setCurrentText(str(value))
    elif isinstance(widget, QLineEdit):
        widget.setText(str(value))
    elif isinstance(widget, QPlainTextEdit):
        widget.setPlainText(str(value))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QSpinBox | QDoubleSpinBox):
        widget.setValue(value)
    else:
        raise TypeError(f"not a field widget: {type(widget).__name__}")

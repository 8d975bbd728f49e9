"""Edit → Paste log with nothing on the clipboard: a box to paste or type the log into, and
Open to read it like any pasted log. Non-modal (shown, never exec'd)."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["PasteBox"]


class PasteBox(QDialog):
    text_submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Paste a log")
        self.resize(640, 400)
        hint = QLabel(
            "The clipboard is empty. Paste a stream log here (SSE lines, a logger's "
            "<code>Line N: 'data: …'</code> wrappers, quoted lines, a raw body), then Open."
        )
        hint.setWordWrap(True)
        self.edit = QPlainTextEdit()
        self.edit.setPlaceholderText("data: {…}\n\ndata: [DONE]")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.open_button = QPushButton("Open")
        self.open_button.setDefault(True)
        self.open_button.setEnabled(False)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.AcceptRole)
        col = QVBoxLayout(self)
        col.addWidget(hint)
        col.addWidget(self.edit, 1)
        col.addWidget(buttons)
        self.edit.textChanged.connect(self._on_text_changed)
        buttons.accepted.connect(self._on_open)
        buttons.rejected.connect(self.hide)

    @Slot()
    def _on_text_changed(self) -> None:
        self.open_button.setEnabled(bool(self.edit.toPlainText().strip()))

    @Slot()
    def _on_open(self) -> None:
        text = self.edit.toPlainText()
        if text.strip():
            self.hide()
            self.text_submitted.emit(text)

"""A one-line label that never widens its pane: a long value is elided to the width it gets,
and its whole text is the tooltip."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

__all__ = ["ElidedLabel", "LiveLabel"]


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setToolTip(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text if self.is_elided() else "")

    def is_elided(self) -> bool:
        width = self.contentsRect().width()
        return width > 0 and self.fontMetrics().horizontalAdvance(self.text()) > width

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), 48), hint.height())

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.setToolTip(self.text() if self.is_elided() else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        align = self.alignment() | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(rect, int(align), shown)
        painter.end()


class LiveLabel(ElidedLabel):
    """An elided one-line label for a value that changes many times a second. Its text is
    drawn, never handed to QLabel: `QLabel.setText` asks the layouts above it to settle
    again, and under the application's style sheet a readout changed every frame repainted
    the whole window (the request pane included), 30% of the window's CPU while streaming
    fast (bench/gui_throughput). A change here repaints this label alone; its height is
    one line's, its width whatever the layout gives it."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(" ", parent)  # QLabel measures one line for the height
        self._live = text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._live

    def setText(self, text: str) -> None:
        if text != self._live:
            self._live = text
            self.setToolTip(text if self.is_elided() else "")
            self.update()

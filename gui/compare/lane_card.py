"""One lane of a race on screen: its label and model, a compact live stream (the last few
hundred characters), live TTFT and tokens/s, and a verdict chip with that lane's Retry and
Continue (both run in the Run view, where the whole run is shown)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QMouseEvent, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core import Progress, SessionFinished, TextDelta, Verdict
from gui.compare.race_plot import LANE_COLORS
from gui.theme import LIGHT, Theme, outcome_color

__all__ = ["LaneCard"]

_KEEP_CHARS = 600  # the compact stream keeps the tail; the Run view has the whole text
_FIGURES_SIZE = "TTFT 00,000 ms · 0,000 tok/s"  # the live figures' label is this wide


class LaneCard(QFrame):
    retry_requested = Signal(int)  # lane
    continue_requested = Signal(int)
    open_requested = Signal(int)

    def __init__(self, lane: int, label: str, model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self.setObjectName("laneCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setToolTip("Double-click: open this lane's last run in the Run view and inspector")
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self._lane_key = (label, model)
        self._set_title()
        self.figures = QLabel("–")
        self.figures.setObjectName("muted")
        self.figures.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._fix_figures_size()
        self.figures.installEventFilter(self)
        self.stream = QPlainTextEdit()
        self.stream.setReadOnly(True)
        self.stream.setMaximumHeight(70)
        self.stream.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.chip = QLabel("waiting")
        self.chip.setObjectName("chip")
        self.chip.setWordWrap(True)
        self.retry_button = QPushButton("Retry")
        self.continue_button = QPushButton("Continue")
        for button in (self.retry_button, self.continue_button):
            button.setEnabled(False)
            button.setToolTip("Runs this lane's request in the Run view")
        self.retry_button.clicked.connect(lambda: self.retry_requested.emit(self.lane))
        self.continue_button.clicked.connect(lambda: self.continue_requested.emit(self.lane))
        self._chars = 0
        self._theme = LIGHT
        self.session: SessionFinished | None = None  # the lane's last finished session
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.figures)
        foot = QHBoxLayout()
        foot.addWidget(self.chip, 1)
        foot.addWidget(self.retry_button)
        foot.addWidget(self.continue_button)
        col = QVBoxLayout(self)
        col.setContentsMargins(6, 4, 6, 4)
        col.setSpacing(3)
        col.addLayout(head)
        col.addWidget(self.stream)
        col.addLayout(foot)

    def _fix_figures_size(self) -> None:
        """A label of a fixed size tells no layout when its text changes: the figures
        change 5 times a second, and each change re-laid out all 16 cards (~40 ms)."""
        metrics = self.figures.fontMetrics()
        self.figures.setFixedSize(
            metrics.horizontalAdvance(_FIGURES_SIZE) + 4, metrics.height() + 2
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.figures and event.type() == QEvent.Type.FontChange:
            self._fix_figures_size()  # present mode and themes change the font
        return super().eventFilter(watched, event)

    @property
    def lane_key(self) -> tuple[str, str]:
        """(label, model) of the lane this card shows."""
        return self._lane_key

    def _set_title(self) -> None:
        color = LANE_COLORS[self.lane % len(LANE_COLORS)]
        label, model = self._lane_key
        self.title.setText(f"<b style='color:{color}'>■</b> <b>{label}</b> · {model}")

    def set_lane(self, label: str, model: str) -> None:
        """This card now shows another lane (the same place in the race): retitled and
        emptied; the same lane keeps what it shows."""
        if (label, model) == self._lane_key:
            return
        self._lane_key = (label, model)
        self._set_title()
        self.new_round()
        self.chip.setText("waiting")
        self.chip.setToolTip("")
        self.figures.setText("–")
        self.session = None

    def new_round(self) -> None:
        self.stream.clear()
        self._chars = 0
        self.chip.setText("streaming…")
        self.chip.setStyleSheet("")
        self.retry_button.setEnabled(False)
        self.continue_button.setEnabled(False)

    def add_events(self, events: list) -> None:
        """A batch of the lane's events: its text appended once, its latest figures."""
        text: list[str] = []
        progress: Progress | None = None
        for event in events:
            if isinstance(event, TextDelta):
                text.append(event.text)
            elif isinstance(event, Progress):
                progress = event  # only the latest is shown
            elif isinstance(event, SessionFinished):
                self.session = event
        if progress is not None:
            self._show_live(progress)
        if text:
            cursor = self.stream.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText("".join(text))
            self._chars += sum(map(len, text))
            if self._chars > 2 * _KEEP_CHARS:  # trim the head now and then, not per token
                whole = self.stream.toPlainText()[-_KEEP_CHARS:]
                self.stream.setPlainText(whole)
                self._chars = len(whole)
            self.stream.verticalScrollBar().setValue(self.stream.verticalScrollBar().maximum())

    def _show_live(self, progress: Progress) -> None:
        m = progress.metrics
        ttft = f"TTFT {m.ttft_ms:,.0f} ms" if m.ttft_ms is not None else "TTFT –"
        rate = m.output_tokens_per_s
        tps = f"{rate:,.0f} tok/s" if rate is not None else "– tok/s"
        figures = f"{ttft} · {tps}"
        if figures != self.figures.text():
            self.figures.setText(figures)

    def show_verdict(self, verdict: Verdict) -> None:
        m = verdict.metrics
        ttft = f"TTFT {m.ttft_ms:,.0f} ms" if m.ttft_ms is not None else "TTFT –"
        rate = m.output_tokens_per_s
        self.figures.setText(
            f"{ttft} · " + (f"{rate:,.0f} tok/s" if rate is not None else "– tok/s")
        )
        self.chip.setText(verdict.label.upper().replace("/", " · "))
        self.chip.setToolTip(verdict.explanation)
        color = outcome_color(self._theme, verdict.outcome)
        self.chip.setStyleSheet(f"color: {color}; font-weight: bold;")
        self.retry_button.setEnabled("retry" in verdict.actions)
        self.continue_button.setEnabled("continue" in verdict.actions and self.session is not None)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.open_requested.emit(self.lane)
        super().mouseDoubleClickEvent(event)

"""The verdict panel: the live state while streaming, then the outcome badge, the raw stop
reason beside the normalized one, warnings with their one-line meaning, the evidence
sentence, metrics, HTTP facts, the recovery actions the verdict allows, and one row per
attempt."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core import (
    WARNING_TEXT,
    AttemptStarted,
    Progress,
    ResponseStarted,
    RunFinished,
    Verdict,
)
from gui.run.action_rules import ActionState
from gui.run.messages import SessionOutcome, SessionStart
from gui.run.verdict_parts import (
    AttemptsList,
    MetricsGrid,
    present_explanation,
    progress_text,
    segments_html,
)
from gui.theme import LIGHT, Theme, outcome_color

__all__ = ["VerdictPanel"]


def _title(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionTitle")
    return label


def _metrics_scope(outcome: SessionOutcome, attempts: int) -> str:
    """The grid's title says which part of the session its figures cover."""
    if len(outcome.parts) > 1:
        n = len(outcome.parts)
        return f"METRICS · LAST SEGMENT ({n} OF {n})"
    if attempts > 1:
        return f"METRICS · LAST ATTEMPT (#{attempts})"
    return "METRICS"


class VerdictPanel(QWidget):
    retry_requested = Signal()
    continue_requested = Signal()
    more_tokens_requested = Signal()
    reset_breaker_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = LIGHT
        self._outcome: str | None = None
        self._shown: SessionOutcome | None = None  # the verdict shown (a refused retry keeps it)
        self._fresh = True  # the session running now cleared the views
        self._segment = 0  # of the attempt running now
        self.state = QLabel("Idle")
        self.state.setObjectName("muted")
        self.badge = QLabel("NO RUN YET")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel("")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stop_reason = QLabel("")
        self.stop_reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stop_reason.setObjectName("muted")
        self.explanation = QLabel("Send a request to see how its stream ends.")
        self.warnings = QLabel("")
        self.notes = QLabel("")
        self.notes.setObjectName("muted")
        self.segments = QLabel("")
        self.error = QLabel("")
        self.error_box = QFrame()
        self.error_box.setObjectName("errorBox")
        wrapped = (self.explanation, self.warnings, self.notes, self.segments, self.error)
        for label in (*wrapped, self.stop_reason, self.state, self.badge, self.detail):
            label.setWordWrap(True)  # long values wrap: the panel never widens past the screen
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        QVBoxLayout(self.error_box).addWidget(self.error)
        self.error_box.setVisible(False)
        self.retry_button = QPushButton("Retry")
        self.continue_button = QPushButton("Continue")
        self.more_tokens_button = QPushButton("More tokens")
        self.more_tokens_button.setToolTip("Retry with max tokens doubled (capped)")
        self.reset_breaker_button = QPushButton("Reset breaker")
        self.reset_breaker_button.setToolTip("Close the circuit breaker now and allow requests")
        self.reset_breaker_button.setVisible(False)
        self.buttons = {
            "retry": self.retry_button,
            "continue": self.continue_button,
            "more_tokens": self.more_tokens_button,
        }
        for button in self.buttons.values():
            button.setObjectName("actionButton")
            button.setEnabled(False)
        self.reset_breaker_button.clicked.connect(self.reset_breaker_requested)
        self.retry_button.clicked.connect(self.retry_requested)
        self.continue_button.clicked.connect(self.continue_requested)
        self.more_tokens_button.clicked.connect(self.more_tokens_requested)
        self.metrics = MetricsGrid()
        self.attempts = AttemptsList()
        self._build()
        self._paint_badge()

    def _build(self) -> None:
        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(12, 8, 12, 12)
        col.setSpacing(6)
        col.addWidget(_title("State"))
        col.addWidget(self.state)
        col.addWidget(_title("Verdict"))
        col.addWidget(self.badge)
        col.addWidget(self.detail)
        col.addWidget(self.stop_reason)
        col.addWidget(self.explanation)
        col.addWidget(self.warnings)
        col.addWidget(self.segments)
        col.addWidget(self.notes)
        col.addWidget(self.error_box)
        buttons = QHBoxLayout()
        for button in self.buttons.values():
            buttons.addWidget(button)
        col.addLayout(buttons)
        col.addWidget(self.reset_breaker_button)
        self.metrics_title = _title("Metrics")
        self.metrics_title.setWordWrap(True)  # a long scope must not widen the panel
        col.addWidget(self.metrics_title)
        col.addWidget(self.metrics)
        col.addWidget(_title("Attempts"))
        col.addWidget(self.attempts, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # never narrower than its fields: a squeezed pane clipped them with no way to scroll
        bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(body.minimumSizeHint().width() + bar + 4)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    # --- what tests read -------------------------------------------------------------------

    @property
    def outcome_label(self) -> str:
        """`outcome/detail` of the verdict shown, or "" while none is."""
        return self.badge.property("label") or ""

    @property
    def shown(self) -> SessionOutcome | None:
        """The verdict shown, with its segments (None while none is)."""
        return self._shown

    # --- slots ---------------------------------------------------------------------------

    @Slot(object)
    def on_session_started(self, start: SessionStart) -> None:
        self._fresh = start.fresh
        if start.fresh:
            self._shown = None
        self.error_box.setVisible(False)
        self._set_verdict_text(None, "running" if start.kind != "replay" else "idle")
        if start.fresh:
            self.attempts.clear()
            self.metrics.clear()
            self.metrics_title.setText("METRICS")
        self.state.setText("Opening…" if start.kind == "replay" else "Connecting…")

    @Slot(object, object)
    def on_attempt_started(self, attempt: AttemptStarted, axis_offset_ns: int) -> None:
        self._segment = attempt.segment
        self.attempts.add_attempt(attempt)

    @Slot(object)
    def on_response_started(self, response: ResponseStarted) -> None:
        self.metrics.show_status(response.status)
        self.attempts.show_status(response.status)

    @Slot(object)
    def on_progress_changed(self, p: Progress) -> None:
        """The live figures core measures (~4 Hz, steady streams included); the metrics grid
        shows core's figures so far until the verdict's replace them."""
        self.state.setText(progress_text(p, self._segment))
        if p.state == "stalled" and self._outcome == "running":
            self.badge.setText("STALLED")
            self._outcome = "stalled"
            self._paint_badge()
        elif p.state != "stalled" and self._outcome == "stalled":
            self._set_verdict_text(None, "running")
        if p.metrics is not None and self._outcome in ("running", "stalled"):
            self.metrics.show_live(p.metrics)

    @Slot(object)
    def on_run_finished(self, finished: RunFinished) -> None:
        self.attempts.finish(finished)

    @Slot(object)
    def on_verdict_ready(self, outcome: SessionOutcome) -> None:
        v = outcome.verdict
        shown = self._shown
        if v.label == "not_sent/breaker_open" and not self._fresh and shown is not None:
            # DESIGN §6: a refused retry is listed in the attempts; the verdict it was meant
            # to recover stays, with its actions
            self._show(shown)
            self.state.setText("Not sent: the circuit breaker is open")
            note = html.escape(present_explanation(v))
            self.notes.setText((self.notes.text() + "<br>" if self.notes.text() else "") + note)
            self.notes.setVisible(True)
            return
        self._shown = outcome
        self._show(outcome)

    def _show(self, outcome: SessionOutcome) -> None:
        v = outcome.verdict
        self.state.setText("Finished" if outcome.replay_kind is None else "Opened")
        self._set_verdict_text(v, v.outcome)
        self.metrics.show_verdict(v)
        self.metrics.show_whole(outcome)
        self.metrics_title.setText(_metrics_scope(outcome, self.attempts.topLevelItemCount()))

        lines = [f"⚑ <b>{w}</b> — {html.escape(WARNING_TEXT.get(w, ''))}" for w in v.warnings]
        self.warnings.setText("<br>".join(lines))
        self.warnings.setVisible(bool(lines))
        calls = [
            f"⚙ <b>{html.escape(c.name or 'tool')}</b>({html.escape(c.arguments[:160])})"
            + ("" if c.complete else " — <b>incomplete</b>")
            for c in v.tool_calls
        ]
        segs = "<br>".join(calls)
        if len(outcome.parts) > 1:
            segs += ("<br>" if segs else "") + segments_html(outcome, self._theme)
        self.segments.setText(segs)
        self.segments.setVisible(bool(segs))
        self.notes.setText("<br>".join(html.escape(n) for n in outcome.notes))
        self.notes.setVisible(bool(outcome.notes))

    @Slot(str)
    def on_run_failed(self, message: str) -> None:
        self.show_error(message)
        self.state.setText("Failed")

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error_box.setVisible(True)

    def note_breaker_reset(self) -> None:
        """The breaker was reset: a breaker_open verdict shown says so at once."""
        if self.outcome_label == "not_sent/breaker_open":
            self.explanation.setText(
                "Not sent: the circuit breaker was open. It is reset now: Send again."
            )
        if "circuit breaker" in self.state.text():
            self.state.setText("Circuit breaker reset")

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.attempts.set_theme(theme)
        self._paint_badge()

    # --- painting ------------------------------------------------------------------------

    def apply_actions(self, states: dict[str, ActionState]) -> None:
        """The window's one rule (`gui.run.action_rules`) decides; the panel shows."""
        for key, button in self.buttons.items():
            st = states[key]
            button.setEnabled(st.enabled)
            button.setText(st.text or {"more_tokens": "More tokens"}.get(key, key.capitalize()))
            button.setToolTip(st.tip)
        self.reset_breaker_button.setVisible(states["panel_reset"].enabled)

    def _set_verdict_text(self, v: Verdict | None, color_key: str) -> None:
        self._outcome = color_key
        if v is None:
            self.badge.setText("RUNNING" if color_key == "running" else "…")
            self.badge.setProperty("label", "")
            self.detail.setText("")
            self.stop_reason.setText("")
            self.explanation.setText("")
            self.warnings.setVisible(False)
            self.segments.setVisible(False)
            self.notes.setVisible(False)
        else:
            self.badge.setText(v.outcome.replace("_", " ").upper())
            self.badge.setProperty("label", v.label)
            self.detail.setText(v.detail or "")
            raw = "none" if v.raw_stop_reason is None else f"“{v.raw_stop_reason}”"
            term = "terminator seen" if v.terminator_seen else "no terminator"
            self.stop_reason.setText(f"raw stop reason {raw} → {v.label} · {term}")
            self.explanation.setText(present_explanation(v))
        self._paint_badge()

    def _paint_badge(self) -> None:
        key = "interrupted" if self._outcome == "stalled" else self._outcome
        color = outcome_color(self._theme, key)
        self.badge.setStyleSheet(
            f"background: {color}; color: white; border-radius: 8px; padding: 10px;"
            "font-size: 15pt; font-weight: 800; letter-spacing: 1px;"
        )
        self.detail.setStyleSheet(f"color: {color}; font-weight: 600; font-size: 11pt;")

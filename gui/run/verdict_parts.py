"""Parts of the verdict panel: the metrics grid (DESIGN §4 figures, core's live ones while a
run streams, then the verdict's, with where N came from), the attempts list (one row per
attempt: kind, verdict, HTTP status, delay, reason), the live state line from core's
`Progress`, and the segments of a continued answer with the whole."""

from __future__ import annotations

import html

from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from core import AttemptStarted, Metrics, Progress, RunFinished, Verdict
from gui.run.messages import SessionOutcome
from gui.theme import LIGHT, Theme, outcome_color, qcolor
from gui.widgets.elided_label import ElidedLabel

__all__ = ["AttemptsList", "MetricsGrid", "present_explanation", "progress_text", "segments_html"]

_DNS_SIGNS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "getaddrinfo",
    "no address associated",
    "name resolution",
)


def present_explanation(v: Verdict) -> str:
    """Core's evidence sentence as the panel shows it: a connection that never opened is
    said plainly (a host name that does not resolve is named as such), and a provider's
    message ending in its own punctuation gets no second full stop."""
    text = v.explanation
    if v.outcome == "interrupted" and v.detail == "connect_failed":
        why = text.split(": ", 1)[1] if ": " in text else text
        why = why.removesuffix("; no end signal came.").strip()
        if any(sign in text.lower() for sign in _DNS_SIGNS):
            return f"Name resolution failed: the host name in the base URL was not found ({why})."
        return f"Could not connect to the server: {why}. Nothing was received."
    for doubled, single in (("!.", "!"), ("?.", "?"), ("..", ".")):
        if text.endswith(doubled) and not text.endswith("..."):
            text = text[: -len(doubled)] + single
    return text


_METRICS = (
    ("headers", "Headers"),
    ("ttfb", "TTFB"),
    ("ttft", "TTFT"),
    ("answer", "First answer"),
    ("itl", "ITL"),
    ("tpot", "TPOT"),
    ("tps", "Tokens/s"),
    ("total", "Total"),
    ("tokens", "Output tokens"),
    ("usage", "Usage in / out"),
    ("chunks", "Chunks / events"),
    ("http", "HTTP"),
    ("request_id", "Request id"),
    ("whole", "Whole answer"),
)


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{value / 1000:,.2f} s"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _n(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _timings(m: Metrics) -> dict[str, str]:
    """The rows core times, formatted alike for the live and the final figures."""
    tps = f"{m.output_tokens_per_s:,.1f}" if m.output_tokens_per_s else "–"
    return {
        "headers": _ms(m.headers_ms),
        "ttfb": _ms(m.ttfb_ms),
        "ttft": _ms(m.ttft_ms),
        "answer": _ms(m.first_answer_ms),
        "itl": _ms(m.itl_ms),
        "tpot": _ms(m.tpot_ms),
        "tps": tps,
        "total": _ms(m.total_ms),
        "chunks": f"{m.chunks:,} / {m.events:,}",
    }


def _ago(ms: float | None) -> str:
    if ms is None:
        return "–"
    return f"{ms:,.0f} ms ago" if ms < 1000 else f"{ms / 1000:,.1f} s ago"


def progress_text(p: Progress, segment: int = 0) -> str:
    """The live state line: state, tokens and tokens/s so far, time since the last byte
    and the last content (all from core's measurements)."""
    lead = f"Segment {segment + 1} · " if segment else ""
    if p.state == "connecting":
        return lead + "Connecting…"
    if p.state == "waiting":
        return lead + f"Waiting for the first byte · {p.t_ns / 1e9:.1f} s"
    tps = f" · {p.tokens_per_s:,.0f} tok/s" if p.tokens_per_s else ""
    tokens = f"{p.content_events:,} tokens{tps}"
    byte, content = _ago(p.since_last_byte_ms), _ago(p.since_last_content_ms)
    if p.state == "stalled":
        gap = (p.since_last_content_ms or 0) / 1000
        return lead + f"Stalled: no content for {gap:.1f} s · last byte {byte} · {tokens}"
    return lead + f"Streaming · {tokens} · last byte {byte} · last content {content}"


def _verdict_line(v: Verdict, theme: Theme) -> str:
    color = outcome_color(theme, v.outcome)
    return f'<span style="color:{color}">●</span> <b>{html.escape(v.label)}</b>'


def segments_html(outcome: SessionOutcome, theme: Theme) -> str:
    """One line per segment (its own verdict, how it was asked for, its size) and one for
    the whole (the verdict shown above, with everything summed)."""
    lines = ["<b>Segments</b>"]
    for i, (v, method) in enumerate(outcome.parts):
        out = v.output_tokens if v.output_tokens is not None else v.metrics.content_events
        lines.append(
            f"{i + 1}. {_verdict_line(v, theme)} · {html.escape(method)} · "
            f"{out:,} tokens · {v.text_chars:,} chars"
        )
    w = outcome.verdict
    usage = f"usage {_n(w.input_tokens)} in / {_n(w.output_tokens)} out"
    warn = f" · warnings: {html.escape(', '.join(w.warnings))}" if w.warnings else ""
    lines.append(
        f"<b>Whole</b>: {_verdict_line(w, theme)} · {len(outcome.parts)} segments · "
        f"{w.text_chars:,} chars · {usage}{warn}"
    )
    return "<br>".join(lines)


class MetricsGrid(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: dict[str, QLabel] = {}
        self.names: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(3)
        for row, (key, name) in enumerate(_METRICS):
            label = self.names[key] = QLabel(name)
            label.setObjectName("muted")
            value = ElidedLabel("–")  # a long HTTP line must not widen the panel
            value.setObjectName("metricValue")
            grid.addWidget(label, row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value
        grid.setColumnStretch(1, 1)
        self._show_whole(False)

    def _show_whole(self, shown: bool) -> None:
        self.values["whole"].setVisible(shown)
        self.names["whole"].setVisible(shown)

    def clear(self) -> None:
        for value in self.values.values():
            value.setText("–")
        self._show_whole(False)

    def show_whole(self, outcome: SessionOutcome) -> None:
        """After Continue, the whole answer beside the last segment's figures: summed
        output tokens and usage over every segment."""
        if len(outcome.parts) < 2 and outcome.verdict.session_metrics is None:
            self._show_whole(False)
            return
        w = outcome.verdict
        sm = w.session_metrics
        if sm is not None:  # core's whole-answer figures (DESIGN §6)
            tokens = _n(sm.output_tokens)
            if sm.output_tokens is None and outcome.parts:  # no usage: counted, as per segment
                tokens = f"{sum(v.metrics.content_events for v, _ in outcome.parts):,} (chunks)"
            text = (
                f"{tokens} tokens · {sm.segments} segments · "
                f"{sm.attempts} attempts · TTFT {_ms(sm.ttft_ms)} · total {_ms(sm.total_ms)}"
            )
        else:
            outs = [
                v.output_tokens if v.output_tokens is not None else v.metrics.content_events
                for v, _ in outcome.parts
            ]
            text = f"{sum(outs):,} tokens over {len(outcome.parts)} segments"
        text += f" · usage {_n(w.input_tokens)} / {_n(w.output_tokens)}"
        self.values["whole"].setText(text)
        self._show_whole(True)

    def _explain(self, m: Metrics) -> None:
        """Hover: why tokens/s is "–" (core's reason), and what each figure measures."""
        tps = self.values["tps"]
        note = m.tokens_per_s_note
        tps.setToolTip(f"No tokens/s: {note}" if note and not m.output_tokens_per_s else "")
        tps.setProperty("note", note or "")

    def show_status(self, status: int) -> None:
        self.values["http"].setText(str(status))

    def show_live(self, m: Metrics) -> None:
        """The figures so far (core's `Progress.metrics`, ~4 Hz): timings, N and chunks; the
        usage, HTTP and request id rows keep what they show until the verdict. A usage count
        reported mid-stream is not among those figures, so N from usage shows at the end."""
        if m.tokens_source == "usage":
            tokens = "– (N from provider usage)"
        else:
            tokens = f"{m.content_events:,} (N from content chunks)"
        self._set({**_timings(m), "tokens": tokens})
        self._explain(m)

    def show_verdict(self, v: Verdict) -> None:
        m = v.metrics
        source = "provider usage" if m.tokens_source == "usage" else "content chunks"
        out = v.output_tokens if v.output_tokens is not None else m.content_events
        http = "–" if v.http is None else f"{v.http.status} {v.http.content_type or ''}"
        if v.http is not None and v.http.retry_after_s is not None:
            http += f" · Retry-After {v.http.retry_after_s:g} s"
        self._set(
            {
                **_timings(m),
                "tokens": f"{out:,} (N from {source})",
                "usage": f"{_n(v.input_tokens)} / {_n(v.output_tokens)}",
                "http": http,
                "request_id": (v.http.request_id if v.http else None) or "–",
            }
        )
        self._explain(m)

    def _set(self, texts: dict[str, str]) -> None:
        for key, text in texts.items():
            label = self.values[key]
            if label.text() != text:
                label.setText(text)


class AttemptsList(QTreeWidget):
    """Columns: #, kind, verdict, HTTP, waited, why (tests read them by index)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = LIGHT
        self.setHeaderLabels(["#", "kind", "verdict", "HTTP", "wait", "why"])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setMinimumHeight(90)
        # The short columns fit their header and contents, the verdict is elided (its label is
        # the tooltip) and "why" takes the rest: every header, "waited" included, stays
        # readable at the default panel width.
        header = self.header()
        fit = QHeaderView.ResizeMode.ResizeToContents
        for col in (0, 1, 2, 3, 4):  # every column fits its contents, the verdict included
            header.setSectionResizeMode(col, fit)
        header.setStretchLastSection(True)  # "why" takes the rest; wider → a scroll bar
        header.setMinimumSectionSize(28)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme

    def _last(self) -> QTreeWidgetItem | None:
        return self.topLevelItem(self.topLevelItemCount() - 1)

    def add_attempt(self, attempt: AttemptStarted) -> None:
        waited = f"{attempt.waited_s:.2f} s" if attempt.waited_s else ""
        why = attempt.method or attempt.reason
        kind = {"more_tokens": "more tokens"}.get(attempt.kind, attempt.kind)
        row = [str(self.topLevelItemCount() + 1), kind, "…", "", waited, why]
        item = QTreeWidgetItem(row)
        item.setToolTip(5, why)
        self.addTopLevelItem(item)

    def _explain(self, m: Metrics) -> None:
        """Hover: why tokens/s is "–" (core's reason), and what each figure measures."""
        tps = self.values["tps"]
        note = m.tokens_per_s_note
        tps.setToolTip(f"No tokens/s: {note}" if note and not m.output_tokens_per_s else "")
        tps.setProperty("note", note or "")

    def show_status(self, status: int) -> None:
        item = self._last()
        if item is not None:
            item.setText(3, str(status))

    def finish(self, finished: RunFinished) -> None:
        item = self._last()
        if item is None:
            return
        v = finished.verdict
        item.setText(2, v.label)
        item.setToolTip(2, v.label)
        item.setForeground(2, QBrush(qcolor(outcome_color(self._theme, v.outcome))))
        if v.http is not None:
            item.setText(3, str(v.http.status))
            if v.http.retry_after_s is not None:
                item.setToolTip(3, f"Retry-After: {v.http.retry_after_s:g} s")

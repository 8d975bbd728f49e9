"""Human words for verdicts: the one-line meaning of every warning and a short text report
(the CLI prints it; the window shows the same sentences)."""

from __future__ import annotations

from core.stream.metrics import Metrics
from core.stream.outcome import Verdict
from core.stream.warning_text import WARNING_TEXT

__all__ = ["WARNING_TEXT", "format_metrics", "format_report"]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"


def _tokens_per_s(m: Metrics) -> str:
    if m.output_tokens_per_s is not None:
        return _fmt(m.output_tokens_per_s, "tok/s")
    return f"– tok/s ({m.tokens_per_s_note})" if m.tokens_per_s_note else "– tok/s"


_ENDED_BY = {
    "content": "content resumed",
    "error": "an error ended it",
    "end": "the stream ended",
    None: "still silent at the end",
}


def format_metrics(v: Verdict, scope: str = "") -> list[str]:
    """The timing lines; `scope` labels them (e.g. "last segment") when a session mixes
    scopes."""
    m = v.metrics
    label = f"{scope}: " if scope else ""
    if m.ttfb_ms is None and m.total_ms is None:
        return [f"  {label}events {m.events} (no timings: a plain body)"]
    source = "provider usage" if m.tokens_source == "usage" else "content chunks"
    lines = [
        f"  {label}headers {_fmt(m.headers_ms, 'ms')} · TTFB {_fmt(m.ttfb_ms, 'ms')}"
        f" · TTFT {_fmt(m.ttft_ms, 'ms')} · first answer {_fmt(m.first_answer_ms, 'ms')}"
        f" · total {_fmt(m.total_ms, 'ms')}",
        f"  {label}ITL {_fmt(m.itl_ms, 'ms')} · TPOT {_fmt(m.tpot_ms, 'ms')}"
        f" · {_tokens_per_s(m)} (N from {source})"
        f" · {m.chunks} chunks · {m.events} events",
    ]
    for stall in m.stalls:
        lines.append(
            f"  {label}silence: {stall.gap_ms:,.0f} ms from {stall.at_ms:,.0f} ms"
            f" ({_ENDED_BY.get(stall.ended_by, stall.ended_by)})"
        )
    return lines


def format_report(v: Verdict, notes: list[str] | None = None, preview: int = 240) -> str:
    raw = f" (raw stop reason: {v.raw_stop_reason!r})" if v.raw_stop_reason is not None else ""
    # A provider's message may hold line breaks (LiteLLM's do): the report keeps one line.
    lines = [f"Verdict: {v.label}{raw}", f"  {' '.join(v.explanation.split())}"]
    if v.http is not None:
        rid = f" · request id {v.http.request_id}" if v.http.request_id else ""
        lines.append(f"  HTTP {v.http.status} {v.http.content_type or ''}{rid}".rstrip())
    for w in v.warnings:
        lines.append(f"  ! {w}: {WARNING_TEXT.get(w, '')}")
    for note in notes or []:
        lines.append(f"  note: {note}")
    if v.reasoning:
        lines.append(f"  reasoning: {_preview(v.reasoning, preview)}")
    if v.answer:
        lines.append(f"  text: {_preview(v.text, preview)}")
    if v.refusal:
        lines.append(f"  refusal: {_preview(v.refusal, preview)}")
    for call in v.tool_calls:
        state = "complete" if call.complete else "INCOMPLETE"
        lines.append(f"  tool call {call.name} ({state}): {_preview(call.arguments, 120)}")
    sm = v.session_metrics
    if v.input_tokens is not None or v.output_tokens is not None:
        scope = " (whole answer, summed over segments)" if sm is not None else ""
        lines.append(f"  usage{scope}: input {v.input_tokens} · output {v.output_tokens} tokens")
    if sm is not None:
        lines += format_metrics(v, "last segment")
        lines.append(
            f"  whole answer: TTFT {_fmt(sm.ttft_ms, 'ms')} (first segment) · total "
            f"{_fmt(sm.total_ms, 'ms')} (first send to last byte, waits included) · output "
            f"{'–' if sm.output_tokens is None else sm.output_tokens} tokens · "
            f"{sm.segments} segment{'s' if sm.segments != 1 else ''} · "
            f"{sm.attempts} attempt{'s' if sm.attempts != 1 else ''}"
        )
    else:
        lines += format_metrics(v)
    if v.actions:
        lines.append(f"  next: {', '.join(v.actions)}")
    for a in v.attempts:
        lines.append(f"  attempt: {a}")
    return "\n".join(lines)


def _preview(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

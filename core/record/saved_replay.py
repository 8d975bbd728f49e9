"""Judge a saved session again from its recorded bytes: every attempt, every segment.

Each attempt is re-judged from its chunks with its recorded timings and transport ending;
the session's verdict is the last segment's, with the stitched text, `segments`, `attempts`
and `session_metrics` from the session line (or rebuilt from the attempts when the recording
was cut before it). Fields of the wrong type are ignored, never a crash.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.record.savefile import SavedAttempt, SavedSession
from core.stream.httpinfo import error_message, http_info, is_stream_content_type
from core.stream.keymask import recover_echoed_key
from core.stream.metrics import Metrics
from core.stream.outcome import Verdict, bad_content_type, http_error
from core.stream.pipeline import Pipeline
from core.stream.spec import DIALECTS, stop_sequences_sent, usage_requested
from core.stream.verdict import SessionMetrics, utf8

__all__ = ["judge_attempt", "judge_session", "stitch_texts"]

CUT_NOTE = "the recording was cut: no end line (the recorder died)"


def _verdict_from_json(data: dict[str, Any] | None, dialect: str) -> Verdict | None:
    if not data:
        return None
    try:
        verdict = Verdict.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if not isinstance(verdict.outcome, str):
        return None
    return verdict if verdict.dialect in DIALECTS else replace(verdict, dialect=dialect)


def judge_attempt(
    attempt: SavedAttempt, dialect: str = "auto", key: str | None = None
) -> tuple[Verdict, Pipeline, list]:
    """One attempt's verdict from its chunks; also the pipeline (wire and events) it ran.
    The key was masked before it was saved; one a model echoed token by token (no single
    read held it whole) is found again by comparing with the saved verdict (`key`)."""
    chosen = dialect if dialect in DIALECTS else attempt.dialect
    if chosen not in DIALECTS:
        chosen = "openai-chat"
    timed = attempt.timed
    pipe = Pipeline(chosen, timed=timed, key=key)
    status = attempt.status
    total_ns = attempt.total_ns
    steps: list = []
    if status is None:
        saved = _verdict_from_json(attempt.saved_verdict, chosen)
        verdict = saved or Verdict(
            chosen,
            "interrupted",
            "connect_failed",
            actions=("retry",),
            explanation="No response was recorded.",
        )
        return verdict, pipe, steps
    info = http_info(status, attempt.response_headers)
    if attempt.headers_t_ns is not None and timed:
        pipe.metrics.on_headers(attempt.headers_t_ns)
    body = b"".join(c for _, c in attempt.chunks)
    if not 200 <= status < 300 or not is_stream_content_type(info.content_type, chosen):
        for t_ns, _ in attempt.chunks:
            pipe.metrics.on_chunk(t_ns)
        judge = http_error if not 200 <= status < 300 else bad_content_type
        verdict = judge(chosen, info, error_message(body))
        verdict = _keep_key_echoed(verdict, attempt.saved_verdict)
        return verdict.with_metrics(pipe.build_metrics(total_ns)), pipe, steps
    for index, (t_ns, chunk) in enumerate(attempt.chunks):
        steps.append(pipe.feed(chunk, t_ns, index if timed else -1))
    end_t = attempt.chunks[-1][0] if attempt.chunks else 0
    steps.append(pipe.close(end_t))
    body_json = attempt.request.get("body")
    request_body = body_json if isinstance(body_json, dict) else {}
    verdict = pipe.verdict(
        transport=attempt.transport,
        http=info,
        live=timed,
        usage_requested=usage_requested(chosen, request_body),
        total_ns=total_ns if timed else None,
        stop_sequences_sent=stop_sequences_sent(chosen, request_body),
    )
    saved = attempt.saved_verdict if isinstance(attempt.saved_verdict, dict) else {}
    if key is None:
        echoed = recover_echoed_key(verdict.text, saved.get("text"))
        if echoed:
            return judge_attempt(attempt, dialect, echoed)
    verdict = _keep_key_echoed(verdict, saved)
    if attempt.end is None:
        verdict = _cut(verdict, len(attempt.chunks))
    return verdict, pipe, steps


def _keep_key_echoed(verdict: Verdict, saved: Any) -> Verdict:
    """The chunks were saved with the key masked, so they cannot show the echo again: the
    saved verdict's `key_echoed` carries over."""
    warnings = saved.get("warnings") if isinstance(saved, dict) else None
    if not isinstance(warnings, list) or "key_echoed" not in warnings:
        return verdict
    if "key_echoed" in verdict.warnings:
        return verdict
    return replace(verdict, warnings=(*verdict.warnings, "key_echoed"))


def _cut(verdict: Verdict, chunks: int) -> Verdict:
    """A recording without its end line: say so, never "the body ended properly"."""
    warnings = tuple(dict.fromkeys((*verdict.warnings, "recording_cut")))
    explanation = verdict.explanation
    if verdict.outcome == "interrupted" and verdict.detail == "eof_before_terminator":
        explanation = (
            f"The recording stops after {chunks} chunk{'s' if chunks != 1 else ''} without its "
            "end line (StreamScope was stopped while recording), so how the body ended is "
            "unknown; no end signal was recorded."
        )
    return replace(verdict, warnings=warnings, explanation=explanation)


def stitch_texts(parts: list[str], min_overlap: int = 12) -> str:
    """Join segment texts, cutting a restated tail at each seam (as Continue stitches)."""
    text = ""
    for part in parts:
        limit = min(len(text), len(part), 400)
        for k in range(limit, min_overlap - 1, -1):
            if text.endswith(part[:k]):
                part = part[k:]
                break
        text += part
    return text


def _str_list(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else ()


def judge_session(saved: SavedSession, verdicts: list[Verdict]) -> Verdict:
    """The session's verdict from each attempt's (re-judged) verdict, with the session
    line's `session_metrics`."""
    attempts = saved.attempts
    final = verdicts[-1]
    if len(attempts) == 1 and saved.session is None:
        return final
    by_segment: dict[int, Verdict] = {}
    for attempt, verdict in zip(attempts, verdicts, strict=True):
        if verdict.outcome == "not_sent" and verdict.detail == "breaker_open":
            by_segment.setdefault(attempt.segment, verdict)
            continue  # a refused retry never becomes the segment's verdict
        by_segment[attempt.segment] = verdict
    segments = [by_segment[k] for k in sorted(by_segment)]
    last = segments[-1]
    session = saved.session or {}
    text = session.get("text")
    if not isinstance(text, str) or saved.cut:
        text = stitch_texts([v.text for v in segments])
    seg_json = tuple(s for s in _str_list(session.get("segments")) if isinstance(s, dict))
    if not seg_json and len(segments) > 1:
        seg_json = tuple(
            {"outcome": v.outcome, "detail": v.detail, "method": "original" if i == 0 else None}
            for i, v in enumerate(segments)
        )
    att_json = tuple(a for a in _str_list(session.get("attempts")) if isinstance(a, dict))
    if len(att_json) < len(attempts) and len(attempts) > len(segments):
        att_json = tuple(
            {"verdict": v.label, "waited_s": None, "reason": "retry" if i else "first"}
            for i, v in enumerate(verdicts)
        )
    usage = session.get("usage") if isinstance(session.get("usage"), dict) else {}
    warnings = [w for v in segments for w in v.warnings]
    warnings += [w for w in _str_list(session.get("warnings")) if isinstance(w, str)]
    if saved.cut:
        warnings.append("recording_cut")
    whole = replace(
        last,
        answer=utf8(text),
        reasoning="".join(v.reasoning for v in segments),
        warnings=tuple(dict.fromkeys(warnings)),
        input_tokens=_count(usage.get("input_tokens"), [v.input_tokens for v in segments]),
        output_tokens=_count(usage.get("output_tokens"), [v.output_tokens for v in segments]),
        had_output=any(v.had_output for v in segments),
        attempts=att_json,
        segments=seg_json,
        metrics=last.metrics if isinstance(last.metrics, Metrics) else Metrics(),
        session_metrics=_session_metrics(session.get("session_metrics")),
    )
    return whole


def _session_metrics(data: Any) -> SessionMetrics | None:
    try:
        return SessionMetrics.from_json(data)
    except (OverflowError, ValueError):  # Infinity / NaN in a hand-edited file
        return None


def _count(saved: Any, values: list[int | None]) -> int | None:
    if isinstance(saved, int) and not isinstance(saved, bool):
        return saved
    present = [v for v in values if isinstance(v, int)]
    return sum(present) if present else None

"""Judge a stream that already happened: a raw body, a saved run, or a pasted log. Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from core.events import StreamEvent, WireEvent
from core.httpinfo import error_message, http_info, is_stream_content_type
from core.outcome import Verdict, bad_content_type, http_error
from core.pipeline import Pipeline
from core.savefile import SavedAttempt, is_saved_run, read_saved_run
from core.spec import DIALECTS

__all__ = ["DiagnoseError", "Replay", "detect_dialect", "diagnose_bytes"]

_PREFIX = re.compile(
    r"^\s*(?:(?:line\s*)?\d+\s*[:|]\s*|\[[^\]]{1,40}\]\s*|\d{4}-\d\d-\d\d[T ][\d:.,]+\S*\s+)",
    re.IGNORECASE,
)
_FIELD = re.compile(r"^(data|event|id|retry)\s*:")


class DiagnoseError(Exception):
    """Unusable input: the message says what it looks like (one line, for exit code 2)."""


@dataclass(slots=True)
class Replay:
    verdict: Verdict
    kind: str  # body | log | saved_run
    dialect: str
    notes: list[str] = field(default_factory=list)
    chunks: list[tuple[int, bytes]] = field(default_factory=list)
    wire: list[WireEvent] = field(default_factory=list)
    events: list[StreamEvent] = field(default_factory=list)
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None


def diagnose_bytes(data: bytes, dialect: str = "auto") -> Replay:
    if dialect != "auto" and dialect not in DIALECTS:
        raise DiagnoseError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if not data.strip():
        raise DiagnoseError("the input is empty")
    if b"\x00" in data[:4096]:
        raise DiagnoseError("this looks like binary data, not a text stream")
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(8, len(text) // 20):
        raise DiagnoseError("this looks like binary data, not a text stream")
    if is_saved_run(text):
        return _replay_saved(text, dialect)
    _reject_non_streams(text)
    lines = text.splitlines()
    unwrapped = [_unwrap(line) for line in lines]
    wrapped = sum(
        1
        for raw, un in zip(lines, unwrapped, strict=True)
        if un is not None and un != raw.strip() and _FIELD.match(un)
    )
    data_lines = sum(1 for un in unwrapped if un and un.startswith("data"))
    blank = sum(1 for line in lines if not line.strip())
    if wrapped or (data_lines > 1 and blank == 0):
        events = _log_events(unwrapped)
        return _judge_events(events, dialect, "log")
    if data_lines or any(un and (_FIELD.match(un) or un.startswith(":")) for un in unwrapped):
        return _judge_body(data, dialect)
    json_lines = [ln for ln in lines if ln.strip()]
    if json_lines and all(_is_json_object(ln) for ln in json_lines):
        events = [("line", ln.strip()) for ln in json_lines]
        guess = detect_dialect(events, ndjson=True)
        if dialect == "auto" and guess == "ollama":
            return _judge_body(data, "ollama")
        return _judge_events(events, dialect, "log")
    raise DiagnoseError(
        "no stream events found: this looks like plain text, not an SSE or NDJSON stream"
    )


def _reject_non_streams(text: str) -> None:
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html", "<?xml")) or "<html" in head:
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        what = f" ({title.group(1).strip()[:60]})" if title else ""
        raise DiagnoseError(f"this is an HTML page{what}, not a stream")
    try:
        obj = json.loads(text)
    except ValueError:
        return
    if (
        isinstance(obj, list)
        and obj
        and all(isinstance(o, dict) and "candidates" in o for o in obj)
    ):
        return  # Gemini's non-SSE streaming form: a JSON array of chunks
    if isinstance(obj, dict) and ("done" in obj or "choices" in obj or "candidates" in obj):
        return  # one NDJSON line: a stream cut after its first event
    message = error_message(text.encode())
    if isinstance(obj, dict) and "error" in obj:
        raise DiagnoseError(f"this is a plain JSON error body, not a stream: {message}")
    raise DiagnoseError("this is a single JSON document, not a stream")


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _unwrap(line: str) -> str | None:
    """`Line 1467: 'data: {...}'` → `data: {...}`; None for a blank line."""
    s = line.strip()
    if not s:
        return None
    for _ in range(3):
        m = _PREFIX.match(s)
        if not m or m.end() == 0:
            break
        s = s[m.end() :]
    if s.endswith(","):
        s = s[:-1].rstrip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"`":
        s = s[1:-1]
    if s[:2] in ("b'", 'b"') and s[-1:] == s[1]:
        s = s[2:-1]
    return s


def _unescape(value: str) -> str:
    """JSON escaped once more by a logger: `{\\"a\\": 1}` → `{"a": 1}`."""
    if '\\"' not in value:
        return value
    try:
        json.loads(value)
        return value
    except ValueError:
        pass
    try:
        return json.loads(f'"{value}"')
    except ValueError:
        return value.replace('\\"', '"')


def _log_events(unwrapped: list[str | None]) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    name = "message"
    for line in unwrapped:
        if not line:
            continue
        m = _FIELD.match(line)
        if not m:
            continue
        value = line[m.end() :]
        value = value[1:] if value.startswith(" ") else value
        if m.group(1) == "event":
            name = value.strip()
        elif m.group(1) == "data":
            events.append((name, _unescape(value)))
            name = "message"
    return events


def detect_dialect(events: list[tuple[str, str]], ndjson: bool = False) -> str:
    for name, data in events[:200]:
        if (
            name.startswith("response.")
            or '"type": "response.' in data
            or '"type":"response.' in data
        ):
            return "openai-responses"
        if (
            name
            in (
                "message_start",
                "content_block_delta",
                "content_block_start",
                "message_delta",
                "message_stop",
            )
            or '"message_start"' in data
        ):
            return "anthropic"
        if '"candidates"' in data or '"promptFeedback"' in data or '"usageMetadata"' in data:
            return "gemini"
        if '"choices"' in data or data.strip() == "[DONE]" or "chat.completion" in data:
            return "openai-chat"
        if ndjson and ('"done"' in data or '"message"' in data):
            return "ollama"
    return "openai-chat"


def _judge_body(data: bytes, dialect: str) -> Replay:
    from core.sse import SSEDecoder

    if dialect == "auto":
        dec = SSEDecoder()
        sample = dec.feed(data[:200_000]) + dec.close()
        dialect = (
            detect_dialect([(e.event, e.data) for e in sample], ndjson=not sample)
            if sample
            else "ollama"
        )
    pipe = Pipeline(dialect, timed=False)
    step = pipe.feed(data)
    tail = pipe.close()
    replay = Replay(
        pipe.verdict(),
        "body",
        dialect,
        chunks=[(0, data)],
        wire=step.wire + tail.wire,
        events=step.events + tail.events,
    )
    _check_parsed(replay, pipe, data_events=None)
    return replay


def _judge_events(events: list[tuple[str, str]], dialect: str, kind: str) -> Replay:
    chosen = detect_dialect(events) if dialect == "auto" else dialect
    pipe = Pipeline(chosen, timed=False)
    replay = Replay(pipe.verdict(), kind, chosen)
    for name, data in events:
        step = pipe.feed_event(name, data)
        replay.wire += step.wire
        replay.events += step.events
    replay.verdict = pipe.verdict()
    _check_parsed(replay, pipe, data_events=events)
    return replay


def _check_parsed(replay: Replay, pipe: Pipeline, data_events: list | None) -> None:
    facts = pipe.facts
    understood = (
        replay.events or facts.finish or facts.terminator_seen or facts.error or facts.usage_seen
    )
    if understood or not replay.wire:
        return
    events = data_events or [(w.name, w.data) for w in replay.wire]
    suggestion = detect_dialect(events, ndjson=pipe.parser.framing == "ndjson")
    if suggestion != replay.dialect:
        raise DiagnoseError(
            f"this does not parse as {replay.dialect}; auto-detection "
            f"suggests --dialect {suggestion}"
        )


def _replay_saved(text: str, dialect: str) -> Replay:
    attempts = read_saved_run(text)
    if not attempts:
        raise DiagnoseError("this saved run holds no attempt header")
    attempt: SavedAttempt = attempts[-1]
    chosen = attempt.dialect if dialect == "auto" else dialect
    notes = [] if attempt.end else ["the recording was cut: no end line (the recorder died)"]
    if len(attempts) > 1:
        labels = ", ".join(
            str(((a.end or {}).get("verdict") or {}).get("outcome", "cut")) for a in attempts
        )
        notes.append(f"{len(attempts)} runs in this file ({labels}); judging the last one")
    status = attempt.status
    headers = attempt.response_headers
    transport = (attempt.end or {}).get("transport") or "eof"
    total_ns = (attempt.end or {}).get("total_ns")
    if total_ns is None and attempt.chunks:
        total_ns = attempt.chunks[-1][0]
    replay = Replay(
        Verdict(chosen, "not_sent", None),
        "saved_run",
        chosen,
        notes,
        chunks=list(attempt.chunks),
        request=attempt.header.get("request"),
        response=attempt.header.get("response"),
    )
    if status is None:
        saved = (attempt.end or {}).get("verdict")
        replay.verdict = (
            Verdict.from_json(saved)
            if saved
            else Verdict(
                chosen,
                "interrupted",
                "connect_failed",
                actions=("retry",),
                explanation="No response was recorded.",
            )
        )
        return replay
    info = http_info(status, headers)
    body = b"".join(c for _, c in attempt.chunks)
    pipe = Pipeline(chosen)
    if not 200 <= status < 300 or not is_stream_content_type(info.content_type, chosen):
        for t_ns, _ in attempt.chunks:
            pipe.metrics.on_chunk(t_ns)
        judge = http_error if not 200 <= status < 300 else bad_content_type
        verdict = judge(chosen, info, error_message(body))
        replay.verdict = verdict.with_metrics(pipe.build_metrics(total_ns))
        return replay
    for index, (t_ns, chunk) in enumerate(attempt.chunks):
        step = pipe.feed(chunk, t_ns, index)
        replay.wire += step.wire
        replay.events += step.events
    end_t = attempt.chunks[-1][0] if attempt.chunks else 0
    step = pipe.close(end_t)
    replay.wire += step.wire
    replay.events += step.events
    request_body = (attempt.header.get("request") or {}).get("body") or {}
    replay.verdict = pipe.verdict(
        transport=transport,
        http=info,
        live=True,
        usage_requested=usage_requested(chosen, request_body),
        total_ns=total_ns,
    )
    return replay


def usage_requested(dialect: str, body: dict[str, Any]) -> bool:
    if dialect == "openai-chat":
        return bool((body.get("stream_options") or {}).get("include_usage"))
    return True

"""Judge a stream that already happened: a raw body, a saved run, or a pasted log. Pure."""

from __future__ import annotations

import ast
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.events import (
    ProviderError,
    RefusalDelta,
    StopSignal,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
    WireEvent,
)
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
# A field name further into a line, after a logger's prefix we do not know by shape
# (`2024-05-01 12:00:00,123 DEBUG data: ...`, `12:00:00.123 data: ...`).
_FIELD_INSIDE = re.compile(r"(?<![\w-])(?:b?['\"])?(?:data|event|id|retry)\s*:")
_LOG_PREFIX_HINT = re.compile(
    r"\d|\[|\b(?:trace|debug|info|notice|warn|warning|error|critical|fatal)\b", re.IGNORECASE
)
_LINE_END = re.compile(r"\r\n|\r|\n")  # never str.splitlines(): U+2028 may sit inside JSON
_GEMINI_KEYS = ("candidates", "promptFeedback", "usageMetadata")
# Normalized events that show the parser understood the stream (pings and unknown events
# do not: every dialect's parser "understands" those).
_UNDERSTOOD = (
    TextDelta,
    ThinkingDelta,
    RefusalDelta,
    ToolCallDelta,
    Usage,
    StopSignal,
    ProviderError,
)
_DETECT_STEP = 256 * 1024  # bytes decoded per step while auto-detecting a body
_DETECT_EVENTS = 200  # events looked at before giving up on a confident guess


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
    array = _json_array_events(text)
    if array is not None:  # Gemini without alt=sse: one JSON array, one element per chunk
        replay = _judge_events(
            [("message", item) for item in array], dialect, "body", auto_guess="gemini"
        )
        replay.chunks = [(0, data)]
        return replay
    _reject_non_streams(text)
    lines = _split_lines(text)
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
            return _judge_body(data, "ollama", explicit=False)
        return _judge_events(events, dialect, "log")
    raise DiagnoseError(
        "no stream events found: this looks like plain text, not an SSE or NDJSON stream"
    )


def _split_lines(text: str) -> list[str]:
    """Lines ended by CRLF, LF or CR only; a final line end makes no empty last line."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _json_array_events(text: str) -> list[str] | None:
    """The elements of a Gemini JSON-array body (`[{"candidates": ...}, ...]`, one line or
    pretty-printed), each as its own text; a cut array keeps its broken tail as a last
    (malformed) element. None when the text is not such an array."""
    s = text.lstrip("\ufeff \t\r\n")
    if not s.startswith("["):
        return None
    decoder = json.JSONDecoder()
    items: list[str] = []
    pos, end = 1, len(s)
    while pos < end:
        ch = s[pos]
        if ch in " \t\r\n,":
            pos += 1
            continue
        if ch == "]":
            break
        try:
            obj, stop = decoder.raw_decode(s, pos)
        except ValueError:
            if not items:
                return None
            items.append(s[pos:].strip())
            break
        if not items and not (isinstance(obj, dict) and any(k in obj for k in _GEMINI_KEYS)):
            return None
        items.append(s[pos:stop])
        pos = stop
    return items or None


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
    if not (_FIELD.match(s) or s.startswith(":") or _quote_width(s)):
        s = _after_log_prefix(line.strip(), s)
    if s.endswith(","):
        s = s[:-1].rstrip()
    return _unquote(s)


def _after_log_prefix(line: str, fallback: str) -> str:
    """`2024-05-01 12:00:00,123 DEBUG data: {...}` → `data: {...}`: the first field name
    after a short prefix that looks like a logger's (a digit, a bracket or a level word) and
    holds no JSON."""
    m = _FIELD_INSIDE.search(line, 0, 160)
    if m is None or m.start() == 0:
        return fallback
    prefix = line[: m.start()]
    if "{" in prefix or '"' in prefix or not _LOG_PREFIX_HINT.search(prefix):
        return fallback
    return line[m.start() :]


def _quote_width(s: str) -> int:
    """1 for `'...'`, `"..."` or `` `...` ``, 2 for `b'...'`/`b"..."`; 0 when not quoted."""
    if len(s) >= 2 and s[0] in "'\"`" and s[-1] == s[0]:
        return 1
    if len(s) >= 3 and s[0] == "b" and s[1] in "'\"" and s[-1] == s[1]:
        return 2
    return 0


def _unquote(s: str) -> str:
    """A quoted token as a logger printed it: Python `repr(str)` / `repr(bytes)` (escaped
    quotes, `\\n`), a JSON string, or plain quotes around the raw line."""
    width = _quote_width(s)
    if not width:
        return s
    naive = s[width:-1]
    value: str | None = None
    if s[width - 1] != "`":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes such as `\\/`
                literal = ast.literal_eval(s)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            literal = None
        if isinstance(literal, bytes):
            literal = literal.decode("utf-8", errors="replace")
        if isinstance(literal, str):
            value = literal.rstrip("\r\n")
    if width == 2:
        naive = re.sub(r"(?:\\[rn])+$", "", naive)
    if value is None:
        return naive
    # Plain quotes around a raw line (JSON escapes inside) read back wrong as a Python
    # literal: keep the unescaped value only when its data still parses.
    if _payload_ok(value) or not _payload_ok(naive):
        return value
    return naive


def _payload_ok(line: str) -> bool:
    m = _FIELD.match(line)
    if not m or m.group(1) != "data":
        return True
    value = line[m.end() :].strip()
    if value == "[DONE]":
        return True
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


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
    for item in unwrapped:
        # A logged network read (`b'data: {...}\\n\\ndata: {...}\\n\\n'`) may hold several lines.
        for line in _split_lines(item) if item else ():
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
    return _detect(events, ndjson) or "openai-chat"


def _detect(events: list[tuple[str, str]], ndjson: bool = False) -> str | None:
    """The dialect these events show, or None when nothing in them is telling."""
    for name, data in events[:_DETECT_EVENTS]:
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
    return None


def _detect_body(data: bytes) -> str:
    """Auto-detect a raw body: decode SSE until the events tell (or EOF), however large
    the first events are (a Gemini chunk can hold a multi-megabyte inline image)."""
    from core.sse import SSEDecoder

    dec = SSEDecoder()
    seen = 0
    for start in range(0, len(data), _DETECT_STEP):
        events = dec.feed(data[start : start + _DETECT_STEP])
        guess = _detect([(e.event, e.data) for e in events])
        if guess:
            return guess
        seen += len(events)
        if seen >= _DETECT_EVENTS:
            return "openai-chat"
    tail = dec.close()
    guess = _detect([(e.event, e.data) for e in tail])
    if guess:
        return guess
    if seen or tail:
        return "openai-chat"
    text = data.decode("utf-8", errors="replace")
    lines = _split_lines(text)
    # SSE field lines with no dispatched event (the last event never closed): still SSE.
    fields = [ln for ln in lines if _FIELD.match(ln)]
    if fields:
        return _detect([("message", ln.partition(":")[2]) for ln in fields]) or "openai-chat"
    return _detect_ndjson(lines) or "openai-chat"


def _detect_ndjson(lines: list[str]) -> str | None:
    json_lines = [ln.strip() for ln in lines if ln.strip().startswith("{")]
    return _detect([("line", ln) for ln in json_lines[:_DETECT_EVENTS]], ndjson=True)


def _suggest_for_body(data: bytes) -> str | None:
    """What auto-detection says about a body, under both framings (SSE, then NDJSON)."""
    from core.sse import SSEDecoder

    dec = SSEDecoder()
    events = dec.feed(data) + dec.close()
    guess = _detect([(e.event, e.data) for e in events])
    if guess:
        return guess
    return _detect_ndjson(_split_lines(data.decode("utf-8", errors="replace")))


def _judge_body(data: bytes, dialect: str, *, explicit: bool | None = None) -> Replay:
    if explicit is None:
        explicit = dialect != "auto"
    if dialect == "auto":
        dialect = _detect_body(data)
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
    if explicit:
        _check_parsed(replay, pipe, lambda: _suggest_for_body(data))
    return replay


def _judge_events(
    events: list[tuple[str, str]], dialect: str, kind: str, auto_guess: str | None = None
) -> Replay:
    explicit = dialect != "auto"
    chosen = dialect if explicit else (auto_guess or detect_dialect(events))
    pipe = Pipeline(chosen, timed=False)
    replay = Replay(pipe.verdict(), kind, chosen)
    for name, data in events:
        step = pipe.feed_event(name, data)
        replay.wire += step.wire
        replay.events += step.events
    replay.verdict = pipe.verdict()
    if explicit:
        ndjson = all(name == "line" for name, _ in events)
        _check_parsed(replay, pipe, lambda: _detect(events, ndjson=ndjson))
    return replay


def _check_parsed(replay: Replay, pipe: Pipeline, suggest: Callable[[], str | None]) -> None:
    """An explicit `--dialect` that understood nothing of the input, when auto-detection
    names another dialect → exit 2 with that suggestion (DESIGN §6)."""
    facts = pipe.facts
    understood = (
        any(isinstance(e, _UNDERSTOOD) for e in replay.events)
        or facts.finish
        or facts.terminator_seen
        or facts.error
        or facts.usage_seen
    )
    if understood:
        return
    suggestion = suggest()
    if suggestion is not None and suggestion != replay.dialect:
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

"""Judge a stream that already happened: a raw body, a saved run, or a pasted log. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.record.detect import (
    GEMINI_KEYS,
    detect_body,
    detect_dialect,
    detect_events,
    suggest_for_body,
)
from core.record.pastelog import FIELD, log_events, split_lines, tabbed_events, unwrap
from core.record.saved_replay import CUT_NOTE, judge_attempt, judge_session
from core.record.savefile import SavedSession, is_saved_run, split_sessions
from core.stream.events import (
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
from core.stream.httpinfo import error_message
from core.stream.outcome import Verdict
from core.stream.pipeline import Pipeline
from core.stream.safejson import loads as safe_loads
from core.stream.spec import DIALECTS

__all__ = ["DiagnoseError", "Replay", "detect_dialect", "diagnose_bytes", "replay_session"]

_UNDERSTOOD = (
    TextDelta,
    ThinkingDelta,
    RefusalDelta,
    ToolCallDelta,
    Usage,
    StopSignal,
    ProviderError,
)


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
    runs: list[Replay] = field(default_factory=list)  # saved session: every attempt's own
    attempt: int = 0
    segment: int = 0
    started: str | None = None  # ISO 8601 UTC, when recorded

    def to_json(self) -> dict[str, Any]:
        """The verdict JSON (DESIGN §6)."""
        return self.verdict.to_json()


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
    if _is_saved_run(text):
        return _replay_saved(text, dialect)
    array = _json_array_events(text)
    if array is not None:  # Gemini without alt=sse: one JSON array, one element per chunk
        replay = _judge_events(
            [("message", item) for item in array], dialect, "body", auto_guess="gemini"
        )
        replay.chunks = [(0, data)]
        return replay
    _reject_non_streams(text)
    lines = split_lines(text)
    unwrapped = [unwrap(line) for line in lines]
    wrapped = sum(
        1
        for raw, un in zip(lines, unwrapped, strict=True)
        if un is not None and un != raw.strip() and FIELD.match(un)
    )
    data_lines = sum(1 for un in unwrapped if un and un.startswith("data"))
    blank = sum(1 for line in lines if not line.strip())
    if wrapped or (data_lines > 1 and blank == 0):
        events = log_events(unwrapped)
        return _judge_events(events, dialect, "log")
    if data_lines or any(un and (FIELD.match(un) or un.startswith(":")) for un in unwrapped):
        return _judge_body(data, dialect)
    json_lines = [ln for ln in lines if ln.strip()]
    if json_lines and all(_is_json_object(ln) for ln in json_lines):
        events = [("line", ln.strip()) for ln in json_lines]
        guess = detect_dialect(events, ndjson=True)
        if dialect == "auto" and guess == "ollama":
            return _judge_body(data, "ollama", explicit=False)
        return _judge_events(events, dialect, "log")
    tabbed = tabbed_events(json_lines)
    if tabbed:  # a browser's EventStream table copied: type ⇥ data ⇥ time
        return _judge_events(tabbed, dialect, "log")
    raise DiagnoseError(
        "no stream events found: this looks like plain text, not an SSE or NDJSON stream"
    )


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
        except (ValueError, RecursionError):
            if not items:
                return None
            items.append(s[pos:].strip())
            break
        if not items and not (isinstance(obj, dict) and any(k in obj for k in GEMINI_KEYS)):
            return None
        items.append(s[pos:stop])
        pos = stop
    return items or None


def _reject_non_streams(text: str) -> None:
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html", "<?xml")) or "<html" in head:
        title = re.search(r"<title>([^<]*)</title>", text, re.IGNORECASE)  # linear
        what = f" ({title.group(1).strip()[:60]})" if title else ""
        raise DiagnoseError(f"this is an HTML page{what}, not a stream")
    try:
        obj = safe_loads(text)
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
        return isinstance(safe_loads(line), dict)
    except ValueError:
        return False


def _judge_body(data: bytes, dialect: str, *, explicit: bool | None = None) -> Replay:
    if explicit is None:
        explicit = dialect != "auto"
    if dialect == "auto":
        dialect = detect_body(data)
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
        _check_parsed(replay, pipe, lambda: suggest_for_body(data))
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
        _check_parsed(replay, pipe, lambda: detect_events(events, ndjson=ndjson))
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


def _is_saved_run(text: str) -> bool:
    try:
        return is_saved_run(text)
    except RecursionError:  # a first line nested ~1,000 deep: not our format
        return False


def _replay_saved(text: str, dialect: str) -> Replay:
    try:
        sessions = split_sessions(text)
    except RecursionError:
        raise DiagnoseError("this saved run holds a line nested too deeply to read") from None
    if not sessions:
        raise DiagnoseError("this saved run holds no attempt header")
    replay = replay_session(sessions[-1], dialect)
    if len(sessions) > 1:
        replay.notes.append(f"{len(sessions)} sessions in this file; judging the last one")
    return replay


def replay_session(saved: SavedSession, dialect: str = "auto") -> Replay:
    """A saved session judged again: the top level is the session's verdict and the last
    attempt's bytes; `runs` holds every attempt's own replay (segments, retries)."""
    runs: list[Replay] = []
    for attempt in saved.attempts:
        verdict, pipe, steps = judge_attempt(attempt, dialect)
        run = Replay(
            verdict,
            "saved_run",
            pipe.dialect,
            chunks=list(attempt.chunks),
            request=attempt.request or None,
            response=attempt.header.get("response")
            if isinstance(attempt.header.get("response"), dict)
            else None,
            attempt=attempt.attempt,
            segment=attempt.segment,
            started=attempt.time,
        )
        for step in steps:
            run.wire += step.wire
            run.events += step.events
        runs.append(run)
    whole = judge_session(saved, [r.verdict for r in runs])
    last = runs[-1]
    notes = [CUT_NOTE] if saved.cut else []
    segments = len({r.segment for r in runs})
    if len(runs) > 1:
        notes.append(f"{len(runs)} attempts in {segments} segment{'s' if segments > 1 else ''}")
    return Replay(
        whole,
        "saved_run",
        last.dialect,
        notes,
        chunks=last.chunks,
        wire=last.wire,
        events=last.events,
        request=last.request,
        response=last.response,
        runs=runs,
        attempt=last.attempt,
        segment=last.segment,
        started=runs[0].started,
    )

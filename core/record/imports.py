"""Imports into the history: saved runs (one or several sessions), HAR files (our own
lossless `_streamscope` entries, browsers' `_eventSourceMessages`, or plain
`text/event-stream` content without timings), raw stream bodies and pasted logs. Each becomes
a `SavedSession`. Pure: bytes in, sessions out; raises DiagnoseError for unusable input."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

from core.record.detect import detect_body
from core.record.diagnose import DiagnoseError, diagnose_bytes
from core.record.savefile import (
    FORMAT,
    TOOL_VERSION,
    SavedAttempt,
    SavedSession,
    is_saved_run,
    split_sessions,
)
from core.stream.spec import DIALECTS

__all__ = ["sessions_from_bytes"]

_STREAM_TYPES = ("text/event-stream", "application/x-ndjson", "application/ndjson")


def sessions_from_bytes(data: bytes) -> list[SavedSession]:
    text = data.decode("utf-8", errors="replace")
    if is_saved_run(text):
        sessions = split_sessions(text)
        if sessions:
            return sessions
    har = _har(text)
    if har is not None:
        sessions = _from_har(har)
        if not sessions:
            raise DiagnoseError("this HAR file holds no event-stream entry")
        return sessions
    return [_from_body(data)]


def _har(text: str) -> dict[str, Any] | None:
    head = text.lstrip()[:1]
    if head != "{":
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    log = obj.get("log") if isinstance(obj, dict) else None
    return log if isinstance(log, dict) and isinstance(log.get("entries"), list) else None


def _header(
    dialect: str,
    request: dict[str, Any],
    status: int | None,
    headers: dict[str, str],
    when: str | None,
    *,
    attempt: int = 0,
    segment: int = 0,
    timings: bool = True,
) -> dict[str, Any]:
    line = {
        "kind": "header",
        "format": FORMAT,
        "tool_version": TOOL_VERSION,
        "time": when,
        "attempt": attempt,
        "segment": segment,
        "dialect": dialect,
        "request": request,
        "response": None if status is None else {"status": status, "headers": headers},
    }
    if not timings:
        line["timings"] = False
    return line


def _from_body(data: bytes) -> SavedSession:
    """A raw body or a pasted log, judged as diagnose does, kept as a body with no timings
    (a pasted log is kept as the events it held, written as SSE)."""
    replay = diagnose_bytes(data)
    body = data
    if replay.kind == "log":
        ndjson = replay.dialect == "ollama"
        body = "".join(
            (w.data + "\n") if ndjson else _sse(w.name, w.data) for w in replay.wire
        ).encode()
    content_type = "application/x-ndjson" if replay.dialect == "ollama" else "text/event-stream"
    header = _header(replay.dialect, {}, 200, {"content-type": content_type}, None, timings=False)
    end = {"kind": "end", "transport": "eof", "total_ns": None, "verdict": {}}
    return SavedSession([SavedAttempt(header, [(0, body)], end)])


def _sse(name: str, data: str) -> str:
    lines = [f"event: {name}"] if name and name not in ("message", "line") else []
    lines += [f"data: {part}" for part in data.split("\n")]
    return "\n".join(lines) + "\n\n"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _headers(items: Any) -> dict[str, str]:
    if not isinstance(items, list):
        return {}
    return {
        str(h.get("name")): str(h.get("value"))
        for h in items
        if isinstance(h, dict) and h.get("name") is not None
    }


def _request(entry: dict[str, Any]) -> dict[str, Any]:
    req = _dict(entry.get("request"))
    text = _dict(req.get("postData")).get("text")
    try:
        body = json.loads(text) if isinstance(text, str) else {}
    except (ValueError, RecursionError):
        body = {}
    return {
        "method": req.get("method") if isinstance(req.get("method"), str) else "POST",
        "url": req.get("url") if isinstance(req.get("url"), str) else "",
        "headers": _headers(req.get("headers")),
        "body": body if isinstance(body, dict) else {},
    }


def _when(entry: dict[str, Any]) -> str | None:
    started = entry.get("startedDateTime")
    if not isinstance(started, str) or len(started) < 19:
        return None
    return started[:19] + "Z"


def _from_har(log: dict[str, Any]) -> list[SavedSession]:
    sessions: list[SavedSession] = []
    ours: dict[Any, SavedSession] = {}
    for entry in log["entries"]:
        if not isinstance(entry, dict):
            continue
        mark = entry.get("_streamscope")
        if isinstance(mark, dict) and isinstance(mark.get("chunks"), list):
            attempt = _ours(entry, mark)
            key = mark.get("run") if isinstance(mark.get("run"), int | str) else None
            session = ours.get(key) if key is not None else None
            if session is None:
                session = SavedSession([])
                sessions.append(session)
                if key is not None:
                    ours[key] = session
            session.attempts.append(attempt)
            if isinstance(mark.get("session"), dict):
                session.session = mark["session"]
            continue
        attempt = _browser(entry)
        if attempt is not None:
            sessions.append(SavedSession([attempt]))
    return sessions


def _dialect(url: str, body: bytes) -> str:
    path = urlsplit(url).path
    if path.endswith("/chat/completions"):
        return "openai-chat"
    if path.endswith("/responses"):
        return "openai-responses"
    if path.endswith("/v1/messages"):
        return "anthropic"
    if ":streamGenerateContent" in path:
        return "gemini"
    if path.endswith("/api/chat"):
        return "ollama"
    return detect_body(body)


def _ours(entry: dict[str, Any], mark: dict[str, Any]) -> SavedAttempt:
    request = _request(entry)
    response = _dict(entry.get("response"))
    status = response.get("status")
    chunks = []
    for c in mark["chunks"]:
        if not isinstance(c, dict) or not isinstance(c.get("b64"), str):
            continue
        try:
            data = base64.b64decode(c["b64"], validate=True)
        except ValueError:
            continue
        t_ns = c.get("t_ns") if isinstance(c.get("t_ns"), int) else 0
        chunks.append((t_ns, data))
    verdict = _dict(mark.get("verdict"))
    dialect = verdict.get("dialect")
    if dialect not in DIALECTS:
        dialect = _dialect(request["url"], b"".join(d for _, d in chunks))
    header = _header(
        dialect,
        request,
        status if isinstance(status, int) and status > 0 else None,
        _headers(response.get("headers")),
        _when(entry),
        attempt=mark.get("attempt") if isinstance(mark.get("attempt"), int) else 0,
        segment=mark.get("segment") if isinstance(mark.get("segment"), int) else 0,
        timings=mark.get("timings") is not False,
    )
    end = None
    if isinstance(mark.get("transport"), str):
        end = {
            "kind": "end",
            "transport": mark["transport"],
            "total_ns": mark.get("total_ns"),
            "verdict": verdict,
        }
    return SavedAttempt(header, chunks, end)


def _browser(entry: dict[str, Any]) -> SavedAttempt | None:
    """A browser's entry: its events with their times, or its event-stream content."""
    request = _request(entry)
    response = _dict(entry.get("response"))
    content = _dict(response.get("content"))
    headers = _headers(response.get("headers"))
    mime = str(content.get("mimeType") or "").lower()
    messages = entry.get("_eventSourceMessages")
    status = response.get("status") if isinstance(response.get("status"), int) else 200
    if isinstance(messages, list) and messages:
        times = [m.get("time") for m in messages if isinstance(m, dict)]
        numeric = [t for t in times if isinstance(t, int | float)]
        t0 = _har_start(entry, numeric)
        chunks = []
        for m in messages:
            if not isinstance(m, dict) or m.get("type", "receive") != "receive":
                continue
            name = m.get("eventName") if isinstance(m.get("eventName"), str) else "message"
            data = m.get("data") if isinstance(m.get("data"), str) else ""
            event_id = m.get("eventId")
            text = _sse(name, data)
            if isinstance(event_id, str) and event_id:
                text = f"id: {event_id}\n" + text
            t = m.get("time")
            t_ns = int(max(0.0, t - t0) * 1e9) if isinstance(t, int | float) else 0
            chunks.append((t_ns, text.encode()))
        if not any(k.lower() == "content-type" for k in headers):
            headers["content-type"] = "text/event-stream"
        body = b"".join(d for _, d in chunks)
        dialect = _dialect(request["url"], body)
        header = _header(dialect, request, status, headers, _when(entry), timings=bool(numeric))
        end = {"kind": "end", "transport": "eof", "total_ns": None, "verdict": {}}
        return SavedAttempt(header, chunks, end)
    if any(mime.startswith(t) for t in _STREAM_TYPES) and isinstance(content.get("text"), str):
        raw = content["text"]
        body = base64.b64decode(raw) if content.get("encoding") == "base64" else raw.encode()
        if not any(k.lower() == "content-type" for k in headers):
            headers["content-type"] = mime
        dialect = _dialect(request["url"], body)
        header = _header(dialect, request, status, headers, _when(entry), timings=False)
        end = {"kind": "end", "transport": "eof", "total_ns": None, "verdict": {}}
        return SavedAttempt(header, [(0, body)], end)
    return None


def _har_start(entry: dict[str, Any], times: list[float]) -> float:
    """The request's start in epoch seconds (startedDateTime), else the first event's."""
    import calendar
    import time

    started = entry.get("startedDateTime")
    if isinstance(started, str) and len(started) >= 19:
        try:
            base = calendar.timegm(time.strptime(started[:19], "%Y-%m-%dT%H:%M:%S"))
            frac = started[19:].split("Z")[0].split("+")[0]
            extra = float(frac) if frac.startswith(".") and frac[1:].isdigit() else 0.0
            start = base + extra
            if not times or min(times) >= start - 1:
                return start
        except ValueError:
            pass
    return min(times) if times else 0.0

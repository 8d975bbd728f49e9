"""Exports of stored runs: JSONL (the saved-run format), HAR 1.2 with event times, CSV of
metrics, a Markdown summary, and OpenTelemetry GenAI attributes (`otel-json`). Pure: runs in,
text out."""

from __future__ import annotations

import base64
import calendar
import csv
import io
import json
import time
from dataclasses import dataclass
from typing import Any

from core.record.diagnose import Replay, replay_session
from core.record.savefile import TOOL_VERSION, SavedAttempt, SavedSession, write_saved_session
from core.stream.ndjson import NDJSONDecoder
from core.stream.sse import SSEDecoder

__all__ = ["FORMATS", "ExportRun", "export_runs"]

FORMATS = ("jsonl", "har", "csv", "markdown", "otel-json")


@dataclass(frozen=True, slots=True)
class ExportRun:
    """One stored run as exports see it."""

    id: int
    time: str
    saved: SavedSession
    verdict: dict[str, Any]  # the session's verdict JSON
    model: str = ""
    base_url: str = ""
    profile: str | None = None
    notes: str = ""
    tags: tuple[str, ...] = ()


def export_runs(runs: list[ExportRun], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(write_saved_session(_closed(r)) for r in runs)
    if fmt == "har":
        return json.dumps(to_har(runs), indent=1)
    if fmt == "csv":
        return to_csv(runs)
    if fmt == "markdown":
        return to_markdown(runs)
    if fmt == "otel-json":
        return json.dumps([to_otel(r) for r in runs], indent=1)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _closed(run: ExportRun) -> SavedSession:
    """With its session line, so that several runs in one file stay apart."""
    return SavedSession(run.saved.attempts, run.saved.session or run.verdict)


def _epoch(when: str | None) -> float:
    try:
        return float(calendar.timegm(time.strptime(when or "", "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return 0.0


def _iso_ms(epoch: float) -> str:
    whole = int(epoch)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        + f".{int((epoch - whole) * 1000):03d}Z"
    )


def _messages(attempt: SavedAttempt, dialect: str, start: float) -> list[dict[str, Any]]:
    """One `_eventSourceMessages` entry per decoded event, timed by the read completing it."""
    out: list[dict[str, Any]] = []
    ndjson = dialect == "ollama"
    decoder: Any = NDJSONDecoder() if ndjson else SSEDecoder()
    last_t = 0
    for t_ns, data in attempt.chunks:
        last_t = t_ns
        out += _entries(decoder.feed(data), t_ns, start, attempt.timed)
    out += _entries(decoder.close(), last_t, start, attempt.timed)
    return out


def _entries(items: list[Any], t_ns: int, start: float, timed: bool) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if isinstance(item, str):
            name, event_id, data = "message", "", item
        else:
            name, event_id, data = item.event, item.id or "", item.data
        out.append(
            {
                "type": "receive",
                "time": round(start + (t_ns / 1e9 if timed else 0.0), 6),
                "eventName": name,
                "eventId": event_id,
                "data": data,
            }
        )
    return out


def _har_headers(headers: Any) -> list[dict[str, str]]:
    if not isinstance(headers, dict):
        return []
    return [{"name": str(k), "value": str(v)} for k, v in headers.items()]


def _entry(run: ExportRun, attempt: SavedAttempt, verdict: dict[str, Any], last: bool) -> dict:
    start = _epoch(attempt.time)
    request = attempt.request
    body = request.get("body")
    response_headers = attempt.response_headers
    content_type = next((v for k, v in response_headers.items() if k.lower() == "content-type"), "")
    payload = b"".join(d for _, d in attempt.chunks)
    metrics = verdict.get("metrics") if isinstance(verdict.get("metrics"), dict) else {}
    total_ms = (attempt.total_ns or 0) / 1e6
    wait = metrics.get("ttfb_ms") if isinstance(metrics.get("ttfb_ms"), int | float) else 0.0
    ours: dict[str, Any] = {
        "run": run.id,
        "attempt": attempt.attempt,
        "segment": attempt.segment,
        "timings": attempt.timed,
        "transport": attempt.transport if attempt.end is not None else None,
        "total_ns": attempt.total_ns,
        "chunks": [
            {"t_ns": t, "b64": base64.b64encode(d).decode("ascii")} for t, d in attempt.chunks
        ],
        "verdict": verdict,
    }
    if last:
        ours["session"] = run.saved.session or run.verdict
    return {
        "startedDateTime": _iso_ms(start),
        "time": round(total_ms, 3),
        "request": {
            "method": request.get("method") or "POST",
            "url": request.get("url") or "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _har_headers(request.get("headers")),
            "queryString": [],
            "postData": {"mimeType": "application/json", "text": json.dumps(body)},
            "headersSize": -1,
            "bodySize": -1,
        },
        "response": {
            "status": attempt.status or 0,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _har_headers(response_headers),
            "content": {
                "size": len(payload),
                "mimeType": content_type,
                "text": payload.decode("utf-8", errors="replace"),
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(payload),
        },
        "cache": {},
        "timings": {
            "send": 0,
            "wait": round(wait, 3),
            "receive": round(max(0.0, total_ms - wait), 3),
        },
        "_eventSourceMessages": _messages(attempt, attempt.dialect, start),
        "_streamscope": ours,
    }


def to_har(runs: list[ExportRun]) -> dict[str, Any]:
    entries = []
    for run in runs:
        replay = replay_session(run.saved)
        attempts = run.saved.attempts
        for i, (attempt, judged) in enumerate(zip(attempts, _runs(replay), strict=True)):
            verdict = attempt.saved_verdict or judged.verdict.to_json()
            entries.append(_entry(run, attempt, verdict, i == len(attempts) - 1))
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "StreamScope", "version": TOOL_VERSION},
            "entries": entries,
        }
    }


def _runs(replay: Replay) -> list[Replay]:
    return replay.runs or [replay]


_CSV_COLUMNS = (
    "id", "time", "dialect", "base_url", "profile", "model", "outcome", "detail", "warnings",
    "raw_stop_reason", "http_status", "ttfb_ms", "ttft_ms", "first_answer_ms", "itl_ms",
    "output_tokens_per_s", "total_ms", "chunks", "events", "tokens_source", "input_tokens",
    "output_tokens", "segments", "attempts", "answer_chars", "session_ttft_ms",
    "session_total_ms", "session_output_tokens",
)  # fmt: skip
# The timing figures are the last segment's; `session_*` the whole answer's (DESIGN §6).


def _row(run: ExportRun) -> dict[str, Any]:
    v = run.verdict
    metrics = v.get("metrics") if isinstance(v.get("metrics"), dict) else {}
    usage = v.get("usage") if isinstance(v.get("usage"), dict) else {}
    http = v.get("http") if isinstance(v.get("http"), dict) else {}
    segments = len(v.get("segments") or []) or 1
    session = v.get("session_metrics") if isinstance(v.get("session_metrics"), dict) else {}
    return {
        "id": run.id,
        "time": run.time,
        "dialect": v.get("dialect"),
        "base_url": run.base_url,
        "profile": run.profile,
        "model": run.model,
        "outcome": v.get("outcome"),
        "detail": v.get("detail"),
        "warnings": " ".join(w for w in v.get("warnings") or [] if isinstance(w, str)),
        "raw_stop_reason": v.get("raw_stop_reason"),
        "http_status": http.get("status"),
        **{k: metrics.get(k) for k in _CSV_COLUMNS[11:20]},
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "segments": segments,
        "attempts": len(v.get("attempts") or []) or len(run.saved.attempts),
        "answer_chars": len(v.get("text") or ""),
        **{f"session_{k}": session.get(k) for k in ("ttft_ms", "total_ms", "output_tokens")},
    }


def to_csv(runs: list[ExportRun]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for run in runs:
        writer.writerow({k: "" if val is None else val for k, val in _row(run).items()})
    return out.getvalue()


def _fmt(value: Any, unit: str = "") -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}"
    return f"{value}{unit}"


def to_markdown(runs: list[ExportRun]) -> str:
    parts = ["# StreamScope runs\n"]
    for run in runs:
        row = _row(run)
        v = run.verdict
        label = f"{row['outcome']}/{row['detail']}" if row["detail"] else str(row["outcome"])
        parts.append(f"## Run {run.id}: {label}\n")
        parts.append(f"{run.time} · {row['dialect']} · `{run.model}` · {run.base_url}\n")
        if v.get("explanation"):
            parts.append(f"{v['explanation']}\n")
        scope = " (last segment)" if row["segments"] > 1 or row["attempts"] > 1 else ""
        parts.append(f"| figure{scope} | value |\n|---|---|")
        for name, unit in (
            ("ttfb_ms", " ms"), ("ttft_ms", " ms"), ("first_answer_ms", " ms"), ("itl_ms", " ms"),
            ("output_tokens_per_s", " tok/s"), ("total_ms", " ms"), ("chunks", ""),
        ):  # fmt: skip
            parts.append(f"| {name} | {_fmt(row[name], unit)} |")
        if row["session_total_ms"] is not None:
            parts.append("\n| whole answer | value |\n|---|---|")
            for name in ("ttft_ms", "total_ms"):
                parts.append(f"| {name} | {_fmt(row['session_' + name], ' ms')} |")
        parts.append(
            f"\nUsage (whole answer): input {_fmt(row['input_tokens'])} · output "
            f"{_fmt(row['output_tokens'])} tokens · {row['segments']} segment(s) · "
            f"{row['attempts']} attempt(s)"
        )
        if row["warnings"]:
            parts.append(f"\nWarnings: {', '.join(row['warnings'].split())}")
        if run.tags:
            parts.append(f"\nTags: {', '.join(run.tags)}")
        if run.notes:
            parts.append(f"\nNotes: {run.notes}")
        text = v.get("text") if isinstance(v.get("text"), str) else ""
        if text:
            quoted = "\n".join("> " + line for line in text.splitlines())
            parts.append(f"\n{quoted}")
        parts.append("")
    return "\n".join(parts) + "\n"


_OTEL_PROVIDER = {
    "openai-chat": "openai",
    "openai-responses": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "ollama": "ollama",
}


def _response_model(replay: Replay) -> str | None:
    for wire in replay.wire[:8]:
        try:
            obj = json.loads(wire.data)
        except (ValueError, RecursionError):
            continue
        if not isinstance(obj, dict):
            continue
        for holder in (obj, obj.get("message"), obj.get("response")):
            if isinstance(holder, dict):
                model = holder.get("model") or holder.get("modelVersion")
                if isinstance(model, str) and model:
                    return model
    return None


def to_otel(run: ExportRun) -> dict[str, Any]:
    """One span-shaped object per run with the OpenTelemetry GenAI attributes; our own
    figures under `streamscope.*`."""
    v = run.verdict
    row = _row(run)
    replay = replay_session(run.saved)
    start = _epoch(run.time)
    total = row["total_ms"] if isinstance(row["total_ms"], int | float) else 0.0
    ttfb = row["ttfb_ms"]
    raw = v.get("raw_stop_reason")
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": _OTEL_PROVIDER.get(str(row["dialect"]), str(row["dialect"])),
        "gen_ai.request.model": run.model,
        "gen_ai.response.model": _response_model(replay),
        "gen_ai.response.finish_reasons": [raw] if isinstance(raw, str) else [],
        "gen_ai.usage.input_tokens": row["input_tokens"],
        "gen_ai.usage.output_tokens": row["output_tokens"],
        "gen_ai.response.time_to_first_chunk": ttfb / 1000
        if isinstance(ttfb, int | float)
        else None,
        "server.address": run.base_url,
        "streamscope.run_id": run.id,
        "streamscope.outcome": row["outcome"],
        "streamscope.detail": row["detail"],
        "streamscope.warnings": row["warnings"].split(),
        "streamscope.ttft_ms": row["ttft_ms"],
        "streamscope.first_answer_ms": row["first_answer_ms"],
        "streamscope.itl_ms": row["itl_ms"],
        "streamscope.output_tokens_per_s": row["output_tokens_per_s"],
        "streamscope.total_ms": row["total_ms"],
        "streamscope.tokens_source": row["tokens_source"],
        "streamscope.segments": row["segments"],
        "streamscope.attempts": row["attempts"],
    }
    return {
        "name": f"chat {run.model}".strip(),
        "kind": "CLIENT",
        "startTimeUnixNano": int(start * 1e9),
        "endTimeUnixNano": int(start * 1e9 + total * 1e6),
        "status": {"code": "OK" if row["outcome"] in ("completed", "tool_calls") else "ERROR"},
        "attributes": attributes,
    }

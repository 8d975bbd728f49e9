"""Saved runs (DESIGN §6): JSON Lines written as the stream arrives, read back with timings.

One file is one session. Per attempt: a `header` line (tool version, time, attempt, segment,
dialect, the request with the key redacted, response status and headers), one `chunk` line
per body read (`t_ns` since t0, bytes as base64), and an `end` line (how the transport ended
and the verdict JSON). After the last attempt a `session` line carries the whole session's
verdict (stitched text, `segments`, `attempts`, `session_metrics`). A file without its end
lines is a cut recording (the recorder died).

`--save FILE` replaces FILE: the lines go to `FILE.partial` (flushed as written, so at least
every 250 ms) and the finished file is renamed over FILE at the end, so a torn file is never
appended to and a kill leaves a readable `.partial`.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from core.stream.spec import HttpRequest
from core.stream.verdict import record_pieces

__all__ = [
    "FORMAT",
    "Recorder",
    "RunRecorder",
    "SavedAttempt",
    "SavedSession",
    "TeeRecorder",
    "header_line",
    "is_saved_run",
    "read_saved_run",
    "read_saved_session",
    "split_sessions",
    "write_saved_session",
]

FORMAT = "streamscope-run/1"
TOOL_VERSION = "0.1.0"


class Recorder(Protocol):
    """The hooks the runner and the session call while a run streams (a saved-run file, the
    history store, or both through `TeeRecorder`)."""

    def header(
        self,
        *,
        attempt: int,
        dialect: str,
        request: HttpRequest,
        status: int | None,
        headers: dict[str, str] | None,
        segment: int = 0,
        headers_t_ns: int | None = None,
    ) -> None: ...

    def chunk(self, t_ns: int, data: bytes) -> None: ...

    def end(self, transport: str, verdict: dict[str, Any], total_ns: int | None) -> None: ...

    def session(self, verdict: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def header_line(
    *,
    attempt: int,
    dialect: str,
    request: HttpRequest,
    status: int | None,
    headers: dict[str, str] | None,
    segment: int = 0,
    when: str | None = None,
    headers_t_ns: int | None = None,  # t0 → response headers received
) -> dict[str, Any]:
    red = request.redacted()
    return {
        "kind": "header",
        "format": FORMAT,
        "tool_version": TOOL_VERSION,
        "time": when or utc_now(),
        "attempt": attempt,
        "segment": segment,
        "dialect": dialect,
        "request": {"method": red.method, "url": red.url, "headers": red.headers, "body": red.body},
        "response": None
        if status is None
        else {"status": status, "headers": headers or {}, "t_ns": headers_t_ns},
    }


class RunRecorder:
    """Writes one session's lines to a file (or any text stream).

    With `replace=True` (`probe --save`) the lines go to `FILE.partial`, renamed over FILE on
    `close()`. Without it the file is appended to: the window's working file of one session,
    reopened for each Retry and Continue of that session."""

    def __init__(self, target: str | Path | IO[str], *, replace: bool = False) -> None:
        self._final: Path | None = None
        self._partial: Path | None = None
        if isinstance(target, str | Path):
            path = Path(target)
            if replace:
                self._final, self._partial = path, path.with_name(path.name + ".partial")
                self._file: IO[str] = open(self._partial, "w", encoding="utf-8")  # noqa: SIM115
            else:
                self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115
            self._owned = True
        else:
            self._file = target
            self._owned = False

    def _write(self, obj: dict[str, Any]) -> None:
        if self._file.closed:
            return
        for piece in record_pieces(obj):  # a long answer's line is never whole in memory
            self._file.write(piece)  # ASCII: no U+2028 can split a line
        self._file.write("\n")
        self._file.flush()  # every line: well inside the 250 ms the format promises

    def header(
        self,
        *,
        attempt: int,
        dialect: str,
        request: HttpRequest,
        status: int | None,
        headers: dict[str, str] | None,
        segment: int = 0,
        headers_t_ns: int | None = None,  # t0 → response headers received
    ) -> None:
        self._write(
            header_line(
                attempt=attempt,
                dialect=dialect,
                request=request,
                status=status,
                headers=headers,
                segment=segment,
                headers_t_ns=headers_t_ns,
            )
        )

    def chunk(self, t_ns: int, data: bytes) -> None:
        self._write({"kind": "chunk", "t_ns": t_ns, "b64": base64.b64encode(data).decode("ascii")})

    def end(self, transport: str, verdict: dict[str, Any], total_ns: int | None) -> None:
        self._write(
            {"kind": "end", "transport": transport, "total_ns": total_ns, "verdict": verdict}
        )

    def session(self, verdict: dict[str, Any]) -> None:
        self._write({"kind": "session", "verdict": verdict})

    def close(self) -> None:
        if not self._owned or self._file.closed:
            return
        self._file.close()
        if self._partial is not None and self._final is not None:
            os.replace(self._partial, self._final)


class TeeRecorder:
    """Hands every hook to several recorders (a saved-run file and the history store)."""

    def __init__(self, *recorders: Recorder | None) -> None:
        self.recorders = [r for r in recorders if r is not None]

    def header(self, **kwargs: Any) -> None:
        for r in self.recorders:
            r.header(**kwargs)

    def chunk(self, t_ns: int, data: bytes) -> None:
        for r in self.recorders:
            r.chunk(t_ns, data)

    def end(self, transport: str, verdict: dict[str, Any], total_ns: int | None) -> None:
        for r in self.recorders:
            r.end(transport, verdict, total_ns)

    def session(self, verdict: dict[str, Any]) -> None:
        for r in self.recorders:
            r.session(verdict)

    def close(self) -> None:
        for r in self.recorders:
            r.close()


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 2**63:
        return int(value)
    return default


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(slots=True)
class SavedAttempt:
    header: dict[str, Any]
    chunks: list[tuple[int, bytes]] = field(default_factory=list)
    end: dict[str, Any] | None = None

    @property
    def dialect(self) -> str:
        dialect = self.header.get("dialect")
        return dialect if isinstance(dialect, str) and dialect else "openai-chat"

    @property
    def attempt(self) -> int:
        return _int(self.header.get("attempt"))

    @property
    def segment(self) -> int:
        return max(0, _int(self.header.get("segment")))

    @property
    def time(self) -> str | None:
        when = self.header.get("time")
        return when if isinstance(when, str) else None

    @property
    def request(self) -> dict[str, Any]:
        return _dict(self.header.get("request"))

    @property
    def status(self) -> int | None:
        response = self.header.get("response")
        if not isinstance(response, dict):
            return None
        status = response.get("status")
        return status if isinstance(status, int) and not isinstance(status, bool) else None

    @property
    def response_headers(self) -> dict[str, str]:
        headers = _dict(_dict(self.header.get("response")).get("headers"))
        return {str(k): str(v) for k, v in headers.items() if isinstance(v, str | int | float)}

    @property
    def headers_t_ns(self) -> int | None:
        t_ns = _dict(self.header.get("response")).get("t_ns")
        return t_ns if isinstance(t_ns, int) and not isinstance(t_ns, bool) else None

    @property
    def timed(self) -> bool:
        """False for an import without timings (a plain body, a HAR without event times)."""
        return self.header.get("timings") is not False

    @property
    def transport(self) -> str:
        transport = (self.end or {}).get("transport")
        return transport if isinstance(transport, str) and transport else "eof"

    @property
    def total_ns(self) -> int | None:
        total = (self.end or {}).get("total_ns")
        if isinstance(total, int | float) and not isinstance(total, bool) and total == total:
            return _int(total)
        return self.chunks[-1][0] if self.chunks else None

    @property
    def saved_verdict(self) -> dict[str, Any] | None:
        verdict = (self.end or {}).get("verdict")
        return verdict if isinstance(verdict, dict) and verdict else None

    def lines(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [self.header]
        out += [
            {"kind": "chunk", "t_ns": t, "b64": base64.b64encode(d).decode("ascii")}
            for t, d in self.chunks
        ]
        if self.end is not None:
            out.append(self.end)
        return out


@dataclass(slots=True)
class SavedSession:
    attempts: list[SavedAttempt]
    session: dict[str, Any] | None = None  # the session line's verdict JSON

    @property
    def cut(self) -> bool:
        """The recording stops without its end line (the recorder died)."""
        return bool(self.attempts) and self.attempts[-1].end is None


def is_saved_run(text: str) -> bool:
    for line in text.split("\n"):
        if line.strip():
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                return False
            return isinstance(obj, dict) and str(obj.get("format", "")).startswith(
                "streamscope-run"
            )
    return False


def read_saved_session(text: str) -> SavedSession:
    """Every attempt in the file and the session line; a torn line (the writer died) and
    lines of the wrong shape are skipped, never a crash."""
    attempts: list[SavedAttempt] = []
    session: dict[str, Any] | None = None
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            continue
        kind = obj.get("kind") if isinstance(obj, dict) else None
        if kind == "header":
            attempts.append(SavedAttempt(obj))
            session = None  # a session line belongs to the attempts before it
        elif kind == "chunk" and attempts:
            b64 = obj.get("b64")
            if not isinstance(b64, str):
                continue
            try:
                data = base64.b64decode(b64, validate=True)
            except ValueError:
                continue
            t_ns = _int(obj.get("t_ns"))
            attempts[-1].chunks.append((t_ns, data))
        elif kind == "end" and attempts:
            attempts[-1].end = obj
        elif kind == "session" and attempts and isinstance(obj.get("verdict"), dict):
            session = obj["verdict"]
    return SavedSession(attempts, session)


def split_sessions(text: str) -> list[SavedSession]:
    """Several sessions written one after another (an export of several runs): a header of
    attempt 0 after a session line starts the next session. A later attempt continues the
    session before it (Continue pressed after the fact appends to the same file)."""
    sessions: list[SavedSession] = []
    current: list[str] = []
    closed = False
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if closed and '"kind": "header"' in stripped:
            if _starts_session(stripped):
                sessions.append(read_saved_session("\n".join(current)))
                current = []
            closed = False
        current.append(stripped)
        if '"kind": "session"' in stripped:
            closed = True
    if current:
        sessions.append(read_saved_session("\n".join(current)))
    return [s for s in sessions if s.attempts]


def _starts_session(header: str) -> bool:
    try:
        obj = json.loads(header)
    except (ValueError, RecursionError):
        return True
    return not isinstance(obj, dict) or _int(obj.get("attempt")) == 0


def read_saved_run(text: str) -> list[SavedAttempt]:
    """Every attempt in the file (see `read_saved_session`)."""
    return read_saved_session(text).attempts


def write_saved_session(saved: SavedSession) -> str:
    """The saved-run text of a session (JSON Lines, ASCII)."""
    lines = [line for a in saved.attempts for line in a.lines()]
    if saved.session is not None:
        lines.append({"kind": "session", "verdict": saved.session})
    return "".join(json.dumps(line) + "\n" for line in lines)

"""Saved runs (DESIGN §6): JSON Lines written as the stream arrives, read back with timings.

Per attempt: a `header` line (tool version, time, attempt, dialect, the request with the key
redacted, response status and headers), one `chunk` line per body read (`t_ns` since t0,
bytes as base64), and an `end` line (how the transport ended and the verdict JSON). Every
line is flushed as written, so a crash keeps what came.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from core.stream.spec import HttpRequest

__all__ = ["FORMAT", "RunRecorder", "SavedAttempt", "is_saved_run", "read_saved_run"]

FORMAT = "streamscope-run/1"
TOOL_VERSION = "0.1.0"


class RunRecorder:
    """Appends one run's lines to a file (or any text stream)."""

    def __init__(self, target: str | Path | IO[str]) -> None:
        if isinstance(target, str | Path):
            self._file: IO[str] = open(target, "a", encoding="utf-8")  # noqa: SIM115
            self._owned = True
        else:
            self._file = target
            self._owned = False

    def _write(self, obj: dict[str, Any]) -> None:
        self._file.write(json.dumps(obj) + "\n")  # ASCII: no U+2028 can split a line
        self._file.flush()

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
        red = request.redacted()
        self._write(
            {
                "kind": "header",
                "format": FORMAT,
                "tool_version": TOOL_VERSION,
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "attempt": attempt,
                "segment": segment,
                "dialect": dialect,
                "request": {
                    "method": red.method,
                    "url": red.url,
                    "headers": red.headers,
                    "body": red.body,
                },
                "response": None
                if status is None
                else {"status": status, "headers": headers or {}, "t_ns": headers_t_ns},
            }
        )

    def chunk(self, t_ns: int, data: bytes) -> None:
        self._write({"kind": "chunk", "t_ns": t_ns, "b64": base64.b64encode(data).decode("ascii")})

    def end(self, transport: str, verdict: dict[str, Any], total_ns: int | None) -> None:
        self._write(
            {"kind": "end", "transport": transport, "total_ns": total_ns, "verdict": verdict}
        )

    def close(self) -> None:
        if self._owned:
            self._file.close()


@dataclass(slots=True)
class SavedAttempt:
    header: dict[str, Any]
    chunks: list[tuple[int, bytes]] = field(default_factory=list)
    end: dict[str, Any] | None = None

    @property
    def dialect(self) -> str:
        return self.header.get("dialect") or "openai-chat"

    @property
    def status(self) -> int | None:
        response = self.header.get("response")
        return response.get("status") if isinstance(response, dict) else None

    @property
    def response_headers(self) -> dict[str, str]:
        response = self.header.get("response")
        return dict(response.get("headers") or {}) if isinstance(response, dict) else {}


def is_saved_run(text: str) -> bool:
    for line in text.split("\n"):
        if line.strip():
            try:
                obj = json.loads(line)
            except ValueError:
                return False
            return isinstance(obj, dict) and str(obj.get("format", "")).startswith(
                "streamscope-run"
            )
    return False


def read_saved_run(text: str) -> list[SavedAttempt]:
    """Every attempt in the file; a torn last line (the writer died) is ignored."""
    attempts: list[SavedAttempt] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        kind = obj.get("kind") if isinstance(obj, dict) else None
        if kind == "header":
            attempts.append(SavedAttempt(obj))
        elif kind == "chunk" and attempts:
            try:
                data = base64.b64decode(obj.get("b64", ""), validate=True)
            except ValueError:
                continue
            attempts[-1].chunks.append((int(obj.get("t_ns", 0)), data))
        elif kind == "end" and attempts:
            attempts[-1].end = obj
    return attempts

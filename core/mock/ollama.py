"""Ollama ``/api/chat`` NDJSON writer and error bodies.

One JSON object per line (``application/x-ndjson``); the last has ``done: true`` with
``done_reason`` stop | length and the counts and durations. Thinking arrives in
``message.thinking``; a tool call is one line with ``message.tool_calls`` (arguments as an
object), then ``done_reason: "stop"``.
Where Ollama cannot say it: ``refusal`` → plain refusal text and stop; ``content_filter``
and ``comments_keepalive`` (NDJSON has no comments) → normal; ``tool_call_truncated`` under
a small ``num_predict`` → ``done_reason: "length"`` without tool_calls. ``missing_done`` and
``done_without_finish`` → the body ends before the ``done: true`` line;
``mid_stream_error`` → a ``{"error": "..."}`` line; ``crlf`` → lines end in CRLF.
"""

from __future__ import annotations

import time
from typing import Any

from .frames import Frame, Writer, dumps
from .plan import Plan


def error_body(message: str) -> dict[str, Any]:
    return {"error": message}


def _created_at() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e9):09d}Z"


def final_line(plan: Plan, message: dict[str, Any], out: int) -> dict[str, Any]:
    """The ``done: true`` object (also the whole answer for ``stream: false``)."""
    eval_ns = int(out / plan.tps * 1e9)
    return {
        "model": plan.model,
        "created_at": _created_at(),
        "message": message,
        "done": True,
        "done_reason": "length" if plan.finish == "length" else "stop",
        "total_duration": eval_ns + 2_000_000,
        "load_duration": 1_000_000,
        "prompt_eval_count": plan.input_tokens,
        "prompt_eval_duration": 1_000_000,
        "eval_count": out,
        "eval_duration": eval_ns,
    }


class OllamaWriter(Writer):
    def line(self, obj: dict[str, Any] | str) -> bytes:
        return ((obj if isinstance(obj, str) else dumps(obj)) + self.eol).encode()

    def msg(self, **message: Any) -> bytes:
        body = {"role": "assistant", "content": "", **message}
        return self.line(
            {"model": self.plan.model, "created_at": _created_at(), "message": body, "done": False}
        )

    def opening(self) -> list[Frame]:
        return []

    def keepalive(self) -> list[Frame]:
        return []

    def thinking(self, piece: str) -> list[Frame]:
        return [self.content(self.msg(thinking=piece))]

    def text(self, piece: str) -> list[Frame]:
        return [self.content(self.msg(content=piece))]

    def tool(self) -> list[Frame]:
        tool = self.plan.tool
        assert tool is not None
        self.sent += len(tool.fragments)
        if not tool.complete:  # Ollama sends whole calls only
            return []
        calls = [{"function": {"name": tool.name, "arguments": tool.arguments}}]
        return [Frame(self.msg(tool_calls=calls), content=True)]

    def malformed(self) -> list[Frame]:
        return [Frame(self.line(f'{{"model":"{self.plan.model}","message":{{"content":"x"'))]

    def mid_error(self) -> list[Frame]:
        return [Frame(self.line({"error": "an error was encountered while running the model"}))]

    def end(self) -> list[Frame]:
        if self.plan.ending in ("missing_done", "done_without_finish"):
            return []
        message = {"role": "assistant", "content": ""}
        return [Frame(self.line(final_line(self.plan, message, self.sent)))]

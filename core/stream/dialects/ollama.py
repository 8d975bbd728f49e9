"""Ollama's native `/api/chat`: NDJSON lines; the `done: true` line is the end."""

from __future__ import annotations

import json
from typing import Any

from core.stream.dialects.base import Finish, Parser, post_json
from core.stream.events import StreamEvent
from core.stream.spec import HttpRequest, RunSpec

__all__ = ["OllamaParser", "build_request", "map_finish"]


def map_finish(raw: str) -> Finish:
    evidence = f'done_reason "{raw}" on the done line'
    if raw == "stop":
        return Finish(raw, "completed", "natural", evidence, covers_stop_sequence=True)
    if raw == "length":
        return Finish(raw, "truncated", "max_tokens", evidence)
    return Finish(raw, "unknown", None, evidence)


class OllamaParser(Parser):
    dialect = "ollama"
    framing = "ndjson"

    def __init__(self) -> None:
        super().__init__()
        self.facts.finish_is_end = True
        self._calls = 0

    def parse(self, name: str, obj: Any, t_ns: int, out: list[StreamEvent]) -> None:
        if not isinstance(obj, dict):
            self._malformed(str(obj))
            return
        if "error" in obj:
            self.error(None, obj.get("error"), "an error line", t_ns, out)
            return
        message = obj.get("message") or {}
        if isinstance(message.get("thinking"), str):
            self.thinking(message["thinking"], t_ns, out)
        if isinstance(message.get("content"), str):
            self.text(message["content"], t_ns, out)
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            args = fn.get("arguments")
            raw_args = args if isinstance(args, str) else json.dumps(args or {}, ensure_ascii=False)
            self.tool_delta(self._calls, call.get("id"), fn.get("name"), raw_args, t_ns, out)
            self._calls += 1
        if obj.get("done") is True:
            self.usage(obj.get("prompt_eval_count"), obj.get("eval_count"), t_ns, out)
            self.facts.terminator_seen = True
            self.facts.terminator_name = "done: true"
            raw = obj.get("done_reason")
            if isinstance(raw, str) and raw:
                self.finish(map_finish(raw), t_ns, out)


def build_request(spec: RunSpec) -> HttpRequest:
    messages = list(spec.messages)
    if spec.system:
        messages.insert(0, {"role": "system", "content": spec.system})
    options: dict[str, Any] = {}
    if spec.max_tokens is not None:
        options["num_predict"] = spec.max_tokens
    if spec.temperature is not None:
        options["temperature"] = spec.temperature
    if spec.stop:
        options["stop"] = list(spec.stop)
    body: dict[str, Any] = {"model": spec.model, "messages": messages, "stream": True}
    if options:
        body["options"] = options
    if spec.tools:
        body["tools"] = list(spec.tools)
    return post_json(spec, "/api/chat", body, "bearer", accept="application/x-ndjson")

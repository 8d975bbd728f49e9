"""Anthropic Messages streaming: message_start → content blocks → message_delta → message_stop."""

from __future__ import annotations

import json
from typing import Any

from core.stream.dialects.base import Finish, Parser, post_json
from core.stream.events import Ping, StreamEvent, Unknown
from core.stream.spec import HttpRequest, RunSpec

__all__ = ["AnthropicParser", "build_request", "map_finish"]

API_VERSION = "2023-06-01"

_STOP = {
    "end_turn": ("completed", "natural"),
    "stop_sequence": ("completed", "stop_sequence"),
    "max_tokens": ("truncated", "max_tokens"),
    "model_context_window_exceeded": ("truncated", "context_window"),
    "tool_use": ("tool_calls", None),
    "pause_turn": ("paused", None),
    "refusal": ("blocked", "refusal"),
}


def map_finish(raw: str, stop_sequence: Any) -> Finish:
    evidence = f'stop_reason "{raw}" in message_delta'
    if raw == "stop_sequence" and stop_sequence:
        evidence += f' (stop_sequence "{stop_sequence}")'
    if raw in _STOP:
        outcome, detail = _STOP[raw]
        return Finish(raw, outcome, detail, evidence)
    return Finish(raw, "unknown", None, evidence)


class AnthropicParser(Parser):
    dialect = "anthropic"

    def __init__(self) -> None:
        super().__init__()
        self._started = False
        self._blocks: dict[int, str] = {}

    def parse(self, name: str, obj: Any, t_ns: int, out: list[StreamEvent]) -> None:
        if not isinstance(obj, dict):
            self._malformed(str(obj))
            return
        kind = obj.get("type") or name
        if kind == "ping":
            out.append(Ping(t_ns))
        elif kind == "error":
            err = obj.get("error") if isinstance(obj.get("error"), dict) else {}
            self.error(err.get("type"), err.get("message"), "an error event", t_ns, out)
        elif kind == "message_start":
            self._started = True
            message = obj.get("message") or {}
            self.facts.response_id = message.get("id")
            usage = message.get("usage") or {}
            # Output tokens here are a placeholder (often 1); the count is message_delta's.
            self.usage(usage.get("input_tokens"), None, t_ns, out)
        elif kind in (
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ):
            if not self._started:
                self.facts.order_error = f"{kind} arrived before message_start"
                return
            getattr(self, "_" + kind)(obj, t_ns, out)
        else:
            self.facts.unknown += 1
            out.append(Unknown(str(kind), str(obj)[:200], t_ns))

    def _content_block_start(self, obj: dict[str, Any], t_ns: int, out: list[StreamEvent]) -> None:
        index = obj.get("index", 0)
        block = obj.get("content_block") or {}
        kind = block.get("type", "")
        self._blocks[index] = kind
        if kind == "text":
            self.text(block.get("text") or "", t_ns, out)
        elif kind == "thinking":
            self.thinking(block.get("thinking") or "", t_ns, out)
        elif kind == "tool_use":
            # Only `tool_use` is a call for the client to run. `server_tool_use` (web search,
            # code execution), `mcp_tool_use` and the `*_tool_result` blocks are run by the
            # server inside the same turn: they are not tool calls and decide nothing.
            initial = block.get("input")
            self.tool_delta(index, block.get("id"), block.get("name"), "", t_ns, out)
            if initial:  # a non-empty input in the start block is part of the arguments
                self.tool_delta(index, None, None, json.dumps(initial), t_ns, out)

    def _content_block_delta(self, obj: dict[str, Any], t_ns: int, out: list[StreamEvent]) -> None:
        index = obj.get("index", 0)
        delta = obj.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            self.text(delta.get("text") or "", t_ns, out)
        elif kind == "thinking_delta":
            self.thinking(delta.get("thinking") or "", t_ns, out)
        elif kind == "input_json_delta":
            # The input of a server-run tool streams the same way; only a client tool_use
            # block's input is a tool call's arguments. A delta whose block start we never saw
            # (a pasted log missing lines) is read as a client tool call.
            if self._blocks.get(index, "tool_use") == "tool_use":
                self.tool_delta(index, None, None, delta.get("partial_json") or "", t_ns, out)
        elif kind in ("signature_delta", "citations_delta"):
            pass
        else:
            self.facts.unknown += 1
            out.append(Unknown(f"content_block_delta/{kind}", str(delta)[:200], t_ns))

    def _content_block_stop(self, obj: dict[str, Any], t_ns: int, out: list[StreamEvent]) -> None:
        pass

    def _message_delta(self, obj: dict[str, Any], t_ns: int, out: list[StreamEvent]) -> None:
        delta = obj.get("delta") or {}
        usage = obj.get("usage") or {}
        self.usage(usage.get("input_tokens"), usage.get("output_tokens"), t_ns, out)
        raw = delta.get("stop_reason")
        if isinstance(raw, str) and raw:
            self.finish(map_finish(raw, delta.get("stop_sequence")), t_ns, out)

    def _message_stop(self, obj: dict[str, Any], t_ns: int, out: list[StreamEvent]) -> None:
        self.facts.terminator_seen = True
        self.facts.terminator_name = "message_stop"


def build_request(spec: RunSpec) -> HttpRequest:
    body: dict[str, Any] = {
        "model": spec.model,
        "messages": list(spec.messages),
        "max_tokens": spec.max_tokens if spec.max_tokens is not None else 1024,
        "stream": True,
    }
    if spec.system:
        body["system"] = spec.system
    if spec.temperature is not None:
        body["temperature"] = spec.temperature
    if spec.stop:
        body["stop_sequences"] = list(spec.stop)
    if spec.tools:
        body["tools"] = [_tool(t) for t in spec.tools]
    if spec.thinking_budget:
        body["thinking"] = {"type": "enabled", "budget_tokens": spec.thinking_budget}
    return post_json(
        spec, "/v1/messages", body, "x-api-key", headers={"anthropic-version": API_VERSION}
    )


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    """Accept OpenAI-shaped tool schemas too, so one tools editor serves every dialect."""
    fn = tool.get("function") if tool.get("type") == "function" else None
    if isinstance(fn, dict):
        return {
            "name": fn.get("name"),
            "description": fn.get("description", ""),
            "input_schema": fn.get("parameters") or {"type": "object"},
        }
    return tool

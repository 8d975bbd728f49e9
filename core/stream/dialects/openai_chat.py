"""OpenAI Chat Completions and every compatible server (relays, DeepSeek, vLLM, Ollama /v1,
LM Studio, llama.cpp). Relay deviations are recognised and flagged, never trusted blindly."""

from __future__ import annotations

from typing import Any

from core.stream.dialects.base import Finish, Parser, post_json
from core.stream.events import StreamEvent
from core.stream.spec import HttpRequest, RunSpec

__all__ = ["ChatParser", "build_request", "map_finish"]

_STANDARD = {
    "stop": ("completed", "natural"),
    "length": ("truncated", "max_tokens"),
    "tool_calls": ("tool_calls", None),
    "function_call": ("tool_calls", None),
    "content_filter": ("blocked", "content_filter"),
}
# Values relays and compatible servers send; mapped to what they mean, flagged nonstandard.
_FOREIGN = {
    "max_tokens": ("truncated", "max_tokens"),
    "model_length": ("truncated", "context_window"),
    "end_turn": ("completed", "natural"),
    "eos": ("completed", "natural"),
    "eos_token": ("completed", "natural"),
    "stop_sequence": ("completed", "stop_sequence"),
    "tool_use": ("tool_calls", None),
    "error": ("upstream_error", "error"),
    "insufficient_system_resource": ("upstream_error", "insufficient_system_resource"),
}


def map_finish(raw: str, refusal: bool, stop_reason: Any, where: str) -> Finish:
    evidence = f'finish_reason "{raw}" in {where}'
    if raw in _STANDARD:
        outcome, detail = _STANDARD[raw]
        if raw == "stop" and refusal:
            return Finish(raw, "blocked", "refusal", evidence + " after delta.refusal text")
        if raw == "stop" and isinstance(stop_reason, str) and stop_reason:
            return Finish(
                raw, "completed", "stop_sequence", evidence + f' with stop_reason "{stop_reason}"'
            )
        return Finish(raw, outcome, detail, evidence, covers_stop_sequence=raw == "stop")
    if raw in _FOREIGN:
        outcome, detail = _FOREIGN[raw]
        return Finish(raw, outcome, detail, evidence + ", a relay's nonstandard value", True)
    return Finish(raw, "unknown", None, evidence)


class ChatParser(Parser):
    dialect = "openai-chat"

    def __init__(self) -> None:
        super().__init__()
        self._chunks = 0
        self._last_slot: int | None = None

    def parse_text(self, name: str, data: str, t_ns: int, out: list[StreamEvent]) -> bool:
        if data.strip() == "[DONE]":
            self.facts.terminator_seen = True
            self.facts.terminator_name = "data: [DONE]"
            return True
        return False

    def parse(self, name: str, obj: Any, t_ns: int, out: list[StreamEvent]) -> None:
        self._chunks += 1
        if not isinstance(obj, dict):
            self._malformed(str(obj))
            return
        err = obj.get("error")
        if err is not None:
            # Relays (OpenRouter) send the error inside a chunk that still has choices and a
            # finish_reason "error": the error object's code is the evidence, read it first.
            if isinstance(err, dict):
                code = err.get("code") or err.get("type")
                self.error(code, err.get("message"), "an error object in the stream", t_ns, out)
            else:
                self.error(None, err, "an error object in the stream", t_ns, out)
            if not obj.get("choices"):
                return
        if isinstance(obj.get("id"), str):
            self.facts.response_id = obj["id"]
        choices = obj.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if isinstance(choice, dict) and choice.get("index", 0) == 0:
                    self._choice(choice, t_ns, out)
        usage = obj.get("usage")
        if isinstance(usage, dict):
            self.usage(usage.get("prompt_tokens"), usage.get("completion_tokens"), t_ns, out)

    def _choice(self, choice: dict[str, Any], t_ns: int, out: list[StreamEvent]) -> None:
        delta = choice.get("delta") or choice.get("message") or {}
        if isinstance(delta, dict):
            # One reasoning field per delta: some servers send the same text under both
            # names (`reasoning_content` for DeepSeek-style clients, `reasoning` for others).
            reasoning = delta.get("reasoning_content")
            if not (isinstance(reasoning, str) and reasoning):
                reasoning = delta.get("reasoning")
            if isinstance(reasoning, str):
                self.thinking(reasoning, t_ns, out)
            if isinstance(delta.get("content"), str):
                self.text(delta["content"], t_ns, out)
            if isinstance(delta.get("refusal"), str):
                self.refusal(delta["refusal"], t_ns, out)
            calls = delta.get("tool_calls")
            for call in calls if isinstance(calls, list) else ():
                if isinstance(call, dict):
                    fn = call.get("function")
                    fn = fn if isinstance(fn, dict) else {}
                    id_ = call.get("id") if isinstance(call.get("id"), str) else None
                    name = fn.get("name") if isinstance(fn.get("name"), str) else None
                    self.tool_delta(
                        self._slot(call.get("index"), id_),
                        id_,
                        name,
                        fn.get("arguments") or "",
                        t_ns,
                        out,
                    )
            legacy = delta.get("function_call")
            if isinstance(legacy, dict):
                name = legacy.get("name") if isinstance(legacy.get("name"), str) else None
                self.tool_delta(0, None, name, legacy.get("arguments") or "", t_ns, out)
        raw = choice.get("finish_reason")
        if isinstance(raw, str) and raw:  # a relay's "" counts as none
            where = f"event {self._chunks}"
            finish = map_finish(raw, bool(self.facts.refusal), choice.get("stop_reason"), where)
            self.finish(finish, t_ns, out)

    def _slot(self, index: Any, id_: str | None) -> int:
        """Which tool call a fragment belongs to. With `index` (the OpenAI shape) it says so.
        Without it (Google's OpenAI-compatible endpoint sends each call whole, with an `id`
        and no `index`): a new id opens the next free slot, a known id is its own slot, and a
        fragment with no id continues the last call."""
        calls = self.facts.tool_calls
        if isinstance(index, int) and not isinstance(index, bool):
            slot = index
        elif id_ is not None:
            known = [i for i, c in calls.items() if c.id == id_]
            slot = known[0] if known else (max(calls) + 1 if calls else 0)
        else:
            slot = self._last_slot if self._last_slot is not None else 0
        self._last_slot = slot
        return slot


def build_request(spec: RunSpec) -> HttpRequest:
    messages = list(spec.messages)
    if spec.system:
        messages.insert(0, {"role": "system", "content": spec.system})
    body: dict[str, Any] = {"model": spec.model, "messages": messages, "stream": True}
    if spec.include_usage:
        body["stream_options"] = {"include_usage": True}
    if spec.max_tokens is not None:
        body[spec.max_tokens_field or "max_tokens"] = spec.max_tokens
    if spec.temperature is not None:
        body["temperature"] = spec.temperature
    if spec.stop:
        body["stop"] = list(spec.stop)
    if spec.tools:
        body["tools"] = list(spec.tools)
    if spec.reasoning_effort:
        body["reasoning_effort"] = spec.reasoning_effort
    return post_json(spec, "/chat/completions", body, "bearer")

"""OpenAI Responses API streaming: typed events with sequence numbers; the final
response.completed / .incomplete / .failed event is both the finish and the end."""

from __future__ import annotations

from typing import Any

from core.stream.dialects.base import Finish, Parser, ToolCallState, post_json
from core.stream.events import StreamEvent, Unknown
from core.stream.spec import HttpRequest, RunSpec

__all__ = ["ResponsesParser", "build_request"]

_QUIET = {
    "response.created",
    "response.in_progress",
    "response.queued",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.done",
    "response.refusal.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.done",
    "response.reasoning_text.done",
    "response.output_text.annotation.added",
}
_THINKING = {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
# Function calls stream JSON arguments; custom tools (`"type": "custom"`) stream free text.
_ARGS_DELTA = {"response.function_call_arguments.delta", "response.custom_tool_call_input.delta"}
_ARGS_DONE = {
    "response.function_call_arguments.done": "arguments",
    "response.custom_tool_call_input.done": "input",
}
_INCOMPLETE = {
    "max_output_tokens": ("truncated", "max_tokens"),
    "content_filter": ("blocked", "content_filter"),
}


class ResponsesParser(Parser):
    dialect = "openai-responses"

    def __init__(self) -> None:
        super().__init__()
        self._seq: int | None = None
        self._args_seen: set[int] = set()
        # Output indexes of custom tool calls: their input is free text, complete without a
        # JSON check (ToolCallState.free_text).
        self.free_text_calls: set[int] = set()

    def _free_text(self, index: int) -> None:
        self.free_text_calls.add(index)
        call = self.facts.tool_calls.get(index)
        if call is None:
            call = self.facts.tool_calls[index] = ToolCallState(index)
        call.free_text = True

    def parse(self, name: str, obj: Any, t_ns: int, out: list[StreamEvent]) -> None:
        if not isinstance(obj, dict):
            self._malformed(str(obj))
            return
        kind = obj.get("type") or name
        seq = obj.get("sequence_number")
        if isinstance(seq, int):
            if self._seq is not None and seq != self._seq + 1:
                self.facts.out_of_order = True
            self._seq = seq
        response = obj.get("response") if isinstance(obj.get("response"), dict) else None
        if response and isinstance(response.get("id"), str):
            self.facts.response_id = response["id"]
        if kind == "response.output_text.delta":
            self.text(_text(obj.get("delta")), t_ns, out)
        elif kind == "response.refusal.delta":
            self.refusal(_text(obj.get("delta")), t_ns, out)
        elif kind in _THINKING:
            self.thinking(_text(obj.get("delta")), t_ns, out)
        elif kind == "response.output_item.added":
            item = obj.get("item") or {}
            item_type = item.get("type")
            if item_type in ("function_call", "custom_tool_call"):
                index = _index(obj)
                if item_type == "custom_tool_call":
                    self._free_text(index)
                self.tool_delta(
                    index,
                    item.get("call_id") or item.get("id"),
                    item.get("name"),
                    "",
                    t_ns,
                    out,
                )
        elif kind == "response.output_item.done":
            item = obj.get("item") or {}
            item_type = item.get("type")
            index = _index(obj)
            if item_type in ("function_call", "custom_tool_call") and index not in self._args_seen:
                # The deltas were not seen (a log missing lines): the finished item holds all.
                self._args_seen.add(index)
                if item_type == "custom_tool_call":
                    self._free_text(index)
                field = "input" if item_type == "custom_tool_call" else "arguments"
                call_id = item.get("call_id") or item.get("id")
                self.tool_delta(index, call_id, item.get("name"), _text(item.get(field)), t_ns, out)
        elif kind in _ARGS_DELTA:
            index = _index(obj)
            self._args_seen.add(index)
            self.tool_delta(index, None, None, _text(obj.get("delta")), t_ns, out)
        elif kind in _ARGS_DONE:
            index = _index(obj)
            if index not in self._args_seen:
                self._args_seen.add(index)
                self.tool_delta(index, None, None, _text(obj.get(_ARGS_DONE[kind])), t_ns, out)
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self._final(kind, response or {}, t_ns, out)
        elif kind == "error":
            # Nested (`{"type": "error", "error": {"type", "code", "message"}}`): the code,
            # else the type. Flat (`{"type": "error", "code", "message"}`): the code only;
            # the flat form's `type` is the event's own name, not an error type.
            nested = obj.get("error")
            if isinstance(nested, dict):
                code = nested.get("code") or nested.get("type")
                message = nested.get("message")
            else:
                code = obj.get("code")
                message = obj.get("message") or (nested if isinstance(nested, str) else None)
            self.error(code, message, "an error event", t_ns, out)
        elif kind in _QUIET:
            pass
        else:
            self.facts.unknown += 1
            out.append(Unknown(str(kind), str(obj)[:200], t_ns))

    def _final(
        self, kind: str, response: dict[str, Any], t_ns: int, out: list[StreamEvent]
    ) -> None:
        facts = self.facts
        usage = response.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        self.usage(usage.get("input_tokens"), usage.get("output_tokens"), t_ns, out)
        facts.terminator_seen = True
        facts.terminator_name = kind
        if kind == "response.completed":
            if facts.refusal:
                finish = Finish(
                    "completed",
                    "blocked",
                    "refusal",
                    "response.completed after response.refusal.delta text",
                )
            else:
                finish = Finish("completed", "completed", "natural", "response.completed")
        elif kind == "response.incomplete":
            details = response.get("incomplete_details")
            reason = details.get("reason") if isinstance(details, dict) else None
            outcome, detail = _INCOMPLETE.get(reason, ("unknown", None))
            finish = Finish(
                reason,
                outcome,
                detail,
                f'response.incomplete with incomplete_details.reason "{reason}"',
            )
        else:
            err = response.get("error")
            err = err if isinstance(err, dict) else {}
            code = err.get("code") or err.get("type")
            finish = Finish(
                "failed", "upstream_error", code, f'response.failed with error code "{code}"'
            )
            self.error(code, err.get("message"), "response.failed", t_ns, out)
        self.finish(finish, t_ns, out)


def _index(obj: dict[str, Any]) -> int:
    index = obj.get("output_index", 0)
    return index if isinstance(index, int) and not isinstance(index, bool) else 0


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def build_request(spec: RunSpec) -> HttpRequest:
    body: dict[str, Any] = {"model": spec.model, "input": list(spec.messages), "stream": True}
    if spec.system:
        body["instructions"] = spec.system
    if spec.max_tokens is not None:
        body["max_output_tokens"] = spec.max_tokens
    if spec.temperature is not None:
        body["temperature"] = spec.temperature
    if spec.tools:
        body["tools"] = [_tool(t) for t in spec.tools]
    if spec.reasoning_effort:
        body["reasoning"] = {"effort": spec.reasoning_effort, "summary": "auto"}
    if spec.previous_response_id:
        body["previous_response_id"] = spec.previous_response_id
    return post_json(spec, "/responses", body, "bearer")


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    """Chat-shaped tool schemas become Responses' flat function tools."""
    fn = tool.get("function") if tool.get("type") == "function" else None
    if isinstance(fn, dict):
        return {
            "type": "function",
            "name": fn.get("name"),
            "description": fn.get("description", ""),
            "parameters": fn.get("parameters"),
        }
    return tool

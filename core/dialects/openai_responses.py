"""OpenAI Responses API streaming: typed events with sequence numbers; the final
response.completed / .incomplete / .failed event is both the finish and the end."""

from __future__ import annotations

from typing import Any

from core.dialects.base import Finish, Parser, post_json
from core.events import StreamEvent, Unknown
from core.spec import HttpRequest, RunSpec

__all__ = ["ResponsesParser", "build_request"]

_QUIET = {
    "response.created",
    "response.in_progress",
    "response.queued",
    "response.output_item.done",
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
            self.text(obj.get("delta") or "", t_ns, out)
        elif kind == "response.refusal.delta":
            self.refusal(obj.get("delta") or "", t_ns, out)
        elif kind in _THINKING:
            self.thinking(obj.get("delta") or "", t_ns, out)
        elif kind == "response.output_item.added":
            item = obj.get("item") or {}
            if item.get("type") == "function_call":
                self.tool_delta(
                    obj.get("output_index", 0),
                    item.get("call_id") or item.get("id"),
                    item.get("name"),
                    "",
                    t_ns,
                    out,
                )
        elif kind == "response.function_call_arguments.delta":
            index = obj.get("output_index", 0)
            self._args_seen.add(index)
            self.tool_delta(index, None, None, obj.get("delta") or "", t_ns, out)
        elif kind == "response.function_call_arguments.done":
            index = obj.get("output_index", 0)
            if index not in self._args_seen:
                self.tool_delta(index, None, None, obj.get("arguments") or "", t_ns, out)
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self._final(kind, response or {}, t_ns, out)
        elif kind == "error":
            err = obj.get("error") if isinstance(obj.get("error"), dict) else obj
            self.error(
                err.get("code") or err.get("type"), err.get("message"), "an error event", t_ns, out
            )
            if err.get("type") == "error" and not err.get("code"):
                pass
        elif kind in _QUIET:
            pass
        else:
            self.facts.unknown += 1
            out.append(Unknown(str(kind), str(obj)[:200], t_ns))

    def _final(
        self, kind: str, response: dict[str, Any], t_ns: int, out: list[StreamEvent]
    ) -> None:
        facts = self.facts
        usage = response.get("usage") or {}
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
            reason = (response.get("incomplete_details") or {}).get("reason")
            outcome, detail = _INCOMPLETE.get(reason, ("unknown", None))
            finish = Finish(
                reason,
                outcome,
                detail,
                f'response.incomplete with incomplete_details.reason "{reason}"',
            )
        else:
            err = response.get("error") or {}
            code = err.get("code") or err.get("type")
            finish = Finish(
                "failed", "upstream_error", code, f'response.failed with error code "{code}"'
            )
            self.error(code, err.get("message"), "response.failed", t_ns, out)
        self.finish(finish, t_ns, out)


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

"""OpenAI Chat Completions stream writer and error bodies (also used by Responses).

Shape: a role chunk, one chunk per content delta, a chunk with ``finish_reason``, then (with
``stream_options.include_usage``) a ``choices: []`` usage chunk, then ``data: [DONE]``.
Reasoning is DeepSeek style (``delta.reasoning_content``). Scenario endings:
- ``stop_sequence``: ``finish_reason: "stop"`` plus vLLM's ``stop_reason: <sequence>``.
- ``relay_alias``: ``finish_reason`` is the ``alias`` parameter, as a relay would send it.
- ``usage_chunk``: relay style, cumulative usage in every chunk and a final usage chunk.
- ``missing_done``: finish (and usage) chunk, no ``[DONE]``.
- ``done_without_finish``: content then ``[DONE]``, no finish chunk.
- ``mid_stream_error``: ``data: {"error": {...server_error...}}`` and the body ends.
"""

from __future__ import annotations

from typing import Any

from .frames import Frame, Writer, dumps
from .plan import Plan

_FINISH = {
    "stop": "stop",
    "length": "length",
    "stop_sequence": "stop",
    "tool_calls": "tool_calls",
    "refusal": "stop",
    "content_filter": "content_filter",
}

_ERROR_TYPES = {
    "auth": ("invalid_request_error", "invalid_api_key"),
    "not_found": ("invalid_request_error", "model_not_found"),
    "invalid_request": ("invalid_request_error", None),
    "context_window": ("invalid_request_error", "context_length_exceeded"),
    "rate_limited": ("requests", "rate_limit_exceeded"),
    "server": ("server_error", "server_error"),
    "overloaded": ("server_error", "overloaded"),
    "bad_content_type": ("invalid_request_error", "unsupported_stream"),
}


def error_body(kind: str, message: str, request_id: str) -> dict[str, Any]:
    err_type, code = _ERROR_TYPES.get(kind, ("server_error", None))
    param = "messages" if kind == "context_window" else None
    return {"error": {"message": message, "type": err_type, "param": param, "code": code}}


def completion(plan: Plan) -> dict[str, Any]:
    """The non-streaming answer (``stream: false``): the plan's text in one JSON object."""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(plan.text) or None}
    message["refusal"] = "".join(plan.refusal) or None
    if plan.tool is not None:
        message["tool_calls"] = [_call(plan, "".join(plan.tool.fragments))]
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(plan)}
    return {
        "id": f"chatcmpl-mock{plan.n}",
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": [choice],
        "usage": _usage(plan, plan.output_tokens),
    }


def _finish(plan: Plan) -> str:
    return plan.alias if plan.finish == "alias" else _FINISH.get(plan.finish, "stop")


def _usage(plan: Plan, out: int) -> dict[str, int]:
    inp = plan.input_tokens
    return {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out}


def _call(plan: Plan, arguments: str) -> dict[str, Any]:
    assert plan.tool is not None
    fn = {"name": plan.tool.name, "arguments": arguments}
    return {"index": 0, "id": f"call_mock{plan.n}", "type": "function", "function": fn}


class ChatWriter(Writer):
    _text_template: tuple[bytes, bytes] | None = None

    def chunk(self, delta: dict[str, Any] | None, finish: str | None = None) -> bytes:
        obj: dict[str, Any] = {
            "id": f"chatcmpl-mock{self.plan.n}",
            "object": "chat.completion.chunk",
            "created": self.plan.created,
            "model": self.plan.model,
            "system_fingerprint": "fp_mock",
            "choices": [],
        }
        if delta is not None:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            if finish is not None and self.plan.stop_sequence is not None:
                choice["stop_reason"] = self.plan.stop_sequence
            obj["choices"] = [choice]
        if self.plan.usage_every_chunk or delta is None:
            obj["usage"] = _usage(self.plan, self.sent)
        elif self.plan.include_usage:
            obj["usage"] = None
        return self.sse(obj)

    def start(self) -> list[Frame]:
        return [Frame(self.chunk({"role": "assistant", "content": "", "refusal": None}))]

    def thinking(self, piece: str) -> list[Frame]:
        return [self.content(self.chunk({"content": None, "reasoning_content": piece}))]

    def text(self, piece: str) -> list[Frame]:
        if self.plan.usage_every_chunk:  # the usage changes each chunk: no template
            return [self.content(self.chunk({"content": piece}))]
        if self._text_template is None:  # every text chunk is this one with its piece
            marker = "\x00piece\x00"
            head, tail = self.chunk({"content": marker}).split(dumps(marker).encode())
            self._text_template = (head, tail)
        head, tail = self._text_template
        return [self.content(head + dumps(piece).encode() + tail)]

    def refusal(self, piece: str) -> list[Frame]:
        return [self.content(self.chunk({"refusal": piece}))]

    def tool(self) -> list[Frame]:
        assert self.plan.tool is not None
        out = [Frame(self.chunk({"tool_calls": [_call(self.plan, "")]}))]
        for frag in self.plan.tool.fragments:
            delta = {"tool_calls": [{"index": 0, "function": {"arguments": frag}}]}
            out.append(self.content(self.chunk(delta)))
        return out

    def malformed(self) -> list[Frame]:
        head = f'{{"id":"chatcmpl-mock{self.plan.n}","object":"chat.completion.chunk",'
        return [Frame(self.sse(head + '"choices":[{"index":0,"delta":{"content":"x"'))]

    def mid_error(self) -> list[Frame]:
        message = "The server had an error while processing your request. Sorry about that!"
        err = {"message": message, "type": "server_error", "param": None, "code": "server_error"}
        return [Frame(self.sse({"error": err}))]

    def end(self) -> list[Frame]:
        out: list[Frame] = []
        if self.plan.ending != "done_without_finish":
            out.append(Frame(self.chunk({}, _finish(self.plan))))
            if self.plan.include_usage or self.plan.usage_every_chunk:
                out.append(Frame(self.chunk(None)))
        if self.plan.ending != "missing_done":
            out.append(Frame(self.sse("[DONE]")))
        return out

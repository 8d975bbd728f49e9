"""Anthropic Messages stream writer and error bodies.

message_start → (content_block_start, ping after the first one, content_block_delta*,
content_block_stop)* → message_delta (stop_reason, stop_sequence, usage.output_tokens) →
message_stop. Thinking is a ``thinking`` block (``thinking_delta`` then ``signature_delta``),
a tool call a ``tool_use`` block with ``input_json_delta`` fragments.
Finishes: stop → end_turn, length → max_tokens, content_filter → refusal (Anthropic has no
content filter stop), plus stop_sequence, tool_use, refusal, pause_turn and
model_context_window_exceeded. Endings: ``missing_done`` → message_delta without
message_stop; ``done_without_finish`` → message_stop without message_delta;
``mid_stream_error`` → ``event: error`` with ``overloaded_error``.
``anthropic-version`` is not required (the real API requires it; the mock stays easy to call).
"""

from __future__ import annotations

from typing import Any

from .frames import Frame, Writer
from .plan import Plan

_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_calls": "tool_use",
    "refusal": "refusal",
    "content_filter": "refusal",
    "pause_turn": "pause_turn",
    "context_window": "model_context_window_exceeded",
}

_ERROR_TYPES = {
    "auth": "authentication_error",
    "not_found": "not_found_error",
    "invalid_request": "invalid_request_error",
    "context_window": "invalid_request_error",
    "rate_limited": "rate_limit_error",
    "server": "api_error",
    "overloaded": "overloaded_error",
    "bad_content_type": "invalid_request_error",
}


def error_body(kind: str, message: str, request_id: str) -> dict[str, Any]:
    err = {"type": _ERROR_TYPES.get(kind, "api_error"), "message": message}
    return {"type": "error", "error": err, "request_id": request_id}


class AnthropicWriter(Writer):
    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self.index = -1  # current content block
        self.kind: str | None = None  # open block type
        self.pinged = False

    def ev(self, type_: str, **fields: Any) -> bytes:
        return self.sse({"type": type_, **fields}, event=type_)

    def open(self, kind: str) -> list[Frame]:
        if self.kind == kind:
            return []
        out = self.close()
        self.index += 1
        self.kind = kind
        block: dict[str, Any] = {
            "text": {"type": "text", "text": ""},
            "thinking": {"type": "thinking", "thinking": "", "signature": ""},
        }.get(kind, {})
        if kind == "tool_use":
            assert self.plan.tool is not None
            block = {
                "type": "tool_use",
                "id": f"toolu_mock{self.plan.n}",
                "name": self.plan.tool.name,
                "input": {},
            }
        out.append(Frame(self.ev("content_block_start", index=self.index, content_block=block)))
        if not self.pinged:
            out += self.ping()
        return out

    def ping(self) -> list[Frame]:
        self.pinged = True
        return [Frame(self.ev("ping"))]

    def close(self) -> list[Frame]:
        if self.kind is None:
            return []
        out = []
        if self.kind == "thinking":
            signature = {
                "type": "signature_delta",
                "signature": f"bW9jay1zaWduYXR1cmU{self.plan.n}",
            }
            out.append(Frame(self.ev("content_block_delta", index=self.index, delta=signature)))
        out.append(Frame(self.ev("content_block_stop", index=self.index)))
        self.kind = None
        return out

    def delta(self, delta: dict[str, Any]) -> Frame:
        return self.content(self.ev("content_block_delta", index=self.index, delta=delta))

    def keepalive(self) -> list[Frame]:
        return [Frame(self.comment("keep-alive")), *self.ping()]

    def start(self) -> list[Frame]:
        message = {
            "id": f"msg_mock{self.plan.n}",
            "type": "message",
            "role": "assistant",
            "model": self.plan.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self.plan.input_tokens, "output_tokens": 1},
        }
        return [Frame(self.ev("message_start", message=message))]

    def thinking(self, piece: str) -> list[Frame]:
        return [*self.open("thinking"), self.delta({"type": "thinking_delta", "thinking": piece})]

    def text(self, piece: str) -> list[Frame]:
        return [*self.open("text"), self.delta({"type": "text_delta", "text": piece})]

    def tool(self) -> list[Frame]:
        assert self.plan.tool is not None
        out = self.open("tool_use")
        out.append(
            Frame(
                self.ev(
                    "content_block_delta",
                    index=self.index,
                    delta={"type": "input_json_delta", "partial_json": ""},
                )
            )
        )
        for frag in self.plan.tool.fragments:
            out.append(self.delta({"type": "input_json_delta", "partial_json": frag}))
        return out

    def malformed(self) -> list[Frame]:
        data = (
            f'{{"type":"content_block_delta","index":{max(self.index, 0)},'
            '"delta":{"type":"text_delta","text":"x"'
        )
        return [Frame(self.sse(data, event="content_block_delta"))]

    def mid_error(self) -> list[Frame]:
        err = {"type": "overloaded_error", "message": "Overloaded"}
        return [Frame(self.ev("error", error=err))]

    def end(self) -> list[Frame]:
        out = self.close()
        if not self.pinged:
            out += self.ping()
        if self.plan.ending != "done_without_finish":
            delta = {
                "stop_reason": _STOP[self.plan.finish],
                "stop_sequence": self.plan.stop_sequence,
            }
            usage = {"output_tokens": self.sent}
            out.append(Frame(self.ev("message_delta", delta=delta, usage=usage)))
        if self.plan.ending != "missing_done":
            out.append(Frame(self.ev("message_stop")))
        return out

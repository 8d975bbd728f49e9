"""OpenAI Responses API stream writer (errors use the OpenAI body from ``openai_chat``).

Events carry ``event: <type>`` and a ``data`` with the same ``type`` and an increasing
``sequence_number``: response.created, response.in_progress, then per output item
output_item.added → (content_part.added → output_text.delta* → output_text.done →
content_part.done) → output_item.done, then response.completed / response.incomplete
(``incomplete_details.reason`` max_output_tokens | content_filter).
Thinking is a ``reasoning`` item with ``response.reasoning_summary_text.delta``; a refusal is a
``refusal`` content part with ``response.refusal.delta``; a tool call is a ``function_call``
item with ``response.function_call_arguments.delta``/``.done``.
Endings: ``mid_stream_error`` → ``response.failed`` (``error.code = "server_error"``);
``missing_done`` and ``done_without_finish`` (no separate terminator here) → the body ends
right after the open item's ``.done`` event, with no ``response.completed``.
The malformed line does not use up a ``sequence_number``.
"""

from __future__ import annotations

from typing import Any

from .frames import Frame, Writer
from .plan import Plan

_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


class ResponsesWriter(Writer):
    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self.seq = 0
        self.items: list[dict[str, Any]] = []
        self.kind: str | None = None  # open item: reasoning, output_text, refusal
        self.acc = ""  # its text so far

    def ev(self, type_: str, **fields: Any) -> Frame:
        data = {"type": type_, "sequence_number": self.seq, **fields}
        self.seq += 1
        return Frame(self.sse(data, event=type_))

    def delta(self, type_: str, **fields: Any) -> Frame:
        frame = self.ev(type_, **fields)
        return self.content(frame.data)

    def response(self, status: str, **extra: Any) -> dict[str, Any]:
        plan = self.plan
        usage = None
        if status != "in_progress":
            usage = {
                "input_tokens": plan.input_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": self.sent,
                "output_tokens_details": {"reasoning_tokens": len(plan.thinking)},
                "total_tokens": plan.input_tokens + self.sent,
            }
        return {
            "id": f"resp_mock{plan.n}",
            "object": "response",
            "created_at": plan.created,
            "status": status,
            "error": None,
            "incomplete_details": None,
            "model": plan.model,
            "output": list(self.items),
            "usage": usage,
            **extra,
        }

    @property
    def where(self) -> dict[str, Any]:
        ids = {"reasoning": "rs", "output_text": "msg", "refusal": "msg", "function_call": "fc"}
        assert self.kind is not None
        return {"item_id": f"{ids[self.kind]}_mock{self.plan.n}", "output_index": len(self.items)}

    def open(self, kind: str) -> list[Frame]:
        if self.kind == kind:
            return []
        out = self.close(full=True)
        self.kind, self.acc = kind, ""
        item_id = self.where["item_id"]
        if kind == "reasoning":
            item: dict[str, Any] = {"id": item_id, "type": "reasoning", "summary": []}
            part = {"type": "summary_text", "text": ""}
            out.append(
                self.ev("response.output_item.added", output_index=len(self.items), item=item)
            )
            out.append(
                self.ev(
                    "response.reasoning_summary_part.added",
                    **self.where,
                    summary_index=0,
                    part=part,
                )
            )
            return out
        item = {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant"}
        out.append(
            self.ev(
                "response.output_item.added",
                output_index=len(self.items),
                item={**item, "content": []},
            )
        )
        out.append(
            self.ev(
                "response.content_part.added", **self.where, content_index=0, part=self._part("")
            )
        )
        return out

    def _part(self, text: str) -> dict[str, Any]:
        if self.kind == "refusal":
            return {"type": "refusal", "refusal": text}
        return {"type": "output_text", "text": text, "annotations": []}

    def close(self, full: bool) -> list[Frame]:
        """Close the open item; ``full=False`` stops after its first ``.done`` event."""
        kind, text, out = self.kind, self.acc, []
        if kind is None:
            return []
        status = "incomplete" if self.plan.finish in _INCOMPLETE else "completed"
        where = self.where
        if kind == "reasoning":
            out.append(
                self.ev("response.reasoning_summary_text.done", **where, summary_index=0, text=text)
            )
            part = {"type": "summary_text", "text": text}
            item = {"id": where["item_id"], "type": "reasoning", "summary": [part]}
            done = [
                self.ev("response.reasoning_summary_part.done", **where, summary_index=0, part=part)
            ]
        elif kind == "function_call":
            out.append(self.ev("response.function_call_arguments.done", **where, arguments=text))
            item = {**self._call(), "arguments": text, "status": status}
            done = []
        else:
            if kind == "refusal":
                out.append(self.ev("response.refusal.done", **where, content_index=0, refusal=text))
            else:
                out.append(
                    self.ev(
                        "response.output_text.done",
                        **where,
                        content_index=0,
                        text=text,
                        logprobs=[],
                    )
                )
            item = {
                "id": where["item_id"],
                "type": "message",
                "status": status,
                "role": "assistant",
                "content": [self._part(text)],
            }
            done = [
                self.ev(
                    "response.content_part.done", **where, content_index=0, part=self._part(text)
                )
            ]
        if not full:
            return out
        out += done
        out.append(
            self.ev("response.output_item.done", output_index=where["output_index"], item=item)
        )
        self.items.append(item)
        self.kind = None
        return out

    def _call(self) -> dict[str, Any]:
        assert self.plan.tool is not None
        n = self.plan.n
        return {
            "id": f"fc_mock{n}",
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": f"call_mock{n}",
            "name": self.plan.tool.name,
        }

    def start(self) -> list[Frame]:
        return [
            self.ev("response.created", response=self.response("in_progress")),
            self.ev("response.in_progress", response=self.response("in_progress")),
        ]

    def thinking(self, piece: str) -> list[Frame]:
        out = self.open("reasoning")
        self.acc += piece
        delta = self.delta(
            "response.reasoning_summary_text.delta", **self.where, summary_index=0, delta=piece
        )
        return [*out, delta]

    def text(self, piece: str) -> list[Frame]:
        out = self.open("output_text")
        self.acc += piece
        delta = self.delta(
            "response.output_text.delta", **self.where, content_index=0, delta=piece, logprobs=[]
        )
        return [*out, delta]

    def refusal(self, piece: str) -> list[Frame]:
        out = self.open("refusal")
        self.acc += piece
        return [
            *out,
            self.delta("response.refusal.delta", **self.where, content_index=0, delta=piece),
        ]

    def tool(self) -> list[Frame]:
        assert self.plan.tool is not None
        out = self.close(full=True)
        self.kind, self.acc = "function_call", ""
        out.append(
            self.ev("response.output_item.added", output_index=len(self.items), item=self._call())
        )
        for frag in self.plan.tool.fragments:
            self.acc += frag
            out.append(
                self.delta("response.function_call_arguments.delta", **self.where, delta=frag)
            )
        return out

    def malformed(self) -> list[Frame]:
        data = f'{{"type":"response.output_text.delta","sequence_number":{self.seq},"delta":"x"'
        return [Frame(self.sse(data, event="response.output_text.delta"))]

    def mid_error(self) -> list[Frame]:
        error = {"code": "server_error", "message": "The model failed to generate a response."}
        return [self.ev("response.failed", response=self.response("failed", error=error))]

    def end(self) -> list[Frame]:
        if self.plan.ending in ("missing_done", "done_without_finish"):
            return self.close(full=False)
        out = self.close(full=True)
        reason = _INCOMPLETE.get(self.plan.finish)
        if reason is None:
            return [*out, self.ev("response.completed", response=self.response("completed"))]
        details = {"reason": reason}
        final = self.response("incomplete", incomplete_details=details)
        return [*out, self.ev("response.incomplete", response=final)]

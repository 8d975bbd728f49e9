"""Gemini ``streamGenerateContent?alt=sse`` writer and error bodies.

Data-only SSE with CRLF line ends and no terminator; every chunk carries ``usageMetadata``; a
last chunk with an empty text part carries ``finishReason`` (STOP, MAX_TOKENS, SAFETY with
``safetyRatings``). Thinking parts have ``"thought": true``. A tool call is one
``functionCall`` part (Gemini sends arguments whole), finish STOP.
Where Gemini cannot say it: ``refusal`` → finish SAFETY with no text; ``tool_call_truncated``
under a small max-token limit → MAX_TOKENS with no functionCall part (a partial call cannot be
expressed); ``content_filter`` with ``block=1`` → ``promptFeedback.blockReason: "SAFETY"`` and
no candidates. ``missing_done``/``done_without_finish`` → the body ends before the finish
chunk; ``mid_stream_error`` → ``data: {"error": {"code": 503, "status": "UNAVAILABLE"}}``.
"""

from __future__ import annotations

from typing import Any

from .frames import Frame, Writer
from .plan import Plan

_FINISH = {
    "stop": "STOP",
    "stop_sequence": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "refusal": "SAFETY",
    "content_filter": "SAFETY",
}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_SAFETY_RATINGS = [
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
]


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}}


class GeminiWriter(Writer):
    spaced_json = True

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self.eol = "\r\n"

    def usage(self, final: bool = False) -> dict[str, Any]:
        plan = self.plan
        usage: dict[str, Any] = {"promptTokenCount": plan.input_tokens}
        if self.sent or final:
            answer = self.sent - min(self.sent, len(plan.thinking))
            usage["candidatesTokenCount"] = answer
            if plan.thinking:
                usage["thoughtsTokenCount"] = self.sent - answer
        usage["totalTokenCount"] = plan.input_tokens + self.sent
        return usage

    def chunk(self, parts: list[dict[str, Any]], finish: str | None = None) -> bytes:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
        if finish is not None:
            candidate["finishReason"] = finish
            if finish == "SAFETY":
                candidate["safetyRatings"] = _SAFETY_RATINGS
        candidate["index"] = 0
        return self.sse(
            {
                "candidates": [candidate],
                "usageMetadata": self.usage(final=finish is not None),
                "modelVersion": self.plan.model,
                "responseId": f"mock{self.plan.n}",
            }
        )

    def thinking(self, piece: str) -> list[Frame]:
        self.sent += 1
        return [Frame(self.chunk([{"text": piece, "thought": True}]), content=True)]

    def text(self, piece: str) -> list[Frame]:
        self.sent += 1
        return [Frame(self.chunk([{"text": piece}]), content=True)]

    def tool(self) -> list[Frame]:
        tool = self.plan.tool
        assert tool is not None
        if not tool.complete:  # a partial functionCall cannot be expressed
            self.sent += len(tool.fragments)
            return []
        self.sent += len(tool.fragments)
        call = {"functionCall": {"name": tool.name, "args": tool.arguments}}
        return [Frame(self.chunk([call]), content=True)]

    def malformed(self) -> list[Frame]:
        return [Frame(self.sse('{"candidates": [{"content": {"parts": [{"text": "x"'))]

    def mid_error(self) -> list[Frame]:
        message = "The model is overloaded. Please try again later."
        return [
            Frame(self.sse({"error": {"code": 503, "message": message, "status": "UNAVAILABLE"}}))
        ]

    def end(self) -> list[Frame]:
        if self.plan.ending in ("missing_done", "done_without_finish"):
            return []
        if self.plan.finish == "prompt_blocked":
            feedback = {"blockReason": "SAFETY", "safetyRatings": _SAFETY_RATINGS}
            body = {
                "promptFeedback": feedback,
                "usageMetadata": self.usage(final=True),
                "modelVersion": self.plan.model,
            }
            return [Frame(self.sse(body))]
        return [Frame(self.chunk([{"text": ""}], _FINISH.get(self.plan.finish, "STOP")))]

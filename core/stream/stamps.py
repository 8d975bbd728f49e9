"""The recorded times of one run that every metric definition is computed from; pure.

A run's summary `Metrics` answer StreamScope's own definitions only. To show one run under
vLLM's, llmperf's, AIPerf's or guidellm's definitions we keep the stamps themselves: when
the headers came, the first body byte, every content event, the first and last SSE message
carrying `choices` (vLLM's token clock), and the end of the body. `StampCollector` is fed the
runner's events in arrival order (no I/O), `RunStamps` is the frozen result.

Every `*_ns` is nanoseconds since t0 (the request's headers going out), as in the events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.stream.events import (
    ChunkReceived,
    RefusalDelta,
    ResponseStarted,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    WireEvent,
)

__all__ = ["RunStamps", "StampCollector"]


@dataclass(frozen=True, slots=True)
class RunStamps:
    headers_ns: int | None = None  # response headers received
    first_byte_ns: int | None = None  # first body byte
    content_ns: tuple[int, ...] = ()  # every content event: text, reasoning, refusal, tool call
    answer_ns: tuple[int, ...] = ()  # the non-reasoning text events only
    choices_ns: tuple[int, ...] = ()  # OpenAI chat: each SSE message with non-empty `choices`
    end_ns: int | None = None  # the body ended (however it ended): StreamScope's total_ms
    usage_output_tokens: int | None = None  # the provider's own count, when reported

    @property
    def output_tokens(self) -> int:
        """N (DESIGN §4): provider usage when reported, else the count of content events."""
        return self.usage_output_tokens or len(self.content_ns)

    @property
    def tokens_source(self) -> str:
        return "usage" if self.usage_output_tokens else "chunks"

    def to_json(self) -> dict[str, Any]:
        return {
            "headers_ns": self.headers_ns,
            "first_byte_ns": self.first_byte_ns,
            "content_ns": list(self.content_ns),
            "answer_ns": list(self.answer_ns),
            "choices_ns": list(self.choices_ns),
            "end_ns": self.end_ns,
            "usage_output_tokens": self.usage_output_tokens,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunStamps:
        return cls(
            headers_ns=data.get("headers_ns"),
            first_byte_ns=data.get("first_byte_ns"),
            content_ns=tuple(data.get("content_ns") or ()),
            answer_ns=tuple(data.get("answer_ns") or ()),
            choices_ns=tuple(data.get("choices_ns") or ()),
            end_ns=data.get("end_ns"),
            usage_output_tokens=data.get("usage_output_tokens"),
        )


@dataclass(slots=True)
class StampCollector:
    """Fed every event of one run in arrival order; `reset()` before a retry or a
    continuation (a session's stamps are its last attempt's)."""

    dialect: str
    headers_ns: int | None = None
    first_byte_ns: int | None = None
    content_ns: list[int] = field(default_factory=list)
    answer_ns: list[int] = field(default_factory=list)
    choices_ns: list[int] = field(default_factory=list)

    def reset(self) -> None:
        self.headers_ns = self.first_byte_ns = None
        self.content_ns, self.answer_ns, self.choices_ns = [], [], []

    def feed(self, event: Any) -> None:
        if isinstance(event, TextDelta):
            self.content_ns.append(event.t_ns)
            self.answer_ns.append(event.t_ns)
        elif isinstance(event, ThinkingDelta | RefusalDelta | ToolCallDelta):
            self.content_ns.append(event.t_ns)
        elif isinstance(event, WireEvent):
            if self.dialect == "openai-chat" and _has_choices(event.data):
                self.choices_ns.append(event.t_ns)
        elif isinstance(event, ChunkReceived):
            if self.first_byte_ns is None:
                self.first_byte_ns = event.t_ns
        elif isinstance(event, ResponseStarted) and self.headers_ns is None:
            self.headers_ns = event.t_ns

    def build(self, end_ns: int | None, usage_output_tokens: int | None) -> RunStamps:
        return RunStamps(
            headers_ns=self.headers_ns,
            first_byte_ns=self.first_byte_ns,
            content_ns=tuple(self.content_ns),
            answer_ns=tuple(self.answer_ns),
            choices_ns=tuple(self.choices_ns),
            end_ns=end_ns,
            usage_output_tokens=usage_output_tokens,
        )


def _has_choices(data: str) -> bool:
    """vLLM's test, `if choices := data.get("choices")` on the parsed message, without parsing
    every message twice: the value after the first `"choices":` must be a non-empty list."""
    at = data.find('"choices"')
    if at < 0:
        return False
    rest = data[at + 9 :].lstrip()
    if rest.startswith(":"):
        rest = rest[1:].lstrip()
        if rest.startswith("["):
            return not rest[1:].lstrip().startswith("]")
        if rest.startswith("null") or rest.startswith("{}") or rest.startswith('""'):
            return False
    try:  # anything else (a nested "choices", odd spacing): parse it properly
        obj = json.loads(data)
    except ValueError:
        return False
    return isinstance(obj, dict) and bool(obj.get("choices"))

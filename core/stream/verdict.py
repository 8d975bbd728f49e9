"""The verdict's data: what the outcome table decides, as frozen dataclasses that cross
every layer and serialise to the contract's JSON (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from core.stream.metrics import Metrics

__all__ = ["DecodeFlags", "HttpInfo", "SessionMetrics", "ToolCall", "Verdict"]


@dataclass(frozen=True, slots=True)
class HttpInfo:
    status: int
    request_id: str | None = None
    retry_after_s: float | None = None
    content_type: str | None = None
    gateway: str | None = None  # a gateway named by the response headers (LiteLLM, ...)
    gateway_header: str | None = None  # the header that named it

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "request_id": self.request_id,
            "retry_after_s": self.retry_after_s,
            "content_type": self.content_type,
            "gateway": self.gateway,
        }


@dataclass(frozen=True, slots=True)
class SessionMetrics:
    """The whole answer's figures after retries or continuations (DESIGN §6), beside the
    top-level `metrics`, which are the last segment's."""

    ttft_ms: float | None  # the first segment's
    total_ms: float | None  # first send to the last segment's end, backoff waits included
    output_tokens: int | None  # summed over segments
    segments: int
    attempts: int

    def to_json(self) -> dict[str, Any]:
        return {
            "ttft_ms": None if self.ttft_ms is None else round(self.ttft_ms, 3),
            "total_ms": None if self.total_ms is None else round(self.total_ms, 3),
            "output_tokens": self.output_tokens,
            "segments": self.segments,
            "attempts": self.attempts,
        }

    @classmethod
    def from_json(cls, data: Any) -> SessionMetrics | None:
        if not isinstance(data, dict):
            return None

        def num(key: str) -> Any:
            value = data.get(key)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return value if ok else None

        return cls(
            num("ttft_ms"),
            num("total_ms"),
            num("output_tokens"),
            int(num("segments") or 0),
            int(num("attempts") or 0),
        )


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str | None
    name: str | None
    arguments: str
    complete: bool


@dataclass(frozen=True, slots=True)
class DecodeFlags:
    bom_stripped: bool = False
    utf8_replaced: bool = False
    unterminated_final_event: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    dialect: str
    outcome: str
    detail: str | None
    warnings: tuple[str, ...] = ()
    raw_stop_reason: str | None = None
    terminator_seen: bool = False
    had_output: bool = False
    text: str = ""
    reasoning: str = ""
    refusal: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int | None = None
    output_tokens: int | None = None
    actions: tuple[str, ...] = ()
    explanation: str = ""
    http: HttpInfo | None = None
    metrics: Metrics = field(default_factory=Metrics)
    attempts: tuple[dict[str, Any], ...] = ()
    segments: tuple[dict[str, Any], ...] = ()
    session_metrics: SessionMetrics | None = None  # set when retries or continuations ran
    response_id: str | None = None  # for a Responses continuation; not in the JSON

    @property
    def retryable(self) -> bool:
        return "retry" in self.actions

    @property
    def label(self) -> str:
        return f"{self.outcome}/{self.detail}" if self.detail else self.outcome

    def with_metrics(self, metrics: Metrics) -> Verdict:
        return replace(self, metrics=metrics)

    def to_json(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "outcome": self.outcome,
            "detail": self.detail,
            "warnings": list(self.warnings),
            "raw_stop_reason": self.raw_stop_reason,
            "terminator_seen": self.terminator_seen,
            "had_output": self.had_output,
            "text": self.text,
            "reasoning": self.reasoning,
            "refusal": self.refusal,
            "tool_calls": [
                {"id": c.id, "name": c.name, "arguments": c.arguments, "complete": c.complete}
                for c in self.tool_calls
            ],
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
            "retryable": self.retryable,
            "actions": list(self.actions),
            "explanation": self.explanation,
            "http": self.http.to_json() if self.http else None,
            "metrics": self.metrics.to_json(),
            "attempts": list(self.attempts),
            "segments": list(self.segments),
            "session_metrics": self.session_metrics.to_json() if self.session_metrics else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        http = data.get("http")
        usage = data.get("usage") or {}
        return cls(
            dialect=data.get("dialect") or "",
            outcome=data["outcome"],
            detail=data.get("detail"),
            warnings=tuple(data.get("warnings") or ()),
            raw_stop_reason=data.get("raw_stop_reason"),
            terminator_seen=bool(data.get("terminator_seen")),
            had_output=bool(data.get("had_output")),
            text=data.get("text") or "",
            reasoning=data.get("reasoning") or "",
            refusal=data.get("refusal") or "",
            tool_calls=tuple(
                ToolCall(
                    c.get("id"), c.get("name"), c.get("arguments") or "", bool(c.get("complete"))
                )
                for c in data.get("tool_calls") or ()
            ),
            input_tokens=usage.get("input_tokens"),
            output_tokens=usage.get("output_tokens"),
            actions=tuple(data.get("actions") or ()),
            explanation=data.get("explanation") or "",
            http=HttpInfo(**http) if isinstance(http, dict) else None,
            metrics=Metrics.from_json(data.get("metrics")),
            attempts=tuple(data.get("attempts") or ()),
            segments=tuple(data.get("segments") or ()),
            session_metrics=SessionMetrics.from_json(data.get("session_metrics")),
        )

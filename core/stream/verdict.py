"""The verdict's data: what the outcome table decides, as frozen dataclasses that cross
every layer and serialise to the contract's JSON (DESIGN §6)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from core.stream.metrics import Metrics

__all__ = [
    "Answer",
    "DecodeFlags",
    "HttpInfo",
    "SessionMetrics",
    "ToolCall",
    "Verdict",
    "dumps_record",
    "record_pieces",
    "utf8",
]


def utf8(text: str) -> bytes:
    """A text as a verdict keeps it: UTF-8, lone surrogates (from `\\ud800` in a stream's
    JSON) passed through."""
    return text.encode("utf-8", "surrogatepass")


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
    # The answer as UTF-8 (`utf8()`); `text` decodes it. As a `str`, a million-token answer
    # holding one emoji is 22 MB (4 bytes a character) in each process; as UTF-8, 5.5 MB.
    answer: bytes = b""
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
    def text(self) -> str:
        """The answer, decoded anew at each call: keep it in a local where it is used twice."""
        return self.answer.decode("utf-8", "surrogatepass")

    @property
    def text_chars(self) -> int:
        """`len(self.text)` without decoding it: UTF-8 bytes that do not continue a
        character."""
        return len(self.answer) - len(self.answer.translate(None, _NOT_CONTINUATION))

    @property
    def retryable(self) -> bool:
        return "retry" in self.actions

    @property
    def label(self) -> str:
        return f"{self.outcome}/{self.detail}" if self.detail else self.outcome

    def with_metrics(self, metrics: Metrics) -> Verdict:
        return replace(self, metrics=metrics)

    def to_json(self) -> dict[str, Any]:
        return {**self.to_record(), "text": self.text}

    def to_record(self) -> dict[str, Any]:
        """`to_json()` for a recorder: the answer stays UTF-8 (an `Answer`), written by
        `dumps_record` without ever being one `str`."""
        return {
            "dialect": self.dialect,
            "outcome": self.outcome,
            "detail": self.detail,
            "warnings": list(self.warnings),
            "raw_stop_reason": self.raw_stop_reason,
            "terminator_seen": self.terminator_seen,
            "had_output": self.had_output,
            "text": Answer(self.answer),
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
            answer=utf8(data.get("text") or ""),
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


_NOT_CONTINUATION = bytes(b for b in range(256) if not 0x80 <= b < 0xC0)


@dataclass(frozen=True, slots=True)
class Answer:
    """A verdict's answer inside `to_record()`: UTF-8 bytes that `dumps_record` writes as
    a JSON string, 64 KB at a time."""

    utf8: bytes

    def __bool__(self) -> bool:
        return bool(self.utf8)

    def head(self, chars: int) -> str:
        """The first `chars` characters, decoding no more than it needs."""
        cut = _boundary(self.utf8, min(len(self.utf8), 4 * chars))
        return self.utf8[:cut].decode("utf-8", "surrogatepass")[:chars]

    def json_pieces(self) -> Iterator[str]:
        """The JSON string (ASCII, quotes included), in pieces made as they are taken."""
        data, start = self.utf8, 0
        yield '"'
        while start < len(data):
            end = _boundary(data, start + _BLOCK)
            if end <= start:  # a block shorter than the character there: take the character
                end = start + 1
                while end < len(data) and 0x80 <= data[end] < 0xC0:
                    end += 1
            yield json.dumps(data[start:end].decode("utf-8", "surrogatepass"))[1:-1]
            start = end
        yield '"'


_BLOCK = 1 << 16
# A marker no recorded value can hold by chance: `dumps_record` swaps it for the answer.
_MARK = f"\x00answer-{secrets.token_hex(8)}\x00"
_MARK_JSON = json.dumps(_MARK)


def _boundary(data: bytes, at: int) -> int:
    """`at`, or the start of the UTF-8 character it falls in."""
    if at >= len(data):
        return len(data)
    while at > 0 and 0x80 <= data[at] < 0xC0:
        at -= 1
    return at


def dumps_record(obj: Any) -> str:
    """`json.dumps(obj)` (ASCII), where each `Answer` inside is its text's JSON string."""
    return "".join(record_pieces(obj))


def record_pieces(obj: Any) -> Iterator[str]:
    """`dumps_record(obj)` in pieces of at most 64 KB of answer each, made as they are
    taken: a writer that writes them as they come never holds the whole JSON."""
    answers: list[Answer] = []

    def default(value: Any) -> str:
        if isinstance(value, Answer):
            answers.append(value)
            return _MARK
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    out = json.dumps(obj, default=default)
    between = out.split(_MARK_JSON) if answers else [out]
    yield between[0]
    for answer, after in zip(answers, between[1:], strict=True):
        yield from answer.json_pieces()
        yield after

"""Timing figures of a run (DESIGN §4), computed from stamped events; pure.

t0 is the moment the request's bytes went out; every `t_ns` here is relative to it.
Headers: the response headers received (a server may send them at once and compute for
seconds before its first body byte). TTFB: first body byte. TTFT: first chunk with
generated content (text, reasoning, refusal or tool-call delta). First answer: first
non-reasoning text. Gaps: between consecutive content events.
ITL = (t_last − t_first) / (N − 1); tokens/s = (N − 1) / (t_last − t_first);
TPOT = (total − TTFT) / (N − 1), N ≥ 2 (vLLM's definition). N from provider usage when
reported, else the count of content events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.stream.events import RefusalDelta, StreamEvent, TextDelta, ThinkingDelta, ToolCallDelta

__all__ = ["Metrics", "MetricsBuilder", "Stall"]

_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Stall:
    at_ms: float  # when the gap started
    gap_ms: float


@dataclass(frozen=True, slots=True)
class Metrics:
    headers_ms: float | None = None
    ttfb_ms: float | None = None
    ttft_ms: float | None = None
    first_answer_ms: float | None = None
    itl_ms: float | None = None
    output_tokens_per_s: float | None = None
    total_ms: float | None = None
    tpot_ms: float | None = None
    chunks: int = 0
    events: int = 0
    tokens_source: str = "chunks"  # usage | chunks
    stalls: tuple[Stall, ...] = ()
    content_events: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "headers_ms": _r(self.headers_ms),
            "ttfb_ms": _r(self.ttfb_ms),
            "ttft_ms": _r(self.ttft_ms),
            "first_answer_ms": _r(self.first_answer_ms),
            "itl_ms": _r(self.itl_ms),
            "output_tokens_per_s": _r(self.output_tokens_per_s),
            "total_ms": _r(self.total_ms),
            "tpot_ms": _r(self.tpot_ms),
            "chunks": self.chunks,
            "events": self.events,
            "tokens_source": self.tokens_source,
            "stalls": [{"at_ms": _r(s.at_ms), "gap_ms": _r(s.gap_ms)} for s in self.stalls],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Metrics:
        data = data or {}
        stalls = tuple(Stall(s["at_ms"], s["gap_ms"]) for s in data.get("stalls") or [])
        keys = (
            "headers_ms",
            "ttfb_ms",
            "ttft_ms",
            "first_answer_ms",
            "itl_ms",
            "output_tokens_per_s",
            "total_ms",
            "tpot_ms",
        )
        return cls(
            **{k: data.get(k) for k in keys},
            chunks=data.get("chunks") or 0,
            events=data.get("events") or 0,
            tokens_source=data.get("tokens_source") or "chunks",
            stalls=stalls,
        )


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass(slots=True)
class MetricsBuilder:
    """Fed in arrival order; `build()` any time gives the figures so far."""

    soft_stall_ns: int = 2_000 * _NS_PER_MS
    timed: bool = True  # False for a plain body: no timing figures at all
    headers_ns: int | None = None
    first_byte_ns: int | None = None
    first_content_ns: int | None = None
    first_answer_ns: int | None = None
    last_content_ns: int | None = None
    last_byte_ns: int | None = None
    chunks: int = 0
    events: int = 0
    content_events: int = 0
    gaps_ms: list[float] = field(default_factory=list)
    stalls: list[Stall] = field(default_factory=list)

    def on_headers(self, t_ns: int) -> None:
        if self.headers_ns is None:
            self.headers_ns = t_ns

    def on_chunk(self, t_ns: int) -> None:
        self.chunks += 1
        if self.first_byte_ns is None:
            self.first_byte_ns = t_ns
        self.last_byte_ns = t_ns

    def on_wire_event(self) -> None:
        self.events += 1

    def on_event(self, event: StreamEvent) -> float | None:
        """Returns the gap before this content event (ms), or None for other events."""
        if not isinstance(event, TextDelta | ThinkingDelta | RefusalDelta | ToolCallDelta):
            return None
        t_ns = event.t_ns
        self.content_events += 1
        if self.first_content_ns is None:
            self.first_content_ns = t_ns
        if self.first_answer_ns is None and isinstance(event, TextDelta):
            self.first_answer_ns = t_ns
        gap_ms = 0.0 if self.last_content_ns is None else (t_ns - self.last_content_ns) / 1e6
        if self.last_content_ns is not None and t_ns - self.last_content_ns >= self.soft_stall_ns:
            self.stalls.append(Stall(self.last_content_ns / 1e6, gap_ms))
        self.last_content_ns = t_ns
        self.gaps_ms.append(gap_ms)
        return gap_ms

    def build(self, total_ns: int | None, output_tokens: int | None) -> Metrics:
        if not self.timed:
            return Metrics(
                chunks=self.chunks,
                events=self.events,
                tokens_source="usage" if output_tokens else "chunks",
                content_events=self.content_events,
            )
        n, source = (output_tokens, "usage") if output_tokens else (self.content_events, "chunks")
        itl = tps = None
        if self.first_content_ns is not None and self.last_content_ns is not None and n > 1:
            span_ns = self.last_content_ns - self.first_content_ns
            if span_ns > 0:
                itl = span_ns / 1e6 / (n - 1)
                tps = (n - 1) / (span_ns / 1e9)
        tpot = None
        if self.first_content_ns is not None and total_ns is not None and n > 1:
            tpot = (total_ns - self.first_content_ns) / 1e6 / (n - 1)
        return Metrics(
            headers_ms=_ms(self.headers_ns),
            ttfb_ms=_ms(self.first_byte_ns),
            ttft_ms=_ms(self.first_content_ns),
            first_answer_ms=_ms(self.first_answer_ns),
            itl_ms=itl,
            output_tokens_per_s=tps,
            total_ms=_ms(total_ns),
            tpot_ms=tpot,
            chunks=self.chunks,
            events=self.events,
            tokens_source=source,
            stalls=tuple(self.stalls),
            content_events=self.content_events,
        )


def _ms(t_ns: int | None) -> float | None:
    return None if t_ns is None else t_ns / 1e6

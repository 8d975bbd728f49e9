"""Timing figures of a run (DESIGN §4), computed from stamped events; pure.

t0 is the moment the request's bytes went out; every `t_ns` here is relative to it.
Headers: the response headers received (a server may send them at once and compute for
seconds before its first body byte). TTFB: first body byte. TTFT: first chunk with
generated content (text, reasoning, refusal or tool-call delta). First answer: first
non-reasoning text. Gaps: between consecutive content events.
ITL = (t_last − t_first) / (N − 1); tokens/s = (N − 1) / (t_last − t_first);
TPOT = (total − TTFT) / (N − 1), N ≥ 2 (vLLM's definition). N from provider usage when
reported, else the count of content events. Tokens/s is null under 3 content events or a
span under 20 ms (a burst has no measurable rate); `tokens_per_s_note` says why.
Stalls: silences of at least the soft threshold after the first byte, before or between
content, each with what ended it (content, error, end, or null: still silent at the end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.stream.events import (
    ProviderError,
    RefusalDelta,
    StopSignal,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)

__all__ = ["MIN_RATE_EVENTS", "MIN_RATE_SPAN_NS", "Metrics", "MetricsBuilder", "Stall", "rate"]

_NS_PER_MS = 1_000_000
MIN_RATE_EVENTS = 3  # DESIGN §4: fewer content events than this give no tokens/s
MIN_RATE_SPAN_NS = 20 * _NS_PER_MS  # nor do content events spanning less than this
_ENDED_BY = ("content", "error", "end")


@dataclass(frozen=True, slots=True)
class Stall:
    at_ms: float  # when the silence started (the first byte, or the last content)
    gap_ms: float
    ended_by: str | None = "content"  # content | error | end | None (still silent at the end)

    def to_json(self) -> dict[str, Any]:
        return {"at_ms": _r(self.at_ms), "gap_ms": _r(self.gap_ms), "ended_by": self.ended_by}

    @classmethod
    def from_json(cls, data: Any) -> Stall | None:
        if not isinstance(data, dict):
            return None
        at, gap, ended = data.get("at_ms"), data.get("gap_ms"), data.get("ended_by", "content")
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (at, gap)):
            return None
        return cls(float(at), float(gap), ended if ended in _ENDED_BY else None)


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
    tokens_per_s_note: str | None = None  # why output_tokens_per_s is null

    @property
    def resumed_stalls(self) -> tuple[Stall, ...]:
        """Gaps between content that later resumed (what `stall_observed` warns about)."""
        first = self.ttft_ms
        return tuple(
            s
            for s in self.stalls
            if s.ended_by == "content" and first is not None and s.at_ms >= first
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "headers_ms": _r(self.headers_ms),
            "ttfb_ms": _r(self.ttfb_ms),
            "ttft_ms": _r(self.ttft_ms),
            "first_answer_ms": _r(self.first_answer_ms),
            "itl_ms": _r(self.itl_ms),
            "output_tokens_per_s": _r(self.output_tokens_per_s),
            "tokens_per_s_note": self.tokens_per_s_note,
            "total_ms": _r(self.total_ms),
            "tpot_ms": _r(self.tpot_ms),
            "chunks": self.chunks,
            "events": self.events,
            "tokens_source": self.tokens_source,
            "stalls": [s.to_json() for s in self.stalls],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Metrics:
        data = data or {}
        stalls = tuple(
            s for s in (Stall.from_json(x) for x in data.get("stalls") or []) if s is not None
        )
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
        note = data.get("tokens_per_s_note")
        return cls(
            **{k: data.get(k) for k in keys},
            chunks=data.get("chunks") or 0,
            events=data.get("events") or 0,
            tokens_source=data.get("tokens_source") or "chunks",
            stalls=stalls,
            tokens_per_s_note=note if isinstance(note, str) else None,
        )


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def rate(
    n: int, content_events: int, first_ns: int | None, last_ns: int | None
) -> tuple[float | None, str | None]:
    """(output tokens/s, None) or (None, why not): (N − 1) / (t_last − t_first), only over at
    least 3 content events spanning at least 20 ms (DESIGN §4)."""
    if first_ns is None or last_ns is None or content_events == 0:
        return None, "no content arrived"
    if content_events < MIN_RATE_EVENTS:
        return None, (
            f"only {content_events} content event{'s' if content_events != 1 else ''}: "
            f"a rate needs at least {MIN_RATE_EVENTS}"
        )
    span_ns = last_ns - first_ns
    if span_ns < MIN_RATE_SPAN_NS:
        return None, (
            f"the content arrived within {span_ns / 1e6:.1f} ms, a burst: a rate needs "
            f"at least {MIN_RATE_SPAN_NS // _NS_PER_MS} ms"
        )
    if n < 2:
        return None, "fewer than 2 output tokens"
    return (n - 1) / (span_ns / 1e9), None


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
    stalls: list[Stall] = field(default_factory=list)
    silent_since_ns: int | None = None  # the first byte, or whatever last broke the silence

    def on_headers(self, t_ns: int) -> None:
        if self.headers_ns is None:
            self.headers_ns = t_ns

    def on_chunk(self, t_ns: int) -> None:
        self.chunks += 1
        if self.first_byte_ns is None:
            self.first_byte_ns = t_ns
            self.silent_since_ns = t_ns
        self.last_byte_ns = t_ns

    def on_wire_event(self) -> None:
        self.events += 1

    def _silence_ends(self, t_ns: int, ended_by: str | None) -> None:
        since = self.silent_since_ns
        if since is not None and t_ns - since >= self.soft_stall_ns:
            self.stalls.append(Stall(since / 1e6, (t_ns - since) / 1e6, ended_by))
        self.silent_since_ns = t_ns

    def on_event(self, event: StreamEvent) -> float | None:
        """Returns the gap before this content event (ms), or None for other events."""
        role = _ROLES.get(type(event))  # once per token: a dict lookup, not four isinstance
        if role is None:
            role = _ROLES[type(event)] = _role_of(event)
        if role != "content":
            if role:
                self._silence_ends(event.t_ns, role)  # type: ignore[union-attr]
            return None
        t_ns: int = event.t_ns  # type: ignore[union-attr]
        self.content_events += 1
        if self.first_content_ns is None:
            self.first_content_ns = t_ns
        if self.first_answer_ns is None and isinstance(event, TextDelta):
            self.first_answer_ns = t_ns
        last = self.last_content_ns
        gap_ms = 0.0 if last is None else (t_ns - last) / 1e6
        since = self.silent_since_ns
        if since is not None and t_ns - since >= self.soft_stall_ns:
            self.stalls.append(Stall(since / 1e6, (t_ns - since) / 1e6, "content"))
        self.silent_since_ns = self.last_content_ns = t_ns
        return gap_ms

    def build(
        self,
        total_ns: int | None,
        output_tokens: int | None,
        *,
        ended: bool = False,
        ended_by_end: bool = False,
    ) -> Metrics:
        """With `ended`, the run is over at `total_ns`: a silence still open then is listed,
        ended by the stream's `end` (`ended_by_end`: the body ended properly) or by nothing
        (null: a cut, a watchdog, a cancel)."""
        if not self.timed:
            return Metrics(
                chunks=self.chunks,
                events=self.events,
                tokens_source="usage" if output_tokens else "chunks",
                content_events=self.content_events,
                tokens_per_s_note="a plain body has no timings",
            )
        n, source = (output_tokens, "usage") if output_tokens else (self.content_events, "chunks")
        itl = None
        if self.first_content_ns is not None and self.last_content_ns is not None and n > 1:
            span_ns = self.last_content_ns - self.first_content_ns
            if span_ns > 0:
                itl = span_ns / 1e6 / (n - 1)
        tps, note = rate(n, self.content_events, self.first_content_ns, self.last_content_ns)
        tpot = None
        if self.first_content_ns is not None and total_ns is not None and n > 1:
            tpot = (total_ns - self.first_content_ns) / 1e6 / (n - 1)
        stalls = list(self.stalls)
        since = self.silent_since_ns
        if (
            ended
            and total_ns is not None
            and since is not None
            and (total_ns - since >= self.soft_stall_ns)
        ):
            gap = (total_ns - since) / 1e6
            stalls.append(Stall(since / 1e6, gap, "end" if ended_by_end else None))
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
            stalls=tuple(stalls),
            content_events=self.content_events,
            tokens_per_s_note=note,
        )


# What each event type is to the timings: content (a token), the end of a silence ("error",
# "end"), or nothing (""). Filled as types are first seen.
_ROLES: dict[type, str] = {}


def _role_of(event: object) -> str:
    if isinstance(event, ProviderError):
        return "error"
    if isinstance(event, StopSignal):
        return "end"
    if isinstance(event, TextDelta | ThinkingDelta | RefusalDelta | ToolCallDelta):
        return "content"
    return ""


def _ms(t_ns: int | None) -> float | None:
    return None if t_ns is None else t_ns / 1e6

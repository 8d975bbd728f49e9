"""What a run and a session yield besides the stream's own events — `RunFinished`,
`AttemptStarted`, `SessionFinished` — kept apart from the runner so a reader of results (the
window at start-up, the engine's parent) does not import the HTTP stack to name them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.stream.outcome import Verdict
from core.stream.spec import HttpRequest, RunSpec

__all__ = ["AttemptStarted", "RunFinished", "SessionFinished"]


@dataclass(frozen=True, slots=True)
class RunFinished:
    verdict: Verdict
    transport: str
    total_ns: int | None
    request: HttpRequest  # redacted
    t_ns: int = 0
    t0_abs_ns: int | None = None  # t0 on the injected clock (to line up with other clocks)


@dataclass(frozen=True, slots=True)
class AttemptStarted:
    attempt: int  # 0-based across the session
    segment: int
    kind: str  # first | retry | continue | more_tokens
    method: str  # how a continuation was asked for; "" otherwise
    waited_s: float
    reason: str
    offset_ns: int  # where this run's t0 sits on the session's time axis
    spec: RunSpec

    def describe(self) -> str:
        if self.kind == "retry":
            return f"retry {self.attempt} after {self.waited_s:.2f} s: {self.reason}"
        if self.kind == "continue":
            return f"continue (segment {self.segment + 1}, {self.method})"
        return self.kind


@dataclass(frozen=True, slots=True)
class SessionFinished:
    verdict: Verdict  # the whole session's (final segment's, with the stitched text)
    runs: tuple[RunFinished, ...]
    parts: tuple[tuple[Verdict, str], ...] = ()  # each segment's verdict and method
    spec: RunSpec | None = None  # the original request (Continue builds on it)
    attempts: tuple[dict[str, Any], ...] = ()

    @property
    def text(self) -> str:
        """The stitched answer (the session verdict's), decoded at each call."""
        return self.verdict.text

    @property
    def segment_verdicts(self) -> tuple[Verdict, ...]:
        return tuple(v for v, _ in self.parts)

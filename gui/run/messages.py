"""What the controller tells the views besides core's own events: a session starting and
the verdict to show. Frozen data; widgets import this, never the controller."""

from __future__ import annotations

from dataclasses import dataclass

from core import AttemptStarted, RunSpec, Verdict

__all__ = ["SessionOutcome", "SessionStart", "attempt_label"]


@dataclass(frozen=True, slots=True)
class SessionStart:
    kind: str  # first | retry | continue | more_tokens | replay
    fresh: bool  # True: views clear; False: the run continues the same views and time axis
    spec: RunSpec | None
    source: str = ""  # for a replay: what was opened


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    """The verdict the panel shows: the whole session's (core's `SessionFinished.verdict`:
    the final segment's, with the stitched text, warnings and usage of every segment), and
    each segment's own verdict with the method that asked for it."""

    verdict: Verdict
    parts: tuple[tuple[Verdict, str], ...] = ()  # (segment verdict, method), in order
    notes: tuple[str, ...] = ()
    continue_blocked: str | None = None  # why Continue cannot run, for its tooltip
    replay_kind: str | None = None

    @property
    def segments(self) -> tuple[tuple[str, str], ...]:
        """(label, method) per segment when there is more than one."""
        if len(self.parts) < 2:
            return ()
        return tuple((v.label, method) for v, method in self.parts)


def attempt_label(attempt: AttemptStarted, number: int) -> str:
    """A divider's words, numbered like the attempts table (from 1): "attempt 2: retry after
    1.00 s (http_error/rate_limited)"."""
    kind = {"more_tokens": "retry with more tokens"}.get(attempt.kind, attempt.kind)
    waited = f" after {attempt.waited_s:.2f} s" if attempt.waited_s else ""
    why = f" ({attempt.reason})" if attempt.reason and attempt.reason != attempt.kind else ""
    return f"attempt {number}: {kind}{waited}{why}"

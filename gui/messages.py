"""What the controller tells the views besides core's own events: a session starting and
the verdict to show. Frozen data; widgets import this, never the controller."""

from __future__ import annotations

from dataclasses import dataclass

from core import RunSpec, Verdict

__all__ = ["SessionOutcome", "SessionStart"]


@dataclass(frozen=True, slots=True)
class SessionStart:
    kind: str  # first | retry | continue | more_tokens | replay
    fresh: bool  # True: views clear; False: the run continues the same views and time axis
    spec: RunSpec | None
    source: str = ""  # for a replay: what was opened


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    """The verdict the panel shows: the final segment's, with the stitched text."""

    verdict: Verdict
    segments: tuple[tuple[str, str], ...] = ()  # (verdict label, continuation method)
    notes: tuple[str, ...] = ()
    continue_blocked: str | None = None  # why Continue cannot run, for its tooltip
    replay_kind: str | None = None

"""The one rule that decides every run action's state — the Run and File menus, the verdict
panel's buttons, the request pane's Stop and their shortcuts alike (pure; no Qt).

The window gathers a `WindowState` whenever something it depends on changes (busy, a verdict,
a replay, the breaker ticking, a save) and applies `decide_actions` to every control."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ActionState", "WindowState", "decide_actions"]


@dataclass(frozen=True, slots=True)
class WindowState:
    busy: bool = False  # a run is streaming
    live: bool = False  # the views show a live run (not an opened file or a pasted log)
    verdict_actions: tuple[str, ...] = ()  # the shown verdict's recovery actions
    has_spec: bool = False  # a request was sent: Retry re-sends it
    has_session: bool = False  # a finished session: Continue resumes it
    continue_blocked: str | None = None  # why Continue cannot run (core says)
    recorded: bool = False  # the shown run has a saved-run file to copy
    has_timings: bool = False  # the graph has something to export
    breaker_open_s: float | None = None  # the last run's provider: seconds until a probe
    breaker_name: str = ""
    breaker_tripped: bool = False  # the current provider's breaker has failures or is open
    explanation: str = ""  # the shown verdict's evidence (why an action is not offered)


@dataclass(frozen=True, slots=True)
class ActionState:
    enabled: bool
    tip: str = ""
    text: str = ""  # a button's text when it must say more than its name ("" = its name)


_NAMES = {"retry": "Retry", "continue": "Continue", "more_tokens": "More tokens"}
_VERDICT_KEY = {"retry": "retry", "continue": "continue", "more_tokens": "retry_more_tokens"}
_TIPS = {
    "retry": "Send the same request again",
    "continue": "Continue from where the reply stopped",
    "more_tokens": "Retry with max tokens doubled (capped)",
}


def _recovery(s: WindowState, key: str) -> ActionState:
    tip = _TIPS[key]
    if s.busy:
        return ActionState(False, "A run is streaming: Stop it first (Esc)")
    if not s.live:
        return ActionState(False, "Only a live run can be recovered; this one was opened")
    if _VERDICT_KEY[key] not in s.verdict_actions:
        why = f": {s.explanation}" if s.explanation else ""
        return ActionState(False, f"Not offered for this verdict{why}")
    if key == "continue" and (not s.has_session or s.continue_blocked):
        return ActionState(False, f"Cannot continue: {s.continue_blocked or 'nothing to resume'}")
    if key != "continue" and not s.has_spec:
        return ActionState(False, "Nothing was sent yet")
    if s.breaker_open_s is not None:
        wait = f"{s.breaker_open_s:.0f} s"
        return ActionState(
            False,
            f"The circuit breaker for {s.breaker_name} is open: it lets one probe through in "
            f"{wait}, or reset it now (Run → Reset circuit breaker)",
            f"{_NAMES[key]} in {wait}",
        )
    return ActionState(True, tip)


def decide_actions(s: WindowState) -> dict[str, ActionState]:
    states = {key: _recovery(s, key) for key in _NAMES}
    states["stop"] = ActionState(s.busy, "Stop the stream, keeping what came (Esc)")
    if s.busy:
        save = ActionState(False, "A run is streaming: save it when it ends")
    elif not s.live or not s.recorded:
        save = ActionState(False, "Only a live run is saved; an opened file is already stored")
    else:
        save = ActionState(True, "Save the run as JSON Lines (diagnose and Open read it back)")
    states["save"] = save
    states["export"] = ActionState(
        s.has_timings, "Export the graph as PNG" if s.has_timings else "No timings to export"
    )
    states["panel_reset"] = ActionState(s.breaker_open_s is not None, "Reset the breaker now")
    states["reset_breaker"] = ActionState(
        s.breaker_tripped or s.breaker_open_s is not None,
        "Close the circuit breaker now, forgetting its recent failures",
    )
    return states

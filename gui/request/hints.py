"""What the request pane says about itself (pure; no Qt): the watchdogs beside Send and their
countdown while a run streams, the max-token limit a mock scenario needs to show its ending,
and which field an unbuildable request's message points at."""

from __future__ import annotations

from core import Progress

__all__ = [
    "ERROR_FIELDS",
    "LOW_MAX_TOKENS",
    "countdown_text",
    "low_max_tokens",
    "watchdog_text",
]

# SpecError messages start with the field's name (gui.request.build): the pane's attribute
ERROR_FIELDS = {
    "Prompt": "prompt",
    "Tools": "tools_json",
    "Extra parameters": "extra_json",
    "Base URL": "base_url",
    "Model": "model",
    "API key": "key_env",
    "Provider": "provider",
}

# Scenarios whose ending needs a max-token limit below the reply: choosing one sets it.
LOW_MAX_TOKENS = {"max_tokens": 100, "tool_call_truncated": 100}


def low_max_tokens(scenario: str, reply_tokens: int) -> int | None:
    """The max tokens that make the scenario's cut happen: 100, or half a shorter reply
    (tool_call_truncated's ~150 argument fragments do not depend on the reply length)."""
    low = LOW_MAX_TOKENS.get(scenario)
    if low is None or scenario != "max_tokens":
        return low
    return max(1, min(low, reply_tokens // 2))


def watchdog_text(first_byte_s: float, stall_s: float) -> str:
    """The active watchdogs, shown beside Send (the timeouts themselves sit under Advanced)."""
    parts = [
        f"{name} {value:g} s"
        for name, value in (("first byte", first_byte_s), ("stall", stall_s))
        if value
    ]
    return "Watchdogs: " + (" · ".join(parts) if parts else "off (no time limit)")


def countdown_text(p: Progress, first_byte_s: float | None, stall_s: float | None) -> str:
    """The time left before a watchdog ends the run, from core's live figures."""
    if p.state in ("connecting", "waiting"):
        if not first_byte_s:
            return "No first-byte timeout"
        return f"First-byte timeout in {max(0.0, first_byte_s - p.t_ns / 1e9):.0f} s"
    if not stall_s:
        return "No stall timeout"
    since = p.since_last_content_ms
    if since is None:
        since = p.since_last_byte_ms or 0.0
    left = max(0.0, stall_s - since / 1000)
    return f"Stall timeout in {left:.1f} s" if left < 10 else f"Stall timeout in {left:.0f} s"

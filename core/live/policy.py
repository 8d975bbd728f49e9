"""Retry policy as data, and a pure `decide()` (the SDKs' defaults: 0.5 s initial, 8 s max,
jitter, Retry-After honoured up to 60 s)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from core.stream.outcome import Verdict

__all__ = ["Retry", "RetryPolicy", "Stop", "decide"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3  # retries after the first try
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    jitter: float = 0.25  # ± fraction of the backoff
    honour_retry_after: bool = True
    retry_after_cap_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Retry:
    delay_s: float
    reason: str


@dataclass(frozen=True, slots=True)
class Stop:
    reason: str


def decide(
    verdict: Verdict, attempt: int, rng: random.Random, policy: RetryPolicy = RetryPolicy()
) -> Retry | Stop:
    """`attempt` counts retries already made (0 after the first try)."""
    if "retry" not in verdict.actions:
        return Stop(f"{verdict.label} is not retryable")
    if verdict.outcome == "interrupted" and verdict.detail == "cancelled":
        return Stop("cancelled by the user")
    if attempt >= policy.attempts:
        return Stop(f"gave up after {attempt + 1} attempts")
    retry_after = verdict.http.retry_after_s if verdict.http else None
    if policy.honour_retry_after and retry_after is not None:
        if retry_after > policy.retry_after_cap_s:
            return Retry(
                policy.retry_after_cap_s,
                f"Retry-After {retry_after:g} s capped at {policy.retry_after_cap_s:g} s",
            )
        return Retry(retry_after, f"Retry-After {retry_after:g} s honoured")
    backoff = min(policy.max_backoff_s, policy.initial_backoff_s * 2**attempt)
    delay = max(0.0, backoff * (1 + rng.uniform(-policy.jitter, policy.jitter)))
    return Retry(delay, f"backoff {delay:.2f} s after {verdict.label}")

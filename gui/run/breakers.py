"""One circuit breaker per provider profile (core.live.breaker), kept for the window's lifetime,
and the status-bar sentence for one. No Qt: the controller owns a `Breakers`, the window
reads it."""

from __future__ import annotations

import time
from collections.abc import Callable

# Not re-exported by `core` (yet): the brief names core.live.breaker directly.
from core import BreakerState, CircuitBreaker

__all__ = ["BreakerState", "Breakers", "describe_breaker"]


class Breakers:
    """Breakers by profile name (`RunSpec.profile`), made on first use with core's
    defaults (5 failures within 5 minutes open it for 30 s). `clock` is the one
    `run_session` uses (`time.monotonic`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, **settings: float) -> None:
        self._clock = clock
        self._settings = settings
        self._by_name: dict[str, CircuitBreaker] = {}

    def for_profile(self, name: str) -> CircuitBreaker:
        breaker = self._by_name.get(name)
        if breaker is None:
            breaker = self._by_name[name] = CircuitBreaker(**self._settings)  # type: ignore[arg-type]
        return breaker

    def put(self, name: str, breaker: CircuitBreaker) -> None:
        """Take back the breaker a run used in the engine process (it travels by value)."""
        self._by_name[name] = breaker

    def state(self, name: str) -> BreakerState:
        breaker = self._by_name.get(name)
        if breaker is None:
            return BreakerState("closed", 0, 0.0)
        return breaker.state(self._clock())

    def reset(self, name: str) -> None:
        breaker = self._by_name.get(name)
        if breaker is not None:
            breaker.reset()


def describe_breaker(name: str, state: BreakerState) -> str:
    """For the status bar, e.g. "Circuit breaker (Mock): open · half-open in 27 s"."""
    head = f"Circuit breaker ({name}): "
    if state.state == "open":
        return head + f"OPEN · requests refused · probe allowed in {state.retry_in_s:.0f} s"
    if state.state == "half_open":
        return head + "half-open · the next request is a probe"
    if state.failures:
        plural = "s" if state.failures != 1 else ""
        return head + f"closed · {state.failures} recent failure{plural}"
    return head + "closed"

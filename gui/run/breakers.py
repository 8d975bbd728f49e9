"""Circuit breakers (core.live.breaker) keyed by provider profile and base URL, kept for the
window's lifetime, and the status-bar sentence for one. The built-in mock is exempt: it plays
faults on purpose, and a breaker would only get in the way of testing them. No Qt: the
controller owns a `Breakers`, the window reads it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from core import BreakerBook, BreakerState, CircuitBreaker, RunSpec, breaker_key

__all__ = ["BreakerState", "Breakers", "describe_breaker"]


class Breakers(BreakerBook):
    """Core's breakers by profile and base URL (`breaker_key`), made on first use with core's
    defaults (5 failures within 5 minutes open it for 30 s), plus the window's one rule: base
    URLs passed to `exempt` (the built-in mock's) get none. `clock` is the one `run_session`
    uses (`time.monotonic`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, **settings: float) -> None:
        super().__init__(clock, **settings)
        self._exempt: set[str] = set()

    def exempt(self, base_urls: Iterable[str]) -> None:
        self._exempt.update(_norm(u) for u in base_urls)

    def is_exempt(self, base_url: str) -> bool:
        return _norm(base_url) in self._exempt or base_url.strip() == "mock"

    def for_spec(self, spec: RunSpec) -> CircuitBreaker | None:
        """The breaker a run goes through, or None for the built-in mock."""
        if self.is_exempt(spec.base_url):
            return None
        return self.for_run(spec.profile, spec.base_url)

    @staticmethod
    def key_of(spec: RunSpec) -> str:
        return breaker_key(spec.profile, spec.base_url)

    def state(self, profile: str, base_url: str) -> BreakerState | None:  # type: ignore[override]
        """None when exempt; closed when no run went there yet."""
        if self.is_exempt(base_url):
            return None
        return super().state(profile, base_url)


def _norm(url: str) -> str:
    return url.strip().rstrip("/")


def describe_breaker(name: str, state: BreakerState | None) -> str:
    """For the status bar, e.g. "Circuit breaker (Mock): open · half-open in 27 s"."""
    head = f"Circuit breaker ({name}): "
    if state is None:
        return head + "off for the built-in mock (it plays faults on purpose)"
    if state.state == "open":
        return head + f"OPEN · requests refused · probe allowed in {state.retry_in_s:.0f} s"
    if state.state == "half_open":
        return head + "half-open · the next request is a probe"
    if state.failures:
        plural = "s" if state.failures != 1 else ""
        return head + f"closed · {state.failures} recent failure{plural}"
    return head + "closed"

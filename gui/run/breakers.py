"""Circuit breakers (core.live.breaker) keyed by provider profile and base URL, kept for the
window's lifetime, and the status-bar sentence for one. The built-in mock is exempt: it plays
faults on purpose, and a breaker would only get in the way of testing them. No Qt: the
controller owns a `Breakers`, the window reads it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from core import BreakerState, CircuitBreaker, RunSpec

__all__ = ["BreakerState", "Breakers", "describe_breaker"]

Key = tuple[str, str]  # (profile name, base URL)


class Breakers:
    """Breakers by (`RunSpec.profile`, base URL), made on first use with core's defaults
    (5 failures within 5 minutes open it for 30 s). `clock` is the one `run_session` uses
    (`time.monotonic`). Base URLs passed to `exempt` (the built-in mock's) get none."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, **settings: float) -> None:
        self._clock = clock
        self._settings = settings
        self._by_key: dict[Key, CircuitBreaker] = {}
        self._exempt: set[str] = set()

    def exempt(self, base_urls: Iterable[str]) -> None:
        self._exempt.update(_norm(u) for u in base_urls)

    def is_exempt(self, base_url: str) -> bool:
        return _norm(base_url) in self._exempt or base_url.strip() == "mock"

    def for_spec(self, spec: RunSpec) -> CircuitBreaker | None:
        """The breaker a run goes through, or None for the built-in mock."""
        if self.is_exempt(spec.base_url):
            return None
        key = self.key_of(spec)
        breaker = self._by_key.get(key)
        if breaker is None:
            breaker = self._by_key[key] = CircuitBreaker(**self._settings)  # type: ignore[arg-type]
        return breaker

    @staticmethod
    def key_of(spec: RunSpec) -> Key:
        return (spec.profile, _norm(spec.base_url))

    def put(self, key: Key, breaker: CircuitBreaker) -> None:
        """Take back the breaker a run used in the engine process (it travels by value)."""
        self._by_key[key] = breaker

    def state(self, profile: str, base_url: str) -> BreakerState | None:
        """None when exempt; closed when no run went there yet."""
        if self.is_exempt(base_url):
            return None
        breaker = self._by_key.get((profile, _norm(base_url)))
        if breaker is None:
            return BreakerState("closed", 0, 0.0)
        return breaker.state(self._clock())

    def reset(self, profile: str, base_url: str) -> None:
        breaker = self._by_key.get((profile, _norm(base_url)))
        if breaker is not None:
            breaker.reset()


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

"""Per-provider circuit breaker: K failures within a window open it; after a cool-down one
probe request goes through (half-open) and its verdict closes or reopens it. Pure: the
caller passes the time."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from core.stream.outcome import Verdict

__all__ = ["BreakerBook", "BreakerState", "CircuitBreaker", "breaker_key"]

_FAILURES = ("http_error", "upstream_error", "interrupted", "protocol_error")


@dataclass(frozen=True, slots=True)
class BreakerState:
    state: str  # closed | open | half_open
    failures: int
    retry_in_s: float  # until half-open (0 unless open)


@dataclass(slots=True)
class CircuitBreaker:
    threshold: int = 5
    window_s: float = 300.0
    cooldown_s: float = 30.0
    _failures: deque[float] = field(default_factory=deque)
    _opened_at: float | None = None
    _probing: bool = False

    def state(self, now: float) -> BreakerState:
        self._trim(now)
        if self._opened_at is None:
            return BreakerState("closed", len(self._failures), 0.0)
        left = self._opened_at + self.cooldown_s - now
        if left > 0:
            return BreakerState("open", len(self._failures), left)
        return BreakerState("half_open", len(self._failures), 0.0)

    def allow(self, now: float) -> bool:
        """May a request go out now? In half-open, only one probe at a time."""
        st = self.state(now).state
        if st == "closed":
            return True
        if st == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def record(self, verdict: Verdict, now: float) -> None:
        was_probe = self._probing
        self._probing = False
        if verdict.outcome == "interrupted" and verdict.detail == "cancelled":
            return  # the user's doing, not the provider's
        if verdict.outcome not in _FAILURES:
            if was_probe:
                self.reset()
            return
        self._failures.append(now)
        self._trim(now)
        if was_probe or len(self._failures) >= self.threshold:
            self._opened_at = now

    def reset(self) -> None:
        self._failures.clear()
        self._opened_at = None
        self._probing = False

    def _trim(self, now: float) -> None:
        while self._failures and now - self._failures[0] > self.window_s:
            self._failures.popleft()


def breaker_key(profile: str, base_url: str) -> str:
    """What a breaker is kept by: the profile AND the server it talks to, so "Custom" (one
    profile, any URL) opens a breaker per URL, never one for every server. The URL is
    reduced to scheme, host, port and path (no password, no query), e.g.
    `Custom @ https://relay.example/v1`."""
    try:
        parts = urlsplit(base_url.strip())
        host = (parts.hostname or "").lower()
        port = f":{parts.port}" if parts.port else ""
        where = f"{parts.scheme.lower()}://{host}{port}{parts.path.rstrip('/')}"
    except ValueError:
        where = base_url.strip().split("?", 1)[0].rpartition("@")[2]
    return f"{profile} @ {where}"


class BreakerBook:
    """Breakers by `breaker_key(profile, base_url)`, made on first use with the given
    settings; `clock` is the one `run_session` uses."""

    def __init__(self, clock: Callable[[], float], **settings: float) -> None:
        self._clock = clock
        self._settings = settings
        self._by_key: dict[str, CircuitBreaker] = {}

    def for_run(self, profile: str, base_url: str) -> CircuitBreaker:
        key = breaker_key(profile, base_url)
        breaker = self._by_key.get(key)
        if breaker is None:
            breaker = self._by_key[key] = CircuitBreaker(**self._settings)  # type: ignore[arg-type]
        return breaker

    def put(self, key: str, breaker: CircuitBreaker) -> None:
        """Keep `breaker` under `key` (a breaker that went to another process by value and
        came back with what it recorded)."""
        self._by_key[key] = breaker

    def state(self, profile: str, base_url: str) -> BreakerState:
        breaker = self._by_key.get(breaker_key(profile, base_url))
        if breaker is None:
            return BreakerState("closed", 0, 0.0)
        return breaker.state(self._clock())

    def reset(self, profile: str, base_url: str) -> None:
        breaker = self._by_key.get(breaker_key(profile, base_url))
        if breaker is not None:
            breaker.reset()

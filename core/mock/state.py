"""What a running mock keeps between requests (`MockState`): kept apart from the aiohttp server
so a mock can be set up, and its port known, before aiohttp is imported."""

from __future__ import annotations

import hashlib
import itertools
import time

from .scenarios import FAULT_SCENARIOS, Params

__all__ = ["WRITE_LOG_LIMIT", "MockState"]

WRITE_LOG_LIMIT = 500_000  # entries; the oldest half is dropped past it


class MockState:
    """What lives as long as the server: counters, fail_first counts, responses, write log."""

    def __init__(self, defaults: Params) -> None:
        self.defaults = defaults
        self.counter = itertools.count(1)
        self.fail_counts: dict[str, int] = {}
        self.responses: dict[str, str] = {}  # Responses id → assistant text up to its end
        self.write_log: list[tuple[int, str, int]] = []
        # (began, returned, request id, bytes) per streamed write: the bytes left within this
        # span. A server preempted between its clock read and its send (the reader it woke
        # takes the core) widens the span; a timing bench needs it to tell that from error.
        self.write_spans: list[tuple[int, int, str, int]] = []

    def log(self, request_id: str, nbytes: int) -> int:
        began = time.monotonic_ns()
        self.write_log.append((began, request_id, nbytes))
        if len(self.write_log) > WRITE_LOG_LIMIT:  # a long-lived in-process mock (the GUI)
            del self.write_log[: WRITE_LOG_LIMIT // 2]
        return began

    def sent(self, began: int, request_id: str, nbytes: int) -> None:
        self.write_spans.append((began, time.monotonic_ns(), request_id, nbytes))
        if len(self.write_spans) > WRITE_LOG_LIMIT:
            del self.write_spans[: WRITE_LOG_LIMIT // 2]

    def played(self, scenario: str, params: Params, fingerprint: str) -> str:
        """The scenario to play once ``fail_first`` is counted."""
        if scenario not in FAULT_SCENARIOS or params.fail_first == 0:
            return scenario
        key = hashlib.sha256(f"{scenario}\n{fingerprint}".encode()).hexdigest()
        self.fail_counts[key] = count = self.fail_counts.get(key, 0) + 1
        return scenario if count <= params.fail_first else "normal"

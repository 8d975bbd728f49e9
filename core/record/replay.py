"""Replay a run that already happened at its recorded pace: 1×, 2×, 5× or instant.

`aiter_replay(replay)` feeds each attempt's recorded chunks through the same pipeline a live
run uses, sleeping the recorded gap (divided by the speed) before each read, and yields what
the live runner yields: `ChunkReceived`, the wire and stream events it completed, a
`ReplayAttempt` before each attempt and a `ReplayFinished` with the verdict at the end. The
sleep is injectable, so tests replay instantly and check the requested delays.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.record.diagnose import Replay
from core.stream.events import ChunkReceived
from core.stream.outcome import Verdict
from core.stream.pipeline import Pipeline
from core.stream.stamps import RunStamps, StampCollector

__all__ = ["SPEEDS", "ReplayAttempt", "ReplayFinished", "aiter_replay", "stamps_of"]

SPEEDS = (1.0, 2.0, 5.0, None)  # None: instant, no delays


@dataclass(frozen=True, slots=True)
class ReplayAttempt:
    attempt: int
    segment: int
    offset_ns: int  # where this attempt's t0 sits on the session's time axis
    verdict: Verdict  # this attempt's own (lands at its end in a live run)


@dataclass(frozen=True, slots=True)
class ReplayFinished:
    verdict: Verdict  # the whole session's
    attempt_verdicts: tuple[Verdict, ...]


async def aiter_replay(
    replay: Replay,
    speed: float | None = 1.0,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> AsyncIterator[Any]:
    runs = replay.runs or [replay]
    offset = 0
    for run in runs:
        yield ReplayAttempt(run.attempt, run.segment, offset, run.verdict)
        pipe = Pipeline(run.dialect)
        previous = 0
        for index, (t_ns, data) in enumerate(run.chunks):
            gap = max(0, t_ns - previous)
            previous = max(previous, t_ns)
            if speed and gap:
                await sleep(gap / 1e9 / speed)
            yield ChunkReceived(index, len(data), data, t_ns)
            step = pipe.feed(data, t_ns, index)
            for event in (*step.wire, *step.events):
                yield event
        tail = pipe.close(previous)
        for event in (*tail.wire, *tail.events):
            yield event
        total = run.verdict.metrics.total_ms
        offset += int(total * 1e6) if total else previous
    yield ReplayFinished(replay.verdict, tuple(r.verdict for r in runs))


def stamps_of(replay: Replay) -> RunStamps:
    """A recorded session's stamps (its last attempt's, as a live race keeps them), so stored
    runs can be compared under any metric definition."""
    run = (replay.runs or [replay])[-1]
    collector = StampCollector(run.dialect)
    for index, (t_ns, data) in enumerate(run.chunks):
        collector.feed(ChunkReceived(index, len(data), data, t_ns))
    for item in (*run.wire, *run.events):
        collector.feed(item)
    total = run.verdict.metrics.total_ms
    end = int(total * 1e6) if total is not None else None
    return collector.build(end, run.verdict.output_tokens)

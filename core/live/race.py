"""A race: 2–16 lanes, each a full request, sent together (or one after another) K times.

    race = Race(RacePlan(lanes, mode="race", repeat=5))
    async for event in race.events():      # on the loop that owns the client
        ...                                # RoundStarted, LaneEvent, LaneRunFinished, ...
    race.stop()                            # from anywhere on that loop: stops every lane
    race.result.stats(lane, "vllm")        # any definition, recomputed from the stamps

Events, in arrival order (all frozen):
    RoundStarted(index)
    LaneEvent(lane, round, event)     every event of that lane's session, unchanged
                                      (AttemptStarted, RequestSent, ChunkReceived, TextDelta,
                                      Progress, RunFinished, SessionFinished, ...)
    LaneRunFinished(run)              a `LaneRun`: the session's verdict, its stamps, t0
    RoundFinished(index, skew_ms, t0_offsets_ms)
    RaceFinished(result)              always last, also after stop()

`race` mode: every lane connects first and holds its request headers at a `StartGate`; when
all lanes are connected the gate opens and every lane writes its headers on the same loop turn.
The skew is measured from each lane's t0 (httpx's send_request_headers trace, DESIGN §4).
`sequential` mode: one lane after another, so lanes never share the network or a rate limit.

Every run is a full `run_session` with its own verdict; a lane's failure (429, a reset, a
refused connection) is that lane's verdict and never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.live import netreader
from core.live.gate import StartGate
from core.live.runner import Clock, RunFinished, new_client
from core.live.session import AttemptStarted, SessionFinished, run_session
from core.providers.pricing import Cost, Price, run_cost
from core.record.savefile import Recorder, RunRecorder, TeeRecorder
from core.stream.outcome import Verdict
from core.stream.spec import RunSpec
from core.stream.stamps import RunStamps, StampCollector
from core.stream.stats import LaneStats, lane_stats

__all__ = [
    "MODES",
    "Lane",
    "LaneEvent",
    "LaneRun",
    "LaneRunFinished",
    "Race",
    "RaceFinished",
    "RacePlan",
    "RaceResult",
    "RoundFinished",
    "RoundStarted",
]

MODES = ("race", "sequential")
MIN_LANES, MAX_LANES = 2, 16


@dataclass(frozen=True, slots=True)
class Lane:
    label: str
    spec: RunSpec
    price: Price | None = None  # the profile's own price; else genai-prices, else unknown
    retries: int = 0  # per run, under the default RetryPolicy (a retried run is one run)


@dataclass(frozen=True, slots=True)
class RacePlan:
    lanes: tuple[Lane, ...]
    mode: str = "race"
    repeat: int = 1
    pause_s: float = 0.0  # between rounds
    gate_hold_s: float = 15.0  # the gate opens after this even if a lane never connected

    def __post_init__(self) -> None:
        if not MIN_LANES <= len(self.lanes) <= MAX_LANES:
            raise ValueError(f"a race needs {MIN_LANES}–{MAX_LANES} lanes, not {len(self.lanes)}")
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.repeat < 1:
            raise ValueError("repeat must be at least 1")
        if not self.pause_s >= 0 or any(lane.retries < 0 for lane in self.lanes):
            raise ValueError("pause and retries must be >= 0")
        labels = [lane.label for lane in self.lanes]
        if len(set(labels)) != len(labels):
            raise ValueError("lane labels must differ")


@dataclass(frozen=True, slots=True)
class LaneRun:
    lane: int
    round: int
    verdict: Verdict  # the session's (DESIGN §6), with StreamScope's own metrics
    stamps: RunStamps  # the last attempt's, for any metric definition
    t0_abs_ns: int | None  # the first attempt's t0 on the race clock (None: never sent)
    saved: str | None = None  # the saved-run file, with --save / save_dir


@dataclass(frozen=True, slots=True)
class RoundStarted:
    index: int


@dataclass(frozen=True, slots=True)
class RoundFinished:
    index: int
    skew_ms: float | None  # race mode: latest t0 − earliest t0 of the lanes that sent
    t0_offsets_ms: tuple[float | None, ...]  # each lane's t0 after the earliest


@dataclass(frozen=True, slots=True)
class LaneEvent:
    lane: int
    round: int
    event: Any


@dataclass(frozen=True, slots=True)
class LaneRunFinished:
    run: LaneRun


@dataclass(frozen=True, slots=True)
class RaceResult:
    plan: RacePlan
    rounds: tuple[RoundFinished, ...] = ()
    runs: tuple[LaneRun, ...] = ()
    stopped: bool = False

    def lane_runs(self, lane: int) -> tuple[LaneRun, ...]:
        return tuple(r for r in self.runs if r.lane == lane)

    def stats(
        self,
        lane: int,
        definition: str = "streamscope",
        include: tuple[str, ...] = ("successful",),
    ) -> LaneStats:
        """That lane's statistics under `definition` (pure: switch freely)."""
        pairs = ((r.verdict, r.stamps) for r in self.lane_runs(lane))
        return lane_stats(pairs, definition, include)

    def run_cost(self, run: LaneRun) -> Cost | None:
        """Computed on demand, never while lanes stream (the price data loads slowly once)."""
        lane = self.plan.lanes[run.lane]
        return run_cost(
            model=lane.spec.model,
            base_url=lane.spec.base_url,
            input_tokens=run.verdict.input_tokens,
            output_tokens=run.verdict.output_tokens,
            override=lane.price,
        )

    def lane_cost(self, lane: int) -> dict[str, Any] | None:
        """`{"mean_usd", "total_usd", "source"}` over the runs whose cost is known, or None."""
        costs = [c for c in map(self.run_cost, self.lane_runs(lane)) if c is not None]
        if not costs:
            return None
        total = sum(c.usd for c in costs)
        return {
            "mean_usd": round(total / len(costs), 8),
            "total_usd": round(total, 8),
            "source": costs[-1].describe(),
        }


@dataclass(frozen=True, slots=True)
class RaceFinished:
    result: RaceResult


_DONE = object()


@dataclass
class Race:
    """One race over `plan`. `events()` drives it; `stop()` ends every lane (each stopped run
    is `interrupted/cancelled`) and skips the rounds not started."""

    plan: RacePlan
    client: httpx.AsyncClient | None = None
    clock: Clock = time.monotonic_ns
    save_dir: Path | None = None  # one saved-run file per run (probe's format)
    # a history recorder per run, given the run and its lane's own price (None: none)
    history: Callable[[RunSpec, Price | None], Recorder] | None = None
    result: RaceResult = field(init=False)

    def __post_init__(self) -> None:
        self.result = RaceResult(self.plan)
        self._cancel: asyncio.Event | None = None
        self._stop_requested = False

    def stop(self) -> None:
        self._stop_requested = True
        if self._cancel is not None:
            self._cancel.set()

    @property
    def stopped(self) -> bool:
        return self._stop_requested

    async def events(self) -> AsyncIterator[Any]:
        self._cancel = asyncio.Event()
        if self._stop_requested:
            self._cancel.set()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        own_client = self.client is None
        client = new_client(read_thread=True) if own_client else self.client
        if own_client:
            await netreader.started()  # before any lane's clock starts
        driver = asyncio.ensure_future(self._drive(queue, client))
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                yield item
            await driver  # re-raises a bug inside the race, never a lane's failure
        finally:
            if not driver.done():
                self.stop()
                driver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await driver
            if own_client and client is not None:
                await client.aclose()
        yield RaceFinished(self.result)

    async def _drive(self, queue: asyncio.Queue[Any], client: httpx.AsyncClient | None) -> None:
        try:
            for index in range(self.plan.repeat):
                if self._stop_requested:
                    break
                if index and self.plan.pause_s and await self._pause():
                    break
                queue.put_nowait(RoundStarted(index))
                done = await self._round(index, queue, client)
                finished = _round_finished(index, done, self.plan.mode)
                self.result = RaceResult(
                    self.plan,
                    (*self.result.rounds, finished),
                    self.result.runs,
                    self._stop_requested,
                )
                queue.put_nowait(finished)
        finally:
            self.result = RaceResult(
                self.plan, self.result.rounds, self.result.runs, self._stop_requested
            )
            queue.put_nowait(_DONE)

    async def _pause(self) -> bool:
        """Wait between rounds; True when stopped meanwhile."""
        assert self._cancel is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._cancel.wait(), self.plan.pause_s)
        return self._stop_requested

    async def _round(
        self, index: int, queue: asyncio.Queue[Any], client: httpx.AsyncClient | None
    ) -> list[LaneRun]:
        lanes = range(len(self.plan.lanes))
        if self.plan.mode == "sequential":
            runs = []
            for lane in lanes:
                if self._stop_requested:
                    break
                runs.append(await self._lane(lane, index, queue, client, None))
            return runs
        gate = StartGate(len(self.plan.lanes), self.plan.gate_hold_s)
        tasks = [
            asyncio.ensure_future(self._lane(lane, index, queue, client, gate)) for lane in lanes
        ]
        try:
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for task in tasks:
                task.cancel()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return [o for o in outcomes if isinstance(o, LaneRun)]

    async def _lane(
        self,
        lane: int,
        index: int,
        queue: asyncio.Queue[Any],
        client: httpx.AsyncClient | None,
        gate: StartGate | None,
    ) -> LaneRun:
        spec, retries = self.plan.lanes[lane].spec, self.plan.lanes[lane].retries
        ticket = gate.ticket() if gate is not None else None
        collector = StampCollector(spec.dialect)
        path = self._save_path(lane, index)
        saved_file = RunRecorder(path.with_name(path.name + ".partial")) if path else None
        price = self.plan.lanes[lane].price
        kept = self.history(spec, price) if self.history is not None else None
        recorder = TeeRecorder(saved_file, kept) if saved_file or kept else None
        first_t0: int | None = None
        last: RunFinished | None = None
        finished: SessionFinished | None = None
        try:
            async for event in run_session(
                spec,
                retries=retries,
                cancel=self._cancel,
                recorder=recorder,
                client=client,
                clock=self.clock,
                gate=ticket,
            ):
                if isinstance(event, AttemptStarted):
                    collector.reset()
                elif isinstance(event, RunFinished):
                    last = event
                    if first_t0 is None:
                        first_t0 = event.t0_abs_ns
                elif isinstance(event, SessionFinished):
                    finished = event
                else:
                    collector.feed(event)
                queue.put_nowait(LaneEvent(lane, index, event))
        finally:
            if ticket is not None:
                ticket.leave()
            if recorder is not None:
                recorder.close()
        assert finished is not None and last is not None
        saved = None
        if path is not None:
            os.replace(path.with_name(path.name + ".partial"), path)
            saved = str(path)
        stamps = collector.build(last.total_ns, last.verdict.output_tokens)
        run = LaneRun(lane, index, finished.verdict, stamps, first_t0, saved)
        self.result = RaceResult(
            self.plan, self.result.rounds, (*self.result.runs, run), self._stop_requested
        )
        queue.put_nowait(LaneRunFinished(run))
        return run

    def _save_path(self, lane: int, index: int) -> Path | None:
        if self.save_dir is None:
            return None
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", self.plan.lanes[lane].label).strip("-") or "lane"
        return Path(self.save_dir) / f"round{index + 1:02d}-lane{lane + 1:02d}-{slug}.jsonl"


def _round_finished(index: int, runs: list[LaneRun], mode: str) -> RoundFinished:
    by_lane = {r.lane: r.t0_abs_ns for r in runs}
    sent = [t for t in by_lane.values() if t is not None]
    lanes = max(by_lane, default=-1) + 1
    if not sent:
        return RoundFinished(index, None, tuple(None for _ in range(lanes)))
    first = min(sent)
    offsets = tuple(
        None if by_lane.get(i) is None else (by_lane[i] - first) / 1e6  # type: ignore[operator]
        for i in range(lanes)
    )
    skew = (max(sent) - first) / 1e6 if mode == "race" else None
    return RoundFinished(index, skew, offsets)

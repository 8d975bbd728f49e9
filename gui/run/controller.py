"""RunController: runs sessions in core's network engine (a child process, `EngineClient`:
reads and stamps there never wait for the window), polls it once a frame and relays its
batches of events as Qt signals; keeps the circuit breaker of each provider profile and the
last finished session, which Continue resumes (`run_session(previous=...)`).

One run is current at a time: a new one first stops the current one (it ends as
interrupted/cancelled, and the views see that) and starts when the engine says it is done.
If the engine dies, the current run ends as `interrupted/engine_failed` and the next run
starts a new engine. The profiles dialog's probes (`ProbeTasks`) stay on qasync's loop: they
time nothing. Events reach the views through `EventRelay`'s signals.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from core import (
    AttemptStarted,
    CannotContinue,
    ChunkBatch,
    DeltaBatch,
    EngineClient,
    RunSpec,
    SessionFinished,
    WireBatch,
    build_continuation,
    engine_failed,
    more_tokens,
)
from gui.profiles.probes import ProbeTasks
from gui.run.breakers import Breakers
from gui.run.messages import SessionOutcome, SessionStart
from gui.run.relay import FLUSH_MS, EventRelay

if TYPE_CHECKING:
    from core import Price, Replay  # Replay: core.record.diagnose, loaded when a file is opened

__all__ = ["FLUSH_MS", "RunController"]

log = logging.getLogger(__name__)

# A frame's share of work on the engine's messages, the views' work on them included (it
# grows with what was relayed, text layout above all): what is left waits for the next
# frame (and the engine for room), so a backlog never freezes the window for a long frame.
# Each slice is shown before the clock is read; flushing once a frame, after the relay,
# left the views' work outside the budget and made 20-30 ms frames on a fast stream.
PUMP_BUDGET_S = 0.010
# and at most this many events a frame whatever the clock says; 60 frames a second of it
# is still ~60,000 tokens a second
PUMP_EVENTS = 2048
_SLICE = 256  # events relayed and shown between two looks at the clock
_BATCHES = (ChunkBatch, WireBatch, DeltaBatch)


@dataclass(slots=True)
class _Run:
    """The engine's run the views are showing."""

    run_id: int
    spec: RunSpec
    kind: str
    fresh: bool
    base_ns: int  # its session's t0 on the views' time axis
    started: bool = False  # session_started emitted
    finished: bool = False  # its SessionFinished arrived


class RunController(EventRelay):
    run_stored = Signal(int)  # the session's run id in the history store

    def __init__(self, client: Any, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runs_dir = data_dir / "runs"
        self.history_path: Path | None = data_dir / "history.sqlite3"  # None: keep no history
        self.history_id: int | None = None  # the shown session's run in the history
        self.history_error: str | None = None  # why the last run was not kept
        # a run's profile's own price (the window sets it from its profiles), for its cost
        self.price_of: Callable[[RunSpec], Price | None] = lambda _spec: None
        # the answer shown so far (the window sets it to its stream view's): what the verdict
        # keeps if the engine dies mid-run, read from the view, not kept a second time here
        self.answer_so_far: Callable[[], str] = lambda: ""
        self._engine: EngineClient | None = None
        self._run: _Run | None = None
        self._queued: tuple[RunSpec, str, bool, dict[str, Any]] | None = None
        self._breaker_of: dict[int, tuple[str, str]] = {}  # run id → its breaker's key
        self._spec: RunSpec | None = None  # the request the user sent (Retry re-sends it)
        self._finished: SessionFinished | None = None  # what Continue resumes
        self._recording: Path | None = None
        self._shown_busy = False
        self._play: asyncio.Task[None] | None = None  # a replay being shown
        self._backlog: collections.deque[tuple[Any, ...]] = collections.deque()
        self.breakers = Breakers()
        self.probes = ProbeTasks(client, self)
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.pump)

    # --- public face -------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._run is not None or self._queued is not None or self.replaying

    @property
    def engine(self) -> EngineClient:
        """The engine process, started on first use (and again after it died)."""
        if self._engine is not None and not self._engine.alive:
            self._engine.close()
            self._engine = None
        if self._engine is None:
            self._engine = EngineClient()
        return self._engine

    @property
    def recording_path(self) -> Path | None:
        """The saved-run file of what the views show (File → Save run copies it)."""
        return self._recording

    @property
    def last_spec(self) -> RunSpec | None:
        return self._spec

    @property
    def last_session(self) -> SessionFinished | None:
        """The last finished session (segments, runs, stitched text): Continue resumes it."""
        return self._finished

    def warm_up(self) -> None:
        """Start the engine now, so the first Send does not wait for it."""
        _ = self.engine

    def start(self, spec: RunSpec, retries: int = 0) -> None:
        """A new run: views clear; any running one is cancelled first."""
        self._spec, self._finished = spec, None
        self._recording = self._new_recording()
        self._launch(spec, "first", fresh=True, retries=retries)

    def retry(self, retries: int = 0) -> None:
        if self._spec is not None:
            self._launch(self._spec, "retry", fresh=False, retries=retries)

    def retry_more_tokens(self) -> None:
        spec = self._spec
        if spec is None:
            return
        bigger = more_tokens(spec)
        self._spec = bigger
        self._launch(bigger, "more_tokens", fresh=False)

    def continue_run(self) -> None:
        """Continue the last session after the fact: core builds the request from its
        original spec and stitched text, and keeps its segments, runs and attempts."""
        previous = self._finished
        if previous is None or previous.spec is None:
            return
        self._launch(previous.spec, "continue", fresh=False, previous=previous)

    def continue_session(self, session: SessionFinished) -> None:
        """Continue a session that finished elsewhere (a compare lane) in this view."""
        if session.spec is None:
            return
        self._spec, self._finished = session.spec, session
        self._recording = self._new_recording()
        self._launch(session.spec, "continue", fresh=True, previous=session)

    def stop(self) -> None:
        """The current run ends at once as interrupted/cancelled (a replay just stops)."""
        self._queued = None
        if self._play is not None and not self._play.done():
            self._play.cancel()
        if self._run is not None and self._engine is not None:
            self._engine.stop(self._run.run_id)

    def load_replay(self, replay: Replay, source: str, speed: float | None = None) -> None:
        """Show a stream that already happened (saved run, history run, raw body, pasted
        log), every attempt and segment of it, through the same signals as a live run: at
        once (`speed` None) or at its recorded pace divided by `speed` (a demo)."""
        self.stop()
        self._run = self._queued = None
        self._spec = self._finished = None
        self.history_id = None  # File → Save run saves live runs only
        if self._recording is not None:  # File → Save run saves live runs only
            self._recording.unlink(missing_ok=True)
            self._recording = None
        if self._play is not None and not self._play.done():
            self._play.cancel()
        runs = replay.runs or [replay]
        if not any(run.chunks for run in runs):  # a pasted log: events, no bytes, no times
            self.replay(replay, source)
            self._set_busy(False)
            return
        self._play = asyncio.ensure_future(self._replay(replay, source, speed))

    @property
    def replaying(self) -> bool:
        return self._play is not None and not self._play.done()

    async def _replay(self, replay: Replay, source: str, speed: float | None) -> None:
        from core import ReplayAttempt, ReplayFinished, aiter_replay  # as Replay above

        self._offset_ns = self._axis_end_ns = 0
        self.session_started.emit(SessionStart("replay", True, None, source))
        self._timer.start()
        if speed is not None:
            self._set_busy(True)
        runs = replay.runs or [replay]
        segment, done = 0, 0
        try:
            async for item in aiter_replay(replay, speed):
                if isinstance(item, ReplayAttempt):
                    kind = "first" if item.attempt == 0 else "retry"
                    if item.segment > segment:
                        kind, segment = "continue", item.segment
                    run = runs[min(item.attempt, len(runs) - 1)]
                    spec = RunSpec(replay.dialect, "", "")
                    self.relay(
                        AttemptStarted(
                            item.attempt, item.segment, kind, "", 0.0, "", item.offset_ns, spec
                        ),
                        0,
                    )
                    self.show_exchange(run)
                elif isinstance(item, ReplayFinished):
                    self.flush()
                    parts = tuple((v, "") for v in item.attempt_verdicts) if len(runs) > 1 else ()
                    self.verdict_ready.emit(
                        SessionOutcome(
                            item.verdict, parts, notes=tuple(replay.notes), replay_kind=replay.kind
                        )
                    )
                else:
                    self.relay(item, 0)
                    done += 1
                    if speed is None and done % 5000 == 0:
                        await asyncio.sleep(0)  # a long recording: let Qt paint meanwhile
        finally:
            self.flush()
            if self._run is None:
                self._timer.stop()
                self._set_busy(False)

    async def shutdown(self) -> None:
        """Stop the run and let its end reach the views (up to 5 s), stop the engine (no
        process or thread is left), then the probes."""
        self.stop()
        if self._play is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._play
        deadline = time.monotonic() + 5.0
        while self._run is not None and self._engine is not None and time.monotonic() < deadline:
            await asyncio.sleep(FLUSH_MS / 1000)
            self.pump()
        self._timer.stop()
        if self._engine is not None:
            engine, self._engine = self._engine, None
            engine.close()  # the engine cancels its runs and exits within milliseconds
        self._run = None
        self._set_busy(False)
        await self.probes.shutdown()
        if self._recording is not None:
            self._recording.unlink(missing_ok=True)

    # --- the engine --------------------------------------------------------------------

    def _new_recording(self) -> Path:
        """Where the engine writes this session when the history store cannot keep it."""
        if self._recording is not None:
            self._recording.unlink(missing_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self._runs_dir / f"run-{stamp}-{os.getpid()}-{id(self) % 10_000}.jsonl"

    def _launch(self, spec: RunSpec, kind: str, *, fresh: bool, **kw: Any) -> None:
        self._timer.start()
        self._set_busy(True)
        if self._run is not None:  # it ends as interrupted/cancelled, then this one starts
            self._queued = (spec, kind, fresh, kw)
            if self._engine is not None:
                self._engine.stop(self._run.run_id)
            return
        engine = self.engine
        base = 0 if fresh else self._axis_end_ns
        if fresh:
            self.history_id = None
        history = None
        if self.history_path is not None:
            history = {"path": str(self.history_path), "source": "window"}
            history["run_id"] = self.history_id  # Retry/Continue add to the same run
            history["price"] = self.price_of(spec)  # a profile's own price, for its cost
        run_id = engine.start(
            spec=spec,
            kind=kind,
            history=history,
            breaker=self.breakers.for_spec(spec),
            recording=str(self._recording) if self._recording is not None else None,
            **kw,
        )
        self._run = _Run(run_id, spec, kind, fresh, base)
        self._breaker_of[run_id] = Breakers.key_of(spec)

    def pump(self) -> None:
        """Relay what the engine sent, batched, for at most `PUMP_BUDGET_S` a frame: the
        rest stays for the next frame, and the engine is polled again only once it is done
        (so its backpressure holds)."""
        engine = self._engine
        if engine is None:
            return
        if not self._backlog:
            self._backlog.extend(engine.poll())
        deadline = time.perf_counter() + PUMP_BUDGET_S
        relayed = 0
        while self._backlog and relayed < PUMP_EVENTS and time.perf_counter() < deadline:
            message = self._backlog.popleft()
            if message[0] == "events":
                if len(message[2]) > _SLICE:
                    head, rest = message[2][:_SLICE], message[2][_SLICE:]
                    self._backlog.appendleft((message[0], message[1], rest))
                    message = (message[0], message[1], head)
                relayed += sum(len(e) if type(e) in _BATCHES else 1 for e in message[2])
            self._on_message(message)
            self.flush()  # the views' work inside the budget: it grows with what was relayed
        if self._run is None and self._queued is None and not self._backlog:
            self._timer.stop()

    def _on_message(self, message: tuple[Any, ...]) -> None:
        run = self._run
        kind, run_id = message[0], message[1]
        if kind == "engine_died":
            if self._engine is not None:
                self._engine.close()  # its pipes and reader; the process is gone
                self._engine = None
            if run is not None:
                self._engine_died(run, message[1])
            return
        if kind == "breaker" and message[2] is not None and run_id in self._breaker_of:
            self.breakers.put(self._breaker_of[run_id], message[2])
        elif kind == "done":
            self._breaker_of.pop(run_id, None)
        if run is None or run_id != run.run_id:
            return
        if kind == "history":
            self.history_id, self.history_error = message[2], None
            self.run_stored.emit(message[2])
            return
        if kind == "history_error":
            self.history_error = message[2]
            self.run_failed.emit(f"This run is not kept in the history: {message[2]}")
            return
        if kind == "events":
            if not run.started:
                run.started = True
                self.session_started.emit(SessionStart(run.kind, run.fresh, run.spec))
            for event in message[2]:
                self._handle(run, event)
        elif kind == "cannot_continue":
            self.run_failed.emit(f"Cannot continue: {message[2]}")
        elif kind == "failed":
            self.flush()
            self.run_failed.emit(f"Unexpected error: {message[2]}")
        elif kind == "done":
            self._ended()

    def _ended(self) -> None:
        self.flush()
        self._run = None
        queued, self._queued = self._queued, None
        if queued is not None:
            spec, kind, fresh, kw = queued
            self._launch(spec, kind, fresh=fresh, **kw)
        else:
            self._set_busy(False)

    def _engine_died(self, run: _Run, code: Any) -> None:
        log.warning("the network engine exited (code %s) during a run", code)
        self.flush()
        if not run.finished:
            if not run.started:
                self.session_started.emit(SessionStart(run.kind, run.fresh, run.spec))
            verdict = engine_failed(
                run.spec.dialect,
                self.answer_so_far(),
                f"The network engine (a child process) stopped unexpectedly (exit code {code}) "
                "before the stream ended. What arrived is shown; Retry starts a new engine.",
            )
            self.verdict_ready.emit(SessionOutcome(verdict))
        self._ended()

    def _set_busy(self, busy: bool) -> None:
        if busy != self._shown_busy:
            self._shown_busy = busy
            self.busy_changed.emit(busy)

    def _handle(self, run: _Run, event: Any) -> None:
        if not isinstance(event, SessionFinished):
            self.relay(event, run.base_ns)
            return
        self.flush()
        run.finished = True
        refused = event.verdict.label == "not_sent/breaker_open" and self._finished is not None
        if self._queued is None:  # not when a newer run waits for this one
            if not refused:  # a refused retry keeps the session it was meant to recover
                self._finished = event
            self._set_busy(False)  # over for the user; the engine only tidies up now
        self.verdict_ready.emit(self._outcome(event))

    @staticmethod
    def _outcome(finished: SessionFinished) -> SessionOutcome:
        whole = finished.verdict
        blocked = None
        if finished.spec is not None and finished.parts and "continue" in whole.actions:
            try:
                build_continuation(finished.spec, finished.text, finished.parts[-1][0])
            except CannotContinue as exc:
                blocked = str(exc)
        return SessionOutcome(whole, finished.parts, continue_blocked=blocked)

"""RunController: owns the asyncio tasks of runs (and, through `ProbeTasks`, of the profiles
dialog's probes) on qasync's loop, the circuit breaker of each provider profile, and the
last finished session, which Continue resumes (`run_session(previous=...)`).

Only this class (and the `ProbeTasks` it owns) creates tasks; it keeps the handle, cancels
it on Stop, on a new run and on close, and turns an unexpected exception into `run_failed`
(never a traceback on the console). Events reach the views through `EventRelay`'s signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer

from core import (
    CannotContinue,
    Replay,
    RunRecorder,
    RunSpec,
    SessionFinished,
    build_continuation,
    more_tokens,
    run_session,
)
from gui.profiles.probes import ProbeTasks
from gui.run.breakers import Breakers
from gui.run.messages import SessionOutcome, SessionStart
from gui.run.relay import FLUSH_MS, EventRelay

__all__ = ["FLUSH_MS", "RunController"]

SLICE_S = 0.008  # longest stretch of event handling before yielding to Qt
log = logging.getLogger(__name__)


class RunController(EventRelay):
    def __init__(self, client: Any, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._runs_dir = data_dir / "runs"
        self._task: asyncio.Task[None] | None = None
        self._cancel = asyncio.Event()
        self._spec: RunSpec | None = None  # the request the user sent (Retry re-sends it)
        self._finished: SessionFinished | None = None  # what Continue resumes
        self._recording: Path | None = None
        self._secret: str | None = None  # scrubbed from any error text
        self._shown_busy = False
        self.breakers = Breakers()
        self.probes = ProbeTasks(client, self)
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

    # --- public face -------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

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

    def stop(self) -> None:
        self._cancel.set()

    def load_replay(self, replay: Replay, source: str) -> None:
        """Show a stream that already happened (saved run, raw body, pasted log)."""
        self._spec = self._finished = None
        if self._recording is not None:  # File → Save run saves live runs only
            self._recording.unlink(missing_ok=True)
            self._recording = None

        async def show() -> None:
            self.replay(replay, source)

        self._spawn(show)

    async def shutdown(self) -> None:
        """Cancel the run (its generator closes properly) and the probes; wait for them."""
        self._cancel.set()
        task = self._task
        if task is not None and not task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), 5.0)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.probes.shutdown()
        self._timer.stop()
        if self._recording is not None:
            self._recording.unlink(missing_ok=True)

    # --- the task ----------------------------------------------------------------------

    def _new_recording(self) -> Path:
        self._runs_dir.mkdir(parents=True, exist_ok=True)
        if self._recording is not None:
            self._recording.unlink(missing_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self._runs_dir / f"run-{stamp}-{os.getpid()}-{id(self) % 10_000}.jsonl"

    def _launch(self, spec: RunSpec, kind: str, *, fresh: bool, **kw: Any) -> None:
        self._secret = spec.api_key
        self._spawn(lambda: self._drive(spec, kind, fresh, **kw))

    def _spawn(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        previous = self._task
        self._cancel.set()  # the previous run ends as interrupted/cancelled
        self._cancel = asyncio.Event()
        self._task = asyncio.ensure_future(self._after(previous, make))
        self._timer.start()
        self._set_busy(True)

    async def _after(
        self, previous: asyncio.Task[None] | None, make: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        me = asyncio.current_task()
        try:
            if previous is not None and not previous.done():
                await asyncio.wait({previous})
            await make()
        except Exception as exc:
            log.debug("run failed", exc_info=True)
            self.flush()
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
            if self._secret:
                message = message.replace(self._secret, "***")
            self.run_failed.emit(message)
        finally:
            if self._task is me:
                self.flush()
                self._timer.stop()
                self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._shown_busy:
            self._shown_busy = busy
            self.busy_changed.emit(busy)

    async def _drive(
        self,
        spec: RunSpec,
        kind: str,
        fresh: bool,
        *,
        retries: int = 0,
        previous: SessionFinished | None = None,
    ) -> None:
        base = 0 if fresh else self._axis_end_ns
        recorder = RunRecorder(self._recording) if self._recording is not None else None
        agen: AsyncIterator[Any] = run_session(
            spec,
            retries=retries,
            cancel=self._cancel,
            recorder=recorder,
            client=self._client,
            kind=kind,
            breaker=self.breakers.for_profile(spec.profile),
            previous=previous,
        )
        try:
            try:  # with `previous`, core says at once when the session cannot be continued
                first = await anext(agen)
            except CannotContinue as exc:
                self.run_failed.emit(f"Cannot continue: {exc}")
                return
            self.session_started.emit(SessionStart(kind, fresh, spec))
            self._handle(first, base)
            budget_end = time.perf_counter() + SLICE_S
            async for event in agen:
                self._handle(event, base)
                if time.perf_counter() > budget_end:
                    # a burst of buffered data can be parsed for a long time without the
                    # generator ever awaiting: give Qt a turn to paint and run timers
                    await asyncio.sleep(0)
                    budget_end = time.perf_counter() + SLICE_S
        finally:
            await agen.aclose()  # type: ignore[attr-defined]
            if recorder is not None:
                recorder.close()

    def _handle(self, event: Any, base: int) -> None:
        if not isinstance(event, SessionFinished):
            self.relay(event, base)
            return
        self.flush()
        if asyncio.current_task() is self._task:  # not when a newer run waits for this one
            self._finished = event
            self._set_busy(False)  # over for the user; the task only tidies up now
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

"""RunController: owns the asyncio task of a run on qasync's loop and re-emits core events as
Qt signals.

Fast streams hand over hundreds of events per read, so chunks, wire events and normalized
events are buffered and emitted as lists at most every `FLUSH_MS`; every other signal
flushes the buffers first, so views see events in stream order. Only this class creates
tasks; it keeps the handle, cancels it on Stop, on a new run and on close, and turns an
unexpected exception into `run_failed` (never a traceback on the console).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from core import (
    AttemptStarted,
    CannotContinue,
    ChunkReceived,
    Phase,
    Progress,
    Replay,
    RequestSent,
    ResponseStarted,
    RunFinished,
    RunRecorder,
    RunSpec,
    SessionFinished,
    Verdict,
    WireEvent,
    build_continuation,
    run_session,
    stitch,
)
from gui.messages import SessionOutcome, SessionStart

__all__ = ["FLUSH_MS", "RunController"]

FLUSH_MS = 16
SLICE_S = 0.008  # longest stretch of event handling before yielding to Qt
log = logging.getLogger(__name__)


@dataclass(slots=True)
class _State:
    spec: RunSpec | None = None  # the request the user sent (Continue builds on it)
    text: str = ""  # stitched answer so far
    verdict: Verdict | None = None
    segments: list[tuple[str, str]] = field(default_factory=list)
    axis_end_ns: int = 0
    recording: Path | None = None
    kind: str = "first"  # of the session running now
    method: str = ""  # how its continuation was asked for
    trimmed: str = ""  # whitespace cut from an Anthropic prefill, restored at the seam


class RunController(QObject):
    session_started = Signal(object)  # SessionStart
    attempt_started = Signal(object, object)  # AttemptStarted, its t0 on the view's axis (ns)
    request_sent = Signal(object)  # RequestSent
    phase_reached = Signal(object)  # Phase
    response_started = Signal(object)  # ResponseStarted
    chunks_received = Signal(object)  # list[ChunkReceived]
    wire_events_decoded = Signal(object)  # list[WireEvent]
    events_received = Signal(object)  # list of normalized events (TextDelta, Usage, ...)
    progress_changed = Signal(object)  # Progress
    run_finished = Signal(object)  # RunFinished: one attempt ended
    verdict_ready = Signal(object)  # SessionOutcome
    run_failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, client: Any, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._runs_dir = data_dir / "runs"
        self._task: asyncio.Task[None] | None = None
        self._cancel = asyncio.Event()
        self._state = _State()
        self._shown_busy = False
        self._offset_ns = 0
        self._chunks: list[ChunkReceived] = []
        self._wire: list[WireEvent] = []
        self._events: list[Any] = []
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
        return self._state.recording

    @property
    def last_spec(self) -> RunSpec | None:
        return self._state.spec

    def start(self, spec: RunSpec, retries: int = 0) -> None:
        """A new run: views clear; any running one is cancelled first."""
        self._state = _State(spec=spec, recording=self._new_recording())
        self._launch(spec, "first", fresh=True, retries=retries)

    def retry(self, retries: int = 0) -> None:
        if self._state.spec is not None:
            self._launch(self._state.spec, "retry", fresh=False, retries=retries)

    def retry_more_tokens(self) -> None:
        spec = self._state.spec
        if spec is None:
            return
        current = spec.max_tokens or 1024
        bigger = spec.with_changes(max_tokens=min(current * 2, max(spec.max_tokens_cap, current)))
        self._state.spec = bigger
        self._launch(bigger, "more_tokens", fresh=False)

    def continue_run(self) -> None:
        s = self._state
        if s.spec is None or s.verdict is None:
            return
        try:
            plan = build_continuation(s.spec, s.text, s.verdict)
        except CannotContinue as exc:
            self.run_failed.emit(f"Cannot continue: {exc}")
            return
        self._launch(plan.spec, "continue", fresh=False, method=plan.method, trimmed=plan.trimmed)

    def stop(self) -> None:
        self._cancel.set()

    def load_replay(self, replay: Replay, source: str) -> None:
        """Show a stream that already happened (saved run, raw body, pasted log)."""
        self._state = _State()
        self._spawn(lambda: self._show_replay(replay, source))

    async def shutdown(self) -> None:
        """Cancel the run (its generator closes properly) and wait for it."""
        self._cancel.set()
        task = self._task
        if task is not None and not task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), 5.0)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._timer.stop()
        if self._state.recording is not None:
            self._state.recording.unlink(missing_ok=True)

    # --- the task ----------------------------------------------------------------------

    def _new_recording(self) -> Path:
        self._runs_dir.mkdir(parents=True, exist_ok=True)
        old = self._state.recording
        if old is not None:
            old.unlink(missing_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self._runs_dir / f"run-{stamp}-{os.getpid()}-{id(self) % 10_000}.jsonl"

    def _launch(self, spec: RunSpec, kind: str, *, fresh: bool, **kw: Any) -> None:
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
            self.run_failed.emit(f"Unexpected error: {type(exc).__name__}: {exc}")
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
        self, spec: RunSpec, kind: str, fresh: bool, *, retries: int = 0, **seam: Any
    ) -> None:
        s = self._state
        s.kind, s.method, s.trimmed = kind, seam.get("method", ""), seam.get("trimmed", "")
        base = 0 if fresh else s.axis_end_ns
        self.session_started.emit(SessionStart(kind, fresh, spec))
        recorder = RunRecorder(s.recording) if s.recording is not None else None
        agen: AsyncIterator[Any] = run_session(
            spec,
            retries=retries,
            cancel=self._cancel,
            recorder=recorder,
            client=self._client,
            kind=kind,
        )
        try:
            budget_end = time.perf_counter() + SLICE_S
            async for event in agen:
                self._dispatch(event, base)
                if time.perf_counter() > budget_end:
                    # a burst of buffered data can be parsed for a long time without the
                    # generator ever awaiting: give Qt a turn to paint and run timers
                    await asyncio.sleep(0)
                    budget_end = time.perf_counter() + SLICE_S
        finally:
            await agen.aclose()  # type: ignore[attr-defined]
            if recorder is not None:
                recorder.close()

    def _dispatch(self, event: Any, base: int) -> None:
        if isinstance(event, ChunkReceived):
            self._chunks.append(event)
        elif isinstance(event, WireEvent):
            self._wire.append(event)
        elif isinstance(event, Progress):
            self.flush()
            self.progress_changed.emit(event)
        elif isinstance(event, AttemptStarted):
            self.flush()
            self._offset_ns = base + event.offset_ns
            if event.kind == "continue" and not event.method:
                event = replace(event, method=self._state.method)
            self.attempt_started.emit(event, self._offset_ns)
        elif isinstance(event, RequestSent):
            self.flush()
            self.request_sent.emit(event)
        elif isinstance(event, Phase):
            self.flush()
            self.phase_reached.emit(event)
        elif isinstance(event, ResponseStarted):
            self.flush()
            self.response_started.emit(event)
        elif isinstance(event, RunFinished):
            self.flush()
            self._state.axis_end_ns = self._offset_ns + (event.total_ns or 0)
            self.run_finished.emit(event)
        elif isinstance(event, SessionFinished):
            self.flush()
            if asyncio.current_task() is self._task:  # not when a newer run waits for this one
                self._set_busy(False)  # over for the user; the task only tidies up now
            self.verdict_ready.emit(self._conclude(event.verdict))
        else:
            self._events.append(event)

    def _conclude(self, verdict: Verdict) -> SessionOutcome:
        s = self._state
        if s.kind == "continue" and s.verdict is not None:
            s.text = stitch(s.text, verdict.text, s.trimmed)
            s.segments.append((verdict.label, s.method))
        else:
            s.text = verdict.text
            s.segments = [(verdict.label, "original")]
        shown = replace(verdict, text=s.text) if len(s.segments) > 1 else verdict
        s.verdict = shown
        blocked = None
        if s.spec is not None and "continue" in shown.actions:
            try:
                build_continuation(s.spec, s.text, shown)
            except CannotContinue as exc:
                blocked = str(exc)
        segments = tuple(s.segments) if len(s.segments) > 1 else ()
        return SessionOutcome(shown, segments, continue_blocked=blocked)

    def flush(self) -> None:
        if self._chunks:
            chunks, self._chunks = self._chunks, []
            self.chunks_received.emit(chunks)
        if self._wire:
            wire, self._wire = self._wire, []
            self.wire_events_decoded.emit(wire)
        if self._events:
            events, self._events = self._events, []
            self.events_received.emit(events)

    async def _show_replay(self, replay: Replay, source: str) -> None:
        self.session_started.emit(SessionStart("replay", True, None, source))
        req = replay.request or {}
        if req:
            self.request_sent.emit(
                RequestSent(
                    str(req.get("method") or "POST"),
                    str(req.get("url") or ""),
                    dict(req.get("headers") or {}),
                    dict(req.get("body") or {}),
                )
            )
        if replay.response:
            resp = replay.response
            self.response_started.emit(
                ResponseStarted(int(resp.get("status") or 0), dict(resp.get("headers") or {}))
            )
        self._chunks = [ChunkReceived(i, len(d), d, t) for i, (t, d) in enumerate(replay.chunks)]
        self._wire = list(replay.wire)
        self._events = list(replay.events)
        self.flush()
        self._state.verdict = replay.verdict
        self._state.text = replay.verdict.text
        outcome = SessionOutcome(replay.verdict, notes=tuple(replay.notes), replay_kind=replay.kind)
        self.verdict_ready.emit(outcome)

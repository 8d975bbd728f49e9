"""EventRelay: core's events as Qt signals, in stream order, in batches.

Fast streams hand over hundreds of events per read, so chunks, wire events and normalized
events are buffered and emitted at most every `FLUSH_MS` (the controller's timer calls
`flush`): reads as one `ChunkBatch`, wire events as one `WireBatch`, normalized events as a
list in which runs of text deltas come as `DeltaBatch`es (core.stream.batches: columns, not
an object per token). Every other signal flushes the buffers first, so views see events in
stream order. A replay (saved run, raw body, pasted log) goes out through the same signals.
The `RunController` builds on this and owns the tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from core import (
    AttemptStarted,
    ChunkBatch,
    ChunkReceived,
    Phase,
    Progress,
    RequestSent,
    ResponseStarted,
    RunFinished,
    WireBatch,
    WireEvent,
    batched,
)
from gui.run.messages import SessionOutcome, SessionStart

if TYPE_CHECKING:
    from core import Replay  # core.record.diagnose: loaded when a file is first opened

__all__ = ["FLUSH_MS", "EventRelay"]

FLUSH_MS = 16


class EventRelay(QObject):
    session_started = Signal(object)  # SessionStart
    attempt_started = Signal(object, object)  # AttemptStarted, its t0 on the view's axis (ns)
    request_sent = Signal(object)  # RequestSent
    phase_reached = Signal(object)  # Phase
    response_started = Signal(object)  # ResponseStarted
    chunks_received = Signal(object)  # ChunkBatch
    wire_events_decoded = Signal(object)  # WireBatch
    events_received = Signal(object)  # list of normalized events and DeltaBatches
    progress_changed = Signal(object)  # Progress: live state, ~4 Hz
    run_finished = Signal(object)  # RunFinished: one attempt ended
    verdict_ready = Signal(object)  # SessionOutcome
    run_failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._offset_ns = 0  # the current attempt's t0 on the views' time axis
        self._axis_end_ns = 0  # where the last attempt ended on that axis
        self._chunks = ChunkBatch()
        self._wire = WireBatch()
        self._events: list[Any] = []

    def relay(self, event: Any, base_ns: int) -> None:
        """Buffer or emit one event of a session whose t0 sits at `base_ns` on the axis.
        (A `SessionFinished` is the controller's to handle.)"""
        cls = type(event)
        if cls is ChunkBatch:
            self._chunks.extend(event)
        elif cls is ChunkReceived:
            self._chunks.add(event)
        elif cls is WireBatch:
            self._wire.extend(event)
        elif cls is WireEvent:
            self._wire.add(event)
        elif isinstance(event, Progress):
            self.flush()
            self.progress_changed.emit(event)
        elif isinstance(event, AttemptStarted):
            self.flush()
            self._offset_ns = base_ns + event.offset_ns
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
            self._axis_end_ns = self._offset_ns + (event.total_ns or 0)
            self.run_finished.emit(event)
        else:
            self._events.append(event)

    def flush(self) -> None:
        if self._chunks:
            chunks, self._chunks = self._chunks, ChunkBatch()
            self.chunks_received.emit(chunks)
        if self._wire:
            wire, self._wire = self._wire, WireBatch()
            self.wire_events_decoded.emit(wire)
        if self._events:
            events, self._events = self._events, []
            self.events_received.emit(events)

    def show_exchange(self, replay: Replay) -> None:
        """A recorded attempt's request and response, as a live one shows them."""
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

    def replay(self, replay: Replay, source: str) -> None:
        """Show a stream that already happened, through the same signals."""
        self._offset_ns = self._axis_end_ns = 0
        self.session_started.emit(SessionStart("replay", True, None, source))
        self.show_exchange(replay)
        self._chunks = ChunkBatch()
        for i, (t, d) in enumerate(replay.chunks):
            self._chunks.add(ChunkReceived(i, len(d), d, t))
        self._wire = WireBatch()
        for w in replay.wire:
            self._wire.add(w)
        self._events = batched(replay.events)
        self.flush()
        outcome = SessionOutcome(replay.verdict, notes=tuple(replay.notes), replay_kind=replay.kind)
        self.verdict_ready.emit(outcome)

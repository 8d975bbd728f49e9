"""CompareController: runs a race in its own network engine process (`EngineClient`, so the
lanes are read and stamped where no paint can delay them), polls it once a frame and hands
the views batches: lane events, each finished run, rounds, and the race's result."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from core import (
    EngineClient,
    LaneEvent,
    LaneRunFinished,
    RaceFinished,
    RacePlan,
    RoundFinished,
    RoundStarted,
)
from gui.run.relay import FLUSH_MS

__all__ = ["CompareController"]


class CompareController(QObject):
    race_started = Signal(object)  # RacePlan
    round_started = Signal(int)
    lane_events = Signal(object)  # list[LaneEvent], in arrival order
    run_finished = Signal(object)  # LaneRun
    round_finished = Signal(object)  # RoundFinished
    race_finished = Signal(object)  # RaceResult
    race_failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._data_dir = data_dir
        self._engine: EngineClient | None = None
        self._race_id: int | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.pump)
        self.save_dir: Path | None = None
        self.costs: list[dict[str, Any] | None] = []  # per lane, when the race has finished

    @property
    def busy(self) -> bool:
        return self._race_id is not None

    @property
    def engine(self) -> EngineClient:
        """The race's engine process, started on first use (and again after it died)."""
        if self._engine is not None and not self._engine.alive:
            self._engine.close()
            self._engine = None
        if self._engine is None:
            self._engine = EngineClient()
        return self._engine

    def warm_up(self) -> None:
        """Start the engine now (the Compare view is being set up), so Race does not wait
        for it to load."""
        _ = self.engine

    def start(self, plan: RacePlan) -> None:
        """Race `plan`; every run is saved (probe's format) under a folder of its own."""
        if self.busy:
            return
        engine = self.engine
        root = self._data_dir / "compare"
        root.mkdir(parents=True, exist_ok=True)
        self.save_dir = Path(tempfile.mkdtemp(prefix="race-", dir=root))
        history = {"path": str(self._data_dir / "history.sqlite3")}
        self.costs = []
        self._race_id = engine.start_race(plan, save_dir=str(self.save_dir), history=history)
        self.race_started.emit(plan)
        self.busy_changed.emit(True)
        self._timer.start()

    def stop(self) -> None:
        """Stop every lane (each stopped run is interrupted/cancelled)."""
        if self._race_id is not None and self._engine is not None:
            self._engine.stop(self._race_id)

    def shutdown(self) -> None:
        self._timer.stop()
        if self._engine is not None:
            engine, self._engine = self._engine, None
            engine.close()
        self._race_id = None

    def pump(self) -> None:
        engine = self._engine
        if engine is None:
            return
        batch: list[LaneEvent] = []
        for message in engine.poll():
            kind = message[0]
            if kind == "engine_died":
                self._flush(batch)
                self.race_failed.emit(
                    f"The network engine stopped unexpectedly (exit code {message[1]}); "
                    "the runs that finished are kept."
                )
                with contextlib.suppress(Exception):
                    engine.close()
                self._engine = None
                self._end()
                return
            if message[1] != self._race_id:
                continue
            if kind == "events":
                for event in message[2]:
                    if isinstance(event, LaneEvent):
                        batch.append(event)
                        continue
                    self._flush(batch)
                    if isinstance(event, RoundStarted):
                        self.round_started.emit(event.index)
                    elif isinstance(event, LaneRunFinished):
                        self.run_finished.emit(event.run)
                    elif isinstance(event, RoundFinished):
                        self.round_finished.emit(event)
                    elif isinstance(event, RaceFinished):
                        self.race_finished.emit(event.result)
            elif kind == "costs":
                self.costs = list(message[2])
            elif kind == "history_error":
                self.race_failed.emit(f"These runs are not kept in the history: {message[2]}")
            elif kind == "failed":
                self._flush(batch)
                self.race_failed.emit(f"Unexpected error: {message[2]}")
            elif kind == "done":
                self._flush(batch)
                self._end()
        self._flush(batch)

    def _flush(self, batch: list[LaneEvent]) -> None:
        if batch:
            self.lane_events.emit(list(batch))
            batch.clear()

    def _end(self) -> None:
        self._race_id = None
        self._timer.stop()
        self.busy_changed.emit(False)

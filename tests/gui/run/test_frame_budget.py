"""A frame's share of the engine's backlog: the views' work on what is relayed counts
against the frame's budget, so a fast stream's backlog is shown over several bounded frames
and never one long one. The clock is the test's: the views' slot advances it, as their
work advances the real one."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from core import RunSpec, TextDelta
from core.stream.batches import Batcher, DeltaBatch
from gui.run import controller as controller_module
from gui.run.controller import PUMP_BUDGET_S, RunController, _Run

VIEW_S_PER_TOKEN = 20e-6  # what the views cost a token here, on the test's clock
SLICE = 256


def _messages(run_id: int, tokens: int) -> list[tuple[Any, ...]]:
    """The engine's frames: ("events", run, [a DeltaBatch of SLICE tokens]) each."""
    out = []
    for start in range(0, tokens, SLICE):
        batcher = Batcher()
        for i in range(start, min(tokens, start + SLICE)):
            batcher.add(TextDelta(f"t{i} ", 1000 * i))
        out.append(("events", run_id, batcher.take()))
    return out


def test_the_views_work_counts_against_a_frames_budget(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(controller_module, "time", SimpleNamespace(perf_counter=lambda: clock.now))
    controller = RunController(None, tmp_path)
    shown: list[str] = []
    per_frame: list[int] = []

    def views(events: list[Any]) -> None:  # the stream view, inspector and graph's share
        for batch in events:
            assert type(batch) is DeltaBatch
            shown.extend(batch.pieces())
            per_frame[-1] += len(batch)
            clock.now += VIEW_S_PER_TOKEN * len(batch)

    controller.events_received.connect(views)
    spec = RunSpec("openai-chat", "http://127.0.0.1:9/v1", "m", RunSpec.user("x"))
    controller._run = _Run(1, spec, "fresh", True, 0, started=True)
    controller._engine = controller.engine  # a real engine process, idle: polled when done
    try:
        controller._backlog.extend(_messages(1, 20_000))
        while controller._backlog:
            per_frame.append(0)
            controller.pump()
    finally:
        controller._engine.close()
    assert shown == [f"t{i} " for i in range(20_000)]  # all of it, in order
    # a frame stops within one slice of its budget, and the backlog took many frames
    assert max(per_frame) <= PUMP_BUDGET_S / VIEW_S_PER_TOKEN + SLICE
    assert len(per_frame) >= 20_000 / (PUMP_BUDGET_S / VIEW_S_PER_TOKEN + SLICE)

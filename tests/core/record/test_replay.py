"""Replay at the recorded pace (an injected sleep records each delay), and the store's
recorder driven by `run_session` directly, as the window does."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import RunSpec, SessionFinished, run_session
from core.mock import MockServer
from core.mock.script import reply_text
from core.record.history import HistoryStore
from core.record.replay import ReplayAttempt, ReplayFinished, aiter_replay
from core.record.savefile import RunRecorder, TeeRecorder
from core.stream.events import ChunkReceived, TextDelta


async def session(spec: RunSpec, recorder, **kw) -> SessionFinished:
    async for event in run_session(spec, recorder=recorder, **kw):
        if isinstance(event, SessionFinished):
            return event
    raise AssertionError("no SessionFinished")


def spec_for(mock: MockServer, **kw) -> RunSpec:
    return RunSpec(
        "anthropic",
        mock.base_urls["anthropic"],
        "mock-normal",
        RunSpec.user("hello"),
        headers={"x-mock-params": "tokens=30;tps=100"},
        **kw,
    )


@pytest.mark.parametrize("speed", [1.0, 2.0, 5.0, None])
async def test_replay_sleeps_the_recorded_gaps(mock: MockServer, tmp_path: Path, speed) -> None:
    path = tmp_path / "run.jsonl"
    with HistoryStore.open() as store:
        tee = TeeRecorder(RunRecorder(path, replace=True), store.recorder(spec_for(mock)))
        try:
            live = await session(spec_for(mock, max_tokens=12), tee, continuations=2)
        finally:
            tee.close()
        replay = store.replay(1)
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    text, chunks, attempts, finished = "", [], [], None
    async for event in aiter_replay(replay, speed, sleep=sleep):
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, ChunkReceived):
            chunks.append(event.t_ns)
        elif isinstance(event, ReplayAttempt):
            attempts.append(event.segment)
            chunks.append(None)  # the next attempt's clock starts again at its t0
        elif isinstance(event, ReplayFinished):
            finished = event
    assert finished is not None and finished.verdict.text == live.verdict.text
    assert attempts == [0, 1, 2] and finished.verdict.segments == live.verdict.segments
    assert text.replace(" ", "") == reply_text(30).replace(" ", "")  # seams restate a little
    expected = []
    previous = None
    for t in chunks:
        if t is None:
            previous = 0
            continue
        if t - previous > 0:
            expected.append((t - previous) / 1e9 / speed if speed else None)
        previous = t
    if speed is None:
        assert delays == []
    else:
        assert delays == pytest.approx(expected)
        assert sum(delays) > 0


async def test_continue_after_the_fact_appends_to_the_same_run(mock: MockServer) -> None:
    spec = spec_for(mock, max_tokens=12)
    with HistoryStore.open() as store:
        recorder = store.recorder(spec, source="window")
        first = await session(spec, recorder)
        recorder.close()
        again = store.recorder(spec, source="window", run_id=recorder.run_id)
        whole = await session(spec, again, previous=first)
        again.close()
        (row,) = store.list_runs()
        saved = store.saved_session(row.id)
        shown = store.verdict_json(row.id)
    assert [a.segment for a in saved.attempts] == [0, 1]
    assert shown["text"] == whole.verdict.text and len(shown["segments"]) == 2
    assert row.source == "window" and row.state == "finished"


async def test_a_run_still_recording_elsewhere_is_left_alone(mock: MockServer) -> None:
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    with HistoryStore.open() as store:
        mine = store.recorder(spec_for(mock))  # this process: alive
        dead = store.recorder(spec_for(mock))
        store.db.execute(
            "UPDATE runs SET writer_pid = ? WHERE id = ?", (int(gone.stdout), dead.run_id)
        )
        with HistoryStore.open() as again:
            states = {r.id: (r.state, r.warnings) for r in again.list_runs()}
        mine.close()
        dead._stop.set()
        dead._thread.join()
        dead._db.close()
    assert states[mine.run_id] == ("recording", ())
    assert states[dead.run_id][0] == "interrupted" and "recording_cut" in states[dead.run_id][1]


async def test_continue_after_the_fact_in_one_file_reads_as_one_session(
    mock: MockServer, tmp_path: Path
) -> None:
    """The window's working file: the session, then Continue pressed later, appended."""
    from core.record.diagnose import diagnose_bytes

    path = tmp_path / "window.jsonl"
    spec = spec_for(mock, max_tokens=12)
    recorder = RunRecorder(path)
    first = await session(spec, recorder)
    recorder.close()
    recorder = RunRecorder(path)
    whole = await session(spec, recorder, previous=first)
    recorder.close()
    replay = diagnose_bytes(path.read_bytes())
    assert replay.verdict.text == whole.verdict.text
    assert [r.segment for r in replay.runs] == [0, 1]
    assert list(replay.verdict.segments) == list(whole.verdict.segments)


def test_a_store_that_fails_mid_run_is_reported_not_raised(mock: MockServer) -> None:
    with HistoryStore.open() as store:
        recorder = store.recorder(spec_for(mock))
        store.db.execute("DROP TABLE chunks")  # what a full disk or a broken file looks like
        recorder.header(attempt=0, dialect="anthropic", request=spec_for(mock).redacted_request(),
                        status=200, headers={})  # fmt: skip
        recorder.chunk(1, b"data: x\n\n")
        recorder.close()
    assert recorder.failed is not None and "chunks" in recorder.failed

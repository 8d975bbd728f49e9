"""The network engine process (core.live.engine) on its own, without Qt: sessions run in a
child process against the in-process mock over loopback, and their events come back in
batches, in order, with the child's stamps."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core import (
    ChunkBatch,
    ChunkReceived,
    CircuitBreaker,
    DeltaBatch,
    EngineClient,
    RunSpec,
    SessionFinished,
    TextDelta,
    WireBatch,
    diagnose_bytes,
)
from core.mock import MockServer

WAIT_S = 20.0


def spec_for(mock: MockServer, scenario: str = "normal", **params: Any) -> RunSpec:
    header = ";".join(f"{k}={v}" for k, v in params.items())
    return RunSpec(
        dialect="openai-chat",
        base_url=mock.base_urls["openai-chat"],
        model=f"mock-{scenario}",
        messages=({"role": "user", "content": "hello engine"},),
        headers={"x-mock-params": header} if header else {},
    )


def collect(engine: EngineClient, run_id: int, until: str = "done") -> list[tuple[Any, ...]]:
    """Every message about `run_id` up to and including the first of kind `until`."""
    seen: list[tuple[Any, ...]] = []
    while True:
        batch = engine.poll(timeout=WAIT_S)
        assert batch, "the engine said nothing for 20 s"
        for message in batch:
            if message[0] == "engine_died" or message[1] == run_id:
                seen.append(message)
            if message[0] in (until, "engine_died") and (
                message[0] == "engine_died" or message[1] == run_id
            ):
                return seen


def items_of(messages: list[tuple[Any, ...]]) -> list[Any]:
    """What the events messages carry: events, and batches of reads, wire events, deltas."""
    return [e for m in messages if m[0] == "events" for e in m[2]]


def events_of(messages: list[tuple[Any, ...]]) -> list[Any]:
    """The events, batches taken apart."""
    out: list[Any] = []
    for item in items_of(messages):
        out.extend(item if isinstance(item, ChunkBatch | WireBatch | DeltaBatch) else [item])
    return out


@pytest.fixture
def engine() -> Any:
    client = EngineClient()
    yield client
    client.close()


def test_a_session_runs_in_another_process_and_comes_back_in_batches(
    engine: EngineClient, mock: MockServer, tmp_path: Path
) -> None:
    assert engine.pid != os.getpid() and engine.alive
    recording = tmp_path / "run.jsonl"
    run_id = engine.start(spec=spec_for(mock, tokens=120), recording=str(recording))
    messages = collect(engine, run_id)
    events = events_of(messages)
    finished = [e for e in events if isinstance(e, SessionFinished)]
    assert len(finished) == 1 and finished[0].verdict.label == "completed/natural"
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == finished[0].text
    # batched: far fewer frames than events, and reads, wire events and deltas as columns
    assert sum(1 for m in messages if m[0] == "events") < len(events)
    items = items_of(messages)
    assert len(items) < len(events) / 5
    assert {ChunkBatch, WireBatch, DeltaBatch} <= {type(i) for i in items}
    # stamps are monotonic and the child's recording replays to the same verdict and text
    stamps = [e.t_ns for e in events if isinstance(e, ChunkReceived)]
    assert stamps == sorted(stamps) and stamps
    replay = diagnose_bytes(recording.read_bytes())
    assert replay.verdict.label == "completed/natural"
    assert replay.verdict.text == text


def test_stop_ends_the_run_at_once_as_cancelled(engine: EngineClient, mock: MockServer) -> None:
    run_id = engine.start(spec=spec_for(mock, tokens=2000, tps=50))
    seen: list[Any] = []
    while sum(isinstance(e, TextDelta) for e in seen) < 3:
        seen += events_of([m for m in engine.poll(timeout=WAIT_S) if m[1] == run_id])
    engine.stop(run_id)
    events = events_of(collect(engine, run_id))
    finished = [e for e in events if isinstance(e, SessionFinished)]
    assert finished[0].verdict.label == "interrupted/cancelled"


def test_the_breaker_travels_to_the_engine_and_back_with_the_verdict_recorded(
    engine: EngineClient, mock: MockServer
) -> None:
    breaker = CircuitBreaker(threshold=1)
    run_id = engine.start(spec=spec_for(mock, "http_500", fail_first=1), breaker=breaker)
    messages = collect(engine, run_id)
    kinds = [m[0] for m in messages]
    # the breaker comes back before the verdict it recorded
    assert kinds.index("breaker") < max(i for i, m in enumerate(messages) if m[0] == "events")
    returned = next(m[2] for m in messages if m[0] == "breaker")
    assert returned.state(time.monotonic()).state == "open"
    assert breaker.state(time.monotonic()).state == "closed"  # sent by value


def test_a_continue_after_the_fact_resumes_the_finished_session(
    engine: EngineClient, mock: MockServer
) -> None:
    spec = spec_for(mock, "max_tokens").with_changes(max_tokens=30)
    first = events_of(collect(engine, engine.start(spec=spec)))[-1]
    assert isinstance(first, SessionFinished) and first.verdict.label == "truncated/max_tokens"
    run_id = engine.start(spec=spec, kind="continue", previous=first)
    again = [e for e in events_of(collect(engine, run_id)) if isinstance(e, SessionFinished)]
    assert len(again[0].parts) == 2
    assert again[0].text.startswith(first.text)


def test_a_killed_engine_is_reported_once_and_close_leaves_nothing(mock: MockServer) -> None:
    engine = EngineClient()
    run_id = engine.start(spec=spec_for(mock, tokens=2000, tps=50))
    while not any(m[0] == "events" for m in engine.poll(timeout=WAIT_S)):
        pass
    engine.kill()
    died = collect(engine, run_id)
    assert died[-1][0] == "engine_died" and not engine.alive
    engine.close()
    assert not any(t.name == "engine-reader" for t in threading.enumerate())


def test_close_mid_run_stops_the_process_and_its_reader(mock: MockServer) -> None:
    engine = EngineClient()
    pid = engine.pid
    engine.start(spec=spec_for(mock, tokens=2000, tps=50))
    engine.poll(timeout=WAIT_S)
    engine.close()
    assert not engine.alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not any(t.name == "engine-reader" for t in threading.enumerate())


def _nice(pid: int, tid: int | None = None) -> int:
    """A process's (or one of its threads') nice value, from /proc (field 19 of stat)."""
    stat = Path(f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(c) for task in tasks for c in (task / "children").read_text().split()]


@pytest.mark.skipif(sys.platform != "linux", reason="the reader has a process on Linux")
def test_the_engine_parses_at_a_lower_priority_than_its_network_reader(
    engine: EngineClient, mock: MockServer
) -> None:
    """The window draws before the engine parses; the reader process, whose stamps are the
    timings, keeps the priority the app has, and so does a reader started again later."""
    from core.live.engine import ENGINE_NICE

    base = _nice(os.getpid(), threading.get_native_id())
    label = collect_verdict(engine, spec_for(mock, tokens=20))
    assert label == "completed/natural"
    assert _nice(engine.pid) == min(19, base + ENGINE_NICE)  # its main thread: the parsing
    (reader,) = _children(engine.pid)
    assert _nice(reader) == base
    os.kill(reader, signal.SIGKILL)
    labels = [collect_verdict(engine, spec_for(mock, tokens=20)) for _ in range(2)]
    assert labels[-1] == "completed/natural"  # the first may end as engine_failed
    (again,) = _children(engine.pid)
    assert again != reader and _nice(again) == base


def collect_verdict(engine: EngineClient, spec: RunSpec) -> str:
    events = events_of(collect(engine, engine.start(spec=spec)))
    (finished,) = [e for e in events if isinstance(e, SessionFinished)]
    return finished.verdict.label


def test_a_race_runs_in_the_engine_lean_and_stops_on_request(
    engine: EngineClient, mock: MockServer, tmp_path: Path
) -> None:
    from core import Lane, LaneEvent, RaceFinished, RacePlan

    lanes = tuple(
        Lane(label, spec_for(mock, tokens=30, tps=tps)) for label, tps in (("a", 400), ("b", 200))
    )
    run_id = engine.start_race(RacePlan(lanes, repeat=2), save_dir=str(tmp_path))
    events = events_of(collect(engine, run_id))
    inner = [e.event for e in events if isinstance(e, LaneEvent)]
    assert any(isinstance(e, TextDelta) for e in inner)
    assert not any(isinstance(e, ChunkReceived) for e in inner)  # lean: bytes stay on disk
    (finished,) = [e for e in events if isinstance(e, RaceFinished)]
    assert len(finished.result.runs) == 4
    assert all(run.verdict.label == "completed/natural" for run in finished.result.runs)
    assert all(run.saved and Path(run.saved).exists() for run in finished.result.runs)

    slow = tuple(Lane(x, spec_for(mock, tokens=3000, tps=50)) for x in ("a", "b"))
    run_id = engine.start_race(RacePlan(slow, repeat=3))
    while not any(
        isinstance(e, LaneEvent) and isinstance(e.event, TextDelta)
        for e in events_of(engine.poll(timeout=WAIT_S))
    ):
        pass
    engine.stop(run_id)
    (stopped,) = [e for e in events_of(collect(engine, run_id)) if isinstance(e, RaceFinished)]
    assert stopped.result.stopped
    assert {run.verdict.label for run in stopped.result.runs} == {"interrupted/cancelled"}


def test_frames_are_read_whole_one_after_another_and_a_torn_one_raises() -> None:
    """The parent unpickles each frame straight from the pipe: a long bytes value (a run's
    answer) comes through whole, the next frame starts where it ended, and a frame cut
    short is an error, not a short read."""
    import io
    import pickle

    from core.live.engine import _frame, _read_frame

    big = [("events", 1, [b"x" * 300_000 + "🚀".encode()])]
    small = [("done", 1)]
    stream = io.BufferedReader(io.BytesIO(_frame(big) + _frame(small)), buffer_size=8192)
    assert _read_frame(stream) == big
    assert _read_frame(stream) == small
    assert _read_frame(stream) is None
    torn = io.BufferedReader(io.BytesIO(_frame(big)[:-1000]))
    with pytest.raises((EOFError, pickle.UnpicklingError)):
        _read_frame(torn)


async def test_a_long_frame_goes_out_as_the_reader_takes_it_and_keeps_its_place() -> None:
    """A frame past PACED_BYTES (a run's last, with its whole answer) is handed to the pipe a
    slice at a time: the transport never holds a copy of all of it while the parent has not
    read it, and what was sent after it still comes after it."""
    import asyncio

    from core.live.engine import OUTBOX_BYTES, PACED_BYTES, _Outbox, _Pipe

    loop = asyncio.get_running_loop()
    r, w = os.pipe()
    transport, pipe = await loop.connect_write_pipe(_Pipe, os.fdopen(w, "wb", buffering=0))
    transport.set_write_buffer_limits(high=OUTBOX_BYTES)
    out = _Outbox(transport, pipe.writable)
    big = os.urandom(3 * PACED_BYTES)
    out.send(("big", 1, big))
    out.send(("after", 1))
    assert transport.get_write_buffer_size() <= PACED_BYTES  # the reader has read nothing
    frames = await _read_frames(out, transport, r, lambda frames: len(frames) == 2)
    assert frames == [[("big", 1, big)], [("after", 1)]]


async def _read_frames(out: Any, transport: Any, fd: int, done: Any) -> list[Any]:
    """The frames an outbox writes to the pipe `fd`, read by another thread (as the window's
    reader reads them) until `done(frames)`, once the outbox has drained."""
    import asyncio

    from core.live.engine import _read_frame

    frames: list[Any] = []
    stream = open(fd, "rb", buffering=1 << 16)  # noqa: SIM115

    def read() -> None:
        while not done(frames):
            frames.append(_read_frame(stream))

    reader = threading.Thread(target=read)
    reader.start()
    await out.drained()
    await asyncio.to_thread(reader.join, 20)
    transport.close()
    stream.close()
    return frames


async def test_a_reads_events_fill_frames_in_order_and_wait_behind_a_long_frame() -> None:
    """A network read's events are filed together (`events`): frames still hold at most
    BATCH_EVENTS, and while a long frame is going out, everything filed meanwhile waits
    behind it and follows it in order."""
    import asyncio

    from core.live.engine import BATCH_EVENTS, OUTBOX_BYTES, PACED_BYTES, _Outbox, _Pipe
    from core.stream.batches import DeltaBatch
    from core.stream.events import TextDelta

    loop = asyncio.get_running_loop()
    r, w = os.pipe()
    transport, pipe = await loop.connect_write_pipe(_Pipe, os.fdopen(w, "wb", buffering=0))
    transport.set_write_buffer_limits(high=OUTBOX_BYTES)
    out = _Outbox(transport, pipe.writable)
    deltas = [TextDelta(f"{i} ", i) for i in range(2 * BATCH_EVENTS + 5)]
    out.events(1, deltas)  # two full frames go out; five events wait
    big = os.urandom(3 * PACED_BYTES)
    out.send(("big", 1, big))  # with the five before it
    out.events(1, deltas)  # behind the long frame, though past BATCH_EVENTS
    out.send(("done", 1))
    frames = await _read_frames(out, transport, r, lambda f: bool(f) and f[-1][-1] == ("done", 1))
    messages = [m for frame in frames for m in frame]
    kinds = [m[0] for m in messages]
    assert kinds == ["events", "events", "events", "big", "events", "done"]
    texts = [
        "".join(b.text for b in m[2] if isinstance(b, DeltaBatch))
        for m in messages
        if m[0] == "events"
    ]
    sizes = [sum(len(b) for b in m[2]) for m in messages if m[0] == "events"]
    assert sizes == [BATCH_EVENTS, BATCH_EVENTS, 5, len(deltas)]
    whole = "".join(d.text for d in deltas)
    assert "".join(texts[:3]) == whole and texts[3] == whole

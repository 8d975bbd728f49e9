"""The network engine: live sessions run in a child process, so that reading the network and
stamping each read never wait for the window.

Why a process and not a thread: PySide6 runs Qt's C++ code (text layout, painting) while
holding the GIL, so an engine *thread* still waits for every paint before it can stamp a
read; measured under a second 5,000 tok/s stream, only a separate interpreter keeps the
window's per-gap error at the CLI's (see bench/gui_timing.py and the README).

Parent side: `EngineClient` (no Qt; the window's controller polls it on its frame timer).
Child side: a `python` that runs `serve()`: one asyncio loop, one HTTP client,
any number of sessions (`run_session`), each recorded to its saved-run file by the child.

Both ends are this module, so the pipe carries length-prefixed pickle frames, each a list of
messages (batched: at most one frame every `FLUSH_S` while events flow, never one per token):
  parent → child: ("start", run_id, kwargs) · ("race", run_id, kwargs) · ("stop", run_id)
                  · ("quit",)
  child → parent: ("events", run_id, [event or batch, ...]) · ("breaker", run_id, breaker) (as the
                  session's verdict is recorded in it) · ("done", run_id)
                  · ("cannot_continue", run_id, why) · ("failed", run_id, why)
                  · ("history", run_id, history_id) · ("history_error", run_id, why)
                  · ("costs", run_id, [lane cost or None]) just before a race's result
and the parent's reader adds ("engine_died", returncode) when the pipe ends unexpectedly.
A run's reads, wire events and text deltas travel as columnar batches
(`core.stream.batches`): a few buffers a frame instead of three pickled objects a token.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from core.heap import fix_mmap_threshold
from core.stream.batches import Batcher

__all__ = ["FLUSH_S", "EngineClient", "serve"]

FLUSH_S = 0.008  # the child's longest wait before it hands a batch of events over
# Backpressure, so a window that cannot keep up never makes either process grow without
# bound: the parent's reader stops reading the pipe past this many unread frames, the pipe
# fills, and the child stops reading the network past this many unsent bytes.
INBOX_FRAMES = 16
# A frame never holds more: a burst is cut into frames as it is parsed. The window shows a
# frame's events in one go, so this bounds that step: 1024 made 25-35 ms steps as a fast
# stream began (bench/gui_throughput.py, 2 cores).
BATCH_EVENTS = 512
OUTBOX_BYTES = 4 * 1024 * 1024
PACED_BYTES = 1024 * 1024  # a longer frame goes out a quarter of this at a time
_HEADER = struct.Struct("!I")
_PROTOCOL = pickle.HIGHEST_PROTOCOL
# The engine parses at a lower priority than the window draws (the network reader keeps
# its own: its stamps are the timings). On two cores a fast stream's start had the engine,
# its reader, the server and the window all wanting a core, and the window's frames took
# twice their time: loop lag p99 at 20,000 tokens went from 33-72 ms to 26-45 ms over eight
# interleaved runs each, and the throughput stayed the same (bench/gui_throughput.py).
ENGINE_NICE = 10


def _frame(messages: list[tuple[Any, ...]]) -> bytes:
    body = pickle.dumps(messages, protocol=_PROTOCOL)
    return _HEADER.pack(len(body)) + body


def _read_frame(stream: BinaryIO) -> list[tuple[Any, ...]] | None:
    """One frame from a buffered pipe; None at its end. The body is unpickled straight
    from the stream, so a long bytes value in it (a run's answer) is read into its own
    object: a million-token answer is 5.5 MB once, not a frame buffer and a copy out of it.
    A torn frame raises (EOFError, pickle.UnpicklingError)."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    messages: list[tuple[Any, ...]] = pickle.load(stream)  # bytes past it stay buffered
    return messages


# --- the parent's side ---------------------------------------------------------------------


class EngineClient:
    """Starts the engine process and talks to it. Thread-safe enough for its one use: the
    owner calls every method from one thread; a reader thread only fills the inbox.

    `poll()` returns the messages that arrived since the last call, in order. When the
    process dies (killed, crashed), `poll()` yields ("engine_died", returncode) once and
    `alive` turns False; a new `EngineClient` starts a fresh one."""

    def __init__(self, *, python: str = sys.executable) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the folder that holds `core`
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._proc = subprocess.Popen(
            [python, "-c", "from core.live.engine import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=root,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._stdin = self._proc.stdin
        self._inbox: collections.deque[tuple[Any, ...]] = collections.deque()
        self._arrived = threading.Event()
        self._room = threading.Condition()
        self._frames = 0  # frames in the inbox
        self._closing = False
        self._next_id = 0
        self._reader = threading.Thread(
            target=self._read, args=(self._proc.stdout.fileno(),), name="engine-reader", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None and self._reader.is_alive()

    def start(self, **kwargs: Any) -> int:
        """Start a session in the engine; `kwargs` are `run_session`'s (spec, retries, kind,
        previous, breaker) plus `recording` (a saved-run path the child writes) and
        `history` ({"path", "source", "run_id", "price"}: the store the child writes the run
        to as it streams, and the profile's own price for its cost; its id comes back as
        ("history", run_id, history_id)). Returns the run's id, which tags every message
        about it."""
        self._next_id += 1
        self._send([("start", self._next_id, kwargs)])
        return self._next_id

    def start_race(
        self,
        plan: Any,
        *,
        save_dir: str | None = None,
        lean: bool = True,
        history: dict[str, Any] | None = None,
    ) -> int:
        """Start a race (`core.live.race.RacePlan`); its events come tagged with the id.
        `lean` leaves out each lane's raw chunks and wire events (a compare view shows
        tokens and verdicts; every run's bytes are in its saved file under `save_dir`)."""
        self._next_id += 1
        kwargs = {"plan": plan, "save_dir": save_dir, "lean": lean, "history": history}
        self._send([("race", self._next_id, kwargs)])
        return self._next_id

    def stop(self, run_id: int) -> None:
        """The run ends at once as interrupted/cancelled (its events still arrive)."""
        self._send([("stop", run_id)])

    def poll(self, timeout: float = 0.0) -> list[tuple[Any, ...]]:
        """The messages that arrived since the last call; with `timeout`, wait up to that
        long for the first one (a headless caller's way to block)."""
        if timeout and not self._inbox:
            self._arrived.wait(timeout)
        self._arrived.clear()
        out: list[tuple[Any, ...]] = []
        while self._inbox:
            out.append(self._inbox.popleft())
        with self._room:
            self._frames = 0
            self._room.notify()
        return out

    def close(self, timeout: float = 5.0) -> None:
        """Ask the engine to cancel its runs and exit; kill it if it does not within
        `timeout`. Leaves no process and no thread behind."""
        self._closing = True
        with self._room:
            self._room.notify()
        self._send([("quit",)])
        with contextlib.suppress(OSError):
            self._stdin.close()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def kill(self) -> None:
        """Kill the process as a crash would (tests, and a last resort)."""
        self._proc.kill()
        self._proc.wait()

    def _send(self, messages: list[tuple[Any, ...]]) -> None:
        try:
            self._stdin.write(_frame(messages))
            self._stdin.flush()
        except (OSError, ValueError):  # the engine is gone: the reader reports it
            pass

    def _read(self, fd: int) -> None:
        stream = open(fd, "rb", buffering=1 << 16, closefd=False)  # noqa: SIM115
        while True:
            try:
                messages = _read_frame(stream)
            except Exception:  # a torn or foreign frame: the engine is unusable
                self._proc.kill()
                messages = None
            if messages is None:
                stream.close()  # the buffer only: the pipe is the process's to close
                break
            with self._room:
                self._room.wait_for(lambda: self._frames < INBOX_FRAMES or self._closing)
                self._frames += 1
            self._inbox.extend(messages)
            self._arrived.set()
        if not self._closing:
            code = self._proc.wait()
            self._inbox.append(("engine_died", code))
            self._arrived.set()


# --- the child's side ----------------------------------------------------------------------


class _Outbox:
    """Messages for the parent, written as one frame at most every FLUSH_S (at once for
    the messages that end something)."""

    def __init__(self, transport: asyncio.WriteTransport, writable: asyncio.Event) -> None:
        self._transport = transport
        self.writable = writable  # cleared while the pipe to the parent is full
        self._pending: list[tuple[Any, ...]] = []
        self._events: dict[int, Batcher] = {}
        self._handle: asyncio.TimerHandle | None = None
        self._count = 0  # events pending
        self._pacing: asyncio.Task[None] | None = None  # a long frame going out

    def event(self, run_id: int, event: Any) -> None:
        """One event of a run (a race's lanes send theirs one at a time)."""
        self._batcher(run_id).add(event)
        self._count += 1
        if self._count >= BATCH_EVENTS:
            self.flush()
        elif self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)

    def events(self, run_id: int, events: list[Any]) -> None:
        """Events of one run, in order (a network read's come together): filed into the
        pending frame, which goes out when it holds BATCH_EVENTS or after FLUSH_S."""
        done = 0
        while done < len(events):
            room = BATCH_EVENTS - self._count  # none while a long frame goes out: all wait
            part = events[done : done + room] if room > 0 else events[done:]
            add = self._batcher(run_id).add
            for event in part:
                add(event)
            self._count += len(part)
            done += len(part)
            if self._count >= BATCH_EVENTS:
                self.flush()
        if self._count and self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)

    def _batcher(self, run_id: int) -> Batcher:
        """The pending frame's batcher for `run_id` (a new one after each flush)."""
        batcher = self._events.get(run_id)
        if batcher is None:
            batcher = self._events[run_id] = Batcher()
            self._pending.append(("events", run_id, batcher))
        return batcher

    def send(self, message: tuple[Any, ...]) -> None:
        self._pending.append(message)
        self.flush()

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._pacing is not None:  # a long frame is going out: these follow it
            return
        if self._pending and not self._transport.is_closing():
            messages = [(m[0], m[1], m[2].take()) if m[0] == "events" else m for m in self._pending]
            body = pickle.dumps(messages, protocol=_PROTOCOL)
            self._transport.write(_HEADER.pack(len(body)))  # no copy of a long body to join
            if len(body) <= PACED_BYTES:
                self._transport.write(body)
            else:
                self._pacing = asyncio.get_running_loop().create_task(self._pace(body))
        self._pending = []
        self._events = {}
        self._count = 0

    async def _pace(self, body: bytes) -> None:
        """A long frame (a run's last, with its whole answer) handed to the pipe a slice at
        a time as the parent reads it: the transport keeps a copy of whatever the pipe
        cannot take at once, which was the whole 5.5 MB of a million-token answer."""
        view = memoryview(body)
        self._transport.set_write_buffer_limits(high=PACED_BYTES // 4)
        try:
            for start in range(0, len(view), PACED_BYTES // 4):
                await self.writable.wait()
                if self._transport.is_closing():
                    return
                self._transport.write(view[start : start + PACED_BYTES // 4])
        finally:
            self._transport.set_write_buffer_limits(high=OUTBOX_BYTES)
            self._pacing = None
            if self._pending:
                self.flush()

    async def drained(self) -> None:
        """Once a long frame going out has gone."""
        if self._pacing is not None:
            await asyncio.shield(self._pacing)


class _Pipe(asyncio.Protocol):
    """The write side's flow control: `writable` is clear while the parent lags."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()


class _Commands(asyncio.Protocol):
    def __init__(self, handle: Callable[[tuple[Any, ...]], None], ended: asyncio.Event) -> None:
        self._buffer = bytearray()
        self._handle = handle
        self._ended = ended

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + size:
                return
            body = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
            del self._buffer[: _HEADER.size + size]
            for message in pickle.loads(body):
                self._handle(message)

    def eof_received(self) -> None:
        self._ended.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended.set()


class _Stores:
    """The child's history stores by path, opened on first use."""

    def __init__(self) -> None:
        self._open: dict[str, Any] = {}

    def get(self, path: str) -> Any:
        from core.record.history import HistoryStore, Retention

        if path not in self._open:
            self._open[path] = HistoryStore.open(Path(path), retention=Retention())
        return self._open[path]

    def close(self) -> None:
        for store in self._open.values():
            store.close()


def _history_recorder(
    run_id: int, history: dict[str, Any] | None, spec: Any, stores: _Stores, out: _Outbox
) -> Any:
    """The history recorder for a run, its id told to the parent; None (and why) when the
    store cannot be opened: the run still happens."""
    if not history:
        return None
    from core.record.history import HistoryError

    try:
        recorder = stores.get(history["path"]).recorder(
            spec,
            source=history.get("source", "window"),
            run_id=history.get("run_id"),
            price=history.get("price"),
        )
    except (HistoryError, OSError, ValueError) as exc:
        out.send(("history_error", run_id, str(exc)))
        return None
    out.send(("history", run_id, recorder.run_id))
    return recorder


def _race_history(
    run_id: int, history: dict[str, Any] | None, stores: _Stores, out: _Outbox
) -> Callable[[Any, Any], Any] | None:
    """Every run of a race into the history, under one compare group."""
    if not history:
        return None
    from core.record.history import HistoryError

    try:
        store = stores.get(history["path"])
        group = store.new_compare_group()
    except (HistoryError, OSError) as exc:
        out.send(("history_error", run_id, str(exc)))
        return None
    return lambda spec, price: store.recorder(
        spec, source="compare", compare_group=group, price=price
    )


def _without_text(finished: Any) -> Any:
    """An attempt's `RunFinished` for the window, without its answer and reasoning: the
    window has both from the deltas, and the session's stitched text comes once, with
    `SessionFinished` (a million-token answer is 5.5 MB of UTF-8: once is enough)."""
    v = finished.verdict
    if not (v.answer or v.reasoning):
        return finished
    return replace(finished, verdict=replace(v, answer=b"", reasoning=""))


async def _run_one(
    run_id: int,
    kwargs: dict[str, Any],
    cancel: asyncio.Event,
    client: Any,
    out: _Outbox,
    stores: _Stores,
) -> None:
    from core.live.continuation import CannotContinue
    from core.live.results import RunFinished
    from core.live.session import SessionFinished, run_session
    from core.record.savefile import RunRecorder, TeeRecorder

    recording = kwargs.pop("recording", None)
    history = kwargs.pop("history", None)
    breaker = kwargs.get("breaker")
    spec = kwargs["previous"].spec if kwargs.get("previous") is not None else kwargs["spec"]
    kept = _history_recorder(run_id, history, spec, stores, out)
    saved = None
    if recording and kept is None:  # the working file only where the history cannot keep it
        Path(recording).parent.mkdir(parents=True, exist_ok=True)
        saved = RunRecorder(Path(recording))
    recorder = TeeRecorder(saved, kept) if saved or kept else None
    agen = run_session(cancel=cancel, recorder=recorder, client=client, grouped=True, **kwargs)
    try:
        async for event in agen:
            if type(event) is list:  # a network read's events
                out.events(run_id, event)
                if not out.writable.is_set():  # the window lags: read the network later
                    out.flush()
                    await out.writable.wait()
            elif isinstance(event, SessionFinished):  # the breaker has recorded the verdict
                out.send(("breaker", run_id, breaker))
                out.event(run_id, event)
                out.flush()
            elif isinstance(event, RunFinished):
                out.event(run_id, _without_text(event))
            else:
                out.event(run_id, event)
                if not out.writable.is_set():  # the window lags: read the network later
                    out.flush()
                    await out.writable.wait()
    except CannotContinue as exc:
        out.send(("cannot_continue", run_id, str(exc)))
    except Exception as exc:  # core never raises here; if it does, the window says so
        key = getattr(kwargs.get("spec"), "api_key", None)
        text = f"{type(exc).__name__}: {exc}"
        out.send(("failed", run_id, text.replace(key, "***") if key else text))
    finally:
        await agen.aclose()
        if recorder is not None:
            recorder.close()
        out.send(("done", run_id))


async def _race_one(run_id: int, kwargs: dict[str, Any], race: Any, out: _Outbox) -> None:
    from core.live.race import LaneEvent, RaceFinished
    from core.stream.events import ChunkReceived, Phase, RequestSent, WireEvent

    bulky = (ChunkReceived, WireEvent, RequestSent, Phase) if kwargs.get("lean") else ()
    try:
        async for event in race.events():
            if isinstance(event, LaneEvent) and isinstance(event.event, bulky):
                continue
            if isinstance(event, RaceFinished):  # priced here: the price data loads slowly
                lanes = range(len(event.result.plan.lanes))
                out.send(("costs", run_id, [event.result.lane_cost(i) for i in lanes]))
            out.event(run_id, event)
            if not out.writable.is_set():
                out.flush()
                await out.writable.wait()
    except Exception as exc:  # core never raises here; if it does, the window says so
        out.send(("failed", run_id, f"{type(exc).__name__}: {exc}"))
    finally:
        out.send(("done", run_id))


def _preload() -> None:
    """Load what a run needs while the engine is idle, so the first Send does not wait for
    it (a command that arrives meanwhile waits only for the rest of this)."""
    import importlib

    import core.live.session
    import core.record.history
    import core.record.savefile
    import core.stream.dialects  # noqa: F401
    from core.live.netreader import shared_reader, yield_cpu

    shared_reader()  # its process starts now, not in the first run's first reads
    yield_cpu(ENGINE_NICE)
    # What httpcore loads on its first request: 80-100 ms here, which the first run spent
    # between its start and its request (anyio's asyncio backend, mostly).
    for name in _FIRST_REQUEST_MODULES:
        with contextlib.suppress(ImportError):  # a later release may have moved one
            importlib.import_module(name)


_FIRST_REQUEST_MODULES = (
    "anyio._backends._asyncio",
    "anyio.streams.tls",
    "anyio.to_thread",
    "encodings.idna",
    "sniffio",
)


async def _serve(in_fd: int, out_fd: int) -> None:
    from core.live.transport import new_client

    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    write_transport, pipe = await loop.connect_write_pipe(
        _Pipe, os.fdopen(out_fd, "wb", buffering=0, closefd=False)
    )
    write_transport.set_write_buffer_limits(high=OUTBOX_BYTES)
    out = _Outbox(write_transport, pipe.writable)
    runs: dict[int, tuple[asyncio.Task[None], Callable[[], None]]] = {}
    client = new_client(read_thread=True)  # reads never wait for sixteen lanes' parsing
    stores = _Stores()

    def track(run_id: int, task: asyncio.Task[None], stop: Callable[[], None]) -> None:
        runs[run_id] = (task, stop)
        task.add_done_callback(lambda _t, r=run_id: runs.pop(r, None))

    def handle(message: tuple[Any, ...]) -> None:
        match message:
            case ("start", run_id, kwargs):
                cancel = asyncio.Event()
                track(
                    run_id,
                    loop.create_task(_run_one(run_id, kwargs, cancel, client, out, stores)),
                    cancel.set,
                )
            case ("race", run_id, kwargs):
                from core.live.race import Race

                save_dir = Path(kwargs["save_dir"]) if kwargs.get("save_dir") else None
                race = Race(
                    kwargs["plan"],
                    client=client,
                    save_dir=save_dir,
                    history=_race_history(run_id, kwargs.get("history"), stores, out),
                )
                track(run_id, loop.create_task(_race_one(run_id, kwargs, race, out)), race.stop)
            case ("stop", run_id):
                if run_id in runs:
                    runs[run_id][1]()
            case ("quit",):
                ended.set()

    await loop.connect_read_pipe(
        lambda: _Commands(handle, ended), os.fdopen(in_fd, "rb", buffering=0, closefd=False)
    )
    loop.call_soon(_preload)
    await ended.wait()
    for _task, stop in list(runs.values()):
        stop()
    pending = [task for task, _ in runs.values()]
    if pending:
        await asyncio.wait(pending, timeout=5.0)
    out.flush()
    await out.drained()
    stores.close()
    await client.aclose()
    write_transport.close()


def serve() -> None:
    """The engine process's main: serve until the parent says quit or goes away."""
    in_fd, out_fd = sys.stdin.fileno(), os.dup(sys.stdout.fileno())
    sys.stdout = sys.stderr  # a stray print must never land in the frames' pipe
    sys.setswitchinterval(0.0005)  # the reader thread gets the GIL within 0.5 ms of a read
    fix_mmap_threshold()  # a session's end (its joined answer, JSON, pickle) leaves no holes
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(in_fd, out_fd))

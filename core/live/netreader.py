"""The reader of every run's sockets: it takes each segment off its socket as soon as the
kernel has it, so that a process whose event loop is busy (the network engine parsing
sixteen lanes) still reads each write before the next one lands on it.

Why: TCP hands queued segments over as one read, with the kernel's stamp of the last, so a
late read gives two tokens one time.

On Linux the reading is done by a small process of its own (`readerproc`, started on first
use): a reader thread here would wait for the GIL, and on a loaded machine the thread that
holds it is often waiting for a core itself. The process hands (stamp, bytes) over a Unix
socket to a thread here that fills each socket's buffer. Where that process cannot run (not
Linux, or it failed to start) a thread of this process reads the sockets itself.

Either way, reads are `recvmsg` with kernel stamps (`netstamp`) into a per-socket buffer;
the socket's asyncio side takes from the buffer and waits on a future the thread resolves.
A buffer that grows past `CAP` stops the socket being read until the loop catches up.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from core.live import readerproc

__all__ = [
    "CAP",
    "ProcessReader",
    "ReadBuffer",
    "Reader",
    "ReaderGone",
    "ThreadReader",
    "reader_gone",
    "shared_reader",
    "started",
]

CAP = 1 * 1024 * 1024  # bytes read ahead of the loop before the socket is paused
# What a chunk costs besides its bytes (its bytes object's header, the tuple, the stamp, the
# deque's slot): the reader process reads every segment apart, so a fast stream's chunks are
# ~150 bytes and this counts, or CAP would hold twice its size.
CHUNK_COST = 128
READ_SIZE = readerproc.READ_SIZE

_shared: Reader | None = None
_shared_lock = threading.Lock()
# Where a new reader process is started from, when its starter's thread must not pass on
# its own priority (the engine lowers its parsing thread's: `yield_cpu`).
_starter: Callable[[Callable[[], Reader]], Reader] | None = None


class ReaderGone(OSError):
    """The reader process ended (killed, out of memory): StreamScope's own failure, not the
    network's, so the run ends as `interrupted/engine_failed` (`runner`), not as a reset."""


def reader_gone(exc: BaseException | None) -> bool:
    """Whether an error (httpx wraps httpcore wraps ours) came from a reader that ended."""
    while exc is not None:
        if isinstance(exc, ReaderGone):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class Reader(Protocol):
    """What a socket's buffer needs of whoever reads it."""

    def add(self, buffer: ReadBuffer) -> None: ...
    def forget(self, buffer: ReadBuffer) -> None: ...
    def pause(self, buffer: ReadBuffer) -> None: ...
    def resume(self, buffer: ReadBuffer) -> None: ...


def shared_reader() -> Reader:
    """The process's reader, started on first use: on Linux its own process (a new one if
    the last one ended), else (or if that cannot start) a daemon thread of this process."""
    global _shared
    with _shared_lock:
        if _shared is None or (isinstance(_shared, ProcessReader) and not _shared.alive):
            _shared = None
            if sys.platform == "linux":
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    _shared = _starter(ProcessReader) if _starter else ProcessReader()
            if _shared is None:
                _shared = _starter(ThreadReader) if _starter else ThreadReader()
        return _shared


def yield_cpu(nice: int) -> bool:
    """Lower the calling thread's priority by `nice` (Linux: a thread's own; the threads and
    processes it starts later inherit it) while the reader keeps its own: the reader
    process, and the thread here that takes what it read, are started first (or again,
    later) from a thread kept at the old priority. Returns whether it was lowered."""
    global _starter
    if sys.platform != "linux" or _starter is not None:
        return False
    from concurrent.futures import ThreadPoolExecutor

    starter = ThreadPoolExecutor(1, thread_name_prefix="netreader-starter")

    def start(make: Callable[[], Reader]) -> Reader:
        return starter.submit(make).result()

    start(shared_reader)  # the starter's thread exists now, at the old priority
    _starter = start
    try:
        os.nice(nice)
    except OSError:
        return False
    return True


async def started() -> Reader:
    """The process's reader once it reads. A new reader process takes some 50 ms (more on a
    busy machine) to start: a run waits for it before its clock starts, so that neither its
    connect time nor its first reads (queued meanwhile, so read as one) carry the wait."""
    reader = shared_reader()
    if isinstance(reader, ProcessReader) and not reader.ready.is_set():
        await asyncio.to_thread(reader.ready.wait, 10.0)
    return reader


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ReadBuffer:
    """What the reader has read from one socket and the loop has not taken yet."""

    def __init__(
        self,
        sock: socket.socket,
        loop: asyncio.AbstractEventLoop,
        receive: Callable[[], tuple[bytes, int]],
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.key = 0  # the reader's name for it
        self.loop = loop
        self.receive = receive  # one non-blocking read: (bytes, monotonic arrival)
        self.lock = threading.Lock()
        self.chunks: collections.deque[tuple[bytes, int]] = collections.deque()
        self.size = 0
        self.end: bool | BaseException = False  # True at EOF; the error that ended it
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False

    def deliver(self, data: bytes, stamp: int) -> bool:
        """The reader: bytes read (b"" at EOF). True when this filled the buffer (the reader
        pauses the socket, once: bytes already on their way still arrive)."""
        with self.lock:
            if not data:
                self.end = True
            else:
                self.chunks.append((data, stamp))
                self.size += len(data) + CHUNK_COST
            filled = self.size >= CAP and not self.paused
            if filled:
                self.paused = True
        return filled

    def wake(self) -> None:
        """The reader, after delivering: the loop's waiting read goes on."""
        with self.lock:
            waiter, self.waiter = self.waiter, None
        if waiter is not None:
            with contextlib.suppress(RuntimeError):  # its loop has closed: nobody waits
                self.loop.call_soon_threadsafe(_resolve, waiter)

    def pull(self, reader: ThreadReader) -> None:
        """The reader thread: read until the socket has nothing more (or the buffer is full)."""
        got = False
        while True:
            try:
                data, stamp = self.receive()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                reader.forget(self)
                self.fail(exc)
                return
            got = True
            if self.deliver(data, stamp):
                reader.pause(self)
                break
            if not data:
                reader.forget(self)
                break
        if got:
            self.wake()

    def fail(self, exc: BaseException) -> None:
        """End the buffer with an error its reader raises (the reader hit something)."""
        with self.lock:
            if self.end is not True:
                self.end = exc
        self.wake()

    def take(self, max_bytes: int, reader: Reader) -> tuple[bytes, int | None] | None:
        """The loop, without waiting: the next bytes read and their arrival ((b"", None) at
        the end), or None when the reader has nothing yet."""
        resume = False
        with self.lock:
            if not self.chunks:
                if self.end is True:
                    return b"", None
                if isinstance(self.end, BaseException):
                    raise self.end
                return None
            data, stamp = self.chunks.popleft()
            if len(data) > max_bytes:
                self.chunks.appendleft((data[max_bytes:], stamp))
                data = data[:max_bytes]
            else:
                self.size -= CHUNK_COST
            self.size -= len(data)
            if self.paused and self.size < CAP // 2:
                self.paused, resume = False, True
        if resume:
            reader.resume(self)
        return data, stamp

    async def read(self, max_bytes: int, reader: Reader) -> tuple[bytes, int | None]:
        """The loop: the next bytes read and their arrival (None at the end)."""
        while True:
            got = self.take(max_bytes, reader)
            if got is not None:
                return got
            with self.lock:
                if self.chunks or self.end is not False:
                    continue  # the reader came in between
                waiter = self.waiter = self.loop.create_future()
            await waiter

    def readable(self) -> bool:
        with self.lock:
            return bool(self.chunks) or self.end is not False


class ProcessReader:
    """The sockets are read by `readerproc` in a process of its own; a thread here takes what
    it read and fills the buffers. The process ends when this process closes its end (at
    exit, or killed: the kernel closes it)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # room for the process to read on while this one is busy (the kernel caps it)
            theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", readerproc.__file__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._ctl = ours
        self._keys = itertools.count(1)
        self._buffers: dict[int, ReadBuffer] = {}
        self._lock = threading.Lock()
        self.alive = True
        self.ready = threading.Event()  # set once the process says it reads
        self.pid = self._process.pid
        self.policy = readerproc.prefer_latency(self.pid)  # how the scheduler runs it
        self._thread = threading.Thread(target=self._run, name="netstamp-reader", daemon=True)
        self._thread.start()

    def _send(self, message: bytes, fds: list[int] | None = None) -> bool:
        try:
            if fds:
                socket.send_fds(self._ctl, [message], fds)
            else:
                self._ctl.send(message)
            return True
        except OSError:  # the process has ended: `_run` fails the buffers
            return False

    def add(self, buffer: ReadBuffer) -> None:
        with self._lock:
            buffer.key = next(self._keys)
            self._buffers[buffer.key] = buffer
        if not self._send(b"A" + readerproc.KEY.pack(buffer.key), [buffer.fd]):
            self.forget(buffer)
            buffer.fail(ReaderGone("the network reader process has ended"))

    def forget(self, buffer: ReadBuffer) -> None:
        """Stop reading a socket: its bytes still on their way are dropped, and the process
        closes its copy of the socket (the connection closes once both copies are)."""
        with self._lock:
            known = self._buffers.pop(buffer.key, None) is not None
        if known:
            self._send(b"F" + readerproc.KEY.pack(buffer.key))

    def pause(self, buffer: ReadBuffer) -> None:
        self._send(b"P" + readerproc.KEY.pack(buffer.key))

    def resume(self, buffer: ReadBuffer) -> None:
        self._send(b"R" + readerproc.KEY.pack(buffer.key))

    def close(self) -> None:
        """End the process (it exits when its end of the pair closes) and wait for it."""
        with contextlib.suppress(OSError):
            self._ctl.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(5)

    def _run(self) -> None:
        head = readerproc.DATA.size
        message = bytearray(head + READ_SIZE)  # every message lands here: one copy of its bytes
        view = memoryview(message)
        while True:
            try:
                size = self._ctl.recv_into(message)
            except InterruptedError:
                continue
            except OSError:
                size = 0
            if not size:
                break
            if message[0] == ord("H"):
                self.ready.set()
                continue
            op, key = message[0], readerproc.KEY.unpack_from(message, 1)[0]
            if op == ord("D"):  # per read: the stamp follows the key
                stamp = readerproc.STAMP.unpack_from(message, 1 + readerproc.KEY.size)[0]
            with self._lock:
                buffer = self._buffers.get(key)
            if buffer is None:
                continue  # forgotten meanwhile
            if op == ord("D"):
                if buffer.deliver(bytes(view[head:size]), stamp):
                    self.pause(buffer)
                buffer.wake()
            elif op == ord("E"):
                self.forget(buffer)
                buffer.deliver(b"", 0)
                buffer.wake()
            elif op == ord("X"):
                _, _, code = readerproc.ERROR.unpack_from(message)
                text = bytes(view[readerproc.ERROR.size : size]).decode(errors="replace")
                self.forget(buffer)
                buffer.fail(OSError(code, text))
        self.alive = False
        self.ready.set()  # nobody waits for a reader that has ended
        self._ctl.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(1)  # it has closed its end: it is ending or has ended
        with self._lock:
            orphans, self._buffers = list(self._buffers.values()), {}
        for buffer in orphans:
            buffer.fail(ReaderGone("the network reader process has ended"))


class ThreadReader:
    """The sockets are read by a thread of this process (where `readerproc` cannot run)."""

    def __init__(self) -> None:
        self._poll = select.epoll()
        self._buffers: dict[int, ReadBuffer] = {}
        self._lock = threading.RLock()  # held while a buffer is pulled: forget waits for it
        self._thread = threading.Thread(target=self._run, name="netstamp-reader", daemon=True)
        self._thread.start()

    def add(self, buffer: ReadBuffer) -> None:
        with self._lock:
            buffer.key = buffer.fd
            self._buffers[buffer.fd] = buffer
            self._poll.register(buffer.fd, select.EPOLLIN)

    def forget(self, buffer: ReadBuffer) -> None:
        """Stop reading a socket; once this returns the thread never touches it again (the
        socket may then be closed and its number reused)."""
        with self._lock:
            if self._buffers.get(buffer.fd) is buffer:
                del self._buffers[buffer.fd]
                self._modify(self._poll.unregister, buffer.fd)

    def pause(self, buffer: ReadBuffer) -> None:
        self._modify(self._poll.modify, buffer.fd, 0)

    def resume(self, buffer: ReadBuffer) -> None:
        with self._lock:
            if self._buffers.get(buffer.fd) is buffer:
                self._modify(self._poll.modify, buffer.fd, select.EPOLLIN)

    @staticmethod
    def _modify(call: Any, *args: Any) -> None:
        with contextlib.suppress(OSError, ValueError):  # already closed or unregistered
            call(*args)

    def _run(self) -> None:
        while True:
            try:
                ready = self._poll.poll()
            except InterruptedError:
                continue
            for fd, _ in ready:
                with self._lock:
                    buffer = self._buffers.get(fd)
                    if buffer is None:
                        continue
                    try:
                        buffer.pull(self)
                    except Exception as exc:  # never let one socket end the thread
                        self.forget(buffer)
                        buffer.fail(exc)

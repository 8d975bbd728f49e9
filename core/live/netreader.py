"""One thread that reads every registered socket as soon as the kernel has bytes for it, so
that a process whose event loop is busy (the network engine parsing sixteen lanes) still
takes each segment off the socket before the next one lands on it.

Why: TCP hands queued segments over as one read, with the kernel's stamp of the last, so a
late read gives two tokens one time. The loop's own reads wait for the loop; this thread
waits only for the GIL, which the engine hands over every 0.5 ms (`sys.setswitchinterval`).

The thread reads with `recvmsg` (kernel stamps, `netstamp`) into a per-socket buffer; the
socket's asyncio side takes from the buffer and waits on a future the thread resolves. A
buffer that grows past `CAP` stops the socket being read until the loop catches up.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["CAP", "ReadBuffer", "Reader", "shared_reader"]

CAP = 4 * 1024 * 1024  # bytes read ahead of the loop before the socket is paused
READ_SIZE = 65536

_shared: Reader | None = None
_shared_lock = threading.Lock()


def shared_reader() -> Reader:
    """The process's reader thread, started on first use (a daemon: it ends with the
    process; an idle one sleeps in epoll)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Reader()
        return _shared


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ReadBuffer:
    """What the thread has read from one socket and the loop has not taken yet."""

    def __init__(
        self,
        sock: socket.socket,
        loop: asyncio.AbstractEventLoop,
        receive: Callable[[], tuple[bytes, int]],
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.loop = loop
        self.receive = receive  # one non-blocking read: (bytes, monotonic arrival)
        self.lock = threading.Lock()
        self.chunks: collections.deque[tuple[bytes, int]] = collections.deque()
        self.size = 0
        self.end: bool | BaseException = False  # True at EOF; the error that ended it
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False

    def pull(self, reader: Reader) -> None:
        """The reader thread: read until the socket has nothing more (or the buffer is full)."""
        got = False
        while True:
            if self.size >= CAP:
                with self.lock:
                    self.paused = True
                reader.pause(self.fd)
                break
            try:
                data, stamp = self.receive()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                with self.lock:
                    self.end = exc
                reader.forget(self.fd)
                got = True
                break
            with self.lock:
                if not data:
                    self.end = True
                else:
                    self.chunks.append((data, stamp))
                    self.size += len(data)
            got = True
            if not data:
                reader.forget(self.fd)
                break
        if got:
            with self.lock:
                waiter, self.waiter = self.waiter, None
            if waiter is not None:
                with contextlib.suppress(RuntimeError):  # its loop has closed: nobody waits
                    self.loop.call_soon_threadsafe(_resolve, waiter)

    def fail(self, exc: BaseException) -> None:
        """End the buffer with an error its reader raises (the thread hit something)."""
        with self.lock:
            self.end = exc
            waiter, self.waiter = self.waiter, None
        if waiter is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(_resolve, waiter)

    def take(self, max_bytes: int, reader: Reader) -> tuple[bytes, int | None] | None:
        """The loop, without waiting: the next bytes read and their arrival ((b"", None) at
        the end), or None when the thread has nothing yet."""
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
            self.size -= len(data)
            if self.paused and self.size < CAP // 2:
                self.paused, resume = False, True
        if resume:
            reader.resume(self.fd)
        return data, stamp

    async def read(self, max_bytes: int, reader: Reader) -> tuple[bytes, int | None]:
        """The loop: the next bytes read and their arrival (None at the end)."""
        while True:
            got = self.take(max_bytes, reader)
            if got is not None:
                return got
            with self.lock:
                if self.chunks or self.end is not False:
                    continue  # the thread came in between
                waiter = self.waiter = self.loop.create_future()
            await waiter

    def readable(self) -> bool:
        with self.lock:
            return bool(self.chunks) or self.end is not False


class Reader:
    def __init__(self) -> None:
        self._poll = select.epoll()
        self._buffers: dict[int, ReadBuffer] = {}
        self._lock = threading.RLock()  # held while a buffer is pulled: forget waits for it
        self._thread = threading.Thread(target=self._run, name="netstamp-reader", daemon=True)
        self._thread.start()

    def add(self, buffer: ReadBuffer) -> None:
        with self._lock:
            self._buffers[buffer.fd] = buffer
            self._poll.register(buffer.fd, select.EPOLLIN)

    def forget(self, fd: int) -> None:
        """Stop reading a socket; once this returns the thread never touches it again (the
        socket may then be closed and its number reused)."""
        with self._lock:
            if self._buffers.pop(fd, None) is not None:
                self._modify(self._poll.unregister, fd)

    def pause(self, fd: int) -> None:
        self._modify(self._poll.modify, fd, 0)

    def resume(self, fd: int) -> None:
        with self._lock:
            if fd in self._buffers:
                self._modify(self._poll.modify, fd, select.EPOLLIN)

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
                        self.forget(fd)
                        buffer.fail(exc)

"""The network reader's own process: it takes every segment off the run's sockets the moment
the kernel has it, with the kernel's arrival stamp, and hands (stamp, bytes) to the process
that owns the sockets over a Unix socket.

Why a process and not a thread: a reader thread shares the GIL. On a loaded machine (two
cores, a window painting 5,000 tok/s), the thread that holds the GIL is itself often waiting
for a core, so the reader waits for it, and a write 5 ms later lands on the unread one: TCP
then hands both over as one read with the later stamp. Measured with two CPU hogs: a reader
thread beside a busy main thread merged 25-45 of 1,500 writes 5 ms apart; the same reader
with no GIL to wait for merged 0-1.

This file imports nothing from StreamScope, and of the standard library only C modules
(`_socket`, not `socket`, whose enums and helpers cost 1.4 MB here): it runs as
`python -I -S readerproc.py FD` (about 9 MB), FD being its end of a SOCK_SEQPACKET pair.

Messages (one packet each; KEY is the owner's 8-byte id of a socket):
  owner -> reader   b"A" KEY + the socket (SCM_RIGHTS)   read it
                    b"F" KEY                            forget it (and close our copy)
                    b"P" KEY / b"R" KEY                 pause / resume reading it
  reader -> owner   b"H"                                once: it reads
                    b"D" KEY STAMP BYTES                bytes read, arrived at STAMP
                    b"E" KEY                            the peer closed it
                    b"X" KEY ERRNO TEXT                 reading it failed
STAMP is on `time.monotonic_ns()`'s clock, which every process of the machine shares.
"""

from __future__ import annotations

import _socket
import _struct
import errno
import posix
import select
import sys
import time

READ_SIZE = 65536
READS_PER_WAKE = 16  # then the other sockets get their turn
KEY = _struct.Struct("<Q")
DATA = _struct.Struct("<cQq")  # op, key, stamp
STAMP = _struct.Struct("<q")
ERROR = _struct.Struct("<cQi")  # op, key, errno

# SO_TIMESTAMPNS (SO_TIMESTAMPNS_OLD): 35 on Linux except alpha, parisc and sparc. Python's
# socket module does not export it. The stamp is a native `struct timespec` (CLOCK_REALTIME).
SO_TIMESTAMPNS = 35 if sys.platform == "linux" else None
_TIMESPEC = _struct.Struct("@ll")
ANC_SIZE = _socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(_socket, "CMSG_SPACE") else 0
_FDS_SIZE = _socket.CMSG_SPACE(4 * 4) if hasattr(_socket, "CMSG_SPACE") else 0


def kernel_stamp(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return sec * 1_000_000_000 + nsec
    return None


def to_monotonic(real_ns: int | None) -> int:
    """A CLOCK_REALTIME stamp on the monotonic clock: the two clocks are read back to back,
    bracketed, and read again if something (a preemption) came between them; the
    narrowest of three brackets is kept (a 50 µs one put a stamp 37 µs off)."""
    if real_ns is None:
        return time.monotonic_ns()
    before = time.monotonic_ns()
    real = time.time_ns()
    after = time.monotonic_ns()
    for _ in range(2):  # per read: the usual first bracket (well under 2 µs) costs nothing more
        if after - before < 2_000:
            break
        b, r, a = time.monotonic_ns(), time.time_ns(), time.monotonic_ns()
        if a - b < after - before:
            before, real, after = b, r, a
    return (before + after) // 2 - max(0, real - real_ns)


def serve(fd: int) -> None:
    """Read until the owner closes its end (or dies: the kernel closes it then)."""
    owner = _socket.socket(fileno=fd)
    owner.setblocking(True)
    poll = select.epoll()
    poll.register(owner.fileno(), select.EPOLLIN)
    owner.send(b"H")  # reading from now on
    keys: dict[int, tuple[int, _socket.socket]] = {}  # our fd -> (the owner's key, socket)
    fds: dict[int, int] = {}  # the owner's key -> our fd

    def drop(key: int) -> None:
        ours = fds.pop(key, None)
        if ours is not None:
            _, sock = keys.pop(ours)
            try:  # noqa: SIM105 (contextlib is not imported here: see the module's note)
                poll.unregister(ours)
            except (OSError, ValueError):
                pass
            sock.close()

    def command() -> bool:
        try:
            message, ancillary, _flags, _addr = owner.recvmsg(64, _FDS_SIZE)
        except OSError:
            return False
        if not message:
            return False
        passed = [
            fd
            for level, kind, data in ancillary
            if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS
            for (fd,) in _struct.iter_unpack("i", data[: len(data) - len(data) % 4])
        ]
        op, key = message[:1], KEY.unpack_from(message, 1)[0]
        if op == b"A" and passed:
            sock = _socket.socket(fileno=passed[0])
            for extra in passed[1:]:
                posix.close(extra)
            keys[sock.fileno()] = (key, sock)
            fds[key] = sock.fileno()
            poll.register(sock.fileno(), select.EPOLLIN)
        elif op == b"F":
            drop(key)
        elif op in (b"P", b"R") and key in fds:
            try:  # noqa: SIM105
                poll.modify(fds[key], select.EPOLLIN if op == b"R" else 0)
            except OSError:
                pass
        return True

    buffer = bytearray(READ_SIZE)  # every read lands here: no allocation a read
    view = memoryview(buffer)

    def pull(key: int, sock: _socket.socket) -> None:
        for _ in range(READS_PER_WAKE):
            try:
                size, anc, _flags, _addr = sock.recvmsg_into([buffer], ANC_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                text = (exc.strerror or type(exc).__name__).encode()[:200]
                owner.send(ERROR.pack(b"X", key, exc.errno or errno.EIO) + text)
                drop(key)
                return
            if not size:
                owner.send(b"E" + KEY.pack(key))
                drop(key)
                return
            head = DATA.pack(b"D", key, to_monotonic(kernel_stamp(anc)))
            owner.sendmsg([head, view[:size]])

    try:
        while True:
            try:
                ready = poll.poll()
            except InterruptedError:
                continue
            for ours, _ in ready:
                if ours == owner.fileno():
                    if not command():
                        return
                elif ours in keys:
                    pull(*keys[ours])
    except (BrokenPipeError, ConnectionResetError):
        return  # the owner went away mid-send


def _short_slice(pid: int, slice_ns: int) -> bool:
    """Ask for a short time slice (`sched_setattr`'s `sched_runtime` for a normal task, Linux
    6.12+, no privilege needed): a waking task with a short slice preempts the one running
    sooner. Older kernels take the call and ignore the field."""
    import ctypes
    import platform

    numbers = {"x86_64": (314, 315), "aarch64": (274, 275)}.get(platform.machine())
    if numbers is None:
        return False
    set_attr, get_attr = numbers

    class SchedAttr(ctypes.Structure):
        _fields_ = [
            ("size", ctypes.c_uint32),
            ("sched_policy", ctypes.c_uint32),
            ("sched_flags", ctypes.c_uint64),
            ("sched_nice", ctypes.c_int32),
            ("sched_priority", ctypes.c_uint32),
            ("sched_runtime", ctypes.c_uint64),
            ("sched_deadline", ctypes.c_uint64),
            ("sched_period", ctypes.c_uint64),
            ("sched_util_min", ctypes.c_uint32),
            ("sched_util_max", ctypes.c_uint32),
        ]

    libc = ctypes.CDLL(None, use_errno=True)
    attr = SchedAttr()
    if libc.syscall(get_attr, pid, ctypes.byref(attr), ctypes.sizeof(attr), 0) != 0:
        return False
    attr.size = ctypes.sizeof(attr)
    attr.sched_runtime = slice_ns
    return libc.syscall(set_attr, pid, ctypes.byref(attr), 0) == 0


def prefer_latency(pid: int = 0) -> str:
    """Ask for process `pid` (0: this one) to run soon after a segment wakes it: on a loaded
    machine a reader that waits for a core lets the next write land on the unread one. A
    0.1 ms slice (Linux 6.12+, no privilege needed) does that for a task that sleeps between
    short wakes. Measured with `bench/gui_timing.py` (400 writes 5 ms apart, a second window
    streaming 5,000 tok/s, two cores): the default slice let 2-28 writes be read with the
    next, the short one 0-7. Real-time priority (where allowed) let none, but it cost a
    third of the window's throughput at 20,000 tok/s (the reader preempting the window on
    every write): not used. Returns what it got. The owner calls this for the reader's pid,
    so that the reader never loads ctypes (1.6 MB); the owner has it loaded already."""
    if sys.platform != "linux":
        return "default"
    try:
        return "short slice" if _short_slice(pid, 100_000) else "default"
    except (OSError, AttributeError, ValueError):
        return "default"


if __name__ == "__main__":
    serve(int(sys.argv[1]))

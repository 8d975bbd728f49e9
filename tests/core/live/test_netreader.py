"""The network reader (`core.live.netreader`): on Linux a process of its own reads every run's
socket, so reading never waits for this process's GIL. It holds a copy of each socket and
drops it when the run closes the socket; if it dies, waiting reads fail and the next
connection gets a new one; it ends with its owner. Elsewhere a thread reads (the fallback,
tested here too)."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpcore
import pytest

from core import ChunkReceived, RunFinished, RunSpec, run
from core.live import netreader, netstamp
from tests.core.wire_server import Reply, wire_server

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the reader process is Linux's")


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def held_by(pid: int, sock: socket.socket) -> bool:
    """Whether process `pid` holds a copy of `sock` (the same open socket)."""
    mine = os.fstat(sock.fileno()).st_ino
    fds = f"/proc/{pid}/fd"
    return any(_inode(f"{fds}/{fd}") == mine for fd in os.listdir(fds))


def exited(pid: int, timeout: float) -> bool:
    """Wait (on a pidfd, no polling) until `pid` exits."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


@pytest.fixture
def peer() -> Iterator[tuple[socket.socket, list[socket.socket]]]:
    """A loopback listener; the connections it accepted land in the list."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    yield listener, accepted
    for conn in accepted:
        conn.close()
    listener.close()


async def connect(listener: socket.socket, accepted: list[socket.socket]) -> netstamp._SocketStream:
    stream = await netstamp.StampingBackend(read_thread=True).connect_tcp(
        *listener.getsockname(), timeout=5
    )
    conn, _ = listener.accept()
    accepted.append(conn)
    assert isinstance(stream, netstamp._SocketStream)
    return stream


async def sent_and_read(stream: netstamp._SocketStream, conn: socket.socket, size: int) -> None:
    """`conn` writes `size` bytes while the stream reads 1,000 at a time: all, in order."""
    payload = bytes(range(256)) * (size // 256)
    sender = threading.Thread(target=conn.sendall, args=(payload,))
    sender.start()
    got = bytearray()
    while len(got) < len(payload):
        got += await stream.read(1000, timeout=10)
    sender.join(10)
    assert bytes(got) == payload


async def test_a_process_of_its_own_reads_the_socket_and_lets_go_of_it_on_close(peer) -> None:
    reader = await netreader.started()
    assert isinstance(reader, netreader.ProcessReader)
    assert reader.pid != os.getpid()
    assert reader.policy in ("short slice", "default")
    listener, accepted = peer
    stream = await connect(listener, accepted)
    accepted[0].sendall(b"hello")
    assert await stream.read(100, timeout=5) == b"hello"
    assert held_by(reader.pid, stream._sock)  # it read this, so it has taken the socket
    stamp = netstamp.arrival_ns(stream)
    assert stamp is not None
    await stream.aclose()
    # the peer sees the connection close: the reader's copy went with ours
    accepted[0].settimeout(10)
    assert accepted[0].recv(10) == b""


async def test_a_full_buffer_pauses_the_socket_and_every_byte_still_arrives_in_order(
    peer, monkeypatch
) -> None:
    monkeypatch.setattr(netreader, "CAP", 4096)
    listener, accepted = peer
    stream = await connect(listener, accepted)
    await sent_and_read(stream, accepted[0], 100 * 1024)  # paused and resumed many times
    await stream.aclose()


async def test_when_the_reader_process_dies_a_waiting_read_fails_and_a_new_one_takes_over(
    peer,
) -> None:
    listener, accepted = peer
    stream = await connect(listener, accepted)
    reader = netreader.shared_reader()
    assert isinstance(reader, netreader.ProcessReader)
    os.kill(reader.pid, signal.SIGKILL)
    with pytest.raises(httpcore.ReadError, match="network reader process has ended"):
        await stream.read(100, timeout=10)
    await stream.aclose()
    successor = await netreader.started()
    assert isinstance(successor, netreader.ProcessReader) and successor.pid != reader.pid
    again = await connect(listener, accepted)
    accepted[-1].sendall(b"still reads")
    assert await again.read(100, timeout=5) == b"still reads"
    await again.aclose()


async def test_a_run_whose_reader_process_dies_ends_as_engine_failed_not_as_a_reset() -> None:
    """Our own reader dying is not the network's doing: the verdict must not blame it."""
    first = b'data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n'
    steps = [first, 2.0, b"data: [DONE]\n\n"]  # nobody reads the rest: the reader is dead
    async with wire_server({"slow": Reply(steps)}) as srv:
        spec = RunSpec("openai-chat", srv.base("slow") + "/v1", "m", RunSpec.user("hi"))
        last = None
        async for event in run(spec):
            if isinstance(event, ChunkReceived):
                reader = netreader.shared_reader()
                assert isinstance(reader, netreader.ProcessReader)
                os.kill(reader.pid, signal.SIGKILL)
            last = event
    assert isinstance(last, RunFinished)
    assert last.verdict.label == "interrupted/engine_failed"
    assert last.verdict.text == "Hello"
    assert "reader process" in last.verdict.explanation


def test_the_reader_process_ends_with_its_owner_even_when_the_owner_is_killed() -> None:
    code = (
        "import asyncio, sys\n"
        "from core.live import netreader\n"
        "reader = asyncio.run(netreader.started())\n"
        "print(reader.pid, flush=True)\n"
        "sys.stdin.read()\n"  # until the test kills it
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as owner:
        assert owner.stdout is not None
        pid = int(owner.stdout.readline())
        owner.kill()
        owner.wait(10)
    assert exited(pid, 10)


def test_close_ends_the_reader_process() -> None:
    reader = netreader.ProcessReader()
    assert reader.ready.wait(10)
    reader.close()
    assert reader._process.returncode == 0
    assert not reader.alive


async def test_the_thread_fallback_reads_and_pauses_the_same_way(peer, monkeypatch) -> None:
    monkeypatch.setattr(netreader, "_shared", netreader.ThreadReader())
    monkeypatch.setattr(netreader, "CAP", 4096)
    listener, accepted = peer
    stream = await connect(listener, accepted)
    assert isinstance(stream._reader, netreader.ThreadReader)
    await sent_and_read(stream, accepted[0], 25 * 1024)
    accepted[0].close()
    assert await stream.read(100, timeout=5) == b""
    await stream.aclose()

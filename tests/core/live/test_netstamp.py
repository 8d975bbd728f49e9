"""The kernel's arrival stamps (`core.live.netstamp`): a read is stamped when its bytes reached
the machine, however late the loop reads them; TLS runs on top with the same stamps; and
every run's client uses the stamping backend."""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time

import httpcore
import httpx
import pytest
import trustme

from core import RunFinished, RunSpec, new_client, run
from core.live import netstamp
from tests.core.wire_server import Reply, wire_server

BODY = [
    b'data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n',
    b'data: {"choices":[{"index":0,"delta":{"content":" there"}}]}\n\n',
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    b"data: [DONE]\n\n",
]


async def finish(spec: RunSpec, client: httpx.AsyncClient) -> RunFinished:
    last = None
    async for event in run(spec, client=client):
        last = event
    assert isinstance(last, RunFinished)
    return last


@pytest.mark.skipif(sys.platform != "linux", reason="kernel receive stamps are Linux's")
async def test_a_read_is_stamped_when_its_bytes_arrived_not_when_the_loop_got_to_it() -> None:
    # Linux turns receive stamping on for the first socket that asks with deferred work:
    # in a fresh process the first segment can come unstamped (then the read's time is
    # used). This socket asks first, so the measured one finds stamping on.
    early = socket.socket()
    early.setsockopt(socket.SOL_SOCKET, netstamp._SO_TIMESTAMPNS, 1)
    listener = socket.create_server(("127.0.0.1", 0))
    written = threading.Event()
    wrote_at: list[int] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            wrote_at.append(time.monotonic_ns())
            conn.sendall(b"first")
            written.set()
            conn.recv(1)  # held open until the client closes

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    stream = await netstamp.StampingBackend().connect_tcp(*listener.getsockname(), timeout=5)
    try:
        written.wait(5)  # the loop is blocked here, as a busy UI thread would block it
        written_seen_at = time.monotonic_ns()
        while time.monotonic_ns() < written_seen_at + 5_000_000:
            pass  # and stays busy 5 ms more (a long paint): a read stamped now would show it
        loop_free_at = time.monotonic_ns()
        data = await stream.read(100, timeout=5)
        read_at = time.monotonic_ns()
    finally:
        await stream.aclose()
        server.join(5)
        listener.close()
        early.close()
    assert data == b"first"
    stamp = netstamp.arrival_ns(stream)
    assert stamp is not None
    # the kernel's stamp lies between the write and the moment the writer said it was done
    # (on loopback it was seen up to 31 µs past that moment, 1 run in 30 under load: 200 µs
    # are allowed), 5 ms before the loop was free to read
    assert wrote_at[0] <= stamp <= written_seen_at + 200_000, (wrote_at, stamp, written_seen_at)
    assert written_seen_at + 5_000_000 <= loop_free_at < read_at


@pytest.mark.skipif(sys.platform != "linux", reason="kernel receive stamps are Linux's")
async def test_the_reader_thread_takes_each_write_apart_while_the_loop_is_blocked() -> None:
    """Without the thread, a loop blocked across two writes reads them as one, stamped with
    the second's arrival; the thread reads each as it lands."""
    listener = socket.create_server(("127.0.0.1", 0))
    go_on, written = threading.Event(), threading.Event()
    wrote_at: list[int] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            for part in (b"first", b"second"):
                wrote_at.append(time.monotonic_ns())
                conn.sendall(part)
                if part == b"first":
                    go_on.wait(5)
            written.set()
            conn.recv(1)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    backend = netstamp.StampingBackend(read_thread=True)
    stream = await backend.connect_tcp(*listener.getsockname(), timeout=5)
    try:
        buffer = stream._buffer  # the loop stays blocked from here to both reads
        for _ in range(10**8):  # until the reader thread has taken "first" off the socket
            if buffer.readable():
                break
        go_on.set()
        written.wait(5)
        for _ in range(10**8):
            if len(buffer.chunks) == 2:
                break
        first = await stream.read(100, timeout=5)
        first_at = netstamp.arrival_ns(stream)
        second = await stream.read(100, timeout=5)
        second_at = netstamp.arrival_ns(stream)
    finally:
        await stream.aclose()
        server.join(5)
        listener.close()
    assert (first, second) == (b"first", b"second")
    assert wrote_at[0] <= first_at <= wrote_at[1] <= second_at


@pytest.mark.parametrize("read_thread", [False, True], ids=["loop reads", "reader thread"])
async def test_the_runs_client_reads_through_the_stamping_backend(read_thread: bool) -> None:
    async with (
        wire_server({"ok": Reply(BODY)}) as srv,
        new_client(read_thread=read_thread) as client,
    ):
        async with client.stream("POST", srv.base("ok") + "/v1/chat/completions") as response:
            await response.aread()
            assert netstamp.arrival_ns(response.extensions["network_stream"]) is not None
        spec = RunSpec("openai-chat", srv.base("ok") + "/v1", "m", RunSpec.user("hi"))
        done = await finish(spec, client)
    assert done.verdict.label == "completed/natural"
    m = done.verdict.metrics
    assert m.headers_ms is not None and m.ttfb_ms is not None
    assert 0 <= m.headers_ms <= m.ttfb_ms <= m.ttft_ms <= m.total_ms


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return server_ctx, client_ctx


def tls_client(client_ctx: ssl.SSLContext, read_thread: bool) -> httpx.AsyncClient:
    client = httpx.AsyncClient(verify=client_ctx, timeout=None)
    assert netstamp.install(client, read_thread=read_thread)
    return client


@pytest.mark.parametrize("read_thread", [False, True], ids=["loop reads", "reader thread"])
async def test_https_streams_through_the_stamping_tls_layer(tls, read_thread: bool) -> None:
    server_ctx, client_ctx = tls
    replies = {"ok": Reply([BODY[0], 0.01, *BODY[1:]]), "reset": Reply(BODY[:2], ending="reset")}
    client = tls_client(client_ctx, read_thread)
    async with wire_server(replies, server_ctx) as srv, client:
        ok = RunSpec("openai-chat", srv.base("ok") + "/v1", "m", RunSpec.user("hi"))
        first = await finish(ok, client)
        again = await finish(ok, client)  # a kept-alive TLS connection is reused
        cut = RunSpec("openai-chat", srv.base("reset") + "/v1", "m", RunSpec.user("hi"))
        reset = await finish(cut, client)
    for done in (first, again):
        assert done.verdict.label == "completed/natural"
        assert done.verdict.text == "Hello there"
        assert done.verdict.metrics.itl_ms is not None and done.verdict.metrics.itl_ms > 0
    assert reset.verdict.outcome == "interrupted"
    assert reset.verdict.text == "Hello there"


async def test_an_untrusted_certificate_is_a_connect_failure_with_its_reason(tls) -> None:
    server_ctx, _ = tls
    async with wire_server({"ok": Reply(BODY)}, server_ctx) as srv, new_client() as client:
        spec = RunSpec("openai-chat", srv.base("ok") + "/v1", "m", RunSpec.user("hi"))
        done = await finish(spec, client)
    assert done.verdict.label == "interrupted/connect_failed"
    assert "CERTIFICATE_VERIFY_FAILED" in done.verdict.explanation


async def test_a_refused_connection_and_a_read_timeout_keep_their_kinds() -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens here now
    backend = netstamp.StampingBackend()
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("127.0.0.1", port, timeout=5)
    listener = socket.create_server(("127.0.0.1", 0))
    stream = await backend.connect_tcp(*listener.getsockname(), timeout=5)
    try:
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(10, timeout=0.05)  # a short watchdog: nothing is ever sent
    finally:
        await stream.aclose()
        listener.close()

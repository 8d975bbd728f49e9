"""A scripted HTTP server on loopback that sends exact bytes: for byte-exact verdict tests of
what real servers do (llama-cpp-python's [DONE] then a cut body, LiteLLM's in-stream
`"code": "500"`, a gateway's headers) that the built-in mock does not play.

A script is a list of steps: `bytes` (one write, flushed), a float (the server pauses that
many seconds before its next write: a real gap on the wire, not test synchronisation), and
an ending: "eof" (the chunked body ends properly), "cut" (the connection closes without the
last chunk) or "reset" (a real TCP reset: SO_LINGER 0, then abort).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

from aiohttp import web

Step = bytes | float


@dataclass(slots=True)
class Reply:
    steps: Sequence[Step]
    ending: str = "eof"  # eof | cut | reset
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    first_byte_delay_s: float = 0.0  # after the headers, before the first body write


@dataclass(slots=True)
class WireServer:
    url: str
    replies: dict[str, Reply | list[Reply]]
    requests: list[dict] = field(default_factory=list)

    def base(self, name: str) -> str:
        """The base URL whose requests get the reply `name` (any path below it)."""
        return f"{self.url}/{name}"


def _abort(request: web.Request, *, reset: bool) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if reset and sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort() if reset else transport.close()


async def _drain(request: web.Request) -> None:
    transport = request.transport
    for _ in range(1000):  # a loopback buffer drains within a few loop turns
        if transport is None or not transport.get_write_buffer_size() or transport.is_closing():
            return
        await asyncio.sleep(0.001)


@asynccontextmanager
async def wire_server(
    replies: dict[str, Reply | list[Reply]], ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[WireServer]:
    """`replies[name]` answers requests under `/name/` (`replies["name/v1/models"]` that one
    path first); a list answers them in turn (its last reply repeats), so a retry can meet a
    different answer. With `ssl_context` it serves HTTPS."""
    server: WireServer
    served: dict[str, int] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        body = await request.read()
        server.requests.append({"path": request.path, "body": body})
        exact = f"{name}/{request.match_info['tail']}"
        name = exact if exact in replies else name
        script = replies[name]
        if isinstance(script, list):
            turn = served.get(name, 0)
            served[name] = turn + 1
            reply = script[min(turn, len(script) - 1)]
        else:
            reply = script
        resp = web.StreamResponse(status=reply.status, headers=reply.headers)
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        if reply.first_byte_delay_s:
            await asyncio.sleep(reply.first_byte_delay_s)
        for step in reply.steps:
            if isinstance(step, float):
                await asyncio.sleep(step)
            else:
                await resp.write(step)
        if reply.ending == "eof":
            await resp.write_eof()
        else:
            await _drain(request)
            _abort(request, reset=reply.ending == "reset")
        return resp

    app = web.Application()
    app.router.add_route("*", "/{name}/{tail:.*}", handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    scheme = "https" if ssl_context is not None else "http"
    server = WireServer(f"{scheme}://127.0.0.1:{port}", replies)
    try:
        yield server
    finally:
        await runner.cleanup()


@contextmanager
def threaded_wire_server(replies: dict[str, Reply | list[Reply]]) -> Iterator[WireServer]:
    """The same server on its own loop in a thread, for code that runs `asyncio.run` itself
    (the CLI)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    context = wire_server(replies)
    server = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(context.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

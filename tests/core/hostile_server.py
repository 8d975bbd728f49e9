"""A hostile HTTP server on loopback for tests: each path answers a scripted reply (status,
headers, body pieces written one by one), so a test can send what no real provider should:
the key echoed in pieces, endless lines, huge or compressed bodies. Real HTTP, no patching."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Reply:
    pieces: Callable[[], Iterable[bytes]] | list[bytes]
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    pause_s: float = 0.0  # server pacing between pieces, so each tends to be its own read


class HostileServer:
    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, path: str, reply: Reply) -> str:
        """Register `reply` at `path`; returns the base URL to give a dialect (OpenAI
        dialects append `/chat/completions`, so pass the path without it)."""
        self.replies[path] = reply
        return self.url

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        reply = self.replies.get(request.path)
        if reply is None:
            return web.Response(status=404, text="no such hostile route")
        resp = web.StreamResponse(status=reply.status, headers=reply.headers)
        if "Content-Length" not in reply.headers:
            resp.enable_chunked_encoding()
        await resp.prepare(request)
        pieces: Iterator[bytes] = iter(reply.pieces() if callable(reply.pieces) else reply.pieces)
        try:
            for piece in pieces:
                await resp.write(piece)
                if reply.pause_s:
                    await asyncio.sleep(reply.pause_s)
            await resp.write_eof()
        except ConnectionError:
            pass  # the client stopped reading (a cap): expected, not a server fault
        return resp

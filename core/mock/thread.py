"""Run the mock on its own thread (``start_mock_server``) or in the foreground (``serve_forever``).

The thread runs an explicitly created ``asyncio.SelectorEventLoop`` (never the global
policy's loop: under qasync that would be a Qt loop) and never touches the policy.

``listen_mock_server`` splits the start in two for the window's start-up: the socket is
bound and listening at once (its URLs are known, and a connection made early waits in the
backlog), while aiohttp is imported and the server started later, on the thread, by
``start(wait=False)``.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from collections.abc import Mapping
from types import TracebackType

from .scenarios import SCENARIOS, parse_params
from .state import MockState

SHUTDOWN_TIMEOUT_S = 0.25  # open streams (a stall) are cut this long after stop()


class MockServer:
    """A running mock provider. ``stop()`` is idempotent; also a context manager."""

    def __init__(self, host: str, port: int, defaults: Mapping[str, str] | None) -> None:
        self._state = MockState(parse_params(dict(defaults or {})))
        self._host = host
        self._port = port
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._sock: socket.socket | None = None  # bound by listen(), served by the thread
        self._waited = True  # someone waits for the start and is told of its failure
        self._stop_requested = threading.Event()  # stop() may come before the loop exists
        self._thread = threading.Thread(target=self._run, name="streamscope-mock", daemon=True)

    # -- public face ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_urls(self) -> dict[str, str]:
        root = self.url
        return {
            "openai-chat": f"{root}/v1",
            "openai-responses": f"{root}/v1",
            "anthropic": root,
            "gemini": root,
            "ollama": root,
        }

    @property
    def write_log(self) -> list[tuple[int, str, int]]:
        """(monotonic_ns, request id, bytes) for every write, in order."""
        return self._state.write_log

    @property
    def write_spans(self) -> list[tuple[int, int, str, int]]:
        """(monotonic_ns before, after, request id, bytes) for every streamed write."""
        return self._state.write_spans

    def listen(self) -> None:
        """Bind and listen now, without aiohttp: the port and URLs are known from here on."""
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._port = sock.getsockname()[1]

    def start(self, wait: bool = True) -> None:
        """Serve on the thread. ``wait``: return once serving, raising its failure here;
        without it a failure goes to ``threading.excepthook`` (printed) instead."""
        self._waited = wait
        self._thread.start()
        if wait:
            self._ready.wait()
            if self._error is not None:
                self._thread.join()
                raise self._error

    def stop(self) -> None:
        self._stop_requested.set()
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(event.set)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        if self._sock is not None and not self._thread.is_alive():
            self._sock.close()  # never served, or served and done: aiohttp may have closed it

    def __enter__(self) -> MockServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        loop = asyncio.SelectorEventLoop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the starting thread, not swallowed
            self._error = exc
            if not self._waited:
                raise
        finally:
            self._ready.set()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        from aiohttp import web  # here, not at import: see listen_mock_server

        from .server import build_app

        self._stop_event = asyncio.Event()
        runner = web.AppRunner(
            build_app(self._state),
            handler_cancellation=True,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        try:
            if self._sock is not None:
                site: web.BaseSite = web.SockSite(runner, self._sock)
            else:
                site = web.TCPSite(runner, self._host, self._port)
            await site.start()
            self._port = runner.addresses[0][1]
            self._ready.set()
            if not self._stop_requested.is_set():  # else stop() came before _stop_event was set
                await self._stop_event.wait()
        finally:
            await runner.cleanup()


def start_mock_server(
    host: str = "127.0.0.1", port: int = 0, defaults: Mapping[str, str] | None = None
) -> MockServer:
    """Start the mock on its own thread; returns once it is listening.

    ``defaults`` are parameter defaults as strings (``{"tps": "200"}``), the same keys as the
    ``x-mock-params`` header; a bad value raises ``ValueError`` here.
    """
    server = MockServer(host, port, defaults)
    server.start()
    return server


def listen_mock_server(
    host: str = "127.0.0.1", port: int = 0, defaults: Mapping[str, str] | None = None
) -> MockServer:
    """A mock whose socket listens already (``base_urls`` are final) but that serves only
    once ``start()`` is called: what the window does right after its first frame."""
    server = MockServer(host, port, defaults)
    server.listen()
    return server


def serve_forever(
    host: str = "127.0.0.1", port: int = 0, defaults: Mapping[str, str] | None = None
) -> None:
    """Run the mock in the foreground (``streamscope serve-mock``) until Ctrl+C."""
    server = start_mock_server(host, port, defaults)
    try:
        lines = [f"StreamScope mock provider listening on {server.url}"]
        lines += [f"  {dialect:<17} {url}" for dialect, url in server.base_urls.items()]
        lines.append("Scenarios (model mock-<scenario> or header x-mock-scenario):")
        lines.append("  " + ", ".join(SCENARIOS))
        lines.append("Press Ctrl+C to stop.")
        print("\n".join(lines), flush=True)
        while server._thread.is_alive():
            server._thread.join(0.5)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr, flush=True)
    finally:
        server.stop()

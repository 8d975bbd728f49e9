"""Run the mock on its own thread (``start_mock_server``) or in the foreground (``serve_forever``).

The thread runs an explicitly created ``asyncio.SelectorEventLoop`` (never the global
policy's loop: under qasync that would be a Qt loop) and never touches the policy.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Mapping
from types import TracebackType

from aiohttp import web

from .scenarios import SCENARIOS, parse_params
from .server import MockState, build_app

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

    def stop(self) -> None:
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(event.set)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

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
    def _start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _run(self) -> None:
        loop = asyncio.SelectorEventLoop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the starting thread, not swallowed
            self._error = exc
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
        self._stop_event = asyncio.Event()
        runner = web.AppRunner(
            build_app(self._state),
            handler_cancellation=True,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
            self._port = runner.addresses[0][1]
            self._ready.set()
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
    server._start()
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

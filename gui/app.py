"""The window's process: QApplication, the built-in mock, qasync's loop, one HTTP client.

Shutdown order (QT-NOTES): the app does not quit when the last window closes; the window's
`closed` signal sets an asyncio.Event, and `serve()` then cancels the run, closes the client
and returns, so the loop stops with nothing pending. The mock runs in its own thread with its
own loop; its socket listens before the window is built (the window needs its URLs).

Start-up (bench/startup.py): what the first frame does not need waits until the window is on
screen (its `first_frame_shown`): the mock's thread (which imports aiohttp) starts serving,
the engine process starts, and the start-up heap is frozen.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.heap import fix_mmap_threshold
from gui.pyside_fixes import collect_on_the_loop, drop_feature_source_cache

fix_mmap_threshold()  # a long stream's buffers leave no holes in the heap: see core/heap.py
drop_feature_source_cache()  # before the imports below: see gui/pyside_fixes.py

import qasync  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core import ProfileStore, data_dir  # noqa: E402
from core.mock import SCENARIOS, MockServer, listen_mock_server  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402

__all__ = ["SharedClient", "build_window", "main", "serve", "settle_heap", "start_deferred"]

APP_NAME = "StreamScope"


class SharedClient:
    """The app's one HTTP client (`core.new_client()`), made on first use, so importing httpx
    and setting up TLS are not on the way to the first frame. It stands in for the client:
    its attributes are the client's (`get` is httpx's GET: hence `instance()`); `aclose()`
    closes it if it was made."""

    def __init__(self) -> None:
        self._client: Any = None

    def instance(self) -> Any:
        if self._client is None:
            from core import new_client  # the HTTP stack: after the first frame

            self._client = new_client()
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.instance(), name)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def build_window(
    client: Any,
    mock_base_urls: dict[str, str],
    data: Path,
    settings: QSettings,
    profiles: ProfileStore | None = None,
) -> MainWindow:
    """`profiles` defaults to the user's file (``$STREAMSCOPE_PROFILES`` overrides it)."""
    return MainWindow(client, mock_base_urls, SCENARIOS, data, settings, profiles)


def settle_heap() -> None:
    """After start-up, move every object so far out of the collector's sight: a stream
    allocates tens of thousands of small objects, and full collections that rescan the Qt,
    pyqtgraph and numpy start-up heap paused the loop for 50-80 ms (bench/gui_throughput)."""
    gc.collect()
    gc.freeze()


def start_deferred(
    window: MainWindow, server: MockServer, client: SharedClient | None = None
) -> Callable[[], None]:
    """What start-up leaves for after the first frame."""

    def work() -> None:
        window.controller.warm_up()  # the engine process starts on the other core
        window.build_plot()  # before the mock's thread imports aiohttp beside it
        server.start(wait=False)
        # the HTTP client (httpx, ~220 modules, ~11 MB) is made on the first probe: runs go
        # through the engine process, so most sessions never need it in this one
        settle_heap()

    return work


async def serve(window: MainWindow, client: Any, files: Sequence[str] = ()) -> int:
    """Show the window, wait until it is closed, then shut down cleanly."""
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    window.show()
    for name in files[:1]:
        window.open_path(Path(name))
    try:
        await closed.wait()
    finally:
        await window.shutdown()
        await client.aclose()
    return 0


def main(argv: Sequence[str]) -> int:
    """`streamscope` with no arguments; an optional FILE opens a saved run or stream."""
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setQuitOnLastWindowClosed(False)
    collect_on_the_loop()  # never inside a paint event: see gui/pyside_fixes.py
    server = listen_mock_server(host="127.0.0.1", port=0)  # serves after the first frame
    try:
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            client = SharedClient()
            window = build_window(client, dict(server.base_urls), data_dir(), QSettings())
            window.first_frame_shown.connect(start_deferred(window, server, client))
            return loop.run_until_complete(serve(window, client, list(argv)))
    finally:
        server.stop()

"""GUI tests: the real window, offscreen, against the in-process mock over loopback HTTP.

The tests are synchronous: one qasync loop for the session is created `already_running`
(Qt's own loop runs whenever pytest-qt waits), and each test makes it the running loop only
for its own duration, so pytest-asyncio's loops in other tests are not disturbed. Teardown
cancels leftover tasks and never calls `loop.stop()` (that calls `QApplication.exit()`).
Synchronisation is by signals and `waitUntil`, never by sleeping.

Every GUI test gets its own profiles file (`STREAMSCOPE_PROFILES` in its tmp dir) and an
in-memory keyring backend (a real `KeyringBackend`, no OS store touched).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import pytest
import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from core import new_client
from core.mock import MockServer, start_mock_server
from gui.app import build_window
from gui.main_window import MainWindow
from gui.pyside_fixes import collect_on_the_loop
from gui.request.hints import low_max_tokens
from gui.request.values import RequestValues
from gui.run.messages import SessionOutcome
from tests.memory_keyring import MemoryKeyring

# fail_first=0: a fault every time (the mock counts per prompt for the whole session)
FAST = RequestValues(tokens=60, tps=2000.0, stall_s=60.0, first_byte_s=20.0, fail_first=0)


@pytest.fixture(autouse=True)
def ring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """This test's profiles file and keyring."""
    monkeypatch.setenv("STREAMSCOPE_PROFILES", str(tmp_path / "profiles" / "profiles.toml"))
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    with start_mock_server(defaults={"tps": "2000"}) as srv:
        yield srv


@pytest.fixture(scope="session")
def session_loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    collect_on_the_loop()  # as the app does: windows closed by one test die between events
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(None)
    yield loop
    # The loop believes Qt runs it (already_running); mark it stopped so it can close.
    loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
    loop.close()


@pytest.fixture
def qloop(session_loop: qasync.QEventLoop, qtbot: Any) -> Iterator[qasync.QEventLoop]:
    asyncio.set_event_loop(session_loop)
    asyncio.events._set_running_loop(session_loop)
    try:
        yield session_loop
        leftovers = [t for t in asyncio.all_tasks(session_loop) if not t.done()]
        for task in leftovers:
            task.cancel()
        qtbot.waitUntil(lambda: all(t.done() for t in leftovers), timeout=10_000)
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


def run_async(qtbot: Any, coro: Coroutine[Any, Any, Any], timeout: int = 10_000) -> Any:
    """Run a coroutine on the session loop from a synchronous test."""
    future = asyncio.ensure_future(coro)
    qtbot.waitUntil(future.done, timeout=timeout)
    return future.result()


@pytest.fixture
def window(
    qtbot: Any, qloop: qasync.QEventLoop, mock_server: MockServer, tmp_path: Path
) -> Iterator[MainWindow]:
    client = new_client()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = build_window(client, mock_server.base_urls, tmp_path / "data", settings)
    win.set_theme_choice("light")
    win.show()
    qtbot.waitExposed(win)
    yield win
    run_async(qtbot, win.shutdown())
    run_async(qtbot, client.aclose())
    win._close_confirmed = True  # the test's run need not be saved
    win.close()
    win.deleteLater()


def configure(win: MainWindow, **changes: Any) -> RequestValues:
    """Set the pane; a scenario whose ending needs a low max-token limit gets the one the
    window itself sets when it is chosen, unless the test names one."""
    low = low_max_tokens(changes.get("scenario", ""), changes.get("tokens", FAST.tokens))
    if low is not None:
        changes.setdefault("max_tokens", low)
    values = replace(FAST, **changes)
    win.request_pane.set_values(values)
    return values


def send_and_wait(qtbot: Any, win: MainWindow, timeout: int = 15_000) -> SessionOutcome:
    with qtbot.waitSignal(win.controller.verdict_ready, timeout=timeout) as blocker:
        qtbot.mouseClick(win.request_pane.send_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def click_and_wait(qtbot: Any, win: MainWindow, button: Any, timeout: int = 15_000) -> Any:
    with qtbot.waitSignal(win.controller.verdict_ready, timeout=timeout) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The offscreen platform plugin warns whenever a top-level window's size constraints
    # change or a window is raised (its stub has no window manager to tell); it says
    # nothing about our code.
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(
                pytest.mark.qt_log_ignore(
                    "does not support propagateSizeHints", "does not support raise"
                )
            )

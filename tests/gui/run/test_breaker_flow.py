"""The circuit breaker as a tester meets it (issue 14 item 2): the built-in mock is exempt;
any other server — here a second mock on loopback, as `serve-mock` would be — has a breaker
per profile and base URL; while it is open Retry says so and the panel offers the reset; a
refused retry is listed in the attempts and never replaces the verdict or removes Continue;
a reset shows at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from core.mock import MockServer, start_mock_server
from gui.main_window import MainWindow
from tests.gui.conftest import configure, send_and_wait

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def serve_mock() -> Iterator[MockServer]:
    """Another mock on loopback: to the window, just a server at some URL."""
    with start_mock_server(defaults={"tps": "2000"}) as srv:
        yield srv


def panel_buttons(win: MainWindow) -> dict[str, bool]:
    return {key: b.isEnabled() for key, b in win.verdict_panel.buttons.items()}


def test_the_built_in_mock_is_exempt(qtbot: Any, window: MainWindow) -> None:
    configure(window, scenario="http_500", prompt="the mock has no breaker")
    assert "off for the built-in mock" in window.breaker_label.text()
    for _ in range(6):
        assert send_and_wait(qtbot, window).verdict.label == "http_error/server"
    assert "off for the built-in mock" in window.breaker_label.text()
    assert panel_buttons(window)["retry"]
    assert not window._menus.actions["reset_breaker"].isEnabled()


def test_open_breaker_waits_refusal_keeps_the_verdict_reset_shows_at_once(
    qtbot: Any, window: MainWindow, serve_mock: MockServer
) -> None:
    url = serve_mock.base_urls["openai-chat"]
    configure(window, provider="custom", base_url=url, model="mock-reset_mid_stream")
    label = window.breaker_label
    assert label.text() == "Circuit breaker (Custom): closed"
    for n in range(1, 6):
        outcome = send_and_wait(qtbot, window)
        assert outcome.verdict.label == "interrupted/connection_reset"
        assert ("OPEN" in label.text()) == (n == 5), label.text()
    panel = window.verdict_panel
    # open: Retry says so and waits, Continue and More tokens too; the panel offers the reset
    assert panel_buttons(window) == {"retry": False, "continue": False, "more_tokens": False}
    assert panel.retry_button.text().startswith("Retry in ")
    assert "circuit breaker" in panel.retry_button.toolTip()
    assert panel.reset_breaker_button.isVisibleTo(window)
    assert not window._menus.actions["retry"].isEnabled()  # menu and shortcut: the same rule
    qtbot.waitUntil(lambda: not window.controller.busy)
    window._menus.actions["retry"].trigger()
    window._retry()  # the slot itself obeys the rule too
    assert not window.controller.busy
    assert panel.attempts.topLevelItemCount() == 1
    text_before = window.stream_view.answer_text()
    # a retry refused by the breaker all the same (e.g. an automatic one) keeps the verdict
    with qtbot.waitSignal(window.controller.verdict_ready, timeout=10_000) as blocker:
        window.controller.retry()
    assert blocker.args[0].verdict.label == "not_sent/breaker_open"
    assert panel.outcome_label == "interrupted/connection_reset"
    rows = panel.attempts
    assert rows.topLevelItemCount() == 2
    assert rows.topLevelItem(1).text(2) == "not_sent/breaker_open"
    assert "circuit breaker" in panel.notes.text()
    assert window.stream_view.answer_text() == text_before  # not greyed out, not replaced
    last = window.controller.last_session
    assert last is not None and last.verdict.label == "interrupted/connection_reset"
    # the reset updates the panel and every button at once
    qtbot.mouseClick(panel.reset_breaker_button, Qt.MouseButton.LeftButton)
    assert label.text() == "Circuit breaker (Custom): closed"
    assert not panel.reset_breaker_button.isVisibleTo(window)
    assert panel_buttons(window) == {"retry": True, "continue": True, "more_tokens": False}
    assert panel.retry_button.text() == "Retry"
    # keyed by profile and base URL: the same profile elsewhere has its own
    configure(window, provider="custom", base_url="http://127.0.0.1:9/v1", model="m")
    assert label.text() == "Circuit breaker (Custom): closed"


def test_the_breaker_of_a_url_is_not_another_urls(
    qtbot: Any, window: MainWindow, serve_mock: MockServer
) -> None:
    breakers = window.controller.breakers
    url = serve_mock.base_urls["anthropic"]
    configure(window, provider="custom", dialect="anthropic", base_url=url, model="mock-http_500")
    for _ in range(5):
        send_and_wait(qtbot, window)
    state = breakers.state("Custom", url)
    assert state is not None and state.state == "open"
    other = breakers.state("Custom", serve_mock.base_urls["openai-chat"])
    assert other is not None and other.state == "closed"
    assert breakers.state("Custom", window._mock_urls["anthropic"]) is None  # exempt

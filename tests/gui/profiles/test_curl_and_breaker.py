"""Edit → Copy as curl (no key, a `$VAR` in its place), File → Import curl… (fills the
request pane; a key found is offered for the keyring, never saved to the file), and the
circuit breaker flow is in tests/gui/run/test_breaker_flow.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from core import mock_profile
from core.mock import MockServer
from core.providers.keys import SERVICE
from gui.main_window import MainWindow
from tests.gui.conftest import MemoryKeyring, configure, send_and_wait

pytestmark = pytest.mark.gui

SECRET = "sk-curl-test-0a1b2c3d4e5f"


def test_copy_as_curl_never_holds_the_key(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = window.profile_store
    store.put(replace(mock_profile("mock", "openai-chat"), name="My relay"))
    store.set_key("My relay", SECRET)
    window.refresh_profiles()
    pane = window.request_pane
    pane.provider.setCurrentIndex(pane.provider.findData("profile:My relay"))
    text = window.copy_as_curl()
    assert text is not None and QGuiApplication.clipboard().text() == text
    assert SECRET not in text
    assert '-H "Authorization: Bearer $MY_RELAY_API_KEY"' in text
    assert "/chat/completions" in text and "mock-normal" in text
    assert "$MY_RELAY_API_KEY" in window.statusBar().currentMessage()
    assert SECRET not in window.statusBar().currentMessage()
    # Custom with a key variable: the variable is named, its value is not read
    monkeypatch.setenv("RELAY_KEY", SECRET)
    configure(
        window,
        provider="custom",
        base_url="https://relay.example/v1",
        model="m",
        key_env="RELAY_KEY",
    )
    text = window.copy_as_curl()
    assert text is not None and SECRET not in text
    assert '"Authorization: Bearer $RELAY_KEY"' in text
    assert text.startswith("curl -N") and "https://relay.example/v1/chat/completions" in text


def test_import_curl_fills_the_pane_and_offers_the_key_for_the_keyring(
    qtbot: Any, window: MainWindow, mock_server: MockServer, ring: MemoryKeyring
) -> None:
    url = mock_server.base_urls["anthropic"] + "/v1/messages"
    command = (
        f"curl -N {url} -H 'x-api-key: {SECRET}' -H 'anthropic-version: 2023-06-01' "
        "-H 'X-Title: imported' -H 'content-type: application/json' "
        '-d \'{"model": "mock-max_tokens", "max_tokens": 50, "stream": true, '
        '"system": "Be brief.", "messages": [{"role": "user", "content": "Tell me a story"}]}\''
    )
    dialog = window.show_curl_import()
    assert not dialog.isModal()
    dialog.command.setPlainText(command)
    assert "key: one in the command (not shown)" in dialog.summary.text()
    assert SECRET not in dialog.summary.text()
    assert dialog.store_key.isVisible() and dialog.store_key.isChecked()
    dialog.name.setText("Imported mock")
    with qtbot.waitSignal(dialog.imported, timeout=5_000):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.command.toPlainText() == ""  # the pasted key is not kept on screen
    store = window.profile_store
    saved = store.get("Imported mock")
    assert saved is not None and saved.headers == {"X-Title": "imported"}
    assert ring.entries[(SERVICE, "Imported mock")] == SECRET
    assert SECRET not in store.path.read_text()
    values = window.request_pane.values()
    assert values.provider == "profile:Imported mock"
    assert (values.dialect, values.model) == ("anthropic", "mock-max_tokens")
    assert values.base_url == mock_server.base_urls["anthropic"]
    assert (values.prompt, values.system, values.max_tokens) == (
        "Tell me a story",
        "Be brief.",
        50,
    )
    outcome = send_and_wait(qtbot, window)  # and it runs, with the key from the keyring
    assert outcome.verdict.label == "truncated/max_tokens"
    assert SECRET not in window.windowTitle()
    assert SECRET not in window.inspector.exchange.toPlainText()


def test_import_curl_into_custom_keeps_no_key(
    qtbot: Any, window: MainWindow, ring: MemoryKeyring
) -> None:
    command = (
        "curl https://api.example.com/v1/chat/completions -H 'Authorization: Bearer $EX_KEY' "
        '-d \'{"model": "m-1", "messages": [{"role": "user", "content": "hi"}], "top_p": 0.5}\''
    )
    dialog = window.show_curl_import()
    dialog.as_profile.setChecked(False)
    dialog.command.setPlainText(command)
    assert not dialog.store_key.isVisible()  # a $VARIABLE, not a key
    with qtbot.waitSignal(dialog.imported, timeout=5_000):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    values = window.request_pane.values()
    assert (values.provider, values.base_url, values.model) == (
        "custom",
        "https://api.example.com/v1",
        "m-1",
    )
    assert (values.key_env, values.prompt) == ("EX_KEY", "hi")
    assert '"top_p": 0.5' in values.extra_json
    assert window.profile_store.load() == () and ring.entries == {}

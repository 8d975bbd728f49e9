"""The profiles dialog (issue 6 item 4): create from a preset pointed at the built-in mock,
edit, delete, test connection and fetch models against the in-process mock, a broken file
reported with its line and left untouched, no keyring backend; the request pane's picker."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt

from core import KeyRef, ProfileStore, mock_profile
from core.providers.keys import SERVICE
from gui.main_window import MainWindow
from gui.profiles.dialog import ProfilesDialog
from gui.widgets.form_bits import write_field
from tests.gui.conftest import MemoryKeyring, send_and_wait

pytestmark = pytest.mark.gui

SECRET = "sk-gui-test-4f3e2d1c0b9a"
LEFT = Qt.MouseButton.LeftButton


def click(qtbot: Any, button: Any) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, LEFT)


def saved_on_mock(store: ProfileStore, name: str = "Mine", **changes: Any) -> None:
    """A saved profile whose base URL is `mock` (the built-in mock, via with_mock_url)."""
    store.put(replace(mock_profile("mock", "anthropic"), name=name, **changes))


def test_create_from_a_preset_on_the_mock_then_test_the_connection(
    qtbot: Any, window: MainWindow, ring: MemoryKeyring
) -> None:
    dialog = window.show_profiles()
    assert isinstance(dialog, ProfilesDialog) and dialog.isVisible() and not dialog.isModal()
    assert dialog.select("Anthropic")
    assert not dialog.save_button.isEnabled()  # a preset is never edited in place
    assert not dialog.form.name.isEnabled()
    click(qtbot, dialog.duplicate_button)
    form = dialog.form
    assert form.name.text() == "Anthropic (copy)" and form.name.isEnabled()
    form.name.setText("My Anthropic")
    form.base_url.setText("mock")  # the built-in mock: the window applies with_mock_url
    write_field(form.key_source, "keyring")
    form.key_secret.setText(SECRET)
    click(qtbot, dialog.save_button)
    assert "Saved 'My Anthropic'" in dialog.message.text()
    store = window.profile_store
    saved = store.get("My Anthropic")
    assert saved is not None and saved.key == KeyRef("keyring", "My Anthropic")
    assert saved.dialect == "anthropic" and saved.auth_scheme == "x-api-key"
    assert ring.entries[(SERVICE, "My Anthropic")] == SECRET
    assert SECRET not in store.path.read_text()
    assert form.key_secret.text() == ""
    assert "A key is stored" in form.key_status.text()
    # the preset itself is unchanged, and the pane lists the new profile
    assert window.request_pane.provider.findData("profile:My Anthropic") >= 0
    probes = window.controller.probes
    with qtbot.waitSignal(probes.connection_tested, timeout=10_000) as blocker:
        click(qtbot, dialog.probe.test_button)
    verdict = blocker.args[1]
    assert verdict.outcome in ("completed", "truncated")
    assert dialog.probe.result_text == f"✓ Connection works: {verdict.label}"
    assert dialog.probe.result_detail.text().startswith(verdict.explanation)
    assert dialog.probe.test_button.isEnabled()
    for text in (dialog.probe.result_text, dialog.probe.result_detail.text(), window.windowTitle()):
        assert SECRET not in text


def test_test_connection_shows_an_auth_failure_without_the_key(
    qtbot: Any, window: MainWindow
) -> None:
    saved_on_mock(window.profile_store)
    dialog = window.show_profiles()
    assert dialog.select("Mine")
    write_field(dialog.form.key_source, "keyring")
    dialog.form.key_secret.setText("mock-unauthorized")  # typed, not saved: used for the test
    with qtbot.waitSignal(window.controller.probes.connection_tested, timeout=10_000):
        click(qtbot, dialog.probe.test_button)
    assert dialog.probe.result_text == "✗ Failed: http_error/auth"
    assert "mock-unauthorized" not in dialog.probe.result_detail.text()
    assert "401" in dialog.probe.result_detail.text()


def test_edit_rename_and_delete(qtbot: Any, window: MainWindow, ring: MemoryKeyring) -> None:
    store = window.profile_store
    saved_on_mock(store)
    store.set_key("Mine", SECRET)
    window.refresh_profiles()
    dialog = window.show_profiles()
    assert dialog.select("Mine")
    form = dialog.form
    form.model.setCurrentText("mock-max_tokens")
    form.headers.setPlainText("X-Title: StreamScope\nX-Trace: on")
    form.query.setPlainText("tier=free")
    form.verify_tls.setChecked(False)
    write_field(form.timeouts["stall_s"], 12.5)
    write_field(form.max_tokens, 0)
    click(qtbot, dialog.save_button)
    edited = store.get("Mine")
    assert edited is not None
    assert edited.model == "mock-max_tokens"
    assert edited.headers == {"X-Title": "StreamScope", "X-Trace": "on"}
    assert edited.query == {"tier": "free"}
    assert (edited.verify_tls, edited.timeouts.stall_s, edited.max_tokens) == (False, 12.5, None)
    # a bad field is refused with a message, and nothing is written
    before = store.path.read_bytes()
    form.headers.setPlainText("Authorization: Bearer x")
    click(qtbot, dialog.save_button)
    assert "Not saved" in dialog.message.text() and "carries a key" in dialog.message.text()
    assert store.path.read_bytes() == before
    form.headers.setPlainText("")
    form.name.setText("Renamed")
    click(qtbot, dialog.save_button)
    assert [p.name for p in store.load()] == ["Renamed"]
    assert window.request_pane.provider.findData("profile:Renamed") >= 0
    assert window.request_pane.provider.findData("profile:Mine") < 0
    # delete asks in place, then forgets the profile and its keyring entry
    click(qtbot, dialog.delete_button)
    assert dialog.confirm_box.isVisible()
    click(qtbot, dialog.confirm_delete_button)
    assert store.load() == ()
    assert ring.entries == {}
    assert window.request_pane.provider.findData("profile:Renamed") < 0


def test_fetch_models_fills_the_picker_or_says_why_not(qtbot: Any, window: MainWindow) -> None:
    dialog = window.show_profiles()
    assert dialog.select("Mock")
    click(qtbot, dialog.duplicate_button)
    probes = window.controller.probes
    with qtbot.waitSignal(probes.models_fetched, timeout=10_000) as blocker:
        click(qtbot, dialog.form.fetch_button)
    models = blocker.args[1]
    assert models and dialog.form.models() == tuple(models)
    assert f"{len(models)} models listed" in dialog.form.models_note.text()
    dialog.form.base_url.setText("http://127.0.0.1:9/v1")  # nothing listens there
    with qtbot.waitSignal(probes.probe_failed, timeout=20_000):
        click(qtbot, dialog.form.fetch_button)
    assert "Type the model name by hand" in dialog.form.models_note.text()
    assert dialog.form.model.isEditable()


def test_broken_file_is_shown_with_its_line_and_left_untouched(
    qtbot: Any, window: MainWindow
) -> None:
    path = window.profile_store.path
    path.parent.mkdir(parents=True, exist_ok=True)
    broken = b'version = 1\n\n[[profile]]\nname = "Relay"\ndialect = \n'
    path.write_bytes(broken)
    dialog = window.show_profiles()
    assert dialog.banner.isVisible()
    assert "line 5" in dialog.banner_text.text()
    assert path.read_bytes() == broken
    click(qtbot, dialog.new_button)
    assert not dialog.save_button.isEnabled()  # saving would overwrite the file
    assert dialog.select("OpenAI")  # presets still listed
    assert path.read_bytes() == broken
    click(qtbot, dialog.set_aside_button)
    assert not path.exists()
    assert Path(str(path) + ".broken").read_bytes() == broken
    assert not dialog.banner.isVisible()
    click(qtbot, dialog.new_button)
    dialog.form.base_url.setText("http://127.0.0.1:9/v1")
    click(qtbot, dialog.save_button)
    assert window.profile_store.get("New profile") is not None


def test_without_a_keyring_backend_only_env_variables_are_offered(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(fail.Keyring())  # the ring fixture restores the previous backend
    dialog = window.show_profiles()
    assert dialog.select("OpenAI")
    form = dialog.form
    assert "no keyring backend is available" in form.key_status.text()
    assert "environment variable" in form.key_status.text()
    item = form.key_source.model().item(0)  # type: ignore[attr-defined]
    assert not item.isEnabled()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set-in-env")
    click(qtbot, dialog.duplicate_button)
    assert "✓ $OPENAI_API_KEY is set." in form.key_status.text()
    assert "sk-set-in-env" not in form.key_status.text()


def test_picker_lists_profiles_and_presets_and_fills_the_pane(
    qtbot: Any, window: MainWindow
) -> None:
    saved_on_mock(window.profile_store, model="mock-max_tokens", max_tokens=30)
    window.refresh_profiles()
    combo = window.request_pane.provider
    entries = [combo.itemText(i).strip() for i in range(combo.count())]
    assert entries[:2] == ["Mock (built in)", "Custom"]
    assert entries.index("Saved profiles") < entries.index("Mine") < entries.index("Presets")
    assert {"OpenAI", "Anthropic", "Gemini", "Ollama", "vLLM", "Azure OpenAI"} <= set(entries)
    combo.setCurrentIndex(combo.findData("profile:Mine"))
    values = window.request_pane.values()
    assert (values.dialect, values.base_url, values.model) == (
        "anthropic",
        "mock",
        "mock-max_tokens",
    )
    assert values.max_tokens == 30
    assert window.request_pane.key_info.isVisibleTo(window)
    assert not window.request_pane.key_env.isVisibleTo(window)
    outcome = send_and_wait(qtbot, window)
    assert outcome.verdict.label == "truncated/max_tokens"
    assert window.controller.last_spec is not None
    assert window.controller.last_spec.profile == "Mine"
    assert "Mine · anthropic" in window.windowTitle()
    combo.setCurrentIndex(combo.findData("profile:OpenAI"))
    values = window.request_pane.values()
    assert (values.dialect, values.base_url) == ("openai-chat", "https://api.openai.com/v1")


def test_a_profile_price_is_edited_saved_and_refused_when_half_given(
    qtbot: Any, window: MainWindow
) -> None:
    store = window.profile_store
    saved_on_mock(store)
    window.refresh_profiles()
    dialog = window.show_profiles()
    assert dialog.select("Mine")
    form = dialog.form
    assert form.prices["input"].text() == "–"  # no price yet
    write_field(form.prices["input"], 2.5)
    write_field(form.prices["output"], 10.0)
    click(qtbot, dialog.save_button)
    price = store.get("Mine").price
    assert (price.input, price.output, price.cached_input) == (2.5, 10.0, None)
    before = store.path.read_bytes()
    write_field(form.prices["output"], -0.01)  # back to "–": half a price
    click(qtbot, dialog.save_button)
    assert "both the input and the output price" in dialog.message.text()
    assert store.path.read_bytes() == before

"""The profiles dialog as a user edits in it (issue 14 item 11): switching away from unsaved
edits asks first, the form fits without sideways scrolling, Fetch models works on presets,
and a server that lists a single model has it picked."""

from __future__ import annotations

from typing import Any

import pytest

from gui.main_window import MainWindow
from tests.gui.profiles.test_profiles_dialog import click, saved_on_mock

pytestmark = pytest.mark.gui


def test_switching_profiles_warns_about_unsaved_edits(qtbot: Any, window: MainWindow) -> None:
    saved_on_mock(window.profile_store, name="Mine")
    saved_on_mock(window.profile_store, name="Other")
    window.refresh_profiles()
    dialog = window.show_profiles()
    assert dialog.select("Mine")
    assert not dialog.has_unsaved_edits()  # showing a profile is not editing it
    assert dialog.select("Other") and dialog.form.name.text() == "Other"
    assert dialog.select("Mine")
    dialog.form.base_url.setText("http://127.0.0.1:9/v1")
    assert dialog.has_unsaved_edits()
    dialog.select("Other")
    # it stays on the edited profile, edits intact, and asks
    assert dialog.unsaved_box.isVisibleTo(dialog)
    assert "'Mine' has unsaved edits" in dialog.unsaved_text.text()
    assert dialog.form.name.text() == "Mine"
    assert dialog.form.base_url.text() == "http://127.0.0.1:9/v1"
    click(qtbot, dialog.keep_editing_button)
    assert not dialog.unsaved_box.isVisibleTo(dialog)
    assert dialog.form.base_url.text() == "http://127.0.0.1:9/v1"
    dialog.select("Other")
    click(qtbot, dialog.discard_button)
    assert dialog.form.name.text() == "Other"
    assert not dialog.unsaved_box.isVisibleTo(dialog)
    stored = window.profile_store.get("Mine")
    assert stored is not None and stored.base_url == "mock"  # discarded, never saved


def test_form_fits_and_fetch_models_works_on_a_preset(qtbot: Any, window: MainWindow) -> None:
    dialog = window.show_profiles()
    qtbot.waitExposed(dialog)
    assert dialog.select("Ollama")
    form = dialog.form
    assert form.fetch_button.isEnabled()  # a preset's models can be listed too
    assert not dialog.save_button.isEnabled()  # still never edited in place
    # the whole form row shows: no sideways scrolling, Fetch models not cut off
    fetch = form.fetch_button
    right = fetch.mapTo(dialog, fetch.rect().topRight()).x()
    assert right <= dialog.width()
    scroll = form.parentWidget().parentWidget()  # viewport → scroll area
    assert not scroll.horizontalScrollBar().isVisible()
    form.model.addItems(["a" * 120])  # a long model name does not widen the form
    assert form.sizeHint().width() < dialog.width()


def test_a_single_listed_model_is_picked(qtbot: Any, window: MainWindow) -> None:
    saved_on_mock(window.profile_store, name="Mine", model="")
    window.refresh_profiles()
    dialog = window.show_profiles()
    assert dialog.select("Mine")
    form = dialog.form
    form.set_models(["gemma-3-270m"], note="")
    assert form.model.currentText() == "gemma-3-270m"
    form.model.setCurrentText("")
    form.set_models(["a", "b"], note="")
    assert form.model.currentText() == ""  # several: the user picks
    # the real listing from the mock is many models: none is forced on the user
    probes = window.controller.probes
    form.model.setCurrentText("mock-normal")
    with qtbot.waitSignal(probes.models_fetched, timeout=10_000) as blocker:
        click(qtbot, form.fetch_button)
    assert len(blocker.args[1]) > 1
    assert form.model.currentText() == "mock-normal"

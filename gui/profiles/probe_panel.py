"""The profiles dialog's probes: "Test connection" (a one-token run of the profile as
edited, saved or not, with a key typed but not yet stored) and "Fetch models" (fills the
form's model picker, or says why not so the model is typed by hand). Both run on the
controller's `ProbeTasks` and answer by signal; this widget shows the verdict label, an
explanation and whether the connection works."""

from __future__ import annotations

import html
from collections.abc import Mapping

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core import ProfileError, Verdict, connection_test_spec, with_mock_url
from gui.profiles.form import ProfileForm
from gui.profiles.probes import ProbeTasks
from gui.theme import LIGHT, Theme, outcome_color

__all__ = ["ProbePanel"]

_WORKS = ("completed", "truncated", "tool_calls", "paused", "blocked")  # it answered and streamed


class ProbePanel(QWidget):
    def __init__(
        self,
        form: ProfileForm,
        probes: ProbeTasks,
        mock_base_urls: Mapping[str, str],
        theme: Theme = LIGHT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._form, self._probes, self._mock_urls, self._theme = form, probes, mock_base_urls, theme
        self._generation = 0  # answers to questions asked about another profile are ignored
        self.test_button = QPushButton("Test connection")
        self.test_button.setToolTip("Send a one-token request with this profile as edited")
        self.result = QLabel("")
        self.result_detail = QLabel("")
        self.result_detail.setWordWrap(True)
        self.result_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.test_button)
        row.addWidget(self.result, 1)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(row)
        col.addWidget(self.result_detail)
        self.test_button.clicked.connect(self.test_connection)
        form.fetch_requested.connect(self.fetch_models)
        probes.connection_tested.connect(self._on_connection_tested)
        probes.models_fetched.connect(self._on_models_fetched)
        probes.probe_failed.connect(self._on_probe_failed)

    @property
    def result_text(self) -> str:
        """The result line without markup (for tests and accessibility)."""
        return str(self.result.property("plain") or "")

    @property
    def _token(self) -> str:
        return f"profiles-{id(self)}-{self._generation}"

    def clear(self) -> None:
        """Another profile is shown: forget the result and any pending answer."""
        self._generation += 1
        self.test_button.setEnabled(True)
        self._show_result("", "idle", "")

    @Slot()
    def test_connection(self) -> None:
        """A one-token probe with the profile as edited (saved or not) and a typed key."""
        try:
            profile = with_mock_url(self._form.profile(), self._mock_urls)
            secret = self._form.typed_key()
            extra = {"api_key": secret} if secret else {}
            spec = connection_test_spec(profile, **extra)
        except ProfileError as exc:
            self._show_result("✗ Cannot test", "not_sent", str(exc))
            return
        self.test_button.setEnabled(False)
        self._show_result(f"Testing {profile.name}…", "running", "")
        self._probes.test_connection(self._token + ":test", spec)

    @Slot()
    def fetch_models(self) -> None:
        try:
            profile = with_mock_url(self._form.profile(), self._mock_urls)
        except ProfileError as exc:
            self._form.set_models(self._form.models(), note=f"Cannot list models: {exc}")
            return
        self._form.fetch_button.setEnabled(False)
        self._form.set_models(self._form.models(), note="Fetching the model listing…")
        self._probes.fetch_models(self._token + ":models", profile, self._form.typed_key())

    # --- answers -------------------------------------------------------------------------

    @Slot(str, object)
    def _on_connection_tested(self, token: str, verdict: Verdict) -> None:
        if token != self._token + ":test":
            return
        self.test_button.setEnabled(True)
        works = verdict.outcome in _WORKS
        mark = "✓ Connection works" if works else "✗ Failed"
        detail = verdict.explanation
        if verdict.label == "truncated/max_tokens":
            detail += " (Expected: the probe asks for one token.)"
        color_key = "completed" if works else verdict.outcome
        self._show_result(f"{mark}: {verdict.label}", color_key, detail)

    @Slot(str, object)
    def _on_models_fetched(self, token: str, models: list[str]) -> None:
        if token != self._token + ":models":
            return
        self._form.fetch_button.setEnabled(True)
        note = f"{len(models)} models listed: pick one, or type any name."
        if len(models) == 1:
            note = f"The server lists one model, {models[0]}: it is picked."
        self._form.set_models(models, note=note if models else "The listing is empty: type one.")

    @Slot(str, str)
    def _on_probe_failed(self, token: str, message: str) -> None:
        if token == self._token + ":test":
            self.test_button.setEnabled(True)
            self._show_result("✗ Cannot test", "not_sent", message)
        elif token == self._token + ":models":
            self._form.fetch_button.setEnabled(True)
            note = f"Could not list models ({message}). Type the model name by hand."
            self._form.set_models(self._form.models(), note=note)

    def _show_result(self, head: str, outcome: str, detail: str) -> None:
        color = outcome_color(self._theme, outcome)
        self.result.setText(f'<b style="color:{color}">{html.escape(head)}</b>')
        self.result.setProperty("plain", head)
        self.result_detail.setText(detail)

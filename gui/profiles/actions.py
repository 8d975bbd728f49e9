"""The main window's provider side: the profiles dialog, Edit → Copy as curl, File → Import
curl…, the provider picker's list, and the circuit breaker of the chosen provider in the
status bar (refreshed when a run ends, when the choice changes, and every second while it is
open) with Run → Reset circuit breaker. Dialogs are opened with `show()`, never `exec()`.
No key reaches a title, a status message or a log line from here: curl has `$VAR` instead."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from core import CurlImport, ProfileFileError, ProfileStore, catalogue
from gui.profiles.curl_dialog import CurlImportDialog
from gui.profiles.dialog import ProfilesDialog
from gui.request.build import request_profile, to_curl, values_from_import
from gui.request.pane import RequestPane
from gui.request.values import SpecError
from gui.run.breakers import describe_breaker
from gui.run.files import FilesMixin
from gui.theme import Theme

__all__ = ["ProfileActionsMixin"]

BREAKER_TICK_MS = 1000


class ProfileActionsMixin(FilesMixin):
    request_pane: RequestPane
    profile_store: ProfileStore
    _mock_urls: Mapping[str, str]
    _theme: Theme

    def _init_profile_actions(self) -> None:
        self.breaker_label = QLabel("")
        self.breaker_label.setObjectName("muted")
        self.statusBar().addPermanentWidget(self.breaker_label)
        self._breaker_timer = QTimer(self)
        self._breaker_timer.setInterval(BREAKER_TICK_MS)
        self._breaker_timer.timeout.connect(self.refresh_breaker)
        self.profiles_dialog: ProfilesDialog | None = None
        self.curl_dialog: CurlImportDialog | None = None
        self.refresh_profiles()

    # --- profiles ------------------------------------------------------------------------

    @Slot()
    def refresh_profiles(self) -> None:
        """List saved profiles and presets in the picker (presets only if the file is
        broken: the dialog says why and offers to set it aside)."""
        try:
            entries = catalogue(self.profile_store)
        except ProfileFileError as exc:
            where = f" (line {exc.line})" if exc.line else ""
            self.statusBar().showMessage(
                f"The profiles file cannot be read{where}: see Edit → Provider profiles…", 15000
            )
            entries = catalogue(None)
        self.request_pane.set_profiles([(s, p) for s, p in entries if s != "built-in"])
        self.refresh_breaker()

    @Slot()
    def show_profiles(self) -> ProfilesDialog:
        """The profiles dialog, non-modal; one at a time."""
        if self.profiles_dialog is None:
            dialog = ProfilesDialog(
                self.profile_store, self.controller.probes, self._mock_urls, self._theme, self
            )
            dialog.profiles_changed.connect(self.refresh_profiles)
            self.profiles_dialog = dialog
        current = self.request_pane.values().profile_name
        if current:
            self.profiles_dialog.select(current)
        self.profiles_dialog.show()
        self.profiles_dialog.raise_()
        self.profiles_dialog.activateWindow()
        return self.profiles_dialog

    # --- curl ----------------------------------------------------------------------------

    @Slot()
    def copy_as_curl(self) -> str | None:
        """The current request as curl on the clipboard, the key as `$VAR`."""
        values = self.request_pane.values()
        try:
            text, var = to_curl(values, self._mock_urls, self.request_pane.profiles)
        except SpecError as exc:
            self.verdict_panel.show_error(f"Cannot copy as curl: {exc}")
            return None
        QGuiApplication.clipboard().setText(text)
        key = f"; the key is read from ${var}" if var else ""
        self.statusBar().showMessage(f"Copied the request as a curl command{key}", 8000)
        return text

    @Slot()
    def show_curl_import(self) -> CurlImportDialog:
        if self.curl_dialog is None:
            self.curl_dialog = CurlImportDialog(self.profile_store, self)
            self.curl_dialog.imported.connect(self._on_curl_imported)
        self.curl_dialog.show()
        self.curl_dialog.raise_()
        self.curl_dialog.activateWindow()
        return self.curl_dialog

    @Slot(object, object)
    def _on_curl_imported(self, imported: CurlImport, profile_name: str | None) -> None:
        if profile_name is not None:
            self.refresh_profiles()
            if self.profiles_dialog is not None:
                self.profiles_dialog.reload(select=profile_name)
        values = values_from_import(self.request_pane.values(), imported, profile_name)
        self.request_pane.set_values(values)
        where = f"profile '{profile_name}'" if profile_name else "Custom"
        self.statusBar().showMessage(f"Imported the curl command into {where}", 8000)

    # --- circuit breaker -----------------------------------------------------------------

    def _breaker_target(self) -> tuple[str, str]:
        """(profile, base URL) of the provider chosen in the pane: breakers go by both."""
        values = self.request_pane.values()
        try:
            base_url = request_profile(values, self._mock_urls, self.request_pane.profiles).base_url
        except SpecError:
            base_url = values.base_url.strip()
        return values.provider_name, base_url

    def breaker_open_for_last_run(self) -> tuple[str, float | None]:
        """The last run's provider and, while its breaker is open, the seconds to a probe."""
        spec = self.controller.last_spec
        if spec is None:
            return "", None
        state = self.controller.breakers.state(spec.profile, spec.base_url)
        if state is None or state.state != "open":
            return spec.profile, None
        return spec.profile, state.retry_in_s

    def breaker_tripped(self) -> bool:
        state = self.controller.breakers.state(*self._breaker_target())
        return state is not None and (state.failures > 0 or state.state != "closed")

    @Slot()
    def refresh_breaker(self) -> None:
        name, base_url = self._breaker_target()
        state = self.controller.breakers.state(name, base_url)
        self.breaker_label.setText(describe_breaker(name, state))
        self.breaker_label.setToolTip(f"{name} at {base_url}" if base_url else name)
        self.breaker_label.setProperty("state", state.state if state else "off")
        if (state is not None and state.state == "open") or self.breaker_open_for_last_run()[1]:
            self._breaker_timer.start()
        else:
            self._breaker_timer.stop()
        self.sync_actions()

    @Slot()
    def reset_breaker(self) -> None:
        name, base_url = self._breaker_target()
        self.controller.breakers.reset(name, base_url)
        spec = self.controller.last_spec
        if spec is not None:  # the panel's Retry waits on the last run's breaker
            self.controller.breakers.reset(spec.profile, spec.base_url)
        self.verdict_panel.note_breaker_reset()
        self.refresh_breaker()
        self.statusBar().showMessage(f"Circuit breaker for {name} reset", 5000)

    def sync_actions(self) -> None:
        """Overridden by the window: apply the one action rule."""

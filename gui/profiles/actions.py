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
from gui.request.build import to_curl, values_from_import
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

    def _breaker_name(self) -> str:
        return self.request_pane.values().provider_name

    @Slot()
    def refresh_breaker(self) -> None:
        name = self._breaker_name()
        state = self.controller.breakers.state(name)
        self.breaker_label.setText(describe_breaker(name, state))
        self.breaker_label.setProperty("state", state.state)
        if state.state == "open":
            self._breaker_timer.start()
        else:
            self._breaker_timer.stop()

    @Slot()
    def reset_breaker(self) -> None:
        name = self._breaker_name()
        self.controller.breakers.reset(name)
        self.refresh_breaker()
        self.statusBar().showMessage(f"Circuit breaker for {name} reset", 5000)

"""File → Import curl…: paste a curl command, see what it asks for, and import it into the
request pane — as a saved profile (headers, query, proxy and TLS kept) or as Custom.

A key found in the command is never written to the profiles file: it is offered for the OS
keyring (when one is usable), it is never shown, and the pasted text is cleared on import.
Opened with `show()`; no nested event loop.
"""

from __future__ import annotations

import html
from dataclasses import replace

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core import CurlImport, ProfileError, ProfileStore, from_curl, keyring_available
from gui.widgets.form_bits import editor

__all__ = ["CurlImportDialog"]


class CurlImportDialog(QDialog):
    imported = Signal(object, object)  # CurlImport (key dropped), saved profile name or None

    def __init__(self, store: ProfileStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a curl command")
        self.setModal(False)
        self._store = store
        self._parsed: CurlImport | None = None
        self._keyring = keyring_available()
        self.command = editor("curl -N https://api.openai.com/v1/chat/completions -H …", 150, True)
        self.summary = QLabel("Paste a curl command above.")
        self.as_profile = QCheckBox("Save as a profile (keeps headers, query, proxy, TLS)")
        self.as_profile.setChecked(True)
        self.name = QLineEdit()
        self.store_key = QCheckBox("Store the key found in the command in the OS keyring")
        self.key_note = QLabel("")
        self.message = QLabel("")
        for label in (self.summary, self.key_note, self.message):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName("sendButton")
        self.close_button = QPushButton("Close")
        form = QFormLayout()
        form.addRow(self.as_profile)
        form.addRow("Profile name", self.name)
        form.addRow(self.store_key)
        form.addRow(self.key_note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.close_button)
        col = QVBoxLayout(self)
        col.addWidget(self.command)
        col.addWidget(self.summary)
        col.addLayout(form)
        col.addLayout(buttons)
        self.resize(720, 460)
        self.command.textChanged.connect(self._parse)
        self.name.textEdited.connect(lambda _text: self.name.setProperty("auto", False))
        self.as_profile.toggled.connect(self._sync)
        self.import_button.clicked.connect(self.do_import)
        self.close_button.clicked.connect(self.close)
        self._parse()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.command.clear()  # a pasted key does not wait in a hidden dialog
        super().closeEvent(event)

    @Slot()
    def _parse(self) -> None:
        text = self.command.toPlainText().strip()
        self._parsed = None
        if not text:
            self.summary.setText("Paste a curl command above.")
        else:
            try:
                self._parsed = from_curl(text)
            except ProfileError as exc:
                self.summary.setText(f"Cannot import: {html.escape(str(exc))}")
        if self._parsed is not None:
            p = self._parsed.profile
            key = "one in the command (not shown)" if self._parsed.key else p.key.describe()
            lines = [
                f"<b>{html.escape(p.dialect)}</b> at {html.escape(p.base_url)}",
                f"model {html.escape(p.model or '(none)')} · key: {html.escape(key)}",
            ]
            if self._parsed.prompt:
                lines.append(f"prompt: {html.escape(self._parsed.prompt[:120])}")
            lines += [f"note: {html.escape(n)}" for n in self._parsed.notes]
            self.summary.setText("<br>".join(lines))
            if not self.name.text().strip() or self.name.property("auto"):
                self.name.setText(p.name)
                self.name.setProperty("auto", True)
        self._sync()

    @Slot()
    def _sync(self) -> None:
        found = self._parsed is not None and self._parsed.key is not None
        saving = self.as_profile.isChecked()
        self.name.setEnabled(saving)
        self.store_key.setVisible(found)
        self.store_key.setEnabled(found and saving and bool(self._keyring))
        self.store_key.setChecked(found and saving and bool(self._keyring))
        note = ""
        if found and not self._keyring:
            note = (
                f"The OS keyring cannot be used ({self._keyring.reason}): the key is not kept. "
                "Set an environment variable and name it in the profile."
            )
        elif found and not saving:
            note = "The key is not kept: save as a profile to store it in the OS keyring."
        self.key_note.setText(note)
        self.key_note.setVisible(bool(note))
        self.import_button.setEnabled(self._parsed is not None)

    @Slot()
    def do_import(self) -> None:
        parsed = self._parsed
        if parsed is None:
            return
        saved: str | None = None
        note = ""
        if self.as_profile.isChecked():
            try:
                profile = replace(parsed.profile, name=self.name.text().strip())
                self._store.put(profile)
            except ProfileError as exc:
                self.message.setText(f"Not imported: {exc}")
                return
            saved = profile.name
            if parsed.key and self.store_key.isChecked():
                try:
                    self._store.set_key(saved, parsed.key)
                except ProfileError as exc:
                    note = f" The key was NOT stored: {exc}"
        self._parsed = None
        self.command.clear()  # the pasted text may hold the key: do not keep it around
        self.name.setProperty("auto", True)
        self.imported.emit(replace(parsed, key=None), saved)
        self.message.setText(
            (f"Imported as profile '{saved}'." if saved else "Imported into Custom.") + note
        )

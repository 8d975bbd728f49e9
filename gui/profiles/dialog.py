"""The profiles dialog: saved profiles, presets and the built-in mock in one list; create,
duplicate (presets are copied, never edited in place), edit, delete, fetch the model
listing and test the connection with a one-token probe whose verdict is shown.

Opened with `show()`: it is not modal and never runs a nested event loop; probes run on the
controller's `ProbeTasks` and answer by signal. A profiles file that does not load is
reported with its line and left untouched until the user sets it aside.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import replace

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import (
    Profile,
    ProfileError,
    ProfileFileError,
    ProfileStore,
    catalogue,
    keyring_available,
)
from gui.profiles.form import ProfileForm
from gui.profiles.probe_panel import ProbePanel
from gui.profiles.probes import ProbeTasks
from gui.theme import LIGHT, Theme

__all__ = ["ProfilesDialog"]

_GROUPS = (("saved", "Saved profiles"), ("preset", "Presets"), ("built-in", "Built in"))
_ROLE = Qt.ItemDataRole.UserRole


class ProfilesDialog(QDialog):
    profiles_changed = Signal()  # saved, deleted or set aside: the request pane re-lists

    def __init__(
        self,
        store: ProfileStore,
        probes: ProbeTasks,
        mock_base_urls: Mapping[str, str],
        theme: Theme = LIGHT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Provider profiles")
        self.setModal(False)
        self._store = store
        self._source = "new"  # of the profile in the form: saved | preset | built-in | new
        self._saved_name: str | None = None  # its name in the file, for a rename
        self._shown: Profile | None = None
        self.tree = QTreeWidget(headerHidden=True, minimumWidth=220)
        self.banner = QFrame()
        self.banner.setObjectName("errorBox")
        self.banner_text = QLabel("")
        self.set_aside_button = QPushButton("Set the file aside")
        self.reload_button = QPushButton("Reload")
        self.form = ProfileForm(keyring_available())
        self.new_button = QPushButton("New")
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("sendButton")
        self.close_button = QPushButton("Close")
        self.unsaved_box = QFrame()
        self.unsaved_box.setObjectName("errorBox")
        self.unsaved_text = QLabel("")
        self.discard_button = QPushButton("Discard edits")
        self.keep_editing_button = QPushButton("Keep editing")
        self._pending: QTreeWidgetItem | None = None  # where the user wanted to go
        self.confirm_box = QFrame()
        self.confirm_text = QLabel("")
        self.confirm_delete_button = QPushButton("Delete")
        self.cancel_delete_button = QPushButton("Cancel")
        self.probe = ProbePanel(self.form, probes, mock_base_urls, theme)
        self.message = QLabel("")
        for label in (self.message, self.confirm_text, self.banner_text, self.unsaved_text):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build()
        self._connect()
        self.reload()

    def _build(self) -> None:
        banner = QVBoxLayout(self.banner)
        banner.addWidget(self.banner_text)
        banner.addLayout(_row(None, self.reload_button, self.set_aside_button))
        confirm = _row(self.confirm_text, self.confirm_delete_button, self.cancel_delete_button)
        confirm.setContentsMargins(0, 0, 0, 0)
        self.confirm_box.setLayout(confirm)
        self.confirm_box.setVisible(False)
        unsaved = _row(self.unsaved_text, self.discard_button, self.keep_editing_button)
        self.unsaved_box.setLayout(unsaved)
        self.unsaved_box.setVisible(False)
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        lcol.addWidget(self.tree, 1)
        lcol.addLayout(_row(self.new_button, self.duplicate_button, self.delete_button))
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.form)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.form.minimumSizeHint().width() + 24)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.addWidget(scroll, 1)
        rcol.addWidget(self.unsaved_box)
        rcol.addWidget(self.confirm_box)
        rcol.addWidget(self.probe)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([250, 650])
        col = QVBoxLayout(self)
        col.addWidget(self.banner)
        col.addWidget(split, 1)
        col.addLayout(_row(self.message, self.save_button, self.close_button))
        self.resize(1120, 760)

    def _connect(self) -> None:
        self.tree.currentItemChanged.connect(self._on_item_changed)
        self.new_button.clicked.connect(self.new_profile)
        self.duplicate_button.clicked.connect(self.duplicate)
        self.delete_button.clicked.connect(self._ask_delete)
        self.confirm_delete_button.clicked.connect(self.delete)
        self.cancel_delete_button.clicked.connect(lambda: self.confirm_box.setVisible(False))
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.close)
        self.set_aside_button.clicked.connect(self.set_aside)
        self.reload_button.clicked.connect(lambda: self.reload())
        self.discard_button.clicked.connect(self._discard_edits)
        self.keep_editing_button.clicked.connect(self._keep_editing)

    # --- the list ------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        """Read the file again and list everything; select `select` (a saved name)."""
        try:
            self._store.load()
        except ProfileFileError as exc:
            where = f" at line {exc.line}" if exc.line else ""
            self.banner_text.setText(
                f"<b>The profiles file cannot be read{where}.</b> It is left untouched: fix it "
                f"in an editor and Reload, or set it aside (renamed, kept) to start afresh."
                f"<br>{html.escape(str(exc))}"
            )
        self.banner.setVisible(self._store.broken is not None)
        self.tree.blockSignals(True)
        self.tree.clear()
        entries = catalogue(self._store if self._store.broken is None else None)
        wanted: QTreeWidgetItem | None = None
        for source, heading in _GROUPS:
            group = QTreeWidgetItem([heading])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(group)
            for src, profile in entries:
                if src != source:
                    continue
                item = QTreeWidgetItem([profile.name])
                item.setData(0, _ROLE, (source, profile))
                item.setToolTip(0, f"{profile.dialect} · {profile.base_url}")
                group.addChild(item)
                if source == "saved" and profile.name == select:
                    wanted = item
            group.setExpanded(True)
        self.tree.blockSignals(False)
        saved, presets = self.tree.topLevelItem(0), self.tree.topLevelItem(1)
        self.tree.setCurrentItem(wanted or saved.child(0) or presets.child(0))

    def select(self, name: str) -> bool:
        """Select the listed profile `name` (saved first); False if there is none."""
        for group in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(group)
            for i in range(top.childCount()):
                if top.child(i).text(0) == name:
                    self.tree.setCurrentItem(top.child(i))
                    return True
        return False

    def has_unsaved_edits(self) -> bool:
        """The form differs from the profile it shows (a saved or new one), or holds a key
        typed for the keyring and not yet stored."""
        if self._source not in ("saved", "new") or self._shown is None:
            return False
        if self.form.typed_key() is not None:
            return True
        try:
            return self.form.profile() != self._shown
        except ProfileError:
            return True  # something typed that does not even parse

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_item_changed(self, item: QTreeWidgetItem | None, old: QTreeWidgetItem | None) -> None:
        data = item.data(0, _ROLE) if item is not None else None
        if data is None:
            return
        if self.has_unsaved_edits():  # stay, and ask: never drop edits without a word
            self._pending = item
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(old)  # type: ignore[arg-type]
            self.tree.blockSignals(False)
            name = self._shown.name if self._shown is not None else "this profile"
            self.unsaved_text.setText(
                f"'{name}' has unsaved edits. Save them, discard them, or keep editing."
            )
            self.unsaved_box.setVisible(True)
            return
        source, profile = data
        self._show(profile, source)

    @Slot()
    def _discard_edits(self) -> None:
        self.unsaved_box.setVisible(False)
        pending, self._pending = self._pending, None
        self.form.clear_secret()
        if self._shown is not None:
            self.form.show_profile(self._shown, True)
        if pending is not None:
            self.tree.setCurrentItem(pending)

    @Slot()
    def _keep_editing(self) -> None:
        self.unsaved_box.setVisible(False)
        self._pending = None

    def _show(self, profile: Profile, source: str) -> None:
        self._shown, self._source = profile, source
        self._saved_name = profile.name if source == "saved" else None
        editable = source in ("saved", "new")
        self.form.show_profile(profile, editable)
        self.save_button.setEnabled(editable and self._store.broken is None)
        self.delete_button.setEnabled(source == "saved")
        self.confirm_box.setVisible(False)
        self.unsaved_box.setVisible(False)
        self.probe.clear()
        if source in ("preset", "built-in"):
            self._say("Presets are never edited in place: Duplicate to make your own copy.")

    # --- actions -----------------------------------------------------------------------

    @Slot()
    def new_profile(self) -> None:
        blank = Profile(self._free_name("New profile"), "openai-chat", "")
        self._start_new(blank, "A new profile: fill it in and Save.")

    @Slot()
    def duplicate(self) -> None:
        """A copy to edit (the only way to change a preset)."""
        if self._shown is not None:
            copy = replace(self._shown, name=self._free_name(f"{self._shown.name} (copy)"))
            self._start_new(copy, f"A copy of '{self._shown.name}': edit it and Save.")

    def _start_new(self, profile: Profile, message: str) -> None:
        self.tree.setCurrentItem(None)
        self._show(profile, "new")
        self._say(message)

    @Slot()
    def save(self) -> None:
        try:
            profile = self.form.profile()
            self._store.put(profile, replacing=self._saved_name)
        except ProfileError as exc:
            self._say(f"Not saved: {exc}", error=True)
            return
        secret = self.form.typed_key()
        note = ""
        if secret is not None:
            try:
                self._store.set_key(profile.name, secret)
                note = " The key is in the OS keyring."
            except ProfileError as exc:
                note = f" The key was NOT stored: {exc}"
            self.form.clear_secret()
        self._shown = None  # stored: nothing unsaved to warn about while the list reloads
        self.reload(select=profile.name)
        self._say(f"Saved '{profile.name}' to {self._store.path}.{note}")
        self.profiles_changed.emit()

    @Slot()
    def _ask_delete(self) -> None:
        if self._source == "saved" and self._saved_name:
            self.confirm_text.setText(
                f"Delete '{self._saved_name}'? A key it keeps in the OS keyring is forgotten too."
            )
            self.confirm_box.setVisible(True)

    @Slot()
    def delete(self) -> None:
        name = self._saved_name
        self.confirm_box.setVisible(False)
        if name is None:
            return
        try:
            self._store.delete(name)
        except ProfileError as exc:
            self._say(f"Not deleted: {exc}", error=True)
            return
        self._shown = None
        self.reload()
        self._say(f"Deleted '{name}'.")
        self.profiles_changed.emit()

    @Slot()
    def set_aside(self) -> None:
        moved = self._store.set_aside()
        self.reload()
        self._say(f"The broken file was renamed to {moved}; new profiles go to a fresh file.")
        self.profiles_changed.emit()

    # --- helpers -----------------------------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #cf222e;" if error else "")
        self.message.setText(text)

    def _free_name(self, stem: str) -> str:
        taken = {p.name.casefold() for _, p in catalogue(None)}
        if self._store.broken is None:
            taken |= {p.name.casefold() for p in self._store.profiles}
        name, n = stem, 1
        while name.casefold() in taken:
            n += 1
            name = f"{stem} {n}"
        return name


def _row(first: QWidget | None, *rest: QWidget) -> QHBoxLayout:
    """`first` stretched (None: a stretch), then the rest at their natural size."""
    row = QHBoxLayout()
    if first is None:
        row.addStretch(1)
    else:
        row.addWidget(first, 1)
    for widget in rest:
        row.addWidget(widget)
    return row

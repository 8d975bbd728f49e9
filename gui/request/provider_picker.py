"""The request pane's provider picker: the built-in Mock, Custom, then the saved profiles and
the presets under their own headings, and a button that opens the profiles dialog."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QToolButton, QWidget

from core import Profile
from gui.request.values import CUSTOM, MOCK_PROVIDER, RequestValues

__all__ = ["ProviderPicker"]

_GROUPS = {"saved": "Saved profiles", "preset": "Presets"}


class ProviderPicker(QWidget):
    profile_chosen = Signal(object)  # Profile: a saved profile or preset became the choice
    provider_changed = Signal()  # any change of choice (the pane shows the fitting fields)
    profiles_requested = Signal()  # the user wants the profiles dialog

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMaxVisibleItems(24)
        # long profile names must not widen the pane: the popup still shows them whole
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(8)
        self.manage_button = QToolButton(text="Profiles…")
        self.manage_button.setToolTip("Create, edit and test provider profiles")
        self._profiles: dict[str, Profile] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.manage_button)
        self.combo.currentIndexChanged.connect(self._on_index_changed)
        self.manage_button.clicked.connect(self.profiles_requested)
        self.set_profiles([])

    @property
    def profiles(self) -> dict[str, Profile]:
        """Saved profiles and presets by name (what `to_spec` resolves a choice with)."""
        return dict(self._profiles)

    def current_profile(self) -> Profile | None:
        name = RequestValues(provider=self.combo.currentData() or MOCK_PROVIDER).profile_name
        return self._profiles.get(name) if name else None

    def set_profiles(self, entries: Sequence[tuple[str, Profile]]) -> None:
        """Rebuild from `catalogue()` entries (source, profile); the Mock entry is built in.
        The choice is kept when it still exists, else it falls back to the mock."""
        kept = self.combo.currentData()
        self.combo.blockSignals(True)
        self.combo.clear()
        self._profiles = {}
        self.combo.addItem("Mock (built in)", MOCK_PROVIDER)
        self.combo.addItem("Custom", CUSTOM)
        for source, heading in _GROUPS.items():
            group = [p for s, p in entries if s == source]
            if not group:
                continue
            self.combo.insertSeparator(self.combo.count())
            self._heading(heading)
            for profile in group:
                self._profiles[profile.name] = profile
                key = RequestValues.profile_provider(profile.name)
                self.combo.addItem(f"  {profile.name}", key)
                tip = f"{profile.dialect} · {profile.base_url} · key: {profile.key.describe()}"
                self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        index = self.combo.findData(kept) if kept is not None else 0
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(False)
        if self.combo.currentData() != kept:
            self.provider_changed.emit()

    def _heading(self, text: str) -> None:
        self.combo.addItem(text, None)
        model = self.combo.model()
        if isinstance(model, QStandardItemModel):
            item = model.item(self.combo.count() - 1)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled & ~Qt.ItemFlag.ItemIsSelectable)

    @Slot(int)
    def _on_index_changed(self, index: int) -> None:
        if index < 0 or self.combo.currentData() is None:  # nothing or a heading: the mock
            self.combo.setCurrentIndex(0)
            return
        profile = self.current_profile()
        if profile is not None:
            self.profile_chosen.emit(profile)
        self.provider_changed.emit()

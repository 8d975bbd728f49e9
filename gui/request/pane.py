"""The request pane: provider, mock scenario and parameters, prompt, model parameters,
advanced JSON editors and timeouts, Send and Stop. Holds values; builds no request itself
(`gui.request.values.to_spec` does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core import DIALECTS, Profile, RetryPolicy, key_warning
from core.mock import SCENARIO_NOTES
from gui.request.hints import ERROR_FIELDS, low_max_tokens, watchdog_text
from gui.request.provider_picker import ProviderPicker
from gui.request.values import REASONING_EFFORTS, PromptPreset, RequestValues
from gui.widgets.form_bits import editor, read_field, section_title, spin, write_field
from gui.widgets.wheel_guard import guard_wheel

__all__ = ["RequestPane"]


def _retry_tip() -> str:
    p = RetryPolicy()
    return (
        "Retry automatically when the verdict allows it (off by default). Policy: backoff "
        f"{p.initial_backoff_s:g} s doubling to {p.max_backoff_s:g} s, ±{p.jitter:.0%} jitter, "
        f"Retry-After honoured up to {p.retry_after_cap_s:g} s; never after Stop."
    )


class RequestPane(QWidget):
    send_requested = Signal()
    stop_requested = Signal()

    def __init__(self, scenarios: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picker = ProviderPicker()
        self.provider = self.picker.combo
        self.dialect = QComboBox()
        for d in DIALECTS:
            self.dialect.addItem(d, d)
        self.scenario = QComboBox()
        for name in scenarios:
            self.scenario.addItem(name, name)
            note = SCENARIO_NOTES.get(name, ("", ()))[0]
            self.scenario.setItemData(self.scenario.count() - 1, note, Qt.ItemDataRole.ToolTipRole)
        self.scenario.setMaxVisibleItems(16)
        self.scenario_note = QLabel("")
        self.scenario_note.setObjectName("muted")
        self.scenario_note.setWordWrap(True)
        self.tokens = spin(1, 2_000_000)
        self.tps = spin(0.5, 1_000_000, 10, dec=1)
        self.first_byte_ms = spin(0, 600_000, 50, dec=0)
        self.jitter_ms = spin(0, 10_000, 1, dec=1)
        self.cut_at = spin(0, 2_000_000, special="half")
        self.fail_first = spin(0, 100, special="always fail")
        self.stall_ms = spin(0, 3_600_000, 500, special="10 min")
        self.base_url = QLineEdit(placeholderText="https://api.openai.com/v1")
        self.model = QLineEdit(placeholderText="gpt-4o-mini")
        self.key_env = QLineEdit(placeholderText="OPENAI_API_KEY")
        self.key_info = QLabel("")
        self.key_info.setObjectName("muted")
        self.key_info.setWordWrap(True)
        self.presets_button = QToolButton(text="Test prompts ▾")
        self.presets_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.presets_menu = QMenu(self)
        self.presets_button.setMenu(self.presets_menu)
        self.prompt = editor("Prompt", 96)
        self.system = editor("System prompt (optional)", 44)
        self.max_tokens = spin(0, 1_000_000, 64, special="not sent")
        self.temperature = spin(-0.1, 2.0, 0.1, special="default", dec=1)
        self.stop = editor("Stop sequences, one per line", 40)
        self.include_usage = QCheckBox("Ask for usage (stream_options.include_usage)")
        self.reasoning_effort = QComboBox()
        for effort in REASONING_EFFORTS:
            self.reasoning_effort.addItem(effort or "default", effort)
        self.thinking_budget = spin(0, 200_000, 1024, special="off")
        self.tools_json = editor('Tools: [{"type": "function", "function": {...}}]', 90, True)
        self.extra_json = editor('Extra body parameters: {"top_p": 0.9}', 54, True)
        self.first_byte_s = spin(0, 3600, 1, special="off", dec=1)
        self.stall_s = spin(0, 3600, 1, special="off", dec=1)
        self.retries = spin(0, 10, special="off")
        self.retries.setToolTip(_retry_tip())
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip("Send the request (Ctrl+Enter)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop the stream, keeping what came (Esc)")
        self.stop_button.setEnabled(False)
        self.watchdogs = QLabel("")
        self.watchdogs.setObjectName("muted")
        self.watchdogs.setToolTip("The watchdogs that can end the run (Advanced sets them)")
        self.field_error = QLabel("")
        self.field_error.setObjectName("fieldError")
        self.field_error.setWordWrap(True)
        self.field_error.setVisible(False)
        self._error_field: QWidget | None = None
        self._fields: dict[str, QWidget] = {
            f.name: getattr(self, f.name) for f in fields(RequestValues)
        }
        self._build()
        self.picker.provider_changed.connect(self._sync_visibility)
        self.picker.profile_chosen.connect(self._on_profile_chosen)
        self.dialect.currentIndexChanged.connect(self._sync_visibility)
        self.scenario.currentIndexChanged.connect(self._on_scenario_chosen)
        self.first_byte_s.valueChanged.connect(self._show_watchdogs)  # type: ignore[attr-defined]
        self.stall_s.valueChanged.connect(self._show_watchdogs)  # type: ignore[attr-defined]
        self.send_button.clicked.connect(self.send_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.set_values(RequestValues())
        guard_wheel(self)

    def _build(self) -> None:
        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(10, 4, 10, 10)
        col.setSpacing(4)
        col.addWidget(section_title("Provider"))
        form = QFormLayout()
        form.addRow("Provider", self.picker)
        form.addRow("API dialect", self.dialect)
        col.addLayout(form)
        self.mock_box = QWidget()
        mock = QFormLayout(self.mock_box)
        mock.setContentsMargins(0, 0, 0, 0)
        mock.addRow("Scenario", self.scenario)
        mock.addRow(self.scenario_note)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        cells = (
            ("Tokens", self.tokens),
            ("Tokens/s", self.tps),
            ("First byte (ms)", self.first_byte_ms),
            ("Jitter ± (ms)", self.jitter_ms),
            ("Fault at token", self.cut_at),
            ("Fail first N", self.fail_first),
            ("Stall for (ms)", self.stall_ms),
        )
        for i, (name, widget) in enumerate(cells):
            label = QLabel(name)
            label.setObjectName("muted")
            grid.addWidget(label, (i // 2) * 2, i % 2)
            grid.addWidget(widget, (i // 2) * 2 + 1, i % 2)
        mock.addRow(grid)
        col.addWidget(self.mock_box)
        self.custom_box = QWidget()
        custom = QFormLayout(self.custom_box)
        custom.setContentsMargins(0, 0, 0, 0)
        custom.addRow("Base URL", self.base_url)
        custom.addRow("Model", self.model)
        custom.addRow("API key env", self.key_env)
        custom.addRow(self.key_info)
        self._custom_form = custom
        col.addWidget(self.custom_box)
        head = QHBoxLayout()
        head.addWidget(section_title("Prompt"))
        head.addStretch(1)
        head.addWidget(self.presets_button)
        col.addLayout(head)
        col.addWidget(self.prompt)
        col.addWidget(self.system)
        col.addWidget(section_title("Parameters"))
        params = QFormLayout()
        params.addRow("Max tokens", self.max_tokens)
        params.addRow("Temperature", self.temperature)
        params.addRow("Stop", self.stop)
        self.effort_label = QLabel("Reasoning effort")
        params.addRow(self.effort_label, self.reasoning_effort)
        self.budget_label = QLabel("Thinking budget")
        params.addRow(self.budget_label, self.thinking_budget)
        col.addLayout(params)
        col.addWidget(self.include_usage)
        self.advanced_toggle = QToolButton(text="ADVANCED", checkable=True)
        self.advanced_toggle.setObjectName("sectionTitle")
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        col.addWidget(self.advanced_toggle)
        self.advanced = QWidget()
        adv = QFormLayout(self.advanced)
        adv.setContentsMargins(0, 0, 0, 0)
        adv.addRow(self.tools_json)
        adv.addRow(self.extra_json)
        adv.addRow("First-byte timeout (s)", self.first_byte_s)
        adv.addRow("Stall timeout (s)", self.stall_s)
        adv.addRow("Automatic retries", self.retries)
        self.advanced.setVisible(False)
        self.advanced_toggle.toggled.connect(self._on_advanced_toggled)
        col.addWidget(self.advanced)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # never narrower than its fields: a squeezed pane clipped them with no way to scroll
        bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(body.minimumSizeHint().width() + bar + 4)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(10, 6, 10, 2)
        buttons.addWidget(self.send_button, 2)
        buttons.addWidget(self.stop_button, 1)
        foot = QVBoxLayout()
        foot.setContentsMargins(10, 0, 10, 8)
        foot.addWidget(self.field_error)
        foot.addWidget(self.watchdogs)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        outer.addLayout(buttons)
        outer.addLayout(foot)

    @Slot(bool)
    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.advanced_toggle.setArrowType(arrow)

    @Slot()
    def _on_scenario_chosen(self) -> None:
        """Say what the scenario does, offer only the dialects that play it, and set Max
        tokens low enough when its ending needs the limit."""
        name = self.scenario.currentData() or ""
        note, dialects = SCENARIO_NOTES.get(name, ("", tuple(DIALECTS)))
        self.scenario_note.setText(note)
        self.scenario.setToolTip(note)
        model = self.dialect.model()
        for i in range(self.dialect.count()):
            item = model.item(i)  # type: ignore[attr-defined]
            plays = self.dialect.itemData(i) in dialects
            item.setEnabled(plays)
            item.setToolTip("" if plays else f"{name} is not played on this dialect")
        if self.dialect.currentData() not in dialects and dialects:
            write_field(self.dialect, dialects[0])
        low = low_max_tokens(name, self.tokens.value())  # type: ignore[attr-defined]
        if low is not None and not 0 < self.max_tokens.value() <= low:  # type: ignore[attr-defined]
            self.max_tokens.setValue(low)  # type: ignore[attr-defined]

    @Slot()
    def _show_watchdogs(self) -> None:
        self.watchdogs.setText(watchdog_text(self.first_byte_s.value(), self.stall_s.value()))  # type: ignore[attr-defined]

    def show_countdown(self, text: str) -> None:
        """While a run streams: the time left before a watchdog ends it ("" when idle)."""
        if text:
            self.watchdogs.setText(text)
        else:
            self._show_watchdogs()

    def show_field_error(self, message: str) -> None:
        """A request that cannot be built: the message under Send and the field marked and
        focused ("" clears it)."""
        if self._error_field is not None:
            self._error_field.setProperty("invalid", False)
            self._error_field.style().polish(self._error_field)
            self._error_field = None
        self.field_error.setText(message)
        self.field_error.setVisible(bool(message))
        if not message:
            return
        name = next((f for p, f in ERROR_FIELDS.items() if message.startswith(p)), None)
        widget = getattr(self, name) if name else None
        if widget is self.key_env and not self.key_env.isVisibleTo(self):
            widget = self.key_info
        if widget is None:
            return
        if widget in (self.tools_json, self.extra_json):
            self.advanced_toggle.setChecked(True)
        widget.setProperty("invalid", True)
        widget.style().polish(widget)
        widget.setFocus()
        self._error_field = widget

    @Slot()
    def _sync_visibility(self) -> None:
        values = RequestValues(provider=self.provider.currentData() or "mock")
        mock = values.provider == "mock"
        self.mock_box.setVisible(mock)
        self.custom_box.setVisible(not mock)
        profile = self.picker.current_profile()
        self._custom_form.setRowVisible(self.key_env, profile is None)
        self._custom_form.setRowVisible(self.key_info, profile is not None)
        if profile is not None:
            warning = key_warning(profile)
            text = f"Key: {profile.key.describe()} (edit in Profiles…)"
            self.key_info.setText(text + (f"\n⚠ {warning}" if warning else ""))
        dialect = self.dialect.currentData()
        openai = dialect in ("openai-chat", "openai-responses")
        self.effort_label.setVisible(openai)
        self.reasoning_effort.setVisible(openai)
        thinking = dialect in ("anthropic", "gemini")
        self.budget_label.setVisible(thinking)
        self.thinking_budget.setVisible(thinking)
        self.include_usage.setVisible(dialect == "openai-chat")

    def set_presets(self, presets: Sequence[PromptPreset]) -> None:
        self.presets_menu.clear()
        for preset in presets:
            action = QAction(preset.title, self.presets_menu)
            action.setToolTip(preset.note)
            action.triggered.connect(lambda _=False, p=preset: self.apply_preset(p))
            self.presets_menu.addAction(action)
        self.presets_menu.setToolTipsVisible(True)

    def apply_preset(self, preset: PromptPreset) -> None:
        self.set_values(preset.apply(self.values()))

    @Slot(bool)
    def on_busy_changed(self, busy: bool) -> None:
        self.stop_button.setEnabled(busy)
        if not busy:
            self._show_watchdogs()

    @Slot(object)
    def _on_profile_chosen(self, profile: Profile) -> None:
        """Fill what the profile decides: dialect, base URL, model and its defaults."""
        write_field(self.dialect, profile.dialect)
        self.base_url.setText(profile.base_url)
        self.model.setText(profile.model)
        self.max_tokens.setValue(profile.max_tokens or 0)  # type: ignore[attr-defined]
        temperature = -0.1 if profile.temperature is None else profile.temperature
        self.temperature.setValue(temperature)  # type: ignore[attr-defined]

    def set_profiles(self, entries: Sequence[tuple[str, Profile]]) -> None:
        self.picker.set_profiles(entries)

    @property
    def profiles(self) -> dict[str, Profile]:
        return self.picker.profiles

    def values(self) -> RequestValues:
        return RequestValues(**{name: read_field(w) for name, w in self._fields.items()})

    def set_values(self, v: RequestValues) -> None:
        """Provider first: choosing a profile fills fields that `v` then sets as saved."""
        for name, widget in self._fields.items():
            write_field(widget, getattr(v, name))
        self._sync_visibility()
        self._show_watchdogs()

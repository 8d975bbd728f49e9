"""The request pane: provider, mock scenario and parameters, prompt, model parameters,
advanced JSON editors and timeouts, Send and Stop. Holds values; builds no request itself
(`gui.request_values.to_spec` does)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core import DIALECTS
from gui.request_values import REASONING_EFFORTS, PromptPreset, RequestValues

__all__ = ["RequestPane"]


def _spin(lo: float, hi: float, step: float = 1, special: str = "", dec: int = 0) -> QWidget:
    box: QSpinBox | QDoubleSpinBox
    if dec:
        box = QDoubleSpinBox()
        box.setDecimals(dec)
    else:
        box = QSpinBox()
    box.setRange(lo, hi)  # type: ignore[arg-type]
    box.setSingleStep(step)  # type: ignore[arg-type]
    if special:
        box.setSpecialValueText(special)
    box.setAccelerated(True)
    return box


def _title(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionTitle")
    return label


def _editor(placeholder: str, height: int, mono: bool = False) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setPlaceholderText(placeholder)
    edit.setFixedHeight(height)
    edit.setTabChangesFocus(True)
    if mono:
        edit.setFont(QFont("DejaVu Sans Mono", 9))
    return edit


class RequestPane(QWidget):
    send_requested = Signal()
    stop_requested = Signal()

    def __init__(self, scenarios: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.provider = QComboBox()
        self.provider.addItem("Mock (built in)", "mock")
        self.provider.addItem("Custom", "custom")
        self.dialect = QComboBox()
        for d in DIALECTS:
            self.dialect.addItem(d, d)
        self.scenario = QComboBox()
        for name in scenarios:
            self.scenario.addItem(name, name)
        self.scenario.setMaxVisibleItems(16)
        self.tokens = _spin(1, 100_000)
        self.tps = _spin(0.5, 1_000_000, 10, dec=1)
        self.first_byte_ms = _spin(0, 600_000, 50, dec=0)
        self.jitter_ms = _spin(0, 10_000, 1, dec=1)
        self.cut_at = _spin(0, 100_000, special="half")
        self.fail_first = _spin(0, 100, special="always fail")
        self.stall_ms = _spin(0, 3_600_000, 500, special="10 min")
        self.base_url = QLineEdit(placeholderText="https://api.openai.com/v1")
        self.model = QLineEdit(placeholderText="gpt-4o-mini")
        self.key_env = QLineEdit(placeholderText="OPENAI_API_KEY")
        self.presets_button = QToolButton(text="Test prompts ▾")
        self.presets_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.presets_menu = QMenu(self)
        self.presets_button.setMenu(self.presets_menu)
        self.prompt = _editor("Prompt", 96)
        self.system = _editor("System prompt (optional)", 44)
        self.max_tokens = _spin(0, 1_000_000, 64, special="not sent")
        self.temperature = _spin(-0.1, 2.0, 0.1, special="default", dec=1)
        self.stop = _editor("Stop sequences, one per line", 40)
        self.include_usage = QCheckBox("Ask for usage (stream_options.include_usage)")
        self.reasoning_effort = QComboBox()
        for effort in REASONING_EFFORTS:
            self.reasoning_effort.addItem(effort or "default", effort)
        self.thinking_budget = _spin(0, 200_000, 1024, special="off")
        self.tools_json = _editor('Tools: [{"type": "function", "function": {...}}]', 90, True)
        self.extra_json = _editor('Extra body parameters: {"top_p": 0.9}', 54, True)
        self.first_byte_s = _spin(0, 3600, 1, special="off", dec=1)
        self.stall_s = _spin(0, 3600, 1, special="off", dec=1)
        self.retries = _spin(0, 10, special="off")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip("Send the request (Ctrl+Enter)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop the stream, keeping what came (Esc)")
        self.stop_button.setEnabled(False)
        self._build()
        self.provider.currentIndexChanged.connect(self._sync_visibility)
        self.dialect.currentIndexChanged.connect(self._sync_visibility)
        self.send_button.clicked.connect(self.send_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.set_values(RequestValues())

    def _build(self) -> None:
        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(10, 4, 10, 10)
        col.setSpacing(4)
        col.addWidget(_title("Provider"))
        form = QFormLayout()
        form.addRow("Provider", self.provider)
        form.addRow("API dialect", self.dialect)
        col.addLayout(form)
        self.mock_box = QWidget()
        mock = QFormLayout(self.mock_box)
        mock.setContentsMargins(0, 0, 0, 0)
        mock.addRow("Scenario", self.scenario)
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
        col.addWidget(self.custom_box)
        head = QHBoxLayout()
        head.addWidget(_title("Prompt"))
        head.addStretch(1)
        head.addWidget(self.presets_button)
        col.addLayout(head)
        col.addWidget(self.prompt)
        col.addWidget(self.system)
        col.addWidget(_title("Parameters"))
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
        adv.addRow("Auto-retries", self.retries)
        self.advanced.setVisible(False)
        self.advanced_toggle.toggled.connect(self._on_advanced_toggled)
        col.addWidget(self.advanced)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(10, 6, 10, 10)
        buttons.addWidget(self.send_button, 2)
        buttons.addWidget(self.stop_button, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        outer.addLayout(buttons)

    @Slot(bool)
    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.advanced_toggle.setArrowType(arrow)

    @Slot()
    def _sync_visibility(self) -> None:
        mock = self.provider.currentData() == "mock"
        self.mock_box.setVisible(mock)
        self.custom_box.setVisible(not mock)
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

    def values(self) -> RequestValues:
        return RequestValues(
            provider=self.provider.currentData(),
            dialect=self.dialect.currentData(),
            scenario=self.scenario.currentData(),
            tokens=self.tokens.value(),
            tps=self.tps.value(),
            first_byte_ms=self.first_byte_ms.value(),
            jitter_ms=self.jitter_ms.value(),
            cut_at=self.cut_at.value(),
            fail_first=self.fail_first.value(),
            stall_ms=self.stall_ms.value(),
            base_url=self.base_url.text(),
            model=self.model.text(),
            key_env=self.key_env.text(),
            prompt=self.prompt.toPlainText(),
            system=self.system.toPlainText(),
            max_tokens=self.max_tokens.value(),
            temperature=self.temperature.value(),
            stop=self.stop.toPlainText(),
            include_usage=self.include_usage.isChecked(),
            reasoning_effort=self.reasoning_effort.currentData(),
            thinking_budget=self.thinking_budget.value(),
            tools_json=self.tools_json.toPlainText(),
            extra_json=self.extra_json.toPlainText(),
            first_byte_s=self.first_byte_s.value(),
            stall_s=self.stall_s.value(),
            retries=self.retries.value(),
        )

    def set_values(self, v: RequestValues) -> None:
        for combo, data in (
            (self.provider, v.provider),
            (self.dialect, v.dialect),
            (self.scenario, v.scenario),
            (self.reasoning_effort, v.reasoning_effort),
        ):
            index = combo.findData(data)
            if index >= 0:
                combo.setCurrentIndex(index)
        for spin, value in (
            (self.tokens, v.tokens),
            (self.tps, v.tps),
            (self.first_byte_ms, v.first_byte_ms),
            (self.jitter_ms, v.jitter_ms),
            (self.cut_at, v.cut_at),
            (self.fail_first, v.fail_first),
            (self.stall_ms, v.stall_ms),
            (self.max_tokens, v.max_tokens),
            (self.temperature, v.temperature),
            (self.thinking_budget, v.thinking_budget),
            (self.first_byte_s, v.first_byte_s),
            (self.stall_s, v.stall_s),
            (self.retries, v.retries),
        ):
            spin.setValue(value)  # type: ignore[attr-defined]
        for edit, text in (
            (self.base_url, v.base_url),
            (self.model, v.model),
            (self.key_env, v.key_env),
        ):
            edit.setText(text)
        for plain, text in (
            (self.prompt, v.prompt),
            (self.system, v.system),
            (self.stop, v.stop),
            (self.tools_json, v.tools_json),
            (self.extra_json, v.extra_json),
        ):
            plain.setPlainText(text)
        self.include_usage.setChecked(v.include_usage)
        self._sync_visibility()

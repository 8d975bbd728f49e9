"""The profile editor inside the profiles dialog: every field of a `Profile` the user sets,
the key (OS keyring password field, or an environment variable name — the keyring choice is
switched off, with the reason, when no secure backend is available), and the model picker
that a model listing fills. Builds a new `Profile` from the one shown with
`dataclasses.replace`, so fields the form does not show are kept; a bad field raises
`ProfileError` with a message for the user."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core import (
    AUTH_SCHEMES,
    DIALECTS,
    KeyRef,
    KeyringStatus,
    Price,
    Profile,
    ProfileError,
    has_key,
    key_warning,
)
from gui.widgets.form_bits import editor, read_field, spin, write_field

__all__ = ["ProfileForm"]

_AUTH_TEXT = {
    "auto": "the dialect's usual header",
    "bearer": "Authorization: Bearer",
    "x-api-key": "x-api-key (+ anthropic-version)",
    "x-goog-api-key": "x-goog-api-key",
    "api-key": "api-key (Azure)",
    "none": "none",
}
_KEY_SOURCES = (("keyring", "OS keyring"), ("env", "Environment variable"), ("none", "No key"))
_PRICES = (("input", "in"), ("output", "out"), ("cached_input", "cached in"))
_TIMEOUTS = (("connect_s", "Connect"), ("first_byte_s", "First byte"), ("stall_s", "Stall"))
_TIMEOUTS += (("total_s", "Total"),)


def _pairs(text: str, sep: str, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, found, value = line.partition(sep)
        if not found or not name.strip():
            raise ProfileError(f"{what}, line {number}: expected 'name{sep} value'")
        out[name.strip()] = value.strip()
    return out


class ProfileForm(QWidget):
    fetch_requested = Signal()

    def __init__(self, keyring: KeyringStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._keyring = keyring
        self._base = Profile("New profile", "openai-chat", "")
        self.name = QLineEdit()
        self.dialect = QComboBox()
        for d in DIALECTS:
            self.dialect.addItem(d, d)
        self.base_url = QLineEdit(placeholderText="https://host/v1  ·  mock = the built-in mock")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # a long model name must not widen the form past the dialog (the popup shows it whole)
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.model.setMinimumContentsLength(16)
        self.fetch_button = QPushButton("Fetch models")
        self.fetch_button.setToolTip("Ask the API which models it serves (else type one)")
        self.models_note = QLabel("")
        self.auth = QComboBox()
        for scheme in AUTH_SCHEMES:
            self.auth.addItem(f"{scheme} — {_AUTH_TEXT.get(scheme, scheme)}", scheme)
        self.key_source = QComboBox()
        for kind, text in _KEY_SOURCES:
            self.key_source.addItem(text, kind)
        self.key_secret = QLineEdit(placeholderText="paste the key: it goes to the OS keyring")
        self.key_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_env = QLineEdit(placeholderText="OPENAI_API_KEY")
        self.key_status = QLabel("")
        self.headers = editor("Extra headers, one per line — X-Title: StreamScope", 52, True)
        self.query = editor("Query parameters, one per line — api-version=2024-10-21", 40, True)
        self.proxy = QLineEdit(placeholderText="http://proxy:3128 (optional)")
        self.verify_tls = QCheckBox("Verify TLS certificates")
        self.max_tokens = spin(0, 1_000_000, 64, special="not sent")
        self.temperature = spin(-0.1, 2.0, 0.1, special="default", dec=1)
        self.timeouts = {key: spin(0, 3600, 1, special="off", dec=1) for key, _ in _TIMEOUTS}
        # USD per 1M tokens; "–" (the lowest value) means unknown: cost then comes from
        # genai-prices for official hosts, else it is "–", never 0
        self.prices = {key: spin(-0.01, 100_000, 0.1, special="–", dec=2) for key, _ in _PRICES}
        self.notes = QLabel("")
        for label in (self.models_note, self.key_status, self.notes):
            label.setObjectName("muted")
            label.setWordWrap(True)
        self._build()
        if not keyring:
            model = self.key_source.model()
            if isinstance(model, QStandardItemModel):
                item = model.item(0)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(keyring.reason)
        self.key_source.currentIndexChanged.connect(self._sync_key)
        self.key_env.textChanged.connect(self._sync_key)
        self.base_url.textChanged.connect(self._sync_key)
        self.fetch_button.clicked.connect(self.fetch_requested)

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 8, 0)
        form = QFormLayout()
        outer.addLayout(form)
        outer.addStretch(1)  # extra height below the fields, not between them
        form.addRow("Name", self.name)
        form.addRow("API dialect", self.dialect)
        form.addRow("Base URL", self.base_url)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.fetch_button)
        form.addRow("Model", row)
        form.addRow("", self.models_note)
        form.addRow("Auth header", self.auth)
        form.addRow("API key from", self.key_source)
        form.addRow("Key", self.key_secret)
        form.addRow("Variable", self.key_env)
        form.addRow("", self.key_status)
        form.addRow("Headers", self.headers)
        form.addRow("Query", self.query)
        form.addRow("Proxy", self.proxy)
        form.addRow("", self.verify_tls)
        form.addRow("Max tokens", self.max_tokens)
        form.addRow("Temperature", self.temperature)
        times = QHBoxLayout()
        for key, text in _TIMEOUTS:
            times.addWidget(QLabel(text))
            times.addWidget(self.timeouts[key], 1)
        form.addRow("Timeouts (s)", times)
        prices = QHBoxLayout()
        for key, text in _PRICES:
            prices.addWidget(QLabel(text))
            prices.addWidget(self.prices[key], 1)
        form.addRow("Price, USD / 1M tokens", prices)
        form.addRow(self.notes)
        self._form = form

    # --- in and out ----------------------------------------------------------------------

    def show_profile(self, profile: Profile, editable: bool) -> None:
        self._base = profile
        write_field(self.name, profile.name)
        write_field(self.dialect, profile.dialect)
        write_field(self.base_url, profile.base_url)
        self.set_models(list(profile.models), note="")
        self.model.setCurrentText(profile.model)
        write_field(self.auth, profile.auth_scheme)
        write_field(self.key_source, profile.key.kind)
        self.key_env.setText(profile.key.name if profile.key.kind == "env" else "")
        self.key_secret.clear()
        self.headers.setPlainText("\n".join(f"{k}: {v}" for k, v in profile.headers.items()))
        self.query.setPlainText("\n".join(f"{k}={v}" for k, v in profile.query.items()))
        self.proxy.setText(profile.proxy or "")
        self.verify_tls.setChecked(profile.verify_tls)
        write_field(self.max_tokens, profile.max_tokens or 0)
        write_field(self.temperature, -0.1 if profile.temperature is None else profile.temperature)
        for key, box in self.timeouts.items():
            write_field(box, getattr(profile.timeouts, key) or 0)
        for key, box in self.prices.items():
            value = getattr(profile.price, key) if profile.price is not None else None
            write_field(box, -0.01 if value is None else value)
        self.notes.setText(profile.notes)
        self.notes.setVisible(bool(profile.notes))
        for widget in self.findChildren(QWidget):
            if widget not in (self.notes, self.key_status, self.models_note):
                widget.setEnabled(editable)
        # a preset's models can be listed (and one picked to Duplicate with) all the same
        self.model.setEnabled(True)
        self.fetch_button.setEnabled(True)
        self.model.lineEdit().setReadOnly(not editable)
        self._sync_key()

    def profile(self) -> Profile:
        """The profile as edited; raises `ProfileError` naming the field at fault."""
        name = self.name.text().strip()
        kind = read_field(self.key_source)
        if kind == "env":
            key = KeyRef("env", self.key_env.text().strip())
        elif kind == "keyring":
            old = self._base.key
            key = old if old.kind == "keyring" else KeyRef("keyring", name or "profile")
        else:
            key = KeyRef()
        temperature = read_field(self.temperature)
        timeouts = replace(
            self._base.timeouts,
            **{k: (read_field(box) or None) for k, box in self.timeouts.items()},
        )
        return replace(
            self._base,
            name=name,
            dialect=read_field(self.dialect),
            base_url=self.base_url.text().strip(),
            model=self.model.currentText().strip(),
            models=self.models(),
            auth_scheme=read_field(self.auth),
            key=key,
            headers=_pairs(self.headers.toPlainText(), ":", "Headers"),
            query=_pairs(self.query.toPlainText(), "=", "Query"),
            proxy=self.proxy.text().strip() or None,
            verify_tls=self.verify_tls.isChecked(),
            max_tokens=read_field(self.max_tokens) or None,
            temperature=None if temperature < 0 else round(temperature, 2),
            timeouts=timeouts,
            price=self._price(),
        )

    def _price(self) -> Price | None:
        """The price as edited: input and output together, or neither; the profile's own
        price object when nothing changed (its date stays)."""
        values = {
            k: (None if read_field(b) < 0 else round(read_field(b), 4))
            for k, b in self.prices.items()
        }
        if values["input"] is None and values["output"] is None:
            if values["cached_input"] is not None:
                raise ProfileError("Price: a cached-input price needs input and output prices")
            return None
        if values["input"] is None or values["output"] is None:
            raise ProfileError("Price: give both the input and the output price, or neither")
        old = self._base.price
        if old is not None and (old.input, old.output, old.cached_input) == tuple(
            values[k] for k in ("input", "output", "cached_input")
        ):
            return old
        return Price(
            values["input"], values["output"], values["cached_input"], date.today().isoformat()
        )

    def typed_key(self) -> str | None:
        """A key typed for the keyring and not yet stored (never shown, never logged)."""
        if read_field(self.key_source) != "keyring":
            return None
        return self.key_secret.text().strip() or None

    def clear_secret(self) -> None:
        self.key_secret.clear()
        self._sync_key()

    def set_models(self, models: list[str], note: str | None = None) -> None:
        """List models; a server that serves exactly one has it picked."""
        current = self.model.currentText()
        self.model.clear()
        self.model.addItems(models)
        self.model.setCurrentText(models[0] if len(models) == 1 else current)
        if note is not None:
            self.models_note.setText(note)
            self.models_note.setVisible(bool(note))

    def models(self) -> tuple[str, ...]:
        return tuple(self.model.itemText(i) for i in range(self.model.count()))

    # --- the key row -------------------------------------------------------------------

    @Slot()
    def _sync_key(self) -> None:
        kind = read_field(self.key_source)
        self._form.setRowVisible(self.key_secret, kind == "keyring")
        self._form.setRowVisible(self.key_env, kind == "env")
        self.key_status.setText(self._key_status(kind))

    def _key_status(self, kind: str) -> str:
        lines = []
        if not self._keyring:
            lines.append(f"OS keyring unavailable: {self._keyring.reason}.")
        if kind == "keyring" and self._keyring:
            old = self._base.key
            ref = old if old.kind == "keyring" else KeyRef("keyring", self._base.name)
            stored = has_key(ref)
            lines.append(
                "✓ A key is stored in the OS keyring (type a new one to replace it)."
                if stored
                else "No key stored yet: paste it above and Save (never written to the file)."
            )
        elif kind == "env":
            var = self.key_env.text().strip()
            if var:
                ok = has_key(KeyRef("env", var))
                lines.append(f"✓ ${var} is set." if ok else f"${var} is not set in this session.")
                url = self.base_url.text().strip()
                warning = key_warning(replace(self._base, base_url=url, key=KeyRef("env", var)))
                if warning:
                    lines.append(f"⚠ {warning}")
        else:
            lines.append("No auth header is sent.")
        return "\n".join(lines)

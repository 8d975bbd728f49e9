"""The History panel: every run kept in the store, newest first; full-text search over prompt
and answer, filters by provider, model, outcome and date; open a run in the Run view as it
was live, replay it at 1×, 2×, 5× or instant, compare several, tag, note, delete, export
and import. The store is core's (`HistoryStore`); this panel only lists and asks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core import (
    REPLAY_SPEEDS,
    DiagnoseError,
    HistoryError,
    HistoryStore,
    RunSummary,
    sessions_from_bytes,
)
from gui.theme import LIGHT, Theme, outcome_color, qcolor

__all__ = ["HistoryPanel", "RunsModel"]

_Index = QModelIndex | QPersistentModelIndex
_HEADERS = ("Time (UTC)", "Provider", "Model", "Verdict", "TTFT", "tok/s", "Tokens", "Cost", "Tags")
_OUTCOMES = (
    "any outcome", "completed", "tool_calls", "truncated", "paused", "blocked",
    "upstream_error", "http_error", "interrupted", "protocol_error", "not_sent",
)  # fmt: skip
_SINCE = {"any time": None, "today": 0, "7 days": 7, "30 days": 30}
_FORMATS = {"jsonl": "JSON Lines (*.jsonl)", "har": "HAR (*.har)", "csv": "CSV (*.csv)"}
_FORMATS |= {"markdown": "Markdown (*.md)", "otel-json": "OpenTelemetry JSON (*.json)"}


def _num(value: float | int | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:,.0f}{unit}"


class RunsModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RunSummary] = []
        self.theme = LIGHT

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return _HEADERS[section]
        return None

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        run = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            cost = "–" if run.cost_usd is None else f"${run.cost_usd:.6f}"
            values = (
                run.time.replace("T", " ")[:19],
                run.profile or run.base_url,
                run.model,
                run.label.upper().replace("/", " · "),
                _num(run.ttft_ms, " ms"),
                _num(run.output_tokens_per_s),
                _num(run.output_tokens),
                cost,
                ", ".join(run.tags),
            )
            return values[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 3:
            return QBrush(qcolor(outcome_color(self.theme, run.outcome or "interrupted")))
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"run {run.id} · {run.source} · {run.dialect} · {run.base_url}"]
            if run.warnings:
                lines.append("warnings: " + ", ".join(run.warnings))
            if run.notes:
                lines.append(f"note: {run.notes}")
            return "\n".join(lines)
        return None

    def set_rows(self, rows: list[RunSummary]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()


class HistoryPanel(QWidget):
    open_requested = Signal(int, object)  # run id, speed (None: at once)
    compare_requested = Signal(object)  # list of run ids (2 or more)

    def __init__(self, path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._store: HistoryStore | None = None
        self.model = RunsModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search prompt and answer…")
        self.search.setClearButtonEnabled(True)
        self.provider = QLineEdit()
        self.provider.setPlaceholderText("provider")
        self.model_filter = QLineEdit()
        self.model_filter.setPlaceholderText("model")
        self.outcome = QComboBox()
        self.outcome.addItems(_OUTCOMES)
        self.since = QComboBox()
        self.since.addItems(list(_SINCE))
        self.speed = QComboBox()
        for speed in REPLAY_SPEEDS:
            self.speed.addItem("instant" if speed is None else f"{speed:g}×", speed)
        self.buttons = {
            name: QPushButton(name)
            for name in (
                "Open",
                "Replay",
                "Compare",
                "Tag…",
                "Note…",
                "Delete",
                "Export…",
                "Import…",
            )
        }
        self.buttons["Replay"].setToolTip("Tokens arrive with their recorded gaps (a demo)")
        self.buttons["Compare"].setToolTip("Two or more runs in the Compare view's statistics")
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self._build_layout()
        self._connect()
        self._update_buttons()

    def _build_layout(self) -> None:
        filters = QHBoxLayout()
        filters.addWidget(self.search, 3)
        for widget in (self.provider, self.model_filter, self.outcome, self.since):
            filters.addWidget(widget, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.buttons["Open"])
        actions.addWidget(self.buttons["Replay"])
        actions.addWidget(self.speed)
        for name in ("Compare", "Tag…", "Note…", "Delete", "Export…", "Import…"):
            actions.addWidget(self.buttons[name])
        actions.addStretch(1)
        col = QVBoxLayout(self)
        col.setContentsMargins(6, 6, 6, 6)
        col.addLayout(filters)
        col.addWidget(self.table, 1)
        col.addLayout(actions)
        col.addWidget(self.status)

    def _connect(self) -> None:
        for edit in (self.search, self.provider, self.model_filter):
            edit.returnPressed.connect(self.refresh)
            edit.textChanged.connect(lambda _t: self.refresh())
        self.outcome.currentIndexChanged.connect(lambda _i: self.refresh())
        self.since.currentIndexChanged.connect(lambda _i: self.refresh())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.table.doubleClicked.connect(lambda _i: self._open(None))
        self.buttons["Open"].clicked.connect(lambda: self._open(None))
        self.buttons["Replay"].clicked.connect(lambda: self._open(self.speed.currentData()))
        self.buttons["Compare"].clicked.connect(self._compare)
        self.buttons["Tag…"].clicked.connect(self._tag)
        self.buttons["Note…"].clicked.connect(self._note)
        self.buttons["Delete"].clicked.connect(self._delete)
        self.buttons["Export…"].clicked.connect(self._export_dialog)
        self.buttons["Import…"].clicked.connect(self._import_dialog)

    # --- the store ---------------------------------------------------------------------------

    def store(self) -> HistoryStore | None:
        """The store, opened on first use; None (and why, on the panel) when it cannot be."""
        if self._store is None and self.path is not None:
            try:
                self._store = HistoryStore.open(self.path)
            except HistoryError as exc:
                self.status.setText(f"History unavailable: {exc}")
                return None
        return self._store

    def close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    @Slot()
    def refresh(self) -> None:
        store = self.store()
        if store is None:
            return
        days = _SINCE[self.since.currentText()]
        since = None
        if days is not None:
            since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - days * 86400))
        outcome = self.outcome.currentText()
        try:
            rows = store.list_runs(
                search=self.search.text().strip() or None,
                provider=self.provider.text().strip() or None,
                model=self.model_filter.text().strip() or None,
                outcome=None if outcome == "any outcome" else outcome,
                since=since,
                limit=2000,
            )
        except HistoryError as exc:
            self.status.setText(str(exc))
            return
        self.model.set_rows(rows)
        self.status.setText(f"{len(rows):,} runs shown · {store.count():,} kept in {self.path}")
        self._update_buttons()

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r].id for r in rows if r < len(self.model.rows)]

    def select_rows(self, rows: list[int]) -> None:
        self.table.clearSelection()
        for row in rows:
            self.table.selectionModel().select(
                self.model.index(row, 0),
                self.table.selectionModel().SelectionFlag.Select
                | self.table.selectionModel().SelectionFlag.Rows,
            )

    def _update_buttons(self) -> None:
        n = len(self.selected_ids())
        for name in ("Open", "Replay"):
            self.buttons[name].setEnabled(n == 1)
        self.buttons["Compare"].setEnabled(n >= 2)
        for name in ("Tag…", "Note…", "Delete", "Export…"):
            self.buttons[name].setEnabled(n >= 1)

    # --- actions -------------------------------------------------------------------------------

    def _open(self, speed: float | None) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.open_requested.emit(ids[0], speed)

    def _compare(self) -> None:
        ids = self.selected_ids()
        if len(ids) >= 2:
            self.compare_requested.emit(ids)

    def _tag(self) -> None:
        ids, store = self.selected_ids(), self.store()
        text, ok = QInputDialog.getText(self, "Tag runs", "Tags (comma-separated):")
        if ok and store is not None and text.strip():
            self.tag(ids, [t.strip() for t in text.split(",") if t.strip()])

    def tag(self, ids: list[int], tags: list[str]) -> None:
        store = self.store()
        if store is not None:
            for run_id in ids:
                store.add_tags(run_id, *tags)
            self.refresh()

    def _note(self) -> None:
        ids, store = self.selected_ids(), self.store()
        if not ids or store is None:
            return
        current = store.summary(ids[0]).notes
        text, ok = QInputDialog.getMultiLineText(
            self, "Note", "Note for the selected runs:", current
        )
        if ok:
            for run_id in ids:
                store.set_notes(run_id, text)
            self.refresh()

    def _delete(self) -> None:
        store = self.store()
        ids = self.selected_ids()
        if store is not None and ids:
            gone = store.delete(ids)
            self.refresh()
            self.status.setText(f"Deleted {gone} run(s).")

    def export(self, ids: list[int], fmt: str, path: Path) -> bool:
        store = self.store()
        if store is None:
            return False
        try:
            path.write_text(store.export(ids, fmt), encoding="utf-8")
        except (OSError, HistoryError, ValueError) as exc:
            self.status.setText(f"Export failed: {exc}")
            return False
        self.status.setText(f"Exported {len(ids)} run(s) to {path}")
        return True

    def _export_dialog(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        filters = ";;".join(_FORMATS.values())
        path, chosen = QFileDialog.getSaveFileName(self, "Export runs", "runs.har", filters)
        if path:
            fmt = next((k for k, v in _FORMATS.items() if v == chosen), "jsonl")
            self.export(ids, fmt, Path(path))

    def import_files(self, paths: list[Path]) -> list[int]:
        """Saved runs, HAR files, raw bodies and pasted logs; returns the new ids."""
        store = self.store()
        if store is None:
            return []
        new: list[int] = []
        for path in paths:
            try:
                for saved in sessions_from_bytes(path.read_bytes()):
                    new.append(store.import_session(saved))
            except (OSError, HistoryError, DiagnoseError, ValueError) as exc:
                self.status.setText(f"{path.name}: {exc}")
        self.refresh()
        if new:
            self.status.setText(f"Imported {len(new)} run(s).")
        return new

    def _import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import runs", "", "All files (*)")
        if paths:
            self.import_files([Path(p) for p in paths])

    def set_theme(self, theme: Theme) -> None:
        self.model.theme = theme

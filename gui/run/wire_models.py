"""Table models for the inspector: every byte chunk and every decoded wire event, appended in
batches; malformed and unknown events are highlighted."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from core import ChunkReceived, WireEvent
from gui.theme import qcolor

__all__ = ["ChunkModel", "EventModel", "printable"]

_Index = QModelIndex | QPersistentModelIndex


def printable(data: bytes, limit: int | None = None) -> str:
    """Bytes as text with line ends made visible (␍ ␊), for tables and the detail pane."""
    text = (
        data[:limit].decode("utf-8", errors="replace") if limit else data.decode("utf-8", "replace")
    )
    return text.replace("\r", "␍").replace("\n", "␊\n")


class _Rows(QAbstractTableModel):
    headers: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def append(self, rows: list[Any]) -> None:
        if not rows:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()


class ChunkModel(_Rows):
    """Rows: (ChunkReceived, attempt, axis time ns)."""

    headers = ("#", "try", "t (ms)", "bytes", "data")

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        chunk, attempt, t = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            col = index.column()
            if col == 0:
                return str(chunk.index)
            if col == 1:
                return str(attempt + 1)
            if col == 2:
                return f"{t / 1e6:,.2f}"
            if col == 3:
                return str(chunk.size)
            return printable(chunk.data, 160).replace("\n", " ")
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() < 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def chunk(self, row: int) -> ChunkReceived:
        return self.rows[row][0]


class EventModel(_Rows):
    """Rows: (WireEvent, global chunk row, axis time ns)."""

    headers = ("#", "chunk", "t (ms)", "event", "kind", "data")

    def __init__(self) -> None:
        super().__init__()
        self.bad = QBrush(qcolor("#cf222e55"))
        self.odd = QBrush(qcolor("#d2992255"))
        self._first: dict[int, int] = {}

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        event, chunk_row, t = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            col = index.column()
            values = (
                str(event.index),
                "–" if chunk_row < 0 else str(chunk_row),
                f"{t / 1e6:,.2f}",
                event.name,
                event.kind,
                event.data[:200].replace("\n", " "),
            )
            return values[col]
        if role == Qt.ItemDataRole.BackgroundRole:
            if event.kind == "malformed":
                return self.bad
            if event.kind == "unknown":
                return self.odd
        if role == Qt.ItemDataRole.ToolTipRole and event.kind != "ok":
            return f"{event.kind} event"
        return None

    def wire_event(self, row: int) -> WireEvent:
        return self.rows[row][0]

    def chunk_row(self, row: int) -> int:
        return self.rows[row][1]

    def first_row_of_chunk(self, chunk_row: int) -> int | None:
        return self._first.get(chunk_row)

    def append(self, rows: list[Any]) -> None:
        start = len(self.rows)
        for offset, (_, chunk_row, _) in enumerate(rows):
            self._first.setdefault(chunk_row, start + offset)
        super().append(rows)

    def clear(self) -> None:
        self._first.clear()
        super().clear()

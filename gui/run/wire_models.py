"""Table models for the inspector: every byte chunk and every decoded wire event, appended in
batches; malformed and unknown events are highlighted. Rows are numpy columns and the bytes
page from a temporary file, so a million-event run costs tens of MB, not hundreds."""

from __future__ import annotations

import tempfile
import weakref
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from core import ChunkBatch, ChunkReceived, WireBatch, WireEvent
from gui.theme import qcolor

__all__ = ["ChunkModel", "EventModel", "Spool", "printable"]

_Index = QModelIndex | QPersistentModelIndex


def printable(data: bytes, limit: int | None = None) -> str:
    """Bytes as text with line ends made visible (␍ ␊), for tables and the detail pane."""
    text = (
        data[:limit].decode("utf-8", errors="replace") if limit else data.decode("utf-8", "replace")
    )
    return text.replace("\r", "␍").replace("\n", "␊\n")


class Spool:
    """Bytes kept in a temporary file and read back by (offset, length): a million chunks'
    raw bytes and events' data never sit in memory; the tables read the rows they show."""

    def __init__(self) -> None:
        self._file: Any = None  # made on the first put: a window that never streams has none
        self._size = 0

    def put(self, data: bytes) -> int:
        """Append `data`; returns its offset."""
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="streamscope-inspector-")  # noqa: SIM115
            weakref.finalize(self, self._file.close)
        offset = self._size
        self._file.seek(offset)
        self._file.write(data)
        self._size += len(data)
        return offset

    def get(self, offset: int, length: int) -> bytes:
        if self._file is None:
            return b""
        self._file.seek(offset)
        return self._file.read(length)

    def clear(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
        self._size = 0


class RowSpool:
    """Fixed-size rows (a numpy structured dtype) in a `Spool`: row i is read back by its
    offset, one at a time, for the rows a table shows."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self._spool = Spool()
        self._n = 0
        self._cached: tuple[int, Any] = (-1, None)

    def __len__(self) -> int:
        return self._n

    def extend(self, **columns: Any) -> None:
        count = len(next(iter(columns.values())))
        if not count:
            return
        rows = np.empty(count, self.dtype)
        for name in self.dtype.names or ():
            rows[name] = columns[name]
        self._spool.put(rows.tobytes())
        self._n += count

    def __getitem__(self, i: int) -> Any:
        if self._cached[0] != i:
            raw = self._spool.get(i * self.dtype.itemsize, self.dtype.itemsize)
            self._cached = (i, np.frombuffer(raw, self.dtype)[0])
        return self._cached[1]

    def clear(self) -> None:
        self._spool.clear()
        self._n = 0
        self._cached = (-1, None)


class _Rows(QAbstractTableModel):
    """Rows as fixed-size records and their bytes, both in temporary files."""

    headers: tuple[str, ...] = ()
    dtype: np.dtype

    def __init__(self) -> None:
        super().__init__()
        self.cols = RowSpool(self.dtype)
        self.spool = Spool()

    def __len__(self) -> int:
        return len(self.cols)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.cols)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def _extend(self, count: int, **values: Any) -> None:
        if not count:
            return
        first = len(self.cols)
        self.beginInsertRows(QModelIndex(), first, first + count - 1)
        self.cols.extend(**values)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.cols.clear()
        self.spool.clear()
        self.endResetModel()


class ChunkModel(_Rows):
    """One row per network read: its index, attempt, time on the view's axis, size; the
    bytes are in the spool."""

    headers = ("#", "try", "t (ms)", "bytes", "data")
    dtype = np.dtype(
        [("index", "i8"), ("attempt", "i4"), ("t", "i8"), ("size", "i8"), ("at", "i8")]
    )

    def append(self, chunks: ChunkBatch, attempt: int, offset_ns: int) -> None:
        if not chunks:
            return
        sizes = np.frombuffer(chunks.sizes, np.int64)
        at = self.spool.put(chunks.data) + np.cumsum(sizes) - sizes
        self._extend(
            len(chunks),
            index=np.frombuffer(chunks.index, np.int64),
            attempt=np.full(len(chunks), attempt),
            t=np.frombuffer(chunks.t_ns, np.int64) + offset_ns,
            size=sizes,
            at=at,
        )

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            cols = self.cols
            if col == 0:
                return str(row + 1)  # one numbering from 1 across attempts
            if col == 1:
                return str(int(cols[row]["attempt"]) + 1)
            if col == 2:
                return f"{int(cols[row]['t']) / 1e6:,.2f}"
            if col == 3:
                return str(int(cols[row]["size"]))
            head = self.spool.get(int(cols[row]["at"]), min(160, int(cols[row]["size"])))
            return printable(head).replace("\n", " ")
        if role == Qt.ItemDataRole.TextAlignmentRole and col < 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def chunk(self, row: int) -> ChunkReceived:
        cols = self.cols
        size = int(cols[row]["size"])
        data = self.spool.get(int(cols[row]["at"]), size)
        return ChunkReceived(int(cols[row]["index"]), size, data, int(cols[row]["t"]))

    def attempt(self, row: int) -> int:
        return int(self.cols[row]["attempt"])


_KINDS = ("ok", "malformed", "unknown")


class EventModel(_Rows):
    """One row per decoded wire event: index, global chunk row, time, name, kind; the data
    is in the spool."""

    headers = ("#", "chunk", "t (ms)", "event", "kind", "data")
    dtype = np.dtype(
        [
            ("index", "i8"),
            ("chunk", "i8"),
            ("t", "i8"),
            ("name", "i4"),
            ("kind", "i1"),
            ("at", "i8"),
            ("size", "i8"),
        ]
    )

    def __init__(self) -> None:
        super().__init__()
        self.bad = QBrush(qcolor("#cf222e55"))
        self.odd = QBrush(qcolor("#d2992255"))
        self._names: list[str] = []
        self._name_ids: dict[str, int] = {}

    def append(self, wire: WireBatch, chunk_base: int, offset_ns: int) -> None:
        if not wire:
            return
        codes = []
        for name in wire.names:
            code = self._name_ids.get(name)
            if code is None:
                code = self._name_ids[name] = len(self._names)
                self._names.append(name)
            codes.append(code)
        text = wire.text
        if text.isascii():  # one byte a character: the sizes are the byte sizes
            data = text.encode("ascii")
            sizes = np.frombuffer(wire.sizes, np.int64)
        else:
            pieces = [p.encode("utf-8", "surrogatepass") for p in wire.pieces()]
            data = b"".join(pieces)
            sizes = np.fromiter(map(len, pieces), np.int64, len(pieces))
        chunk = np.frombuffer(wire.chunk_index, np.int64)
        self._extend(
            len(wire),
            index=np.frombuffer(wire.index, np.int64),
            chunk=np.where(chunk >= 0, chunk + chunk_base, -1),
            t=np.frombuffer(wire.t_ns, np.int64) + offset_ns,
            name=np.asarray(codes, np.int64)[np.frombuffer(wire.name_codes, np.int64)],
            kind=np.frombuffer(wire.kinds, np.int8),
            at=self.spool.put(data) + np.cumsum(sizes) - sizes,
            size=sizes,
        )

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        kind = _KINDS[int(self.cols[row]["kind"])]
        if role == Qt.ItemDataRole.DisplayRole:
            cols = self.cols
            if col == 0:
                return str(row + 1)
            if col == 1:
                chunk = int(cols[row]["chunk"])
                return "–" if chunk < 0 else str(chunk + 1)  # the chunk table's number
            if col == 2:
                return f"{int(cols[row]['t']) / 1e6:,.2f}"
            if col == 3:
                return self._names[int(cols[row]["name"])]
            if col == 4:
                return kind
            head = self.spool.get(int(cols[row]["at"]), min(800, int(cols[row]["size"])))
            return head.decode("utf-8", "replace")[:200].replace("\n", " ")
        if role == Qt.ItemDataRole.BackgroundRole:
            if kind == "malformed":
                return self.bad
            if kind == "unknown":
                return self.odd
        if role == Qt.ItemDataRole.ToolTipRole and kind != "ok":
            return f"{kind} event"
        return None

    def wire_event(self, row: int) -> WireEvent:
        """The row's event as core gave it (its time on the view's axis)."""
        cols = self.cols
        data = self.spool.get(int(cols[row]["at"]), int(cols[row]["size"]))
        return WireEvent(
            int(cols[row]["index"]),
            int(cols[row]["chunk"]),
            self._names[int(cols[row]["name"])],
            data.decode("utf-8", "surrogatepass"),
            _KINDS[int(cols[row]["kind"])],
            int(cols[row]["t"]),
        )

    def chunk_row(self, row: int) -> int:
        return int(self.cols[row]["chunk"])

    def first_row_of_chunk(self, chunk_row: int) -> int | None:
        """The first event a chunk completed, by binary search (rows come in chunk order;
        a plain body's events, chunk -1, come first)."""
        lo, hi = 0, len(self.cols)
        while lo < hi:
            mid = (lo + hi) // 2
            if int(self.cols[mid]["chunk"]) < chunk_row:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self.cols) and int(self.cols[lo]["chunk"]) == chunk_row else None

    def clear(self) -> None:
        self._names.clear()
        self._name_ids.clear()
        super().clear()

"""The raw inspector: the exact request (URL, headers with the key masked, body) and the
response status and headers; every byte chunk with its time and size; every decoded event,
pretty-printed on selection. Chunks and events select each other, and the stream view's
tokens select their chunk (and back)."""

from __future__ import annotations

import json

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core import AttemptStarted, ChunkBatch, Phase, RequestSent, ResponseStarted, WireBatch
from gui.run.messages import SessionStart, attempt_label
from gui.run.wire_models import ChunkModel, EventModel, printable

__all__ = ["Inspector"]

_MONO = QFont("DejaVu Sans Mono", 9)


def _table(model: ChunkModel | EventModel, widths: tuple[int, ...]) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(20)
    view.setFont(_MONO)
    header = view.horizontalHeader()
    for col, width in enumerate(widths):
        view.setColumnWidth(col, width)
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def _text_view() -> QPlainTextEdit:
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setFont(_MONO)
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    return view


class Inspector(QWidget):
    chunk_selected = Signal(int)  # global chunk row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chunks = ChunkModel()
        self.events = EventModel()
        self.chunk_table = _table(self.chunks, (46, 34, 78, 50))
        self.event_table = _table(self.events, (50, 50, 80, 150, 70))
        self.detail = _text_view()
        self.exchange = _text_view()
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        self._offset = 0
        self._attempt = 0
        self._attempts_seen = 0  # attempts shown since the views were cleared
        self._chunk_base = 0
        self._bad = 0
        self._exchange: list[str] = []
        self._syncing = False
        tables = QSplitter(Qt.Orientation.Horizontal)
        tables.addWidget(self._titled("Byte chunks", self.chunk_table))
        tables.addWidget(self._titled("Decoded events", self.event_table))
        tables.setSizes([380, 620])
        self.bottom = QTabWidget()
        self.bottom.addTab(self.detail, "Selected")
        self.bottom.addTab(self.exchange, "Request && response")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(tables)
        self.splitter.addWidget(self.bottom)
        self.splitter.setSizes([420, 260])
        col = QVBoxLayout(self)
        col.setContentsMargins(6, 6, 6, 6)
        col.addWidget(self.summary)
        col.addWidget(self.splitter, 1)
        self.chunk_table.selectionModel().currentRowChanged.connect(self._on_chunk_row)
        self.event_table.selectionModel().currentRowChanged.connect(self._on_event_row)

    @staticmethod
    def _titled(title: str, view: QWidget) -> QWidget:
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        label = QLabel(title.upper())
        label.setObjectName("sectionTitle")
        col.addWidget(label)
        col.addWidget(view)
        return box

    # --- slots from the controller -----------------------------------------------------------

    @Slot(object)
    def on_session_started(self, start: SessionStart) -> None:
        if start.fresh:
            self.chunks.clear()
            self.events.clear()
            self._exchange = []
            self.detail.clear()
            self._chunk_base = self._bad = 0
            self._offset = self._attempt = self._attempts_seen = 0
        if start.kind == "replay":
            self._exchange.append(f"Opened: {start.source}")
        self._refresh()

    @Slot(object, object)
    def on_attempt_started(self, attempt: AttemptStarted, axis_offset_ns: int) -> None:
        # numbered like the attempts table: from 1, across Retry and Continue
        self._offset, self._attempt = axis_offset_ns, self._attempts_seen
        self._attempts_seen += 1
        self._chunk_base = len(self.chunks)
        self._exchange.append(f"━━ {attempt_label(attempt, self._attempts_seen)} ━━")

    @Slot(object)
    def on_request_sent(self, req: RequestSent) -> None:
        lines = [f"{req.method} {req.url}"]
        lines += [f"{k}: {v}" for k, v in req.headers.items()]
        lines += ["", json.dumps(req.body, indent=2, ensure_ascii=False), ""]
        self._exchange.append("\n".join(lines))
        self._refresh()

    @Slot(object)
    def on_phase_reached(self, phase: Phase) -> None:
        self._exchange.append(f"  · {phase.name} at {phase.t_ns / 1e6:,.2f} ms")

    @Slot(object)
    def on_response_started(self, resp: ResponseStarted) -> None:
        lines = [f"\nHTTP {resp.status} at {resp.t_ns / 1e6:,.2f} ms"]
        lines += [f"{k}: {v}" for k, v in resp.headers.items()]
        self._exchange.append("\n".join(lines) + "\n")
        self._refresh()

    @Slot(object)
    def on_chunks_received(self, chunks: ChunkBatch) -> None:
        self.chunks.append(chunks, self._attempt, self._offset)
        self._refresh_summary()

    @Slot(object)
    def on_wire_events_decoded(self, wire: WireBatch) -> None:
        self._bad += len(wire) - wire.kinds.count(0)
        self.events.append(wire, self._chunk_base, self._offset)
        self._refresh_summary()

    @Slot(int)
    def on_chunk_requested(self, row: int) -> None:
        """A token was clicked in the stream view: select the chunk that brought it."""
        if 0 <= row < len(self.chunks):
            self._select(self.chunk_table, row)

    # --- linking -------------------------------------------------------------------------

    def _select(self, view: QTableView, row: int) -> None:
        index = view.model().index(row, 0)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        view.selectionModel().setCurrentIndex(index, flags)
        view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    @Slot(QModelIndex, QModelIndex)
    def _on_chunk_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = current.row()
        chunk, attempt = self.chunks.chunk(row), self.chunks.attempt(row)
        self.detail.setPlainText(
            f"chunk {row + 1} · attempt {attempt + 1} · {chunk.size} bytes · "
            f"at {chunk.t_ns / 1e6:,.3f} ms\n\n{printable(chunk.data)}"
        )
        if self._syncing:
            return
        self._syncing = True
        first = self.events.first_row_of_chunk(row)
        if first is not None:
            self._select(self.event_table, first)
        self._syncing = False
        self.chunk_selected.emit(row)

    @Slot(QModelIndex, QModelIndex)
    def _on_event_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        event = self.events.wire_event(current.row())
        chunk_row = self.events.chunk_row(current.row())
        try:
            pretty = json.dumps(json.loads(event.data), indent=2, ensure_ascii=False)
        except ValueError:
            pretty = event.data
        flag = "" if event.kind == "ok" else f" · {event.kind.upper()}"
        self.detail.setPlainText(
            f"event {current.row() + 1} “{event.name}” · chunk {chunk_row + 1} · "
            f"at {event.t_ns / 1e6:,.3f} ms{flag}\n\n{pretty}"
        )
        if self._syncing or chunk_row < 0:
            return
        self._syncing = True
        self._select(self.chunk_table, chunk_row)
        self._syncing = False
        self.chunk_selected.emit(chunk_row)

    def _refresh(self) -> None:
        self.exchange.setPlainText("\n".join(self._exchange))
        self._refresh_summary()

    def _refresh_summary(self) -> None:
        bad = self._bad
        flag = f" · {bad} malformed/unknown (highlighted)" if bad else ""
        self.summary.setText(f"{len(self.chunks):,} chunks · {len(self.events):,} events{flag}")

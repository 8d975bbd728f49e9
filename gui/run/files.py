"""File → Open / Save / Export, Edit → Paste log, and drag and drop, for the main window:
opening goes through `core.diagnose_bytes`, and an unusable file is a message in the verdict
panel, never a traceback."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMainWindow

from core import HistoryError
from gui.run.controller import RunController
from gui.run.paste_box import PasteBox
from gui.run.verdict_panel import VerdictPanel

if TYPE_CHECKING:
    from gui.run.latency_plot import LatencyPlot

__all__ = ["FilesMixin"]


class FilesMixin(QMainWindow):
    controller: RunController
    verdict_panel: VerdictPanel
    latency_plot: LatencyPlot

    paste_box: PasteBox | None = None
    run_stored: bool  # the run shown is kept somewhere: no warning on closing

    @Slot()
    def paste_log(self) -> None:
        """The clipboard's log, or, when it holds no text, a box to paste it into."""
        text = QGuiApplication.clipboard().text()
        if text.strip():
            self.open_bytes(text.encode("utf-8"), "pasted log")
            return
        if self.paste_box is None:
            self.paste_box = PasteBox(self)
            self.paste_box.text_submitted.connect(self._on_log_pasted)
        self.paste_box.edit.clear()
        self.paste_box.show()
        self.paste_box.raise_()
        self.paste_box.edit.setFocus()

    @Slot(str)
    def _on_log_pasted(self, text: str) -> None:
        self.open_bytes(text.encode("utf-8"), "pasted log")

    def open_path(self, path: Path) -> bool:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            self.verdict_panel.show_error(f"Cannot read {path}: {exc.strerror or exc}")
            return False
        return self.open_bytes(data, Path(path).name)

    def open_bytes(self, data: bytes, source: str, speed: float | None = None) -> bool:
        """Show a saved run, raw body or pasted log: at once, or (`speed` 1, 2, 5) at its
        recorded pace, a demo with no network."""
        from core import DiagnoseError, diagnose_bytes  # with the first file, not at start-up

        try:
            replay = diagnose_bytes(data)
        except DiagnoseError as exc:
            self.verdict_panel.show_error(f"{source}: {exc}")
            return False
        self.controller.load_replay(replay, f"{source} ({replay.kind}, {replay.dialect})", speed)
        return True

    def replay_path(self, path: Path, speed: float = 1.0) -> bool:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            self.verdict_panel.show_error(f"Cannot read {path}: {exc.strerror or exc}")
            return False
        return self.open_bytes(data, Path(path).name, speed)

    def _replay_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Replay a saved run at its recorded pace", "", "Saved runs (*.jsonl);;All (*)"
        )
        if path:
            self.replay_path(Path(path), self.history_panel.speed.currentData() or 1.0)

    def save_run(self, path: Path) -> bool:
        """The shown session as a saved run: exported from the history store, or copied from
        the working file the engine wrote when the store could not keep it."""
        kept = self.controller.history_id
        store = self.history_panel.store() if kept is not None else None
        source = self.controller.recording_path
        if store is None and (source is None or not source.exists()):
            self.verdict_panel.show_error("Nothing to save: run something first.")
            return False
        try:
            if store is not None and kept is not None:
                path.write_text(store.export([kept], "jsonl"), encoding="utf-8")
            else:
                assert source is not None
                shutil.copyfile(source, path)
        except (OSError, HistoryError) as exc:
            why = getattr(exc, "strerror", None) or exc
            self.verdict_panel.show_error(f"Cannot save to {path}: {why}")
            return False
        self.run_stored = True
        self.statusBar().showMessage(f"Saved run to {path}", 5000)
        return True

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a saved run, a raw stream body or a log", "", "All files (*)"
        )
        if path:
            self.open_path(Path(path))

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save run", "run.jsonl", "Saved runs (*.jsonl)")
        if path:
            self.save_run(Path(path))

    def export_stamp(self) -> str:
        """What an exported graph says it shows: provider, model, verdict and when."""
        parts = ["StreamScope"]
        spec = self.controller.last_spec
        shown = self.verdict_panel.shown
        if shown is not None and shown.replay_kind is not None:
            parts.append(f"opened {shown.replay_kind}")
        elif spec is not None:
            parts += [spec.profile, spec.dialect, spec.model]
        if shown is not None:
            parts.append(shown.verdict.label)
        parts.append(time.strftime("%Y-%m-%d %H:%M %Z"))
        return " · ".join(parts)

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export graph", "latency.png", "PNG (*.png)")
        if path:
            self.latency_plot.export_png(Path(path), self.export_stamp())

    # --- drag and drop -----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasText():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if local:
            self.open_path(Path(local[0]))
        elif mime.hasText():
            self.open_bytes(mime.text().encode("utf-8"), "dropped text")
        event.acceptProposedAction()

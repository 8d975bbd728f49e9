"""The race's statistics table: a row per lane, sortable, the best value of each column
highlighted, recomputed from the recorded stamps under the chosen metric definitions."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from core import LaneStats
from gui.theme import qcolor

__all__ = ["COLUMNS", "StatsTable"]

# (header, stat key, summary field, lower is better); None key: a text column
COLUMNS: tuple[tuple[str, str | None, str, bool], ...] = (
    ("Lane", None, "", True),
    ("Model", None, "", True),
    ("Runs", None, "", True),
    ("OK / incomplete / errored", None, "", True),
    ("Outcomes", None, "", True),
    ("TTFB p50", "ttfb_ms", "p50", True),
    ("Headers p50", "headers_ms", "p50", True),
    ("TTFT p50", "ttft_ms", "p50", True),
    ("TTFT p90", "ttft_ms", "p90", True),
    ("TTFT p99", "ttft_ms", "p99", True),
    ("ITL p50", "itl_ms", "p50", True),
    ("TPOT p50", "tpot_ms", "p50", True),
    ("E2E p50", "e2e_ms", "p50", True),
    ("tok/s p50", "output_tokens_per_s", "p50", False),
    ("Tokens p50", "output_tokens", "p50", False),
    ("Cost/run", None, "", True),
)


class _Number(QTableWidgetItem):
    """Sorts by value; "–" (no value) sorts last."""

    def __init__(self, value: float | None, text: str) -> None:
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine = self.value if self.value is not None else float("inf")
        theirs = getattr(other, "value", None)
        return mine < (theirs if theirs is not None else float("inf"))


class StatsTable(QTableWidget):
    def __init__(self) -> None:
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        self.setSortingEnabled(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.best = QBrush(qcolor("#2ca02c44"))
        self._bold = QFont()
        self._bold.setBold(True)

    def show_stats(self, rows: list[dict[str, Any]]) -> None:
        """rows: {"label", "model", "stats": LaneStats, "cost": str}, one per lane."""
        self.setSortingEnabled(False)
        self.setRowCount(len(rows))
        best: dict[int, tuple[float, int]] = {}
        for r, row in enumerate(rows):
            stats: LaneStats = row["stats"]
            counts = stats.counts
            texts = [
                row["label"],
                row["model"],
                str(stats.runs),
                " / ".join(str(counts.get(k, 0)) for k in ("successful", "incomplete", "errored")),
                ", ".join(f"{k} ×{n}" for k, n in sorted(stats.outcomes.items())),
            ]
            for c, text in enumerate(texts):
                item = _Number(float(stats.runs), text) if c == 2 else QTableWidgetItem(text)
                item.setToolTip(text)
                self.setItem(r, c, item)
            for c, (_, key, field, lower) in enumerate(COLUMNS):
                if key is None:
                    continue
                summary = stats.stats.get(key)
                value = getattr(summary, field) if summary is not None else None
                unit = "" if key in ("output_tokens", "output_tokens_per_s") else " ms"
                text = "–" if value is None else f"{value:,.1f}{unit}"
                self.setItem(r, c, _Number(value, text))
                if value is not None:
                    score = value if lower else -value
                    if c not in best or score < best[c][0]:
                        best[c] = (score, r)
            cost = QTableWidgetItem(row["cost"])
            cost.setToolTip(row.get("cost_source", ""))
            self.setItem(r, len(COLUMNS) - 1, cost)
        if len(rows) > 1:
            for c, (_, r) in best.items():
                item = self.item(r, c)
                item.setBackground(self.best)
                item.setFont(self._bold)
                item.setToolTip("best of the lanes")
        self.setSortingEnabled(True)
        self.resizeColumnsToContents()  # once per update, not on every cell change

    def best_row(self, column: str) -> int | None:
        """The row highlighted as best in the column with this header (tests)."""
        c = [h for h, *_ in COLUMNS].index(column)
        for r in range(self.rowCount()):
            item = self.item(r, c)
            if item is not None and item.toolTip() == "best of the lanes":
                return r
        return None

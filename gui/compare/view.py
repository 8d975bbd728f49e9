"""The Compare view: lanes added from the request pane (or three demo lanes on the mock),
one shared prompt and token limit, Send all / Stop all, a card per lane with its live stream,
TTFT, tokens/s and verdict, the race graph, the repeat progress, and the statistics table
under a switchable metric definition, with CSV, Markdown, JSON and PNG export."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core import (
    METRIC_DEFINITIONS,
    Lane,
    LaneRun,
    RacePlan,
    RaceResult,
    RoundFinished,
    RunSpec,
    RunStamps,
    Verdict,
    compare_csv,
    compare_json,
    compare_markdown,
    lane_stats,
)
from gui.compare.controller import CompareController
from gui.compare.lane_cards import LaneCards
from gui.compare.race_plot import RacePlot
from gui.compare.stats_table import StatsTable
from gui.theme import LIGHT, Theme

__all__ = ["MAX_LANES", "CompareView", "demo_lanes"]

MAX_LANES = 16
STATS_MS = 250
# While a race runs the view ticks every FRAME_MS and alternates: the graph takes its new
# points, then a group of lane cards takes its events, so no frame paints both; each card
# (one of GROUPS groups) is updated every 2 × GROUPS × FRAME_MS = 200 ms, 5 times a second.
FRAME_MS = 25


@dataclass(frozen=True, slots=True)
class _Lane:
    label: str
    spec: RunSpec


def demo_lanes(mock_urls: dict[str, str]) -> list[tuple[str, RunSpec]]:
    """Three lanes on the built-in mock that make a real race with no key: a fast one, a
    slow jittery one with a late first byte, and one cut mid-stream."""
    base = mock_urls["openai-chat"]

    def lane(model: str, params: str) -> RunSpec:
        return RunSpec(
            "openai-chat",
            base,
            model,
            RunSpec.user("race"),
            headers={"x-mock-params": params},
            profile="Mock",
        )

    return [
        ("fast", lane("mock-normal", "tps=240;first_byte_ms=80;jitter_ms=2")),
        ("slow", lane("mock-normal", "tps=90;first_byte_ms=400;jitter_ms=15")),
        ("cut", lane("mock-reset_mid_stream", "tps=160;first_byte_ms=150;fail_first=1")),
    ]


class CompareView(QWidget):
    add_lane_requested = Signal()  # the window answers with add_lane(label, spec)
    open_run_requested = Signal(str)  # a saved-run file to show in the Run view
    run_in_run_view_requested = Signal(object, object)  # RunSpec, SessionFinished | None
    race_shown = Signal()  # a finished race's cards, graph and table all on screen

    def __init__(self, controller: CompareController, mock_urls: dict[str, str]) -> None:
        super().__init__()
        self.controller = controller
        self._mock_urls = mock_urls
        self._lanes: list[_Lane] = []
        self._runs: list[LaneRun] = []
        self._result: RaceResult | None = None
        self._plan: RacePlan | None = None
        self._theme = LIGHT
        # controls
        self.prompt = QPlainTextEdit("Write a short paragraph about streaming APIs.")
        self.prompt.setMaximumHeight(80)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 1_000_000)
        self.max_tokens.setValue(300)
        self.repeat = QSpinBox()
        self.repeat.setRange(1, 1000)
        self.repeat.setValue(3)
        self.pause = QDoubleSpinBox()
        self.pause.setRange(0, 600)
        self.pause.setSuffix(" s")
        self.mode = QComboBox()
        self.mode.addItems(["race", "sequential"])
        self.mode.setToolTip(
            "race: every lane's request headers go out together (skew reported)\n"
            "sequential: one lane after another, so lanes never share the network"
        )
        self.definitions = QComboBox()
        self.definitions.addItems(list(METRIC_DEFINITIONS))
        self.definitions.setToolTip("Whose metric definitions the statistics use (README)")
        for spin in (self.max_tokens, self.repeat, self.pause):
            spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel only when focused
        self.lane_list = QListWidget()
        self.add_button = QPushButton("Add lane from request pane")
        self.add_button.setToolTip("The provider, model and parameters set in the Run view")
        self.demo_button = QPushButton("Demo lanes (mock)")
        self.remove_button = QPushButton("Remove lane")
        self.clear_button = QPushButton("Clear")
        self.send_button = QPushButton("Send all")
        self.send_button.setObjectName("primary")
        self.send_button.setToolTip("Race every lane (Ctrl+Enter)")
        self.stop_button = QPushButton("Stop all")
        self.stop_button.setToolTip("Stop every lane (Esc)")
        self.stop_button.setEnabled(False)
        self.export_buttons = {
            name: QPushButton(name) for name in ("CSV…", "Markdown…", "JSON…", "PNG…")
        }
        self.status = QLabel("Add 2–16 lanes, then Send all.")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m runs")
        self.plot = RacePlot()
        self.table = StatsTable()
        self.lane_cards = LaneCards()  # a card per lane, made as the lanes are set up
        # the table is recomputed at most every STATS_MS while runs finish, not once a run
        self._stats_timer = QTimer(self)
        self._stats_timer.setSingleShot(True)
        self._stats_timer.setInterval(STATS_MS)
        self._stats_timer.timeout.connect(self._refresh_stats)
        self._frame_timer = QTimer(self)
        self._frame_timer.setInterval(FRAME_MS)
        self._frame_timer.timeout.connect(self._on_frame)
        self._graph_turn = True
        self._finishing = False  # a race has its result; its last frames are being shown
        self._build_layout()
        self._connect()
        self._update_buttons()

    # --- construction ----------------------------------------------------------------------

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.addRow("Max tokens", self.max_tokens)
        form.addRow("Repeat", self.repeat)
        form.addRow("Pause", self.pause)
        form.addRow("Mode", self.mode)
        form.addRow("Metrics", self.definitions)
        left = QVBoxLayout()
        left.addWidget(QLabel("SHARED PROMPT"))
        left.addWidget(self.prompt)
        left.addLayout(form)
        left.addWidget(QLabel("LANES"))
        left.addWidget(self.lane_list, 1)
        for pair in ((self.add_button,), (self.demo_button, self.remove_button, self.clear_button)):
            row = QHBoxLayout()
            for button in pair:
                row.addWidget(button)
            left.addLayout(row)
        run_row = QHBoxLayout()
        run_row.addWidget(self.send_button)
        run_row.addWidget(self.stop_button)
        left.addLayout(run_row)
        left.addWidget(self.status)
        export = QHBoxLayout()
        for button in self.export_buttons.values():
            export.addWidget(button)
        left.addLayout(export)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setMaximumWidth(360)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.lane_cards)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(scroll)
        right.addWidget(self.plot)
        right.addWidget(self.table)
        right.setSizes([300, 300, 200])
        right_box = QWidget()
        rcol = QVBoxLayout(right_box)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.addWidget(self.progress)
        rcol.addWidget(right, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left_box)
        split.addWidget(right_box)
        split.setStretchFactor(1, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(split)

    def _connect(self) -> None:
        c = self.controller
        self.add_button.clicked.connect(self.add_lane_requested)
        self.demo_button.clicked.connect(self.add_demo_lanes)
        self.remove_button.clicked.connect(self._remove_selected)
        self.clear_button.clicked.connect(self.clear_lanes)
        self.send_button.clicked.connect(self.send_all)
        self.stop_button.clicked.connect(self.stop_all)
        self.definitions.currentTextChanged.connect(lambda _d: self._refresh_stats())
        self.export_buttons["PNG…"].clicked.connect(lambda: self._export_dialog("png"))
        self.export_buttons["CSV…"].clicked.connect(lambda: self._export_dialog("csv"))
        self.export_buttons["Markdown…"].clicked.connect(lambda: self._export_dialog("md"))
        self.export_buttons["JSON…"].clicked.connect(lambda: self._export_dialog("json"))
        self.lane_cards.retry_requested.connect(self._retry_lane)
        self.lane_cards.continue_requested.connect(self._continue_lane)
        self.lane_cards.open_requested.connect(self._open_lane)
        c.race_started.connect(self._on_race_started)
        c.round_started.connect(self._on_round_started)
        c.lane_events.connect(self.lane_cards.add_events)
        c.lane_events.connect(self.plot.on_lane_events)
        c.run_finished.connect(self._on_run_finished)
        c.round_finished.connect(self._on_round_finished)
        c.race_finished.connect(self._on_race_finished)
        c.race_failed.connect(self.status.setText)
        c.busy_changed.connect(self._on_busy_changed)

    # --- lanes -----------------------------------------------------------------------------

    @property
    def lane_count(self) -> int:
        return len(self._lanes)

    def add_lane(self, label: str, spec: RunSpec) -> bool:
        if len(self._lanes) >= MAX_LANES or self.controller.busy:
            self.status.setText(f"A race has at most {MAX_LANES} lanes.")
            return False
        taken = {lane.label for lane in self._lanes}
        unique, n = label, 2
        while unique in taken:
            unique, n = f"{label} {n}", n + 1
        self._lanes.append(_Lane(unique, spec))
        self.lane_list.addItem(f"{unique} — {spec.profile} · {spec.dialect} · {spec.model}")
        self._lanes_changed()
        return True

    @Slot()
    def add_demo_lanes(self) -> None:
        for label, spec in demo_lanes(self._mock_urls):
            self.add_lane(label, spec)

    @Slot()
    def clear_lanes(self) -> None:
        if self.controller.busy:
            return
        self._lanes.clear()
        self.lane_list.clear()
        self._lanes_changed()

    def _remove_selected(self) -> None:
        row = self.lane_list.currentRow()
        if 0 <= row < len(self._lanes) and not self.controller.busy:
            del self._lanes[row]
            self.lane_list.takeItem(row)
            self._lanes_changed()

    def _lanes_changed(self) -> None:
        """The cards and the graph's curves and legend follow the lanes as they are set up,
        so that Send all builds none of them (16 cards and curves: ~200 ms, once)."""
        self.lane_cards.set_lanes([(lane.label, lane.spec.model) for lane in self._lanes])
        self.plot.prepare([lane.label for lane in self._lanes])
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.controller.busy
        ready = len(self._lanes) >= 2
        self.send_button.setEnabled(ready and not busy)
        self.stop_button.setEnabled(busy)
        for button in (self.add_button, self.demo_button, self.remove_button, self.clear_button):
            button.setEnabled(not busy)
        for button in self.export_buttons.values():
            button.setEnabled(self._result is not None and not busy)
        if not ready and not busy:
            self.status.setText(f"{len(self._lanes)} lane(s): add at least 2, then Send all.")

    # --- a race ----------------------------------------------------------------------------

    @Slot()
    def send_all(self) -> None:
        if len(self._lanes) < 2 or self.controller.busy:
            return
        prompt = self.prompt.toPlainText().strip() or "Hello"
        lanes = tuple(
            Lane(
                lane.label,
                lane.spec.with_changes(
                    messages=RunSpec.user(prompt), max_tokens=self.max_tokens.value()
                ),
            )
            for lane in self._lanes
        )
        plan = RacePlan(
            lanes,
            mode=self.mode.currentText(),
            repeat=self.repeat.value(),
            pause_s=self.pause.value(),
        )
        self.controller.start(plan)

    @Slot()
    def stop_all(self) -> None:
        self.controller.stop()

    def _on_race_started(self, plan: RacePlan) -> None:
        self._plan, self._result, self._runs = plan, None, []
        # the lanes' cards are there already (`_lanes_changed`); runs from the history
        # bring their own lanes
        self.lane_cards.set_lanes([(lane.label, lane.spec.model) for lane in plan.lanes])
        self._graph_turn, self._finishing = True, False
        self._frame_timer.start()
        self.progress.setRange(0, len(plan.lanes) * plan.repeat)
        self.progress.setValue(0)
        self.table.setRowCount(0)
        self.status.setText(f"Racing {len(plan.lanes)} lanes × {plan.repeat} ({plan.mode})…")
        self._update_buttons()

    def _on_round_started(self, index: int) -> None:
        assert self._plan is not None
        self.lane_cards.new_round()
        self.plot.set_lanes([lane.label for lane in self._plan.lanes])
        self.status.setText(f"Round {index + 1} of {self._plan.repeat}…")

    def _on_frame(self) -> None:
        """The graph on one tick, a group of cards on the next: never both in one frame."""
        graph, self._graph_turn = self._graph_turn, not self._graph_turn
        if graph:
            if self._finishing:
                self.plot.flush()  # every point, markers included, in a range that fits them
            else:
                self.plot.redraw()
            return
        if self.lane_cards.flush_group() or not self._finishing:
            if self.progress.value() != len(self._runs):  # setValue repaints the bar at once
                self.progress.setValue(len(self._runs))
        elif not self.lane_cards.pending:
            self._finish_frame()

    def _on_run_finished(self, run: LaneRun) -> None:
        self._runs.append(run)
        self.lane_cards.add_verdict(run.lane, run.verdict)  # at its card's turn, after its text
        self.plot.mark_first_byte(run.lane, run.verdict.metrics.ttfb_ms)
        if not self._stats_timer.isActive():
            self._stats_timer.start()

    def _on_round_finished(self, done: RoundFinished) -> None:
        if done.skew_ms is not None:
            self.status.setText(f"Round {done.index + 1}: start skew {done.skew_ms:.2f} ms")

    def _on_race_finished(self, result: RaceResult) -> None:
        """The result at once; what is left to show (the graph fitted, the cards' last
        text and verdicts, then the table) on the next frames, one part a frame, as the
        race's: together they blocked the loop for ~60 ms. `race_shown` follows."""
        self._stats_timer.stop()
        self._show_result(result)
        self._finishing = True

    def _show_result(self, result: RaceResult) -> None:
        self._result = result
        self._runs = list(result.runs)
        skews = [r.skew_ms for r in result.rounds if r.skew_ms is not None]
        skew = f" · start skew max {max(skews):.2f} ms" if skews else ""
        word = "Stopped" if result.stopped else "Done"
        self.status.setText(f"{word}: {len(result.runs)} runs{skew}")
        self._update_buttons()

    def _finish_frame(self) -> None:
        """A card tick of a finished race with no card left to flush: the table, last."""
        self._frame_timer.stop()
        self._finishing = False
        self.progress.setValue(len(self._runs))
        self._refresh_stats()
        self.race_shown.emit()

    def _on_busy_changed(self, busy: bool) -> None:
        if not busy and not self._finishing:  # the engine died: no result to wait for
            self._end_frames()
        self._update_buttons()

    def _end_frames(self) -> None:
        """Every card and point shown now, no more frame ticks."""
        self._frame_timer.stop()
        self._finishing = False
        self.lane_cards.flush_all()
        self.plot.flush()  # every point, markers included, in a range that fits them
        self.progress.setValue(len(self._runs))

    def _refresh_stats(self) -> None:
        if self._plan is None:
            return
        definition = self.definitions.currentText()
        rows = []
        for i, lane in enumerate(self._plan.lanes):
            pairs = [(r.verdict, r.stamps) for r in self._runs if r.lane == i]
            cost, source = "–", "price unknown"
            costs = self.controller.costs if self._result is not None else []
            if i < len(costs):
                known = costs[i]
                if known is not None:
                    cost, source = f"${known['mean_usd']:.6f}", str(known["source"])
            rows.append(
                {
                    "label": lane.label,
                    "model": lane.spec.model,
                    "stats": lane_stats(pairs, definition),
                    "cost": cost,
                    "cost_source": source,
                }
            )
        self.table.show_stats(rows)

    def show_runs(self, runs: list[tuple[str, RunSpec, Verdict, RunStamps]]) -> None:
        """Runs that already happened (History → Compare): one lane each, in the cards,
        the graph and the statistics table, under any definition."""
        if self.controller.busy or not 2 <= len(runs) <= MAX_LANES:
            return
        plan = RacePlan(tuple(Lane(label, spec) for label, spec, _, _ in runs))
        self.controller.costs = []  # stored runs carry no price here
        self._on_race_started(plan)
        self._on_round_started(0)
        lane_runs = [
            LaneRun(i, 0, verdict, stamps, None) for i, (_, _, verdict, stamps) in enumerate(runs)
        ]
        for run in lane_runs:
            self.plot.add_stamps(run.lane, run.stamps)
            self._on_run_finished(run)
        self._show_result(RaceResult(plan, runs=tuple(lane_runs)))
        self._end_frames()
        self._refresh_stats()
        self.status.setText(f"{len(runs)} runs from the history")

    # --- per-lane actions ------------------------------------------------------------------

    def _last_run(self, lane: int) -> LaneRun | None:
        runs = [r for r in self._runs if r.lane == lane]
        return runs[-1] if runs else None

    def _raced(self, lane: int) -> bool:
        """Whether this card still shows the last race's lane (not one set up since)."""
        if self._plan is None or lane >= min(len(self._plan.lanes), len(self.lane_cards.cards)):
            return False
        raced = self._plan.lanes[lane]
        return self.lane_cards.cards[lane].lane_key == (raced.label, raced.spec.model)

    def _retry_lane(self, lane: int) -> None:
        if self._plan is not None and self._raced(lane):
            self.run_in_run_view_requested.emit(self._plan.lanes[lane].spec, None)

    def _continue_lane(self, lane: int) -> None:
        if self._plan is not None and self._raced(lane):
            session = self.lane_cards.cards[lane].session
            self.run_in_run_view_requested.emit(self._plan.lanes[lane].spec, session)

    def _open_lane(self, lane: int) -> None:
        run = self._last_run(lane) if self._raced(lane) else None
        if run is not None and run.saved:
            self.open_run_requested.emit(run.saved)

    # --- export ----------------------------------------------------------------------------

    def export_text(self, kind: str) -> str:
        assert self._result is not None
        definition = self.definitions.currentText()
        if kind == "csv":
            return compare_csv(self._result)
        if kind == "json":
            return compare_json(self._result, definition)
        return compare_markdown(self._result, definition, self.prompt.toPlainText().strip())

    def export_png(self, path: Path) -> bool:
        """The race graph and the table at 2×, stamped with the lanes, prompt and date."""
        graph = self.plot.grab()
        table = self.table.grab()
        scale = 2
        head = 70
        width = max(graph.width(), table.width())
        image = QPixmap((width) * scale, (head + graph.height() + table.height()) * scale)
        image.fill(Qt.GlobalColor.white)
        painter = QPainter(image)
        painter.scale(scale, scale)
        font = QFont()
        font.setPointSize(10)
        painter.setFont(font)
        lanes = ", ".join(lane.label for lane in self._plan.lanes) if self._plan else ""
        prompt = self.prompt.toPlainText().strip().replace("\n", " ")
        lines = [
            f"StreamScope compare · {time.strftime('%Y-%m-%d %H:%M')} · "
            f"metrics: {self.definitions.currentText()}",
            f"Lanes: {lanes}",
            f"Prompt: {prompt[:140]}",
        ]
        painter.drawText(QRectF(8, 4, width - 16, head), "\n".join(lines))
        painter.drawPixmap(0, head, graph)
        painter.drawPixmap(0, head + graph.height(), table)
        painter.end()
        return image.save(str(path), "PNG")

    def _export_dialog(self, kind: str) -> None:
        from PySide6.QtWidgets import QFileDialog

        names = {"csv": "CSV (*.csv)", "md": "Markdown (*.md)", "json": "JSON (*.json)"}
        names["png"] = "PNG image (*.png)"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export comparison", f"compare.{kind}", names[kind]
        )
        if not path:
            return
        try:
            if kind == "png":
                ok = self.export_png(Path(path))
            else:
                Path(path).write_text(self.export_text(kind), encoding="utf-8")
                ok = True
        except OSError as exc:
            ok = False
            self.status.setText(f"Could not write {path}: {exc.strerror or exc}")
        if ok:
            self.status.setText(f"Exported {path}")

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.plot.set_theme(theme)
        self.lane_cards.set_theme(theme)

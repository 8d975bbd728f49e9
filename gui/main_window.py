"""The main window: request pane | stream view over the latency graph, or the inspector |
verdict panel. Menus, shortcuts, settings; files and drag and drop in `gui.run.files`, profiles,
curl and the circuit breaker in `gui.profiles.actions`; the wiring is in `_connect_signals()`
and nowhere else."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QFont,
    QGuiApplication,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core import (
    AttemptStarted,
    HistoryError,
    Price,
    ProfileStore,
    RunSpec,
    SessionFinished,
)
from gui.menus import build_menus
from gui.request.build import to_spec
from gui.request.pane import RequestPane
from gui.request.values import RequestValues, SpecError, load_presets
from gui.run.action_rules import ActionState, WindowState, decide_actions
from gui.run.controller import RunController
from gui.run.inspector import Inspector
from gui.run.stream_view import StreamView
from gui.run.token_style import heat_legend
from gui.run.verdict_panel import VerdictPanel
from gui.theme import LIGHT, RESOURCES, Theme, apply_theme, theme_for
from gui.widgets.first_frame import notify_first_frame
from gui.widgets.lazy_tab import LazyTab
from gui.window_actions import WindowActionsMixin

if TYPE_CHECKING:
    from gui.compare.controller import CompareController
    from gui.compare.view import CompareView
    from gui.history.panel import HistoryPanel
    from gui.run.latency_plot import LatencyPlot

__all__ = ["PRESENT_SCALE", "MainWindow"]

PRESENT_SCALE = 2.0


class MainWindow(WindowActionsMixin):
    closed = Signal()  # the user closed the window: the app shuts down
    first_frame_shown = Signal()  # once, the loop's next turn after the window is first on screen

    def __init__(
        self,
        client: object,
        mock_base_urls: Mapping[str, str],
        scenarios: Sequence[str],
        data_dir: Path,
        settings: QSettings,
        profile_store: ProfileStore | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("StreamScope")
        self.setAcceptDrops(True)
        self._mock_urls = dict(mock_base_urls)
        self._settings = settings
        self._zoom = 1.0
        self._present: tuple[float, QFont, bool] | None = None  # what Present mode restores
        self._present_sizes: list[int] = []
        self._theme_choice = "system"
        self._theme = LIGHT
        self.profile_store = profile_store if profile_store is not None else ProfileStore()
        self.controller = RunController(client, data_dir, self)
        self._data_dir = data_dir
        self._compare_controller: CompareController | None = None  # made with the Compare tab
        self.controller.breakers.exempt(self._mock_urls.values())
        self.controller.price_of = self._profile_price
        self.controller.answer_so_far = lambda: self.stream_view.answer_text()
        self._live = False  # the views show a live run (not an opened file)
        self._fitted = False  # fitted to the screen when first shown
        self.run_stored = True  # the run shown is kept somewhere (saved, or opened from a file)
        self._close_confirmed = False
        self.close_box: QMessageBox | None = None
        self._busy = False  # as the controller said last (its task may still be tidying up)
        self.action_states: dict[str, ActionState] = decide_actions(WindowState())
        self.request_pane = RequestPane(scenarios)
        self.stream_view = StreamView()
        # The latency graph is built on the loop's turn after the first frame: pyqtgraph's
        # import is a third of the start-up (see `latency_plot`). Its place waits empty.
        self._latency_plot: LatencyPlot | None = None
        self._plot_slot = QWidget()
        self.verdict_panel = VerdictPanel()
        self.inspector = Inspector()
        self.heat_toggle = QCheckBox("Heat: colour tokens by gap")
        self.stream_title = QLabel("STREAM")
        self.stream_title.setObjectName("sectionTitle")
        self.heat_legend = QLabel()
        self.heat_legend.setVisible(False)
        self._build_layout()
        self._menus, self._theme_actions = build_menus(self)
        self.save_action = self._menus.actions["save"]
        self._connect_signals()
        presets = RESOURCES / "prompts" / "prompts.toml"
        if presets.exists():
            self.request_pane.set_presets(load_presets(presets))
        self._init_profile_actions()  # before the settings: they may name a saved profile
        self._restore_settings()
        self._on_provider_changed()
        self.sync_actions()

    # --- construction ----------------------------------------------------------------------

    def _build_layout(self) -> None:
        stream_box = QWidget()
        col = QVBoxLayout(stream_box)
        col.setContentsMargins(6, 4, 6, 0)
        head = QHBoxLayout()
        head.addWidget(self.stream_title)
        head.addStretch(1)
        head.addWidget(self.heat_legend)
        head.addWidget(self.heat_toggle)
        col.addLayout(head)
        col.addWidget(self.stream_view, 1)
        self.stream_split = QSplitter(Qt.Orientation.Vertical)
        self.stream_split.addWidget(stream_box)
        self.stream_split.addWidget(self._plot_slot)
        self.stream_split.setSizes([430, 390])
        self.tabs = QTabWidget()
        self.tabs.addTab(self.stream_split, "Stream")
        self.tabs.addTab(self.inspector, "Inspector")
        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.addWidget(self.request_pane)
        self.main_split.addWidget(self.tabs)
        self.main_split.addWidget(self.verdict_panel)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setSizes([330, 880, 360])
        central = QWidget()
        central.setObjectName("centralArea")
        lay = QVBoxLayout(central)
        lay.setContentsMargins(6, 6, 6, 0)
        self.views = QTabWidget()
        self.views.setObjectName("views")
        self.views.addTab(self.main_split, "Run")
        # Compare and History are built when first shown or used: the first frame is Run's.
        self.compare_tab = LazyTab(self.views, "Compare", self._build_compare_view)
        self.history_tab = LazyTab(self.views, "History", self._build_history_panel)
        lay.addWidget(self.views)
        self.setCentralWidget(central)
        self.resize(1560, 940)

    @property
    def compare_controller(self) -> CompareController:
        if self._compare_controller is None:
            from gui.compare.controller import CompareController  # with the tab: see above

            controller = CompareController(self._data_dir, self)
            controller.race_finished.connect(self._refresh_history_if_shown)
            self._compare_controller = controller
        return self._compare_controller

    @property
    def compare_view(self) -> CompareView:
        return self.compare_tab.widget

    @property
    def history_panel(self) -> HistoryPanel:
        return self.history_tab.widget

    def _profile_price(self, spec: RunSpec) -> Price | None:
        """The run's profile's own price, if it has one (its stored cost uses it)."""
        profile = self.profile_store.get(spec.profile)
        return profile.price if profile is not None else None

    def _build_compare_view(self) -> CompareView:
        from gui.compare.view import CompareView  # imported with the tab: not at start-up

        view = CompareView(self.compare_controller, self._mock_urls)
        view.set_theme(self._theme)
        view.add_lane_requested.connect(self.add_compare_lane)
        view.open_run_requested.connect(self._open_compare_run)
        view.run_in_run_view_requested.connect(self._run_compare_lane)
        self.compare_controller.warm_up()  # lanes are being set up: Race should not wait
        return view

    def _build_history_panel(self) -> HistoryPanel:
        from gui.history.panel import HistoryPanel  # imported with the tab: not at start-up

        panel = HistoryPanel(self.controller.history_path)
        panel.set_theme(self._theme)
        panel.open_requested.connect(self.open_history_run)
        panel.compare_requested.connect(self.compare_history_runs)
        return panel

    def _connect_signals(self) -> None:
        c = self.controller
        # request pane → run
        self.request_pane.send_requested.connect(self.send)
        self.request_pane.stop_requested.connect(c.stop)
        self.request_pane.picker.profiles_requested.connect(self.show_profiles)
        self.request_pane.picker.provider_changed.connect(self._on_provider_changed)
        self.request_pane.dialect.currentIndexChanged.connect(self._on_provider_changed)
        self.request_pane.scenario.currentIndexChanged.connect(self._on_provider_changed)
        self.request_pane.model.textChanged.connect(self._on_provider_changed)
        self.request_pane.base_url.textChanged.connect(self._on_provider_changed)
        c.busy_changed.connect(self.request_pane.on_busy_changed)
        # a run or a replay starts
        plot = self._to_plot  # the graph's slots, through the property that builds it
        for view in (self.stream_view, self.verdict_panel, self.inspector):
            c.session_started.connect(view.on_session_started)
            c.attempt_started.connect(view.on_attempt_started)
        c.session_started.connect(plot("on_session_started"))
        c.attempt_started.connect(plot("on_attempt_started"))
        c.session_started.connect(self._on_session_started)
        c.attempt_started.connect(self._on_attempt_started)
        c.probes.models_fetched.connect(self._on_server_models)
        c.probes.probe_failed.connect(self._on_server_models_failed)
        # stream contents
        c.chunks_received.connect(self.stream_view.on_chunks_received)
        c.chunks_received.connect(plot("on_chunks_received"))
        c.chunks_received.connect(self.inspector.on_chunks_received)
        c.events_received.connect(self.stream_view.on_events_received)
        c.events_received.connect(plot("on_events_received"))
        c.wire_events_decoded.connect(self.inspector.on_wire_events_decoded)
        c.request_sent.connect(self.inspector.on_request_sent)
        c.phase_reached.connect(self.inspector.on_phase_reached)
        c.response_started.connect(self.inspector.on_response_started)
        c.response_started.connect(self.verdict_panel.on_response_started)
        c.response_started.connect(plot("on_response_started"))
        # live state and the end
        c.progress_changed.connect(self.verdict_panel.on_progress_changed)
        c.progress_changed.connect(plot("on_progress_changed"))
        c.run_finished.connect(self.verdict_panel.on_run_finished)
        c.run_finished.connect(self.stream_view.on_run_finished)
        c.verdict_ready.connect(self.verdict_panel.on_verdict_ready)
        c.verdict_ready.connect(plot("on_verdict_ready"))
        c.verdict_ready.connect(self.refresh_breaker)  # also applies the action rule
        c.run_failed.connect(self.verdict_panel.on_run_failed)
        c.progress_changed.connect(self._on_progress_changed)
        c.busy_changed.connect(self._on_busy_changed)
        # compare and history: their views' own signals are wired as they are built
        self.views.currentChanged.connect(self._on_view_changed)
        c.verdict_ready.connect(self._refresh_history_if_shown)  # a race's end: with its controller
        self.views.currentChanged.connect(lambda _=0: self.sync_actions())
        # recovery actions
        self.verdict_panel.retry_requested.connect(self._retry)
        self.verdict_panel.continue_requested.connect(self._continue)
        self.verdict_panel.more_tokens_requested.connect(self._more_tokens)
        self.verdict_panel.reset_breaker_requested.connect(self.reset_breaker)
        # stream view ⇄ inspector
        self.stream_view.token_selected.connect(self.inspector.on_chunk_requested)
        self.stream_view.token_activated.connect(self._show_chunk)
        self.inspector.chunk_selected.connect(self.stream_view.on_chunk_selected)
        # view options
        self.heat_toggle.toggled.connect(self.stream_view.on_heat_toggled)
        self.heat_toggle.toggled.connect(self.heat_legend.setVisible)
        self.first_frame_shown.connect(lambda: QTimer.singleShot(0, self.build_plot))
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)

    @property
    def latency_plot(self) -> LatencyPlot:
        """The latency graph. Built on the loop's turn after the first frame (the app's
        deferred start-up work goes first), or at once by whatever needs it sooner (a file
        opened from the command line, a test): importing pyqtgraph takes 0.3-0.5 s here,
        which the window no longer waits for before it is first shown."""
        if self._latency_plot is None:
            from gui.run.latency_plot import LatencyPlot

            plot = self._latency_plot = LatencyPlot()
            plot.set_zoom(self._zoom)
            plot.set_theme(self._theme)
            plot.export_button.clicked.connect(self._export_dialog)
            self.stream_split.replaceWidget(self.stream_split.indexOf(self._plot_slot), plot)
            self._plot_slot.deleteLater()
            plot.export_button.setEnabled(self.action_states["export"].enabled)
        return self._latency_plot

    @Slot()
    def build_plot(self) -> None:
        """Build the latency graph now, if it is not built yet."""
        self.latency_plot  # noqa: B018  (the property builds it)

    def _to_plot(self, name: str) -> Callable[..., None]:
        """A slot that calls the graph's slot `name`, building the graph first if need be;
        connected in `_connect_signals` where the graph's own slot was, in the same order."""
        return lambda *args: getattr(self.latency_plot, name)(*args)

    # --- actions -------------------------------------------------------------------------

    @Slot()
    def send(self) -> None:
        if self.compare_tab.is_current():
            self.compare_view.send_all()
            return
        values = self.request_pane.values()
        try:
            spec = to_spec(values, self._mock_urls, self.request_pane.profiles)
        except SpecError as exc:
            self.request_pane.show_field_error(str(exc))  # at the field, not in the verdict
            return
        if not spec.model.strip():  # a local-server preset: take the server's only model
            self._ask_server_model(values)
            return
        self.request_pane.show_field_error("")
        self.controller.start(spec, retries=values.retries)

    @Slot(object, object)
    def _on_attempt_started(self, attempt: AttemptStarted, _offset: int) -> None:
        """After More tokens the Max tokens field shows the limit that was sent."""
        if attempt.kind == "more_tokens" and attempt.spec.max_tokens:
            self.request_pane.max_tokens.setValue(attempt.spec.max_tokens)  # type: ignore[attr-defined]

    @Slot()
    def stop_current(self) -> None:
        """Esc: stop what the current view runs."""
        if self.compare_tab.is_current():
            self.compare_view.stop_all()
        else:
            self.controller.stop()

    @Slot()
    def add_compare_lane(self) -> None:
        """Compare → Add lane: the request the Run view's pane describes."""
        values = self.request_pane.values()
        try:
            spec = to_spec(values, self._mock_urls, self.request_pane.profiles)
        except SpecError as exc:
            self.compare_view.status.setText(str(exc))
            return
        what = spec.model.removeprefix("mock-") if spec.profile == "Mock" else spec.model
        self.compare_view.add_lane(f"{spec.profile} {what}", spec)

    @Slot(int)
    def _on_view_changed(self, _index: int) -> None:
        if self.history_tab.is_current():
            self.history_panel.refresh()

    @Slot(object)
    def _refresh_history_if_shown(self, _what: object = None) -> None:
        if self.history_tab.is_current():
            self.history_panel.refresh()

    @Slot(int, object)
    def open_history_run(self, run_id: int, speed: float | None = None) -> None:
        """A stored run in the Run view as it was live: every attempt and segment, at once
        or at its recorded pace (`speed` 1, 2, 5: a demo with no network)."""
        store = self.history_panel.store()
        if store is None:
            return
        try:
            replay = store.replay(run_id)
        except HistoryError as exc:
            self.history_panel.status.setText(str(exc))
            return
        self.views.setCurrentWidget(self.main_split)
        pace = "at once" if speed is None else f"at {speed:g}×"
        self.controller.load_replay(replay, f"history run {run_id} ({pace})", speed)

    @Slot(object)
    def compare_history_runs(self, ids: list[int]) -> None:
        from core import stamps_of  # core.record.replay: not at start-up

        store = self.history_panel.store()
        if store is None:
            return
        runs = []
        try:
            for run_id in ids[:16]:
                summary, replay = store.summary(run_id), store.replay(run_id)
                spec = RunSpec(summary.dialect, summary.base_url, summary.model)
                label = f"#{run_id} {summary.profile or ''} {summary.model}".replace("  ", " ")
                runs.append((label, spec, replay.verdict, stamps_of(replay)))
        except HistoryError as exc:
            self.history_panel.status.setText(str(exc))
            return
        self.views.setCurrentWidget(self.compare_view)
        self.compare_view.show_runs(runs)

    @Slot(str)
    def _open_compare_run(self, path: str) -> None:
        self.views.setCurrentWidget(self.main_split)
        self.open_path(Path(path))

    @Slot(object, object)
    def _run_compare_lane(self, spec: RunSpec, session: SessionFinished | None) -> None:
        self.views.setCurrentWidget(self.main_split)
        if session is not None:
            self.controller.continue_session(session)
        else:
            self.controller.start(spec)

    @Slot(int)
    def _show_chunk(self, row: int) -> None:
        self.tabs.setCurrentWidget(self.inspector)
        self.inspector.on_chunk_requested(row)

    @Slot(object)
    def _on_session_started(self, start: object) -> None:
        self._live = getattr(start, "kind", "") != "replay"
        self.run_stored = not self._live  # a live run lives in a scratch file until saved
        if not self._live:
            self._set_title(str(getattr(start, "source", "")))
        self.sync_actions()

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self._busy = busy
        self.sync_actions()

    # --- view ----------------------------------------------------------------------------

    @property
    def presenting(self) -> bool:
        return self._present is not None

    @Slot()
    def toggle_present(self) -> None:
        """View → Present (F11): full screen, the request pane hidden, and every panel's
        type at twice its size (a demo on a projector); again to leave."""
        if self._present is None:
            app = QApplication.instance()
            base = app.font() if isinstance(app, QApplication) else self.font()
            self._present = (self._zoom, base, self.isMaximized())
            font = QFont(base)
            font.setPointSizeF(base.pointSizeF() * PRESENT_SCALE)
            self._set_app_font(font)
            self._present_sizes = self.main_split.sizes()
            self.request_pane.setVisible(False)
            self.statusBar().setVisible(False)
            self.set_zoom(self._zoom * PRESENT_SCALE)
            self.showFullScreen()
            width = self.screen().availableGeometry().width() if self.screen() else self.width()
            self.main_split.setSizes([0, int(width * 0.56), int(width * 0.44)])
        else:
            zoom, font, maximized = self._present
            self._present = None
            self._set_app_font(font)
            self.request_pane.setVisible(True)
            self.statusBar().setVisible(True)
            self.set_zoom(zoom)
            self.showMaximized() if maximized else self.showNormal()
            self.main_split.setSizes(self._present_sizes)

    @staticmethod
    def _set_app_font(font: QFont) -> None:
        """Every widget's type: the style sheet fixes fonts when it polishes a widget, so it
        is applied again for the new size to reach them."""
        QApplication.setFont(font)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setStyleSheet(app.styleSheet())

    def set_zoom(self, factor: float) -> None:
        self._zoom = max(0.6, min(4.0, factor))
        self.stream_view.set_zoom(self._zoom)
        if self._latency_plot is not None:
            self._latency_plot.set_zoom(self._zoom)

    def set_theme_choice(self, choice: str) -> None:
        self._theme_choice = choice
        self._theme_actions[choice].setChecked(True)
        self._apply_theme(theme_for(choice))

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.stream_view.set_theme(theme)
        self.heat_legend.setText(heat_legend(theme))
        if self._latency_plot is not None:
            self._latency_plot.set_theme(theme)
        if self.compare_tab.built:
            self.compare_view.set_theme(theme)
        if self.history_tab.built:
            self.history_panel.set_theme(theme)
        self.verdict_panel.set_theme(theme)

    @Slot()
    def _on_color_scheme_changed(self) -> None:
        if self._theme_choice == "system":
            self._apply_theme(theme_for("system"))

    # --- settings and closing --------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self._settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)  # a bigger screen's size is fitted on showing
        else:
            self.fit_to_screen()
        for name, splitter in (("main", self.main_split), ("stream", self.stream_split)):
            state = s.value(f"window/split_{name}")
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        try:
            saved = json.loads(str(s.value("request/values", "{}")))
        except ValueError:
            saved = {}
        self.request_pane.set_values(RequestValues.from_settings(saved))
        self.heat_toggle.setChecked(s.value("view/heat", "false") in ("true", True))
        zoom = s.value("view/zoom", 1.0)
        self.set_zoom(float(zoom) if isinstance(zoom, int | float | str) else 1.0)
        choice = str(s.value("view/theme", "system"))
        self.set_theme_choice(choice if choice in self._theme_actions else "system")

    def save_settings(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/split_main", self.main_split.saveState())
        s.setValue("window/split_stream", self.stream_split.saveState())
        s.setValue("request/values", json.dumps(self.request_pane.values().to_settings()))
        s.setValue("view/heat", self.heat_toggle.isChecked())
        s.setValue("view/zoom", self._zoom)
        s.setValue("view/theme", self._theme_choice)
        s.sync()

    async def shutdown(self) -> None:
        await self.controller.shutdown()
        if self._compare_controller is not None:
            self._compare_controller.shutdown()
        if self.history_tab.built:
            self.history_panel.close_store()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            self.fit_to_screen()
            notify_first_frame(self, self.first_frame_shown.emit)

    def closeEvent(self, event: QCloseEvent) -> None:
        warning = "" if self._close_confirmed else self.close_warning()
        if warning:
            event.ignore()
            self._ask_before_closing(warning)
            return
        self.save_settings()
        self.controller.stop()
        event.accept()
        self.closed.emit()

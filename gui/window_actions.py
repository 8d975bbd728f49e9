"""The main window's run actions under one rule, and the guard before closing.

Every action's state — the Run and File menus, the verdict panel's buttons, Stop and their
shortcuts — comes from `gui.run.action_rules.decide_actions` over the window's state, applied
in `sync_actions`; the slots check the same states, so nothing acts while it shows disabled.
A request with no model (a local-server preset) first takes the server's only model, or says
plainly that one is needed. Closing while a run streams, or with the last run stored nowhere,
asks first (non-modal: no nested loop under qasync). The window also fits the screen it opens
on, and its title, status bar and Stop countdown say what Send would use now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QSplitter

from core import Progress
from gui.menus import Menus
from gui.profiles.actions import ProfileActionsMixin
from gui.request.build import request_profile
from gui.request.hints import countdown_text
from gui.request.pane import RequestPane
from gui.request.values import RequestValues, SpecError
from gui.run.action_rules import ActionState, WindowState, decide_actions
from gui.run.inspector import Inspector

if TYPE_CHECKING:
    from gui.run.latency_plot import LatencyPlot

__all__ = ["WindowActionsMixin"]


class WindowActionsMixin(ProfileActionsMixin):
    request_pane: RequestPane
    inspector: Inspector
    _menus: Menus
    _busy: bool
    _live: bool
    _close_confirmed: bool
    close_box: QMessageBox | None
    action_states: dict[str, ActionState]
    main_split: QSplitter
    _latency_plot: LatencyPlot | None  # built after the first frame

    @Slot()
    def _retry(self) -> None:
        if self.action_states["retry"].enabled:
            self.controller.retry(retries=self.request_pane.values().retries)

    @Slot()
    def _continue(self) -> None:
        if self.action_states["continue"].enabled:
            self.controller.continue_run()

    @Slot()
    def _more_tokens(self) -> None:
        if self.action_states["more_tokens"].enabled:
            self.controller.retry_more_tokens()

    def window_state(self) -> WindowState:
        c = self.controller
        shown = self.verdict_panel.shown
        name, open_s = self.breaker_open_for_last_run()
        recording = c.recording_path
        return WindowState(
            busy=self._busy,
            live=self._live,
            verdict_actions=shown.verdict.actions if shown is not None else (),
            has_spec=c.last_spec is not None,
            has_session=c.last_session is not None,
            continue_blocked=shown.continue_blocked if shown is not None else None,
            recorded=c.history_id is not None or (recording is not None and recording.exists()),
            has_timings=self._latency_plot is not None and self._latency_plot.has_timings(),
            breaker_open_s=open_s,
            breaker_name=name,
            breaker_tripped=self.breaker_tripped(),
            explanation=self.verdict_panel.explanation.text() if shown is not None else "",
        )

    def sync_actions(self) -> None:
        """One rule for the menus, the panel's buttons, Stop and the shortcuts."""
        states = self.action_states = decide_actions(self.window_state())
        for key, action in self._menus.actions.items():
            if key in states:
                action.setEnabled(states[key].enabled)
                action.setToolTip(states[key].tip)
        # the Compare view's lanes stop with Esc too (they run apart from the Run view's rule)
        self._menus.actions["stop"].setEnabled(states["stop"].enabled or self.comparing())
        self.verdict_panel.apply_actions(states)
        self.request_pane.stop_button.setEnabled(states["stop"].enabled)
        if self._latency_plot is not None:  # built after the first frame
            self._latency_plot.export_button.setEnabled(states["export"].enabled)

    _MODEL_TOKEN = "send:model"

    def _ask_server_model(self, values: RequestValues) -> None:
        """No model named: list the server's models first (never during a run: llama-cpp-
        python abandons a generation for any other request), then send with its only one,
        or say plainly that a model is needed."""
        try:
            profile = request_profile(values, self._mock_urls, self.request_pane.profiles)
        except SpecError as exc:
            self.request_pane.show_field_error(str(exc))
            return
        self.request_pane.show_field_error("Model: none named; asking the server for its model…")
        self.controller.probes.fetch_models(self._MODEL_TOKEN, profile)

    @Slot(str, object)
    def _on_server_models(self, token: str, models: list[str]) -> None:
        if token != self._MODEL_TOKEN:
            return
        where = self.request_pane.values().base_url
        if len(models) == 1:
            self.request_pane.model.setText(models[0])
            self.statusBar().showMessage(f"Using the server's only model, {models[0]}", 8000)
            self.send()
        elif not models:
            self.request_pane.show_field_error(f"Model: needed — {where} lists no models: name one")
        else:
            shown = ", ".join(models[:5]) + (", …" if len(models) > 5 else "")
            self.request_pane.show_field_error(
                f"Model: needed — {where} serves {len(models)} models ({shown}): name one"
            )

    @Slot(str, str)
    def _on_server_models_failed(self, token: str, message: str) -> None:
        if token == self._MODEL_TOKEN:
            self.request_pane.show_field_error(
                f"Model: needed — the server's model listing failed ({message}): name a model"
            )

    def comparing(self) -> bool:
        tab = getattr(self, "compare_tab", None)  # None while the window is being built
        return tab is not None and bool(tab.is_current())

    def close_warning(self) -> str:
        """Why closing now would lose a run ("" when nothing would be lost)."""
        if self._busy:
            return "A run is still streaming: closing stops it and loses it."
        if not self._live or self.run_stored:
            return ""
        c = self.controller
        if c.history_path is not None and c.history_id is not None and not c.history_error:
            return ""  # the history store keeps it
        why = "the history is off"
        if c.history_error:
            why = f"the history could not keep it: {c.history_error}"
        elif c.history_path is not None:
            why = "it is not in the history"
        return (
            f"The last run is not stored anywhere ({why}): closing loses it. "
            "File → Save run keeps it as JSON Lines."
        )

    def _ask_before_closing(self, warning: str) -> None:
        """Non-modal (never a nested loop under qasync): Close anyway, Save run…, Cancel."""
        box = self.close_box
        if box is None:
            box = self.close_box = QMessageBox(self)
            box.setWindowTitle("Close StreamScope?")
            box.setIcon(QMessageBox.Icon.Warning)
            box.setModal(False)
            self._close_anyway = box.addButton(
                "Close anyway", QMessageBox.ButtonRole.DestructiveRole
            )
            self._close_save = box.addButton("Save run…", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.buttonClicked.connect(self._on_close_answer)
        box.setText(warning)
        self._close_save.setVisible(not self._busy and self.action_states["save"].enabled)
        box.show()
        box.raise_()

    @Slot(object)
    def _on_close_answer(self, button: object) -> None:
        if button is self._close_anyway:
            self._close_confirmed = True
            self.close()
        elif button is self._close_save:
            self._save_dialog()
            if self.run_stored:
                self.close()

    # --- what the window says about itself: its size, title, status and countdown ---------

    def fit_to_screen(self, available: QRect | None = None) -> None:
        """Open no larger than the screen (from 1280×720 up): shrink to its available area,
        keep it on screen, and share the width among the three panes in proportion."""
        if available is None:
            screen = self.screen() or QGuiApplication.primaryScreen()
            if screen is None:
                return
            available = screen.availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()  # title bar, borders
        width = min(self.width(), available.width() - frame.width())
        height = min(self.height(), available.height() - frame.height())
        self.resize(max(width, 640), max(height, 480))
        x = min(max(self.x(), available.left()), available.right() - self.frameGeometry().width())
        y = min(max(self.y(), available.top()), available.bottom() - self.frameGeometry().height())
        self.move(max(x, available.left()), max(y, available.top()))
        total = sum(self.main_split.sizes()) or self.width()
        left = max(self.request_pane.minimumSizeHint().width(), min(330, total // 5))
        right = max(self.verdict_panel.minimumSizeHint().width(), min(380, total // 4))
        self.main_split.setSizes([left, max(total - left - right, 300), right])

    @Slot()
    def _on_provider_changed(self) -> None:
        """The title and the status bar say what Send would use now (never a stale run's)."""
        v = self.request_pane.values()
        what = v.scenario if v.provider == "mock" else (v.model or "no model")
        self._set_title(f"{v.provider_name} · {v.dialect} · {what}")
        if v.provider == "mock":
            where = f"Built-in mock provider at {self._mock_urls.get(v.dialect, '?')}"
        else:
            where = f"{v.provider_name} at {v.base_url or '(no base URL)'}"
        self.statusBar().showMessage(where)
        self.refresh_breaker()

    def _set_title(self, what: str) -> None:
        # Qt adds " — StreamScope" (the application display name) unless the title ends in it
        self.setWindowTitle(f"{what} — StreamScope" if what else "StreamScope")

    @Slot(object)
    def _on_progress_changed(self, p: Progress) -> None:
        spec = self.controller.last_spec
        if spec is not None and self._busy:
            t = spec.timeouts
            self.request_pane.show_countdown(countdown_text(p, t.first_byte_s, t.stall_s))

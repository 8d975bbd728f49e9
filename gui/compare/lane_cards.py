"""The Compare view's lane cards: a card per lane, built when the lanes are set up (a lane
added or removed), not when the race starts, and kept for the next race of the same lanes.

Building 16 cards costs ~140 ms, and flushing 16 cards' text in one frame tens of ms more;
both blocked the window's loop in the middle of a race. So the cards are a pool: a card is
made once, retitled when its lane changes and hidden when there are fewer lanes. While a
race runs the cards take their events in `GROUPS` round-robin groups (lane % GROUPS), one
group a `flush_group` call, so with the view's frame ticks each card is updated at
1000 / (GROUPS × tick) Hz and no frame repaints more than a quarter of them."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from core import TextDelta, Verdict
from gui.compare.lane_card import LaneCard
from gui.theme import LIGHT, Theme

__all__ = ["GROUPS", "LaneCards"]

GROUPS = 4  # a flush takes every GROUPS-th lane: 4 of 16 cards a frame


class LaneCards(QWidget):
    retry_requested = Signal(int)  # lane
    continue_requested = Signal(int)
    open_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._pool: list[LaneCard] = []  # every card made so far; the first `_count` shown
        self._count = 0
        self._columns = 0
        self._pending: dict[int, list] = {}  # lane: its events since its last flush
        self._verdicts: dict[int, Verdict] = {}  # lane: a finished run's, shown at its flush
        self._group = 0
        self._theme = LIGHT

    @property
    def cards(self) -> list[LaneCard]:
        """The shown cards, one per lane, in lane order."""
        return self._pool[: self._count]

    @property
    def pending(self) -> bool:
        """Whether some card has events or a verdict still to show."""
        return bool(self._pending or self._verdicts)

    def set_lanes(self, lanes: list[tuple[str, str]]) -> None:
        """A card per (label, model): the cards already made are reused (one whose lane
        changed is retitled and reset), new ones made, the rest hidden."""
        self._pending.clear()
        self._verdicts.clear()
        for i, (label, model) in enumerate(lanes):
            if i < len(self._pool):
                self._pool[i].set_lane(label, model)
            else:
                self._pool.append(self._new_card(i, label, model))
        columns = 2 if len(lanes) > 3 else 1
        if columns != self._columns:  # the grid re-placed only when its shape changes
            self._columns = columns
            for i, card in enumerate(self._pool):
                self._grid.removeWidget(card)
                self._grid.addWidget(card, i // columns, i % columns)
        for i, card in enumerate(self._pool):
            card.setVisible(i < len(lanes))
        self._count = len(lanes)

    def _new_card(self, lane: int, label: str, model: str) -> LaneCard:
        card = LaneCard(lane, label, model)
        card.set_theme(self._theme)
        card.retry_requested.connect(self.retry_requested)
        card.continue_requested.connect(self.continue_requested)
        card.open_requested.connect(self.open_requested)
        if self._columns:
            self._grid.addWidget(card, lane // self._columns, lane % self._columns)
        return card

    def new_round(self) -> None:
        """Every card empty for the next round; what the last one left pending is applied
        without its text (the cleared stream would never show it)."""
        self.flush_all(text=False)
        for card in self.cards:
            card.new_round()

    def add_events(self, events: list) -> None:
        """A batch of LaneEvents, kept per lane until that lane's flush."""
        for lane_event in events:
            self._pending.setdefault(lane_event.lane, []).append(lane_event.event)

    def add_verdict(self, lane: int, verdict: Verdict) -> None:
        """Shown at the lane's next flush, after the text that came before it."""
        self._verdicts[lane] = verdict

    def flush_group(self) -> bool:
        """The next group's pending events and verdicts into their cards; True when some
        card changed."""
        group, self._group = self._group, (self._group + 1) % GROUPS
        lanes = [lane for lane in self._pending if lane % GROUPS == group]
        lanes += [lane for lane in self._verdicts if lane % GROUPS == group]
        for lane in lanes:
            self._flush(lane, text=True)
        return bool(lanes)

    def flush_all(self, *, text: bool = True) -> None:
        for lane in list(self._pending) + list(self._verdicts):
            self._flush(lane, text=text)

    def _flush(self, lane: int, *, text: bool) -> None:
        events = self._pending.pop(lane, None)
        verdict = self._verdicts.pop(lane, None)
        if lane >= self._count:
            return
        card = self._pool[lane]
        if events:
            card.add_events(events if text else [e for e in events if not isinstance(e, TextDelta)])
        if verdict is not None:
            card.show_verdict(verdict)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        for card in self._pool:
            card.set_theme(theme)

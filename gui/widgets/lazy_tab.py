"""A tab page built the first time it is shown or asked for: until then the tab holds an empty
placeholder, so start-up does not pay for a page the first frame does not show.

Building swaps the placeholder for the page at the same index with the tab widget's signals
blocked (the switch that caused it is already under way), so `tabs.currentWidget() is
lazy.widget` holds from then on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtWidgets import QTabWidget, QWidget

__all__ = ["LazyTab"]

W = TypeVar("W", bound=QWidget)


class LazyTab(Generic[W]):
    def __init__(self, tabs: QTabWidget, title: str, build: Callable[[], W]) -> None:
        self._tabs = tabs
        self._title = title
        self._build: Callable[[], W] | None = build
        self._widget: W | None = None
        self._placeholder: QWidget | None = QWidget()
        tabs.addTab(self._placeholder, title)
        # Connected before any other slot on `currentChanged`, so the page exists when they run.
        tabs.currentChanged.connect(self._on_current_changed)

    @property
    def built(self) -> bool:
        return self._widget is not None

    @property
    def widget(self) -> W:
        """The page, built now if it was not yet."""
        if self._widget is None:
            assert self._build is not None and self._placeholder is not None
            build, self._build = self._build, None
            widget = build()
            self._widget = widget
            self._swap_in(widget)
        return self._widget

    def is_current(self) -> bool:
        """The tab is the one shown (without building it)."""
        page = self._widget if self._widget is not None else self._placeholder
        return page is not None and self._tabs.currentWidget() is page

    def _swap_in(self, widget: QWidget) -> None:
        placeholder, self._placeholder = self._placeholder, None
        assert placeholder is not None
        tabs = self._tabs
        index = tabs.indexOf(placeholder)
        current = tabs.currentIndex()
        blocked = tabs.blockSignals(True)
        try:
            tabs.insertTab(index, widget, self._title)
            tabs.removeTab(index + 1)
            tabs.setCurrentIndex(current)
        finally:
            tabs.blockSignals(blocked)
        placeholder.deleteLater()

    def _on_current_changed(self, _index: int) -> None:
        if self._widget is None and self._placeholder is not None and self.is_current():
            _ = self.widget

"""The main window's menus and shortcuts, in one table-like function; every action calls a
slot of the window (its own, `FilesMixin`'s or `ProfileActionsMixin`'s) or of its controller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

__all__ = ["ZOOM_STEP", "Menus", "build_menus"]

ZOOM_STEP = 1.12


class Menus(dict[str, QMenu]):
    """The menu bar's menus by name, and the actions others refer to by key."""

    def __init__(self) -> None:
        super().__init__()
        self.actions: dict[str, QAction] = {}


def build_menus(win: QMainWindow) -> tuple[Menus, dict[str, QAction]]:
    """Fill the window's menu bar; returns the menus and the theme actions by choice. `win` is
    the main window, typed as its Qt base so that this module need not import it (the window
    imports this one)."""
    menus = Menus()
    for name in ("&File", "&Edit", "&Run", "&View"):
        menus[name] = win.menuBar().addMenu(name)

    def add(menu: str, text: str, slot: Callable[..., Any], *keys: str, key: str = "") -> None:
        action = QAction(text, win)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menus[menu].addAction(action)
        if key:
            menus.actions[key] = action

    # Enabled states come from one rule (gui.run.action_rules) through MainWindow.sync_actions.
    add("&File", "&Open run or stream…", win._open_dialog, "Ctrl+O")
    add("&File", "&Replay saved run…", win._replay_dialog, "Ctrl+Shift+O")
    add("&File", "&Save run…", win._save_dialog, "Ctrl+S", key="save")
    add("&File", "&Export graph as PNG…", win._export_dialog, "Ctrl+E", key="export")
    add("&File", "&Import curl…", win.show_curl_import, "Ctrl+Shift+I")
    menus["&File"].addSeparator()
    add("&File", "&Quit", win.close, "Ctrl+Q")
    add("&Edit", "&Paste log", win.paste_log, "Ctrl+Shift+V")
    add("&Edit", "Copy as &curl", win.copy_as_curl, "Ctrl+Shift+C", key="copy_curl")
    menus["&Edit"].addSeparator()
    add("&Edit", "Provider p&rofiles…", win.show_profiles, "Ctrl+Shift+P", key="profiles")
    add("&Run", "&Send", win.send, "Ctrl+Return", "Ctrl+Enter", key="send")
    add("&Run", "S&top", win.stop_current, "Esc", key="stop")
    menus["&Run"].addSeparator()
    add("&Run", "&Retry", win._retry, "Ctrl+R", key="retry")
    add("&Run", "&Continue", win._continue, "Ctrl+Shift+Return", key="continue")
    add("&Run", "Retry with &more tokens", win._more_tokens, "Ctrl+M", key="more_tokens")
    menus["&Run"].addSeparator()
    add("&Run", "Reset circuit &breaker", win.reset_breaker, key="reset_breaker")
    add("&View", "Zoom &in", lambda: win.set_zoom(win._zoom * ZOOM_STEP), "Ctrl+=", "Ctrl++")
    add("&View", "Zoom &out", lambda: win.set_zoom(win._zoom / ZOOM_STEP), "Ctrl+-")
    add("&View", "&Reset zoom", lambda: win.set_zoom(1.0), "Ctrl+0")
    add("&View", "&Present (full screen, large type)", win.toggle_present, "F11", key="present")
    add("&View", "&Inspector", lambda: win.tabs.setCurrentIndex(1), "Ctrl+I")
    add("&View", "S&tream", lambda: win.tabs.setCurrentIndex(0), "Ctrl+1")
    theme_menu = menus["&View"].addMenu("&Theme")
    group = QActionGroup(win)
    themes: dict[str, QAction] = {}
    for choice in ("system", "light", "dark"):
        action = QAction(choice.capitalize(), win, checkable=True)
        action.triggered.connect(lambda _=False, c=choice: win.set_theme_choice(c))
        group.addAction(action)
        theme_menu.addAction(action)
        themes[choice] = action
    return menus, themes

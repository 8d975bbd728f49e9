"""Light and dark palettes, outcome colours and the stylesheet. Follows the system colour
scheme unless the user picks one (View → Theme)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

__all__ = [
    "RESOURCES",
    "Theme",
    "apply_theme",
    "outcome_color",
    "qcolor",
    "system_is_dark",
    "theme_for",
]

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


@dataclass(frozen=True, slots=True)
class Theme:
    name: str  # light | dark
    window: str
    base: str  # text areas, tables
    alt_base: str
    text: str
    muted: str
    border: str
    accent: str
    reasoning: str
    refusal: str
    tool: str
    marker: str
    highlight: str  # tokens of the chunk selected in the inspector
    plot_bg: str
    gap_pen: str
    gap_fill: str
    cumulative_pen: str
    stall_fill: str
    heat: tuple[str, ...]  # slow-to-fast colour ramp for the heat toggle, coolest first
    outcomes: dict[str, str]
    marker_text: str = ""  # TTFB marker and label on the graph ("" = muted)

    @property
    def dark(self) -> bool:
        return self.name == "dark"


_OUTCOMES_LIGHT = {
    "completed": "#1a7f37",
    "tool_calls": "#0969da",
    "truncated": "#b35900",
    "paused": "#9a6700",
    "blocked": "#8250df",
    "upstream_error": "#cf222e",
    "http_error": "#cf222e",
    "interrupted": "#d1452b",
    "protocol_error": "#bf3989",
    "not_sent": "#6e7781",
    "running": "#0969da",
    "idle": "#6e7781",
}
_OUTCOMES_DARK = {
    "completed": "#3fb950",
    "tool_calls": "#58a6ff",
    "truncated": "#f0883e",
    "paused": "#d29922",
    "blocked": "#bc8cff",
    "upstream_error": "#f85149",
    "http_error": "#f85149",
    "interrupted": "#ff7b52",
    "protocol_error": "#f778ba",
    "not_sent": "#8b949e",
    "running": "#58a6ff",
    "idle": "#8b949e",
}

LIGHT = Theme(
    name="light",
    window="#f6f8fa",
    base="#ffffff",
    alt_base="#f3f5f7",
    text="#1f2328",
    muted="#656d76",
    border="#d0d7de",
    accent="#0969da",
    reasoning="#8250df",
    refusal="#cf222e",
    tool="#0a7d6c",
    marker="#9a6700",
    highlight="#fff3b0",
    plot_bg="#ffffff",
    gap_pen="#0969da",
    gap_fill="#0969da40",
    cumulative_pen="#1a7f37",
    stall_fill="#cf222e30",
    heat=("#1f6feb", "#1a7f37", "#7d8b00", "#b35900", "#d1452b", "#cf222e"),
    outcomes=_OUTCOMES_LIGHT,
)
DARK = Theme(
    name="dark",
    window="#0d1117",
    base="#161b22",
    alt_base="#1c222b",
    text="#e6edf3",
    muted="#8d96a0",
    border="#30363d",
    accent="#58a6ff",
    reasoning="#bc8cff",
    refusal="#ff7b72",
    tool="#39c5bb",
    marker="#d29922",
    highlight="#5a4a00",
    plot_bg="#161b22",
    gap_pen="#58a6ff",
    gap_fill="#58a6ff40",
    cumulative_pen="#3fb950",
    stall_fill="#f8514938",
    heat=("#79c0ff", "#56d364", "#c9d100", "#f0883e", "#ff7b52", "#ff4d4d"),
    outcomes=_OUTCOMES_DARK,
    marker_text="#c9d1d9",  # the muted grey reads poorly on the dark plot
)


def qcolor(spec: str) -> QColor:
    """`#RRGGBB` or CSS-style `#RRGGBBAA` (Qt itself reads 8 digits as `#AARRGGBB`)."""
    if len(spec) == 9 and spec.startswith("#"):
        color = QColor(spec[:7])
        color.setAlpha(int(spec[7:], 16))
        return color
    return QColor(spec)


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def theme_for(choice: str) -> Theme:
    """`choice`: system | light | dark."""
    if choice == "dark" or (choice == "system" and system_is_dark()):
        return DARK
    return LIGHT


def outcome_color(theme: Theme, outcome: str | None) -> str:
    return theme.outcomes.get(outcome or "idle", theme.outcomes["idle"])


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Fusion style with our palette, plus the stylesheet from resources/streamscope.qss."""
    app.setStyle("Fusion")
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base,
        QPalette.ColorRole.AlternateBase: theme.alt_base,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.alt_base,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.ToolTipBase: theme.base,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Link: theme.accent,
        QPalette.ColorRole.Mid: theme.border,
    }
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.muted))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(theme.muted))
    app.setPalette(p)
    template = (RESOURCES / "streamscope.qss").read_text(encoding="utf-8")
    template = template.replace("@icons", (RESOURCES / "icons").as_posix())
    template = template.replace("@name", theme.name)
    for key in ("window", "base", "alt_base", "text", "muted", "border", "accent"):
        template = template.replace(f"@{key}", getattr(theme, key))
    app.setStyleSheet(template)

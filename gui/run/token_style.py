"""How tokens look: kinds, heat levels by the gap before a token, their character formats,
and the heat legend. Pure functions of the theme (no widget state)."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtGui import QColor, QFont, QTextCharFormat

from gui.theme import Theme

__all__ = [
    "DIMMED",
    "HEAT_LIMITS_MS",
    "MARKER",
    "REFUSAL",
    "TEXT",
    "THINKING",
    "TOOL",
    "T_UNIT_NS",
    "char_format",
    "heat_legend",
    "heat_level",
    "utf16_len",
]

TEXT, THINKING, REFUSAL, TOOL, MARKER, DIMMED = range(6)
HEAT_LIMITS_MS = (10.0, 25.0, 50.0, 100.0, 250.0)  # gap thresholds of the heat levels
T_UNIT_NS = 10_000  # a token's arrival time is kept in these (10 µs) units, in 32 bits


def heat_level(kind: int, gap_ms: float, heat: bool) -> int:
    """Heat level of a token (0 when heat is off, and for markers and dimmed text)."""
    if not heat or kind in (MARKER, DIMMED):
        return 0
    return int(np.searchsorted(HEAT_LIMITS_MS, gap_ms))


def char_format(theme: Theme, kind: int, level: int, heat: bool) -> QTextCharFormat:
    colors = {
        TEXT: theme.text,
        THINKING: theme.reasoning,
        REFUSAL: theme.refusal,
        TOOL: theme.tool,
        MARKER: theme.marker,
        DIMMED: theme.muted,
    }
    color = theme.heat[level] if heat and kind not in (MARKER, DIMMED) else colors[kind]
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    fmt.setFontItalic(kind == THINKING)
    fmt.setFontWeight(QFont.Weight.DemiBold if kind == MARKER else QFont.Weight.Normal)
    if kind == TOOL:
        fmt.setFontFamilies(["DejaVu Sans Mono", "monospace"])
    return fmt


def heat_legend(theme: Theme) -> str:
    """Rich text naming each heat colour's gap range, for a label beside the toggle."""
    edges = [f"<{x:g}" for x in HEAT_LIMITS_MS] + [f"≥{HEAT_LIMITS_MS[-1]:g}"]
    spans = [
        f'<span style="color:{c}">■ {html.escape(e)}</span>'
        for c, e in zip(theme.heat, edges, strict=True)
    ]
    return "gap (ms) " + " ".join(spans)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what QTextDocument positions count."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2

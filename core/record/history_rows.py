"""The history list's rows: what the History panel and `history list` show, read from the
narrow `runs` table only (no chunks, no texts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["LIST_COLUMNS", "RunSummary", "fts_query", "summary_row"]


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One row of the list: what the History panel and `history list` show."""

    id: int
    time: str
    state: str  # recording | finished | interrupted
    source: str
    dialect: str
    base_url: str
    profile: str | None
    model: str
    outcome: str | None
    detail: str | None
    warnings: tuple[str, ...]
    ttft_ms: float | None
    output_tokens_per_s: float | None
    input_tokens: int | None
    output_tokens: int | None
    total_ms: float | None
    cost_usd: float | None
    compare_group: int | None
    notes: str
    tags: tuple[str, ...]

    @property
    def label(self) -> str:
        if self.outcome is None:
            return self.state
        return f"{self.outcome}/{self.detail}" if self.detail else self.outcome

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time,
            "state": self.state,
            "source": self.source,
            "dialect": self.dialect,
            "base_url": self.base_url,
            "profile": self.profile,
            "model": self.model,
            "outcome": self.outcome,
            "detail": self.detail,
            "warnings": list(self.warnings),
            "ttft_ms": self.ttft_ms,
            "output_tokens_per_s": self.output_tokens_per_s,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_ms": self.total_ms,
            "cost_usd": self.cost_usd,
            "compare_group": self.compare_group,
            "notes": self.notes,
            "tags": list(self.tags),
        }


LIST_COLUMNS = (
    "id, started, state, source, dialect, base_url, profile, model, outcome, detail, warnings, "
    "ttft_ms, tokens_per_s, input_tokens, output_tokens, total_ms, cost_usd, compare_group, "
    "notes"
)


def summary_row(row: tuple[Any, ...], tags: dict[int, tuple[str, ...]]) -> RunSummary:
    return RunSummary(*row[:10], tuple((row[10] or "").split()), *row[11:19], tags.get(row[0], ()))


def fts_query(text: str) -> str:
    """The user's words as FTS5 phrases (all must match); quotes inside are doubled."""
    words = text.split()
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)

"""`compare`'s outputs, one format at a time: a readable table, JSON, CSV (one row per run)
and a Markdown table to paste. `runs[]` always carry StreamScope's own metrics (the verdict
JSON); only `stats` follows the chosen definitions."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
from typing import Any

from core.live.race import RaceResult
from core.stream.definitions import samples
from core.stream.stats import LaneStats, Summary

__all__ = ["format_csv", "format_json", "format_markdown", "format_table"]


Include = tuple[str, ...]
SUCCESSFUL: Include = ("successful",)


def _lane_json(
    result: RaceResult, lane: int, definition: str, include: Include = SUCCESSFUL
) -> dict[str, Any]:
    spec = result.plan.lanes[lane].spec
    request = spec.redacted_request()
    stats = result.stats(lane, definition, include)
    runs = []
    for run in result.lane_runs(lane):
        obj = run.verdict.to_json()
        obj["round"] = run.round
        runs.append(obj)
    return {
        "label": result.plan.lanes[lane].label,
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": request.headers,
            "body": request.body,
        },
        "runs": runs,
        "outcomes": stats.outcomes,
        "counts": stats.counts,
        "included": list(stats.included),
        "stats": stats.stats_json(),
        "cost": result.lane_cost(lane),
    }


def format_json(result: RaceResult, definition: str, include: Include = SUCCESSFUL) -> str:
    obj = {
        "definitions": definition,
        "mode": result.plan.mode,
        "repeat": result.plan.repeat,
        "rounds": [
            {"index": r.index, "skew_ms": None if r.skew_ms is None else round(r.skew_ms, 3)}
            for r in result.rounds
        ],
        "lanes": [
            _lane_json(result, i, definition, include) for i in range(len(result.plan.lanes))
        ],
    }
    return json.dumps(obj, indent=2, ensure_ascii=False)


_CSV_METRICS = (
    "ttfb_ms",
    "headers_ms",
    "ttft_ms",
    "first_answer_ms",
    "itl_ms",
    "tpot_ms",
    "e2e_ms",
    "output_tokens_per_s",
    "output_tokens",
)


def format_csv(result: RaceResult) -> str:
    """One row per run, StreamScope's own figures (e2e_ms is its total_ms)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "round",
            "lane",
            "label",
            "model",
            "outcome",
            "detail",
            *_CSV_METRICS,
            "tokens_source",
            "input_tokens",
            "t0_offset_ms",
            "cost_usd",
            "cost_source",
        ]
    )
    offsets = {r.index: r.t0_offsets_ms for r in result.rounds}
    for run in result.runs:
        lane = result.plan.lanes[run.lane]
        figures = samples(run.stamps, "streamscope")
        cost = result.run_cost(run)
        round_offsets = offsets.get(run.round, ())
        offset = round_offsets[run.lane] if run.lane < len(round_offsets) else None
        writer.writerow(
            [
                run.round,
                run.lane,
                lane.label,
                lane.spec.model,
                run.verdict.outcome,
                run.verdict.detail or "",
                *(_cell(figures[k][0] if figures[k] else None) for k in _CSV_METRICS),
                run.stamps.tokens_source,
                _cell(run.verdict.input_tokens),
                _cell(offset),
                "" if cost is None else f"{cost.usd:.8f}",
                "" if cost is None else cost.describe(),
            ]
        )
    return out.getvalue()


def _cell(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if value >= 1000 else f"{value:g}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _fmt(s: Summary | None, attr: str, unit: str = "ms") -> str:
    if s is None:
        return "–"
    value = getattr(s, attr)
    if unit == "ms":
        return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _outcomes(stats: LaneStats) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in sorted(stats.outcomes.items())) or "–"


def _cost(result: RaceResult, lane: int, with_source: bool = True) -> str:
    cost = result.lane_cost(lane)
    if cost is None:
        return "–"
    text = f"${cost['mean_usd']:.6f}"
    return f"{text} ({cost['source']})" if with_source else text


def _rows(result: RaceResult, definition: str, include: Include) -> list[list[str]]:
    rows = []
    for i, lane in enumerate(result.plan.lanes):
        st = result.stats(i, definition, include)
        s = st.stats
        rows.append(
            [
                lane.label,
                lane.spec.model,
                str(st.runs),
                _outcomes(st),
                _fmt(s["ttft_ms"], "p50"),
                _fmt(s["ttft_ms"], "p90"),
                _fmt(s["itl_ms"], "p50"),
                _fmt(s["output_tokens_per_s"], "p50", ""),
                _cost(result, i),
            ]
        )
    return rows


_HEAD = ["Lane", "Model", "Runs", "Outcomes", "TTFT p50", "TTFT p90", "ITL p50", "tok/s p50"]


def _headline(result: RaceResult, definition: str, prompt: str) -> str:
    today = _dt.datetime.now(_dt.UTC).date().isoformat()
    short = " ".join(prompt.split())
    short = short if len(short) <= 80 else short[:79] + "…"
    plan = result.plan
    done = len(result.rounds)
    rounds = f"{done} round{'s' if done != 1 else ''}"
    if done < plan.repeat:
        rounds = f"{done} of {plan.repeat} rounds (stopped)"
    return f'Prompt: "{short}" · definitions: {definition} · {plan.mode}, {rounds} · {today}'


def format_markdown(
    result: RaceResult, definition: str, prompt: str, include: Include = SUCCESSFUL
) -> str:
    lines = [_headline(result, definition, prompt), ""]
    lines.append("| " + " | ".join([*_HEAD, "Cost/run"]) + " |")
    lines.append("|---|---|---:|---|---:|---:|---:|---:|---|")
    for row in _rows(result, definition, include):
        cells = [c.replace("|", "\\|") for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_table(
    result: RaceResult, definition: str, prompt: str, include: Include = SUCCESSFUL
) -> str:
    lines = [_headline(result, definition, prompt)]
    for r in result.rounds:
        skew = "" if r.skew_ms is None else f" · start skew {r.skew_ms:.2f} ms"
        lines.append(f"  round {r.index + 1}{skew}")
    if result.stopped:
        lines.append("  (stopped)")
    rows = [[*_HEAD, "Cost/run"], *_rows(result, definition, include)]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]) - 1)]
    lines.append("")
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines.append("")
    if include == SUCCESSFUL:
        lines.append(
            "Statistics over successful runs (completed, tool_calls, truncated); interrupted "
            "and errored runs are counted in Outcomes only."
        )
    else:
        lines.append(f"Statistics over {' and '.join(include)} runs.")
    return "\n".join(lines)

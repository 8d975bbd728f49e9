"""`streamscope history ...`: list, show, export, import, replay and delete stored runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from pathlib import Path
from typing import Any

from core.cli.args import UsageError
from core.cli.report import format_report
from core.record.diagnose import DiagnoseError
from core.record.exports import FORMATS
from core.record.history import HistoryStore, RunSummary
from core.record.imports import sessions_from_bytes
from core.record.replay import ReplayAttempt, ReplayFinished, aiter_replay
from core.stream.events import RefusalDelta, TextDelta, ThinkingDelta

__all__ = ["add_history_parser", "history_main"]


def add_history_parser(sub: Any) -> None:
    h = sub.add_parser(
        "history", help="stored runs ($STREAMSCOPE_DATA/history.sqlite3 or the user data dir)"
    )
    hs = h.add_subparsers(dest="action", required=True)
    ls = hs.add_parser("list", help="stored runs, newest first")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--search", metavar="TEXT", help="full-text search over prompt and answer")
    ls.add_argument("--limit", type=int, default=50, metavar="N", help="default 50; 0 for all")
    ls.add_argument("--provider", help="a profile name or part of the base URL")
    ls.add_argument("--model")
    ls.add_argument("--outcome", help="e.g. completed, truncated, interrupted")
    ls.add_argument("--since", metavar="DATE", help="ISO 8601 UTC, e.g. 2026-12-01")
    sh = hs.add_parser("show", help="one run's verdict and figures")
    sh.add_argument("id", type=int)
    sh.add_argument("--json", action="store_true", help="the probe --json object plus id")
    ex = hs.add_parser("export", help="write runs to a file")
    ex.add_argument("ids", type=int, nargs="+", metavar="ID")
    ex.add_argument("--format", required=True, choices=FORMATS)
    ex.add_argument("-o", "--output", required=True, metavar="FILE", help="a file, or -")
    im = hs.add_parser("import", help="saved runs, HAR files, raw bodies or pasted logs")
    im.add_argument("files", nargs="+", metavar="FILE")
    rp = hs.add_parser("replay", help="print a run's tokens at their recorded pace")
    rp.add_argument("id", type=int)
    rp.add_argument("--speed", default="1", help="1, 2, 5 (times real speed) or instant")
    de = hs.add_parser("delete", help="delete runs")
    de.add_argument("ids", type=int, nargs="+", metavar="ID")
    hs.add_parser("vacuum", help="give the space of deleted runs back to the disk")


def history_main(args: argparse.Namespace) -> int:
    with HistoryStore.open() as store:
        action = args.action
        if action == "list":
            return _list(store, args)
        if action == "show":
            return _show(store, args)
        if action == "export":
            return _export(store, args)
        if action == "import":
            return _import(store, args)
        if action == "replay":
            return _replay(store, args)
        if action == "delete":
            return _delete(store, args)
        store.vacuum()
        print(f"vacuumed {store.path}")
        return 0


def _list(store: HistoryStore, args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise UsageError("--limit must be >= 0")
    runs = store.list_runs(
        search=args.search,
        provider=args.provider,
        model=args.model,
        outcome=args.outcome,
        since=args.since,
        limit=args.limit or None,
    )
    if args.json:
        print(json.dumps([r.to_json() for r in runs], indent=2, ensure_ascii=False))
        return 0
    rows = [("ID", "TIME", "DIALECT", "MODEL", "VERDICT", "TTFT", "TOK/S", "OUT")]
    rows += [_row(r) for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if not runs:
        print("(no runs)" if not args.search else f"(no run matches {args.search!r})")
    elif args.limit and len(runs) == args.limit and not args.search:
        total = store.count()
        if total > len(runs):
            print(f"(the newest {len(runs)} of {total:,} runs; --limit 0 for all)")
    return 0


def _num(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _row(r: RunSummary) -> tuple[str, ...]:
    label = r.label + (" (cut)" if "recording_cut" in r.warnings else "")
    return (
        str(r.id),
        r.time.replace("T", " ").rstrip("Z"),
        r.dialect,
        r.model,
        label,
        f"{_num(r.ttft_ms)} ms" if r.ttft_ms is not None else "–",
        _num(r.output_tokens_per_s, 1),
        _num(r.output_tokens),
    )


def _show(store: HistoryStore, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(store.verdict_json(args.id), indent=2, ensure_ascii=False))
        return 0
    summary = store.summary(args.id)
    replay = store.replay(args.id)
    print(f"run {summary.id} · {summary.time} · {summary.state} · {summary.source}")
    print(f"{summary.dialect} · {summary.model} · {summary.base_url}")
    if summary.tags or summary.notes:
        print(f"tags: {' '.join(summary.tags) or '–'} · notes: {summary.notes or '–'}")
    verdict = replay.verdict
    stored = store.verdict_json(args.id)
    if summary.state == "finished" and stored.get("outcome"):
        from core.stream.outcome import Verdict

        verdict = Verdict.from_json(stored)
    print(format_report(verdict, replay.notes))
    return 0


def _export(store: HistoryStore, args: argparse.Namespace) -> int:
    text = store.export(args.ids, args.format)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise UsageError(f"-o {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {len(args.ids)} run{'s' if len(args.ids) > 1 else ''} to {path}", file=sys.stderr)
    return 0


def _import(store: HistoryStore, args: argparse.Namespace) -> int:
    loaded = []
    for name in args.files:  # every file read and understood before anything is stored
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
        try:
            loaded.append(sessions_from_bytes(data))
        except DiagnoseError as exc:
            raise UsageError(f"{name}: {' '.join(str(exc).split())}") from None
    for sessions in loaded:
        for saved in sessions:
            print(store.import_session(saved))
    return 0


def _speed(text: str) -> float | None:
    if text.lower() in ("instant", "inf", "0"):
        return None
    try:
        speed = float(text)
    except ValueError:
        speed = math.nan
    if not math.isfinite(speed) or speed <= 0:
        raise UsageError(f"--speed {text!r}: a number above 0 (1, 2, 5) or 'instant'")
    return speed


def _replay(store: HistoryStore, args: argparse.Namespace) -> int:
    speed = _speed(args.speed)
    replay = store.replay(args.id)
    out = sys.stdout

    async def play() -> ReplayFinished | None:
        finished = None
        async for event in aiter_replay(replay, speed):
            if isinstance(event, TextDelta | RefusalDelta | ThinkingDelta):
                out.write(event.text)
                out.flush()
            elif isinstance(event, ReplayAttempt) and (event.attempt or event.segment):
                out.write(f"\n[attempt {event.attempt} · segment {event.segment + 1}]\n")
            elif isinstance(event, ReplayFinished):
                finished = event
        return finished

    finished = asyncio.run(play())
    if finished is not None:
        print("\n")
        print(format_report(finished.verdict, replay.notes))
    return 0


def _delete(store: HistoryStore, args: argparse.Namespace) -> int:
    deleted = store.delete(args.ids)
    missing = len(set(args.ids)) - deleted
    print(f"deleted {deleted} run{'s' if deleted != 1 else ''}", file=sys.stderr)
    if missing > 0:
        print(f"{missing} of those ids were not in the history", file=sys.stderr)
    return 0

"""`streamscope compare`: race 2–16 lanes on one prompt, K rounds, and print statistics.

Each lane's request is built exactly as `probe` builds one (`build_spec`, with a profile's
values where a key is missing); lanes on `base-url=mock` share one in-process mock. Exit 0
whatever the verdicts; 2 with one line for a bad lane spec or flag.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.cli.args import UsageError
from core.cli.compare_report import format_csv, format_json, format_markdown, format_table
from core.cli.lanes import LaneArgs, lanes_from_toml, parse_lane
from core.cli.probe import build_spec, find_named_profile
from core.live.race import MAX_LANES, MIN_LANES, MODES, Lane, LaneRunFinished, Race, RacePlan
from core.providers.keys import ProfileError
from core.providers.pricing import Price
from core.record.history import HistoryError, HistoryStore, Retention
from core.record.savefile import Recorder
from core.stream.definitions import DEFINITIONS
from core.stream.spec import DIALECTS, RunSpec
from core.stream.stats import CLASSES as RUN_CLASSES

__all__ = ["add_compare_parser", "compare_main"]


def add_compare_parser(sub: Any) -> None:
    c = sub.add_parser(
        "compare",
        help="race 2–16 providers on one prompt, repeat, and compare their statistics",
        description="Race lanes on one prompt. A lane: 'label=A;base-url=URL|mock;dialect=D;"
        "model=M;max-tokens=200' (keys are probe's flag names, plus profile=NAME, "
        "param=KEY=JSON and header='K: V' repeated, mock-params=tps=100,first_byte_ms=50; "
        "\\; escapes a semicolon).",
    )
    c.add_argument("--lane", action="append", default=[], metavar="SPEC")
    c.add_argument("--lanes", metavar="FILE.toml", help="[[lane]] tables with the same keys")
    c.add_argument("--prompt", default="Write a short paragraph about streaming APIs.")
    c.add_argument("--system")
    c.add_argument("--max-tokens", type=int, help="default 1024 (a lane may override)")
    c.add_argument("--temperature", type=float)
    c.add_argument("--repeat", type=int, default=1, metavar="K")
    c.add_argument("--pause", type=float, default=0.0, metavar="S", help="between rounds")
    c.add_argument("--mode", choices=MODES, default="race")
    c.add_argument("--retries", type=int, default=0, help="per run (a lane may override)")
    c.add_argument("--metrics", choices=tuple(DEFINITIONS), default="streamscope")
    c.add_argument(
        "--include",
        default="successful",
        metavar="CLASSES",
        help="which runs enter the statistics: successful (default: completed, tool_calls, "
        "truncated), incomplete (interrupted), errored, comma-separated, or all",
    )
    out = c.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", action="store_true", help="one row per run")
    out.add_argument("--markdown", action="store_true", help="one table to paste")
    c.add_argument("--save", metavar="DIR", help="every run in DIR, probe's saved format")
    c.add_argument(
        "--no-history", action="store_true", help="do not keep these runs in the history store"
    )


def _lane_args(args: argparse.Namespace) -> list[LaneArgs]:
    lanes = [parse_lane(text, i) for i, text in enumerate(args.lane, 1)]
    if args.lanes:
        lanes += lanes_from_toml(args.lanes)
    if not MIN_LANES <= len(lanes) <= MAX_LANES:
        raise UsageError(
            f"give {MIN_LANES}–{MAX_LANES} lanes (--lane SPEC repeated, or --lanes FILE.toml); "
            f"got {len(lanes)}"
        )
    return lanes


def _include(text: str) -> tuple[str, ...]:
    if text.strip() == "all":
        return RUN_CLASSES
    parts = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    bad = [p for p in parts if p not in RUN_CLASSES]
    if bad or not parts:
        raise UsageError(f"--include: {text!r} is not a list of {', '.join(RUN_CLASSES)} (or all)")
    return parts


def _check_flags(args: argparse.Namespace) -> None:
    if args.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    if not args.pause >= 0:
        raise UsageError("--pause must be >= 0")


def _build_lanes(items: list[LaneArgs], args: argparse.Namespace, mock: Any) -> list[Lane]:
    lanes: list[Lane] = []
    for i, item in enumerate(items, 1):
        ns = item.namespace(args)
        try:
            profile = find_named_profile(ns.profile) if ns.profile else None
            base_url = ns.base_url or (profile.base_url if profile else None)
            dialect = ns.dialect or (profile.dialect if profile else None)
            model = ns.model or (profile.model if profile else None)
            missing = [
                k
                for k, v in (("base-url", base_url), ("dialect", dialect), ("model", model))
                if not v
            ]
            if missing:
                raise UsageError(f"{', '.join(missing)} missing (or profile=NAME)")
            if dialect not in DIALECTS:
                raise UsageError(f"dialect {dialect!r} is not one of {', '.join(DIALECTS)}")
            ns.dialect, ns.model = dialect, model
            if base_url == "mock":
                base_url = mock().base_urls[dialect]
            spec = build_spec(ns, base_url, profile)
        except UsageError as exc:
            raise UsageError(f"{item.where}: {exc}") from None
        except ProfileError as exc:  # no such profile, a key it cannot give, a broken file
            raise UsageError(f"{item.where}: {exc}") from None
        label = item.label or model or f"lane {i}"
        if any(lane.label == label for lane in lanes):
            label = f"{label} ({i})"
        price = profile.price if profile is not None else None
        lanes.append(Lane(label, spec, price, ns.retries))
    return lanes


def _history() -> HistoryStore | None:
    try:
        return HistoryStore.open(retention=Retention())
    except HistoryError as exc:  # the race still runs; its runs are just not kept
        print(f"streamscope compare: history not kept: {exc}", file=sys.stderr)
        return None


def _recorders(store: HistoryStore | None) -> Callable[[RunSpec, Price | None], Recorder] | None:
    """Every run of the race into the history, under one compare group."""
    if store is None:
        return None
    group = store.new_compare_group()
    return lambda spec, price: store.recorder(
        spec, source="compare", compare_group=group, price=price
    )


def compare_main(args: argparse.Namespace) -> int:
    _check_flags(args)
    include = _include(args.include)
    items = _lane_args(args)
    save_dir = None
    if args.save:
        save_dir = Path(args.save)
        try:
            save_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--save {args.save}: {exc.strerror or exc}") from None
    servers: list[Any] = []

    def mock() -> Any:
        if not servers:
            from core.mock import start_mock_server

            servers.append(start_mock_server())
        return servers[0]

    store = None
    try:
        lanes = _build_lanes(items, args, mock)
        plan = RacePlan(tuple(lanes), mode=args.mode, repeat=args.repeat, pause_s=args.pause)
        store = None if args.no_history else _history()
        race = Race(plan, save_dir=save_dir, history=_recorders(store))
        asyncio.run(_drive(race, progress=not (args.json or args.csv or args.markdown)))
    finally:
        for server in servers:
            server.stop()
        if store is not None:
            store.close()
    result = race.result
    if args.json:
        print(format_json(result, args.metrics, include))
    elif args.csv:
        sys.stdout.write(format_csv(result))
    elif args.markdown:
        print(format_markdown(result, args.metrics, args.prompt, include))
    else:
        print(format_table(result, args.metrics, args.prompt, include))
    return 0


async def _drive(race: Race, progress: bool) -> None:
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, race.stop)
    plan = race.plan
    try:
        async for event in race.events():
            if progress and isinstance(event, LaneRunFinished):
                run = event.run
                m = run.verdict.metrics
                ttft = "–" if m.ttft_ms is None else f"{m.ttft_ms:,.0f} ms"
                print(
                    f"round {run.round + 1}/{plan.repeat} · {plan.lanes[run.lane].label}: "
                    f"{run.verdict.label} · TTFT {ttft}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)

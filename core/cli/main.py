"""Headless commands (DESIGN §6): diagnose, probe, compare, profiles list, serve-mock. Exit 0
whatever the verdict; 2 for unusable input or arguments, with one line on stderr, never a
traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.cli.args import UsageError
from core.cli.history import add_history_parser, history_main
from core.cli.report import format_report
from core.providers.keys import ProfileError
from core.record.diagnose import DiagnoseError, diagnose_bytes
from core.record.history_schema import HistoryError
from core.stream.spec import DIALECTS

if TYPE_CHECKING:
    from core.providers.profiles import Profile

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="streamscope",
        description="See what an LLM API stream really did. Without a command: the window.",
    )
    sub = ap.add_subparsers(dest="command", required=True)

    d = sub.add_parser("diagnose", help="judge a raw stream body, a saved run or a pasted log")
    d.add_argument("file", help="a file, or - for standard input")
    d.add_argument("--dialect", default="auto", choices=("auto", *DIALECTS))
    d.add_argument("--json", action="store_true", help="print the verdict JSON")

    p = sub.add_parser(
        "probe",
        help="one live run against a provider",
        description="One live run against a provider: the text as it arrives, then the "
        "verdict and timings.",
        epilog="There is no total time limit by default, by design: long generations are "
        "real. So a server that trickles one token every 40 s (under the 60 s stall "
        "timeout) keeps a probe running for as long as it goes on; set --total-timeout to "
        "bound it. Ctrl+C stops a probe and still gives its verdict.",
    )
    p.add_argument(
        "--profile", help="take defaults from a saved profile or preset (flags override it)"
    )
    p.add_argument("--base-url", help="API base URL, or 'mock' for the built-in")
    p.add_argument("--dialect", choices=DIALECTS)
    p.add_argument(
        "--model",
        help="model id; without it, a real server's only model from its listing "
        "(local servers), else exit 2 saying a model is needed",
    )
    p.add_argument("--prompt", default="Write a short paragraph about streaming APIs.")
    p.add_argument("--system")
    p.add_argument("--max-tokens", type=int, help="default 1024")
    p.add_argument("--temperature", type=float)
    p.add_argument("--param", action="append", default=[], metavar="KEY=JSON")
    p.add_argument("--header", action="append", default=[], metavar="'K: V'")
    p.add_argument("--api-key-env", metavar="NAME")
    p.add_argument("--connect-timeout", type=float, help="seconds, default 10")
    p.add_argument("--first-byte-timeout", type=float, help="seconds, default 60")
    p.add_argument(
        "--stall-timeout",
        type=float,
        help="seconds without generated content after the first byte, default 60",
    )
    p.add_argument(
        "--total-timeout",
        type=float,
        help="seconds for the whole run, default none: no total limit, so a slow trickle "
        "runs on (see below)",
    )
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("--continue-until-complete", type=int, default=0, metavar="K")
    p.add_argument(
        "--save", metavar="FILE", help="write the session as a saved run (replaces FILE)"
    )
    p.add_argument(
        "--no-history", action="store_true", help="do not keep this run in the history store"
    )
    p.add_argument("--json", action="store_true")

    from core.cli.compare import add_compare_parser

    add_compare_parser(sub)

    s = sub.add_parser("serve-mock", help="run the built-in mock provider")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="default scenario parameter, e.g. tps=200 (x-mock-params names)",
    )
    add_history_parser(sub)
    pr = sub.add_parser(
        "profiles", help="provider profiles (file: $STREAMSCOPE_PROFILES or the config dir)"
    )
    pr_sub = pr.add_subparsers(dest="action", required=True)
    pr_sub.add_parser("list", help="every saved profile and preset: dialect, base URL, key source")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "diagnose":
            return _diagnose(args)
        if args.command == "probe":
            from core.cli.probe import probe_main

            return probe_main(args)
        if args.command == "compare":
            from core.cli.compare import compare_main

            return compare_main(args)
        if args.command == "profiles":
            return _profiles(args)
        if args.command == "history":
            return history_main(args)
        return _serve_mock(args)
    except (UsageError, DiagnoseError, ProfileError, HistoryError) as exc:
        message = " ".join(str(exc).split())
        print(f"streamscope {args.command}: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `streamscope diagnose x | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _diagnose(args: argparse.Namespace) -> int:
    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        path = Path(args.file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    replay = diagnose_bytes(data, args.dialect)
    if args.json:
        print(json.dumps(replay.to_json(), indent=2, ensure_ascii=False))
    else:
        source = {"body": "raw body", "log": "pasted log", "saved_run": "saved run"}[replay.kind]
        print(f"{source}, dialect {replay.dialect}")
        print(format_report(replay.verdict, replay.notes))
    return 0


def _serve_mock(args: argparse.Namespace) -> int:
    from core.mock import serve_forever

    defaults = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {item!r} is not KEY=VALUE")
        defaults[key.strip()] = value.strip()
    serve_forever(args.host, args.port, defaults)
    return 0


def _profiles(args: argparse.Namespace) -> int:
    from core.providers.presets import catalogue
    from core.providers.profiles import ProfileStore

    store = ProfileStore()
    rows = [("NAME", "SOURCE", "DIALECT", "BASE URL", "KEY")]
    for source, profile in catalogue(store):
        rows.append((profile.name, source, profile.dialect, profile.base_url, _key_column(profile)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[4]]))
    print(f"\nsaved profiles: {store.path}")
    return 0


def _key_column(profile: Profile) -> str:
    """Where the key comes from; for env, whether it is set. Never the key (and the keyring
    is not read: some keyrings prompt to unlock)."""
    ref = profile.key
    if ref.kind == "env":
        return f"env ${ref.name} ({'set' if os.environ.get(ref.name) else 'not set'})"
    return ref.describe()


if __name__ == "__main__":
    sys.exit(main())

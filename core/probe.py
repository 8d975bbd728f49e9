"""`streamscope probe`: one live run from the command line, text streamed as it arrives."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from typing import Any
from urllib.parse import urlsplit

from core.cli import UsageError, resolve_key
from core.events import RefusalDelta, TextDelta, ThinkingDelta
from core.report import format_report
from core.savefile import RunRecorder
from core.session import AttemptStarted, SessionFinished, run_session
from core.spec import RunSpec, Timeouts

__all__ = ["build_spec", "probe_main"]


def _params(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param {item!r} is not KEY=JSON")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            raise UsageError(
                f"--param {key}: {raw!r} is not valid JSON (strings need quotes: {key}='\"{raw}\"')"
            ) from None
    return out


def _headers(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header {item!r} is not 'Name: value'")
        out[name.strip()] = value.strip()
    return out


def build_spec(args: argparse.Namespace, base_url: str) -> RunSpec:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url {base_url!r} is not an http(s) URL (or 'mock')")
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError("--max-tokens must be at least 1")
    timeouts = Timeouts(
        connect_s=args.connect_timeout,
        first_byte_s=args.first_byte_timeout,
        stall_s=args.stall_timeout,
        total_s=args.total_timeout,
    )
    return RunSpec(
        dialect=args.dialect,
        base_url=base_url,
        model=args.model,
        messages=RunSpec.user(args.prompt),
        system=args.system,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        extra_body=_params(args.param),
        headers=_headers(args.header),
        api_key=resolve_key(base_url, args.dialect, args.api_key_env),
        timeouts=timeouts,
        profile="cli",
    )


def probe_main(args: argparse.Namespace) -> int:
    mock = None
    base_url = args.base_url
    if base_url == "mock":
        from core.mock import start_mock_server

        mock = start_mock_server()
        base_url = mock.base_urls[args.dialect]
    try:
        spec = build_spec(args, base_url)
        return asyncio.run(_probe(spec, args))
    finally:
        if mock is not None:
            mock.stop()


async def _probe(spec: RunSpec, args: argparse.Namespace) -> int:
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, cancel.set)
    recorder = None
    if args.save:
        try:
            recorder = RunRecorder(args.save)
        except OSError as exc:
            raise UsageError(f"--save {args.save}: {exc.strerror or exc}") from None
    live = not args.json
    out = sys.stdout
    finished: SessionFinished | None = None
    try:
        async for event in run_session(
            spec,
            retries=args.retries,
            continuations=args.continue_until_complete,
            cancel=cancel,
            recorder=recorder,
        ):
            if isinstance(event, SessionFinished):
                finished = event
            elif live and isinstance(event, TextDelta | RefusalDelta):
                out.write(event.text)
                out.flush()
            elif live and isinstance(event, ThinkingDelta):
                out.write(f"\x1b[2m{event.text}\x1b[0m" if out.isatty() else event.text)
                out.flush()
            elif live and isinstance(event, AttemptStarted) and event.kind != "first":
                out.write(f"\n[{event.describe()}]\n")
                out.flush()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
        if recorder is not None:
            recorder.close()
    assert finished is not None
    verdict = finished.verdict
    if args.json:
        print(json.dumps(verdict.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n")
        print(format_report(verdict))
    return 0

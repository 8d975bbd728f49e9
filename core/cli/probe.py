"""`streamscope probe`: one live run from the command line, text streamed as it arrives."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import signal
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.cli.args import UsageError, resolve_key
from core.cli.report import format_report
from core.live.session import AttemptStarted, SessionFinished, run_session
from core.providers.keys import ProfileError
from core.record.history import HistoryError, HistoryStore, Retention
from core.record.savefile import RunRecorder, TeeRecorder
from core.stream.events import RefusalDelta, TextDelta, ThinkingDelta
from core.stream.spec import RunSpec, Timeouts, mask_url

if TYPE_CHECKING:
    from core.providers.pricing import Price
    from core.providers.profiles import Profile

__all__ = ["build_spec", "find_named_profile", "probe_main"]


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


_DEFAULT_TIMEOUTS = Timeouts()


def build_spec(args: argparse.Namespace, base_url: str, profile: Profile | None = None) -> RunSpec:
    """The run from the flags; with `profile`, the profile's values where no flag is given
    (headers and --param merge over the profile's, the flag winning)."""
    try:
        parts = urlsplit(base_url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = urlsplit(""), False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        shown = mask_url(base_url)  # never echo a `?key=` or a URL password
        raise UsageError(f"--base-url {shown!r} is not an http(s) URL (or 'mock')")
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError("--max-tokens must be at least 1")
    for flag in (
        "connect_timeout",
        "first_byte_timeout",
        "stall_timeout",
        "total_timeout",
        "temperature",
    ):
        value = getattr(args, flag, None)
        if value is not None and (not math.isfinite(value) or value < 0):
            raise UsageError(f"--{flag.replace('_', '-')} must be a finite number >= 0")
    for flag in ("retries", "continue_until_complete"):
        if getattr(args, flag, 0) < 0:
            raise UsageError(f"--{flag.replace('_', '-')} must be >= 0")
    base = profile.timeouts if profile is not None else _DEFAULT_TIMEOUTS
    flags = {
        "connect_s": args.connect_timeout,
        "first_byte_s": args.first_byte_timeout,
        "stall_s": args.stall_timeout,
        "total_s": args.total_timeout,
    }
    timeouts = replace(base, **{k: v for k, v in flags.items() if v is not None})
    dialect = args.dialect or (profile.dialect if profile else None)
    if profile is None:
        return RunSpec(
            dialect=args.dialect,
            base_url=base_url,
            model=args.model,
            messages=RunSpec.user(args.prompt),
            system=args.system,
            max_tokens=1024 if args.max_tokens is None else args.max_tokens,
            temperature=args.temperature,
            extra_body=_params(args.param),
            headers=_headers(args.header),
            api_key=resolve_key(base_url, args.dialect, args.api_key_env),
            timeouts=timeouts,
            profile="cli",
        )
    overrides: dict[str, Any] = {
        "dialect": dialect,
        "base_url": base_url,
        "system": args.system,
        "timeouts": timeouts,
        "headers": {**profile.headers, **_headers(args.header)},
        "extra_body": {**profile.extra_body, **_params(args.param)},
    }
    for name in ("model", "max_tokens", "temperature"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.api_key_env:
        overrides["api_key"] = resolve_key(base_url, dialect or "", args.api_key_env)
    try:
        return profile.to_spec(args.prompt, **overrides)
    except ProfileError as exc:
        raise UsageError(f"--profile {profile.name}: {exc}") from None


def find_named_profile(name: str) -> Profile:
    """A saved profile or preset by name; raises ProfileError naming what exists."""
    from core.providers.presets import find_profile
    from core.providers.profiles import ProfileStore

    return find_profile(name, ProfileStore())


def probe_main(args: argparse.Namespace) -> int:
    profile = find_named_profile(args.profile) if args.profile else None
    base_url = args.base_url or (profile.base_url if profile else None)
    dialect = args.dialect or (profile.dialect if profile else None)
    model = args.model or (profile.model if profile else None)
    # A real server (not the mock) can name its only model: asked before the run (below).
    listed = bool(base_url) and base_url != "mock"
    if not (base_url and dialect and (model or listed)):
        missing = [
            flag
            for flag, value in (
                ("--base-url", base_url),
                ("--dialect", dialect),
                ("--model", model or listed),
            )
            if not value
        ]
        where = f" (profile {profile.name} has none)" if profile else " (or --profile NAME)"
        raise UsageError(f"{', '.join(missing)} required{where}")
    if profile is not None and not args.api_key_env and base_url != "mock":
        from core.providers.presets import key_warning

        warning = key_warning(replace(profile, base_url=base_url))
        if warning:
            print(f"streamscope probe: warning: {warning}", file=sys.stderr)
    mock = None
    if base_url == "mock":
        from core.mock import start_mock_server

        mock = start_mock_server()
        base_url = mock.base_urls[dialect]
    try:
        spec = build_spec(args, base_url, profile)
        if not spec.model:
            spec = spec.with_changes(model=_server_model(spec))
        return asyncio.run(_probe(spec, args, profile.price if profile else None))
    finally:
        if mock is not None:
            mock.stop()


def _server_model(spec: RunSpec) -> str:
    """The server's only model (local servers); else a usage error saying one is needed."""
    from core.providers.listing import ModelNeeded, resolve_model

    try:
        return asyncio.run(resolve_model(spec))
    except ModelNeeded as exc:
        raise UsageError(f"{exc} with --model") from None


async def _probe(spec: RunSpec, args: argparse.Namespace, price: Price | None = None) -> int:
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, cancel.set)
    saved = None
    if args.save:
        try:
            saved = RunRecorder(args.save, replace=True)
        except OSError as exc:
            raise UsageError(f"--save {args.save}: {exc.strerror or exc}") from None
    store = None
    if not getattr(args, "no_history", False):
        try:
            store = HistoryStore.open(retention=Retention())
        except HistoryError as exc:  # the run still happens; it is just not kept
            print(f"streamscope probe: history not kept: {exc}", file=sys.stderr)
    history = store.recorder(spec, source="probe", price=price) if store is not None else None
    recorder = TeeRecorder(saved, history) if saved or history else None
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
        if history is not None and history.failed:
            print(f"streamscope probe: history: the run was not fully kept: {history.failed}",
                  file=sys.stderr)  # fmt: skip
        if store is not None:
            store.close()
    assert finished is not None
    verdict = finished.verdict
    if args.json:
        print(json.dumps(verdict.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n")
        print(format_report(verdict))
    return 0

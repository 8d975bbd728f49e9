"""Lane specs for `streamscope compare`: `--lane 'label=A;base-url=…;model=…'` or a TOML file.

The keys are probe's flag names (`base-url`, `dialect`, `model`, `max-tokens`, `param`,
`header`, `api-key-env`, the timeouts, ...), plus `label`, `profile=NAME` (a saved profile
or preset) and `mock-params=tps=100,first_byte_ms=50` (the mock's x-mock-params, commas for
semicolons). `param=KEY=JSON` and `header=K: V` may repeat; `\\;` escapes a semicolon.
A bad spec is a `UsageError` naming the lane (exit 2, one line).
"""

from __future__ import annotations

import argparse
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.cli.args import UsageError

__all__ = ["LaneArgs", "lanes_from_toml", "parse_lane"]

_REPEATABLE = {"param", "header"}
_INT = {"max-tokens", "retries"}
_FLOAT = {
    "temperature",
    "connect-timeout",
    "first-byte-timeout",
    "stall-timeout",
    "total-timeout",
}
_TEXT = {"label", "profile", "base-url", "dialect", "model", "prompt", "system", "api-key-env"}
KEYS = _REPEATABLE | _INT | _FLOAT | _TEXT | {"mock-params"}


@dataclass(frozen=True, slots=True)
class LaneArgs:
    """One lane's keys, parsed; `namespace()` gives probe's argparse view of it."""

    where: str  # "--lane 2" or "lanes.toml lane 2", for messages
    values: dict[str, Any]

    @property
    def label(self) -> str | None:
        return self.values.get("label")

    def namespace(self, shared: argparse.Namespace) -> argparse.Namespace:
        v = self.values
        headers = list(v.get("header", []))
        if "mock-params" in v:
            headers.append(f"x-mock-params: {v['mock-params'].replace(',', ';')}")
        return argparse.Namespace(
            profile=v.get("profile"),
            base_url=v.get("base-url"),
            dialect=v.get("dialect"),
            model=v.get("model"),
            prompt=v.get("prompt", shared.prompt),
            system=v.get("system", shared.system),
            max_tokens=v.get("max-tokens", shared.max_tokens),
            temperature=v.get("temperature", shared.temperature),
            param=list(v.get("param", [])),
            header=headers,
            api_key_env=v.get("api-key-env"),
            connect_timeout=v.get("connect-timeout"),
            first_byte_timeout=v.get("first-byte-timeout"),
            stall_timeout=v.get("stall-timeout"),
            total_timeout=v.get("total-timeout"),
            retries=v.get("retries", getattr(shared, "retries", 0)),
            continue_until_complete=0,
        )


def _split(text: str) -> list[str]:
    """Split at `;` not escaped as `\\;`."""
    parts, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] == ";":
            current.append(";")
            i += 2
            continue
        if ch == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _convert(where: str, key: str, raw: Any) -> Any:
    if key not in KEYS:
        known = ", ".join(sorted(KEYS))
        raise UsageError(f"{where}: unknown key {key!r} (keys: {known})")
    try:
        if key in _INT:
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        if key in _FLOAT:
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
    except (TypeError, ValueError):
        kind = "a whole number" if key in _INT else "a number"
        raise UsageError(f"{where}: {key}={raw!r} is not {kind}") from None
    if not isinstance(raw, str):
        raise UsageError(f"{where}: {key} must be text, not {raw!r}")
    return raw


def parse_lane(text: str, index: int) -> LaneArgs:
    where = f"--lane {index}"
    values: dict[str, Any] = {}
    for item in _split(text):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{where}: {item!r} is not key=value")
        value = _convert(where, key, raw.strip() if key not in _REPEATABLE else raw)
        if key in _REPEATABLE:
            values.setdefault(key, []).append(value.strip())
        elif key in values:
            raise UsageError(f"{where}: {key} is given twice")
        else:
            values[key] = value
    if not values:
        raise UsageError(f"{where}: empty lane spec")
    return LaneArgs(where, values)


def lanes_from_toml(path: str) -> list[LaneArgs]:
    """`[[lane]]` tables with the same keys; `param` and `header` as a list of strings or a
    table (`param = { temperature = 0.2 }`, `header = { X-Title = "bench" }`)."""
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--lanes {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--lanes {path}: not valid TOML ({exc})") from None
    tables = doc.get("lane")
    if not isinstance(tables, list) or set(doc) - {"lane"}:
        raise UsageError(f"--lanes {path}: expected [[lane]] tables only")
    out = []
    for i, table in enumerate(tables, 1):
        where = f"--lanes {path} lane {i}"
        if not isinstance(table, dict):
            raise UsageError(f"{where}: expected a table")
        values: dict[str, Any] = {}
        for key, raw in table.items():
            if key in _REPEATABLE:
                values[key] = _repeatable(where, key, raw)
            else:
                values[key] = _convert(where, key, raw)
        out.append(LaneArgs(where, values))
    return out


def _repeatable(where: str, key: str, raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, dict):
        if key == "param":
            return [f"{k}={json.dumps(v)}" for k, v in raw.items()]
        return [f"{k}: {v}" for k, v in raw.items()]
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return list(raw)
    raise UsageError(f"{where}: {key} must be a string, a list of strings or a table")

"""The profiles file format (TOML), both ways. Pure: bytes in, field values out, and back.

```toml
version = 1

[[profile]]
name = "My relay"
dialect = "openai-chat"
base_url = "https://relay.example/v1"
model = "gpt-4o-mini"
key = { kind = "env", name = "RELAY_API_KEY" }   # or keyring / none; never the key itself
max_tokens = 1024            # "off": send no limit
extra_body = '{"stop": null}'  # JSON text when it holds a null, else a table
[profile.headers]
X-Title = "StreamScope"
[profile.timeouts]
total_s = "off"              # a watchdog switched off
[profile.price]              # optional: USD per 1M tokens, for the cost of compare runs
input = 0.15
output = 0.6
cached_input = 0.075         # optional
as_of = "2026-11-01"         # optional: when you read the price
```
Unknown keys are errors (a typo must not silently drop a setting).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import tomli_w

from core.providers.keys import KeyRef, ProfileError, ProfileFileError
from core.providers.pricing import Price
from core.stream.safejson import loads as safe_loads
from core.stream.spec import Timeouts

__all__ = ["FORMAT_VERSION", "dump_profiles", "parse_profiles"]

FORMAT_VERSION = 1
OFF = "off"
_HEADER = (
    "# StreamScope provider profiles. Edit here or in the Profiles dialog.\n"
    "# API keys are never stored in this file: a profile names an environment variable\n"
    "# or an entry in the OS keyring (service 'streamscope').\n"
)
_TIMEOUTS = tuple(f.name for f in fields(Timeouts))
_SCALARS = {
    "name": str,
    "dialect": str,
    "base_url": str,
    "model": str,
    "auth_scheme": str,
    "proxy": str,
    "verify_tls": bool,
    "max_tokens_field": str,
    "continue_final_message": bool,
    "prefill_supported": bool,
    "notes": str,
}
_KNOWN = {
    *_SCALARS,
    "models",
    "key",
    "headers",
    "query",
    "max_tokens",
    "temperature",
    "extra_body",
    "timeouts",
    "price",
}


class _Bad(Exception):
    pass


def parse_profiles(data: bytes, path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, Profile keyword arguments) per profile; raises `ProfileFileError` naming the
    file and, for syntax errors, the line (tomllib's message carries it)."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProfileFileError(f"{path}: not UTF-8 text ({exc.reason})", path) from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_of(str(exc))
        raise ProfileFileError(f"{path}: {exc}", path, line) from None
    except RecursionError:  # tomllib recurses per nesting level: thousands deep end here
        raise ProfileFileError(
            f"{path}: values are nested too deeply to read (arrays or tables inside one "
            f"another more than {MAX_DEPTH} levels)",
            path,
        ) from None
    if _depth_over(doc, MAX_DEPTH):  # readable, but too deep to copy or send safely
        raise ProfileFileError(f"{path}: values are nested more than {MAX_DEPTH} levels deep", path)
    version = doc.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ProfileFileError(
            f"{path}: format version {version!r}; this StreamScope reads version "
            f"{FORMAT_VERSION} (a newer StreamScope wrote it?)",
            path,
        )
    extra = set(doc) - {"version", "profile"}
    if extra:
        raise ProfileFileError(f"{path}: unknown top-level key {sorted(extra)[0]!r}", path)
    tables = doc.get("profile", [])
    if not isinstance(tables, list):
        raise ProfileFileError(f"{path}: 'profile' must be an array of tables ([[profile]])", path)
    seen: set[str] = set()
    for i, table in enumerate(tables, 1):
        name = table.get("name") if isinstance(table, dict) else None
        where = f"profile {i}" + (f" ({name!r})" if isinstance(name, str) else "")
        try:
            values = _values(table)
        except (_Bad, ProfileError) as exc:
            raise ProfileFileError(f"{path}: {where}: {exc}", path) from None
        if values["name"].casefold() in seen:
            raise ProfileFileError(f"{path}: {where}: a second profile of that name", path)
        seen.add(values["name"].casefold())
        yield where, values


MAX_DEPTH = 64  # far beyond any real profile (extra parameters are a few levels deep)


def _depth_over(value: Any, limit: int) -> bool:
    """Whether arrays/tables nest deeper than `limit`; iterative, so it cannot recurse."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _line_of(message: str) -> int | None:
    m = re.search(r"at line (\d+)", message)
    return int(m.group(1)) if m else None


def _values(table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _Bad("expected a table")
    unknown = set(table) - _KNOWN
    if unknown:
        raise _Bad(f"unknown key {sorted(unknown)[0]!r}")
    for required in ("name", "dialect", "base_url"):
        if required not in table:
            raise _Bad(f"{required} is missing")
    out: dict[str, Any] = {}
    for key, kind in _SCALARS.items():
        if key in table:
            if not isinstance(table[key], kind):
                raise _Bad(f"{key}: expected {'true/false' if kind is bool else 'a string'}")
            out[key] = table[key]
    if "models" in table:
        models = table["models"]
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            raise _Bad("models: expected a list of strings")
        out["models"] = tuple(models)
    if "key" in table:
        ref = table["key"]
        if not isinstance(ref, dict) or set(ref) - {"kind", "name"}:
            raise _Bad("key: expected { kind = ..., name = ... }")
        out["key"] = KeyRef(str(ref.get("kind", "none")), str(ref.get("name", "")))
    for key in ("headers", "query"):
        if key in table:
            mapping = table[key]
            if not isinstance(mapping, dict) or not all(
                isinstance(v, str) for v in mapping.values()
            ):
                raise _Bad(f"{key}: expected a table of strings")
            out[key] = dict(mapping)
    if "max_tokens" in table:
        out["max_tokens"] = _number("max_tokens", table["max_tokens"], int)
    if "temperature" in table:
        out["temperature"] = _number("temperature", table["temperature"], float)
    if "extra_body" in table:
        out["extra_body"] = _json_object(table["extra_body"])
    if "timeouts" in table:
        out["timeouts"] = _timeouts(table["timeouts"])
    if "price" in table:
        out["price"] = _price(table["price"], str(table.get("name", "")))
    return out


def _price(value: Any, name: str) -> Price:
    if not isinstance(value, dict):
        raise _Bad("price: expected a table { input = ..., output = ... }")
    unknown = set(value) - {"input", "output", "cached_input", "as_of"}
    if unknown:
        raise _Bad(f"price: unknown key {sorted(unknown)[0]!r}")
    for required in ("input", "output"):
        if required not in value:
            raise _Bad(f"price: {required} is missing (USD per 1M tokens)")
    numbers = {}
    for key in ("input", "output", "cached_input"):
        if key in value:
            number = value[key]
            if isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
                raise _Bad(f"price.{key}: expected a number >= 0 (USD per 1M tokens)")
            numbers[key] = float(number)
    as_of = value.get("as_of")
    if as_of is not None and not isinstance(as_of, str):
        as_of = str(as_of)  # a TOML date
    return Price(**numbers, as_of=as_of, source=f"profile {name}")


def _number(key: str, value: Any, kind: type) -> Any:
    if value == OFF:
        return None
    ok = isinstance(value, int | float) if kind is float else isinstance(value, int)
    if isinstance(value, bool) or not ok:
        raise _Bad(f'{key}: expected a number or "off"')
    return kind(value)


def _json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        obj = safe_loads(value) if isinstance(value, str) else None
    except ValueError as exc:
        raise _Bad(f"extra_body: not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise _Bad("extra_body: expected a JSON object")
    return obj


def _timeouts(value: Any) -> Timeouts:
    if not isinstance(value, dict):
        raise _Bad("timeouts: expected a table")
    unknown = set(value) - set(_TIMEOUTS)
    if unknown:
        raise _Bad(f"timeouts: unknown key {sorted(unknown)[0]!r}")
    values = {k: _number(f"timeouts.{k}", v, float) for k, v in value.items()}
    if values.get("soft_stall_s", 0.0) is None:
        raise _Bad("timeouts.soft_stall_s cannot be off")
    return Timeouts(**values)


def dump_profiles(profiles: Iterable[Any]) -> str:
    """The file text for `profiles` (Profile objects). Holds no key: only `KeyRef`s."""
    doc = {"version": FORMAT_VERSION, "profile": [_table(p) for p in profiles]}
    return _HEADER + "\n" + tomli_w.dumps(doc)


def _table(p: Any) -> dict[str, Any]:
    t: dict[str, Any] = {"name": p.name, "dialect": p.dialect, "base_url": p.base_url}
    t["model"] = p.model
    if p.models:
        t["models"] = list(p.models)
    t["auth_scheme"] = p.auth_scheme
    t["key"] = {"kind": p.key.kind, "name": p.key.name}
    if p.proxy:
        t["proxy"] = p.proxy
    t["verify_tls"] = p.verify_tls
    t["max_tokens"] = OFF if p.max_tokens is None else p.max_tokens
    if p.temperature is not None:
        t["temperature"] = p.temperature
    t["max_tokens_field"] = p.max_tokens_field
    t["continue_final_message"] = p.continue_final_message
    t["prefill_supported"] = p.prefill_supported
    if p.extra_body:  # a table when TOML can hold it, else JSON text (TOML has no null)
        plain = not _has_null(p.extra_body)
        t["extra_body"] = p.extra_body if plain else json.dumps(p.extra_body, ensure_ascii=False)
    if p.notes:
        t["notes"] = p.notes
    if p.headers:
        t["headers"] = dict(p.headers)
    if p.query:
        t["query"] = dict(p.query)
    if getattr(p, "price", None) is not None:
        price = {"input": p.price.input, "output": p.price.output}
        if p.price.cached_input is not None:
            price["cached_input"] = p.price.cached_input
        if p.price.as_of:
            price["as_of"] = p.price.as_of
        t["price"] = price
    t["timeouts"] = {
        k: OFF if getattr(p.timeouts, k) is None else float(getattr(p.timeouts, k))
        for k in _TIMEOUTS
    }
    return t


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False

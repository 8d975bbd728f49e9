"""Paste a curl command, get a profile and a request (pure: no network, no keyring).

The dialect comes from the URL path, the base URL is what precedes it. A key found in the
command is returned apart (`CurlImport.key`), never in the profile: the caller stores it in
the keyring only if the user asks. `$VAR` / `${VAR}` become an env-variable key reference.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from core.providers.keys import KeyRef, ProfileError
from core.providers.profiles import SECRET_HEADERS, SECRET_QUERY, Profile
from core.stream.dialects.anthropic import API_VERSION as ANTHROPIC_VERSION
from core.stream.safejson import loads as safe_loads
from core.stream.spec import Timeouts

__all__ = ["CurlImport", "from_curl"]


@dataclass(frozen=True, slots=True)
class CurlImport:
    profile: Profile  # key reference: env when the command used $VAR, else none
    messages: tuple[dict[str, Any], ...]
    system: str | None
    prompt: str | None  # the last user message's text
    key: str | None = field(default=None, repr=False)  # a literal key found in the command
    notes: tuple[str, ...] = ()  # what was ignored or changed, for the user


_VALUE_OPTS = {
    "-H": "header", "--header": "header",
    "-d": "data", "--data": "data", "--data-raw": "data", "--data-binary": "data",
    "--data-ascii": "data", "--json": "json",
    "-X": "method", "--request": "method", "--url": "url",
    "-x": "proxy", "--proxy": "proxy",
    "-m": "max_time", "--max-time": "max_time", "--connect-timeout": "connect",
    "-A": "agent", "--user-agent": "agent",
    "-u": "user", "--user": "user", "-e": "referer", "--referer": "referer",
    "-o": "ignore", "--output": "ignore", "-b": "ignore", "--cookie": "ignore",
    "--retry": "ignore", "-w": "ignore", "--write-out": "ignore",
}  # fmt: skip
_FLAGS = set("NsSviLfkq#")
_QUIET_LONG = {"--no-buffer", "--silent", "--show-error", "--compressed", "--location", "--fail",
               "--http1.1", "--http2", "--verbose"}  # fmt: skip
_ROUTES = (
    (re.compile(r"^(?P<base>.*?)/v1(?:beta|alpha)?/models/(?P<model>[^/:]+):"
                r"(?:stream)?[gG]enerateContent$"), "gemini"),
    (re.compile(r"^(?P<base>.*)/chat/completions$"), "openai-chat"),
    (re.compile(r"^(?P<base>.*)/responses$"), "openai-responses"),
    (re.compile(r"^(?P<base>.*)/v1/messages$"), "anthropic"),
    (re.compile(r"^(?P<base>.*)/api/chat$"), "ollama"),
)  # fmt: skip
_DEFAULT_AUTH = {"openai-chat": "bearer", "openai-responses": "bearer", "ollama": "bearer",
                 "anthropic": "x-api-key", "gemini": "x-goog-api-key"}  # fmt: skip
_PLAIN_HEADERS = {"content-type", "accept", "content-length"}
_ENV = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


def from_curl(command: str) -> CurlImport:
    """Parse a pasted curl command; raises `ProfileError` saying what is wrong with it."""
    text = re.sub(r"\\\r?\n", " ", command.strip()).removeprefix("$ ").strip()
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ProfileError(f"cannot split the command: {exc}") from None
    if not words or words[0].rsplit("/", 1)[-1] not in ("curl", "curl.exe"):
        raise ProfileError("not a curl command (it should start with curl)")
    opts, notes = _options(words[1:])
    if not opts["url"]:
        raise ProfileError("no URL in the command")
    parts = urlsplit(opts["url"])
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProfileError(f"{opts['url']!r} is not an http(s) URL")
    path = unquote(parts.path).rstrip("/")
    dialect, m = _route(path, parts.path)
    base = parts._replace(path=m.group("base"), query="", fragment="").geturl()
    body = _body(opts["data"])
    key, key_ref, scheme, headers = _auth(opts["headers"])
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in SECRET_QUERY:  # Gemini's ?key=: sent as x-goog-api-key instead
            key, scheme = _key_value(value) or key, "x-goog-api-key"
            key_ref = _env_ref(value) or key_ref
        elif not (dialect == "gemini" and name == "alt"):
            query[name] = value
    model = m.group("model") if dialect == "gemini" else str(body.pop("model", "") or "")
    messages, system = _messages(dialect, body)
    limits = _limits(dialect, body)
    timeouts = Timeouts(
        connect_s=opts["connect"] if opts["connect"] is not None else Timeouts().connect_s,
        total_s=opts["max_time"],
    )
    profile = Profile(
        name=f"Imported {parts.hostname}",
        dialect=dialect,
        base_url=base,
        model=model,
        auth_scheme="auto" if scheme in (None, _DEFAULT_AUTH[dialect]) else scheme,
        key=key_ref,
        headers=headers,
        query=query,
        proxy=opts["proxy"],
        verify_tls=not opts["insecure"],
        timeouts=timeouts,
        extra_body=body,
        **limits,
    )
    if opts["method"] not in (None, "POST"):
        notes.append(f"-X {opts['method']} ignored: runs are POST requests")
    users = [msg for msg in messages if msg.get("role") == "user"]
    prompt = _text(users[-1].get("content")) if users else None
    return CurlImport(profile, tuple(messages), system, prompt, key, tuple(notes))


def _route(path: str, shown: str) -> tuple[str, re.Match[str]]:
    for pattern, dialect in _ROUTES:
        if m := pattern.match(path):
            return dialect, m
    raise ProfileError(
        f"cannot tell the API from the path {shown!r}: expected /chat/completions, "
        "/responses, /v1/messages, :streamGenerateContent or /api/chat"
    )


def _options(args: list[str]) -> tuple[dict[str, Any], list[str]]:
    opts: dict[str, Any] = {"url": None, "headers": [], "data": [], "method": None, "proxy": None,
                            "insecure": False, "max_time": None, "connect": None}  # fmt: skip
    notes: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _VALUE_OPTS:
            if eq:
                value = inline
            elif i + 1 < len(args):
                i += 1
                value = args[i]
            else:
                raise ProfileError(f"{name} needs a value")
            _option(opts, notes, _VALUE_OPTS[name], name, value)
        elif arg in ("-k", "--insecure"):
            opts["insecure"] = True
        elif arg.startswith("-") and not arg.startswith("--") and set(arg[1:]) <= _FLAGS:
            opts["insecure"] |= "k" in arg
        elif arg.startswith("-"):
            if arg not in _QUIET_LONG:
                notes.append(f"{arg} ignored")
        elif opts["url"] is None:
            opts["url"] = arg
        else:
            notes.append(f"extra argument {arg!r} ignored")
        i += 1
    return opts, notes


def _option(opts: dict[str, Any], notes: list[str], kind: str, name: str, value: str) -> None:
    if kind == "header":
        opts["headers"].append(value)
    elif kind in ("data", "json"):
        if value.startswith("@"):
            raise ProfileError(f"{name} {value} reads the body from a file: paste the body instead")
        opts["data"].append(value)
    elif kind in ("method", "url", "proxy"):
        opts[kind] = value.upper() if kind == "method" else value
    elif kind in ("max_time", "connect"):
        try:
            opts[kind] = float(value)
        except ValueError:
            raise ProfileError(f"{name} {value!r} is not a number of seconds") from None
    elif kind == "agent":
        opts["headers"].append(f"User-Agent: {value}")
    elif kind == "referer":
        opts["headers"].append(f"Referer: {value}")
    elif kind == "user":
        notes.append(f"{name} (basic auth) ignored: use a key header")
    else:
        notes.append(f"{name} ignored")


def _body(data: list[str]) -> dict[str, Any]:
    if not data:
        raise ProfileError("no request body (-d '{...}') in the command")
    raw = "&".join(data)
    try:
        body = safe_loads(raw)
    except ValueError as exc:
        raise ProfileError(f"the request body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise ProfileError("the request body is not a JSON object")
    return body


def _env_ref(value: str) -> KeyRef | None:
    m = _ENV.match(value.strip())
    return KeyRef("env", m.group(1)) if m else None


def _key_value(value: str) -> str | None:
    """The literal key, or None for a placeholder ($VAR, <YOUR_KEY>) or nothing."""
    value = value.strip()
    if _ENV.match(value) or (value.startswith("<") and value.endswith(">")) or not value:
        return None
    return value


def _auth(raw: list[str]) -> tuple[str | None, KeyRef, str | None, dict[str, str]]:
    key: str | None = None
    ref = KeyRef()
    scheme: str | None = None
    headers: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise ProfileError(f"header {item!r} is not 'Name: value'")
        low = name.lower()
        if low in SECRET_HEADERS and low != "proxy-authorization":
            if low == "authorization":
                kind, _, value = value.partition(" ")
                if kind.lower() != "bearer":
                    raise ProfileError(f"Authorization scheme {kind!r} is not supported (Bearer)")
                scheme = "bearer"
            else:
                scheme = low
            key = _key_value(value) or key
            ref = _env_ref(value) or ref
        elif low == "anthropic-version" and value == ANTHROPIC_VERSION:
            continue  # the dialect sends it
        elif low not in _PLAIN_HEADERS and low != "proxy-authorization":
            headers[name] = value
    return key, ref, scheme, headers


def _text(content: Any) -> str:  # a message's content: a string or a list of text parts
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


def _messages(dialect: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    system: str | None = None
    if dialect == "gemini":
        sys_part = body.pop("systemInstruction", None) or body.pop("system_instruction", None)
        if isinstance(sys_part, dict):
            system = _text(sys_part.get("parts"))
        messages = [
            {"role": "assistant" if c.get("role") == "model" else "user",
             "content": _text(c.get("parts"))}
            for c in body.pop("contents", []) if isinstance(c, dict)
        ]  # fmt: skip
        return messages, system
    if dialect == "openai-responses":
        system = body.pop("instructions", None)
        raw = body.pop("input", [])
        raw = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw
    else:
        raw = body.pop("messages", [])
        if dialect == "anthropic":
            system = body.pop("system", None)
            system = _text(system) if isinstance(system, list) else system
    messages = []
    for msg in raw if isinstance(raw, list) else []:
        if isinstance(msg, dict) and msg.get("role") in ("system", "developer") and not system:
            system = _text(msg.get("content"))
        elif isinstance(msg, dict):
            messages.append(msg)
    return messages, system


def _limits(dialect: str, body: dict[str, Any]) -> dict[str, Any]:
    """Pull the token limit and temperature out of the body into profile fields."""
    out: dict[str, Any] = {"max_tokens": None}
    for key in ("stream", "stream_options"):
        body.pop(key, None)
    holder, names = body, ["max_tokens", "max_completion_tokens"]
    if dialect == "openai-responses":
        names = ["max_output_tokens"]
    elif dialect == "gemini":
        holder, names = body.get("generationConfig") or {}, ["maxOutputTokens"]
    elif dialect == "ollama":
        holder, names = body.get("options") or {}, ["num_predict"]
    for name in names:
        if isinstance(holder.get(name), int):
            value = holder.pop(name)
            out["max_tokens"] = value if value >= 1 else None  # Ollama's -1: no limit
            if name == "max_completion_tokens":
                out["max_tokens_field"] = name
    if isinstance(holder.get("temperature"), int | float):
        out["temperature"] = float(holder.pop("temperature"))
    for nested in ("generationConfig", "options"):
        if body.get(nested) == {}:
            body.pop(nested)
    return out

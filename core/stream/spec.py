"""What to send: the run specification the window or the CLI builds, and the HTTP request a
dialect makes of it. Keys live only in `RunSpec.api_key`, never in repr, JSON or logs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "DIALECTS",
    "HttpRequest",
    "RunSpec",
    "Timeouts",
    "mask_headers",
    "mask_url",
    "stop_sequences_sent",
    "usage_requested",
]

DIALECTS = ("openai-chat", "openai-responses", "anthropic", "gemini", "ollama")

_SECRET_HEADERS = {"authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization"}


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; None switches a watchdog off. Defaults per DESIGN §6."""

    connect_s: float | None = 10.0
    first_byte_s: float | None = 60.0
    stall_s: float | None = 60.0  # no generated content for this long after the first byte
    total_s: float | None = None
    soft_stall_s: float = 2.0  # a gap this long that later resumed adds `stall_observed`
    read_s: float | None = None  # httpx's own read timeout; above the watchdogs by default


@dataclass(frozen=True, slots=True)
class RunSpec:
    dialect: str
    base_url: str
    model: str
    messages: tuple[dict[str, Any], ...] = ()
    system: str | None = None
    max_tokens: int | None = 1024
    max_tokens_field: str = "max_tokens"  # chat only: or "max_completion_tokens"
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    include_usage: bool = True
    tools: tuple[dict[str, Any], ...] = ()
    reasoning_effort: str | None = None  # OpenAI chat / Responses
    thinking_budget: int | None = None  # Anthropic extended thinking
    extra_body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)
    auth_scheme: str = "auto"  # auto | bearer | x-api-key | x-goog-api-key | api-key | none
    previous_response_id: str | None = None  # Responses continuation
    continue_final_message: bool = False  # vLLM / llama.cpp: continue the assistant turn
    prefill_supported: bool = True  # Anthropic: newer models answer prefill with a 400
    max_tokens_cap: int = 32768  # "Retry with more tokens" doubles up to this
    timeouts: Timeouts = field(default_factory=Timeouts)
    profile: str = "mock"
    proxy: str | None = None
    verify_tls: bool = True

    def redacted_request(self) -> HttpRequest:
        from core.stream.dialects import build_request

        try:
            return build_request(self).redacted()
        except (ValueError, KeyError, TypeError):
            return HttpRequest("POST", self.base_url, {}, {})

    def with_changes(self, **changes: Any) -> RunSpec:
        return replace(self, **changes)

    @staticmethod
    def user(prompt: str) -> tuple[dict[str, Any], ...]:
        return ({"role": "user", "content": prompt},)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any]

    def redacted(self) -> HttpRequest:
        return replace(self, headers=mask_headers(self.headers), url=_mask_query_key(self.url))


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    masked = {}
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            masked[name] = f"{scheme} ***" if rest else "***"
        else:
            masked[name] = value
    return masked


def _mask_query_key(url: str) -> str:
    import re
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a broken IPv6 host: mask by shape
        url = re.sub(r"(?i)([?&](?:key|api-key|api_key)=)[^&#]*", r"\1***", url)
        return re.sub(r"^([a-z][a-z0-9+.-]*://[^/@:]*:)[^/@]*@", r"\1***@", url, flags=re.I)
    try:
        password = parts.password
    except ValueError:
        password = None
    if password is not None:  # https://user:secret@host → https://user:***@host
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    if not parts.query:
        return url if password is None else urlunsplit(parts)
    pairs = [
        (k, "***" if k.lower() in ("key", "api-key", "api_key") else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="*:")))


def mask_url(url: str) -> str:
    """A URL as it may be shown: its password and `key=`-style query values masked."""
    return _mask_query_key(url)


def usage_requested(dialect: str, body: dict[str, Any]) -> bool:
    if dialect == "openai-chat":
        options = body.get("stream_options")
        return isinstance(options, dict) and bool(options.get("include_usage"))
    return True


def stop_sequences_sent(dialect: str, body: dict[str, Any]) -> bool:
    """Whether the request asked for stop sequences (wherever the dialect puts them), so a
    plain stop may mean one matched."""
    if not isinstance(body, dict):
        return False
    if dialect == "openai-chat":
        found: Any = body.get("stop")
    elif dialect == "gemini":
        config = body.get("generationConfig")
        found = config.get("stopSequences") if isinstance(config, dict) else None
    elif dialect == "ollama":
        options = body.get("options")
        found = options.get("stop") if isinstance(options, dict) else None
    else:
        found = body.get("stop_sequences")
    return bool(found)

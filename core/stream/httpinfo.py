"""Facts read off an HTTP response before any stream parsing: status, request id,
Retry-After, content type, and the provider's own error message. Pure."""

from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Mapping

from core.stream.outcome import HttpInfo
from core.stream.safejson import loads as safe_loads

__all__ = [
    "error_message",
    "gateway_of",
    "http_info",
    "is_stream_content_type",
    "parse_retry_after",
]

_STREAM_TYPES = (
    "text/event-stream",
    "application/x-ndjson",
    "application/jsonl",
    "application/json-seq",
    "application/stream+json",
    "application/x-jsonlines",
)


def _get(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """`retry-after-ms` first, then `Retry-After` as seconds or an HTTP date. Not capped."""
    ms = _get(headers, "retry-after-ms")
    if ms is not None:
        try:
            value = float(ms)
        except ValueError:
            value = -1.0
        if 0 <= value < float("inf"):
            return value / 1000
    raw = _get(headers, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:  # asctime form carries no zone; HTTP dates are GMT
            when = when.replace(tzinfo=datetime.UTC)
        now = time.time() if now is None else now
        return max(0.0, when.timestamp() - now)
    return seconds if 0 <= seconds < float("inf") else None


def media_type(headers: Mapping[str, str]) -> str | None:
    raw = _get(headers, "content-type")
    return raw.split(";")[0].strip().lower() if raw else None


def is_stream_content_type(content_type: str | None, dialect: str) -> bool:
    if content_type is None:
        return dialect == "ollama"  # some Ollama proxies drop it; the body decides
    return content_type in _STREAM_TYPES or (dialect == "ollama" and content_type == "text/plain")


# Response headers that name a gateway (DESIGN §3): (prefix of the lower-cased name, gateway).
_GATEWAYS = (
    ("x-litellm-", "LiteLLM"),
    ("x-openrouter-", "OpenRouter"),
    ("x-portkey-", "Portkey"),
    ("helicone-", "Helicone"),
    ("cf-aig-", "Cloudflare AI Gateway"),
)


def gateway_of(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(gateway name, the header that shows it) when the response came through a gateway.

    OpenRouter also shows itself by `x-generation-id` with a `gen-` value (its generation
    ids), which no provider sends."""
    for key, value in headers.items():
        name = key.lower()
        for prefix, gateway in _GATEWAYS:
            if name.startswith(prefix):
                return gateway, name
        if name == "x-generation-id" and str(value).startswith("gen-"):
            return "OpenRouter", name
    return None


def http_info(status: int, headers: Mapping[str, str], now: float | None = None) -> HttpInfo:
    gateway = gateway_of(headers)
    return HttpInfo(
        status=status,
        request_id=_get(headers, "x-request-id") or _get(headers, "request-id"),
        retry_after_s=parse_retry_after(headers, now),
        content_type=media_type(headers),
        gateway=gateway[0] if gateway else None,
        gateway_header=gateway[1] if gateway else None,
    )


def error_message(body: bytes, limit: int = 300) -> str:
    """The provider's own words from an error body, whatever its shape."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return ""
    try:
        obj = safe_loads(text)
    except ValueError:
        if text.lstrip().lower().startswith(("<!doctype", "<html")):
            return "an HTML page, not an API error"
        return " ".join(text.split())[:limit]
    for candidate in _messages(obj):
        return candidate[:limit]
    return " ".join(text.split())[:limit]


def _messages(obj: object) -> list[str]:
    if isinstance(obj, list) and obj:
        return _messages(obj[0])
    if not isinstance(obj, dict):
        return []
    err = obj.get("error")
    if isinstance(err, str):
        return [err]
    if isinstance(err, dict):
        msg = err.get("message")
        if isinstance(msg, str):
            kind = err.get("type") or err.get("status") or err.get("code")
            return [f"{kind}: {msg}" if isinstance(kind, str) and kind else msg]
    for key in ("message", "detail", "msg"):
        if isinstance(obj.get(key), str):
            return [obj[key]]
    return []

"""Masking the key in use out of everything a server sends back, before it is stored. Pure.

A server may echo the key (as generated text, in an error message, in a header). The body is
masked as bytes, before it is decoded, recorded or shown, so a key split across two network
reads is caught: the tail of a read that could be the start of the key (at most the key's
length minus one bytes) is held back until the next read or the end of the body.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.stream.spec import HttpRequest, mask_url

__all__ = [
    "MASK",
    "KeyMasker",
    "mask_key_in",
    "recover_echoed_key",
    "redact_request",
    "shown_headers",
]

MASK = "***"
_MASK_BYTES = MASK.encode()


class KeyMasker:
    """`feed(read) -> what is safe to keep now`, `flush() -> the held tail` at the end;
    `echoed` once the key was seen. Works on bytes (network reads) or, with `text=True`, on
    str (a run of generated text deltas, where a model may emit the key token by token).
    With no key it passes everything through untouched."""

    __slots__ = ("_held", "_keys", "_mask", "echoed")

    def __init__(self, key: str | None, *, text: bool = False) -> None:
        forms: list[Any] = []
        if key and text:
            forms = [key]
        elif key:  # bytes: also as a JSON encoder may write it (PHP's and Java's escape "/")
            forms = list(dict.fromkeys([key.encode(), key.replace("/", "\\/").encode()]))
        self._keys: tuple[Any, ...] = tuple(forms)
        self._mask: Any = MASK if text else _MASK_BYTES
        self._held: Any = "" if text else b""
        self.echoed = False

    @property
    def held(self) -> int:
        return len(self._held)

    def feed(self, data: Any) -> Any:
        keys = self._keys
        if not keys:
            return data
        buf = self._held + data if self._held else data
        for key in keys:
            if key in buf:
                self.echoed = True
                buf = buf.replace(key, self._mask)
        keep = max(_prefix_tail(buf, key) for key in keys)
        if keep:
            self._held = buf[-keep:]
            return buf[:-keep]
        self._held = buf[:0]
        return buf

    def flush(self) -> Any:
        held, self._held = self._held, self._held[:0]
        return held


def _prefix_tail(buf: Any, key: Any) -> int:
    """Length of the longest tail of `buf` that is a proper prefix of `key` (0 if none)."""
    first = key[:1]
    start = max(0, len(buf) - len(key) + 1)
    pos = buf.find(first, start)
    while pos != -1:
        if key.startswith(buf[pos:]):
            return len(buf) - pos
        pos = buf.find(first, pos + 1)
    return 0


def mask_key_in(value: Any, key: str | None) -> Any:
    """The key masked in a string, or in every string of a JSON-like value."""
    if not key:
        return value
    if isinstance(value, str):
        return value.replace(key, MASK) if key in value else value
    if isinstance(value, dict):
        return {mask_key_in(k, key): mask_key_in(v, key) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_key_in(v, key) for v in value)
    return value


def redact_request(request: HttpRequest, key: str | None) -> HttpRequest:
    """The request as it may be shown or saved: auth headers, `key=` query values and URL
    passwords masked (`HttpRequest.redacted`), and the key in use masked wherever else it
    sits (a custom header, the path, the body)."""
    red = request.redacted()
    if not key:
        return red
    return replace(
        red,
        url=mask_key_in(red.url, key),
        headers=mask_key_in(red.headers, key),
        body=mask_key_in(red.body, key),
    )


def recover_echoed_key(replayed: str, recorded: Any, min_len: int = 8) -> str | None:
    """A saved run's chunks may hold a key a model echoed token by token (no single read
    held it whole); the verdict saved with it has the key masked. Where the replayed text
    and the saved text differ only by one span masked as `***`, that span is the key."""
    if not isinstance(recorded, str) or MASK not in recorded or replayed == recorded:
        return None
    head = recorded.index(MASK)
    tail = len(recorded) - head - len(MASK)
    if replayed[:head] != recorded[:head] or (tail and replayed[-tail:] != recorded[-tail:]):
        return None
    key = replayed[head : len(replayed) - tail]
    return key if len(key) >= min_len and MASK not in key and key.strip() == key else None


def shown_headers(headers: dict[str, str], key: str | None) -> dict[str, str]:
    """Response headers as they may be shown or saved: the key in use masked, and a
    redirect's URL with its password and `key=` value masked."""
    shown = mask_key_in(headers, key)
    if "location" in shown:
        shown["location"] = mask_url(shown["location"])
    return shown

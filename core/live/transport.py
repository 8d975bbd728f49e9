"""What touches httpx besides the stream itself: the shared client, its timeouts, the
checks that refuse a request httpx could not send, and masking a key in any message."""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx

from core.live import netstamp
from core.live.bodyreader import direct_body
from core.stream.spec import HttpRequest, RunSpec

__all__ = ["aiter_decoded", "check_request", "httpx_timeout", "new_client", "why"]


def new_client(
    proxy: str | None = None, verify: bool = True, *, read_thread: bool = False
) -> httpx.AsyncClient:
    """One client per app (its creation costs ~100 ms): pass it to every `run()`. Its sockets
    are stamped by the kernel as bytes arrive (`netstamp`), so a read's time is the network's;
    with `read_thread` a thread takes the bytes off the sockets as they land (`netreader`),
    for a process whose loop has many streams to parse (the engine)."""
    client = httpx.AsyncClient(
        proxy=proxy,
        verify=verify,
        timeout=None,
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=8),
    )
    netstamp.install(client, read_thread=read_thread)
    return client


def httpx_timeout(spec: RunSpec) -> httpx.Timeout:
    t = spec.timeouts
    if t.read_s is not None:
        read = t.read_s
    else:
        active = [s for s in (t.first_byte_s, t.stall_s, t.total_s) if s]
        read = max(active) + 30.0 if active else None
    return httpx.Timeout(connect=t.connect_s, read=read, write=t.connect_s, pool=t.connect_s)


def check_request(request: HttpRequest) -> None:
    """Refuse what httpx could not send, with a message that never quotes a secret."""
    redacted = request.redacted()
    try:
        parts = urlsplit(request.url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(f"the URL {redacted.url!r} is not an http(s) URL with a host and port")
    for name, value in request.headers.items():
        bad = not value.isascii() or any(ch in value for ch in "\r\n\0")
        if bad or not name.isascii() or not name.strip():
            secret = name.lower() in _SECRET_HEADER_NAMES
            what = "the API key" if secret else f"the header {name!r}"
            raise ValueError(
                f"{what} contains a character HTTP headers cannot carry "
                "(a line break or a non-ASCII character)"
            )
    try:
        json.dumps(request.body, allow_nan=False)
    except ValueError:
        raise ValueError("the body holds NaN or Infinity, which JSON cannot carry") from None
    except TypeError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None


_SECRET_HEADER_NAMES = {"authorization", "x-api-key", "api-key", "x-goog-api-key"}


def why(exc: BaseException, *, before_response: bool = False) -> str:
    text = str(exc) or type(exc).__name__
    if before_response and "Receive buffer too long" in text:
        # httpcore gives h11 a 100 KiB limit for an incomplete event: the header block
        return (
            "the response headers are larger than the HTTP client accepts "
            "(over 100 KiB), so no response was read"
        )
    return " ".join(text.split())[:200]


_GZIP = ("gzip", "x-gzip")
_PIECE = 1024 * 1024  # a compressed read expands to pieces of at most this (a bomb's 64 MiB)


def _raw_reads(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body's reads straight off an HTTP/1.1 connection (`bodyreader`: a fraction of
    httpx's cost per read), or through httpx where that does not apply."""
    direct = direct_body(response)
    return direct if direct is not None else response.aiter_raw()


async def aiter_decoded(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body decompressed like `aiter_bytes()`, but a gzip or deflate read never expands
    in one go: a gzip bomb's 64 KiB read (64 MiB inflated) comes out in 1 MiB pieces, so the
    caps can stop it before it is held. Other encodings are left to httpx."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):  # nothing to decode: the raw reads, as they come
        async for data in _raw_reads(response):
            yield data
        return
    if encoding not in (*_GZIP, "deflate"):
        async for data in response.aiter_bytes():
            yield data
        return
    wbits = zlib.MAX_WBITS | 16 if encoding in _GZIP else zlib.MAX_WBITS
    inflate = zlib.decompressobj(wbits)
    first = True
    try:
        async for raw in _raw_reads(response):
            if first and encoding == "deflate" and raw[:1] and raw[0] & 0x0F != 8:
                inflate = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as httpx allows
            first = False
            data = inflate.decompress(raw, _PIECE)
            while True:
                if data:
                    yield data
                if not inflate.unconsumed_tail:
                    break
                data = inflate.decompress(inflate.unconsumed_tail, _PIECE)
        tail = inflate.flush()
        if tail:
            yield tail
    except zlib.error as exc:
        raise httpx.DecodingError(f"the body does not decompress as {encoding}: {exc}") from None

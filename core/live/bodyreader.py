"""A streamed HTTP/1.1 body read straight off its connection, once httpx has the headers.

Why: httpx hands each network read up through six async generators and h11's event machine
(about 20 µs a read, measured), and a fast stream is one read a token. Here a read is one
call on the network stream and a dechunk of the bytes it brought; what comes out is the
same body, read for read.

It applies only where the response is what httpx builds over httpcore's HTTP/1.1 connection
(no HTTP/2, no custom transport or stream): `direct_body` returns None otherwise, and the
caller reads through httpx as before. httpx has no public way to reach the connection, so
this walks private attributes; tests fail if a future httpx or httpcore moves them.

The body is framed as h11 frames it (chunked, Content-Length, or read to the close) with
h11's checks and its error messages, raised as httpx's exceptions. After a cleanly ended
chunked body, h11 is told the body ended, so the connection goes back to the pool and the
next request reuses it; any other ending closes the connection, as httpcore does for a body
read only in part.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpcore
import httpx

__all__ = ["direct_body"]

READ_SIZE = 64 * 1024  # httpcore's own read size
_LINE_LIMIT = 100 * 1024  # a chunk header or trailer block longer than this is refused
# h11's chunk header: 1-20 hex digits, any extension, optional whitespace, CRLF.
_CHUNK_HEADER = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_INCOMPLETE_CHUNKED = (
    "peer closed connection without sending complete message body (incomplete chunked read)"
)


class _Dechunker:
    """Chunked transfer coding, fed a read at a time; `feed` returns the payload bytes the
    read completed or continued, and `ended` turns True after the trailers."""

    def __init__(self) -> None:
        self._pending = b""  # an incomplete chunk header, footer or trailer block
        self._left = 0  # payload bytes left in the current chunk
        self._footer = 0  # bytes of the CRLF after a chunk's payload still to come
        self._trailer = False
        self.ended = False
        # a framing error found in a read: raised once the payload before it is handed on
        # (as h11 gives the chunks before a bad one)
        self.error: httpx.RemoteProtocolError | None = None

    def feed(self, data: bytes) -> bytes:
        out: list[bytes] = []
        try:
            self._feed(data, out)
        except httpx.RemoteProtocolError as exc:
            self.error = exc
        return out[0] if len(out) == 1 else b"".join(out)

    def _feed(self, data: bytes, out: list[bytes]) -> None:
        if self._pending:
            data, self._pending = self._pending + data, b""
        pos, end = 0, len(data)
        while pos < end and not self.ended:
            if self._left:
                take = min(self._left, end - pos)
                out.append(data[pos : pos + take])
                self._left -= take
                pos += take
                if not self._left:
                    self._footer = 2
            elif self._footer:
                expected = b"\r\n"[2 - self._footer :]
                got = data[pos : pos + self._footer]
                if got != expected[: len(got)]:
                    raise httpx.RemoteProtocolError(
                        f"malformed chunk footer: {got!r} (expected {expected!r})"
                    )
                self._footer -= len(got)
                pos += len(got)
            elif self._trailer:
                if data[pos : pos + 2] == b"\r\n" or data[pos : pos + 1] == b"\n":
                    self.ended = True
                    pos += 2 if data[pos : pos + 1] == b"\r" else 1
                    break
                match = _BLANK_LINE.search(data, pos)
                if match is None:
                    self._hold(data[pos:], "trailer")
                    break
                self.ended, pos = True, match.end()
            else:
                line_end = data.find(b"\r\n", pos)
                if line_end < 0:
                    self._hold(data[pos:], "chunk header")
                    break
                header = data[pos:line_end]
                match = _CHUNK_HEADER.fullmatch(header)
                if match is None:
                    raise httpx.RemoteProtocolError(f"illegal chunk header: {header!r}")
                self._left = int(match.group(1), 16)
                pos = line_end + 2
                if not self._left:
                    self._trailer = True
        self.rest = data[pos:] if self.ended else b""

    def _hold(self, tail: bytes, what: str) -> None:
        if len(tail) > _LINE_LIMIT:
            raise httpx.RemoteProtocolError(f"the {what} is longer than {_LINE_LIMIT} bytes")
        self._pending = tail

    rest = b""  # bytes after the body's end (a well-behaved server sends none)


def _parts(response: httpx.Response) -> tuple[Any, h11.Connection] | None:
    """(httpcore's HTTP/1.1 connection, its h11 state) behind an httpx response, or None
    where the response is anything else."""
    bound = response.stream
    inner = getattr(bound, "_stream", None)
    pool_stream = getattr(inner, "_httpcore_stream", None)
    byte_stream = getattr(pool_stream, "_stream", None)
    if not isinstance(byte_stream, httpcore._async.http11.HTTP11ConnectionByteStream):
        return None
    connection = getattr(byte_stream, "_connection", None)
    state = getattr(connection, "_h11_state", None)
    if not isinstance(state, h11.Connection) or state.their_state is not h11.SEND_BODY:
        return None
    if getattr(connection, "_network_stream", None) is None:
        return None
    return connection, state


def direct_body(response: httpx.Response) -> AsyncIterator[bytes] | None:
    """The body's bytes, one piece per network read, read past httpx; None where the
    response is not a plain HTTP/1.1 one (read it through httpx then)."""
    if response.is_stream_consumed or response.is_closed:
        return None
    parts = _parts(response)
    if parts is None:
        return None
    headers = response.headers
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    length: int | None = None
    if not chunked and "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            return None
    return _read(response, *parts, chunked, length)


async def _read(
    response: httpx.Response,
    connection: Any,
    state: h11.Connection,
    chunked: bool,
    length: int | None,
) -> AsyncIterator[bytes]:
    request = response.request
    net = connection._network_stream
    timeout = request.extensions.get("timeout", {}).get("read")
    trace = request.extensions.get("trace")
    response.is_stream_consumed = True  # as httpx marks it: the body cannot be read twice
    data, closed = state.trailing_data
    dechunker = _Dechunker() if chunked else None
    got = 0
    if trace is not None:
        await trace("http11.receive_response_body.started", {"request": request})
    try:
        while True:
            if not data and not closed:
                try:
                    data = await net.read(READ_SIZE, timeout)
                except httpcore.ReadTimeout as exc:
                    raise httpx.ReadTimeout(str(exc), request=request) from exc
                except httpcore.NetworkError as exc:
                    raise httpx.ReadError(str(exc), request=request) from exc
                closed = not data
            if dechunker is not None:
                if data:
                    body = dechunker.feed(data)
                    if body:
                        yield body
                    if dechunker.error is not None:
                        raise dechunker.error
                    if dechunker.ended:
                        break
                if closed:
                    raise httpx.RemoteProtocolError(_INCOMPLETE_CHUNKED, request=request)
            elif length is not None:
                body = data[: length - got]
                got += len(body)
                if body:
                    yield body
                if got >= length:
                    break
                if closed:
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body "
                        f"(received {got} bytes, expected {length})",
                        request=request,
                    )
            else:  # read to the close
                if data:
                    yield data
                if closed:
                    break
            data = b""
    except BaseException:
        if trace is not None:
            await trace("http11.receive_response_body.failed", {"request": request})
        raise
    if trace is not None:
        await trace("http11.receive_response_body.complete", {"request": request})
    if dechunker is not None and not dechunker.rest:
        _body_ended(state)
    await response.aclose()  # back to the pool if h11 agrees the body ended, else closed


def _body_ended(state: h11.Connection) -> None:
    """Tell h11 the chunked body ended (it never saw it): a fresh buffer and the last chunk,
    so its state reads DONE and httpcore keeps the connection. Left as it was if h11 has
    changed inside: then httpcore closes the connection, which is merely slower."""
    try:
        buffer = type(state._receive_buffer)()
        state._receive_buffer = buffer
        state.receive_data(b"0\r\n\r\n")
        while True:
            event = state.next_event()
            if event is h11.NEED_DATA or isinstance(event, h11.EndOfMessage):
                break
    except Exception:  # h11 moved on: the connection is simply not reused
        return

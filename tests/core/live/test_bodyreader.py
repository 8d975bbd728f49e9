"""A streamed body read straight off its HTTP/1.1 connection (`core.live.bodyreader`): the same
bytes and errors as httpx's own reading, with the connection reused after a clean end.

A raw loopback server writes exact bytes, so framing the aiohttp-based servers never send
(chunk extensions, trailers, bytes past the end) is real on the wire."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import h11
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import new_client
from core.live.bodyreader import _Dechunker, direct_body
from core.live.transport import aiter_decoded

OK_CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@dataclass
class RawServer:
    url: str
    connections: int = 0
    replies: list[bytes] = field(default_factory=list)  # one per request, in order


@asynccontextmanager
async def raw_server(replies: Sequence[bytes]) -> AsyncIterator[RawServer]:
    """Answers each request with the next reply's exact bytes; a reply that does not say how
    its body ends is followed by a close."""
    state = RawServer("", replies=list(replies))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            while state.replies:
                await reader.readuntil(b"\r\n\r\n")
                reply = state.replies.pop(0)
                writer.write(reply)
                await writer.drain()
                if b"Transfer-Encoding: chunked" not in reply or not reply.endswith(b"0\r\n\r\n"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}/"
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


async def body_of(client: httpx.AsyncClient, url: str) -> bytes:
    async with client.stream("GET", url) as response:
        assert direct_body(response) is not None  # fails if httpx/httpcore moved inside
        return b"".join([piece async for piece in aiter_decoded(response)])


def chunked(*pieces: bytes, trailer: bytes = b"") -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
    return OK_CHUNKED + body + b"0\r\n" + trailer + b"\r\n"


async def read_all(replies: Sequence[bytes]) -> tuple[list[bytes], int]:
    """Every reply's body, read in turn by one client, and how many connections it made."""
    async with raw_server(replies) as server:
        client = new_client()
        try:
            bodies = [await body_of(client, server.url) for _ in replies]
        finally:
            await client.aclose()
    return bodies, server.connections


async def test_a_chunked_body_reads_whole_and_the_connection_is_reused() -> None:
    first = chunked(b"data: one\n\n", b"data: two\n\n")
    second = OK_CHUNKED + b"5;name=value\r\nhello\r\n6 \r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
    bodies, connections = await read_all([first, second])
    assert bodies == [b"data: one\n\ndata: two\n\n", b"hello world"] and connections == 1


async def test_bytes_past_the_end_of_a_body_close_the_connection() -> None:
    bodies, connections = await read_all([chunked(b"abc") + b"junk", chunked(b"def")])
    assert bodies == [b"abc", b"def"] and connections == 2


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (OK_CHUNKED + b"a\r\n01234", "incomplete chunked read"),
        (OK_CHUNKED + b"zz\r\nabc\r\n", "illegal chunk header"),
        (OK_CHUNKED + b"3\r\nabcXY", "malformed chunk footer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", "received 5 bytes, expected 10"),
    ],
)
async def test_a_broken_body_raises_httpx_protocol_error_with_h11s_words(
    reply: bytes, message: str
) -> None:
    async with raw_server([reply]) as server:
        client = new_client()
        try:
            with pytest.raises(httpx.RemoteProtocolError, match=message):
                await body_of(client, server.url)
        finally:
            await client.aclose()


async def test_chunks_before_a_bad_one_in_the_same_read_are_handed_on_first() -> None:
    """As h11 does: the payload framed before the error is read, then the error raised."""
    reply = OK_CHUNKED + b"3\r\nabc\r\nzz\r\n"
    pieces: list[bytes] = []
    async with raw_server([reply]) as server:
        client = new_client()
        try:
            async with client.stream("GET", server.url) as response:
                with pytest.raises(httpx.RemoteProtocolError, match="illegal chunk header"):
                    async for piece in aiter_decoded(response):
                        pieces.append(piece)
        finally:
            await client.aclose()
    assert pieces == [b"abc"]


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello",  # read to the close
    ],
)
async def test_a_body_framed_by_length_or_by_the_close_reads_whole(reply: bytes) -> None:
    assert (await read_all([reply]))[0] == [b"hello"]


async def test_a_plain_httpx_client_is_read_by_httpx() -> None:
    """A transport that is not httpcore's HTTP/1.1 (here a mock transport) is left to httpx."""

    async def parts() -> AsyncIterator[bytes]:
        yield b"h"
        yield b"i"

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=parts()))
    async with (
        httpx.AsyncClient(transport=transport) as client,
        client.stream("GET", "http://example.invalid/") as response,
    ):
        assert direct_body(response) is None
        assert b"".join([p async for p in aiter_decoded(response)]) == b"hi"


@given(
    pieces=st.lists(st.binary(min_size=1, max_size=40), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    extension=st.sampled_from([b"", b";x=1", b" "]),
    trailer=st.sampled_from([b"", b"A: b\r\n", b"A: b\r\nC: d\r\n"]),
)
def test_any_split_of_a_chunked_body_gives_its_payload_as_h11_reads_it(
    pieces: list[bytes], cuts: list[int], extension: bytes, trailer: bytes
) -> None:
    wire = b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension, p) for p in pieces)
    wire += b"0\r\n" + trailer + b"\r\nREST"
    dechunker = _Dechunker()
    out = []
    bounds = sorted({0, len(wire), *(c for c in cuts if c < len(wire))})
    for a, b in itertools.pairwise(bounds):
        if dechunker.ended:
            break
        out.append(dechunker.feed(wire[a:b]))
        if dechunker.ended:
            rest = dechunker.rest + wire[b:]
    assert dechunker.ended and b"".join(out) == b"".join(pieces) and rest == b"REST"
    # h11, reading the same bytes, agrees on the payload
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(OK_CHUNKED + wire[: len(wire) - 4])
    got = b""
    while True:
        event = conn.next_event()
        if isinstance(event, h11.Data):
            got += event.data
        if isinstance(event, h11.EndOfMessage) or event is h11.NEED_DATA:
            break
    assert got == b"".join(pieces)

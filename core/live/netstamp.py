"""The network's own read times: an httpcore network backend whose sockets ask the kernel to
stamp every segment as it arrives (Linux `SO_TIMESTAMPNS`), so a read's time is the moment
its bytes reached this machine, not the moment a busy event loop got round to it.

Why not httpcore's own backend: it reads through asyncio transports, which call `recv()` and
drop the ancillary data that carries the stamp. This one reads with `recvmsg()` and keeps it.
TLS runs over memory BIOs on top (as httpcore's sync TLS-in-TLS stream does), so a decrypted
read carries the stamp of the raw read that completed its record.

`arrival_ns` is on `time.monotonic_ns`'s clock. Where the kernel gives no stamp (another OS,
a Unix socket) it is the monotonic time the read returned, which is what we had before.

A read that takes several segments at once (the reader was late by more than the gap
between two writes) carries the stamp of the last of them: that is the one limit left.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore

from core.live import readerproc
from core.live.netreader import READ_SIZE, ReadBuffer, Reader, shared_reader

__all__ = ["StampingBackend", "arrival_ns", "install"]

_SO_TIMESTAMPNS = readerproc.SO_TIMESTAMPNS
_ANC_SIZE = readerproc.ANC_SIZE
_kernel_stamp = readerproc.kernel_stamp
_to_monotonic = readerproc.to_monotonic

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


def arrival_ns(stream: Any) -> int | None:
    """The monotonic arrival time of the latest read on an httpcore network stream, or None
    when the stream is not one of ours (then the caller stamps with its own clock)."""
    return getattr(stream, "arrival_ns", None)


def install(client: Any, *, read_thread: bool = False) -> bool:
    """Put the stamping backend under every connection pool of an `httpx.AsyncClient` (its
    own transport and any proxy mounts). httpx has no public hook for this, so it sets the
    pool's backend attribute; False (and nothing changed) if a future httpx moved it."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    pools = [getattr(t, "_pool", None) for t in transports if t is not None]
    pools = [p for p in pools if p is not None and hasattr(p, "_network_backend")]
    if not pools:
        return False
    backend = StampingBackend(read_thread=read_thread)
    for pool in pools:
        pool._network_backend = backend
    return True


class _SocketStream(httpcore.AsyncNetworkStream):
    def __init__(self, sock: socket.socket, reader: Reader | None = None) -> None:
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._ancillary = 0
        if _SO_TIMESTAMPNS is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                self._ancillary = _ANC_SIZE
            except OSError:
                pass
        self.arrival_ns: int | None = None
        self._reader = reader
        self._buffer: ReadBuffer | None = None
        if reader is not None:  # a thread takes every segment off the socket as it lands
            self._buffer = ReadBuffer(sock, self._loop, self._receive)
            reader.add(self._buffer)

    def _receive(self, max_bytes: int = READ_SIZE) -> tuple[bytes, int]:
        """One non-blocking read and its arrival on the monotonic clock."""
        if self._ancillary:
            data, anc, _flags, _addr = self._sock.recvmsg(max_bytes, self._ancillary)
        else:
            data, anc = self._sock.recv(max_bytes), []
        return data, _to_monotonic(_kernel_stamp(anc))

    async def _wait(self, add: Any, remove: Any) -> None:
        fd = self._sock.fileno()
        if fd < 0:
            raise OSError("the socket is closed")
        ready = self._loop.create_future()
        add(fd, lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            remove(fd)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._buffer is not None and self._reader is not None:
            try:  # bytes the thread already holds need no timeout (a fast stream's usual read)
                got = self._buffer.take(max_bytes, self._reader)
            except OSError as exc:
                raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc
            if got is not None:
                data, stamp = got
                self.arrival_ns = stamp if stamp is not None else time.monotonic_ns()
                return data
        try:
            async with asyncio.timeout(timeout):
                if self._buffer is not None and self._reader is not None:
                    data, stamp = await self._buffer.read(max_bytes, self._reader)
                    self.arrival_ns = stamp if stamp is not None else time.monotonic_ns()
                    return data
                while True:
                    try:
                        data, self.arrival_ns = self._receive(max_bytes)
                        return data
                    except (BlockingIOError, InterruptedError):
                        await self._wait(self._loop.add_reader, self._loop.remove_reader)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(f"no data within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                await self._loop.sock_sendall(self._sock, buffer)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f"could not send within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        if self._buffer is not None and self._reader is not None:
            self._reader.forget(self._buffer)  # the reader is done with it: close is safe
            # the reader process holds a copy until it has read the forget: the peer sees the
            # connection end now, not then
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await _TLSStream.wrap(self, ssl_context, server_hostname, timeout)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._buffer is not None and self._buffer.readable():
            return True
        if info == "socket":
            return self._sock
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "is_readable":  # an idle pooled connection that is readable has closed
            if self._sock.fileno() < 0:
                return True
            readable, _, _ = select.select([self._sock], [], [], 0)
            return bool(readable)
        return None


class _TLSStream(httpcore.AsyncNetworkStream):
    """TLS over any of our streams (a socket, or TLS itself for HTTPS through an HTTPS proxy)."""

    def __init__(
        self, inner: httpcore.AsyncNetworkStream, context: ssl.SSLContext, hostname: str | None
    ) -> None:
        self._inner = inner
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(
            self._incoming, self._outgoing, server_side=False, server_hostname=hostname
        )

    @property
    def arrival_ns(self) -> int | None:
        return arrival_ns(self._inner)

    @classmethod
    async def wrap(
        cls,
        inner: httpcore.AsyncNetworkStream,
        context: ssl.SSLContext,
        hostname: str | None,
        timeout: float | None,
    ) -> _TLSStream:
        try:
            stream = cls(inner, context, hostname)
            async with asyncio.timeout(timeout):
                await stream._retry(stream._tls.do_handshake, timeout)
        except TimeoutError as exc:
            await inner.aclose()
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from exc
        except (ssl.SSLError, httpcore.NetworkError, OSError) as exc:
            await inner.aclose()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return stream

    async def _flush(self, timeout: float | None) -> None:
        data = self._outgoing.read()
        if data:
            await self._inner.write(data, timeout)

    async def _retry(self, step: Any, timeout: float | None, *args: Any) -> Any:
        while True:
            try:
                result = step(*args)
            except ssl.SSLWantReadError:
                await self._flush(timeout)
                raw = await self._inner.read(65536, timeout)
                if raw:
                    self._incoming.write(raw)
                else:
                    self._incoming.write_eof()
            else:
                await self._flush(timeout)
                return result

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return await self._retry(self._tls.read, timeout, max_bytes)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""  # a closed TLS session (clean or ragged) reads as the end of the stream
        except ssl.SSLError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            await self._retry(self._tls.write, timeout, buffer)
        except ssl.SSLError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await _TLSStream.wrap(self, ssl_context, server_hostname, timeout)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._tls
        return self._inner.get_extra_info(info)


class StampingBackend(httpcore.AsyncNetworkBackend):
    """With `read_thread`, the process's reader thread (`netreader`) takes bytes off every
    socket as they land, however busy the loop; without, the loop reads them itself."""

    def __init__(self, *, read_thread: bool = False) -> None:
        self._read_thread = read_thread

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                errors: list[OSError] = []
                for family, kind, proto, _name, address in infos:
                    sock = socket.socket(family, kind, proto)
                    try:
                        sock.setblocking(False)
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        for option in socket_options or ():
                            sock.setsockopt(*option)
                        if local_address is not None:
                            sock.bind((local_address, 0))
                        await loop.sock_connect(sock, address)
                    except OSError as exc:
                        sock.close()
                        errors.append(exc)
                        continue
                    except BaseException:
                        sock.close()
                        raise
                    return _SocketStream(sock, shared_reader() if self._read_thread else None)
                raise errors[0] if errors else OSError(f"no address for {host}")
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"could not connect within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            for option in socket_options or ():
                sock.setsockopt(*option)
            async with asyncio.timeout(timeout):
                await loop.sock_connect(sock, path)
        except TimeoutError as exc:
            sock.close()
            raise httpcore.ConnectTimeout(f"could not connect within {timeout} s") from exc
        except OSError as exc:
            sock.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return _SocketStream(sock)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

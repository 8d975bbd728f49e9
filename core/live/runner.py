"""The one place that streams: request → reader → decoder → dialect → events → verdict.

Transport errors become verdicts here and nowhere else:

    httpx.ConnectError, ConnectTimeout, PoolTimeout, OSError  → interrupted/connect_failed
    httpx.ReadError, RemoteProtocolError, WriteError          → interrupted/connection_reset
    httpx.ReadTimeout                                          → interrupted/read_timeout
    our watchdogs                                              → first_byte_timeout, stall,
                                                                 total_timeout
    the cancel event or task cancellation                      → interrupted/cancelled

A pump task reads the body and stamps every read with the injected clock the moment it
arrives; the consumer loop waits on the pump with the nearest watchdog deadline, so a
watchdog never disturbs a read in flight.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx

from core.live import netreader
from core.live.gate import Ticket
from core.live.netstamp import arrival_ns
from core.live.results import RunFinished
from core.live.transport import aiter_decoded, check_request, httpx_timeout, new_client, why
from core.providers.keys import scrub
from core.record.savefile import Recorder
from core.stream.caps import DEFAULT_CAPS, Caps
from core.stream.dialects import build_request
from core.stream.events import ChunkReceived, Phase, Progress, RequestSent, ResponseStarted
from core.stream.httpinfo import error_message, http_info, is_stream_content_type
from core.stream.keymask import KeyMasker, redact_request, shown_headers
from core.stream.metrics import rate
from core.stream.outcome import Verdict, bad_content_type, http_error, not_sent, oversized_body
from core.stream.pipeline import Pipeline
from core.stream.spec import HttpRequest, RunSpec, stop_sequences_sent, usage_requested

__all__ = ["Clock", "RunFinished", "new_client", "run"]

Clock = Callable[[], int]
_ERROR_BODY_LIMIT = 64 * 1024
_TICK_NS = 250_000_000  # Progress at ~4 Hz
_QUEUE_READS = 64  # reads the pump may run ahead of the consumer (backpressure, not a buffer)


async def run(
    spec: RunSpec,
    *,
    client: httpx.AsyncClient | None = None,
    clock: Clock = time.monotonic_ns,
    cancel: asyncio.Event | None = None,
    recorder: Recorder | None = None,
    attempt: int = 0,
    segment: int = 0,
    gate: Ticket | None = None,
    caps: Caps = DEFAULT_CAPS,
    grouped: bool = False,
) -> AsyncIterator[Any]:
    """Yield every event of one live run; the last one is always `RunFinished`.

    With `grouped`, the events of one network read (the read, its wire events, their
    stream events) come as one `list`: a consumer that handles thousands of reads a second
    (the engine process) passes one item a read through the generators, not three.

    With `gate` (a race's start gate), the request's headers wait at the gate once the
    connection is up, and t0 is stamped when the gate lets them go."""
    if spec.api_key and spec.api_key != spec.api_key.strip():
        spec = spec.with_changes(api_key=spec.api_key.strip())  # a pasted key's newline
    try:
        request = build_request(spec)
        check_request(request)
    except (ValueError, KeyError, TypeError) as exc:
        reason = scrub(str(exc), spec.api_key)
        verdict = not_sent(spec.dialect, "bad_request_spec", f"The request was not sent: {reason}.")
        if gate is not None:
            gate.leave()
        shown = redact_request(spec.redacted_request(), spec.api_key)
        yield RunFinished(verdict, "not_sent", None, shown)
        return
    own_client = client is None or spec.proxy is not None or not spec.verify_tls
    http = new_client(spec.proxy, spec.verify_tls, read_thread=True) if own_client else client
    assert http is not None
    if own_client:
        await netreader.started()  # before the run's clock starts
    session = _Session(spec, request, http, clock, cancel, recorder, attempt, segment, caps)
    session.gate, session.grouped = gate, grouped
    try:
        async for event in session.events():
            yield event
    finally:
        if gate is not None:
            gate.leave()
        await session.shutdown()
        if own_client:
            await http.aclose()


class _Session:
    def __init__(
        self,
        spec: RunSpec,
        request: HttpRequest,
        http: httpx.AsyncClient,
        clock: Clock,
        cancel: asyncio.Event | None,
        recorder: Recorder | None,
        attempt: int,
        segment: int,
        caps: Caps = DEFAULT_CAPS,
    ) -> None:
        self.spec, self.request, self.http, self.clock = spec, request, http, clock
        self.cancel, self.recorder, self.attempt, self.segment = cancel, recorder, attempt, segment
        self.caps = caps
        # What may be shown or saved of the request: the key masked wherever it sits.
        self.shown_request = redact_request(request, spec.api_key)
        self.masker = KeyMasker(spec.api_key)  # masks echoed keys before bytes are kept
        # What the pump hands the consumer, and the future the consumer sleeps on when it is
        # empty (woken by the pump, a watchdog's timer or the cancel event): no task is made
        # per read, which an asyncio.Queue get raced against the cancel event made twice.
        self.queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._cancel_watch: asyncio.Future[Any] | None = None
        # Backpressure on reads only: the pump waits for room before queueing a read, while
        # phases (httpx trace callbacks, also called while a response closes) never wait.
        self.room = asyncio.Semaphore(_QUEUE_READS)
        self.pump: asyncio.Task[None] | None = None
        self.response: httpx.Response | None = None
        self.start = clock()
        self.next_tick = self.start + _TICK_NS
        self.t0: int | None = None
        self.headers_at: int | None = None  # the response headers' arrival (httpx trace)
        self.last_arrival = self.start  # the latest read's stamp: stamps never go back
        self.pipe = Pipeline(
            spec.dialect, soft_stall_s=spec.timeouts.soft_stall_s, caps=caps, key=spec.api_key
        )
        self.first_byte: int | None = None
        self.last_byte: int | None = None
        self.last_content: int | None = None
        self.chunk_index = 0
        self.recorded_end = False

    def rel(self, t_abs: int) -> int:
        return t_abs - (self.t0 if self.t0 is not None else self.start)

    gate: Ticket | None = None
    grouped = False  # a read's events as one list (see `run`)

    async def _trace(self, name: str, info: dict[str, Any]) -> None:
        if name == "http11.send_request_headers.started" and self.t0 is None:
            if self.gate is not None:
                await self.gate.wait()  # connected: hold until every lane is
            self.t0 = now = self.clock()
        elif name == "http11.send_request_body.started" and self.gate is not None:
            now = self.clock()
            await asyncio.sleep(0)  # headers are out: let the other lanes send theirs first
        else:
            now = self.clock()
            if name.endswith("receive_response_headers.complete") and self.headers_at is None:
                self.headers_at = now
        self._put(("phase", name, now))

    async def _pump(self) -> None:
        try:
            req = self.http.build_request(
                self.request.method,
                self.request.url,
                headers=self.request.headers,
                json=self.request.body,
                extensions={"trace": self._trace, "timeout": httpx_timeout(self.spec).as_dict()},
            )
            response = await self.http.send(req, stream=True)
            self.response = response
            if self.t0 is None:  # HTTP/2 or a transport without the trace event
                self.t0 = self.start
            net = response.extensions.get("network_stream")
            headers_at = self._arrived(net)
            if self.headers_at is None or headers_at < self.headers_at:
                self.headers_at = max(headers_at, self.t0)  # the read that completed them
            self._put(("headers", response, self.headers_at))
            limit = self._body_limit(response)
            size = 0
            async for data in aiter_decoded(response):
                arrived = self._arrived(net)  # stamped before waiting for room
                await self.room.acquire()
                self._put(("chunk", data, arrived))
                size += len(data)
                if limit is not None and size >= limit:
                    break
            self._put(("eof", None, self.clock()))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            self._put(("fail", ("connect_failed", why(exc)), self.clock()))
        except httpx.ReadTimeout as exc:
            self._put(("fail", ("read_timeout", why(exc)), self.clock()))
        except (
            httpx.ReadError,
            httpx.RemoteProtocolError,
            httpx.WriteError,
            httpx.WriteTimeout,
        ) as exc:
            kind = "connect_failed" if self.response is None and self.t0 is None else "reset"
            if netreader.reader_gone(exc):
                kind = "engine_failed"  # our reader process ended: not the network's doing
            reason = why(exc, before_response=self.response is None)
            self._put(("fail", (kind, reason), self.clock()))
        except (httpx.HTTPError, OSError) as exc:
            kind = "connect_failed" if self.response is None else "reset"
            self._put(("fail", (kind, why(exc)), self.clock()))
        except Exception as exc:
            kind = "connect_failed" if self.response is None else "reset"
            reason = f"{type(exc).__name__}: {why(exc)}"
            self._put(("fail", (kind, reason), self.clock()))

    def _arrived(self, net: Any) -> int:
        """When the latest read's bytes reached this machine: the kernel's stamp (`netstamp`)
        moved onto the injected clock, else the clock now. Never before an earlier stamp."""
        now = self.clock()
        arrival = arrival_ns(net)
        if arrival is not None:
            now = (
                arrival
                if self.clock is time.monotonic_ns
                else now - max(0, time.monotonic_ns() - arrival)
            )
        now = max(now, self.last_arrival)
        self.last_arrival = now
        return now

    def _body_limit(self, response: httpx.Response) -> int | None:
        """A stream is read to its end (its cap is the pipeline's); an error body only as far
        as its message needs; any other 2xx body one byte past its cap, to tell it passed."""
        if not 200 <= response.status_code < 300:
            return _ERROR_BODY_LIMIT
        info = http_info(response.status_code, dict(response.headers))
        if is_stream_content_type(info.content_type, self.spec.dialect):
            return None
        return self.caps.body_bytes + 1

    def _deadline(self) -> tuple[int | None, str]:
        t = self.spec.timeouts
        candidates: list[tuple[int, str]] = []
        if t.total_s:
            candidates.append((self.start + int(t.total_s * 1e9), "total_timeout"))
        if self.t0 is not None and self.first_byte is None and t.first_byte_s:
            candidates.append((self.t0 + int(t.first_byte_s * 1e9), "first_byte_timeout"))
        if self.first_byte is not None and t.stall_s and self.response is not None:
            ref = self.last_content if self.last_content is not None else self.first_byte
            candidates.append((ref + int(t.stall_s * 1e9), "stall"))
        if not candidates:
            return None, ""
        return min(candidates)

    def _took(self, item: tuple[Any, ...]) -> tuple[Any, ...]:
        if item[0] == "chunk":
            self.room.release()  # the pump may read on
        return item

    def _put(self, item: tuple[Any, ...]) -> None:
        self.queue.append(item)
        self._wake()

    def _wake(self, *_: Any) -> None:
        waiter = self._wakeup
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    async def _next(self) -> tuple[Any, ...]:
        """The next pump item, a watchdog firing, a Progress tick, or a cancel."""
        if self._cancelled():
            return ("fail", ("cancelled", ""), self.clock())
        now = self.clock()
        if now >= self.next_tick:  # a steady stream still gets its ~4 Hz Progress
            self.next_tick = now + _TICK_NS
            return ("tick", None, now)
        if self.queue:
            return self._took(self.queue.popleft())
        deadline, why = self._deadline()
        wait_ns = self.next_tick - now
        if deadline is not None:
            if deadline <= now:
                return ("fail", (why, ""), now)
            wait_ns = min(wait_ns, deadline - now)
        loop = asyncio.get_running_loop()
        if self.cancel is not None and self._cancel_watch is None:  # one for the session
            self._cancel_watch = asyncio.ensure_future(self.cancel.wait())
            self._cancel_watch.add_done_callback(self._wake)
        waiter = self._wakeup = loop.create_future()
        timer = loop.call_later(wait_ns / 1e9, self._wake)
        try:
            await waiter
        finally:
            timer.cancel()
            self._wakeup = None
        if self.queue:
            return self._took(self.queue.popleft())
        if self._cancelled():
            return ("fail", ("cancelled", ""), self.clock())
        now = self.clock()
        if now >= self.next_tick:
            self.next_tick = now + _TICK_NS
            return ("tick", None, now)
        return ("idle", None, now)

    def _progress(self, now: int) -> Progress:
        m = self.pipe.metrics
        state = "connecting" if self.t0 is None else "waiting"
        since_byte = since_content = None
        if self.last_byte is not None:
            state = "streaming"
            since_byte = (now - self.last_byte) / 1e6
        if self.last_content is not None:
            since_content = (now - self.last_content) / 1e6
            if since_content >= self.spec.timeouts.soft_stall_s * 1000:
                state = "stalled"
        tps, _ = rate(m.content_events, m.content_events, m.first_content_ns, m.last_content_ns)
        return Progress(
            state,
            since_byte,
            since_content,
            tps,
            m.content_events,
            self.rel(now),
            self.pipe.build_metrics(self.rel(now)),
        )

    async def events(self) -> AsyncIterator[Any]:
        self.pump = asyncio.ensure_future(self._pump())
        yield RequestSent(
            self.shown_request.method,
            self.shown_request.url,
            self.shown_request.headers,
            self.shown_request.body,
            0,
        )
        transport, message, end_abs = "eof", "", self.start
        try:
            while True:
                kind, payload, t_abs = await self._next()
                if kind == "idle":
                    continue
                if kind == "phase":
                    yield Phase(payload, self.rel(t_abs))
                elif kind == "tick":
                    yield self._progress(t_abs)
                elif kind == "headers":
                    async for ev in self._on_headers(payload, t_abs):
                        yield ev
                    if self.early is not None:
                        yield self.early
                        return
                elif kind == "chunk":
                    if self.grouped:
                        yield self._on_chunk(payload, t_abs)
                    else:
                        for ev in self._on_chunk(payload, t_abs):
                            yield ev
                    if self.pipe.oversized:  # stop reading: the pump is cancelled on exit
                        transport, end_abs = "oversized", t_abs
                        break
                elif kind == "eof":
                    transport, end_abs = "eof", t_abs
                    break
                else:
                    (transport, message), end_abs = payload, t_abs
                    break
        except asyncio.CancelledError:
            self._record_end("cancelled", None)
            raise
        for ev in self._finish(transport, message, end_abs):
            yield ev

    early: RunFinished | None = None

    async def _on_headers(self, response: httpx.Response, t_abs: int) -> AsyncIterator[Any]:
        headers = shown_headers(dict(response.headers), self.spec.api_key)
        headers_t = self.rel(self.headers_at if self.headers_at is not None else t_abs)
        self.pipe.metrics.on_headers(headers_t)
        yield ResponseStarted(response.status_code, headers, headers_t)
        if self.recorder is not None:
            self.recorder.header(
                attempt=self.attempt,
                dialect=self.spec.dialect,
                request=self.shown_request,
                status=response.status_code,
                headers=headers,
                segment=self.segment,
                headers_t_ns=headers_t,
            )
        info = http_info(response.status_code, headers)
        ok = 200 <= response.status_code < 300
        if ok and is_stream_content_type(info.content_type, self.spec.dialect):
            return
        body = await self._read_error_body()
        for ev in body[1]:
            yield ev
        if ok and len(body[0]) > self.caps.body_bytes:
            verdict = oversized_body(self.spec.dialect, info, self.caps.body_bytes)
        elif ok:
            verdict = bad_content_type(
                self.spec.dialect, info, scrub(error_message(body[0]), self.spec.api_key)
            )
        else:
            verdict = http_error(
                self.spec.dialect, info, scrub(error_message(body[0]), self.spec.api_key)
            )
        end = self.clock()
        verdict = self._with_echo(verdict.with_metrics(self.pipe.build_metrics(self.rel(end))))
        self._record_end("eof", verdict)
        self.early = RunFinished(
            verdict, "eof", self.rel(end), self.shown_request, self.rel(end), self.t0
        )

    def _with_echo(self, verdict: Verdict) -> Verdict:
        echoed = self.masker.echoed or self.pipe.key_echoed
        if not echoed or "key_echoed" in verdict.warnings:
            return verdict
        return replace(verdict, warnings=(*verdict.warnings, "key_echoed"))

    async def _read_error_body(self) -> tuple[bytes, list[Any]]:
        parts: list[bytes] = []
        events: list[Any] = []
        while True:
            kind, payload, t_abs = await self._next()
            if kind == "chunk":
                chunk = self._chunk_event(payload, t_abs)
                parts.append(chunk.data)
                self.pipe.metrics.on_chunk(chunk.t_ns)
                events.append(chunk)
            elif kind in ("eof", "fail"):
                held = self._held_chunk()
                if held is not None:
                    parts.append(held.data)
                    self.pipe.metrics.on_chunk(held.t_ns)
                    events.append(held)
                return b"".join(parts), events

    def _chunk_event(self, data: bytes, t_abs: int, *, held: bool = False) -> ChunkReceived:
        """One network read, stamped with its arrival time, the key masked out of it (a
        tail that may begin the key waits for the next read: see `KeyMasker`)."""
        t_rel = self.rel(t_abs)
        if not held:
            data = self.masker.feed(data)
            if self.first_byte is None:
                self.first_byte = t_abs
            self.last_byte = t_abs
        if self.recorder is not None:
            self.recorder.chunk(t_rel, data)
        event = ChunkReceived(self.chunk_index, len(data), data, t_rel)
        self.chunk_index += 1
        return event

    def _held_chunk(self) -> ChunkReceived | None:
        """At the end of the body: the tail the masker held back (it was not the key), as a
        chunk stamped with the arrival time of the read that brought it."""
        held = self.masker.flush()
        if not held or self.last_byte is None:
            return None
        return self._chunk_event(held, self.last_byte, held=True)

    def _on_chunk(self, data: bytes, t_abs: int) -> list[Any]:
        chunk = self._chunk_event(data, t_abs)
        step = self.pipe.feed(chunk.data, chunk.t_ns, chunk.index)
        if self.pipe.metrics.last_content_ns is not None:
            self.last_content = self.pipe.metrics.last_content_ns + (self.t0 or self.start)
        return [chunk, *step.wire, *step.events]

    def _finish(self, transport: str, message: str, end_abs: int) -> list[Any]:
        total = self.rel(end_abs)
        out: list[Any] = []
        message = scrub(message, self.spec.api_key)
        held = self._held_chunk() if transport != "oversized" else None
        if held is not None:
            step = self.pipe.feed(held.data, held.t_ns, held.index)
            out += [held, *step.wire, *step.events]
        if transport == "connect_failed":
            verdict = self.pipe.verdict(
                transport=transport, transport_message=message, live=True, total_ns=total
            )
        else:
            step = self.pipe.close(total, self.chunk_index - 1)
            out += [*step.wire, *step.events]
            info = (
                http_info(self.response.status_code, dict(self.response.headers))
                if self.response is not None
                else None
            )
            verdict = self.pipe.verdict(
                transport=transport,
                http=info,
                live=True,
                total_ns=total,
                usage_requested=usage_requested(self.spec.dialect, self.request.body),
                transport_message=message,
                stop_sequences_sent=stop_sequences_sent(self.spec.dialect, self.request.body),
            )
        if transport == "connect_failed" and self.recorder is not None:
            self.recorder.header(
                attempt=self.attempt,
                dialect=self.spec.dialect,
                request=self.shown_request,
                status=None,
                headers=None,
                segment=self.segment,
            )
        verdict = self._with_echo(verdict)
        self._record_end(transport, verdict)
        out.append(RunFinished(verdict, transport, total, self.shown_request, total, self.t0))
        return out

    def _record_end(self, transport: str, verdict: Verdict | None) -> None:
        if self.recorder is None or self.recorded_end:
            return
        self.recorded_end = True
        total = None
        if verdict is not None and verdict.metrics.total_ms is not None:
            total = round(verdict.metrics.total_ms * 1e6)  # the very figure the verdict shows
        if total is None:
            total = self.rel(self.clock())
        self.recorder.end(transport, verdict.to_record() if verdict else {}, total)

    async def shutdown(self) -> None:
        if self._cancel_watch is not None and not self._cancel_watch.done():
            self._cancel_watch.cancel()
        if self.pump is not None and not self.pump.done():
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.pump
        if self.response is not None:
            with contextlib.suppress(Exception):
                await self.response.aclose()

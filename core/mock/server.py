"""The aiohttp app: routing by path suffix, auth, errors, fail_first, pacing, the write log.

Every route also works under any path prefix (Azure-style deployment URLs, relays): only the
suffix is matched. Non-streaming requests: OpenAI chat and Ollama answer one JSON object
(mid-stream faults do not apply); Anthropic and Responses answer 400 (the mock streams).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import struct
import time
from typing import Any

from aiohttp import web

from . import ollama, openai_chat, wire
from .auth import auth_problem
from .inbound import RequestError, parse_inbound
from .plan import HttpFault, Plan, build_plan
from .scenarios import ParamError, Params, parse_params, scenario_for
from .script import match_partial
from .state import MockState

_GEMINI_RE = re.compile(r"/v1(?:beta|alpha)?/models/([^/]+?):streamGenerateContent$")
_SUFFIXES = (
    ("/chat/completions", "POST", "openai-chat"),
    ("/responses", "POST", "openai-responses"),
    ("/v1/messages", "POST", "anthropic"),
    ("/api/chat", "POST", "ollama"),
    ("/v1beta/models", "GET", "gemini"),
    ("/api/tags", "GET", "ollama"),
    ("/models", "GET", "models"),
)


def route_for(path: str) -> tuple[str, str, str | None] | None:
    """(method, dialect, model from the path) for a request path, or None."""
    path = path.rstrip("/")
    if m := _GEMINI_RE.search(path):
        return "POST", "gemini", m.group(1).removeprefix("models/")
    for suffix, method, dialect in _SUFFIXES:
        if path.endswith(suffix):
            return method, dialect, None
    return None


STATE = web.AppKey("mock_state", MockState)


def build_app(state: MockState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app


def _json(
    state: MockState,
    request_id: str,
    header: str,
    status: int,
    body: Any,
    extra: tuple[tuple[str, str], ...] = (),
) -> web.Response:
    data = json.dumps(body, ensure_ascii=False).encode()
    state.log(request_id, len(data))
    headers = {header: request_id, **dict(extra)}
    return web.Response(status=status, body=data, content_type="application/json", headers=headers)


async def _handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    n = next(state.counter)
    rid = f"req_mock_{n}"
    found = route_for(request.path)
    dialect = found[1] if found else "openai-chat"
    header = wire.request_id_header(dialect)

    def error(status: int, kind: str, message: str, extra: tuple = ()) -> web.Response:
        err_dialect = "openai-chat" if dialect == "models" else dialect
        body = wire.error_body(err_dialect, status, kind, message, rid)
        return _json(state, rid, header, status, body, extra)

    if found is None:
        return error(404, "not_found", f"No route for {request.method} {request.path} (mock)")
    method, _, path_model = found
    if request.method != method:
        return error(405, "invalid_request", f"{request.method} is not allowed here (mock)")
    problem = auth_problem(dialect, request.headers, request.query)
    if problem is not None:
        return error(401, "auth", f"Invalid authentication: {problem} (mock)")
    if method == "GET":
        listing = wire.listing("openai-chat" if dialect == "models" else dialect, int(time.time()))
        return _json(state, rid, header, 200, listing)
    try:
        body = json.loads(await request.read())
        inbound = parse_inbound(dialect, body, path_model)
    except ValueError:
        return error(400, "invalid_request", "The request body is not valid JSON (mock)")
    except RequestError as exc:
        return error(exc.status, "invalid_request", exc.message)
    scenario = scenario_for(inbound.model, request.headers.get("x-mock-scenario"))
    if scenario is None:
        name = request.headers.get("x-mock-scenario") or inbound.model
        return error(404, "not_found", f"The model `{name}` does not exist (mock scenarios)")
    try:
        params = parse_params(request.headers.get("x-mock-params"), state.defaults)
    except ParamError as exc:
        return error(400, "invalid_request", str(exc))
    scenario = state.played(scenario, params, inbound.fingerprint)
    partial = inbound.partial
    if dialect == "openai-responses" and inbound.previous_response_id is not None:
        partial = state.responses.get(inbound.previous_response_id)
        if partial is None:
            prev = inbound.previous_response_id
            return error(400, "invalid_request", f"Previous response with id '{prev}' not found.")
    plan = build_plan(inbound, scenario, params, n, int(time.time()), partial)
    delay = params.first_byte_s(scenario)
    if delay:
        await asyncio.sleep(delay)
    if isinstance(plan, HttpFault):
        return error(plan.status, plan.kind, plan.message, plan.headers)
    if not inbound.stream:
        if dialect == "openai-chat":
            return _json(state, rid, header, 200, openai_chat.completion(plan))
        if dialect == "ollama":
            message = {"role": "assistant", "content": "".join(plan.text)}
            return _json(state, rid, header, 200, ollama.final_line(plan, message, len(plan.text)))
        return error(400, "invalid_request", "stream: true is required (the mock only streams)")
    if dialect == "openai-responses":
        before = partial if partial and match_partial(partial, params.tokens) is not None else ""
        state.responses[f"resp_mock{n}"] = before + "".join(plan.text)
    return await _stream(request, state, plan, params, rid)


class _Pacer:
    """Content events at ``tps`` on an absolute schedule (so rounding does not accumulate).

    An event already due (a rate faster than the mock can write, or a jittered event whose
    time has passed) goes out at once, as a real server writes a token that is ready: the
    loop is still given a turn at least every YIELD_S, so the other streams this mock
    serves (a race's lanes) go on meanwhile. A turn for every token cost the mock a third
    of its time per token at full speed (bench/gui_throughput.py).

    Over SHARED_WRITE_TPS (the benches' full speed, far past any model) the tokens already
    due share one write, up to SHARED_WRITE_MAX, as a server flushes what its model has
    made: a write per token cost the mock 17-25 µs a token there, most of it in aiohttp's
    write and its system call, on the cores the app under test needs. At a model's rates
    every token is its own write, so the write log has one entry per event."""

    YIELD_S = 0.001
    SHARED_WRITE_TPS = 10_000  # over this rate, tokens already due share a write
    SHARED_WRITE_MAX = 64

    def __init__(self, tps: float, jitter_ms: float, seed: int) -> None:
        self.interval = 1.0 / tps
        self.per_write = self.SHARED_WRITE_MAX if tps > self.SHARED_WRITE_TPS else 1
        self.jitter = jitter_ms / 1000
        self.rng = random.Random(seed)
        self.start: float | None = None
        self.k = 0
        self.turn = 0.0  # when this stream last gave the loop a turn

    def restart(self) -> None:
        self.start = None

    def delay(self) -> float | None:
        now = time.monotonic()
        if self.start is None:
            self.start, self.k, self.turn = now, 0, now
            return None
        self.k += 1
        target = self.start + self.k * self.interval
        if self.jitter:
            target += self.rng.uniform(-self.jitter, self.jitter)
        if target > now or now - self.turn >= self.YIELD_S:
            self.turn = now
            return max(0.0, target - now)
        return None


async def _stream(
    request: web.Request, state: MockState, plan: Plan, params: Params, rid: str
) -> web.StreamResponse:
    headers = {
        "Content-Type": wire.STREAM_CONTENT_TYPE[plan.dialect],
        "Cache-Control": "no-cache",
        wire.request_id_header(plan.dialect): rid,
    }
    resp = web.StreamResponse(status=200, headers=headers)
    resp.enable_chunked_encoding()
    pacer = _Pacer(plan.tps, params.jitter_ms, plan.n)
    try:
        await resp.prepare(request)
        due: list[bytes] = []  # content frames already due, not yet written

        async def write(data: bytes) -> None:
            began = state.log(rid, len(data))
            await resp.write(data)
            state.sent(began, rid, len(data))

        async def flush() -> None:
            if due:
                data = b"".join(due)
                due.clear()
                await write(data)

        for frame in wire.frames_for(plan):
            if frame.stall:
                await flush()
                await asyncio.sleep(plan.stall_s)
                pacer.restart()
                continue
            if frame.content:
                delay = pacer.delay()
                if delay is not None:
                    await flush()
                    await asyncio.sleep(delay)
                if frame.data:
                    due.append(frame.data)
                    if len(due) >= pacer.per_write:
                        await flush()
                continue
            await flush()
            if frame.data:
                await write(frame.data)
        await flush()
        if plan.ending == "reset":
            await _reset(request)
            return resp
        await resp.write_eof()
    except ConnectionError:
        pass  # the client went away; nothing left to send
    return resp


async def _reset(request: web.Request) -> None:
    """A real TCP reset: SO_LINGER (on, 0 s) then abort, once the sent bytes have left."""
    transport = request.transport
    if transport is None:
        return
    for _ in range(1000):  # a loopback buffer drains within a few loop turns
        if not transport.get_write_buffer_size() or transport.is_closing():
            break
        await asyncio.sleep(0.001)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()

"""Decide what one response will say and how it will end (pure).

``build_plan`` turns a request, a scenario and parameters into either an ``HttpFault`` (an
error answered before any body) or a ``Plan``: the pieces to send, the abstract finish, and
the fault to play. The dialect writers only format a Plan; they decide nothing.

Fault positions are absolute: ``cut_at`` is a token index of the whole reply. A continuation
whose partial text already reaches past ``cut_at`` has left the fault behind and plays
``normal``, so Continue after ``max_tokens``, ``eof_mid_stream``, ``pause_turn`` and friends
really completes. The request's own max-token field is a limit on this response's output.

Abstract finishes (writers map them to their dialect): stop, length, stop_sequence,
tool_calls, refusal, content_filter, pause_turn, context_window, alias, prompt_blocked.
Endings: complete, missing_done, done_without_finish, eof, reset, mid_error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from . import script
from .inbound import Inbound
from .scenarios import Params

# relay_alias values that mean "finished": the whole reply is sent; other aliases cut at cut_at.
_FINISHED_ALIASES = frozenset({"end_turn", "stop", "tool_use", ""})


@dataclass(frozen=True, slots=True)
class HttpFault:
    """An answer with no stream: status, error kind, message, extra headers."""

    status: int
    kind: str  # auth, not_found, invalid_request, rate_limited, server, overloaded,
    # context_window, bad_content_type
    message: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    arguments: dict[str, str]
    fragments: tuple[str, ...]  # what is sent (all of them when complete)
    complete: bool


@dataclass(frozen=True, slots=True)
class Plan:
    dialect: str
    model: str
    scenario: str  # as played (``normal`` once fail_first is used up)
    n: int  # the request counter; writers derive their ids from it
    created: int  # unix seconds
    input_tokens: int
    tps: float
    text: tuple[str, ...] = ()
    thinking: tuple[str, ...] = ()
    refusal: tuple[str, ...] = ()
    tool: Tool | None = None
    finish: str = "stop"
    stop_sequence: str | None = None
    alias: str = ""
    ending: str = "complete"
    event_at: int | None = None  # text index of the stall or malformed line
    stall_s: float = 0.0
    malformed: bool = False
    include_usage: bool = False
    usage_every_chunk: bool = False
    crlf: bool = False
    bom: bool = False
    keepalive: bool = False
    utf8_split: bool = False

    @property
    def output_tokens(self) -> int:
        tool = len(self.tool.fragments) if self.tool else 0
        return len(self.text) + len(self.thinking) + len(self.refusal) + tool


def http_fault(dialect: str, scenario: str, params: Params) -> HttpFault | None:
    """The HTTP-level answer a scenario gives before any body, if any."""
    if scenario == "http_429":
        seconds = params.retry_after
        headers = (
            ("Retry-After", str(math.ceil(seconds))),
            ("retry-after-ms", str(round(seconds * 1000))),
        )
        return HttpFault(429, "rate_limited", "Rate limit reached for requests (mock)", headers)
    if scenario == "http_500":
        return HttpFault(500, "server", "The server had an error processing your request (mock)")
    if scenario == "http_529":
        status = 529 if dialect == "anthropic" else 503
        return HttpFault(status, "overloaded", "The model is overloaded; try again later (mock)")
    if scenario == "bad_content_type":
        return HttpFault(200, "bad_content_type", "stream not supported (mock)")
    if scenario == "context_window" and dialect != "anthropic":
        return HttpFault(
            400,
            "context_window",
            "This model's maximum context length is 8192 tokens; your messages exceed it (mock)",
        )
    return None


def _limit(pieces: tuple[str, ...], limit: int | None) -> tuple[tuple[str, ...], str]:
    if limit is not None and limit < len(pieces):
        return pieces[:limit], "length"
    return pieces, "stop"


def _take_chars(pieces: tuple[str, ...], k: int) -> tuple[str, ...]:
    """The pieces covering the first ``k`` characters (the last one cut if need be)."""
    out: list[str] = []
    for piece in pieces:
        if k <= 0:
            break
        out.append(piece[:k])
        k -= len(piece)
    return tuple(out)


def _stop_at(
    pieces: tuple[str, ...], stops: tuple[str, ...], cut: int | None
) -> tuple[tuple[str, ...], str | None]:
    """(text, sequence) for stop_sequence: the first request stop found, else cut_at."""
    joined = "".join(pieces)
    hits = [(joined.find(s), s) for s in stops if s in joined]
    if hits:
        pos, seq = min(hits)
        return _take_chars(pieces, pos), seq
    if cut is not None and cut < len(pieces):
        return pieces[:cut], pieces[cut].strip()
    return pieces, None


def build_plan(
    inb: Inbound, scenario: str, params: Params, n: int, created: int, partial: str | None
) -> Plan | HttpFault:
    fault = http_fault(inb.dialect, scenario, params)
    if fault is not None:
        return fault
    d = inb.dialect
    reply = script.continue_script(partial, params.tokens)
    pieces = reply.pieces
    cut: int | None = None
    if not reply.matched or params.cut > reply.first_index:
        cut = min(params.cut - reply.first_index, len(pieces))
    # the fault is reached only if it comes before the end and before the max-token limit
    cut_hit = cut is not None and cut < min(len(pieces), inb.max_tokens or len(pieces) + 1)
    text, finish = _limit(pieces, inb.max_tokens)
    plan = Plan(
        dialect=d,
        model=inb.model,
        scenario=scenario,
        n=n,
        created=created,
        input_tokens=inb.input_tokens,
        tps=params.tps,
        text=text,
        finish=finish,
        include_usage=inb.include_usage,
    )
    if scenario == "normal":
        return plan
    return _shape(plan, scenario, params, inb, pieces, cut if cut_hit else None)


def _shape(
    plan: Plan,
    scenario: str,
    params: Params,
    inb: Inbound,
    pieces: tuple[str, ...],
    cut: int | None,
) -> Plan:
    """The scenario's changes to a normal plan (``cut``: pieces before the fault, if reached)."""
    d = inb.dialect
    cut_text = plan.text if cut is None else pieces[:cut]
    if scenario == "max_tokens":
        # cut at the request's own limit, like a real provider; at cut_at only when given
        limits = [inb.max_tokens] + ([cut] if params.cut_at is not None else [])
        limits = [x for x in limits if x is not None]
        text, finish = _limit(pieces, min(limits) if limits else None)
        return replace(plan, text=text, finish=finish)
    if scenario == "stop_sequence":
        text, seq = _stop_at(pieces, inb.stop, cut)
        text, finish = _limit(text, inb.max_tokens)
        if finish == "stop" and seq is not None:
            return replace(plan, text=text, finish="stop_sequence", stop_sequence=seq)
        return replace(plan, text=text, finish=finish)
    if scenario in ("tool_call", "tool_call_truncated"):
        long = scenario == "tool_call_truncated"
        args = script.tool_arguments(long)
        frags = script.tool_fragments(args)
        default = script.LONG_TOOL_NAME if long else script.TOOL_CALL_NAME
        sent, finish = _limit(frags, inb.max_tokens)
        tool = Tool(inb.tool_name or default, args, sent, complete=finish == "stop")
        return replace(plan, text=(), tool=tool, finish="tool_calls" if tool.complete else finish)
    if scenario == "thinking":
        return replace(plan, thinking=script.reasoning_pieces())
    if scenario == "refusal":
        if d in ("openai-chat", "openai-responses"):
            return replace(plan, text=(), refusal=script.refusal_pieces(), finish="refusal")
        if d == "ollama":
            return replace(plan, text=script.refusal_pieces(), finish="stop")
        return replace(plan, text=cut_text if d == "anthropic" else (), finish="refusal")
    if scenario == "content_filter":
        if d == "gemini" and params.block:
            return replace(plan, text=(), finish="prompt_blocked")
        if d == "ollama":
            return plan
        return replace(
            plan, text=cut_text, finish="refusal" if d == "anthropic" else "content_filter"
        )
    if scenario in ("pause_turn", "context_window"):
        if d != "anthropic" or cut is None:
            return plan
        return replace(plan, text=cut_text, finish=scenario)
    if scenario == "empty_reply":
        return replace(plan, text=(), finish="stop")
    if scenario == "relay_alias":
        if d != "openai-chat":
            return plan
        text = plan.text if params.alias in _FINISHED_ALIASES else cut_text
        return replace(plan, text=text, finish="alias", alias=params.alias)
    if scenario in ("missing_done", "done_without_finish"):
        return replace(plan, ending=scenario)
    if scenario in ("mid_stream_error", "eof_mid_stream", "reset_mid_stream"):
        if cut is None:
            return plan
        ending = {"mid_stream_error": "mid_error", "eof_mid_stream": "eof"}.get(scenario, "reset")
        return replace(plan, text=cut_text, ending=ending)
    if scenario in ("malformed_line", "stall"):
        at = min(len(plan.text) // 2 if cut is None else cut, len(plan.text))
        if scenario == "malformed_line":
            return replace(plan, event_at=at, malformed=True)
        if cut is None:
            return plan
        return replace(plan, event_at=at, stall_s=params.stall_ms / 1000)
    flags = {
        "usage_chunk": "usage_every_chunk",
        "utf8_split": "utf8_split",
        "crlf": "crlf",
        "bom": "bom",
        "comments_keepalive": "keepalive",
    }
    if scenario in flags:
        return replace(plan, **{flags[scenario]: True})
    return plan  # slow_first_byte (the server waits), and scenarios a dialect plays as normal

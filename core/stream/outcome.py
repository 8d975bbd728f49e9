"""The verdict (DESIGN §3): a pure function of what was seen.

EOF is never proof of success and neither is HTTP 200: only the provider's end signal is.
"""

from __future__ import annotations

from core.stream.caps import describe_size
from core.stream.dialects.base import StreamFacts
from core.stream.verdict import DecodeFlags, HttpInfo, ToolCall, Verdict, utf8

__all__ = [
    "TRANSPORT_ENDINGS",
    "DecodeFlags",
    "HttpInfo",
    "ToolCall",
    "Verdict",
    "actions_for",
    "bad_content_type",
    "classify",
    "engine_failed",
    "http_detail",
    "http_error",
    "not_sent",
    "oversized_body",
]

TRANSPORT_ENDINGS = (
    "eof",
    "reset",
    "connect_failed",
    "first_byte_timeout",
    "read_timeout",
    "stall",
    "total_timeout",
    "cancelled",
    "oversized",  # we stopped reading: a cap (core.stream.caps) was passed
    "engine_failed",  # our network reader process ended (core.live.netreader)
)

_TRANSPORT_TEXT = {
    "reset": "the connection was reset or closed before the body's end",
    "connect_failed": "the connection could not be made",
    "first_byte_timeout": "no byte arrived within the first-byte timeout",
    "read_timeout": "httpx's read timeout expired",
    "stall": "no generated content arrived within the stall timeout",
    "total_timeout": "the total time limit was reached",
    "cancelled": "the run was cancelled",
    "eof": "the body ended",
    "oversized": "reading stopped at a size cap",
    "engine_failed": "StreamScope's network reader process ended",
}
_RETRYABLE_HINTS = (
    "overload",
    "rate",
    "server",
    "unavailable",
    "internal",
    "resource",
    "timeout",
    "api_error",
    "busy",
    "capacity",
    "exhausted",
    "error",
)
_NOT_RETRYABLE_HINTS = (
    "invalid",
    "auth",
    "permission",
    "not_found",
    "context_length",
    "billing",
    "quota",
    "MALFORMED",
    "UNEXPECTED",
)


_NO_FLAGS = DecodeFlags()


def http_detail(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status in (529, 503):
        return "overloaded"
    if status in (401, 403):
        return "auth"
    if status in (400, 404, 409, 413, 422):
        return "invalid_request"
    if status in (408, 504):
        return "timeout"
    if 500 <= status < 600:
        return "server"
    return "other"


def _http_retryable(status: int) -> bool:
    return status in (408, 409, 429, 529) or 500 <= status < 600


def _numeric_code(detail: str | None) -> int | None:
    """An in-stream error code that is an HTTP status (LiteLLM sends `"code": "500"` for
    every upstream reset or stall): a number or a numeric string, 100–599."""
    text = (detail or "").strip()
    if not text.isdecimal() or len(text) != 3:
        return None
    status = int(text)
    return status if 100 <= status < 600 else None


def _upstream_retryable(detail: str | None) -> bool:
    if detail is None:
        return True
    status = _numeric_code(detail)
    if status is not None:
        return _http_retryable(status)  # exactly like the HTTP status
    if any(h.lower() in detail.lower() for h in _NOT_RETRYABLE_HINTS):
        return False
    return any(h in detail.lower() for h in _RETRYABLE_HINTS)


def actions_for(
    outcome: str,
    detail: str | None,
    *,
    had_output: bool,
    incomplete_tool_call: bool = False,
    status: int | None = None,
) -> tuple[str, ...]:
    if outcome == "truncated" and detail == "max_tokens":
        return ("retry_more_tokens",) if incomplete_tool_call else ("continue", "retry_more_tokens")
    if outcome == "paused":
        return ("continue",)
    if outcome == "http_error":
        return ("retry",) if status is not None and _http_retryable(status) else ()
    if outcome == "upstream_error":
        return ("retry",) if _upstream_retryable(detail) else ()
    if outcome == "interrupted":
        return ("retry", "continue") if had_output else ("retry",)
    if outcome == "protocol_error":
        return ("retry",)
    return ()


def not_sent(dialect: str, detail: str, explanation: str) -> Verdict:
    return Verdict(dialect, "not_sent", detail, explanation=explanation)


def engine_failed(dialect: str, text: str, explanation: str) -> Verdict:
    """The window's network engine died mid-run: what arrived is kept; only Retry can help
    (Continue needs the finished session that the engine took with it)."""
    return Verdict(
        dialect,
        "interrupted",
        "engine_failed",
        had_output=bool(text),
        answer=utf8(text),
        actions=("retry",),
        explanation=explanation,
    )


def http_error(dialect: str, http: HttpInfo, message: str) -> Verdict:
    """A non-2xx answer before any stream: the provider's own message is the evidence."""
    detail = http_detail(http.status)
    said = f": {message}" if message else ""
    wait = f" Retry-After asks for {http.retry_after_s:g} s." if http.retry_after_s else ""
    return Verdict(
        dialect,
        "http_error",
        detail,
        warnings=_gateway_warning(http),
        http=http,
        actions=actions_for("http_error", detail, had_output=False, status=http.status),
        explanation=f"HTTP {http.status} before the stream began{said}.{wait}"
        + gateway_sentence(http),
    )


def oversized_body(dialect: str, http: HttpInfo, cap: int) -> Verdict:
    """A 2xx body that is not a stream and passed its cap: reading stopped there."""
    return Verdict(
        dialect,
        "protocol_error",
        "oversized_body",
        http=http,
        actions=("retry",),
        explanation=f"HTTP {http.status} came with Content-Type {http.content_type or 'none'}, "
        f"not a stream, and a body past the {describe_size(cap)} cap for non-stream bodies; "
        "reading stopped there.",
    )


def bad_content_type(dialect: str, http: HttpInfo, message: str) -> Verdict:
    said = f": {message}" if message else ""
    return Verdict(
        dialect,
        "protocol_error",
        "bad_content_type",
        warnings=_gateway_warning(http),
        http=http,
        actions=("retry",),
        explanation=f"HTTP {http.status} came with Content-Type "
        f"{http.content_type or 'none'}, not a stream{said}." + gateway_sentence(http),
    )


def _gateway_warning(http: HttpInfo | None) -> tuple[str, ...]:
    return ("via_gateway",) if http is not None and http.gateway else ()


def gateway_sentence(http: HttpInfo | None) -> str:
    """What `via_gateway` means, naming the gateway and the header that showed it."""
    if http is None or not http.gateway:
        return ""
    seen = f" (header {http.gateway_header})" if http.gateway_header else ""
    return (
        f" The response came through {http.gateway}{seen}: this verdict is the gateway's "
        "word, since a gateway may rewrite an upstream cut as a normal finish."
    )


def classify(
    facts: StreamFacts,
    *,
    transport: str = "eof",
    flags: DecodeFlags = _NO_FLAGS,
    http: HttpInfo | None = None,
    live: bool = False,
    usage_requested: bool = False,
    stall_observed: bool = False,
    transport_message: str = "",
    stop_sequences_sent: bool = False,
) -> Verdict:
    """Judge a body from the dialect's facts and how the transport ended."""
    warnings: list[str] = []
    if flags.bom_stripped:
        warnings.append("bom_stripped")
    if flags.utf8_replaced:
        warnings.append("utf8_replaced")
    if flags.unterminated_final_event:
        warnings.append("unterminated_final_event")
    if facts.out_of_order:
        warnings.append("out_of_order")
    if stall_observed:
        warnings.append("stall_observed")
    calls = tuple(
        ToolCall(c.id, c.name, c.arguments, c.complete) for _, c in sorted(facts.tool_calls.items())
    )
    incomplete_call = any(not c.complete for c in calls)
    outcome, detail, because = _decide(facts, transport, transport_message, calls, warnings, http)
    finish = facts.finish
    if (
        stop_sequences_sent
        and (outcome, detail) == ("completed", "natural")
        and finish is not None
        and finish.covers_stop_sequence
    ):
        detail = "natural_or_stop_sequence"
        because = because.replace(
            "The model finished naturally",
            "The model finished naturally or at one of the request's stop sequences "
            "(the API's plain stop covers both and cannot tell which)",
            1,
        )
    if facts.nonstandard_terminator:
        warnings.append("nonstandard_terminator")
    if http is not None and http.gateway:
        warnings.append("via_gateway")
        because += gateway_sentence(http)
    if facts.malformed and outcome != "protocol_error":
        warnings.append("malformed_event")
    if incomplete_call and outcome in ("truncated", "protocol_error", "interrupted"):
        warnings.append("incomplete_tool_call")
    if outcome == "completed" and not facts.text and not calls:
        warnings.append("empty_output")
    if (
        live
        and usage_requested
        and facts.finish is not None
        and not facts.usage_seen
        and outcome not in ("interrupted", "upstream_error")
    ):
        warnings.append("usage_missing")
    had_output = facts.had_output
    actions = actions_for(
        outcome, detail, had_output=had_output, incomplete_tool_call=incomplete_call
    )
    return Verdict(
        dialect=facts.dialect,
        outcome=outcome,
        detail=detail,
        warnings=tuple(dict.fromkeys(warnings)),
        raw_stop_reason=facts.finish.raw if facts.finish else None,
        terminator_seen=facts.terminator_seen,
        had_output=had_output,
        answer=facts.text.joined_utf8(),
        reasoning=facts.reasoning.joined(),
        refusal=facts.refusal.joined(),
        tool_calls=calls,
        input_tokens=facts.input_tokens,
        output_tokens=facts.output_tokens,
        actions=actions,
        explanation=because,
        http=http,
        response_id=facts.response_id,
    )


def _decide(
    facts: StreamFacts,
    transport: str,
    transport_message: str,
    calls: tuple[ToolCall, ...],
    warnings: list[str],
    http: HttpInfo | None = None,
) -> tuple[str, str | None, str]:
    finish = facts.finish
    cut = _TRANSPORT_TEXT.get(transport, transport)
    if transport == "reset" and http is None and facts.events == 0:
        cut = "the connection broke before the response headers were complete"
    if transport_message:
        cut = f"{cut} ({transport_message})"
    if facts.error is not None:
        err = facts.error
        msg = f": {err.message}" if err.message else ""
        status = _numeric_code(err.code)
        if status is not None:
            kind = "retryable" if _http_retryable(status) else "not retryable"
            msg += f" (code {status} is an HTTP status: {kind}, as that status would be)"
        return (
            "upstream_error",
            err.code,
            f"The provider reported an error inside the stream ({facts.error_evidence}"
            f"{', code ' + repr(err.code) if err.code else ''}){msg}.",
        )
    if facts.order_error:
        return (
            "protocol_error",
            "unexpected_event_order",
            f"The stream broke the event order: {facts.order_error}.",
        )
    if finish is not None:
        if finish.nonstandard:
            warnings.append("nonstandard_stop_reason")
        if not facts.finish_is_end and not facts.terminator_seen:
            warnings.append("missing_terminator")
        tail = ""
        if "missing_terminator" in warnings:
            tail = f", but the terminator never came ({cut})"
        elif transport != "eof":  # a failure after the end signal is reported, not ignored
            tail = f"; after the end signal {cut}"
        if finish.outcome == "unknown":
            return (
                "protocol_error",
                "unknown_finish_reason",
                f"The stop reason is not one we know: {finish.evidence}; "
                f"it is not read as success{tail}.",
            )
        outcome, detail = finish.outcome, finish.detail
        if outcome == "completed" and calls and all(c.complete for c in calls):
            if facts.dialect == "openai-chat":
                warnings.append("nonstandard_stop_reason")
            return (
                "tool_calls",
                None,
                f"The model stopped to call {_names(calls)} ({finish.evidence}"
                f" with complete tool calls){tail}.",
            )
        if outcome == "tool_calls":
            if not calls:
                return (
                    "protocol_error",
                    "malformed_json",
                    f"{finish.evidence} but no tool call arrived{tail}.",
                )
            if not all(c.complete for c in calls):
                warnings.append("incomplete_tool_call")
                return (
                    "protocol_error",
                    "malformed_json",
                    f"{finish.evidence} but the arguments of {_names(calls)} do not parse "
                    f"as JSON{tail}.",
                )
        return (
            outcome,
            detail,
            _finish_sentence(outcome, detail, finish.evidence, calls) + tail + ".",
        )
    if facts.terminator_seen:
        if facts.had_output:
            # llama-cpp-python sends exactly this when it abandons a generation (another
            # request reached it), then leaves the body unfinished: never a completion.
            warnings.append("missing_finish_reason")
            said = (
                f"The stream sent {facts.terminator_name} after content but never a finish "
                "reason, so nothing says the answer is whole (a server that abandons a "
                "generation ends it this way)"
            )
            if transport == "eof":
                return ("interrupted", "no_finish_reason", f"{said}.")
            detail = "connection_reset" if transport == "reset" else transport
            return ("interrupted", detail, f"{said}; then {cut}.")
        if transport != "eof":
            detail = "connection_reset" if transport == "reset" else transport
            return (
                "interrupted",
                detail,
                f"The stream sent {facts.terminator_name} with no content and no finish "
                f"reason; then {cut}.",
            )
        # `missing_finish_reason` means "[DONE] after content": with nothing before the
        # terminator the stream is simply empty.
        return (
            "protocol_error",
            "empty_stream",
            f"The stream sent {facts.terminator_name} with no content and no finish reason.",
        )
    if transport == "eof":
        if facts.events == 0:
            return (
                "protocol_error",
                "empty_stream",
                "The response was 200 but the body held no stream events.",
            )
        if facts.malformed and (facts.last_event_malformed or facts.malformed == facts.events):
            return (
                "protocol_error",
                "malformed_json",
                f"The stream ended after data that is not valid JSON "
                f"({facts.malformed_sample!r}), with no end signal.",
            )
        return (
            "interrupted",
            "eof_before_terminator",
            f"The body ended properly after {facts.events} events, but no finish reason "
            "or end signal was ever sent.",
        )
    detail = "connection_reset" if transport == "reset" else transport
    seen = f"after {facts.events} events" if facts.events else "before any event"
    return ("interrupted", detail, f"The stream stopped {seen}: {cut}; no end signal came.")


def _names(calls: tuple[ToolCall, ...]) -> str:
    return ", ".join(repr(c.name or "?") for c in calls)


def _finish_sentence(
    outcome: str, detail: str | None, evidence: str, calls: tuple[ToolCall, ...]
) -> str:
    if outcome == "completed":
        how = "at a stop sequence" if detail == "stop_sequence" else "naturally"
        return f"The model finished {how} ({evidence})"
    if outcome == "tool_calls":
        return f"The model stopped to call {_names(calls)} ({evidence})"
    if outcome == "truncated" and detail == "context_window":
        return (
            f"The reply hit the model's context window ({evidence}); Continue cannot help "
            "because the context is already full: shorten the conversation instead"
        )
    if outcome == "truncated":
        return f"The reply was cut by the output token limit ({evidence})"
    if outcome == "paused":
        return f"The provider paused a long turn ({evidence}); resend to let it continue"
    if outcome == "blocked":
        return f"The provider declined ({evidence})"
    if outcome == "upstream_error":
        return f"The provider ended the stream with an error ({evidence})"
    return f"{outcome} ({evidence})"

"""Verdicts that hold on real servers (issue 11, items 1–5), byte-exact over loopback: what
llama-cpp-python and a LiteLLM gateway really send, replayed by a scripted server, with real
resets and cut chunked bodies where the case needs one."""

from __future__ import annotations

import json

import pytest

from core import (
    RunFinished,
    RunRecorder,
    RunSpec,
    SessionFinished,
    diagnose_bytes,
    format_report,
    run,
    run_session,
)
from tests.core.wire_server import Reply, wire_server


def chunk(delta: dict, finish: str | None = None, **extra) -> bytes:
    obj = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gemma"}
    obj["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
    obj.update(extra)
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"
ANSWER = [chunk({"role": "assistant"}), chunk({"content": "The sky"}), chunk({"content": " is"})]
FINISHED = [*ANSWER, chunk({"content": " blue."}), chunk({}, "stop"), DONE]


def spec_for(base: str, dialect: str = "openai-chat", **changes) -> RunSpec:
    suffix = "/v1" if dialect.startswith("openai") else ""
    spec = RunSpec(dialect, base + suffix, "gemma", RunSpec.user("Why is the sky blue?"))
    return spec.with_changes(**changes)


async def finish(spec: RunSpec) -> RunFinished:
    last = None
    async for event in run(spec):
        last = event
    assert isinstance(last, RunFinished)
    return last


async def session(spec: RunSpec, **kw) -> SessionFinished:
    async for event in run_session(spec, **kw):
        if isinstance(event, SessionFinished):
            return event
    raise AssertionError("no SessionFinished")


# ---- 1. [DONE] after content with no finish reason --------------------------------------


async def test_done_without_finish_then_proper_end_is_interrupted() -> None:
    async with wire_server({"llama": Reply([*ANSWER, DONE])}) as srv:
        done = await finish(spec_for(srv.base("llama")))
    v = done.verdict
    assert (v.label, done.transport) == ("interrupted/no_finish_reason", "eof")
    assert "missing_finish_reason" in v.warnings
    assert v.actions == ("retry", "continue") and v.retryable
    assert v.text == "The sky is" and v.terminator_seen


@pytest.mark.parametrize("ending", ["cut", "reset"])
async def test_done_without_finish_then_cut_body_is_connection_reset(ending: str) -> None:
    """llama-cpp-python abandons a generation: [DONE], then the chunked body never ends."""
    async with wire_server({"llama": Reply([*ANSWER, DONE], ending=ending)}) as srv:
        done = await finish(spec_for(srv.base("llama")))
    v = done.verdict
    assert (v.label, done.transport) == ("interrupted/connection_reset", "reset")
    assert "missing_finish_reason" in v.warnings
    assert v.actions == ("retry", "continue")
    assert "[DONE]" in v.explanation and "closed before the body's end" in v.explanation


async def test_a_reset_after_the_terminator_is_reported_not_ignored() -> None:
    async with wire_server({"ok": Reply(FINISHED, ending="reset")}) as srv:
        done = await finish(spec_for(srv.base("ok")))
    v = done.verdict
    assert (v.label, done.transport) == ("completed/natural", "reset")
    assert "after the end signal the connection was reset" in v.explanation


async def test_anthropic_message_stop_without_message_delta_is_interrupted() -> None:
    def ev(name: str, obj: dict) -> bytes:
        return f"event: {name}\ndata: {json.dumps({'type': name, **obj})}\n\n".encode()

    body = [
        ev("message_start", {"message": {"id": "msg_1", "usage": {"input_tokens": 5}}}),
        ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
        ev("content_block_stop", {"index": 0}),
        ev("message_stop", {}),
    ]
    async with wire_server({"a": Reply(body)}) as srv:
        v = (await finish(spec_for(srv.base("a"), "anthropic"))).verdict
    assert v.label == "interrupted/no_finish_reason"
    assert "missing_finish_reason" in v.warnings and v.actions == ("retry", "continue")


# ---- 2. numeric in-stream error codes are retryable like the HTTP status ----------------


def litellm_error(code: object) -> bytes:
    err = {"message": "litellm.InternalServerError: upstream reset", "type": None, "code": code}
    return b"data: " + json.dumps({"error": err}).encode() + b"\n\n"


@pytest.mark.parametrize(
    ("code", "retryable"),
    [("500", True), (503, True), ("429", True), ("408", True), (409, True), ("400", False)],
)
async def test_numeric_error_code_is_retryable_like_the_status(code, retryable) -> None:
    async with wire_server({"gw": Reply([*ANSWER, litellm_error(code), DONE])}) as srv:
        v = (await finish(spec_for(srv.base("gw")))).verdict
    assert v.label == f"upstream_error/{code}"
    assert v.retryable is retryable
    assert v.actions == (("retry",) if retryable else ())
    assert f"code {code} is an HTTP status" in v.explanation


async def test_retries_retry_a_litellm_500() -> None:
    replies = [Reply([ANSWER[0], litellm_error("500"), DONE]), Reply(FINISHED)]
    async with wire_server({"gw": replies}) as srv:
        waited: list[float] = []

        async def record(delay: float) -> None:
            waited.append(delay)

        done = await session(spec_for(srv.base("gw")), retries=2, sleep=record)
        assert len(srv.requests) == 2
    assert done.verdict.label == "completed/natural"
    assert [a["verdict"] for a in done.verdict.attempts] == [
        "upstream_error/500",
        "completed/natural",
    ]
    assert len(waited) == 1


# ---- 3. a relay's [DONE] after a Responses / Anthropic stream's own end -----------------


def responses_body() -> list[bytes]:
    def ev(obj: dict) -> bytes:
        return f"event: {obj['type']}\ndata: {json.dumps(obj)}\n\n".encode()

    return [
        ev({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1"}}),
        ev({"type": "response.output_text.delta", "sequence_number": 1, "delta": "Blue."}),
        ev(
            {
                "type": "response.completed",
                "sequence_number": 2,
                "response": {"id": "resp_1", "usage": {"input_tokens": 3, "output_tokens": 2}},
            }
        ),
        DONE,  # LiteLLM appends it to every Responses stream
    ]


async def test_litellm_done_after_responses_is_a_nonstandard_terminator() -> None:
    async with wire_server({"r": Reply(responses_body())}) as srv:
        v = (await finish(spec_for(srv.base("r"), "openai-responses"))).verdict
    assert v.label == "completed/natural"
    assert "nonstandard_terminator" in v.warnings
    assert "malformed_event" not in v.warnings


async def test_litellm_done_after_anthropic_message_stop() -> None:
    def ev(name: str, obj: dict) -> bytes:
        return f"event: {name}\ndata: {json.dumps({'type': name, **obj})}\n\n".encode()

    body = [
        ev("message_start", {"message": {"id": "msg_1", "usage": {"input_tokens": 5}}}),
        ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
        ev("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}}),
        ev("message_stop", {}),
        DONE,
    ]
    async with wire_server({"a": Reply(body)}) as srv:
        v = (await finish(spec_for(srv.base("a"), "anthropic"))).verdict
    assert v.label == "completed/natural"
    assert v.warnings == ("nonstandard_terminator",)


# ---- 4. a gateway in front says so --------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value", "gateway"),
    [
        ("x-litellm-version", "1.106.0", "LiteLLM"),
        ("x-generation-id", "gen-1749-abc", "OpenRouter"),
        ("x-portkey-trace-id", "t1", "Portkey"),
        ("helicone-id", "h1", "Helicone"),
        ("cf-aig-cache-status", "MISS", "Cloudflare AI Gateway"),
    ],
)
async def test_gateway_headers_add_via_gateway(header: str, value: str, gateway: str) -> None:
    headers = {"Content-Type": "text/event-stream", header: value}
    async with wire_server({"gw": Reply(FINISHED, headers=headers)}) as srv:
        v = (await finish(spec_for(srv.base("gw")))).verdict
    assert v.label == "completed/natural"
    assert "via_gateway" in v.warnings
    assert v.http.gateway == gateway and v.to_json()["http"]["gateway"] == gateway
    assert f"came through {gateway}" in v.explanation and "gateway's word" in v.explanation


async def test_litellm_rewritten_cut_is_still_flagged_and_errors_too() -> None:
    """LiteLLM turns an upstream cut into stop + invented usage + [DONE]: no client can see
    through it, but the verdict says whose word it is."""
    headers = {"Content-Type": "text/event-stream", "x-litellm-call-id": "c1"}
    usage = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    body = [*ANSWER, chunk({}, "stop"), chunk({}, None, usage=usage), DONE]
    error = Reply([b'{"error": {"message": "no"}}'], status=500, headers=headers)
    async with wire_server({"gw": Reply(body, headers=headers), "bad": error}) as srv:
        v = (await finish(spec_for(srv.base("gw")))).verdict
        bad = (await finish(spec_for(srv.base("bad")))).verdict
    assert (v.label, v.output_tokens) == ("completed/natural", 2)
    assert "via_gateway" in v.warnings and v.http.gateway == "LiteLLM"
    assert bad.label == "http_error/server" and bad.warnings == ("via_gateway",)
    async with wire_server({"plain": Reply(FINISHED)}) as srv:
        plain = (await finish(spec_for(srv.base("plain")))).verdict
    assert "via_gateway" not in plain.warnings and plain.http.gateway is None


# ---- 5. stop sequences make a plain stop ambiguous ----------------------------------------


async def test_stop_with_stop_sequences_is_natural_or_stop_sequence() -> None:
    async with wire_server({"s": Reply(FINISHED)}) as srv:
        with_stop = (await finish(spec_for(srv.base("s"), stop=("###",)))).verdict
        without = (await finish(spec_for(srv.base("s")))).verdict
        sent = [json.loads(r["body"]) for r in srv.requests]
    assert sent[0]["stop"] == ["###"] and "stop" not in sent[1]
    assert with_stop.label == "completed/natural_or_stop_sequence"
    assert "stop sequences" in with_stop.explanation
    assert with_stop.actions == ()
    assert without.label == "completed/natural"


async def test_vllm_stop_reason_still_names_the_stop_sequence() -> None:
    body = [*ANSWER, chunk({}, "stop"), DONE]
    body[-2] = body[-2].replace(
        b'"finish_reason": "stop"', b'"finish_reason": "stop", "stop_reason": "###"'
    )
    async with wire_server({"s": Reply(body)}) as srv:
        v = (await finish(spec_for(srv.base("s"), stop=("###",)))).verdict
    assert v.label == "completed/stop_sequence"


async def test_gemini_stop_with_stop_sequences_is_ambiguous_too() -> None:
    def part(text: str, finish: str | None = None) -> bytes:
        cand: dict = {"content": {"parts": [{"text": text}], "role": "model"}}
        if finish:
            cand["finishReason"] = finish
        return b"data: " + json.dumps({"candidates": [cand]}).encode() + b"\r\n\r\n"

    async with wire_server({"g": Reply([part("Blue"), part(".", "STOP")])}) as srv:
        v = (await finish(spec_for(srv.base("g"), "gemini", stop=("END",)))).verdict
    assert v.label == "completed/natural_or_stop_sequence"


async def test_saved_llama_cut_replays_to_the_same_verdict(tmp_path) -> None:
    save = tmp_path / "llama.jsonl"
    headers = {"Content-Type": "text/event-stream", "x-litellm-version": "1.106.0"}
    reply = Reply([*ANSWER, DONE], ending="cut", headers=headers)
    async with wire_server({"llama": reply}) as srv:
        recorder = RunRecorder(save)
        last = None
        async for event in run(spec_for(srv.base("llama"), stop=("###",)), recorder=recorder):
            last = event
        recorder.close()
    replay = diagnose_bytes(save.read_bytes()).verdict
    assert last.verdict.label == replay.label == "interrupted/connection_reset"
    assert (
        set(replay.warnings)
        == set(last.verdict.warnings)
        == {
            "missing_finish_reason",
            "via_gateway",
        }
    )
    assert replay.metrics.headers_ms == last.verdict.metrics.headers_ms


async def test_a_litellm_error_message_with_line_breaks_is_one_report_line() -> None:
    message = "litellm.InternalServerError: Connection error.\n\nLiteLLM: model group failed."
    body = json.dumps({"error": {"message": message, "type": None, "code": "500"}}).encode()
    headers = {"Content-Type": "application/json", "x-litellm-call-id": "c1"}
    async with wire_server({"gw": Reply([body], status=500, headers=headers)}) as srv:
        v = (await finish(spec_for(srv.base("gw")))).verdict
    assert v.label == "http_error/server" and "via_gateway" in v.warnings
    explanation = format_report(v).splitlines()[1]
    assert "Connection error. LiteLLM: model group failed." in explanation

"""The mock provider over real loopback HTTP: routes, auth, scenarios, continuation, faults.

The stream parsers here are deliberately tiny and independent of ``core.stream.sse`` and
``core.stream.dialects``: the mock is an oracle for those, so it must not be checked with them. The
official ``openai`` and ``anthropic`` SDKs check that the wire format is the real one.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from core.mock import SCENARIOS, MockServer, start_mock_server
from core.mock.script import reply_text, reply_tokens

DIALECTS = ("openai-chat", "openai-responses", "anthropic", "gemini", "ollama")
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def srv() -> MockServer:
    with start_mock_server(defaults={"tps": "5000"}) as server:
        yield server


@pytest.fixture(scope="module")
def client(srv: MockServer) -> httpx.Client:
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        yield c


# -- requests ----------------------------------------------------------------------------


def build(
    dialect: str,
    model: str,
    messages: list[tuple[str, str]],
    max_tokens: int | None,
    extra: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """(path, body) of a streaming request in the dialect's own shape."""
    if dialect == "gemini":
        role = {"assistant": "model"}
        contents = [{"role": role.get(r, r), "parts": [{"text": t}]} for r, t in messages]
        body: dict[str, Any] = {"contents": contents}
        if max_tokens is not None:
            body["generationConfig"] = {"maxOutputTokens": max_tokens}
        path = f"/v1beta/models/{model}:streamGenerateContent?alt=sse"
    else:
        msgs = [{"role": r, "content": t} for r, t in messages]
        field_name = {
            "openai-chat": "max_tokens",
            "openai-responses": "max_output_tokens",
            "anthropic": "max_tokens",
        }
        key = "input" if dialect == "openai-responses" else "messages"
        body = {"model": model, key: msgs, "stream": True}
        if dialect == "ollama":
            if max_tokens is not None:
                body["options"] = {"num_predict": max_tokens}
        elif dialect == "anthropic":
            body["max_tokens"] = max_tokens or 1024
        elif max_tokens is not None:
            body[field_name[dialect]] = max_tokens
        path = {
            "openai-chat": "/v1/chat/completions",
            "openai-responses": "/v1/responses",
            "anthropic": "/v1/messages",
            "ollama": "/api/chat",
        }[dialect]
    body.update(extra or {})
    return path, body


def send(
    client: httpx.Client,
    dialect: str,
    *,
    model: str = "any-model",
    messages: list[tuple[str, str]] | None = None,
    max_tokens: int | None = None,
    params: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    prefix: str = "",
) -> httpx.Response:
    messages = messages or [("user", "Tell me about streaming.")]
    path, body = build(dialect, model, messages, max_tokens, extra)
    hdrs = dict(headers or {})
    if params:
        hdrs["x-mock-params"] = params
    return client.post(prefix + path, json=body, headers=hdrs)


# -- an independent, minimal reading of each wire format ---------------------------------


@dataclass
class Seen:
    text: str = ""
    reasoning: str = ""
    refusal: str = ""
    tool_name: str | None = None
    tool_args: str = ""
    finish: Any = None  # the dialect's own stop/finish value
    terminated: bool = False  # [DONE] / message_stop / a final response.* / done line
    error: Any = None
    malformed: int = 0
    events: list[Any] = field(default_factory=list)


def sse_data(body: bytes) -> list[tuple[str | None, str]]:
    """(event, data) pairs; CRLF tolerated, comments skipped, one BOM stripped."""
    text = body.decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
    out = []
    for block in text.split("\n\n"):
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            out.append((event, "\n".join(data)))
    return out


def read(dialect: str, body: bytes) -> Seen:
    seen = Seen()
    if dialect == "ollama":
        items = [("", line) for line in body.decode().splitlines() if line.strip()]
    else:
        items = sse_data(body)
    for _event, data in items:
        if data == "[DONE]":
            seen.terminated = True
            continue
        try:
            obj = json.loads(data)
        except json.JSONDecodeError:
            seen.malformed += 1
            continue
        seen.events.append(obj)
        _READERS[dialect](seen, obj)
    return seen


def _chat(seen: Seen, obj: dict[str, Any]) -> None:
    if "error" in obj:
        seen.error = obj["error"]
    for choice in obj.get("choices", []):
        delta = choice.get("delta", {})
        seen.text += delta.get("content") or ""
        seen.reasoning += delta.get("reasoning_content") or ""
        seen.refusal += delta.get("refusal") or ""
        for call in delta.get("tool_calls") or []:
            seen.tool_name = call.get("function", {}).get("name") or seen.tool_name
            seen.tool_args += call.get("function", {}).get("arguments") or ""
        if choice.get("finish_reason") is not None:
            seen.finish = choice["finish_reason"]


def _responses(seen: Seen, obj: dict[str, Any]) -> None:
    kind = obj["type"]
    if kind == "response.output_text.delta":
        seen.text += obj["delta"]
    elif kind == "response.refusal.delta":
        seen.refusal += obj["delta"]
    elif kind == "response.reasoning_summary_text.delta":
        seen.reasoning += obj["delta"]
    elif kind == "response.function_call_arguments.delta":
        seen.tool_args += obj["delta"]
    elif kind == "response.output_item.added" and obj["item"]["type"] == "function_call":
        seen.tool_name = obj["item"]["name"]
    elif kind in ("response.completed", "response.incomplete", "response.failed"):
        seen.terminated = True
        response = obj["response"]
        details = response.get("incomplete_details") or {}
        seen.finish = details.get("reason") or response["status"]
        seen.error = response.get("error")


def _anthropic(seen: Seen, obj: dict[str, Any]) -> None:
    kind = obj["type"]
    if kind == "content_block_start" and obj["content_block"]["type"] == "tool_use":
        seen.tool_name = obj["content_block"]["name"]
    elif kind == "content_block_delta":
        delta = obj["delta"]
        seen.text += delta.get("text", "")
        seen.reasoning += delta.get("thinking", "")
        seen.tool_args += delta.get("partial_json", "")
    elif kind == "message_delta":
        seen.finish = obj["delta"]["stop_reason"]
    elif kind == "message_stop":
        seen.terminated = True
    elif kind == "error":
        seen.error = obj["error"]


def _gemini(seen: Seen, obj: dict[str, Any]) -> None:
    if "error" in obj:
        seen.error = obj["error"]
    if "promptFeedback" in obj:
        seen.finish = "blocked:" + obj["promptFeedback"]["blockReason"]
    for cand in obj.get("candidates", []):
        for part in cand.get("content", {}).get("parts", []):
            if "functionCall" in part:
                seen.tool_name = part["functionCall"]["name"]
                seen.tool_args = json.dumps(part["functionCall"]["args"])
            elif part.get("thought"):
                seen.reasoning += part["text"]
            else:
                seen.text += part.get("text", "")
        if "finishReason" in cand:
            seen.finish = cand["finishReason"]


def _ollama(seen: Seen, obj: dict[str, Any]) -> None:
    if "error" in obj:
        seen.error = obj["error"]
        return
    message = obj.get("message", {})
    seen.text += message.get("content", "")
    seen.reasoning += message.get("thinking", "")
    for call in message.get("tool_calls") or []:
        seen.tool_name = call["function"]["name"]
        seen.tool_args = json.dumps(call["function"]["arguments"])
    if obj.get("done"):
        seen.terminated = True
        seen.finish = obj["done_reason"]


_READERS = {
    "openai-chat": _chat,
    "openai-responses": _responses,
    "anthropic": _anthropic,
    "gemini": _gemini,
    "ollama": _ollama,
}

NATURAL = {
    "openai-chat": "stop",
    "openai-responses": "completed",
    "anthropic": "end_turn",
    "gemini": "STOP",
    "ollama": "stop",
}
MAX_SIGNAL = {
    "openai-chat": "length",
    "openai-responses": "max_output_tokens",
    "anthropic": "max_tokens",
    "gemini": "MAX_TOKENS",
    "ollama": "length",
}
CONTENT_TYPE = {
    "openai-chat": "text/event-stream",
    "openai-responses": "text/event-stream",
    "anthropic": "text/event-stream",
    "gemini": "text/event-stream",
    "ollama": "application/x-ndjson",
}


def request_id(resp: httpx.Response) -> str:
    return resp.headers.get("x-request-id") or resp.headers["request-id"]


# -- routes ------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_route_streams_the_script_to_its_natural_end(client, dialect):
    resp = send(client, dialect, params="tokens=30")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith(CONTENT_TYPE[dialect])
    assert request_id(resp).startswith("req_mock_")
    seen = read(dialect, resp.content)
    assert seen.text == reply_text(30)
    assert seen.finish == NATURAL[dialect]
    assert seen.terminated or dialect == "gemini"
    assert seen.malformed == 0


@pytest.mark.parametrize(
    ("dialect", "prefix"),
    [
        ("openai-chat", "/openai/deployments/my-gpt"),
        ("openai-responses", "/openai"),
        ("anthropic", "/proxy"),
        ("gemini", "/gateway/google"),
        ("ollama", "/ollama"),
    ],
)
def test_routes_work_under_any_prefix(client, dialect, prefix):
    resp = send(client, dialect, params="tokens=5", prefix=prefix)
    assert resp.status_code == 200
    assert read(dialect, resp.content).text == reply_text(5)


def test_chat_route_without_v1_and_azure_api_key(client):
    resp = client.post(
        "/openai/deployments/x/chat/completions?api-version=2024-10-21",
        json={"model": "gpt", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        headers={"api-key": "azure-key", "x-mock-params": "tokens=4"},
    )
    assert resp.status_code == 200
    assert read("openai-chat", resp.content).text == reply_text(4)


def test_gemini_sse_uses_crlf_and_no_terminator(client):
    resp = send(client, "gemini", params="tokens=5")
    body = resp.content
    assert b"\r\n\r\n" in body and b"\n\n" not in body.replace(b"\r\n", b"")
    last = json.loads(sse_data(body)[-1][1])
    usage = last["usageMetadata"]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert usage["candidatesTokenCount"] == 5
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + 5


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/v1/models", lambda j: j["object"] == "list" and j["data"][0]["id"] == "mock-normal"),
        ("/azure/openai/v1/models", lambda j: j["data"][0]["object"] == "model"),
        ("/v1beta/models", lambda j: j["models"][0]["name"] == "models/mock-normal"),
        ("/api/tags", lambda j: j["models"][0]["name"] == "mock-normal"),
    ],
)
def test_model_listings(client, path, check):
    resp = client.get(path)
    assert resp.status_code == 200
    assert check(resp.json())
    names = json.dumps(resp.json())
    assert all(f"mock-{s}" in names for s in SCENARIOS)


def test_unknown_route_is_a_404_with_a_request_id(client):
    resp = client.post("/v2/something", json={})
    assert resp.status_code == 404
    assert request_id(resp).startswith("req_mock_")


# -- auth --------------------------------------------------------------------------------

SECRET = "sk-very-secret-123"


@pytest.mark.parametrize(
    ("dialect", "headers", "query", "status"),
    [
        ("openai-chat", {"Authorization": f"Bearer {SECRET}"}, "", 200),
        ("openai-chat", {"api-key": SECRET}, "", 200),
        ("openai-chat", {"Authorization": f"Basic {SECRET}"}, "", 401),
        ("openai-chat", {"Authorization": SECRET}, "", 401),
        ("openai-chat", {"x-api-key": SECRET}, "", 401),
        ("openai-chat", {"Authorization": "Bearer mock-unauthorized"}, "", 401),
        ("openai-responses", {"Authorization": f"Bearer {SECRET}"}, "", 200),
        ("openai-responses", {"x-goog-api-key": SECRET}, "", 401),
        ("anthropic", {"x-api-key": SECRET}, "", 200),
        ("anthropic", {"Authorization": f"Bearer {SECRET}"}, "", 200),
        ("anthropic", {"Authorization": f"Basic {SECRET}"}, "", 401),
        ("anthropic", {"api-key": SECRET}, "", 401),
        ("anthropic", {"x-api-key": "mock-unauthorized"}, "", 401),
        ("gemini", {"x-goog-api-key": SECRET}, "", 200),
        ("gemini", {}, f"&key={SECRET}", 200),
        ("gemini", {}, "&key=mock-unauthorized", 401),
        ("gemini", {"x-api-key": SECRET}, "", 401),
        ("ollama", {"Authorization": f"Bearer {SECRET}"}, "", 200),
        ("ollama", {"Authorization": f"Basic {SECRET}"}, "", 401),
    ],
)
def test_auth_header_shapes(client, dialect, headers, query, status):
    path, body = build(dialect, "any-model", [("user", "hi")], None)
    hdrs = {"x-mock-params": "tokens=3", **headers}
    resp = client.post(
        path + (query if "?" in path else query.replace("&", "?", 1)), json=body, headers=hdrs
    )
    assert resp.status_code == status
    assert SECRET not in resp.text
    assert all(SECRET not in v for v in resp.headers.values())
    if status == 401:
        err = resp.json()
        if dialect == "anthropic":
            assert err["type"] == "error"
            assert err["error"]["type"] == "authentication_error"
            assert resp.headers["request-id"] == err["request_id"]
        elif dialect == "gemini":
            assert err["error"]["status"] == "UNAUTHENTICATED"
        elif dialect == "ollama":
            assert isinstance(err["error"], str)
        else:
            assert err["error"]["code"] == "invalid_api_key"
            assert set(err["error"]) == {"message", "type", "param", "code"}


def test_no_auth_header_is_served(client):
    assert send(client, "anthropic", params="tokens=2").status_code == 200


# -- model, scenario and parameters ------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_unknown_mock_model_is_a_404_in_the_dialects_format(client, dialect):
    resp = send(client, dialect, model="mock-xyz")
    assert resp.status_code == 404
    err = resp.json()
    if dialect == "anthropic":
        assert err["error"]["type"] == "not_found_error"
    elif dialect == "gemini":
        assert err["error"]["status"] == "NOT_FOUND"
    elif dialect == "ollama":
        assert "mock-xyz" in err["error"]
    else:
        assert err["error"]["code"] == "model_not_found"


def test_scenario_header_overrides_the_model(client):
    resp = send(client, "openai-chat", model="mock-normal", headers={"x-mock-scenario": "http_500"})
    assert resp.status_code == 500
    resp = send(client, "openai-chat", model="mock-xyz", headers={"x-mock-scenario": "normal"})
    assert resp.status_code == 200


def test_params_header_unknown_keys_ignored_bad_values_rejected(client):
    resp = send(client, "openai-chat", params="tokens=7; colour=blue ;tps=4000")
    assert read("openai-chat", resp.content).text == reply_text(7)
    for bad, key in [
        ("tps=fast", "tps"),
        ("tokens=-3", "tokens"),
        ("tps=0", "tps"),
        ("cut_at", ""),
    ]:
        resp = send(client, "openai-chat", params=bad)
        assert resp.status_code == 400
        assert key in resp.json()["error"]["message"]


def test_server_defaults_are_the_fallback_params():
    with (
        start_mock_server(defaults={"tokens": "9", "tps": "5000"}) as other,
        httpx.Client(base_url=other.url) as c,
    ):
        resp = send(c, "ollama")
        assert read("ollama", resp.content).text == reply_text(9)
        resp = send(c, "ollama", params="tokens=3")
        assert read("ollama", resp.content).text == reply_text(3)
    with pytest.raises(ValueError, match="tps"):
        start_mock_server(defaults={"tps": "nope"})


@pytest.mark.parametrize("dialect", DIALECTS)
def test_request_max_tokens_is_honoured_with_the_dialects_signal(client, dialect):
    resp = send(client, dialect, max_tokens=6, params="tokens=40")
    seen = read(dialect, resp.content)
    assert seen.text == reply_text(6)
    assert seen.finish == MAX_SIGNAL[dialect]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_max_tokens_scenario_cuts_at_cut_at(client, dialect):
    resp = send(client, dialect, model="mock-max_tokens", params="tokens=40;cut_at=11")
    seen = read(dialect, resp.content)
    assert seen.text == reply_text(11)
    assert seen.finish == MAX_SIGNAL[dialect]
    resp = send(
        client, dialect, model="mock-max_tokens", params="tokens=40;cut_at=11", max_tokens=4
    )
    assert read(dialect, resp.content).text == reply_text(4)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_max_tokens_scenario_cuts_at_the_request_limit_and_completes_under_a_larger_one(
    client, dialect
):
    """Without cut_at the cut is the request's own limit, so More tokens can succeed."""
    resp = send(client, dialect, model="mock-max_tokens", params="tokens=40", max_tokens=7)
    seen = read(dialect, resp.content)
    assert (seen.text, seen.finish) == (reply_text(7), MAX_SIGNAL[dialect])
    resp = send(client, dialect, model="mock-max_tokens", params="tokens=40", max_tokens=80)
    seen = read(dialect, resp.content)
    assert seen.text == reply_text(40)
    assert seen.finish != MAX_SIGNAL[dialect]


def test_chat_usage_and_input_token_count(client):
    resp = send(
        client,
        "openai-chat",
        messages=[("system", "Be brief."), ("user", "one two three")],
        params="tokens=5",
        extra={"stream_options": {"include_usage": True}},
    )
    last = read("openai-chat", resp.content).events[-1]
    assert last["choices"] == []
    assert last["usage"] == {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}


def test_anthropic_usage(client):
    resp = send(
        client,
        "anthropic",
        messages=[("user", "a b c d")],
        params="tokens=8",
        extra={"system": "x y"},
    )
    events = read("anthropic", resp.content).events
    assert events[0]["message"]["usage"]["input_tokens"] == 6
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["usage"]["output_tokens"] == 8


def test_responses_events_are_numbered_and_complete(client):
    resp = send(client, "openai-responses", params="tokens=6")
    events = read("openai-responses", resp.content).events
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events[:4]] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    final = events[-1]["response"]
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"] == reply_text(6)
    assert final["usage"]["output_tokens"] == 6


# -- continuation ------------------------------------------------------------------------


def _continue_messages(dialect: str, partial: str) -> list[tuple[str, str]]:
    first = ("user", "Tell me about streaming.")
    if dialect in ("anthropic", "ollama"):
        return [first, ("assistant", partial)]  # prefill / continue_final_message
    return [first, ("assistant", partial), ("user", "Continue exactly where you stopped.")]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_continuation_completes_the_script(client, dialect):
    params = "tokens=30"
    first = read(dialect, send(client, dialect, max_tokens=10, params=params).content)
    assert first.finish == MAX_SIGNAL[dialect]
    partial = first.text
    assert partial == reply_text(10)
    resp = send(client, dialect, messages=_continue_messages(dialect, partial), params=params)
    second = read(dialect, resp.content)
    assert partial + second.text == reply_text(30)
    assert second.text.startswith(" ")  # the next token, with its whitespace
    assert second.finish == NATURAL[dialect]


@pytest.mark.parametrize("dialect", ["openai-chat", "gemini"])
def test_continuation_of_a_final_assistant_message_and_a_trimmed_partial(client, dialect):
    partial = reply_text(12) + " "  # trailing whitespace: matched on the stripped text too
    msgs = [("user", "hi"), ("assistant", partial.rstrip())]
    cont = read(dialect, send(client, dialect, messages=msgs, params="tokens=20").content).text
    assert partial.rstrip() + cont == reply_text(20)
    msgs = [("user", "hi"), ("assistant", partial)]
    cont = read(dialect, send(client, dialect, messages=msgs, params="tokens=20").content).text
    assert partial + cont == reply_text(20)


def test_continuation_inside_a_token_and_of_text_not_from_the_script(client):
    full = reply_text(20)
    partial = full[:-3]  # ends inside the last token
    msgs = [("user", "hi"), ("assistant", partial)]
    cont = read("ollama", send(client, "ollama", messages=msgs, params="tokens=20").content).text
    assert partial + cont == full
    msgs = [("user", "hi"), ("assistant", "Something else entirely.")]
    cont = read("ollama", send(client, "ollama", messages=msgs, params="tokens=20").content).text
    assert cont == full


def test_responses_continue_by_previous_response_id(client):
    first = read(
        "openai-responses",
        send(client, "openai-responses", max_tokens=8, params="tokens=25").content,
    )
    assert first.finish == "max_output_tokens"
    response_id = first.events[0]["response"]["id"]
    resp = send(
        client,
        "openai-responses",
        messages=[("user", "Continue.")],
        params="tokens=25",
        extra={"previous_response_id": response_id},
    )
    second = read("openai-responses", resp.content)
    assert first.text + second.text == reply_text(25)
    assert second.finish == "completed"
    resp = send(client, "openai-responses", extra={"previous_response_id": "resp_unknown"})
    assert resp.status_code == 400
    assert "resp_unknown" in resp.json()["error"]["message"]


def test_anthropic_prefill_rules(client):
    msgs = [("user", "hi"), ("assistant", reply_text(5) + " ")]
    resp = send(client, "anthropic", messages=msgs)
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert "trailing whitespace" in err["message"]
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    resp = send(
        client, "anthropic", messages=[("user", "hi"), ("assistant", reply_text(5))], extra=thinking
    )
    assert resp.status_code == 400
    assert "thinking" in resp.json()["error"]["message"]
    path, body = build("anthropic", "claude", [("user", "hi")], None)
    del body["max_tokens"]
    resp = client.post(path, json=body)
    assert resp.status_code == 400
    assert "max_tokens" in resp.json()["error"]["message"]


def test_pause_turn_then_resend_completes(client):
    params = "tokens=30;cut_at=9"
    first = read(
        "anthropic", send(client, "anthropic", model="mock-pause_turn", params=params).content
    )
    assert (first.text, first.finish) == (reply_text(9), "pause_turn")
    msgs = [("user", "Tell me about streaming."), ("assistant", first.text)]
    resp = send(client, "anthropic", model="mock-pause_turn", messages=msgs, params=params)
    second = read("anthropic", resp.content)
    assert first.text + second.text == reply_text(30)
    assert second.finish == "end_turn"


@pytest.mark.parametrize("scenario", ["eof_mid_stream", "max_tokens", "mid_stream_error"])
def test_a_fault_behind_the_partial_text_is_not_played_again(client, scenario):
    params = "tokens=30;cut_at=10"
    first = read(
        "openai-chat", send(client, "openai-chat", model=f"mock-{scenario}", params=params).content
    )
    assert first.text == reply_text(10)
    msgs = _continue_messages("openai-chat", first.text)
    resp = send(client, "openai-chat", model=f"mock-{scenario}", messages=msgs, params=params)
    second = read("openai-chat", resp.content)
    assert first.text + second.text == reply_text(30)
    assert (second.finish, second.terminated) == ("stop", True)


# -- fail_first --------------------------------------------------------------------------


def test_fail_first_counts_per_scenario_and_conversation(client):
    params = "tokens=4;fail_first=2"
    convo = [("user", "fail-first conversation A")]
    got = [
        send(client, "anthropic", model="mock-http_500", messages=convo, params=params)
        for _ in range(3)
    ]
    assert [r.status_code for r in got] == [500, 500, 200]
    assert read("anthropic", got[2].content).text == reply_text(4)
    other = [("user", "fail-first conversation B")]
    resp = send(client, "anthropic", model="mock-http_500", messages=other, params=params)
    assert resp.status_code == 500
    # a success-kind scenario is not a fault: fail_first does not change it
    for _ in range(2):
        resp = send(
            client,
            "anthropic",
            model="mock-max_tokens",
            messages=convo,
            params="tokens=10;fail_first=1",
            max_tokens=5,
        )
        assert read("anthropic", resp.content).finish == "max_tokens"


def test_http_429_has_retry_after_and_dialect_bodies(client):
    resp = send(client, "openai-chat", model="mock-http_429", params="retry_after=2")
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "2"
    assert resp.headers["retry-after-ms"] == "2000"
    assert resp.json()["error"]["code"] == "rate_limit_exceeded"
    resp = send(client, "anthropic", model="mock-http_429")
    assert resp.headers["retry-after"] == "1"
    assert resp.json()["error"]["type"] == "rate_limit_error"
    resp = send(client, "gemini", model="mock-http_429")
    assert resp.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert resp.json()["error"]["code"] == 429


def test_http_529_is_anthropic_overloaded_and_503_elsewhere(client):
    resp = send(client, "anthropic", model="mock-http_529")
    assert resp.status_code == 529
    assert resp.json()["error"]["type"] == "overloaded_error"
    assert send(client, "gemini", model="mock-http_529").status_code == 503


@pytest.mark.parametrize("dialect", DIALECTS)
def test_bad_content_type_is_a_json_200(client, dialect):
    resp = send(client, dialect, model="mock-bad_content_type")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    assert "error" in resp.json()


# -- transport faults --------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_reset_mid_stream_is_a_real_tcp_reset(client, dialect):
    path, body = build(dialect, "mock-reset_mid_stream", [("user", "hi")], None)
    received = b""
    with (
        pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)),
        client.stream(
            "POST", path, json=body, headers={"x-mock-params": "tokens=20;cut_at=5"}
        ) as resp,
    ):
        for chunk in resp.iter_raw():
            received += chunk
    assert read(dialect, received).text == reply_text(5)  # all sent before the reset arrived


@pytest.mark.parametrize("dialect", DIALECTS)
def test_eof_mid_stream_ends_the_body_cleanly_without_finish(client, dialect):
    resp = send(client, dialect, model="mock-eof_mid_stream", params="tokens=20;cut_at=7")
    assert resp.status_code == 200  # the chunked body ended properly: no exception
    seen = read(dialect, resp.content)
    assert seen.text == reply_text(7)
    assert (seen.finish, seen.terminated) == (None, False)


def test_utf8_split_writes_cut_inside_characters(client, srv):
    resp = send(client, "openai-chat", model="mock-utf8_split", params="tokens=100")
    body = resp.content
    assert read("openai-chat", body).text == reply_text(100)
    sizes = [n for _, rid, n in srv.write_log if rid == request_id(resp)]
    assert sum(sizes) == len(body)
    cuts, offset = [], 0
    for size in sizes:
        piece = body[offset : offset + size]
        offset += size
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            cuts.append(piece)
    assert len(cuts) >= 4  # é, ï, —, ☕, 🚀 in the first 100 tokens


def test_write_log_has_one_entry_per_event_in_time_order(client, srv):
    resp = send(client, "anthropic", params="tokens=10")
    entries = [(t, n) for t, rid, n in srv.write_log if rid == request_id(resp)]
    assert len(entries) == len(sse_data(resp.content))
    assert [t for t, _ in entries] == sorted(t for t, _ in entries)


def test_content_events_keep_their_pace(client, srv):
    """tps=250: the 40 text events go out on a 4 ms schedule, none before its time."""
    resp = send(client, "openai-chat", params="tokens=40;tps=250;first_byte_ms=0")
    times = [t for t, rid, n in srv.write_log if rid == request_id(resp)]
    events = sse_data(resp.content)
    texts = [
        i
        for i, (_, data) in enumerate(events)
        if '"content":"' in data and '"content":""' not in data
    ]
    content = [times[i] for i in texts if i < len(times)]
    assert len(content) == 40
    assert content[-1] - content[0] >= 39 * 4_000_000  # the schedule is absolute: no drift


def test_full_speed_streams_take_turns(srv):
    """Two streams as fast as the mock can write (a race's lanes on it): a token already due
    goes out at once, but each stream gives the loop a turn every millisecond, so the other
    one goes on meanwhile instead of waiting for it to end."""
    path, body = build("openai-chat", "mock-normal", [("user", "race")], 40_000)
    ids: list[str] = []

    def one() -> None:
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            r = c.post(path, json=body, headers={"x-mock-params": "tokens=20000;tps=1000000"})
            ids.append(request_id(r))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(ids) == 2
    order = [rid for _, rid, _ in srv.write_log if rid in ids]
    switches = sum(1 for a, b in itertools.pairwise(order) if a != b)
    assert switches >= 20, switches  # interleaved, not one stream then the other


def test_full_speed_tokens_already_due_share_writes_of_whole_events(client, srv):
    """Over 10,000 tok/s the tokens already due go out together, up to 64 a write, each
    write ending at an event's end: the same body, in fewer writes."""
    resp = send(client, "openai-chat", params="tokens=2000;tps=1000000;first_byte_ms=0")
    body = resp.content
    assert read("openai-chat", body).text == reply_text(2000)
    sizes = [n for _, rid, n in srv.write_log if rid == request_id(resp)]
    assert sum(sizes) == len(body)
    assert len(sizes) < len(sse_data(body)) / 4
    offset = 0
    for size in sizes:
        piece = body[offset : offset + size]
        offset += size
        assert piece.endswith(b"\n\n")
        assert piece.count(b"\n\n") <= 64


def test_stall_is_cut_when_the_server_stops():
    server = start_mock_server(defaults={"tps": "5000"})
    path, body = build("openai-chat", "mock-stall", [("user", "hi")], None)
    with (
        httpx.Client(base_url=server.url, timeout=60) as c,
        c.stream("POST", path, json=body, headers={"x-mock-params": "tokens=20;cut_at=3"}) as r,
    ):
        chunks = r.iter_raw()
        received = b""
        while reply_text(3).encode().split(b" ")[-1] not in received:
            received += next(chunks)
        server.stop()  # the stalled handler is cancelled; the connection closes
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in chunks:
                received += chunk
    server.stop()  # idempotent


def test_stall_resumes_after_stall_ms(client):
    resp = send(client, "ollama", model="mock-stall", params="tokens=12;cut_at=4;stall_ms=1")
    seen = read("ollama", resp.content)
    assert (seen.text, seen.finish) == (reply_text(12), "stop")


# -- scenarios, per dialect --------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_scenario_answers_in_every_dialect(client, dialect):
    expected_status = {"http_429": 429, "http_500": 500, "http_529": (503, 529)}
    for scenario in SCENARIOS:
        if scenario in ("reset_mid_stream",):
            continue
        params = "tokens=12;stall_ms=1;first_byte_ms=0"
        resp = send(client, dialect, model=f"mock-{scenario}", params=params)
        want = expected_status.get(scenario, 200)
        if scenario == "context_window" and dialect != "anthropic":
            want = 400
        assert resp.status_code in (want if isinstance(want, tuple) else (want,)), scenario


@pytest.mark.parametrize(
    ("dialect", "name_check"),
    [
        ("openai-chat", "tool_calls"),
        ("openai-responses", "completed"),
        ("anthropic", "tool_use"),
        ("gemini", "STOP"),
        ("ollama", "stop"),
    ],
)
def test_tool_call_is_complete(client, dialect, name_check):
    tools = {
        "gemini": [{"functionDeclarations": [{"name": "lookup"}]}],
        "openai-responses": [{"type": "function", "name": "lookup"}],
        "anthropic": [{"name": "lookup", "input_schema": {"type": "object"}}],
    }.get(dialect, [{"type": "function", "function": {"name": "lookup"}}])
    resp = send(client, dialect, model="mock-tool_call", extra={"tools": tools})
    seen = read(dialect, resp.content)
    assert seen.tool_name == "lookup"
    assert json.loads(seen.tool_args) == {"location": "Paris, France", "unit": "celsius"}
    assert seen.finish == name_check
    assert seen.text == ""


@pytest.mark.parametrize("dialect", ["openai-chat", "openai-responses", "anthropic"])
def test_tool_call_truncated_honours_max_tokens(client, dialect):
    resp = send(client, dialect, model="mock-tool_call_truncated", max_tokens=40)
    seen = read(dialect, resp.content)
    assert seen.finish == MAX_SIGNAL[dialect]
    assert seen.tool_name == "write_file"
    with pytest.raises(json.JSONDecodeError):
        json.loads(seen.tool_args)
    resp = send(client, dialect, model="mock-tool_call_truncated", max_tokens=4000)
    seen = read(dialect, resp.content)
    args = json.loads(seen.tool_args)
    assert args["content"].startswith("Streaming is a small act of trust.")
    assert len(read(dialect, resp.content).events) > 140


@pytest.mark.parametrize(
    ("dialect", "finish"),
    [
        ("openai-chat", "stop"),
        ("openai-responses", "completed"),
        ("anthropic", "refusal"),
        ("gemini", "SAFETY"),
        ("ollama", "stop"),
    ],
)
def test_refusal(client, dialect, finish):
    seen = read(dialect, send(client, dialect, model="mock-refusal", params="tokens=20").content)
    assert seen.finish == finish
    if dialect in ("openai-chat", "openai-responses"):
        assert seen.refusal.startswith("I'm sorry") and seen.text == ""
    elif dialect == "ollama":
        assert seen.text.startswith("I'm sorry")


@pytest.mark.parametrize(
    ("dialect", "finish"),
    [
        ("openai-chat", "content_filter"),
        ("openai-responses", "content_filter"),
        ("anthropic", "refusal"),
        ("gemini", "SAFETY"),
        ("ollama", "stop"),
    ],
)
def test_content_filter(client, dialect, finish):
    resp = send(client, dialect, model="mock-content_filter", params="tokens=20;cut_at=6")
    seen = read(dialect, resp.content)
    assert seen.finish == finish
    if dialect != "ollama":
        assert seen.text == reply_text(6)


def test_gemini_blocked_prompt(client):
    resp = send(client, "gemini", model="mock-content_filter", params="block=1")
    seen = read("gemini", resp.content)
    assert seen.finish == "blocked:SAFETY"
    assert all("candidates" not in e for e in seen.events)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_thinking_comes_before_the_answer(client, dialect):
    resp = send(client, dialect, model="mock-thinking", params="tokens=8")
    seen = read(dialect, resp.content)
    assert seen.reasoning.startswith("The user wants a friendly reply")
    assert seen.text == reply_text(8)
    if dialect == "anthropic":
        kinds = [e["delta"]["type"] for e in seen.events if e["type"] == "content_block_delta"]
        assert kinds.index("signature_delta") < kinds.index("text_delta")


def test_stop_sequence(client):
    seen = read(
        "anthropic",
        send(client, "anthropic", model="mock-stop_sequence", params="tokens=40;cut_at=5").content,
    )
    assert (seen.text, seen.finish) == (reply_text(5), "stop_sequence")
    delta = next(e for e in seen.events if e["type"] == "message_delta")["delta"]
    assert delta["stop_sequence"] == reply_tokens(6)[5].strip()
    resp = send(
        client,
        "openai-chat",
        model="mock-stop_sequence",
        params="tokens=40",
        extra={"stop": ["question"]},
    )
    seen = read("openai-chat", resp.content)
    assert seen.text == reply_text(40).split("question")[0]
    assert seen.events[-1]["choices"][0]["stop_reason"] == "question"


def test_empty_reply(client):
    for dialect in DIALECTS:
        seen = read(dialect, send(client, dialect, model="mock-empty_reply").content)
        assert (seen.text, seen.finish) == ("", NATURAL[dialect])


@pytest.mark.parametrize(
    ("alias", "tokens"), [("max_tokens", 6), ("end_turn", 12), ("insufficient_system_resource", 6)]
)
def test_relay_alias(client, alias, tokens):
    resp = send(client, "openai-chat", model="mock-relay_alias", params=f"tokens=12;alias={alias}")
    seen = read("openai-chat", resp.content)
    assert (seen.text, seen.finish, seen.terminated) == (reply_text(tokens), alias, True)


def test_missing_done_and_done_without_finish(client):
    seen = read("openai-chat", send(client, "openai-chat", model="mock-missing_done").content)
    assert (seen.finish, seen.terminated) == ("stop", False)
    seen = read(
        "openai-chat", send(client, "openai-chat", model="mock-done_without_finish").content
    )
    assert (seen.finish, seen.terminated) == (None, True)
    assert seen.text == reply_text(200)
    seen = read("anthropic", send(client, "anthropic", model="mock-missing_done").content)
    assert (seen.finish, seen.terminated) == ("end_turn", False)
    seen = read(
        "openai-responses", send(client, "openai-responses", model="mock-missing_done").content
    )
    assert seen.events[-1]["type"] == "response.output_text.done"
    for dialect in ("gemini", "ollama"):
        seen = read(dialect, send(client, dialect, model="mock-missing_done").content)
        assert (seen.finish, seen.text) == (None, reply_text(200))


def test_usage_chunk_sends_usage_in_every_chunk(client):
    seen = read(
        "openai-chat",
        send(client, "openai-chat", model="mock-usage_chunk", params="tokens=5").content,
    )
    assert all("usage" in e for e in seen.events)
    assert seen.events[-1]["choices"] == []
    assert seen.events[-1]["usage"]["completion_tokens"] == 5


@pytest.mark.parametrize(
    ("dialect", "error_key"),
    [
        ("openai-chat", "server_error"),
        ("openai-responses", "server_error"),
        ("anthropic", "overloaded_error"),
        ("gemini", "UNAVAILABLE"),
        ("ollama", None),
    ],
)
def test_mid_stream_error(client, dialect, error_key):
    resp = send(client, dialect, model="mock-mid_stream_error", params="tokens=20;cut_at=5")
    seen = read(dialect, resp.content)
    assert seen.text == reply_text(5)
    assert seen.error
    if error_key:
        assert error_key in json.dumps(seen.error)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_malformed_line_then_the_stream_ends_properly(client, dialect):
    resp = send(client, dialect, model="mock-malformed_line", params="tokens=12;cut_at=6")
    seen = read(dialect, resp.content)
    assert seen.malformed == 1
    assert (seen.text, seen.finish) == (reply_text(12), NATURAL[dialect])


def test_framing_scenarios(client):
    body = send(client, "openai-chat", model="mock-crlf", params="tokens=5").content
    assert body.count(b"\r\n\r\n") == 8  # role, 5 tokens, finish, [DONE]
    assert b"\n" not in body.replace(b"\r\n", b"")
    body = send(client, "anthropic", model="mock-bom", params="tokens=5").content
    assert body.startswith(b"\xef\xbb\xbfevent: message_start")
    body = send(client, "anthropic", model="mock-comments_keepalive", params="tokens=20").content
    assert body.startswith(b": OPENROUTER PROCESSING\n\n")
    assert b"\n: keep-alive\n" in body
    assert body.count(b"event: ping") >= 2
    assert read("anthropic", body).text == reply_text(20)


def test_context_window(client):
    seen = read(
        "anthropic",
        send(client, "anthropic", model="mock-context_window", params="tokens=20;cut_at=3").content,
    )
    assert seen.finish == "model_context_window_exceeded"
    resp = send(client, "openai-chat", model="mock-context_window")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "context_length_exceeded"


def test_chat_stream_false_is_a_plain_completion(client):
    resp = client.post(
        "/v1/chat/completions",
        headers={"x-mock-params": "tokens=6"},
        json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
    )
    answer = resp.json()
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"] == reply_text(6)
    assert answer["choices"][0]["finish_reason"] == "stop"


# -- the official SDKs parse the mock's streams ------------------------------------------


def test_openai_sdk_parses_normal_max_tokens_and_tool_call(srv):
    with openai.OpenAI(base_url=srv.base_urls["openai-chat"], api_key="x") as sdk:
        msgs = [{"role": "user", "content": "hi"}]
        stream = sdk.chat.completions.create(
            model="gpt-4o",
            messages=msgs,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"x-mock-params": "tokens=25"},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == reply_text(25)
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
        assert chunks[-1].usage.completion_tokens == 25

        stream = sdk.chat.completions.create(
            model="mock-max_tokens", messages=msgs, stream=True, max_tokens=5
        )
        finishes = [c.choices[0].finish_reason for c in stream if c.choices]
        assert finishes[-1] == "length"

        stream = sdk.chat.completions.create(model="mock-tool_call", messages=msgs, stream=True)
        args, name = "", None
        for c in stream:
            for call in c.choices[0].delta.tool_calls or []:
                name = call.function.name or name
                args += call.function.arguments or ""
        assert name == "get_weather"
        assert json.loads(args)["location"] == "Paris, France"

        with sdk.chat.completions.stream(model="mock-tool_call", messages=msgs) as s:
            final = s.get_final_completion()
        call = final.choices[0].message.tool_calls[0]
        assert final.choices[0].finish_reason == "tool_calls"
        assert json.loads(call.function.arguments)["unit"] == "celsius"


def test_openai_sdk_parses_a_responses_stream(srv):
    with openai.OpenAI(base_url=srv.base_urls["openai-responses"], api_key="x") as sdk:
        stream = sdk.responses.create(
            model="gpt-4o", input="hi", stream=True, extra_headers={"x-mock-params": "tokens=15"}
        )
        events = list(stream)
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert text == reply_text(15)
        assert events[-1].type == "response.completed"
        assert events[-1].response.usage.output_tokens == 15


def test_anthropic_sdk_parses_normal_and_tool_call(srv):
    with anthropic.Anthropic(base_url=srv.url, api_key="x") as sdk:
        msgs = [{"role": "user", "content": "hi"}]
        with sdk.messages.stream(
            model="claude-x",
            max_tokens=1000,
            messages=msgs,
            extra_headers={"x-mock-params": "tokens=25"},
        ) as s:
            text = "".join(s.text_stream)
            final = s.get_final_message()
        assert text == reply_text(25)
        assert final.stop_reason == "end_turn"
        assert final.usage.output_tokens == 25

        with sdk.messages.stream(model="mock-max_tokens", max_tokens=7, messages=msgs) as s:
            final = s.get_final_message()
        assert final.stop_reason == "max_tokens"
        assert final.content[0].text == reply_text(7)

        with sdk.messages.stream(model="mock-tool_call", max_tokens=1000, messages=msgs) as s:
            final = s.get_final_message()
        assert final.stop_reason == "tool_use"
        assert final.content[0].type == "tool_use"
        assert final.content[0].input == {"location": "Paris, France", "unit": "celsius"}

        with sdk.messages.stream(
            model="mock-thinking",
            max_tokens=1000,
            messages=msgs,
            extra_headers={"x-mock-params": "tokens=5"},
        ) as s:
            final = s.get_final_message()
        assert [b.type for b in final.content] == ["thinking", "text"]
        assert final.content[0].signature


# -- serve_forever -----------------------------------------------------------------------


def test_serve_forever_prints_urls_and_stops_cleanly_on_ctrl_c():
    code = "from core.mock import serve_forever; serve_forever('127.0.0.1', 0, {'tps': '5000'})"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        first = proc.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        lines = [proc.stdout.readline() for _ in range(8)]
        assert any("openai-chat" in ln and url + "/v1" in ln for ln in lines)
        assert any("comments_keepalive" in ln for ln in lines)
        with httpx.Client(base_url=url) as c:
            assert read("ollama", send(c, "ollama", params="tokens=3").content).text == reply_text(
                3
            )
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "Traceback" not in err


def test_a_port_in_use_raises_in_the_caller(srv):
    with pytest.raises(OSError):
        start_mock_server(port=srv.port)


def test_a_max_token_limit_before_cut_at_wins(client):
    resp = send(
        client,
        "openai-chat",
        model="mock-eof_mid_stream",
        max_tokens=3,
        params="tokens=20;cut_at=10",
    )
    seen = read("openai-chat", resp.content)
    assert (seen.text, seen.finish, seen.terminated) == (reply_text(3), "length", True)


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("include_usage", [False, True])
def test_chat_text_chunks_from_the_template_are_the_bytes_of_a_whole_dump(
    crlf: bool, include_usage: bool
) -> None:
    """The mock formats text chunks from a template (its hot path at a million tokens): each
    must be byte for byte the chunk a full JSON dump gives, whatever the piece holds."""
    from core.mock.openai_chat import ChatWriter
    from core.mock.plan import Plan

    pieces = ["Hi", ' "quoted" ', "back\\slash", "new\nline", "naïve ☕ 🚀", "\x00\x1f", ""]
    plan = Plan("openai-chat", "mock-normal", "normal", 7, 1700000000, 3, 50.0,
                text=tuple(pieces), include_usage=include_usage, crlf=crlf)  # fmt: skip
    fast, slow = ChatWriter(plan), ChatWriter(plan)
    for piece in pieces:
        (frame,) = fast.text(piece)
        assert frame.content and frame.data == slow.chunk({"content": piece})
    assert fast.sent == len(pieces)

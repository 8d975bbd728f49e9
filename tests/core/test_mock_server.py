"""The mock provider over real loopback HTTP: routes, auth, scenarios, continuation, faults.

The stream parsers here are deliberately tiny and independent of ``core.sse`` and
``core.dialects``: the mock is an oracle for those, so it must not be checked with them. The
official ``openai`` and ``anthropic`` SDKs check that the wire format is the real one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.mock import SCENARIOS, MockServer, start_mock_server
from core.mock.script import reply_text

DIALECTS = ("openai-chat", "openai-responses", "anthropic", "gemini", "ollama")
ROOT = Path(__file__).resolve().parents[2]


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
    for event, data in items:
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
    resp = client.post(path + (query if "?" in path else query.replace("&", "?", 1)), json=body,
                       headers=hdrs)  # fmt: skip
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
    for bad, key in [("tps=fast", "tps"), ("tokens=-3", "tokens"), ("tps=0", "tps"), ("cut_at", "")]:
        resp = send(client, "openai-chat", params=bad)
        assert resp.status_code == 400
        assert key in resp.json()["error"]["message"]


def test_server_defaults_are_the_fallback_params():
    with start_mock_server(defaults={"tokens": "9", "tps": "5000"}) as other:
        with httpx.Client(base_url=other.url) as c:
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
    resp = send(client, dialect, model="mock-max_tokens", params="tokens=40;cut_at=11", max_tokens=4)
    assert read(dialect, resp.content).text == reply_text(4)


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
    resp = send(client, "anthropic", messages=[("user", "a b c d")], params="tokens=8",
                extra={"system": "x y"})  # fmt: skip
    events = read("anthropic", resp.content).events
    assert events[0]["message"]["usage"]["input_tokens"] == 6
    assert [e for e in events if e["type"] == "message_delta"][0]["usage"]["output_tokens"] == 8


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
    first = read("openai-responses", send(client, "openai-responses", max_tokens=8,
                                          params="tokens=25").content)  # fmt: skip
    assert first.finish == "max_output_tokens"
    response_id = first.events[0]["response"]["id"]
    resp = send(client, "openai-responses", messages=[("user", "Continue.")], params="tokens=25",
                extra={"previous_response_id": response_id})  # fmt: skip
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
    resp = send(client, "anthropic", messages=[("user", "hi"), ("assistant", reply_text(5))],
                extra=thinking)  # fmt: skip
    assert resp.status_code == 400
    assert "thinking" in resp.json()["error"]["message"]
    path, body = build("anthropic", "claude", [("user", "hi")], None)
    del body["max_tokens"]
    resp = client.post(path, json=body)
    assert resp.status_code == 400
    assert "max_tokens" in resp.json()["error"]["message"]


def test_pause_turn_then_resend_completes(client):
    params = "tokens=30;cut_at=9"
    first = read("anthropic", send(client, "anthropic", model="mock-pause_turn", params=params).content)
    assert (first.text, first.finish) == (reply_text(9), "pause_turn")
    msgs = [("user", "Tell me about streaming."), ("assistant", first.text)]
    resp = send(client, "anthropic", model="mock-pause_turn", messages=msgs, params=params)
    second = read("anthropic", resp.content)
    assert first.text + second.text == reply_text(30)
    assert second.finish == "end_turn"


@pytest.mark.parametrize("scenario", ["eof_mid_stream", "max_tokens", "mid_stream_error"])
def test_a_fault_behind_the_partial_text_is_not_played_again(client, scenario):
    params = "tokens=30;cut_at=10"
    first = read("openai-chat", send(client, "openai-chat", model=f"mock-{scenario}",
                                     params=params).content)  # fmt: skip
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
    got = [send(client, "anthropic", model="mock-http_500", messages=convo, params=params)
           for _ in range(3)]  # fmt: skip
    assert [r.status_code for r in got] == [500, 500, 200]
    assert read("anthropic", got[2].content).text == reply_text(4)
    other = [("user", "fail-first conversation B")]
    resp = send(client, "anthropic", model="mock-http_500", messages=other, params=params)
    assert resp.status_code == 500
    # a success-kind scenario is not a fault: fail_first does not change it
    for _ in range(2):
        resp = send(client, "anthropic", model="mock-max_tokens", messages=convo,
                    params="tokens=10;fail_first=1")  # fmt: skip
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
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        with client.stream("POST", path, json=body,
                           headers={"x-mock-params": "tokens=20;cut_at=5"}) as resp:  # fmt: skip
            for chunk in resp.iter_raw():
                received += chunk
    assert read(dialect, received).text in (reply_text(5), reply_text(4), "")


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


def test_stall_is_cut_when_the_server_stops():
    server = start_mock_server(defaults={"tps": "5000"})
    path, body = build("openai-chat", "mock-stall", [("user", "hi")], None)
    with httpx.Client(base_url=server.url, timeout=60) as c:
        with c.stream("POST", path, json=body, headers={"x-mock-params": "tokens=20;cut_at=3"}) as r:
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

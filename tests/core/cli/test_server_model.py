"""Local-server presets without a model take the server's only model from its listing, or
say plainly that a model is needed (issue 11, item 10)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core import RunSpec
from core.cli import main
from core.mock import MockServer
from core.providers.listing import ModelNeeded, resolve_model
from core.providers.presets import preset
from tests.core.wire_server import Reply, threaded_wire_server, wire_server

JSON = {"Content-Type": "application/json"}
STREAM = [
    b'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n',
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    b"data: [DONE]\n\n",
]


def listing(*ids: str) -> Reply:
    body = {"object": "list", "data": [{"id": i, "object": "model"} for i in ids]}
    return Reply([json.dumps(body).encode()], headers=JSON)


def test_llamacpp_preset_takes_the_servers_only_model(capsys) -> None:
    replies = {"one/v1/models": listing("gemma-3-270m.gguf"), "one": Reply(STREAM)}
    with threaded_wire_server(replies) as srv:
        base = srv.base("one") + "/v1"
        code = main(["probe", "--profile", "llama.cpp server", "--base-url", base, "--json"])
        out, err = capsys.readouterr()
        paths = [r["path"] for r in srv.requests]
        sent = json.loads(srv.requests[-1]["body"])
    assert code == 0, err
    assert json.loads(out)["outcome"] == "completed"
    # the listing is asked first and alone: llama-cpp-python drops a generation on any request
    assert paths == ["/one/v1/models", "/one/v1/chat/completions"]
    assert sent["model"] == "gemma-3-270m.gguf"


@pytest.mark.parametrize(
    ("ids", "said"),
    [(("a", "b", "c"), "serves 3 models (a, b, c): name one with --model"), ((), "no models")],
)
def test_several_or_no_models_is_a_one_line_usage_error(capsys, ids, said) -> None:
    with threaded_wire_server({"many/v1/models": listing(*ids), "many": Reply(STREAM)}) as srv:
        base = srv.base("many") + "/v1"
        code = main(["probe", "--base-url", base, "--dialect", "openai-chat"])
        _, err = capsys.readouterr()
        assert [r["path"] for r in srv.requests] == ["/many/v1/models"]  # no run was sent
    assert code == 2
    assert said in err and err.count("\n") == 1 and "Traceback" not in err


def test_an_unreachable_listing_says_a_model_is_needed(capsys) -> None:
    code = main(["probe", "--base-url", "http://127.0.0.1:9/v1", "--dialect", "openai-chat"])
    _, err = capsys.readouterr()
    assert code == 2 and "model listing failed" in err and "--model" in err
    assert err.count("\n") == 1


def test_the_mock_still_needs_a_model(capsys, mock: MockServer) -> None:
    code = main(["probe", "--base-url", "mock", "--dialect", "openai-chat"])
    _, err = capsys.readouterr()
    assert code == 2 and "--model required" in err


async def test_resolve_model_is_the_windows_entry_point_too() -> None:
    async with wire_server({"w/v1/models": listing("only"), "x/v1/models": listing()}) as srv:
        profile = preset("LM Studio")
        assert await resolve_model(replace(profile, base_url=srv.base("w") + "/v1")) == "only"
        spec = RunSpec("openai-chat", srv.base("x") + "/v1", "")
        with pytest.raises(ModelNeeded, match="lists no models"):
            await resolve_model(spec)
        named = RunSpec("openai-chat", srv.base("x") + "/v1", "mine")
        assert await resolve_model(named) == "mine"

"""Issue 11, item 17 (first three bullets): oversized response headers say what they are,
`--help` says a trickle runs on by design, and a profiles file nested thousands deep is a
clear error, never a traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core import RunFinished, RunSpec, run
from core.cli import main
from core.providers.keys import ProfileFileError
from core.providers.profiles import ProfileStore


async def test_oversized_response_headers_are_named_not_a_mid_body_reset() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        big = b"X-Big: " + b"a" * (200 * 1024) + b"\r\n"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" + big + b"\r\n")
        await writer.drain()
        await reader.read()  # until the client drops the connection
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        spec = RunSpec("openai-chat", f"http://127.0.0.1:{port}/v1", "m", RunSpec.user("hi"))
        last = None
        async for event in run(spec):
            last = event
    finally:
        server.close()
        await server.wait_closed()
    assert isinstance(last, RunFinished)
    v = last.verdict
    assert v.label == "interrupted/connection_reset" and v.http is None
    assert "response headers are larger than the HTTP client accepts" in v.explanation
    assert "before the response headers were complete" in v.explanation
    assert "mid-body" not in v.explanation and "body's end" not in v.explanation


def test_probe_help_says_a_trickle_runs_on_by_design(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["probe", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert exit_.value.code == 0
    assert "no total time limit by default, by design" in out
    assert "trickles one token every 40 s" in out and "--total-timeout" in out


@pytest.mark.parametrize(
    "doc",
    [
        "[[profile]]\nname = 'deep'\ndialect = 'openai-chat'\nbase_url = 'http://h/v1'\n"
        "extra_body = { x = " + "[" * 5000 + "]" * 5000 + " }\n",
        "version = 1\nx = " + "[" * 5000 + "]" * 5000 + "\n",
        "[[profile]]\nname = 'deep'\ndialect = 'openai-chat'\nbase_url = 'http://h/v1'\n"
        "extra_body = { x = " + "[" * 200 + "]" * 200 + " }\n",
    ],
)
def test_profiles_nested_thousands_deep_are_a_clear_error(
    doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(doc)
    monkeypatch.setenv("STREAMSCOPE_PROFILES", str(path))
    with pytest.raises(ProfileFileError, match="nested"):
        ProfileStore(path).load()
    code = main(["profiles", "list"])
    err = capsys.readouterr().err
    assert code == 2 and "nested" in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert path.read_text() == doc  # left untouched

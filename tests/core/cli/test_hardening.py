"""Inputs that once hung a run, leaked a key, split a saved run or crashed a parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import RunSpec, SessionFinished, Timeouts, run_session
from core.cli import main
from core.mock import MockServer
from core.providers.keys import scrub as _scrub
from core.record.diagnose import diagnose_bytes
from core.stream.httpinfo import parse_retry_after
from core.stream.pipeline import Pipeline


async def final(spec: RunSpec, **kw) -> SessionFinished:
    async for event in run_session(spec, **kw):
        if isinstance(event, SessionFinished):
            return event
    raise AssertionError("no SessionFinished")


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"headers": {"X-Title": "Café"}}, "header 'X-Title'"),
        ({"temperature": float("nan")}, "NaN"),
        ({"extra_body": {"max_tokens": float("inf")}}, "NaN or Infinity"),
        ({"base_url": "http://localhost:99999/v1"}, "host and port"),
        ({"api_key": "sk-bad\u201dkey"}, "the API key"),
    ],
)
async def test_requests_httpx_cannot_send_are_refused_not_hung(
    mock: MockServer, changes, says: str
) -> None:
    """With every watchdog off a dead pump used to wait forever."""
    spec = RunSpec(
        "openai-chat",
        mock.base_urls["openai-chat"],
        "mock-normal",
        RunSpec.user("x"),
        timeouts=Timeouts(first_byte_s=None, stall_s=None),
    )
    v = (await final(spec.with_changes(**changes))).verdict
    assert v.label == "not_sent/bad_request_spec"
    assert says in v.explanation
    assert "sk-bad" not in v.explanation


async def test_key_with_trailing_newline_is_trimmed_and_never_shown(
    mock: MockServer, tmp_path: Path
) -> None:
    from core.record.savefile import RunRecorder

    path = tmp_path / "run.jsonl"
    recorder = RunRecorder(path)
    spec = RunSpec(
        "openai-chat",
        mock.base_urls["openai-chat"],
        "mock-normal",
        RunSpec.user("x"),
        api_key="sk-secret-123456\n",
    )
    v = (await final(spec, recorder=recorder)).verdict
    recorder.close()
    assert v.label == "completed/natural"
    assert "sk-secret-123456" not in path.read_text()


def test_scrub_masks_plain_and_repr_forms() -> None:
    key = "sk-abc\n"
    text = "Illegal header value b'Bearer sk-abc\\n' and sk-abc"
    assert "sk-abc" not in _scrub(text, key)


async def test_saved_run_survives_line_separators(mock: MockServer, tmp_path: Path, capsys) -> None:
    from core.record.savefile import RunRecorder

    path = tmp_path / "u.jsonl"
    recorder = RunRecorder(path)
    spec = RunSpec(
        "anthropic",
        mock.base_urls["anthropic"],
        "mock-normal",
        RunSpec.user("Hello\u2028world\u2029!"),
    )
    live = (await final(spec, recorder=recorder)).verdict
    recorder.close()
    assert main(["diagnose", str(path), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["outcome"], again["text"]) == (live.outcome, live.text)


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("ollama", b'{"message": "upstream busy"}\n{"message": "upstream busy"}\n'),
        ("openai-chat", b'data: {"choices": [{"delta": "oops"}]}\n\ndata: [DONE]\n\n'),
        ("openai-chat", b'data: {"choices": "nope"}\n\ndata: [DONE]\n\n'),
        ("anthropic", b'event: message_start\ndata: {"type": "message_start", "message": []}\n\n'),
        ("gemini", b'data: {"candidates": [{"content": "x"}]}\n\n'),
        ("openai-responses", b'data: {"type": "response.completed", "response": []}\n\n'),
    ],
)
def test_unexpected_shapes_are_malformed_events_not_crashes(dialect: str, body: bytes) -> None:
    pipe = Pipeline(dialect, timed=False)
    pipe.feed(body)
    pipe.close()
    verdict = pipe.verdict()
    assert verdict.outcome in ("protocol_error", "interrupted", "completed")


def test_object_valued_tool_arguments_are_kept_as_json() -> None:
    chunk = {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {"index": 0, "id": "c1", "function": {"name": "f", "arguments": {"x": 1}}}
                    ]
                },
            }
        ]
    }
    body = (
        f"data: {json.dumps(chunk)}\n\n"
        'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}\n\n'
        "data: [DONE]\n\n"
    ).encode()
    v = diagnose_bytes(body, "openai-chat").verdict
    assert v.label == "tool_calls"
    assert json.loads(v.tool_calls[0].arguments) == {"x": 1}


def test_retry_after_rejects_infinite_and_reads_asctime_as_gmt() -> None:
    assert parse_retry_after({"Retry-After": "inf"}) is None
    assert parse_retry_after({"retry-after-ms": "1e400"}) is None
    asctime = "Sun Nov  6 08:49:37 1994"
    import calendar

    gmt = calendar.timegm((1994, 11, 6, 8, 49, 37))
    assert parse_retry_after({"Retry-After": asctime}, now=gmt - 29) == pytest.approx(29)


@pytest.mark.parametrize(
    "extra",
    [
        ["--base-url", "http://[::1"],
        ["--base-url", "mock", "--stall-timeout", "-1"],
        ["--base-url", "mock", "--retries", "-1"],
        ["--base-url", "mock", "--temperature", "nan"],
    ],
)
def test_probe_rejects_bad_numbers_and_urls_with_exit_2(capsys, extra: list[str]) -> None:
    code = main(["probe", "--dialect", "openai-chat", "--model", "m", *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err

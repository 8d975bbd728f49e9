"""`streamscope diagnose`: raw bodies, pasted logs, saved runs, and unusable input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main
from tests.core import bodies as b

SAMPLES = Path(__file__).resolve().parents[3] / "resources" / "samples"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_has_every_contract_key(capsys, tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "diagnose", str(SAMPLES / "relay-max-tokens.sse"), "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {
        "dialect",
        "outcome",
        "detail",
        "warnings",
        "raw_stop_reason",
        "terminator_seen",
        "had_output",
        "text",
        "reasoning",
        "refusal",
        "tool_calls",
        "usage",
        "retryable",
        "actions",
        "explanation",
        "http",
        "metrics",
        "attempts",
        "segments",
        "session_metrics",
    }
    assert set(data["metrics"]) >= {
        "headers_ms",
        "tpot_ms",
        "ttfb_ms",
        "ttft_ms",
        "first_answer_ms",
        "itl_ms",
        "output_tokens_per_s",
        "total_ms",
        "chunks",
        "events",
        "tokens_source",
        "stalls",
    }
    assert (data["outcome"], data["detail"]) == ("truncated", "max_tokens")


def test_human_report(capsys) -> None:
    code, out, _ = run_cli(capsys, "diagnose", str(SAMPLES / "cut-before-done.sse"))
    assert code == 0
    assert "interrupted/eof_before_terminator" in out
    assert "Streaming is great until the connection" in out


@pytest.mark.parametrize(
    "wrap",
    [
        lambda line: f"Line 1467: '{line}'",
        lambda line: json.dumps(line),
        lambda line: "[2024-05-01 10:00:00] " + line.replace('"', '\\"'),
    ],
)
def test_pasted_log_wrappers(capsys, tmp_path: Path, wrap) -> None:
    raw = b.chat("Hel", "lo", finish="length").decode()
    lines = [wrap(line) for line in raw.splitlines() if line]  # blank separators dropped
    path = tmp_path / "log.txt"
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = run_cli(capsys, "diagnose", str(path), "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["outcome"], data["text"]) == ("truncated", "Hello")


def test_stdin(capsys, monkeypatch) -> None:
    import io
    import sys

    stdin = io.TextIOWrapper(io.BytesIO(b.ollama("a", "b")))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run_cli(capsys, "diagnose", "-", "--json")
    assert (code, json.loads(out)["dialect"]) == (0, "ollama")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\xff\xfe" * 20, "binary"),
        (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>", "HTML page"),
        (
            b'{"error": {"message": "Invalid API key", "type": "invalid_request_error"}}',
            "plain JSON error body",
        ),
        (b"hello, this is just some text\nand more\n", "plain text"),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    capsys, tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    code, out, err = run_cli(capsys, "diagnose", str(path))
    assert code == 2
    assert out == ""
    assert says in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_wrong_explicit_dialect_names_the_suggestion(capsys) -> None:
    code, _, err = run_cli(
        capsys, "diagnose", str(SAMPLES / "anthropic-overloaded.sse"), "--dialect", "ollama"
    )
    assert code == 2
    assert "--dialect anthropic" in err


def test_missing_file(capsys) -> None:
    code, _, err = run_cli(capsys, "diagnose", "/nonexistent/file.sse")
    assert code == 2 and "cannot read" in err


def test_browser_eventstream_table_copy(capsys, tmp_path: Path) -> None:
    rows = [
        (
            "message_start",
            '{"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 3}}}',
        ),
        (
            "content_block_delta",
            '{"type": "content_block_delta", "index": 0, "delta": '
            '{"type": "text_delta", "text": "Hi"}}',
        ),
        (
            "message_delta",
            '{"type": "message_delta", "delta": {"stop_reason": '
            '"max_tokens"}, "usage": {"output_tokens": 1}}',
        ),
        ("message_stop", '{"type": "message_stop"}'),
    ]
    path = tmp_path / "devtools.txt"
    path.write_text("\n".join(f"{n}\t{d}\t12:00:00.{i:03d}" for i, (n, d) in enumerate(rows)))
    assert main(["diagnose", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["dialect"], data["outcome"], data["text"]) == ("anthropic", "truncated", "Hi")

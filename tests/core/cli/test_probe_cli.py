"""`streamscope probe` and saved runs, against the mock over loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main
from core.mock import MockServer
from core.mock.script import reply_text
from core.record.savefile import read_saved_run


def probe(
    capsys, mock: MockServer, *args: str, dialect: str = "openai-chat", model: str = "mock-normal"
) -> tuple[int, str, str]:
    code = main(
        [
            "probe",
            "--base-url",
            mock.base_urls[dialect],
            "--dialect",
            dialect,
            "--model",
            model,
            *args,
        ]
    )
    out, err = capsys.readouterr()
    return code, out, err


def test_probe_json_and_streamed_text(capsys, mock: MockServer) -> None:
    code, out, _ = probe(capsys, mock, "--json", "--max-tokens", "12", dialect="anthropic")
    data = json.loads(out)
    assert code == 0
    assert (data["outcome"], data["detail"], data["text"]) == (
        "truncated",
        "max_tokens",
        reply_text(12),
    )
    assert data["http"]["status"] == 200 and data["metrics"]["ttfb_ms"] is not None
    code, out, _ = probe(capsys, mock)
    assert reply_text(40) in out and "completed/natural" in out


def test_save_then_diagnose_gives_the_same_verdict(
    capsys, mock: MockServer, tmp_path: Path
) -> None:
    saved = tmp_path / "run.jsonl"
    for model in ("mock-normal", "mock-reset_mid_stream", "mock-http_429", "mock-eof_mid_stream"):
        saved.unlink(missing_ok=True)
        code, live_out, _ = probe(capsys, mock, "--json", "--save", str(saved), model=model)
        live = json.loads(live_out)
        code, out, _ = main(["diagnose", str(saved), "--json"]), *capsys.readouterr()
        again = json.loads(out)
        assert code == 0
        for key in (
            "outcome",
            "detail",
            "warnings",
            "text",
            "raw_stop_reason",
            "usage",
            "http",
            "actions",
        ):
            assert again[key] == live[key], (model, key)
        assert again["metrics"]["ttfb_ms"] == pytest.approx(live["metrics"]["ttfb_ms"], abs=0.01)
        assert again["metrics"]["chunks"] == live["metrics"]["chunks"]


def test_saved_run_redacts_key_and_cut_recording_is_reported(
    capsys, mock: MockServer, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MY_KEY", "sk-secret-123456")
    saved = tmp_path / "run.jsonl"
    probe(capsys, mock, "--json", "--save", str(saved), "--api-key-env", "MY_KEY")
    text = saved.read_text()
    assert "sk-secret-123456" not in text
    attempt = read_saved_run(text)[0]
    assert attempt.header["request"]["headers"]["Authorization"] == "Bearer ***"
    lines = text.splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    main(["diagnose", str(cut)])
    out, _ = capsys.readouterr()
    assert "recording was cut" in out
    assert "interrupted/eof_before_terminator" in out


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--param", "temperature=notjson"], "not valid JSON"),
        (["--api-key-env", "STREAMSCOPE_UNSET_VAR"], "not set"),
        (["--header", "no-colon"], "Name: value"),
    ],
)
def test_bad_arguments_exit_2(capsys, mock: MockServer, extra: list[str], says: str) -> None:
    code, _out, err = probe(capsys, mock, *extra)
    assert code == 2 and says in err and "Traceback" not in err


def test_bad_base_url_exits_2(capsys) -> None:
    code = main(["probe", "--base-url", "ftp://nowhere", "--dialect", "gemini", "--model", "m"])
    assert code == 2 and "not an http(s) URL" in capsys.readouterr().err


def test_connect_failure_is_a_verdict_not_a_crash(capsys) -> None:
    code = main(
        [
            "probe",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--dialect",
            "openai-chat",
            "--model",
            "m",
            "--json",
            "--connect-timeout",
            "2",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["outcome"], data["detail"], data["http"]) == (
        "interrupted",
        "connect_failed",
        None,
    )


def test_official_key_variable_only_for_the_official_host(monkeypatch) -> None:
    from core.cli.args import resolve_key

    monkeypatch.setenv("OPENAI_API_KEY", "sk-official")
    assert resolve_key("https://api.openai.com/v1", "openai-chat", None) == "sk-official"
    assert resolve_key("https://relay.example/v1", "openai-chat", None) is None
    assert resolve_key("http://127.0.0.1:11434", "ollama", None) is None


def test_401_explanation_never_contains_the_key(capsys, mock: MockServer, monkeypatch) -> None:
    monkeypatch.setenv("MOCK_KEY", "mock-unauthorized")
    _code, out, _ = probe(capsys, mock, "--json", "--api-key-env", "MOCK_KEY")
    data = json.loads(out)
    assert (data["outcome"], data["detail"]) == ("http_error", "auth")
    assert "mock-unauthorized" not in out

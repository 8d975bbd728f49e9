"""`streamscope compare` over loopback: lane specs, every output format, --save, a profile's
price, and exit 2 with one line for a bad lane spec."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from core.cli import main
from core.cli.lanes import lanes_from_toml, parse_lane
from core.mock import MockServer
from core.record.history import HistoryStore


def lane(mock: MockServer, label: str, model: str = "mock-normal", extra: str = "") -> str:
    url = mock.base_urls["openai-chat"]
    spec = f"label={label};base-url={url};dialect=openai-chat;model={model};max-tokens=200"
    return spec + (";" + extra if extra else "")


def compare(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["compare", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_the_issue_object(capsys, mock: MockServer) -> None:
    code, out, _ = compare(
        capsys,
        "--lane", lane(mock, "A", extra=r"header=x-mock-params: tokens=12\;tps=800"),
        "--lane", lane(mock, "B", "mock-http_429"),
        "--repeat", "2",
        "--metrics", "vllm",
        "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert (data["definitions"], data["mode"], data["repeat"]) == ("vllm", "race", 2)
    assert [set(r) for r in data["rounds"]] == [{"index", "skew_ms"}] * 2
    a, b = data["lanes"]
    assert a["label"] == "A" and set(a["request"]) == {"method", "url", "headers", "body"}
    assert [r["round"] for r in a["runs"]] == [0, 1]
    assert a["runs"][0]["outcome"] == "completed" and "metrics" in a["runs"][0]
    assert a["outcomes"] == {"completed/natural": 2}
    assert set(a["stats"]) == {
        "ttfb_ms",
        "headers_ms",
        "ttft_ms",
        "first_answer_ms",
        "itl_ms",
        "tpot_ms",
        "e2e_ms",
        "output_tokens_per_s",
        "output_tokens",
    }
    assert set(a["stats"]["ttft_ms"]) == {"n", "mean", "min", "max", "p50", "p90", "p95", "p99"}
    assert a["stats"]["ttft_ms"]["n"] == 2
    assert a["stats"]["itl_ms"]["n"] > 2  # vLLM pools every gap
    assert a["stats"]["output_tokens_per_s"] is None  # vLLM has no per-request rate
    assert a["stats"]["output_tokens"]["p50"] == 12
    assert a["cost"] is None  # the mock has no price: unknown, never 0
    assert b["outcomes"] == {"http_error/rate_limited": 2}
    assert b["counts"]["errored"] == 2 and b["stats"]["ttft_ms"] is None


def test_the_key_is_masked_in_the_request(capsys, mock: MockServer, monkeypatch) -> None:
    monkeypatch.setenv("RACE_KEY", "sk-secret-race-key")
    code, out, _ = compare(
        capsys,
        "--lane", lane(mock, "A", extra="api-key-env=RACE_KEY;mock-params=tokens=4,tps=900"),
        "--lane", lane(mock, "B", extra="mock-params=tokens=4,tps=900"),
        "--json",
    )  # fmt: skip
    assert code == 0 and "sk-secret-race-key" not in out
    assert json.loads(out)["lanes"][0]["request"]["headers"]["Authorization"] == "Bearer ***"


def test_csv_has_one_row_per_run_and_markdown_one_row_per_lane(capsys, mock: MockServer) -> None:
    args = ["--lane", lane(mock, "A", extra="mock-params=tokens=8,tps=900")]
    args += ["--lane", lane(mock, "B|pipe", extra="mock-params=tokens=8,tps=600")]
    code, out, _ = compare(capsys, *args, "--repeat", "3", "--mode", "sequential", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 6
    assert {r["label"] for r in rows} == {"A", "B|pipe"}
    assert all(r["outcome"] == "completed" and r["output_tokens"] == "8" for r in rows)
    assert all(float(r["ttft_ms"]) > 0 and r["cost_usd"] == "" for r in rows)
    code, out, _ = compare(capsys, *args, "--prompt", "Say hi", "--markdown")
    lines = out.strip().splitlines()
    assert lines[0].startswith('Prompt: "Say hi" · definitions: streamscope · race')
    assert lines[2].startswith("| Lane | Model | Runs | Outcomes | TTFT p50 | TTFT p90 | ITL p50")
    assert len(lines) == 6 and "B\\|pipe" in lines[5]
    code, out, err = compare(capsys, *args)
    assert "start skew" in out and "round 1/1 · A: completed/natural" in err


def test_save_writes_every_run_in_probe_format(capsys, mock: MockServer, tmp_path: Path) -> None:
    target = tmp_path / "runs"
    code, _, _ = compare(
        capsys,
        "--lane", lane(mock, "A", extra="mock-params=tokens=4,tps=900"),
        "--lane", lane(mock, "B", "mock-reset_mid_stream", "mock-params=tokens=4,tps=900"),
        "--save", str(target), "--json",
    )  # fmt: skip
    assert code == 0
    files = sorted(target.iterdir())
    assert len(files) == 2
    code, out, _ = main(["diagnose", str(files[1]), "--json"]), *capsys.readouterr()
    assert json.loads(out)["detail"] == "connection_reset"


def test_mock_lanes_and_a_profile_price(capsys, tmp_path: Path, monkeypatch) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(
        "version = 1\n[[profile]]\n"
        'name = "Cheap mock"\ndialect = "anthropic"\nbase_url = "mock"\nmodel = "mock-normal"\n'
        '[profile.price]\ninput = 2.0\noutput = 10.0\nas_of = "2026-11-30"\n'
    )
    monkeypatch.setenv("STREAMSCOPE_PROFILES", str(profiles))
    code, out, _ = compare(
        capsys,
        "--lane", "profile=Cheap mock;mock-params=tokens=10,tps=900",
        "--lane", "label=B;base-url=mock;dialect=gemini;model=mock-max_tokens;max-tokens=5",
        "--json",
    )  # fmt: skip
    assert code == 0
    cheap, b = json.loads(out)["lanes"]
    assert cheap["label"] == "mock-normal"
    usage = cheap["runs"][0]["usage"]
    expected = (usage["input_tokens"] * 2.0 + usage["output_tokens"] * 10.0) / 1e6
    assert cheap["cost"]["mean_usd"] == pytest.approx(expected)
    assert cheap["cost"]["source"] == "profile Cheap mock, 2026-11-30"
    assert b["outcomes"] == {"truncated/max_tokens": 1} and b["cost"] is None
    # the history keeps the same costs: the profile's price, and none for the mock
    with HistoryStore.open() as store:
        costs = {r.dialect: r.cost_usd for r in store.list_runs()}
    assert costs["anthropic"] == pytest.approx(expected) and costs["gemini"] is None
    # probe --profile too
    assert main(["probe", "--profile", "Cheap mock", "--json"]) == 0
    probed = json.loads(capsys.readouterr().out)
    with HistoryStore.open() as store:
        newest = store.list_runs()[0]
    usage = probed["usage"]
    assert newest.source == "probe"
    assert newest.cost_usd == pytest.approx(
        (usage["input_tokens"] * 2.0 + usage["output_tokens"] * 10.0) / 1e6
    )


@pytest.mark.parametrize(
    ("lanes", "message"),
    [
        (["label=A;base-url=mock;dialect=openai-chat;model=m;colour=red"], "unknown key 'colour'"),
        (["label=A;base-url=mock;dialect=openai-chat;model=m;max-tokens=lots"], "not a whole"),
        (["label=A;dialect=openai-chat;model=m"], "base-url missing"),
        (["label=A;base-url=mock;dialect=klingon;model=m"], "dialect 'klingon'"),
        (["label=A;base-url=ftp://x;dialect=openai-chat;model=m"], "not an http(s) URL"),
        (["label=A;base-url=mock;dialect=openai-chat;model=m;param=temperature=hot"], "JSON"),
        (["justtext"], "is not key=value"),
        ([], "give 2–16 lanes"),
    ],
)
def test_a_bad_lane_spec_exits_2_with_one_line(capsys, lanes: list[str], message: str) -> None:
    good = "label=Z;base-url=mock;dialect=openai-chat;model=mock-normal"
    args = [a for spec in lanes for a in ("--lane", spec)]
    if lanes:
        args += ["--lane", good]
    code, out, err = compare(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    if lanes:
        assert err.startswith("streamscope compare: --lane 1")


def test_lane_spec_escapes_and_toml_file(tmp_path: Path) -> None:
    parsed = parse_lane(r"label=a\;b;header=x-mock-params: tps=1\;tokens=2;param=top_p=0.5", 1)
    assert parsed.values == {
        "label": "a;b",
        "header": ["x-mock-params: tps=1;tokens=2"],
        "param": ["top_p=0.5"],
    }
    path = tmp_path / "lanes.toml"
    path.write_text(
        '[[lane]]\nlabel = "A"\nbase-url = "mock"\ndialect = "ollama"\nmodel = "mock-normal"\n'
        'max-tokens = 50\nparam = { temperature = 0.2 }\nheader = { X-Title = "bench" }\n'
        '[[lane]]\nlabel = "B"\nprofile = "Mock"\n'
    )
    first, second = lanes_from_toml(str(path))
    assert first.values["max-tokens"] == 50
    assert first.values["param"] == ["temperature=0.2"]
    assert first.values["header"] == ["X-Title: bench"]
    assert second.values == {"label": "B", "profile": "Mock"}


def test_lanes_file_runs(capsys, tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text(
        '[[lane]]\nlabel = "ollama"\nbase-url = "mock"\ndialect = "ollama"\n'
        'model = "mock-normal"\nmock-params = "tokens=6,tps=900"\n'
        '[[lane]]\nlabel = "responses"\nbase-url = "mock"\ndialect = "openai-responses"\n'
        'model = "mock-normal"\nmock-params = "tokens=6,tps=900"\n'
    )
    code, out, _ = compare(capsys, "--lanes", str(path), "--metrics", "guidellm", "--json")
    assert code == 0
    lanes = json.loads(out)["lanes"]
    assert [x["outcomes"] for x in lanes] == [{"completed/natural": 1}] * 2
    code, _, err = compare(capsys, "--lanes", str(tmp_path / "none.toml"), "--json")
    assert code == 2 and "--lanes" in err


def test_include_makes_failed_runs_enter_the_statistics(capsys, mock: MockServer) -> None:
    args = [
        "--lane", lane(mock, "A", extra="mock-params=tokens=6,tps=900"),
        "--lane", lane(mock, "cut", "mock-eof_mid_stream", "mock-params=tokens=6,tps=900"),
        "--json",
    ]  # fmt: skip
    code, out, _ = compare(capsys, *args)
    cut = json.loads(out)["lanes"][1]
    assert code == 0 and cut["included"] == ["successful"] and cut["stats"]["ttft_ms"] is None
    assert cut["counts"] == {"successful": 0, "incomplete": 1, "errored": 0}
    code, out, _ = compare(capsys, *args, "--include", "successful,incomplete")
    cut = json.loads(out)["lanes"][1]
    assert cut["included"] == ["successful", "incomplete"] and cut["stats"]["ttft_ms"]["n"] == 1
    code, _, err = compare(capsys, *args, "--include", "good")
    assert code == 2 and "--include" in err

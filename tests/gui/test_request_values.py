"""The request form's rules, without a window: values → RunSpec, settings, presets; and the
growable numpy columns behind the views."""

from __future__ import annotations

import numpy as np
import pytest

from gui.request_values import RequestValues, SpecError, load_presets, to_spec
from gui.theme import RESOURCES
from gui.widgets.columns import Columns

URLS = {"openai-chat": "http://127.0.0.1:9/v1", "anthropic": "http://127.0.0.1:9"}


def test_mock_values_become_a_mock_request() -> None:
    v = RequestValues(
        scenario="stall", tokens=10, tps=250, cut_at=4, fail_first=1, stall_s=0, stall_ms=2500
    )
    spec = to_spec(v, URLS)
    assert (spec.base_url, spec.model, spec.profile) == (URLS["openai-chat"], "mock-stall", "mock")
    assert spec.headers["x-mock-params"] == (
        "tokens=10;tps=250;first_byte_ms=0;jitter_ms=0;fail_first=1;cut_at=4;stall_ms=2500"
    )
    assert spec.timeouts.stall_s is None  # 0 means off
    assert spec.temperature is None
    assert spec.api_key is None


def test_custom_provider_reads_the_key_from_the_named_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v = RequestValues(
        provider="custom",
        dialect="anthropic",
        base_url="https://relay.example",
        model="claude-x",
        key_env="RELAY_KEY",
        temperature=0.7,
        stop="END\nSTOP",
        thinking_budget=2048,
        tools_json='{"type": "function", "function": {"name": "f"}}',
        extra_json='{"top_k": 5}',
    )
    with pytest.raises(SpecError, match="RELAY_KEY is not set"):
        to_spec(v, URLS)
    monkeypatch.setenv("RELAY_KEY", "sk-test")
    spec = to_spec(v, URLS)
    assert spec.api_key == "sk-test"
    assert spec.stop == ("END", "STOP")
    assert spec.tools == ({"type": "function", "function": {"name": "f"}},)
    assert spec.extra_body == {"top_k": 5}
    assert (spec.temperature, spec.thinking_budget) == (0.7, 2048)
    assert "x-mock-params" not in spec.headers


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tools_json": "[{"}, "Tools"),
        ({"tools_json": "[1]"}, "Tools"),
        ({"extra_json": "[]"}, "Extra parameters"),
        ({"prompt": "  "}, "Prompt"),
        ({"provider": "custom"}, "Base URL"),
        ({"dialect": "gemini"}, "mock does not serve"),
    ],
)
def test_bad_values_name_the_field(changes: dict, field: str) -> None:
    from dataclasses import replace

    with pytest.raises(SpecError, match=field):
        to_spec(replace(RequestValues(), **changes), URLS)


def test_settings_round_trip_tolerates_junk() -> None:
    v = RequestValues(scenario="bom", tps=123.5, include_usage=False)
    assert RequestValues.from_settings(v.to_settings()) == v
    junk = {"tps": "fast", "tokens": "12", "include_usage": "true", "unknown": 1}
    back = RequestValues.from_settings(junk)
    assert (back.tps, back.tokens, back.include_usage) == (50.0, 12, True)
    assert RequestValues.from_settings(None) == RequestValues()


def test_presets_load_and_apply() -> None:
    presets = load_presets(RESOURCES / "prompts" / "prompts.toml")
    titles = {p.title for p in presets}
    assert {"Long essay (hits max tokens)", "Tool use (weather)", "Stop sequence"} <= titles
    essay = next(p for p in presets if p.scenario == "max_tokens")
    applied = essay.apply(RequestValues())
    assert (applied.scenario, applied.max_tokens) == ("max_tokens", 120)
    tools = next(p for p in presets if p.scenario == "tool_call")
    spec = to_spec(tools.apply(RequestValues()), URLS)
    assert spec.tools[0]["function"]["name"] == "get_weather"


def test_columns_double_when_full() -> None:
    cols = Columns(capacity=16, x="f8", n="i4")
    for start in range(0, 100, 7):
        cols.extend(x=np.arange(start, start + 7) / 2, n=np.arange(start, start + 7))
    assert len(cols) == 105
    assert cols["n"].tolist() == list(range(105))
    assert cols._capacity == 128
    cols.clear()
    assert len(cols) == 0 and len(cols["x"]) == 0

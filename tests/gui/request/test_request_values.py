"""The request form's rules, without a window: values → RunSpec, settings, presets; and the
growable numpy columns behind the views."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core import KeyRef, Profile, from_curl
from gui.request.build import to_curl, to_spec, values_from_import
from gui.request.values import RequestValues, SpecError, load_presets
from gui.theme import RESOURCES
from gui.widgets.columns import Columns

URLS = {"openai-chat": "http://127.0.0.1:9/v1", "anthropic": "http://127.0.0.1:9"}


def test_mock_values_become_a_mock_request() -> None:
    v = RequestValues(
        scenario="stall", tokens=10, tps=250, cut_at=4, fail_first=1, stall_s=0, stall_ms=2500
    )
    spec = to_spec(v, URLS)
    assert (spec.base_url, spec.model, spec.profile) == (URLS["openai-chat"], "mock-stall", "Mock")
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


RELAY = Profile(
    "Relay",
    "openai-chat",
    "https://relay.example/v1",
    model="gpt-x",
    key=KeyRef("env", "RELAY_TEST_KEY"),
    headers={"X-Title": "t"},
    query={"tier": "1"},
    extra_body={"top_p": 0.5},
)


def test_a_profile_provider_keeps_its_settings_under_the_pane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v = RequestValues(
        provider=RequestValues.profile_provider("Relay"),
        base_url="https://relay.example/v1",
        model="gpt-y",
        extra_json='{"seed": 1}',
        first_byte_s=5,
    )
    assert (v.profile_name, v.provider_name) == ("Relay", "Relay")
    monkeypatch.delenv("RELAY_TEST_KEY", raising=False)
    with pytest.raises(SpecError, match="API key: the environment variable RELAY_TEST_KEY"):
        to_spec(v, URLS, {"Relay": RELAY})
    monkeypatch.setenv("RELAY_TEST_KEY", "sk-relay")
    spec = to_spec(v, URLS, {"Relay": RELAY})
    assert (spec.profile, spec.model, spec.api_key) == ("Relay", "gpt-y", "sk-relay")
    assert (spec.headers, spec.query) == ({"X-Title": "t"}, {"tier": "1"})
    assert spec.extra_body == {"top_p": 0.5, "seed": 1}
    assert spec.timeouts.first_byte_s == 5
    with pytest.raises(SpecError, match="no profile named 'Relay'"):
        to_spec(v, URLS, {})
    # base URL "mock": the built-in mock, for this dialect
    on_mock = replace(v, dialect="anthropic", base_url="mock")
    assert to_spec(on_mock, URLS, {"Relay": RELAY}).base_url == URLS["anthropic"]


def test_curl_names_the_key_variable_and_reads_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAY_TEST_KEY", "sk-never-in-curl")
    v = RequestValues(provider="profile:Relay", base_url="https://relay.example/v1", model="m")
    text, var = to_curl(v, URLS, {"Relay": RELAY})
    assert var == "RELAY_TEST_KEY" and "sk-never-in-curl" not in text
    assert '"Authorization: Bearer $RELAY_TEST_KEY"' in text and "tier=1" in text
    text, var = to_curl(RequestValues(), URLS)
    assert var is None and "Authorization" not in text and "x-mock-params" in text


def test_an_imported_curl_becomes_pane_values() -> None:
    imported = from_curl(
        "curl https://h.example/v1/chat/completions -H 'Authorization: Bearer sk-lit' "
        '-d \'{"model": "m", "max_tokens": 64, "temperature": 0.3, "top_k": 2, '
        '"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "P"}]}\''
    )
    assert imported.key == "sk-lit"
    as_profile = values_from_import(RequestValues(), replace(imported, key=None), "Imported")
    assert as_profile.provider == "profile:Imported" and as_profile.extra_json == ""
    assert (as_profile.prompt, as_profile.system, as_profile.max_tokens) == ("P", "S", 64)
    assert as_profile.temperature == 0.3
    custom = values_from_import(RequestValues(), imported, None)
    assert (custom.provider, custom.key_env, custom.base_url) == (
        "custom",
        "",
        "https://h.example/v1",
    )
    assert '"top_k": 2' in custom.extra_json and "sk-lit" not in str(custom.to_settings())

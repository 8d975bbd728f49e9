"""Profiles: the TOML file, keys in a real keyring backend, presets against the mock, the CLI."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import keyring
import pytest
from keyring.backends import fail

from core import RunRecorder, SessionFinished, Timeouts, run_session
from core.cli import main
from core.mock import MockServer
from core.mock.script import reply_text
from core.providers.curl import key_env_name, profile_to_curl, spec_to_curl
from core.providers.keys import (
    SERVICE,
    KeyRef,
    KeyUnavailable,
    ModelListError,
    ProfileError,
    ProfileFileError,
    has_key,
    keyring_available,
)
from core.providers.listing import fetch_models
from core.providers.presets import (
    MOCK,
    PRESETS,
    find_profile,
    key_warning,
    mock_profile,
    with_mock_url,
)
from core.providers.profiles import Profile, ProfileStore, connection_test_spec
from tests.memory_keyring import MemoryKeyring

SECRET = "sk-streamscope-test-9f8e7d6c5b4a"
FAST = {"x-mock-params": "tokens=3;tps=5000"}


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProfileStore:
    path = tmp_path / "config" / "profiles.toml"
    monkeypatch.setenv("STREAMSCOPE_PROFILES", str(path))
    return ProfileStore(path)


def rich_profile(name: str = 'Relay ✓ "quoted"') -> Profile:
    return Profile(
        name=name,
        dialect="openai-chat",
        base_url="https://relay.example/api/v1",
        model="some/model",
        models=("some/model", "other"),
        auth_scheme="bearer",
        key=KeyRef("env", "RELAY_KEY"),
        headers={"HTTP-Referer": "https://x.example", "X-Title": "StreamScope"},
        query={"tier": "free"},
        proxy="http://127.0.0.1:3128",
        verify_tls=False,
        max_tokens=None,
        temperature=0.25,
        max_tokens_field="max_completion_tokens",
        continue_final_message=True,
        prefill_supported=False,
        extra_body={"top_p": 0.9, "stop": None, "provider": {"order": ["a", "b"]}},
        timeouts=Timeouts(connect_s=3, first_byte_s=None, stall_s=12.5, total_s=90),
        notes="line one\nline two",
    )


# --- the file ---------------------------------------------------------------------------


def test_toml_round_trip(store: ProfileStore) -> None:
    store.put(rich_profile())
    for preset in (*PRESETS, MOCK):
        store.put(replace(preset, name=f"copy of {preset.name}"))
    again = ProfileStore(store.path).load()
    assert again[0] == rich_profile()
    assert again[1:] == tuple(replace(p, name=f"copy of {p.name}") for p in (*PRESETS, MOCK))
    assert "version = 1" in store.path.read_text()
    assert not list(store.path.parent.glob(".profiles-*"))  # no temp file left behind


def test_rename_duplicate_and_delete(store: ProfileStore) -> None:
    store.put(rich_profile("a"))
    store.put(rich_profile("b"))
    store.put(replace(rich_profile("a"), name="c", model="m2"), replacing="a")
    assert [p.name for p in ProfileStore(store.path).load()] == ["c", "b"]
    with pytest.raises(ProfileError, match="already exists"):
        store.put(rich_profile("B"))
    store.delete("c")
    assert [p.name for p in ProfileStore(store.path).load()] == ["b"]


@pytest.mark.parametrize(
    "bad",
    ['base_url = "https://x.example/v1', "base_url = ", "base_url = https://x.example"],
)
def test_broken_file_is_reported_with_its_line_and_never_written(
    store: ProfileStore, bad: str
) -> None:
    store.put(rich_profile())
    lines = store.path.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("base_url"))
    says = f"line {line}"
    lines[line - 1] = bad
    store.path.write_text("\n".join(lines) + "\n")
    before = store.path.read_bytes()

    fresh = ProfileStore(store.path)
    with pytest.raises(ProfileFileError) as err:
        fresh.load()
    assert str(store.path) in str(err.value) and says in str(err.value)
    assert err.value.line == line and err.value.path == store.path
    for change in (
        lambda: fresh.put(rich_profile("new")),
        lambda: fresh.delete(rich_profile().name),
        lambda: store.put(rich_profile("new")),  # a store that loaded before the damage
    ):
        with pytest.raises(ProfileError):
            change()
        assert store.path.read_bytes() == before
    kept = fresh.set_aside()
    assert kept.read_bytes() == before and not store.path.exists()
    fresh.put(rich_profile("new"))
    assert [p.name for p in ProfileStore(store.path).load()] == ["new"]


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (('dialect = "openai-chat"', 'dialect = "cohere"'), "dialect 'cohere'"),
        (("verify_tls = false", "verify_tls = 1"), "verify_tls"),
        (("max_tokens = ", "max_tokenz = "), "unknown key 'max_tokenz'"),
        (("version = 1", "version = 7"), "format version 7"),
        (('kind = "env"', 'kind = "file"'), "key source 'file'"),
    ],
)
def test_invalid_values_name_the_file_and_profile(
    store: ProfileStore, edit: tuple[str, str], says: str
) -> None:
    store.put(rich_profile("Relay"))
    text = store.path.read_text()
    assert edit[0] in text
    store.path.write_text(text.replace(edit[0], edit[1], 1))
    before = store.path.read_bytes()
    with pytest.raises(ProfileFileError) as err:
        ProfileStore(store.path).load()
    assert str(store.path) in str(err.value) and says in str(err.value)
    with pytest.raises(ProfileFileError):
        ProfileStore(store.path).put(rich_profile("x"))
    assert store.path.read_bytes() == before


def test_a_key_in_headers_or_query_is_refused() -> None:
    for field, value in (("headers", {"Authorization": "Bearer x"}), ("query", {"key": "x"})):
        with pytest.raises(ProfileError, match="keyring"):
            Profile("p", "openai-chat", "https://x.example/v1", **{field: value})


def test_to_spec_overrides_placeholders_and_mock() -> None:
    azure = find_profile("Azure OpenAI")
    assert azure.placeholders == ("resource", "deployment")
    with pytest.raises(ProfileError, match=r"fill in \{resource\}, \{deployment\}"):
        azure.to_spec("hi", api_key="k")
    with pytest.raises(ProfileError, match="mock"):
        MOCK.to_spec("hi")
    spec = rich_profile().to_spec("hi", api_key=None, max_tokens=7, model="m")
    assert (spec.max_tokens, spec.model, spec.temperature, spec.proxy) == (
        7,
        "m",
        0.25,
        "http://127.0.0.1:3128",
    )
    assert spec.messages == ({"role": "user", "content": "hi"},) and spec.profile.startswith(
        "Relay"
    )
    with pytest.raises(TypeError):
        rich_profile().to_spec("hi", api_key=None, colour="red")
    assert connection_test_spec(mock_profile("http://127.0.0.1:1/v1")).max_tokens == 1


def test_with_mock_url(mock: MockServer) -> None:
    assert with_mock_url(MOCK, mock.base_urls).base_url == mock.base_urls["openai-chat"]
    gemini = replace(MOCK, dialect="gemini")
    assert with_mock_url(gemini, mock.base_urls).base_url == mock.base_urls["gemini"]
    assert with_mock_url(rich_profile(), mock.base_urls) == rich_profile()


def test_key_warning_for_an_official_variable_sent_elsewhere() -> None:
    openai = find_profile("OpenAI")
    assert key_warning(openai) is None
    warning = key_warning(replace(openai, base_url="https://relay.example/v1"))
    assert warning and "OPENAI_API_KEY" in warning and "relay.example" in warning
    assert key_warning(find_profile("Azure OpenAI")) is None


# --- keys -------------------------------------------------------------------------------


def test_key_set_through_the_store_is_in_the_keyring_and_not_in_the_file(
    store: ProfileStore, ring: MemoryKeyring
) -> None:
    assert keyring_available()
    store.put(rich_profile("Relay"))
    updated = store.set_key("Relay", SECRET)
    assert updated.key == KeyRef("keyring", "Relay") and has_key(updated.key)
    assert keyring.get_password(SERVICE, "Relay") == SECRET
    assert SECRET not in store.path.read_text()
    assert SECRET not in repr(updated) and SECRET not in repr(updated.to_spec("hi"))
    assert ProfileStore(store.path).load()[0].to_spec("hi").api_key == SECRET
    store.put(replace(updated, name="Relay copy"))  # a duplicate shares the entry
    store.delete("Relay")
    assert keyring.get_password(SERVICE, "Relay") == SECRET
    store.delete("Relay copy")
    assert keyring.get_password(SERVICE, "Relay") is None
    # renamed, then given a new key: the entry under the old name goes
    store.put(rich_profile("Old"))
    store.set_key("Old", SECRET)
    store.put(replace(store.profiles[0], name="New"), replacing="Old")
    store.set_key("New", SECRET + "2")
    assert ring.entries == {(SERVICE, "New"): SECRET + "2"}


def test_no_usable_keyring_says_why_and_env_still_works(
    monkeypatch: pytest.MonkeyPatch, store: ProfileStore
) -> None:
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    previous = keyring.get_keyring()
    try:
        for backend, says in (
            (fail.Keyring(), "no keyring backend"),
            (PlaintextKeyring(), "plain"),
        ):
            keyring.set_keyring(backend)
            status = keyring_available()
            assert not status and says in status.reason
            store.put(rich_profile("Relay"))
            with pytest.raises(KeyUnavailable, match="keyring cannot be used"):
                store.set_key("Relay", SECRET)
            assert not has_key(KeyRef("keyring", "Relay"))
            store.delete("Relay")
    finally:
        keyring.set_keyring(previous)
    profile = rich_profile()
    monkeypatch.delenv("RELAY_KEY", raising=False)
    with pytest.raises(KeyUnavailable, match="RELAY_KEY is not set"):
        profile.to_spec("hi")
    monkeypatch.setenv("RELAY_KEY", SECRET)
    assert profile.to_spec("hi").api_key == SECRET


async def _session(spec, recorder=None) -> SessionFinished:
    async for event in run_session(spec, recorder=recorder):
        if isinstance(event, SessionFinished):
            return event
    raise AssertionError("no SessionFinished")


@pytest.mark.parametrize("secret", [SECRET, "mock-unauthorized"])
async def test_the_key_appears_in_no_artifact(
    store: ProfileStore,
    ring: MemoryKeyring,
    mock: MockServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    secret: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    store.put(replace(mock_profile(mock.base_urls["anthropic"], "anthropic"), name="Mine"))
    profile = store.set_key("Mine", secret)
    spec = profile.to_spec("Say hello", headers=FAST)
    assert spec.api_key == secret
    saved = tmp_path / "run.jsonl"
    recorder = RunRecorder(saved)
    try:
        finished = await _session(spec, recorder)
    finally:
        recorder.close()
    verdict = finished.verdict
    if secret == "mock-unauthorized":
        assert (verdict.outcome, verdict.detail) == ("http_error", "auth")
        with pytest.raises(ModelListError) as err:
            await fetch_models(profile)
        assert "401" in str(err.value) and secret not in str(err.value)
    else:
        assert verdict.outcome == "completed"
    artifacts = {
        "profiles file": store.path.read_text(),
        "saved run": saved.read_text(),
        "curl of the run": spec_to_curl(spec, key_env_name(profile)),
        "curl of the profile": profile_to_curl(profile),
        "logs": caplog.text,
        "explanation": verdict.explanation,
        "verdict json": json.dumps(verdict.to_json()),
        "repr": repr(spec) + repr(profile),
    }
    assert caplog.records, "the run should have logged something (httpx)"
    for name, text in artifacts.items():
        assert secret not in text, name
    assert '-H "x-api-key: $MINE_API_KEY"' in artifacts["curl of the run"]
    assert '-H "x-api-key: $MINE_API_KEY"' in artifacts["curl of the profile"]


# --- presets against the mock -----------------------------------------------------------


def _on_mock(preset: Profile, mock: MockServer) -> Profile:
    """The preset with scheme and host swapped for the mock's; its path prefix kept."""
    path = urlsplit(preset.base_url).path.replace("{deployment}", "x")
    return replace(
        preset,
        base_url=mock.url + path,
        model=preset.model or "some-model",
        key=KeyRef("env", "STREAMSCOPE_TEST_KEY"),
    )


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
async def test_each_preset_builds_a_request_the_mock_accepts(
    preset: Profile, mock: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMSCOPE_TEST_KEY", "sk-dummy-0000")
    profile = _on_mock(preset, mock)
    finished = await _session(profile.to_spec("Say hello", headers=FAST))
    assert finished.verdict.outcome == "completed", finished.verdict.explanation
    url = finished.runs[-1].request.url
    assert urlsplit(url).path.startswith(urlsplit(profile.base_url).path)
    if preset.name == "Azure OpenAI":
        assert url.endswith("/openai/deployments/x/chat/completions?api-version=2024-10-21")
    # the auth shape really is checked: the wrong header for this dialect is refused
    wrong = "x-api-key" if preset.dialect.startswith("openai") else "api-key"
    if preset.dialect != "ollama":
        bad = await _session(replace(profile, auth_scheme=wrong).to_spec("hi", headers=FAST))
        assert (bad.verdict.outcome, bad.verdict.detail) == ("http_error", "auth")


@pytest.mark.parametrize(
    "dialect", ["openai-chat", "openai-responses", "anthropic", "gemini", "ollama"]
)
async def test_fetch_models_from_each_listing(mock: MockServer, dialect: str) -> None:
    models = await fetch_models(mock_profile(mock.base_urls[dialect], dialect), api_key="k-1")
    assert "mock-normal" in models and len(models) == len(set(models))


async def test_fetch_models_failures_are_clear() -> None:
    azure = replace(
        find_profile("Azure OpenAI"), base_url="https://r.openai.azure.com/openai/deployments/d"
    )
    with pytest.raises(ModelListError, match="Azure"):
        await fetch_models(azure, api_key="k")
    with pytest.raises(ModelListError, match=r"GET http://127\.0\.0\.1:9/v1/models: Connect"):
        await fetch_models(mock_profile("http://127.0.0.1:9/v1"), timeout_s=2)


# --- the CLI ----------------------------------------------------------------------------


def test_profiles_list(
    store: ProfileStore, ring: MemoryKeyring, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    store.put(rich_profile("My relay"))
    store.set_key("My relay", SECRET)
    store.put(replace(find_profile("OpenAI"), base_url="https://gw.example/v1"))  # shadows
    monkeypatch.setenv("GROQ_API_KEY", "gsk-not-printed")
    assert main(["profiles", "list"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "saved" in rows["My relay"] and "keyring 'My relay'" in rows["My relay"]
    assert "https://gw.example/v1" in rows["OpenAI"] and "saved" in rows["OpenAI"]
    for preset in PRESETS[1:]:
        row = rows[preset.name]
        assert preset.dialect in row and preset.base_url in row and "preset" in row
    assert "env $GROQ_API_KEY (set)" in rows["Groq"] and "no key" in rows["Ollama"]
    assert "built-in" in rows["Mock"] and str(store.path) in out
    assert SECRET not in out and "gsk-not-printed" not in out


def test_profiles_list_with_a_broken_file_exits_2(store: ProfileStore, capsys) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text('version = 1\n[[profile]]\nname = "x\n')
    assert main(["profiles", "list"]) == 2
    err = capsys.readouterr().err
    assert str(store.path) in err and "line 3" in err and len(err.strip().splitlines()) == 1


def test_probe_with_a_profile_and_overrides(
    store: ProfileStore, mock: MockServer, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = replace(
        mock_profile(mock.base_urls["anthropic"], "anthropic"),
        name="Mine",
        max_tokens=5,
        headers={"x-mock-params": "tps=5000"},
    )
    store.put(mine)
    assert main(["probe", "--profile", "mine", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["dialect"], data["outcome"], data["text"]) == (
        "anthropic",
        "truncated",
        reply_text(5),
    )
    code = main(["probe", "--profile", "Mine", "--max-tokens", "7", "--model", "mock-http_429",
                 "--json"])  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and (data["outcome"], data["detail"]) == ("http_error", "rate_limited")
    code = main(["probe", "--profile", "Mine", "--max-tokens", "7", "--json"])
    assert json.loads(capsys.readouterr().out)["text"] == reply_text(7)
    code = main(["probe", "--profile", "Mock", "--dialect", "gemini", "--max-tokens", "4",
                 "--json"])  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert (data["dialect"], data["text"]) == ("gemini", reply_text(4))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--profile", "No such thing"], "no profile named 'No such thing'"),
        (["--model", "m"], "--base-url, --dialect required"),
        (["--profile", "Azure OpenAI", "--model", "m"], "fill in {resource}"),
        (["--profile", "Groq"], "GROQ_API_KEY is not set"),
    ],
)
def test_probe_profile_errors_exit_2(
    store: ProfileStore, capsys, monkeypatch, args: list[str], says: str
) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    assert main(["probe", *args]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err

"""Copy as curl (key as a `$VAR` placeholder) and import of a pasted curl into a profile."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from dataclasses import replace

import pytest

from core import SessionFinished, run_session
from core.mock import MockServer
from core.providers.curl import from_curl, key_env_name, profile_to_curl, spec_to_curl, to_curl
from core.providers.keys import KeyRef, ProfileError
from core.providers.presets import PRESETS, mock_profile
from core.providers.profile_codec import dump_profiles
from core.providers.profiles import Profile
from core.stream.dialects import build_request

KEY = "sk-curl-secret-0123456789"


def _filled(profile: Profile) -> Profile:
    url = profile.base_url.replace("{resource}", "res").replace("{deployment}", "dep")
    return replace(profile, base_url=url, model=profile.model or "some-model")


def _words(command: str) -> list[str]:
    return shlex.split(command.replace("\\\n", " "))


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
def test_export_hides_the_key_and_keeps_the_request(preset: Profile) -> None:
    profile = replace(_filled(preset), key=KeyRef("env", "MY_KEY"))
    spec = profile.to_spec("Hello 'world' \"quoted\" $HOME", api_key=KEY)
    command = spec_to_curl(spec, "MY_KEY")
    assert KEY not in command and command.startswith("curl -N")
    request = build_request(spec)
    words = _words(command)
    assert json.loads(words[words.index("-d") + 1]) == request.body
    assert request.url in words
    scheme = spec.auth_scheme if spec.auth_scheme != "auto" else "bearer"
    if scheme == "bearer":
        assert '-H "Authorization: Bearer $MY_KEY"' in command
    else:
        assert f'-H "{scheme}: $MY_KEY"' in command


def test_key_in_the_query_and_other_options() -> None:
    from core.stream.spec import HttpRequest

    request = HttpRequest(
        "POST",
        "https://g.example/v1beta/models/m:streamGenerateContent?alt=sse&key=" + KEY,
        {"Content-Type": "application/json", "Proxy-Authorization": "Basic abc"},
        {"contents": []},
    )
    command = to_curl(request, "GEMINI_API_KEY", proxy="http://p:3128", verify_tls=False)
    assert KEY not in command and "Basic abc" not in command
    assert (
        '"https://g.example/v1beta/models/m:streamGenerateContent?alt=sse&key=$GEMINI_API_KEY"'
        in command
    )
    assert "-x http://p:3128" in command and command.endswith("-k")
    with pytest.raises(ValueError):
        to_curl(request, "not a name")


def test_key_env_name() -> None:
    assert (
        key_env_name(Profile("My relay #2", "openai-chat", "https://x/v1")) == "MY_RELAY_2_API_KEY"
    )
    assert key_env_name(Profile("x", "anthropic", "https://x", key=KeyRef("env", "K"))) == "K"
    assert key_env_name(Profile("Groq API key", "openai-chat", "https://x/v1")) == "GROQ_API_KEY"


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
def test_export_then_import_gives_the_profile_back(preset: Profile) -> None:
    profile = replace(_filled(preset), headers={"X-Title": "StreamScope"}, temperature=0.5)
    command = profile_to_curl(profile, "What is SSE?")
    got = from_curl(command)
    p = got.profile
    assert (p.dialect, p.base_url, p.model, p.query, p.headers) == (
        profile.dialect,
        profile.base_url,
        profile.model,
        profile.query,
        profile.headers,
    )
    assert (p.max_tokens, p.temperature) == (profile.max_tokens, 0.5)
    assert got.prompt == "What is SSE?" and got.key is None
    if profile.key.kind == "env":
        assert p.key == profile.key
        expected = profile.auth_scheme if profile.auth_scheme != "bearer" else "auto"
        assert p.auth_scheme in (expected, "auto")
    else:
        assert p.key == KeyRef()


def test_import_keeps_a_literal_key_apart() -> None:
    command = f"""curl https://api.anthropic.com/v1/messages \\
     --header "x-api-key: {KEY}" \\
     --header "anthropic-version: 2023-06-01" \\
     --header "content-type: application/json" \\
     --data '{{"model": "claude-x", "max_tokens": 256, "system": "Be brief.",
       "messages": [{{"role": "user", "content": "Hello, world"}}], "top_k": 5}}'"""
    got = from_curl(command)
    assert got.key == KEY and got.profile.key == KeyRef()
    assert KEY not in repr(got) and KEY not in dump_profiles([got.profile])
    p = got.profile
    assert (p.dialect, p.base_url, p.model, p.max_tokens, p.auth_scheme) == (
        "anthropic",
        "https://api.anthropic.com",
        "claude-x",
        256,
        "auto",
    )
    assert got.system == "Be brief." and got.prompt == "Hello, world"
    assert p.extra_body == {"top_k": 5} and p.headers == {}  # anthropic-version: the dialect's
    newer = from_curl(command.replace("2023-06-01", "2099-01-01")).profile
    assert newer.headers == {"anthropic-version": "2099-01-01"}


@pytest.mark.parametrize(
    ("command", "expect"),
    [
        (  # DeepSeek's documented example
            'curl https://api.deepseek.com/chat/completions -H "Content-Type: application/json" '
            '-H "Authorization: Bearer ${DEEPSEEK_API_KEY}" -d \'{"model": "deepseek-chat", '
            '"messages": [{"role": "system", "content": "You are helpful."}, {"role": "user", '
            '"content": "Hello!"}], "stream": false}\'',
            ("openai-chat", "https://api.deepseek.com", KeyRef("env", "DEEPSEEK_API_KEY"), None),
        ),
        (
            "curl -sN 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash"
            ":streamGenerateContent?alt=sse&key=AIzaLiteral' -H 'Content-Type: application/json' "
            '-X POST -d \'{"contents": [{"role": "user", "parts": [{"text": "Hi"}]}], '
            '"generationConfig": {"maxOutputTokens": 50, "topK": 3}}\'',
            ("gemini", "https://generativelanguage.googleapis.com", KeyRef(), "AIzaLiteral"),
        ),
        (
            'curl http://localhost:11434/api/chat --json \'{"model": "llama3.2", "messages": '
            '[{"role": "user", "content": "Hi"}], "options": {"num_predict": -1}}\'',
            ("ollama", "http://localhost:11434", KeyRef(), None),
        ),
        (
            "curl https://res.openai.azure.com/openai/deployments/dep/chat/completions?api-version"
            "=2024-10-21 -H 'api-key: <your-key>' -k -x http://proxy:8080 --max-time 30 "
            '-d \'{"messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 9}\'',
            ("openai-chat", "https://res.openai.azure.com/openai/deployments/dep", KeyRef(), None),
        ),
    ],
)
def test_import_real_world_commands(command: str, expect: tuple) -> None:
    got = from_curl(command)
    dialect, base = expect[:2]
    assert (got.profile.dialect, got.profile.base_url, got.profile.key, got.key) == expect
    assert got.prompt in ("Hello!", "Hi")
    if dialect == "openai-chat" and "azure" in base:
        p = got.profile
        assert (p.auth_scheme, p.query, p.proxy, p.verify_tls) == (
            "api-key",
            {"api-version": "2024-10-21"},
            "http://proxy:8080",
            False,
        )
        assert (p.max_tokens, p.max_tokens_field, p.timeouts.total_s) == (
            9,
            "max_completion_tokens",
            30.0,
        )
    if dialect == "gemini":
        assert got.profile.model == "gemini-2.5-flash" and got.profile.max_tokens == 50
        assert got.profile.extra_body == {"generationConfig": {"topK": 3}}
        assert got.profile.auth_scheme == "auto"
    if dialect == "ollama":
        assert got.profile.max_tokens is None and got.profile.extra_body == {}
    if "deepseek" in base:
        assert got.system == "You are helpful." and got.profile.extra_body == {}


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("wget https://x", "not a curl command"),
        ("curl -d '{}'", "no URL"),
        ("curl https://x.example/v1/embeddings -d '{}'", "cannot tell the API"),
        ("curl https://x.example/v1/chat/completions -d @body.json", "from a file"),
        ("curl https://x.example/v1/chat/completions -d '{nope'", "not JSON"),
        ("curl https://x.example/v1/chat/completions", "no request body"),
        ("curl 'https://x.example/v1/chat/completions -d '{}'", "cannot split"),
        ("curl https://x/v1/chat/completions -H 'Authorization: Basic a' -d '{}'", "Basic"),
    ],
)
def test_import_errors_say_what_is_wrong(command: str, says: str) -> None:
    with pytest.raises(ProfileError, match=says):
        from_curl(command)


async def test_an_imported_command_runs_against_the_mock(mock: MockServer) -> None:
    command = (
        f"curl {mock.url}/openai/deployments/x/chat/completions?api-version=2024-10-21 "
        f"-H 'api-key: {KEY}' -H 'x-mock-params: tokens=3;tps=5000' "
        '-d \'{"model": "gpt-x", "messages": [{"role": "user", "content": "Hi"}]}\''
    )
    got = from_curl(command)
    spec = got.profile.to_spec(messages=got.messages, system=got.system, api_key=got.key)
    async for event in run_session(spec):
        if isinstance(event, SessionFinished):
            assert event.verdict.outcome == "completed", event.verdict.explanation
            assert KEY not in event.runs[-1].request.headers.get("api-key", "")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl program")
@pytest.mark.parametrize("dialect", ["openai-chat", "anthropic", "gemini"])
def test_the_exported_command_really_runs(mock: MockServer, dialect: str) -> None:
    profile = replace(
        mock_profile(mock.base_urls[dialect], dialect),
        key=KeyRef("env", "SS_CURL_KEY"),
        headers={"x-mock-params": "tokens=3;tps=5000"},
    )
    command = profile_to_curl(profile, 'It\'s "quoted" $HOME')
    env = {**os.environ, "SS_CURL_KEY": "mock-unauthorized"}
    out = subprocess.run(["bash", "-c", command + " -s"], capture_output=True, env=env, timeout=20)
    assert b"401" in out.stdout or b"nvalid" in out.stdout  # the placeholder was expanded
    env["SS_CURL_KEY"] = "fine-key"
    out = subprocess.run(["bash", "-c", command + " -s"], capture_output=True, env=env, timeout=20)
    assert out.returncode == 0 and b"Streaming" in out.stdout, out.stdout[:300]

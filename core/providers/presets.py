"""Presets for the usual providers and local servers (editable copies), and the Mock profile.

Base URLs follow each provider's documentation and the official SDKs' convention (DESIGN §6:
OpenAI-style bases include `/v1`, Anthropic, Gemini and Ollama native take the host root).
Default models are only a starting point: the dialog fetches the listing (core.providers.listing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlsplit

from core.providers.keys import KeyRef, ProfileError
from core.providers.profiles import Profile, ProfileStore

__all__ = [
    "MOCK",
    "PRESETS",
    "catalogue",
    "find_profile",
    "key_warning",
    "mock_profile",
    "preset",
    "with_mock_url",
]

AZURE_API_VERSION = "2024-10-21"  # the latest GA data-plane inference version


def _env(name: str) -> KeyRef:
    return KeyRef("env", name)


PRESETS: tuple[Profile, ...] = (
    Profile(
        "OpenAI",
        "openai-chat",
        "https://api.openai.com/v1",
        model="gpt-4o-mini",
        auth_scheme="bearer",
        key=_env("OPENAI_API_KEY"),
        notes="Reasoning models (o-series, gpt-5) want max_completion_tokens.",
    ),
    Profile(
        "OpenAI Responses",
        "openai-responses",
        "https://api.openai.com/v1",
        model="gpt-4o-mini",
        auth_scheme="bearer",
        key=_env("OPENAI_API_KEY"),
    ),
    Profile(
        "Anthropic",
        "anthropic",
        "https://api.anthropic.com",
        model="claude-haiku-4-5",
        auth_scheme="x-api-key",  # the dialect adds anthropic-version
        key=_env("ANTHROPIC_API_KEY"),
        prefill_supported=True,
        notes="Newer models reject assistant prefill (400): switch prefill off for them.",
    ),
    Profile(
        "Gemini",
        "gemini",
        "https://generativelanguage.googleapis.com",
        model="gemini-2.5-flash",
        auth_scheme="x-goog-api-key",
        key=_env("GEMINI_API_KEY"),
    ),
    Profile(
        "OpenRouter",
        "openai-chat",
        "https://openrouter.ai/api/v1",
        model="openai/gpt-4o-mini",
        auth_scheme="bearer",
        key=_env("OPENROUTER_API_KEY"),
        notes="Sends ': OPENROUTER PROCESSING' keep-alive comments while the model queues.",
    ),
    Profile(
        "DeepSeek",
        "openai-chat",
        "https://api.deepseek.com",  # the docs' base_url; https://api.deepseek.com/v1 also works
        model="deepseek-chat",
        auth_scheme="bearer",
        key=_env("DEEPSEEK_API_KEY"),
        notes="Under load it may finish with 'insufficient_system_resource'.",
    ),
    Profile(
        "Groq",
        "openai-chat",
        "https://api.groq.com/openai/v1",
        model="llama-3.3-70b-versatile",
        auth_scheme="bearer",
        key=_env("GROQ_API_KEY"),
    ),
    Profile(
        "Together",
        "openai-chat",
        "https://api.together.ai/v1",  # the docs' host; api.together.xyz is the older alias
        model="meta-llama/Llama-3.3-70B-Instruct-Turbo",
        auth_scheme="bearer",
        key=_env("TOGETHER_API_KEY"),
    ),
    Profile(
        "Mistral",
        "openai-chat",
        "https://api.mistral.ai/v1",
        model="mistral-small-latest",
        auth_scheme="bearer",
        key=_env("MISTRAL_API_KEY"),
    ),
    Profile(
        "Azure OpenAI",
        "openai-chat",
        "https://{resource}.openai.azure.com/openai/deployments/{deployment}",
        model="",  # the deployment decides the model
        auth_scheme="api-key",
        key=_env("AZURE_OPENAI_API_KEY"),
        query={"api-version": AZURE_API_VERSION},
        notes="Fill in {resource} and {deployment}; the model field is ignored by Azure.",
    ),
    Profile(
        "Ollama",
        "ollama",
        "http://localhost:11434",
        model="llama3.2",
        notes="Native /api/chat (NDJSON). No key.",
    ),
    Profile(
        "Ollama (OpenAI /v1)",
        "openai-chat",
        "http://localhost:11434/v1",
        model="llama3.2",
        notes="Ollama's OpenAI-compatible endpoint. No key.",
    ),
    Profile(
        "vLLM",
        "openai-chat",
        "http://localhost:8000/v1",
        continue_final_message=True,
        notes="Set a key only if the server runs with --api-key.",
    ),
    Profile("LM Studio", "openai-chat", "http://localhost:1234/v1"),
    Profile(
        "llama.cpp server",
        "openai-chat",
        "http://localhost:8080/v1",
        notes="Set a key only if llama-server runs with --api-key.",
    ),
    Profile(
        "LiteLLM proxy",
        "openai-chat",
        "http://localhost:4000/v1",
        notes="With a master key set, store it as this profile's key (Bearer).",
    ),
)

MOCK = Profile(
    "Mock",
    "openai-chat",
    "mock",  # filled in when the built-in mock starts: mock_profile(server.base_urls[d])
    model="mock-normal",
    notes="The built-in mock provider; choose a scenario with the model name mock-<scenario>.",
)

# An official key variable belongs to its provider's host (DESIGN §6: never to a relay).
_OFFICIAL_HOSTS = {
    p.key.name: urlsplit(p.base_url).hostname
    for p in PRESETS
    if p.key.kind == "env" and p.base_url.startswith("https://") and "{" not in p.base_url
}


def mock_profile(base_url: str, dialect: str = "openai-chat") -> Profile:
    """The Mock profile pointed at a running mock (`MockServer.base_urls[dialect]`)."""
    return replace(MOCK, base_url=base_url, dialect=dialect)


def with_mock_url(profile: Profile, base_urls: Mapping[str, str]) -> Profile:
    """A profile whose base URL is ``mock`` pointed at a running mock (`MockServer.base_urls`);
    any other profile unchanged."""
    if profile.base_url != "mock":
        return profile
    return replace(profile, base_url=base_urls[profile.dialect])


def preset(name: str) -> Profile:
    found = next((p for p in (*PRESETS, MOCK) if p.name == name), None)
    if found is None:
        raise ProfileError(f"no preset named '{name}'")
    return found


def catalogue(store: ProfileStore | None = None) -> list[tuple[str, Profile]]:
    """Every profile to offer, as (source, profile): saved ones first, then the presets a
    saved profile of the same name does not shadow, then the Mock. Source is ``saved``,
    ``preset`` or ``built-in``. Raises `ProfileFileError` if the saved file is broken."""
    saved = list(store.profiles) if store is not None else []
    taken = {p.name.casefold() for p in saved}
    out = [("saved", p) for p in saved]
    out += [("preset", p) for p in PRESETS if p.name.casefold() not in taken]
    if MOCK.name.casefold() not in taken:
        out.append(("built-in", MOCK))
    return out


def find_profile(name: str, store: ProfileStore | None = None) -> Profile:
    """A saved profile, preset or the Mock by name (exact, then ignoring case)."""
    entries = [p for _, p in catalogue(store)]
    for match in (lambda p: p.name == name, lambda p: p.name.casefold() == name.casefold()):
        found = [p for p in entries if match(p)]
        if found:
            return found[0]
    raise ProfileError(f"no profile named '{name}' (see: streamscope profiles list)")


def key_warning(profile: Profile) -> str | None:
    """A warning when an official provider's key variable would go to another host."""
    if profile.key.kind != "env" or profile.key.name not in _OFFICIAL_HOSTS:
        return None
    host = urlsplit(profile.base_url).hostname
    official = _OFFICIAL_HOSTS[profile.key.name]
    if host == official:
        return None
    return (
        f"{profile.key.name} is the key for {official}, but this profile sends it to "
        f"{host or profile.base_url}"
    )

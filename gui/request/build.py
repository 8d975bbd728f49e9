"""How the request pane's values become a request (pure; no Qt).

Every provider choice becomes a core `Profile` first — the built-in mock (`mock_profile`
with the scenario as model and the `x-mock-params` header), Custom (base URL, model, key
variable typed in the pane) or a saved profile / preset (its headers, query, proxy, TLS,
auth and key reference; base URL "mock" means the built-in mock, `with_mock_url`) — and the
pane's fields override it. So Send (`to_spec`) and Edit → Copy as curl (`to_curl`) build the
same request, and curl never reads a key: `profile_to_curl` leaves `$VAR` in its place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from core import (
    CurlImport,
    KeyRef,
    Profile,
    ProfileError,
    RunSpec,
    Timeouts,
    key_env_name,
    mock_profile,
    profile_to_curl,
    with_mock_url,
)
from gui.request.values import CUSTOM, MOCK_PROVIDER, RequestValues, SpecError

__all__ = ["request_profile", "to_curl", "to_spec", "values_from_import"]


def _json(text: str, what: str, kind: type) -> Any:
    if not text.strip():
        return kind()
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise SpecError(f"{what}: not valid JSON ({exc})") from None
    if kind is list and isinstance(value, dict):
        value = [value]
    if not isinstance(value, kind):
        raise SpecError(f"{what}: expected a JSON {'array' if kind is list else 'object'}")
    return value


def request_profile(
    v: RequestValues, mock_base_urls: Mapping[str, str], profiles: Mapping[str, Profile]
) -> Profile:
    """The profile the values send with, its dialect, base URL and model from the pane."""
    try:
        if v.provider == MOCK_PROVIDER:
            if v.dialect not in mock_base_urls:
                raise SpecError(f"the mock does not serve {v.dialect}")
            mock = mock_profile(mock_base_urls[v.dialect], v.dialect)
            return replace(
                mock, model=f"mock-{v.scenario}", headers={"x-mock-params": v.mock_params()}
            )
        base_url, model = v.base_url.strip(), v.model.strip()
        if not base_url:
            raise SpecError("Base URL: required")
        if v.provider == CUSTOM:
            if not model:
                raise SpecError("Model: required for a custom provider")
            key = KeyRef("env", v.key_env.strip()) if v.key_env.strip() else KeyRef()
            return Profile("Custom", v.dialect, base_url, model, key=key)
        name = v.profile_name or ""
        if name not in profiles:
            raise SpecError(f"Provider: no profile named '{name}' (deleted?)")
        chosen = replace(profiles[name], dialect=v.dialect, base_url=base_url, model=model)
        return with_mock_url(chosen, mock_base_urls)
    except ProfileError as exc:
        raise SpecError(f"Provider: {exc}") from None


def _overrides(v: RequestValues, profile: Profile) -> dict[str, Any]:
    """RunSpec fields from the pane; the profile's own headers, body and timeouts are kept
    where the pane has nothing to say."""
    if not v.prompt.strip():
        raise SpecError("Prompt: empty")
    tools = tuple(_json(v.tools_json, "Tools", list))
    if not all(isinstance(t, dict) for t in tools):
        raise SpecError("Tools: every tool must be a JSON object")
    extra = {**profile.extra_body, **_json(v.extra_json, "Extra parameters", dict)}
    timeouts: Timeouts = replace(
        profile.timeouts, first_byte_s=v.first_byte_s or None, stall_s=v.stall_s or None
    )
    return {
        "messages": RunSpec.user(v.prompt),
        "system": v.system.strip() or None,
        "max_tokens": v.max_tokens or None,
        "temperature": None if v.temperature < 0 else round(v.temperature, 2),
        "stop": tuple(s for s in v.stop.splitlines() if s),
        "include_usage": v.include_usage,
        "tools": tools,
        "reasoning_effort": v.reasoning_effort or None,
        "thinking_budget": v.thinking_budget or None,
        "extra_body": extra,
        "timeouts": timeouts,
    }


def to_spec(
    v: RequestValues,
    mock_base_urls: Mapping[str, str],
    profiles: Mapping[str, Profile] | None = None,
) -> RunSpec:
    """The request to send (the key read now); raises SpecError naming the field at fault."""
    profile = request_profile(v, mock_base_urls, profiles or {})
    overrides = _overrides(v, profile)
    try:
        return profile.to_spec(**overrides)
    except ProfileError as exc:  # KeyUnavailable: an unset variable, nothing in the keyring
        what = "API key" if profile.key.kind != "none" else "Provider"
        raise SpecError(f"{what}: {exc}") from None


def to_curl(
    v: RequestValues,
    mock_base_urls: Mapping[str, str],
    profiles: Mapping[str, Profile] | None = None,
) -> tuple[str, str | None]:
    """The request as a curl command and the variable standing for its key (None when the
    provider takes no key). No key is read: the command says `$VAR` instead."""
    profile = request_profile(v, mock_base_urls, profiles or {})
    overrides = _overrides(v, profile)
    try:
        text = profile_to_curl(profile, **overrides)
    except (ProfileError, ValueError) as exc:
        raise SpecError(f"Provider: {exc}") from None
    return text, key_env_name(profile) if profile.key.kind != "none" else None


def values_from_import(
    current: RequestValues, imported: CurlImport, profile_name: str | None
) -> RequestValues:
    """The pane after File → Import curl: the imported request on the saved profile
    `profile_name`, or on Custom (its key variable, body extras as the extra JSON)."""
    p = imported.profile
    changes: dict[str, Any] = {
        "dialect": p.dialect,
        "base_url": p.base_url,
        "model": p.model,
        "prompt": imported.prompt or current.prompt,
        "system": imported.system or "",
        "max_tokens": p.max_tokens or 0,
        "temperature": -0.1 if p.temperature is None else p.temperature,
        "tools_json": "",
        "extra_json": "",
    }
    if profile_name is not None:
        changes["provider"] = RequestValues.profile_provider(profile_name)
    else:
        changes["provider"] = CUSTOM
        changes["key_env"] = p.key.name if p.key.kind == "env" else ""
        changes["extra_json"] = json.dumps(p.extra_body, indent=2) if p.extra_body else ""
    return replace(current, **changes)

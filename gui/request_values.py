"""What the request pane holds, as plain data, and how it becomes a `RunSpec` (pure; no Qt).

Kept apart from the widget so the rules (mock parameters header, JSON editors, key from an
environment variable, timeouts where 0 means off) are tested without a window.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from core import RunSpec, Timeouts

__all__ = ["PromptPreset", "RequestValues", "SpecError", "load_presets", "to_spec"]

REASONING_EFFORTS = ("", "minimal", "low", "medium", "high")


class SpecError(ValueError):
    """The form cannot make a request; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class RequestValues:
    provider: str = "mock"  # mock | custom
    dialect: str = "openai-chat"
    scenario: str = "normal"
    tokens: int = 200
    tps: float = 50.0
    first_byte_ms: float = 0.0
    jitter_ms: float = 0.0
    cut_at: int = 0  # 0: the mock's default (half the reply)
    fail_first: int = 0
    stall_ms: float = 0.0  # the stall scenario's silence; 0: the mock's default (600 s)
    base_url: str = ""
    model: str = ""
    key_env: str = ""
    prompt: str = "Explain in two short paragraphs why streaming responses feel faster."
    system: str = ""
    max_tokens: int = 1024
    temperature: float = -0.1  # below 0: not sent
    stop: str = ""  # one sequence per line
    include_usage: bool = True
    reasoning_effort: str = ""
    thinking_budget: int = 0  # 0: off
    tools_json: str = ""
    extra_json: str = ""
    first_byte_s: float = 60.0  # 0: off
    stall_s: float = 60.0  # 0: off
    retries: int = 0  # automatic retries under the default policy

    def to_settings(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_settings(cls, data: Mapping[str, Any] | None) -> RequestValues:
        """Tolerant of missing, extra and mistyped keys (settings from an older version)."""
        base = cls()
        if not isinstance(data, Mapping):
            return base
        changes: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            default = getattr(base, f.name)
            value = data[f.name]
            try:
                if isinstance(default, bool):
                    value = value in (True, "true", "1", 1)
                else:
                    value = type(default)(value)
            except (TypeError, ValueError):
                continue
            changes[f.name] = value
        return replace(base, **changes)

    def mock_params(self) -> str:
        parts = [
            f"tokens={self.tokens}",
            f"tps={self.tps:g}",
            f"first_byte_ms={self.first_byte_ms:g}",
            f"jitter_ms={self.jitter_ms:g}",
            f"fail_first={self.fail_first}",
        ]
        if self.cut_at:
            parts.append(f"cut_at={self.cut_at}")
        if self.stall_ms:
            parts.append(f"stall_ms={self.stall_ms:g}")
        return ";".join(parts)


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


def to_spec(v: RequestValues, mock_base_urls: Mapping[str, str]) -> RunSpec:
    """The request to send; raises SpecError naming the field at fault."""
    headers: dict[str, str] = {}
    api_key = None
    if v.provider == "mock":
        if v.dialect not in mock_base_urls:
            raise SpecError(f"the mock does not serve {v.dialect}")
        base_url = mock_base_urls[v.dialect]
        model = f"mock-{v.scenario}"
        headers["x-mock-params"] = v.mock_params()
        profile = "mock"
    else:
        base_url, model = v.base_url.strip(), v.model.strip()
        if not base_url:
            raise SpecError("Base URL: required for a custom provider")
        if not model:
            raise SpecError("Model: required for a custom provider")
        if v.key_env.strip():
            api_key = os.environ.get(v.key_env.strip())
            if not api_key:
                raise SpecError(f"API key: the environment variable {v.key_env} is not set")
        profile = "custom"
    if not v.prompt.strip():
        raise SpecError("Prompt: empty")
    tools = tuple(_json(v.tools_json, "Tools", list))
    if not all(isinstance(t, dict) for t in tools):
        raise SpecError("Tools: every tool must be a JSON object")
    return RunSpec(
        dialect=v.dialect,
        base_url=base_url,
        model=model,
        messages=RunSpec.user(v.prompt),
        system=v.system.strip() or None,
        max_tokens=v.max_tokens or None,
        temperature=None if v.temperature < 0 else round(v.temperature, 2),
        stop=tuple(s for s in v.stop.splitlines() if s),
        include_usage=v.include_usage,
        tools=tools,
        reasoning_effort=v.reasoning_effort or None,
        thinking_budget=v.thinking_budget or None,
        extra_body=_json(v.extra_json, "Extra parameters", dict),
        headers=headers,
        api_key=api_key,
        timeouts=Timeouts(first_byte_s=v.first_byte_s or None, stall_s=v.stall_s or None),
        profile=profile,
    )


@dataclass(frozen=True, slots=True)
class PromptPreset:
    title: str
    prompt: str
    note: str = ""
    system: str = ""
    max_tokens: int | None = None
    stop: str = ""
    tools_json: str = ""
    scenario: str | None = None  # what the mock plays for it

    def apply(self, v: RequestValues) -> RequestValues:
        changes: dict[str, Any] = {"prompt": self.prompt, "system": self.system, "stop": self.stop}
        changes["tools_json"] = self.tools_json
        if self.max_tokens is not None:
            changes["max_tokens"] = self.max_tokens
        if self.scenario and v.provider == "mock":
            changes["scenario"] = self.scenario
        return replace(v, **changes)


def load_presets(path: Path) -> list[PromptPreset]:
    """Test prompts from a TOML file with `[[prompt]]` tables."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    presets = []
    for item in data.get("prompt", []):
        tools = item.get("tools")
        presets.append(
            PromptPreset(
                title=item["title"],
                prompt=item["prompt"].strip(),
                note=item.get("note", ""),
                system=item.get("system", ""),
                max_tokens=item.get("max_tokens"),
                stop="\n".join(item.get("stop", [])),
                tools_json=json.dumps(tools, indent=2) if tools else "",
                scenario=item.get("scenario"),
            )
        )
    return presets

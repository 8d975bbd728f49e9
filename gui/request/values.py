"""What the request pane holds, as plain data (pure; no Qt), and the test prompts.

Kept apart from the widget so the rules are tested without a window; how the values become a
`RunSpec` or a curl command is in `gui.request.build`.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["CUSTOM", "MOCK_PROVIDER", "PromptPreset", "RequestValues", "SpecError", "load_presets"]

REASONING_EFFORTS = ("", "minimal", "low", "medium", "high")
MOCK_PROVIDER = "mock"  # the built-in mock, with its scenario picker
CUSTOM = "custom"  # a base URL, a model and a key variable typed in the pane
_PROFILE = "profile:"  # + the name of a saved profile or preset


class SpecError(ValueError):
    """The form cannot make a request; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class RequestValues:
    provider: str = MOCK_PROVIDER  # mock | custom | profile:<name>
    dialect: str = "openai-chat"
    scenario: str = "normal"
    tokens: int = 200
    tps: float = 50.0
    first_byte_ms: float = 0.0
    jitter_ms: float = 0.0
    cut_at: int = 0  # 0: the mock's default (half the reply)
    fail_first: int = 1  # the fault once, then success: Retry works (0: always fail)
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

    @staticmethod
    def profile_provider(name: str) -> str:
        return _PROFILE + name

    @property
    def profile_name(self) -> str | None:
        """The saved profile or preset chosen, or None for the mock and Custom."""
        return self.provider.removeprefix(_PROFILE) if self.provider.startswith(_PROFILE) else None

    @property
    def provider_name(self) -> str:
        """The name runs carry (`RunSpec.profile`), which the circuit breakers go by."""
        if self.provider == MOCK_PROVIDER:
            return "Mock"
        return self.profile_name or "Custom"

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
        if self.scenario and v.provider == MOCK_PROVIDER:
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

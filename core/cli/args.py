"""What every headless command shares: the usage error (exit 2, one line) and where a key
comes from when no profile says."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

__all__ = ["OFFICIAL_KEYS", "UsageError", "resolve_key"]

OFFICIAL_KEYS = {
    "api.openai.com": ("OPENAI_API_KEY", ("openai-chat", "openai-responses")),
    "api.anthropic.com": ("ANTHROPIC_API_KEY", ("anthropic",)),
    "generativelanguage.googleapis.com": ("GEMINI_API_KEY", ("gemini",)),
}


class UsageError(Exception):
    """Bad arguments: exit 2 with this one-line message."""


def resolve_key(base_url: str, dialect: str, key_env: str | None) -> str | None:
    """`--api-key-env` wins; a dialect's usual variable only for its official host."""
    if key_env:
        value = os.environ.get(key_env)
        if not value:
            raise UsageError(f"--api-key-env {key_env}: that environment variable is not set")
        return value
    host = (urlsplit(base_url).hostname or "").lower()
    entry = OFFICIAL_KEYS.get(host)
    if entry and dialect in entry[1]:
        return os.environ.get(entry[0]) or None
    return None

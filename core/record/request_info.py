"""What a recorded request was about: base URL, model and prompt, read from the request a
dialect built (for runs imported from files). Pure and tolerant of any shape."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["describe_request", "prompt_of"]

_ENDPOINTS = (
    "/chat/completions",
    "/responses",
    "/v1/messages",
    "/api/chat",
)
_GEMINI = re.compile(r"/v1beta/models/([^/:]+):streamGenerateContent")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: {"type": "text", "text": ...} / {"text"}
        return "".join(
            p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    if isinstance(content, dict):
        return _text(content.get("parts") or content.get("text"))
    return ""


def prompt_of(messages: Any) -> str:
    """The last user turn's text (chat messages, Responses input, Gemini contents)."""
    if isinstance(messages, str):
        return messages
    if not isinstance(messages, list | tuple):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") in ("user", None):
            text = _text(message.get("content") if "content" in message else message)
            if text:
                return text
    return ""


def describe_request(dialect: str, request: dict[str, Any]) -> tuple[str, str, str]:
    url = request.get("url") if isinstance(request.get("url"), str) else ""
    body = request.get("body") if isinstance(request.get("body"), dict) else {}
    model = body.get("model") if isinstance(body.get("model"), str) else ""
    parts = urlsplit(url)
    path = parts.path
    gemini = _GEMINI.search(path)
    if gemini:
        model = model or gemini.group(1)
        path = path[: gemini.start()]
    else:
        for endpoint in _ENDPOINTS:
            if path.endswith(endpoint):
                path = path[: -len(endpoint)]
                break
    base_url = urlunsplit((parts.scheme, parts.netloc, path, "", "")) if url else ""
    messages = body.get("messages") or body.get("input") or body.get("contents")
    return base_url, model, prompt_of(messages)

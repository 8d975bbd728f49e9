"""Per-dialect facts the server needs: writer, error body, content type, request-id header."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import anthropic, gemini, ollama, openai_chat
from .frames import Frame, Writer, build_frames
from .plan import Plan
from .responses import ResponsesWriter
from .scenarios import SCENARIOS

_WRITERS: dict[str, type[Writer]] = {
    "openai-chat": openai_chat.ChatWriter,
    "openai-responses": ResponsesWriter,
    "anthropic": anthropic.AnthropicWriter,
    "gemini": gemini.GeminiWriter,
    "ollama": ollama.OllamaWriter,
}

STREAM_CONTENT_TYPE = {
    "openai-chat": "text/event-stream; charset=utf-8",
    "openai-responses": "text/event-stream; charset=utf-8",
    "anthropic": "text/event-stream; charset=utf-8",
    "gemini": "text/event-stream",
    "ollama": "application/x-ndjson",
}


def request_id_header(dialect: str) -> str:
    return "request-id" if dialect == "anthropic" else "x-request-id"


def frames_for(plan: Plan) -> Iterator[Frame]:
    return build_frames(plan, _WRITERS[plan.dialect](plan))


def error_body(dialect: str, status: int, kind: str, message: str, request_id: str) -> Any:
    """The error JSON in the dialect's own shape (never containing a key)."""
    if dialect == "anthropic":
        return anthropic.error_body(kind, message, request_id)
    if dialect == "gemini":
        return gemini.error_body(status if status >= 400 else 400, message)
    if dialect == "ollama":
        return ollama.error_body(message)
    return openai_chat.error_body(kind, message, request_id)


def listing(dialect: str, created: int) -> dict[str, Any]:
    """Model listing: ``/v1/models`` (OpenAI/Anthropic), ``/v1beta/models``, ``/api/tags``."""
    names = [f"mock-{s}" for s in SCENARIOS]
    if dialect == "gemini":
        models = [
            {
                "name": f"models/{name}",
                "displayName": name,
                "inputTokenLimit": 8192,
                "outputTokenLimit": 8192,
                "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
            }
            for name in names
        ]
        return {"models": models}
    if dialect == "ollama":
        return {"models": [{"name": name, "model": name, "size": 0} for name in names]}
    data = [
        {
            "id": name,
            "object": "model",
            "type": "model",
            "created": created,
            "created_at": "2024-01-01T00:00:00Z",
            "display_name": name,
            "owned_by": "streamscope-mock",
        }
        for name in names
    ]
    return {"object": "list", "data": data, "has_more": False}

"""One module per wire dialect: build the request, parse events, keep the end facts."""

from __future__ import annotations

from collections.abc import Callable

from core.stream.dialects import anthropic, gemini, ollama, openai_chat, openai_responses
from core.stream.dialects.base import Finish, Parser, StreamFacts, ToolCallState
from core.stream.spec import HttpRequest, RunSpec

__all__ = ["Finish", "Parser", "StreamFacts", "ToolCallState", "build_request", "new_parser"]

_PARSERS: dict[str, type[Parser]] = {
    "openai-chat": openai_chat.ChatParser,
    "openai-responses": openai_responses.ResponsesParser,
    "anthropic": anthropic.AnthropicParser,
    "gemini": gemini.GeminiParser,
    "ollama": ollama.OllamaParser,
}
_BUILDERS: dict[str, Callable[[RunSpec], HttpRequest]] = {
    "openai-chat": openai_chat.build_request,
    "openai-responses": openai_responses.build_request,
    "anthropic": anthropic.build_request,
    "gemini": gemini.build_request,
    "ollama": ollama.build_request,
}


def new_parser(dialect: str) -> Parser:
    return _PARSERS[dialect]()


def build_request(spec: RunSpec) -> HttpRequest:
    return _BUILDERS[spec.dialect](spec)

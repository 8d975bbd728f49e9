"""Gemini `streamGenerateContent?alt=sse`: data-only SSE, no terminator; the chunk with
`finishReason` is the end."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from core.stream.dialects.base import Finish, Parser, post_json
from core.stream.events import StreamEvent
from core.stream.spec import HttpRequest, RunSpec

__all__ = ["GeminiParser", "build_request", "map_finish"]

_FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE"}


def map_finish(raw: str) -> Finish:
    evidence = f'finishReason "{raw}"'
    if raw == "STOP":
        return Finish(raw, "completed", "natural", evidence, covers_stop_sequence=True)
    if raw == "MAX_TOKENS":
        return Finish(raw, "truncated", "max_tokens", evidence)
    if raw in _FILTERED or raw.startswith("IMAGE_"):
        return Finish(raw, "blocked", "content_filter", evidence)
    if raw in ("MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"):
        return Finish(raw, "upstream_error", raw, evidence)
    return Finish(raw, "unknown", None, evidence)


class GeminiParser(Parser):
    dialect = "gemini"

    def __init__(self) -> None:
        super().__init__()
        self.facts.finish_is_end = True
        self._calls = 0

    def parse(self, name: str, obj: Any, t_ns: int, out: list[StreamEvent]) -> None:
        if isinstance(obj, list):  # the non-SSE JSON array form, one element per chunk
            for item in obj:
                self.parse(name, item, t_ns, out)
            return
        if not isinstance(obj, dict):
            self._malformed(str(obj))
            return
        err = obj.get("error")
        if isinstance(err, dict):
            self.error(
                err.get("status") or err.get("code"),
                err.get("message"),
                "an error object in the stream",
                t_ns,
                out,
            )
            return
        if isinstance(obj.get("responseId"), str):
            self.facts.response_id = obj["responseId"]
        meta = obj.get("usageMetadata")
        if isinstance(meta, dict):
            self.usage(meta.get("promptTokenCount"), meta.get("candidatesTokenCount"), t_ns, out)
        feedback = obj.get("promptFeedback") or {}
        candidates = obj.get("candidates") or []
        if feedback.get("blockReason") and not candidates:
            reason = feedback["blockReason"]
            self.facts.prompt_blocked = reason
            self.facts.terminator_seen = True
            self.finish(
                Finish(
                    reason,
                    "blocked",
                    "prompt_blocked",
                    f'promptFeedback.blockReason "{reason}" with no candidates',
                ),
                t_ns,
                out,
            )
            return
        for cand in candidates[:1]:
            parts = (cand.get("content") or {}).get("parts") or []
            for part in parts:
                self._part(part, t_ns, out)
            raw = cand.get("finishReason")
            if isinstance(raw, str) and raw:
                self.facts.terminator_seen = True
                self.facts.terminator_name = f"finishReason {raw}"
                self.finish(map_finish(raw), t_ns, out)

    def _part(self, part: dict[str, Any], t_ns: int, out: list[StreamEvent]) -> None:
        if "functionCall" in part:
            call = part["functionCall"] or {}
            args = json.dumps(call.get("args") or {}, ensure_ascii=False)
            self.tool_delta(self._calls, call.get("id"), call.get("name"), args, t_ns, out)
            self._calls += 1
        elif isinstance(part.get("text"), str):
            if part.get("thought"):
                self.thinking(part["text"], t_ns, out)
            else:
                self.text(part["text"], t_ns, out)


def build_request(spec: RunSpec) -> HttpRequest:
    contents = []
    for message in spec.messages:
        role = "model" if message.get("role") == "assistant" else "user"
        content = message.get("content")
        parts = content if isinstance(content, list) else [{"text": str(content or "")}]
        contents.append({"role": role, "parts": parts})
    config: dict[str, Any] = {}
    if spec.max_tokens is not None:
        config["maxOutputTokens"] = spec.max_tokens
    if spec.temperature is not None:
        config["temperature"] = spec.temperature
    if spec.stop:
        config["stopSequences"] = list(spec.stop)
    if spec.thinking_budget is not None:
        config["thinkingConfig"] = {"thinkingBudget": spec.thinking_budget, "includeThoughts": True}
    body: dict[str, Any] = {"contents": contents}
    if config:
        body["generationConfig"] = config
    if spec.system:
        body["systemInstruction"] = {"parts": [{"text": spec.system}]}
    if spec.tools:
        body["tools"] = [{"functionDeclarations": [_decl(t) for t in spec.tools]}]
    path = f"/v1beta/models/{quote(spec.model, safe='')}:streamGenerateContent"
    return post_json(spec, path, body, "x-goog-api-key", query={"alt": "sse", **spec.query})


def _decl(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool.get("function") if tool.get("type") == "function" else tool
    return {k: v for k, v in (fn or {}).items() if k in ("name", "description", "parameters")}

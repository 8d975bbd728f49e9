"""Build the follow-up request for Continue, per dialect, and stitch the seam. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from core.stream.outcome import Verdict
from core.stream.spec import RunSpec

__all__ = ["ContinuePlan", "build_continuation", "more_tokens", "stitch"]

CONTINUE_PROMPT = (
    "Your previous reply was cut off. Continue exactly where it stopped, without repeating "
    "anything and without any preamble. It ended with: {tail!r}"
)


@dataclass(frozen=True, slots=True)
class ContinuePlan:
    spec: RunSpec
    # prefill | resend | assistant_message | continue_final_message | previous_response_id
    # | user_turn
    method: str
    trimmed: str = ""  # whitespace cut from the end of an Anthropic prefill


class CannotContinue(ValueError):
    """This verdict cannot be continued; the message says why (for the button's tooltip)."""


def build_continuation(spec: RunSpec, partial: str, verdict: Verdict) -> ContinuePlan:
    if verdict.outcome == "truncated" and verdict.detail == "context_window":
        raise CannotContinue("the context window is full: continuing would only add to it")
    if any(not c.complete for c in verdict.tool_calls):
        raise CannotContinue("a truncated tool call cannot be continued: retry with more tokens")
    if "continue" not in verdict.actions:
        raise CannotContinue(f"{verdict.label} offers no Continue")
    messages = list(spec.messages)
    d = spec.dialect
    if d == "anthropic":
        stripped = partial.rstrip()
        if verdict.outcome == "paused":
            # Resent as-is, but the API refuses a final assistant turn ending in whitespace.
            return ContinuePlan(
                spec.with_changes(
                    messages=(*messages, {"role": "assistant", "content": stripped or partial})
                ),
                "resend",
                partial[len(stripped) :] if stripped else "",
            )
        if spec.prefill_supported and not spec.thinking_budget and stripped:
            return ContinuePlan(
                spec.with_changes(messages=(*messages, {"role": "assistant", "content": stripped})),
                "prefill",
                partial[len(stripped) :],
            )
        return _user_turn(spec, messages, partial, "user_turn")
    if d == "openai-responses":
        if verdict.response_id:
            prompt = CONTINUE_PROMPT.format(tail=partial[-40:])
            return ContinuePlan(
                spec.with_changes(
                    messages=({"role": "user", "content": prompt},),
                    previous_response_id=verdict.response_id,
                ),
                "previous_response_id",
            )
        return _user_turn(spec, messages, partial, "assistant_message")
    if d == "openai-chat" and spec.continue_final_message:
        extra = {**spec.extra_body, "continue_final_message": True, "add_generation_prompt": False}
        return ContinuePlan(
            spec.with_changes(
                messages=(*messages, {"role": "assistant", "content": partial}), extra_body=extra
            ),
            "continue_final_message",
        )
    return _user_turn(spec, messages, partial, "assistant_message")


def _user_turn(spec: RunSpec, messages: list, partial: str, method: str) -> ContinuePlan:
    prompt = CONTINUE_PROMPT.format(tail=partial[-40:])
    return ContinuePlan(
        spec.with_changes(
            messages=(
                *messages,
                {"role": "assistant", "content": partial},
                {"role": "user", "content": prompt},
            )
        ),
        method,
    )


def stitch(partial: str, continuation: str, trimmed: str = "", min_overlap: int = 12) -> str:
    """Join at the seam: restore trimmed whitespace only if the continuation does not bring
    it, and cut a repeated tail (the model restating the last words) from the continuation."""
    if trimmed:
        partial = partial[: len(partial) - len(trimmed)]
        if not continuation[:1].isspace():
            continuation = trimmed + continuation
    limit = min(len(partial), len(continuation), 400)
    for k in range(limit, min_overlap - 1, -1):
        if partial.endswith(continuation[:k]):
            return partial + continuation[k:]
    return partial + continuation


def more_tokens(spec: RunSpec) -> RunSpec:
    current = spec.max_tokens or 1024
    return spec.with_changes(max_tokens=min(current * 2, max(spec.max_tokens_cap, current)))

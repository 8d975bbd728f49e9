"""Auth header shape checks (pure). No key needed; a key that is present must look right.

Accepted credentials per dialect:
- OpenAI chat / Responses: ``Authorization: Bearer <k>`` or Azure ``api-key: <k>``.
- Anthropic: ``x-api-key: <k>``, or ``Authorization: Bearer <k>`` (the real API takes OAuth
  bearer tokens too).
- Gemini: ``x-goog-api-key: <k>`` or ``?key=<k>``, or ``Authorization: Bearer`` (OAuth).
- Ollama: none needed; ``Authorization: Bearer <k>`` (hosted Ollama behind a proxy) accepted.
- Listings: ``/v1/models`` is shared by OpenAI and Anthropic, so it takes either's headers.

A request with credentials, none of them the dialect's kind (``x-api-key`` sent to OpenAI), an
``Authorization`` that is not ``Bearer <non-empty>``, an empty key, or the key
``mock-unauthorized`` is refused (401). The key itself is never returned or logged.
"""

from __future__ import annotations

from collections.abc import Mapping

UNAUTHORIZED_KEY = "mock-unauthorized"

_ACCEPTED: dict[str, frozenset[str]] = {
    "openai-chat": frozenset({"bearer", "api-key"}),
    "openai-responses": frozenset({"bearer", "api-key"}),
    "anthropic": frozenset({"x-api-key", "bearer"}),
    "gemini": frozenset({"x-goog-api-key", "key", "bearer"}),
    "ollama": frozenset({"bearer"}),
    "models": frozenset({"bearer", "api-key", "x-api-key"}),
}


def _credentials(headers: Mapping[str, str], query: Mapping[str, str]) -> dict[str, str | None]:
    """Credential kind → key (None: present but malformed)."""
    found: dict[str, str | None] = {}
    auth = headers.get("Authorization")
    if auth is not None:
        scheme, _, token = auth.strip().partition(" ")
        found["bearer"] = token.strip() if scheme.lower() == "bearer" and token.strip() else None
    for name in ("api-key", "x-api-key", "x-goog-api-key"):
        if name in headers:
            found[name] = headers[name].strip()
    if "key" in query:
        found["key"] = query["key"].strip()
    return found


def auth_problem(dialect: str, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """None if the request may be served, else a message for the 401 (never the key)."""
    found = _credentials(headers, query)
    if dialect == "ollama":  # Ollama has no auth; only a present Authorization is checked
        found = {k: v for k, v in found.items() if k == "bearer"}
    if not found:
        return None
    if "bearer" in found and found["bearer"] is None:
        return "Authorization header must be 'Bearer <key>'"
    accepted = {k: v for k, v in found.items() if k in _ACCEPTED[dialect]}
    if not accepted:
        wanted = " or ".join(sorted(_ACCEPTED[dialect]))
        return f"no credential of the kind this API expects ({wanted})"
    for key in accepted.values():
        if not key:
            return "empty API key"
        if key == UNAUTHORIZED_KEY:
            return "invalid API key"
    return None

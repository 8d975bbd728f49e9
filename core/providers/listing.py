"""Model listings: `fetch_models(profile)` asks the API which models it serves.

`{base}/models` for the OpenAI dialects, `{base}/v1/models` for Anthropic, `{base}/v1beta/models`
for Gemini, `{base}/api/tags` for Ollama, with the same auth and extra headers as a run. Any
failure is a `ModelListError` whose message never holds the key; the caller then lets the
user type the model.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from core.providers.keys import ModelListError, scrub
from core.providers.profiles import Profile
from core.stream.dialects import build_request
from core.stream.dialects.base import join_url
from core.stream.safejson import loads as safe_loads
from core.stream.spec import RunSpec

__all__ = ["ModelNeeded", "fetch_models", "fetch_spec_models", "models_url", "resolve_model"]


class ModelNeeded(ModelListError):
    """No model was given and the server does not serve exactly one: the user must pick."""


_PATHS = {
    "openai-chat": "/models",
    "openai-responses": "/models",
    "anthropic": "/v1/models",
    "gemini": "/v1beta/models",
    "ollama": "/api/tags",
}
_PAGE = {"anthropic": {"limit": "1000"}, "gemini": {"pageSize": "1000"}}
_MAX_PAGES = 10
_NOT_HEADERS = {"content-type", "accept"}


def models_url(spec: RunSpec, page: dict[str, str] | None = None) -> str:
    if spec.dialect.startswith("openai") and "/openai/deployments/" in spec.base_url:
        raise ModelListError(
            "an Azure deployment URL serves one model and has no model listing; "
            "type the deployment's model by hand"
        )
    query = {**spec.query, **_PAGE.get(spec.dialect, {}), **(page or {})}
    return join_url(spec.base_url, _PATHS[spec.dialect], query)


async def fetch_models(
    profile: Profile,
    client: httpx.AsyncClient | None = None,
    *,
    api_key: str | None = None,
    timeout_s: float = 15.0,
) -> list[str]:
    """Model ids in the API's order. `api_key` (e.g. typed but not yet stored) is used
    instead of the profile's key reference. Raises `ModelListError`, `KeyUnavailable`."""
    overrides: dict[str, Any] = {} if api_key is None else {"api_key": api_key}
    return await fetch_spec_models(profile.to_spec(None, **overrides), client, timeout_s=timeout_s)


async def fetch_spec_models(
    spec: RunSpec, client: httpx.AsyncClient | None = None, *, timeout_s: float = 15.0
) -> list[str]:
    """`fetch_models` for a run already specified (its key, headers, proxy and TLS)."""
    headers = {
        k: v for k, v in build_request(spec).headers.items() if k.lower() not in _NOT_HEADERS
    }
    headers["Accept"] = "application/json"
    # A shared client cannot carry this profile's proxy or TLS setting: use its own then.
    own = client is None or spec.proxy is not None or not spec.verify_tls
    http = httpx.AsyncClient(proxy=spec.proxy, verify=spec.verify_tls) if own else client
    models: list[str] = []
    page: dict[str, str] = {}
    try:
        for _ in range(_MAX_PAGES):
            data = await _get(http, models_url(spec, page), headers, timeout_s, spec.api_key)
            ids, page = _parse(spec.dialect, data)
            models += [m for m in ids if m not in models]
            if not page:
                break
    finally:
        if own:
            await http.aclose()
    return models


async def resolve_model(
    target: Profile | RunSpec,
    client: httpx.AsyncClient | None = None,
    *,
    api_key: str | None = None,
    timeout_s: float = 15.0,
) -> str:
    """The model of a profile or run spec, or, when it has none (local-server presets:
    llama.cpp, vLLM, LM Studio, LiteLLM), the server's only model from its listing. Raises
    `ModelNeeded` with a one-line message when the listing fails or holds no model or
    several (`KeyUnavailable` when the profile's key cannot be read).

    Call it before the run, never during one: llama-cpp-python abandons a generation when
    any other request reaches it, a model listing included."""
    if target.model and target.model.strip():
        return target.model
    where = _safe_url(target.base_url)
    try:
        if isinstance(target, RunSpec):
            models = await fetch_spec_models(target, client, timeout_s=timeout_s)
        else:
            models = await fetch_models(target, client, api_key=api_key, timeout_s=timeout_s)
    except ModelListError as exc:
        raise ModelNeeded(
            f"no model given, and the server's model listing failed ({exc}): name a model"
        ) from None
    if len(models) == 1:
        return models[0]
    if not models:
        raise ModelNeeded(f"no model given, and {where} lists no models: name a model")
    shown = ", ".join(models[:5]) + (", …" if len(models) > 5 else "")
    raise ModelNeeded(
        f"no model given, and {where} serves {len(models)} models ({shown}): name one"
    )


async def _get(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], timeout_s: float, key: str | None
) -> Any:
    where = f"GET {_safe_url(url)}"
    try:
        response = await http.get(url, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise ModelListError(scrub(f"{where}: {type(exc).__name__}: {exc}", key)) from None
    body = response.content
    if response.status_code != 200:
        detail = _error_message(body) or response.reason_phrase
        raise ModelListError(scrub(f"{where}: HTTP {response.status_code}: {detail}", key))
    try:
        return safe_loads(body)
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        raise ModelListError(f"{where}: the answer is not JSON ({kind})") from None


def _parse(dialect: str, data: Any) -> tuple[list[str], dict[str, str]]:
    """(model ids, query for the next page or {})."""
    if not isinstance(data, dict):
        raise ModelListError("the model listing is not a JSON object")
    if dialect == "gemini":
        items = data.get("models") or []
        ids = [
            str(m["name"]).removeprefix("models/")
            for m in items
            if isinstance(m, dict)
            and m.get("name")
            and _streams(m.get("supportedGenerationMethods"))
        ]
        token = data.get("nextPageToken")
        return ids, {"pageToken": token} if isinstance(token, str) and token else {}
    if dialect == "ollama":
        items = data.get("models") or []
        ids = [str(m.get("name") or m.get("model")) for m in items if isinstance(m, dict)]
        return [i for i in ids if i and i != "None"], {}
    items = data.get("data")
    if not isinstance(items, list):
        raise ModelListError("the model listing has no 'data' list")
    ids = [str(m["id"]) for m in items if isinstance(m, dict) and m.get("id")]
    if dialect == "anthropic" and data.get("has_more") and data.get("last_id"):
        return ids, {"after_id": str(data["last_id"])}
    return ids, {}


def _streams(methods: Any) -> bool:
    return not isinstance(methods, list) or any("generateContent" in str(m) for m in methods)


def _error_message(body: bytes) -> str:
    try:
        obj = safe_loads(body)
    except ValueError:
        return body[:120].decode("utf-8", "replace").strip()
    err = obj.get("error") if isinstance(obj, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err.get("type") or err)[:200]
    if isinstance(err, str):
        return err[:200]
    return str(obj)[:200]


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(query="").geturl() if parts.query else url

"""Copy as curl: a request as a shell command with the key left out.

The key is replaced by an environment variable placeholder (`-H "Authorization: Bearer
$OPENAI_API_KEY"`), so the command can be pasted into a ticket or a chat. The other way,
pasting a curl into a profile (`from_curl`), lives in core.providers.curl_import.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from core.providers.curl_import import CurlImport, from_curl
from core.providers.profiles import SECRET_QUERY, Profile
from core.stream.dialects import build_request
from core.stream.spec import HttpRequest, RunSpec

__all__ = [
    "CurlImport",
    "from_curl",
    "key_env_name",
    "profile_to_curl",
    "spec_to_curl",
    "to_curl",
]

KEY_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key"})
_PLACEHOLDER_KEY = "streamscope-key-placeholder"  # never sent: only to make the header appear


def to_curl(
    request: HttpRequest,
    key_env: str | None = None,
    *,
    secret: str | None = None,
    proxy: str | None = None,
    verify_tls: bool = True,
) -> str:
    """`request` as a curl command; every key header / key query value becomes `$key_env`
    (default `$API_KEY`). `secret`, if given, is scrubbed from anything else as well."""
    var = key_env or "API_KEY"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
        raise ValueError(f"{var!r} is not a shell variable name")
    lines = ["curl -N"]
    if request.method != "POST" or not request.body:
        lines[0] += f" -X {request.method}"
    lines.append(_url(request.url, var))
    for name, value in request.headers.items():
        low = name.lower()
        if low in KEY_HEADERS:
            scheme, sep, _ = value.partition(" ")
            prefix = f"{scheme} " if sep and low == "authorization" else ""
            lines.append(f'-H "{_escape(f"{name}: {prefix}")}${var}"')
        elif low == "proxy-authorization":
            lines.append(shlex.quote(f"{name}: ***"))
        else:
            lines.append("-H " + shlex.quote(f"{name}: {value}"))
    if request.body:
        lines.append("-d " + shlex.quote(json.dumps(request.body, ensure_ascii=False)))
    if proxy:
        lines.append("-x " + shlex.quote(proxy))
    if not verify_tls:
        lines.append("-k")
    text = " \\\n  ".join(lines)
    if secret and secret in text:
        text = text.replace(secret, "***")
    return text


def spec_to_curl(spec: RunSpec, key_env: str | None = None) -> str:
    """The request a run would send, as curl (the spec's key stays out)."""
    return to_curl(
        build_request(spec),
        key_env,
        secret=spec.api_key,
        proxy=spec.proxy,
        verify_tls=spec.verify_tls,
    )


def profile_to_curl(profile: Profile, prompt: str = "Hello", **overrides: Any) -> str:
    """A profile's request as curl without reading its key (no keyring access)."""
    key = _PLACEHOLDER_KEY if profile.key.kind != "none" else None
    spec = profile.to_spec(prompt, api_key=key, **overrides)
    return spec_to_curl(spec, key_env_name(profile))


def key_env_name(profile: Profile) -> str:
    """The variable the exported command reads the key from: the profile's own variable,
    else one made from its name (`My relay` → `MY_RELAY_API_KEY`)."""
    if profile.key.kind == "env":
        return profile.key.name
    stem = re.sub(r"[^A-Z0-9]+", "_", profile.name.upper()).strip("_") or "STREAMSCOPE"
    if stem[0].isdigit():
        stem = "_" + stem
    return stem if stem.endswith("API_KEY") else f"{stem}_API_KEY"


def _url(url: str, var: str) -> str:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k.lower() in SECRET_QUERY for k, _ in pairs):
        return shlex.quote(url)
    marker = "STREAMSCOPEKEYMARKER"
    pairs = [(k, marker if k.lower() in SECRET_QUERY else v) for k, v in pairs]
    plain = parts._replace(query=urlencode(pairs)).geturl()
    return '"' + _escape(plain).replace(marker, "$" + var) + '"'


def _escape(text: str) -> str:
    """For the inside of a double-quoted shell string."""
    return re.sub(r'([\\"$`])', r"\\\1", text)

"""Provider profiles: where to send a run and how, kept as TOML in the user config dir.

A `Profile` is data (frozen); `Profile.to_spec()` turns it into a `RunSpec`, reading the key
from the keyring or the environment at that moment. `ProfileStore` loads and saves the file
atomically; a file that fails to load is never written over (fix it, or `set_aside()` it).
Keys never enter the file: a profile only holds a `KeyRef` (see core.providers.keys).
Presets and the mock profile live in core.providers.presets; the model listing in
core.providers.listing.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.providers.keys import (
    KeyRef,
    ProfileError,
    ProfileFileError,
    delete_key,
    resolve_key,
    store_key,
)
from core.providers.pricing import Price
from core.providers.profile_codec import dump_profiles, parse_profiles
from core.stream.spec import DIALECTS, RunSpec, Timeouts

__all__ = [
    "AUTH_SCHEMES",
    "KeyRef",
    "Profile",
    "ProfileError",
    "ProfileFileError",
    "ProfileStore",
    "connection_test_spec",
    "default_path",
]

AUTH_SCHEMES = ("auto", "bearer", "x-api-key", "x-goog-api-key", "api-key", "none")
MAX_TOKENS_FIELDS = ("max_tokens", "max_completion_tokens")
SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization"}
)
SECRET_QUERY = frozenset({"key", "api-key", "api_key"})
# A custom header whose name says it carries a credential (`X-Auth-Token`, `Cookie`,
# `x-portkey-api-key`), or whose value looks like one (`Bearer …`, `Basic …`).
_SECRET_NAME_PARTS = ("key", "token", "secret", "auth", "password", "passwd", "cookie", "session")
_SECRET_VALUE = re.compile(r"^\s*(?:bearer|basic|token|digest)\s+\S", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}")


def _secret_header(name: str, value: str) -> bool:
    lowered = name.strip().lower()
    return any(part in lowered for part in _SECRET_NAME_PARTS) or bool(
        _SECRET_VALUE.match(str(value))
    )


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return "@" in url  # unparsable: refuse anything that may hold credentials


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    dialect: str
    base_url: str  # SDK convention (DESIGN §6); may hold {placeholders} until filled in
    model: str = ""
    models: tuple[str, ...] = ()  # last fetched listing, or typed by hand
    auth_scheme: str = "auto"  # auto = the dialect's usual header
    key: KeyRef = field(default_factory=KeyRef)
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    proxy: str | None = None
    verify_tls: bool = True
    max_tokens: int | None = 1024
    temperature: float | None = None
    max_tokens_field: str = "max_tokens"
    continue_final_message: bool = False
    prefill_supported: bool = True
    extra_body: dict[str, Any] = field(default_factory=dict)
    timeouts: Timeouts = field(default_factory=Timeouts)
    notes: str = ""  # shown in the profiles dialog (what to fill in, what the server needs)
    price: Price | None = None  # USD per 1M tokens; overrides genai-prices for cost figures

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ProfileError("a profile needs a name")
        if self.dialect not in DIALECTS:
            raise ProfileError(f"dialect {self.dialect!r} is not one of {', '.join(DIALECTS)}")
        if self.auth_scheme not in AUTH_SCHEMES:
            raise ProfileError(
                f"auth scheme {self.auth_scheme!r} is not one of {', '.join(AUTH_SCHEMES)}"
            )
        if self.max_tokens_field not in MAX_TOKENS_FIELDS:
            raise ProfileError(f"max_tokens_field must be one of {', '.join(MAX_TOKENS_FIELDS)}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ProfileError("max_tokens must be at least 1")
        for what, names, secret in (
            ("header", self.headers, SECRET_HEADERS),
            ("query parameter", self.query, SECRET_QUERY),
        ):
            for name in names:
                if name.strip().lower() in secret or (
                    what == "header" and _secret_header(name, names[name])
                ):
                    raise ProfileError(
                        f"{what} {name!r} carries a key: store the key in the keyring or name "
                        "an environment variable instead (it would be saved in plain text)"
                    )
        if self.proxy and _has_password(self.proxy):
            raise ProfileError(
                "the proxy URL carries a password, which would be saved in plain text: leave "
                "the proxy empty and set HTTPS_PROXY / HTTP_PROXY in the environment instead"
            )

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Names still to fill in the base URL, e.g. ("resource", "deployment") for Azure."""
        return tuple(_PLACEHOLDER.findall(self.base_url))

    def check_url(self, base_url: str | None = None) -> None:
        """Raise `ProfileError` unless the base URL can be sent to."""
        url = self.base_url if base_url is None else base_url
        holes = _PLACEHOLDER.findall(url)
        if holes:
            names = ", ".join("{" + h + "}" for h in holes)
            raise ProfileError(f"fill in {names} in the base URL")
        if url == "mock":
            raise ProfileError("the Mock profile gets its URL when the mock starts (mock_profile)")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProfileError(f"base URL {url!r} is not an http(s) URL")

    def to_spec(
        self,
        prompt: str | None = None,
        *,
        messages: tuple[dict[str, Any], ...] | None = None,
        **overrides: Any,
    ) -> RunSpec:
        """A `RunSpec` from this profile; `overrides` are RunSpec fields and replace the
        profile's values (dicts too: merge them yourself). The key is read now unless
        `api_key=` is given; raises `KeyUnavailable` / `ProfileError` (never with the key)."""
        if messages is None:
            messages = RunSpec.user(prompt) if prompt is not None else ()
        values: dict[str, Any] = {
            "dialect": self.dialect,
            "base_url": self.base_url,
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "max_tokens_field": self.max_tokens_field,
            "temperature": self.temperature,
            "extra_body": copy.deepcopy(self.extra_body),
            "headers": dict(self.headers),
            "query": dict(self.query),
            "auth_scheme": self.auth_scheme,
            "continue_final_message": self.continue_final_message,
            "prefill_supported": self.prefill_supported,
            "timeouts": self.timeouts,
            "profile": self.name,
            "proxy": self.proxy,
            "verify_tls": self.verify_tls,
        }
        unknown = set(overrides) - {f.name for f in fields(RunSpec)}
        if unknown:
            raise TypeError(f"to_spec: not RunSpec fields: {', '.join(sorted(unknown))}")
        values.update(overrides)
        self.check_url(values["base_url"])
        if "api_key" not in overrides:
            values["api_key"] = resolve_key(self.key)
        return RunSpec(**values)


def connection_test_spec(profile: Profile, **overrides: Any) -> RunSpec:
    """For "Test connection": a one-token run with short timeouts (judge it with run_session)."""
    timeouts = replace(profile.timeouts, first_byte_s=30.0, stall_s=30.0, total_s=60.0)
    values: dict[str, Any] = {"max_tokens": 1, "timeouts": timeouts, **overrides}
    return profile.to_spec("Reply with one word: ok", **values)


def default_path() -> Path:
    """``$STREAMSCOPE_PROFILES`` if set, else ``profiles.toml`` in the user config dir."""
    override = os.environ.get("STREAMSCOPE_PROFILES")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("streamscope", appauthor=False)) / "profiles.toml"


class ProfileStore:
    """The saved profiles. Every change is written at once (temp file + `os.replace`).

    After a failed load (`broken` is set) nothing is written until the file loads again or
    is set aside; a file on disk that does not parse is never written over either."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._profiles: tuple[Profile, ...] = ()
        self._loaded = False
        self.broken: ProfileFileError | None = None
        self._on_disk: bytes | None = None  # the file's bytes as last loaded or written
        self.merged_external_edit = False  # the last change was made on top of an outside edit

    def load(self) -> tuple[Profile, ...]:
        """Read the file (a missing file is an empty list); raises `ProfileFileError`."""
        self._loaded = True
        try:
            self._profiles = self._read()
        except ProfileFileError as exc:
            self.broken = exc
            self._profiles = ()
            raise
        self.broken = None
        return self._profiles

    @property
    def profiles(self) -> tuple[Profile, ...]:
        if not self._loaded:
            self.load()
        return self._profiles

    def get(self, name: str) -> Profile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def put(self, profile: Profile, *, replacing: str | None = None) -> None:
        """Add `profile`, or replace the one named `replacing` (a rename) or of its name."""
        self._sync()
        old = replacing if replacing is not None else profile.name
        others = [p for p in self.profiles if p.name != old]
        if any(p.name.casefold() == profile.name.casefold() for p in others):
            raise ProfileError(f"a profile named '{profile.name}' already exists")
        index = next((i for i, p in enumerate(self.profiles) if p.name == old), len(others))
        others.insert(index, profile)
        self._write(tuple(others))

    def delete(self, name: str, *, forget_key: bool = True) -> None:
        """Remove a profile; its keyring entry too unless another profile still uses it."""
        self._sync()
        gone = self.get(name)
        if gone is None:
            raise ProfileError(f"no saved profile named '{name}'")
        rest = tuple(p for p in self.profiles if p.name != name)
        self._write(rest)
        if forget_key and gone.key.kind == "keyring" and all(p.key != gone.key for p in rest):
            delete_key(gone.key)

    def set_key(self, name: str, secret: str) -> Profile:
        """Store `secret` in the keyring for the saved profile `name` and point it there."""
        profile = self.get(name)
        if profile is None:
            raise ProfileError(f"no saved profile named '{name}'")
        updated = replace(profile, key=store_key(profile.name, secret))
        self.put(updated)
        old = profile.key
        if (
            old.kind == "keyring"
            and old != updated.key
            and all(p.key != old for p in self.profiles)
        ):
            delete_key(old)  # the entry of the profile's former name, now unused
        return updated

    def set_aside(self) -> Path:
        """Rename a broken file out of the way (kept for the user) so saving works again."""
        target = self.path.with_name(self.path.name + ".broken")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.broken{n}")
        if self.path.exists():
            os.replace(self.path, target)
        self.broken, self._profiles, self._loaded = None, (), True
        return target

    # --- file I/O ---

    def _sync(self) -> None:
        """Edited outside the app since we loaded it, and still valid? Then the change about
        to be made goes on top of what is on disk now (a merge), never over it."""
        self.merged_external_edit = False
        if not self._loaded or self.broken is not None:
            return
        try:
            data: bytes | None = self.path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError:
            return  # `_write` reports what cannot be read
        if data != self._on_disk:
            self.load()  # a file that no longer loads raises here and is never overwritten
            self.merged_external_edit = True

    def _read(self) -> tuple[Profile, ...]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            self._on_disk = None
            return ()
        except OSError as exc:
            raise ProfileFileError(
                f"cannot read {self.path}: {exc.strerror or exc}", self.path
            ) from None
        profiles = []
        for where, values in parse_profiles(data, self.path):
            try:
                profiles.append(Profile(**values))
            except ProfileError as exc:
                raise ProfileFileError(f"{self.path}: {where}: {exc}", self.path) from None
        self._on_disk = data
        return tuple(profiles)

    def _write(self, profiles: tuple[Profile, ...]) -> None:
        if self.broken is not None:
            raise ProfileFileError(
                f"not saving: {self.path} failed to load and would be overwritten; fix it or "
                f"set it aside first ({self.broken})",
                self.path,
                self.broken.line,
            )
        if self.path.exists():
            try:  # never write over a file that does not load (someone broke it meanwhile)
                self._read()
            except ProfileFileError as exc:
                self.broken = exc
                raise
        text = dump_profiles(profiles)
        self._on_disk = text.encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".profiles-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._profiles = profiles
        self._loaded = True

"""API keys: where a profile's key comes from, and the errors of the profiles feature.

A key lives in the OS keyring (service ``streamscope``, one entry per name) or in an
environment variable the profile names. It is read at the moment a request is built and is
never written to the profiles file, a log line, an exception message or an export.

Errors (one tree for profiles, keys, model listings and curl import)::

    ProfileError                 anything the profiles feature refuses, with a message for the user
    ├── ProfileFileError         the profiles file cannot be read or written (`.path`, `.line`)
    ├── KeyUnavailable           a key reference that gives no key right now (unset variable,
    │                            nothing stored, no usable keyring); never contains the key
    └── ModelListError           the model listing failed; the caller falls back to manual entry
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "KEY_KINDS",
    "SERVICE",
    "KeyRef",
    "KeyUnavailable",
    "KeyringStatus",
    "ModelListError",
    "ProfileError",
    "ProfileFileError",
    "delete_key",
    "has_key",
    "keyring_available",
    "resolve_key",
    "scrub",
    "store_key",
]

SERVICE = "streamscope"
KEY_KINDS = ("keyring", "env", "none")


class ProfileError(Exception):
    """Something about a profile we refuse; the message is for the user and has no key."""


class ProfileFileError(ProfileError):
    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class KeyUnavailable(ProfileError):
    """The key reference gives no key now: the UI asks for one or offers env vars."""


class ModelListError(ProfileError):
    """The model listing could not be fetched or read: enter the model by hand."""


@dataclass(frozen=True, slots=True)
class KeyRef:
    """Where the key comes from: ``keyring`` (entry `name`), ``env`` (variable `name`) or
    ``none`` (send no auth header)."""

    kind: str = "none"
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KEY_KINDS:
            # Only a short word is quoted: a key pasted into the wrong field is never echoed.
            word = len(self.kind) <= 12 and self.kind.isascii() and self.kind.isalpha()
            what = repr(self.kind) if word else f"({len(self.kind)} characters, not shown)"
            raise ProfileError(f"key source {what} is not one of {', '.join(KEY_KINDS)}")
        if self.kind != "none" and not self.name.strip():
            what = "an environment variable" if self.kind == "env" else "a keyring entry"
            raise ProfileError(f"a {self.kind} key needs the name of {what}")

    def describe(self) -> str:
        """Where the key comes from, for lists and tooltips (never the key)."""
        if self.kind == "env":
            return f"env ${self.name}"
        if self.kind == "keyring":
            return f"keyring '{self.name}'"
        return "no key"


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    """Whether keys can go to the OS keyring; `reason` says why not (for the UI)."""

    available: bool
    reason: str
    backend: str

    def __bool__(self) -> bool:
        return self.available


def keyring_available() -> KeyringStatus:
    """A usable, secure keyring backend? Refuses the fail/null backends and the ones keyring
    itself rates "not recommended" (priority < 1, e.g. keyrings.alt's plain-text file),
    unless the user chose one with ``PYTHON_KEYRING_BACKEND``."""
    import keyring  # imported on use: ~65 ms that `diagnose` does not need
    import keyring.errors
    from keyring.backends import chainer, fail, null

    try:
        backend = keyring.get_keyring()
    except (keyring.errors.KeyringError, RuntimeError, ImportError) as exc:
        return KeyringStatus(False, f"the keyring could not start ({type(exc).__name__})", "")
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if isinstance(backend, fail.Keyring):
        return KeyringStatus(
            False,
            "no keyring backend is available (no Secret Service, Keychain or Credential "
            "Manager found); use an environment variable for the key",
            name,
        )
    if isinstance(backend, null.Keyring):
        return KeyringStatus(False, "the keyring is switched off (null backend)", name)
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return KeyringStatus(False, "no keyring backend is available", name)
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return KeyringStatus(True, f"using {name} (PYTHON_KEYRING_BACKEND)", name)
    try:
        priority = float(backend.priority)
    except (TypeError, ValueError, keyring.errors.KeyringError):
        priority = 0.0
    if priority < 1:
        return KeyringStatus(
            False,
            f"only {name} is available, which is not a secure store (keys would sit in a "
            "plain file); use an environment variable for the key",
            name,
        )
    return KeyringStatus(True, f"using {name}", name)


def _require_keyring() -> Any:
    """The keyring module, once a usable backend is known to be there."""
    status = keyring_available()
    if not status:
        raise KeyUnavailable(f"the OS keyring cannot be used: {status.reason}")
    import keyring
    import keyring.errors

    return keyring


def store_key(name: str, secret: str) -> KeyRef:
    """Put `secret` in the keyring under `name`; returns the reference to keep instead."""
    if not name.strip():
        raise ProfileError("a keyring entry needs a name")
    if not secret or secret != secret.strip():
        raise ProfileError("the key is empty or has spaces around it")
    keyring = _require_keyring()
    try:
        keyring.set_password(SERVICE, name, secret)
    except keyring.errors.KeyringError as exc:
        raise KeyUnavailable(
            f"the keyring refused to store the key ({type(exc).__name__})"
        ) from None
    return KeyRef("keyring", name)


def delete_key(ref: KeyRef) -> None:
    """Forget a keyring entry (nothing to do for env and none, or when it is already gone)."""
    if ref.kind != "keyring" or not keyring_available():
        return
    import keyring
    import keyring.errors

    try:
        keyring.delete_password(SERVICE, ref.name)
    except keyring.errors.PasswordDeleteError:
        pass  # already gone
    except keyring.errors.KeyringError as exc:
        raise KeyUnavailable(
            f"the keyring refused to delete the key ({type(exc).__name__})"
        ) from None


def has_key(ref: KeyRef) -> bool:
    """Is a key there now? (For a ✓ in the UI; never returns the key.)"""
    try:
        return resolve_key(ref) is not None
    except KeyUnavailable:
        return False


def resolve_key(ref: KeyRef) -> str | None:
    """The key now: None for ``none``; raises `KeyUnavailable` when the source has none."""
    if ref.kind == "none":
        return None
    if ref.kind == "env":
        value = os.environ.get(ref.name, "").strip()
        if not value:
            raise KeyUnavailable(f"the environment variable {ref.name} is not set")
        return value
    keyring = _require_keyring()
    try:
        value = keyring.get_password(SERVICE, ref.name)
    except keyring.errors.KeyringError as exc:
        raise KeyUnavailable(f"the keyring could not be read ({type(exc).__name__})") from None
    if not value:
        raise KeyUnavailable(f"no key is stored in the keyring for '{ref.name}'")
    return value


def scrub(text: str, key: str | None) -> str:
    """Mask a key in any message, also in the repr form h11 and httpx print."""
    if key:
        for form in {key, repr(key)[1:-1], key.strip()}:
            if form:
                text = text.replace(form, "***")
    return text

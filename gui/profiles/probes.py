"""Short side tasks for the profiles dialog — "Test connection" (a one-token session) and
"Fetch models" — run on qasync's loop with the app's one HTTP client. Owned by the
`RunController` (which cancels them on close); results come back as signals tagged with the
caller's token, so a dialog ignores answers to questions it no longer asks. Never a nested
event loop: the dialog stays responsive while a probe runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from core import Profile, ProfileError, RunSpec, SessionFinished, mask_secret

__all__ = ["ProbeTasks"]

log = logging.getLogger(__name__)


class ProbeTasks(QObject):
    connection_tested = Signal(str, object)  # token, Verdict
    models_fetched = Signal(str, object)  # token, list[str]
    probe_failed = Signal(str, str)  # token, message for the user (never the key)

    def __init__(self, client: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def busy(self, token: str) -> bool:
        task = self._tasks.get(token)
        return task is not None and not task.done()

    def test_connection(self, token: str, spec: RunSpec) -> None:
        """Run `spec` (from `connection_test_spec`) once; no retries, no breaker."""
        self._spawn(token, self._test(token, spec), spec.api_key)

    def fetch_models(self, token: str, profile: Profile, api_key: str | None = None) -> None:
        self._spawn(token, self._models(token, profile, api_key), api_key)

    async def shutdown(self) -> None:
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    # --- tasks ---------------------------------------------------------------------------

    def _spawn(self, token: str, coro: Coroutine[Any, Any, None], secret: str | None) -> None:
        old = self._tasks.get(token)
        if old is not None and not old.done():
            old.cancel()  # the newer question replaces the older one
        self._tasks[token] = asyncio.ensure_future(self._guard(token, coro, secret))

    async def _guard(self, token: str, coro: Coroutine[Any, Any, None], secret: str | None) -> None:
        try:
            await coro
        except ProfileError as exc:  # KeyUnavailable, ModelListError: written for the user
            self.probe_failed.emit(token, mask_secret(str(exc), secret))
        except Exception as exc:
            log.debug("probe %s failed", token, exc_info=True)
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
            self.probe_failed.emit(token, mask_secret(message, secret))

    async def _test(self, token: str, spec: RunSpec) -> None:
        from core import run_session  # the HTTP stack loads with the first probe, not at start-up

        agen = run_session(spec, client=self._client)
        verdict = None
        try:
            async for event in agen:
                if isinstance(event, SessionFinished):
                    verdict = event.verdict
        finally:
            await agen.aclose()  # type: ignore[attr-defined]
        if verdict is not None:
            self.connection_tested.emit(token, verdict)

    async def _models(self, token: str, profile: Profile, api_key: str | None) -> None:
        # fetch_models uses a given client as is: one with the profile's proxy / TLS setting
        # is made by core when the shared client would not honour them (as the runner does)
        shared = profile.proxy is None and profile.verify_tls
        client = self._client if shared else None
        from core import fetch_models  # as run_session above

        models = await fetch_models(profile, client=client, api_key=api_key)
        self.models_fetched.emit(token, models)

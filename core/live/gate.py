"""A start gate for a race: every lane connects first, then all send their headers at once.

httpx awaits its trace hook at `http11.send_request_headers.started`, after the connection
(TCP, TLS) is up and just before the request's bytes are written. The runner awaits its
lane's `Ticket.wait()` there, so each lane connects at its own pace and then holds; when every
ticket has arrived (or left: a lane that failed to connect, was refused by its breaker, or
was stopped), the gate opens and all lanes write their headers on the same loop turn.

Python's cyclic garbage collector can pause the loop for milliseconds at any allocation; one
such pause between two lanes' writes was most of the skew measured. The gate switches the
collector off when it opens and back on `GC_PAUSE_S` later (if it was on).

A lane that never arrives must not hold the others forever: the gate opens anyway after
`hold_s` (default 15 s, above the default 10 s connect timeout), and the measured skew says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc

__all__ = ["GC_PAUSE_S", "StartGate", "Ticket"]

GC_PAUSE_S = 0.1  # every lane's headers are out well within this


class StartGate:
    def __init__(self, lanes: int, hold_s: float = 15.0) -> None:
        self._waiting = lanes
        self._open = asyncio.Event()
        self._hold_s = hold_s
        self._timer: asyncio.TimerHandle | None = None

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def ticket(self) -> Ticket:
        return Ticket(self)

    def open(self) -> None:
        if self._open.is_set():
            return
        if self._timer is not None:
            self._timer.cancel()
        if gc.isenabled():
            gc.disable()
            with contextlib.suppress(RuntimeError):  # no loop: nobody to wait for
                asyncio.get_running_loop().call_later(GC_PAUSE_S, gc.enable)
        self._open.set()

    def _done_one(self) -> None:
        self._waiting -= 1
        if self._waiting <= 0:
            # Not at once: the last lane to arrive waits like the others, so all of them
            # resume back to back on the loop turn that opens the gate.
            asyncio.get_running_loop().call_soon(self.open)
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._hold_s, self.open)

    async def _wait(self) -> None:
        await self._open.wait()


class Ticket:
    """One lane's place at the gate; `wait()` and `leave()` count once each way."""

    def __init__(self, gate: StartGate) -> None:
        self._gate = gate
        self._counted = False

    async def wait(self) -> None:
        if not self._counted:
            self._counted = True
            self._gate._done_one()
        await self._gate._wait()

    def leave(self) -> None:
        """This lane will not arrive (it failed before sending, or was stopped)."""
        if not self._counted:
            self._counted = True
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to open
                self._gate._done_one()

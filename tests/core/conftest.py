from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.mock import MockServer, start_mock_server
from tests.core.hostile_server import HostileServer


@pytest.fixture(scope="session")
def mock() -> Iterator[MockServer]:
    """One in-process mock for the session, fast by default (tests pass slower params)."""
    with start_mock_server(defaults={"tps": "4000", "tokens": "40"}) as srv:
        yield srv


@pytest.fixture(scope="session")
def hostile() -> Iterator[HostileServer]:
    """A scripted hostile server on loopback (see tests/core/hostile_server.py)."""
    server = HostileServer()
    yield server
    server.stop()

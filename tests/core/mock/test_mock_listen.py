"""A mock set up in two steps, as the window's start-up does: `listen_mock_server` binds and
listens at once without importing aiohttp; `start(wait=False)` serves later, on its thread."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from core.mock import listen_mock_server

ROOT = Path(__file__).resolve().parents[3]


def test_listening_does_not_import_aiohttp() -> None:
    code = (
        "import sys\n"
        "from core.mock import listen_mock_server\n"
        "server = listen_mock_server()\n"
        "assert server.port > 0, server.port\n"
        "assert 'aiohttp' not in sys.modules, 'aiohttp imported'\n"
        "server.stop()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_a_request_made_before_the_start_is_served_after_it() -> None:
    server = listen_mock_server()
    try:
        assert server.base_urls["openai-chat"] == f"http://127.0.0.1:{server.port}/v1"
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
            conn.sendall(b"GET /v1/models HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
            server.start(wait=False)
            received = b""
            while chunk := conn.recv(65536):
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert "mock-normal" in {m["id"] for m in json.loads(body)["data"]}
    finally:
        server.stop()


def test_stop_before_or_just_after_the_start_returns() -> None:
    never_started = listen_mock_server()
    never_started.stop()
    with socket.socket() as probe:  # its socket is closed: nothing listens on the port
        assert probe.connect_ex(("127.0.0.1", never_started.port)) != 0
    server = listen_mock_server()
    server.start(wait=False)
    server.stop()  # may come before its loop exists: it still ends the thread
    assert not server._thread.is_alive()

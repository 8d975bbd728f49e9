"""The built-in mock provider: a real HTTP server on loopback that speaks every dialect.

It writes each wire format itself (it never imports ``core.stream.sse``, ``core.stream.ndjson`` or
``core.stream.dialects``, so a shared bug cannot hide) and plays scripted faults (DESIGN §5).

    with start_mock_server(defaults={"tps": "2000"}) as srv:
        srv.base_urls["openai-chat"]   # http://127.0.0.1:PORT/v1
        srv.write_log                  # (monotonic_ns, request id, bytes) per write

Modules: ``script`` (the text and continuation), ``scenarios`` (names, parameters),
``inbound`` (reading requests), ``auth``, ``plan`` (what a response says, pure), ``frames``
and one writer per dialect (``openai_chat``, ``responses``, ``anthropic``, ``gemini``,
``ollama``), ``wire`` (dispatch), ``server`` (aiohttp), ``thread`` (start/stop).
"""

from .scenarios import SCENARIO_NOTES, SCENARIOS
from .thread import MockServer, listen_mock_server, serve_forever, start_mock_server

__all__ = [
    "SCENARIOS",
    "SCENARIO_NOTES",
    "MockServer",
    "listen_mock_server",
    "serve_forever",
    "start_mock_server",
]

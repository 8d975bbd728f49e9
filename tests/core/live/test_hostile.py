"""A hostile server over loopback: echoed keys, endless lines, huge and compressed bodies,
crash-shaped events. Each case asserts the verdict, and that no key survives anywhere."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from core import ChunkReceived, RunFinished, RunSpec, run
from core.cli import main
from core.record.savefile import read_saved_run
from core.stream.caps import Caps
from tests.core.hostile_server import HostileServer, Reply

KEY = "sk-hostile-0123456789abcdefXYZ"
ENV = "HOSTILE_TEST_KEY"


def chat(text: str, finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": finish}
    return b"data: " + json.dumps({"choices": [choice]}).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


def serve(hostile: HostileServer, name: str, reply: Reply) -> str:
    hostile.serve(f"/{name}/v1/chat/completions", reply)
    return f"{hostile.url}/{name}/v1"


async def live(base: str, key: str | None = KEY, caps: Caps | None = None, dialect="openai-chat"):
    spec = RunSpec(dialect, base, "m", RunSpec.user("hi"), api_key=key)
    events = [e async for e in (run(spec, caps=caps) if caps else run(spec))]
    assert isinstance(events[-1], RunFinished)
    return events, events[-1].verdict


def probe(capsys, base: str, *args: str) -> tuple[int, str, str]:
    code = main(["probe", "--base-url", base, "--dialect", "openai-chat", "--model", "m", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_key(*texts: str) -> None:
    for text in texts:
        assert KEY not in text
        assert KEY[:-1] not in text  # not even all of it but its last character


def saved_bytes(path: Path) -> str:
    """The saved file with every chunk's bytes decoded, so a key rebuilt from chunks shows."""
    attempts = read_saved_run(path.read_text())
    body = b"".join(c for a in attempts for _, c in a.chunks).decode("utf-8", "replace")
    return path.read_text() + body


# --- item 11: the key in use is masked everywhere -----------------------------------------


@pytest.mark.parametrize("cut", range(1, len(KEY)))
async def test_key_split_across_reads_at_every_byte(hostile: HostileServer, cut: int) -> None:
    body = chat(f"your key is {KEY}, right?", "stop") + DONE
    at = body.index(KEY.encode()) + cut
    base = serve(hostile, f"split{cut}", Reply([body[:at], body[at:]], pause_s=0.02))
    events, verdict = await live(base)
    chunks = b"".join(e.data for e in events if isinstance(e, ChunkReceived))
    assert KEY.encode() not in chunks
    assert verdict.label == "completed/natural"
    assert verdict.text == "your key is ***, right?"
    assert "key_echoed" in verdict.warnings
    stamps = [e.t_ns for e in events if isinstance(e, ChunkReceived)]
    assert stamps == sorted(stamps)


async def test_tail_like_the_key_start_is_released_at_the_end(hostile: HostileServer) -> None:
    # The body ends in "sk-h", which could begin the key: held back, then released intact.
    body = chat("a", "stop") + DONE + b": sk-h"
    base = serve(hostile, "tail", Reply([body]))
    events, verdict = await live(base)
    chunks = b"".join(e.data for e in events if isinstance(e, ChunkReceived))
    assert chunks == body
    assert "key_echoed" not in verdict.warnings


def test_probe_text_json_save_and_diagnose_never_show_an_echoed_key(
    hostile: HostileServer, capsys, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV, KEY)
    body = (
        chat("Echo: ")
        + chat(KEY[:10])
        + chat(KEY[10:] + " done", "stop")
        + b'data: {"error": {"message": "bad key '
        + KEY.encode()
        + b'", "code": "x"}}\n\n'
        + DONE
    )
    half = len(body) // 2
    base = serve(hostile, "echo", Reply([body[:half], body[half:]], pause_s=0.02))
    save = tmp_path / "run.jsonl"
    code, out, err = probe(capsys, base, "--api-key-env", ENV, "--save", str(save))
    assert code == 0
    assert "key_echoed" in out
    code, out_json, err2 = probe(capsys, base, "--api-key-env", ENV, "--json")
    verdict = json.loads(out_json)
    assert "key_echoed" in verdict["warnings"]
    assert main(["diagnose", str(save), "--json"]) == 0
    diag, err3 = capsys.readouterr()
    assert "key_echoed" in json.loads(diag)["warnings"]
    assert_no_key(out, err, out_json, err2, diag, err3, saved_bytes(save))


def test_401_body_echoing_the_key_across_two_reads(
    hostile: HostileServer, capsys, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV, KEY)
    # The provider's message is cut at 300 characters right after the key's last-but-one
    # character: once all of the key but its last character was shown.
    message = "x" * (300 - len(KEY) + 1) + KEY + " is not valid"
    body = json.dumps({"error": {"message": message, "type": "auth"}}).encode()
    at = body.index(KEY.encode()) + 7
    reply = Reply(
        [body[:at], body[at:]],
        status=401,
        headers={"Content-Type": "application/json"},
        pause_s=0.02,
    )
    base = serve(hostile, "e401", reply)
    save = tmp_path / "401.jsonl"
    _, out, err = probe(capsys, base, "--api-key-env", ENV, "--save", str(save), "--json")
    verdict = json.loads(out)
    assert (verdict["outcome"], verdict["detail"]) == ("http_error", "auth")
    assert "key_echoed" in verdict["warnings"]
    assert "***" in verdict["explanation"]
    assert_no_key(out, err, verdict["explanation"], saved_bytes(save))


def test_location_header_and_url_password_are_saved_masked(
    hostile: HostileServer, capsys, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV, KEY)
    reply = Reply(
        [b"moved"],
        status=302,
        headers={
            "Content-Type": "text/plain",
            "Location": f"https://other.example/v1?key={KEY}&x=1",
            "X-Echo": f"Bearer {KEY}",
        },
    )
    base = serve(hostile, "moved", reply)
    with_password = base.replace("http://", "http://user:hunter2-password@")
    save = tmp_path / "moved.jsonl"
    code, out, err = probe(capsys, with_password, "--api-key-env", ENV, "--save", str(save))
    assert code == 0
    text = saved_bytes(save)
    assert_no_key(out, err, text)
    assert "hunter2-password" not in text + out + err
    (attempt,) = read_saved_run(save.read_text())
    assert attempt.response_headers["location"] == "https://other.example/v1?key=***&x=1"
    assert attempt.header["request"]["url"].startswith("http://user:***@127.0.0.1")


def test_bad_base_url_with_key_is_not_echoed(capsys) -> None:
    code, out, err = probe(capsys, f"ftp://example.com/v1?key={KEY}")
    assert code == 2
    assert "key=***" in err
    assert_no_key(out, err)
    code, out, err = probe(capsys, f"https://user:{KEY}@example.com:99999/v1")
    assert code == 2
    assert_no_key(out, err)


# --- item 12: caps end the run with protocol_error/oversized_* -----------------------------

MiB = 1024 * 1024


def test_never_ending_line_hits_the_default_line_cap(
    hostile: HostileServer, capsys, tmp_path: Path
) -> None:
    def pieces():
        yield chat("partial ")
        yield b"data: "
        for _ in range(17):
            yield b"a" * MiB

    base = serve(hostile, "endless", Reply(pieces))
    save = tmp_path / "endless.jsonl"
    _, out, _ = probe(capsys, base, "--json", "--save", str(save))
    verdict = json.loads(out)
    assert (verdict["outcome"], verdict["detail"]) == ("protocol_error", "oversized_event")
    assert "16 MiB line cap" in verdict["explanation"]
    assert verdict["text"] == "partial "
    assert verdict["actions"] == ["retry"]
    (attempt,) = read_saved_run(save.read_text())
    assert attempt.end is not None and attempt.end["transport"] == "oversized"
    assert main(["diagnose", str(save), "--json"]) == 0
    assert json.loads(capsys.readouterr()[0])["detail"] == "oversized_event"


async def test_one_event_of_many_lines_hits_the_event_cap(hostile: HostileServer) -> None:
    line = b"data: " + b"b" * 1000 + b"\n"
    base = serve(hostile, "bigevent", Reply(lambda: (line for _ in range(3000))))
    _, verdict = await live(base, caps=Caps(event_chars=MiB))
    assert verdict.label == "protocol_error/oversized_event"
    assert "1 MiB event cap" in verdict.explanation


async def test_ndjson_line_cap(hostile: HostileServer) -> None:
    hostile.serve(
        "/nd/api/chat",
        Reply(
            lambda: (b"x" * 65536 for _ in range(40)),
            headers={"Content-Type": "application/x-ndjson"},
        ),
    )
    _, verdict = await live(f"{hostile.url}/nd", caps=Caps(line_chars=MiB), dialect="ollama")
    assert verdict.label == "protocol_error/oversized_event"


async def test_html_body_over_the_non_stream_cap(hostile: HostileServer) -> None:
    reply = Reply(
        lambda: (b"<p>" + b"z" * 65533 for _ in range(64)),
        headers={"Content-Type": "text/html"},
    )
    base = serve(hostile, "html", reply)
    events, verdict = await live(base, caps=Caps(body_bytes=MiB))
    assert verdict.label == "protocol_error/oversized_body"
    assert "1 MiB" in verdict.explanation
    read = sum(e.size for e in events if isinstance(e, ChunkReceived))
    assert MiB < read < 3 * MiB  # reading stopped near the cap, not at the 4 MiB end


async def test_small_html_body_is_still_bad_content_type(hostile: HostileServer) -> None:
    reply = Reply([b"<html>hi</html>"], headers={"Content-Type": "text/html"})
    base = serve(hostile, "html2", reply)
    _, verdict = await live(base)
    assert verdict.label == "protocol_error/bad_content_type"


async def test_gzip_stream_over_the_decompressed_cap(hostile: HostileServer) -> None:
    events = b"".join(chat("z" * 1000) for _ in range(4000))  # ~4 MiB expanded
    packed = gzip.compress(events)
    assert len(packed) < MiB // 8
    reply = Reply(
        [packed[i : i + 8192] for i in range(0, len(packed), 8192)],
        headers={"Content-Type": "text/event-stream", "Content-Encoding": "gzip"},
    )
    base = serve(hostile, "gzip", reply)
    _, verdict = await live(base, caps=Caps(stream_bytes=MiB))
    assert verdict.label == "protocol_error/oversized_body"
    assert "1 MiB body cap (decompressed)" in verdict.explanation
    assert verdict.had_output


# --- item 13: crash-shaped events are malformed, and --save still gets its end line -------

DEEP = "[" * 1200 + "]" * 1200
CRASHERS = {
    "deep": f'data: {{"choices": {DEEP}}}\n\n'.encode(),
    "deep_args": (
        'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":'
        '{"name":"f","arguments":' + json.dumps(DEEP) + "}}]}}]}\n\n"
    ).encode(),
    "text_not_string": b'data: {"choices":[{"index":0,"delta":{"content":5}}]}\n\n',
    "index_not_int": (
        b'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":"a","id":"c",'
        b'"function":{"name":"f","arguments":"{}"}}]}}]}\n\n'
    ),
    "usage_huge": (
        b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1'
        + b"0" * 400
        + b"}}\n\n"
    ),
    "usage_inf": b'data: {"choices":[],"usage":{"prompt_tokens":1e999,"completion_tokens":2}}\n\n',
}


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_crash_inputs_are_malformed_events_and_save_ends(
    hostile: HostileServer, capsys, tmp_path: Path, name: str
) -> None:
    body = chat("a") + chat("b") + chat("c") + CRASHERS[name] + chat("", "stop") + DONE
    base = serve(hostile, f"crash-{name}", Reply([body]))
    save = tmp_path / f"{name}.jsonl"
    code, out, err = probe(capsys, base, "--json", "--save", str(save))
    assert code == 0, err
    verdict = json.loads(out)  # a verdict, never a traceback
    assert verdict["text"] == "abc"
    if name.startswith("usage"):
        assert verdict["outcome"] == "completed"
        assert verdict["usage"]["output_tokens"] in (None, 2)  # no absurd count kept
    elif name == "deep":
        assert "malformed_event" in verdict["warnings"] or verdict["outcome"] == "protocol_error"
    (attempt,) = read_saved_run(save.read_text())
    assert attempt.end is not None
    assert main(["diagnose", str(save), "--json"]) == 0
    again = json.loads(capsys.readouterr()[0])
    assert (again["outcome"], again["detail"]) == (verdict["outcome"], verdict["detail"])

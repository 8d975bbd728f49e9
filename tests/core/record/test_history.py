"""The history store over real loopback runs: written as it streams, read back whole,
exported and imported without loss, refused when newer, never holding a key."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from core.cli import main
from core.mock import MockServer
from core.mock.script import reply_text
from core.record.diagnose import diagnose_bytes
from core.record.history import HistoryError, HistoryStore, Retention
from core.record.history_schema import SCHEMA_VERSION
from core.record.savefile import read_saved_session

KEY = "sk-history-secret-7f3a9c"


def probe(capsys, mock: MockServer, *args: str, dialect: str = "anthropic",
          model: str = "mock-normal") -> dict:  # fmt: skip
    code = main(
        ["probe", "--base-url", mock.base_urls[dialect], "--dialect", dialect, "--model", model,
         "--json", *args]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def store() -> HistoryStore:
    return HistoryStore.open()


def stamps(saved) -> list[list[tuple[int, bytes]]]:
    return [a.chunks for a in saved.attempts]


CONTINUED = ("--max-tokens", "12", "--continue-until-complete", "3")


def test_probe_writes_the_whole_session_and_show_gives_back_probe_json(capsys, mock) -> None:
    live = probe(capsys, mock, *CONTINUED, "--header", "x-mock-params: tokens=40")
    assert len(live["segments"]) == 4 and live["text"] == reply_text(40)
    code, out, _ = cli(capsys, "history", "show", "1", "--json")
    shown = json.loads(out)
    assert code == 0 and shown == {"id": 1, **live}
    with store() as s:
        saved = s.saved_session(1)
        (row,) = s.list_runs()
    assert [a.segment for a in saved.attempts] == [0, 1, 2, 3]
    assert all(a.end is not None and a.chunks for a in saved.attempts)
    assert (row.outcome, row.model, row.state, row.output_tokens) == (
        live["outcome"], "mock-normal", "finished", live["usage"]["output_tokens"]
    )  # fmt: skip


def test_a_long_continued_run_reads_back_every_chunk_in_order(capsys, mock, tmp_path) -> None:
    """Across segments, the history keeps every chunk the run read, in order: the same
    chunks, stamps and bytes as the run's saved file. (A chunk is one network read, so how
    many there are depends on how reads merge; enough tokens make more chunks than one
    insert statement holds.)"""
    saved_file = tmp_path / "run.jsonl"
    live = probe(capsys, mock, "--max-tokens", "1400", "--continue-until-complete", "2",
                 "--header", "x-mock-params: tokens=3000", "--save", str(saved_file),
                 dialect="openai-chat")  # fmt: skip
    assert live["outcome"] == "completed" and len(live["segments"]) == 3
    with store() as s:
        saved = s.saved_session(1)
    chunks = stamps(saved)
    assert [a.segment for a in saved.attempts] == [0, 1, 2]
    assert chunks == stamps(read_saved_session(saved_file.read_text()))
    for attempt in chunks:
        times = [t for t, _ in attempt]
        assert times == sorted(times)
    texts = [diagnose_bytes(b"".join(d for _, d in a)).verdict.text for a in chunks]
    assert "".join(texts) == live["text"]


@pytest.mark.parametrize("fmt", ["har", "jsonl"])
def test_export_import_round_trip_keeps_verdict_text_stamps_segments(
    capsys, mock, tmp_path: Path, fmt: str
) -> None:
    live = probe(capsys, mock, *CONTINUED, "--header", "x-mock-params: tokens=40")
    probe(capsys, mock, "--retries", "1", dialect="openai-chat", model="mock-http_500",
          )  # fmt: skip
    out = tmp_path / f"runs.{fmt}"
    code, _, err = cli(capsys, "history", "export", "1", "2", "--format", fmt, "-o", str(out))
    assert code == 0, err
    code, printed, _ = cli(capsys, "history", "import", str(out))
    assert code == 0 and printed.split() == ["3", "4"]
    with store() as s:
        for original, copy in ((1, 3), (2, 4)):
            a, b = s.saved_session(original), s.saved_session(copy)
            assert stamps(a) == stamps(b)
            assert [x.segment for x in a.attempts] == [x.segment for x in b.attempts]
            va, vb = s.verdict_json(original), s.verdict_json(copy)
            for key in ("outcome", "detail", "text", "warnings", "segments", "attempts", "usage"):
                assert va[key] == vb[key], (fmt, key)
            again = s.replay(copy).to_json()
            assert (again["outcome"], again["text"]) == (va["outcome"], va["text"])
        assert s.replay(3).to_json()["text"] == live["text"] == reply_text(40)


def test_save_open_and_diagnose_keep_every_segment(capsys, mock, tmp_path: Path) -> None:
    saved = tmp_path / "f.jsonl"
    saved.write_text('{"kind": "header", "format": "streamscope-run/1"}\n{"kind": "chu')  # torn
    live = probe(capsys, mock, *CONTINUED, "--save", str(saved), "--no-history",
                 "--header", "x-mock-params: tokens=40")  # fmt: skip
    assert not saved.with_name("f.jsonl.partial").exists()
    code, out, _ = cli(capsys, "diagnose", str(saved), "--json")
    again = json.loads(out)
    assert code == 0
    for key in ("outcome", "detail", "text", "segments", "attempts", "usage", "warnings"):
        assert again[key] == live[key], key
    assert len(again["text"]) == len(reply_text(40))
    with store() as s:
        assert s.count() == 0  # --no-history
    code, out, _ = cli(capsys, "history", "import", str(saved))
    with store() as s:
        assert s.verdict_json(int(out))["segments"] == live["segments"]


def test_cut_recording_says_so_in_json(capsys, mock, tmp_path: Path) -> None:
    saved = tmp_path / "run.jsonl"
    probe(capsys, mock, "--save", str(saved), dialect="openai-chat")
    lines = saved.read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    data = json.loads(cli(capsys, "diagnose", str(cut), "--json")[1])
    assert "recording_cut" in data["warnings"]
    assert "ended properly" not in data["explanation"]
    assert "recording stops" in data["explanation"]


def test_no_key_in_the_database_bytes(capsys, mock, monkeypatch, data_dir: Path) -> None:
    monkeypatch.setenv("MY_KEY", KEY)
    for model in ("mock-normal", "mock-http_429", "mock-unauthorized"):
        probe(capsys, mock, "--api-key-env", "MY_KEY", model=model, dialect="openai-chat")
    probe(capsys, mock, "--api-key-env", "MY_KEY", "--prompt", f"say {KEY}")
    files = list(data_dir.iterdir())
    assert any(f.name == "history.sqlite3" for f in files)
    for f in files:
        assert KEY.encode() not in f.read_bytes(), f.name
    with store() as s:
        assert s.count() == 4


def test_future_schema_is_refused_untouched(capsys, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    path = data_dir / "history.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, future TEXT)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    db.commit()
    db.close()
    before = path.read_bytes()
    listing_before = sorted(p.name for p in data_dir.iterdir())
    with pytest.raises(HistoryError, match="newer StreamScope"):
        HistoryStore.open()
    code, _, err = cli(capsys, "history", "list")
    assert code == 2 and "newer StreamScope" in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert path.read_bytes() == before
    assert sorted(p.name for p in data_dir.iterdir()) == listing_before


def test_not_a_database_is_a_one_line_error(capsys, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "history.sqlite3").write_bytes(b"this is not sqlite" * 100)
    code, _, err = cli(capsys, "history", "list")
    assert code == 2 and "not a StreamScope history store" in err


def test_list_search_filters_tags_notes_delete_retention(capsys, mock) -> None:
    probe(capsys, mock, "--prompt", "tell me about zebras")
    probe(capsys, mock, "--prompt", "tell me about owls", "--max-tokens", "20",
          model="mock-max_tokens")  # the mock cuts at the request's limit  # fmt: skip
    probe(capsys, mock, "--prompt", "owls again", dialect="openai-chat")
    with store() as s:
        assert [r.id for r in s.list_runs()] == [3, 2, 1]
        assert [r.id for r in s.list_runs(search="owls")] == [3, 2]
        assert [r.id for r in s.list_runs(search='zebras "quoted')] == []
        assert [r.id for r in s.list_runs(search="streaming")] == [3, 2, 1]  # the answers
        assert [r.id for r in s.list_runs(outcome="truncated")] == [2]
        assert [r.id for r in s.list_runs(provider="/v1")] == [3]
        assert [r.id for r in s.list_runs(model="mock-max_tokens")] == [2]
        assert s.list_runs(since="2999-01-01") == []
        assert [r.id for r in s.list_runs(limit=1, offset=1)] == [2]
        s.add_tags(1, "demo", "zoo")
        s.set_notes(1, "the good one")
        assert s.summary(1).tags == ("demo", "zoo") and s.summary(1).notes == "the good one"
        assert [r.id for r in s.list_runs(tag="demo")] == [1]
    code, out, _ = cli(capsys, "history", "list", "--json", "--search", "owls")
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [3, 2]
    assert {"id", "time", "dialect", "base_url", "model", "outcome", "detail", "ttft_ms",
            "output_tokens"} <= set(rows[0])  # fmt: skip
    assert rows[0]["time"].endswith("Z") and "T" in rows[0]["time"]
    code, _, err = cli(capsys, "history", "delete", "2", "99")
    assert code == 0 and "deleted 1 run" in err
    with store() as s:
        assert [r.id for r in s.list_runs(search="owls")] == [3]
        assert s.apply_retention(Retention(days=None, max_bytes=1)) == 2
        assert s.count() == 0
        s.vacuum()


def test_exports_csv_markdown_otel(capsys, mock, tmp_path: Path) -> None:
    live = probe(capsys, mock, "--max-tokens", "12")
    for fmt in ("csv", "markdown", "otel-json"):
        out = tmp_path / f"x.{fmt}"
        assert cli(capsys, "history", "export", "1", "--format", fmt, "-o", str(out))[0] == 0
    lines = (tmp_path / "x.csv").read_text().splitlines()
    assert lines[0].startswith("id,time,dialect") and lines[1].startswith("1,")
    assert "truncated" in lines[1] and len(lines) == 2
    md = (tmp_path / "x.markdown").read_text()
    assert "## Run 1: truncated/max_tokens" in md and "> " + live["text"][:20] in md
    (span,) = json.loads((tmp_path / "x.otel-json").read_text())
    attrs = span["attributes"]
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.request.model"] == "mock-normal"
    assert attrs["gen_ai.response.finish_reasons"] == ["max_tokens"]
    assert attrs["gen_ai.usage.output_tokens"] == live["usage"]["output_tokens"]
    assert attrs["gen_ai.response.time_to_first_chunk"] == pytest.approx(
        live["metrics"]["ttfb_ms"] / 1000
    )
    assert attrs["streamscope.outcome"] == "truncated"


def test_har_event_times_follow_the_chunks(capsys, mock, tmp_path: Path) -> None:
    probe(capsys, mock, "--header", "x-mock-params: tokens=6;tps=50", dialect="openai-chat")
    out = tmp_path / "x.har"
    cli(capsys, "history", "export", "1", "--format", "har", "-o", str(out))
    (entry,) = json.loads(out.read_text())["log"]["entries"]
    messages = entry["_eventSourceMessages"]
    assert messages[-1]["data"] == "[DONE]"
    assert all(m["type"] == "receive" and m["eventName"] == "message" for m in messages)
    times = [m["time"] for m in messages]
    assert times == sorted(times) and times[-1] - times[0] > 0.05  # 6 tokens at 50 tok/s
    chunks = entry["_streamscope"]["chunks"]
    assert entry["response"]["content"]["mimeType"].startswith("text/event-stream")
    assert len(chunks) >= 6 and chunks == sorted(chunks, key=lambda c: c["t_ns"])


def test_import_browser_har_raw_body_and_pasted_log(capsys, tmp_path: Path) -> None:
    events = [
        {"choices": [{"delta": {"content": "Hi"}, "finish_reason": None}]},
        {"choices": [{"delta": {"content": " there"}, "finish_reason": "stop"}]},
    ]
    messages = [
        {"type": "receive", "time": 1764633600.1 + i * 0.2, "eventName": "message",
         "eventId": str(i), "data": json.dumps(e)}
        for i, e in enumerate(events)
    ] + [{"type": "receive", "time": 1764633600.5, "eventName": "message", "eventId": "",
          "data": "[DONE]"}]  # fmt: skip
    entry = {
        "startedDateTime": "2025-12-02T00:00:00.000Z",
        "request": {"method": "POST", "url": "https://relay.example/v1/chat/completions",
                    "headers": [], "postData": {"text": json.dumps({"model": "m1"})}},
        "response": {"status": 200, "headers": [], "content": {"mimeType": "text/event-stream"}},
    }  # fmt: skip
    plain = {**entry, "response": {**entry["response"], "content": {
        "mimeType": "text/event-stream",
        "text": "".join(f"data: {m['data']}\n\n" for m in messages)}}}  # fmt: skip
    har = tmp_path / "browser.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": [
        {**entry, "_eventSourceMessages": messages}, plain,
        {"request": {"url": "https://x/y.png"}, "response": {"content": {"mimeType": "image/png"}}},
    ]}}))  # fmt: skip
    raw = tmp_path / "body.sse"
    raw.write_bytes(b"".join(f"data: {m['data']}\n\n".encode() for m in messages))
    log = tmp_path / "log.txt"
    log.write_text("".join(f"Line {i}: 'data: {m['data']}'\n" for i, m in enumerate(messages)))
    code, out, err = cli(capsys, "history", "import", str(har), str(raw), str(log))
    assert code == 0, err
    assert out.split() == ["1", "2", "3", "4"]
    with store() as s:
        timed = s.verdict_json(1)
        assert (timed["outcome"], timed["text"]) == ("completed", "Hi there")
        assert timed["metrics"]["ttft_ms"] == pytest.approx(100, abs=1)
        assert s.summary(1).model == "m1" and s.summary(1).base_url == "https://relay.example/v1"
        for untimed in (2, 3, 4):
            v = s.verdict_json(untimed)
            assert (v["outcome"], v["text"], v["metrics"]["ttft_ms"]) == (
                "completed",
                "Hi there",
                None,
            )


def test_import_refuses_unusable_files_whole(capsys, tmp_path: Path) -> None:
    good = tmp_path / "ok.sse"
    good.write_bytes(b'data: {"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}\n\n')
    bad = tmp_path / "page.html"
    bad.write_text("<html><title>Oops</title></html>")
    code, out, err = cli(capsys, "history", "import", str(good), str(bad))
    assert code == 2 and "page.html" in err and "HTML page" in err and out == ""
    with store() as s:
        assert s.count() == 0


def test_bad_ids_and_speed_are_one_line_errors(capsys) -> None:
    for args in (["show", "9"], ["export", "9", "--format", "csv", "-o", "-"], ["replay", "9"]):
        code, _, err = cli(capsys, "history", *args)
        assert code == 2 and "no run 9" in err, args
    code, _, err = cli(capsys, "history", "replay", "1", "--speed", "-2")
    assert code == 2 and "--speed" in err


def test_diagnose_of_wrong_typed_saved_runs_never_crashes(capsys, mock, tmp_path: Path) -> None:
    """One field of a wrong type, in every field of every line of several saved runs."""
    runs = []
    for model, extra in (("mock-normal", CONTINUED), ("mock-reset_mid_stream", ()),
                         ("mock-http_429", ("--retries", "1"))):  # fmt: skip
        saved = tmp_path / f"{model}.jsonl"
        probe(capsys, mock, "--save", str(saved), "--no-history", *extra, model=model,
              dialect="openai-chat" if model != "mock-normal" else "anthropic")  # fmt: skip
        runs.append(saved.read_text().splitlines())
    wrong = [None, 0, -1, 1e308, "x", "", [], {}, True, [[1]], {"a": {}}, "2" * 400]
    tried = 0
    for lines in runs:
        chunk_run = 0
        for i, line in enumerate(lines):
            obj = json.loads(line)
            chunk_run = chunk_run + 1 if obj["kind"] == "chunk" else 0
            if chunk_run > 2:  # two chunk lines per attempt are enough of that shape
                continue
            for path in _paths(obj):
                for value in wrong[tried % 6 :: 6]:
                    mutated = _set(json.loads(line), path, value)
                    text = "\n".join([*lines[:i], json.dumps(mutated), *lines[i + 1 :]])
                    _judge(text.encode())
                    tried += 1
    assert tried > 500


def _judge(data: bytes) -> None:
    from core.record.diagnose import DiagnoseError

    try:
        replay = diagnose_bytes(data)
    except DiagnoseError as exc:
        assert "\n" not in str(exc)
        return
    json.dumps(replay.to_json())


def _paths(obj, prefix=(), depth=0):
    """Every key path in a JSON value, three levels below `depth`."""
    if isinstance(obj, dict) and depth < 3:
        for k, v in obj.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k), depth + 1)
    elif isinstance(obj, list) and depth < 3:
        for i, v in enumerate(obj[:3]):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i), depth + 1)


def _set(obj, path, value):
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


def test_import_of_wrong_typed_har_never_crashes(capsys, mock, tmp_path: Path) -> None:
    from core.record.diagnose import DiagnoseError, replay_session
    from core.record.imports import sessions_from_bytes

    probe(capsys, mock, "--header", "x-mock-params: tokens=3", dialect="openai-chat")
    out = tmp_path / "x.har"
    cli(capsys, "history", "export", "1", "--format", "har", "-o", str(out))
    har = json.loads(out.read_text())
    tried = 0
    for path in _paths(har, depth=-3):
        for value in (None, -1, "x", [], {"a": {}}):
            mutated = json.dumps(_set(json.loads(json.dumps(har)), path, value)).encode()
            try:
                for saved in sessions_from_bytes(mutated):
                    json.dumps(replay_session(saved).to_json())
            except DiagnoseError as exc:
                assert "\n" not in str(exc)
            tried += 1
    assert tried > 500


def test_compare_keeps_every_run_under_one_group(capsys, mock) -> None:
    lanes = [
        f"label=a;base-url={mock.base_urls['openai-chat']};dialect=openai-chat;model=mock-normal",
        f"label=b;base-url={mock.base_urls['anthropic']};dialect=anthropic;model=mock-http_429",
    ]
    args = ["compare", "--repeat", "2", "--json", *(x for lane in lanes for x in ("--lane", lane))]
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    lane_runs = [r for lane in json.loads(out)["lanes"] for r in lane["runs"]]
    with store() as s:
        rows = s.list_runs()
        assert {r.source for r in rows} == {"compare"} and len(rows) == len(lane_runs) == 4
        assert {r.compare_group for r in rows} == {1}
        assert sorted(r.outcome for r in rows) == sorted(r["outcome"] for r in lane_runs)
    assert cli(capsys, *args, "--no-history")[0] == 0
    assert cli(capsys, *args)[0] == 0
    with store() as s:
        assert {r.compare_group for r in s.list_runs()} == {1, 2} and s.count() == 8


def test_a_run_keeps_its_cost_when_a_price_is_known_and_a_dash_when_not() -> None:
    """The cost column is filled from usage when the run ends: genai-prices knows OpenAI's
    gpt-4o on its official host; the mock on loopback has no price (null, never 0)."""
    from core.stream.spec import RunSpec

    kept = HistoryStore.open()
    verdict = {"outcome": "completed", "detail": "natural", "usage": {}}
    verdict["usage"] = {"input_tokens": 1000, "output_tokens": 500}
    ids = []
    for base_url in ("https://api.openai.com/v1", "http://127.0.0.1:9/v1"):
        spec = RunSpec("openai-chat", base_url, "gpt-4o", RunSpec.user("price me"))
        recorder = kept.recorder(spec, source="probe")
        recorder.session(verdict)
        recorder.close()
        ids.append(recorder.run_id)
    priced, local = (kept.summary(i).cost_usd for i in ids)
    assert priced is not None and priced > 0
    assert local is None
    kept.close()


def test_a_long_answer_is_searched_in_its_first_part_and_kept_whole() -> None:
    """Search indexes the answer up to SEARCHED_CHARS (a million-token answer indexed whole
    held ~30 MB more as the run ended); the verdict keeps every character."""
    from core.record.history_recorder import SEARCHED_CHARS
    from core.stream.spec import RunSpec

    text = "early " + "x" * SEARCHED_CHARS + " latecomer"
    kept = HistoryStore.open()
    recorder = kept.recorder(RunSpec("openai-chat", "http://127.0.0.1:9/v1", "m"), source="probe")
    recorder.session({"outcome": "completed", "text": text})
    recorder.close()
    assert [r.id for r in kept.list_runs(search="early")] == [recorder.run_id]
    assert kept.list_runs(search="latecomer") == []
    assert kept.verdict_json(recorder.run_id)["text"] == text
    kept.close()


def test_compare_groups_are_never_handed_out_twice_and_old_ones_are_kept(
    data_dir: Path,
) -> None:
    """Group ids come from an insert (two writers never share one); a schema-1 store's
    groups are registered when it is upgraded, so a new group comes after them."""
    from core.record.datadir import history_path
    from core.record.history_schema import MIGRATIONS, connect

    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    MIGRATIONS[1](db)
    db.execute("PRAGMA user_version = 1")
    for group in (1, 5, None):
        db.execute(
            "INSERT INTO runs (started, state, source, dialect, base_url, model, compare_group) "
            "VALUES ('2026-01-01T00:00:00Z', 'finished', 'compare', 'd', 'b', 'm', ?)",
            (group,),
        )
    db.close()
    one, two = HistoryStore.open(), HistoryStore.open()
    taken = [one.new_compare_group(), two.new_compare_group(), one.new_compare_group()]
    assert taken == [6, 7, 8]
    assert one.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    one.close()
    two.close()


def test_a_long_verdict_is_stored_compressed_and_read_back_whole(capsys, mock) -> None:
    """Over BIG_JSON characters an end line and a session verdict are zlib BLOBs (schema 3):
    `history show` and the saved session give back what the live run printed."""
    live = probe(
        capsys,
        mock,
        "--max-tokens",
        "30000",
        "--header",
        "x-mock-params: tokens=20000",
        dialect="openai-chat",
    )
    assert len(live["text"]) > 64 * 1024
    code, out, _ = cli(capsys, "history", "show", "1", "--json")
    assert code == 0 and json.loads(out) == {"id": 1, **live}
    with store() as s:
        saved = s.saved_session(1)
        stored = s.db.execute("SELECT verdict FROM run_texts").fetchone()[0]
        end_line = s.db.execute("SELECT end_line FROM attempts").fetchone()[0]
    assert isinstance(stored, bytes) and isinstance(end_line, bytes)
    assert saved.attempts[0].end["verdict"]["text"] == live["text"]
    assert saved.session is not None and saved.session["text"] == live["text"]

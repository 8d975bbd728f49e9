"""Writes one session into the history store as it streams.

The same hooks as `RunRecorder` (so the runner and session write to both through
`TeeRecorder`). Hooks only queue; a flusher thread commits the queue in one transaction at
least every 250 ms (by time, never per chunk), so a `kill -9` loses at most the last 250 ms
and the event loop never waits on the disk.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from core.providers.keys import scrub
from core.record.savefile import header_line, utc_now
from core.stream.spec import HttpRequest
from core.stream.verdict import Answer, record_pieces

if TYPE_CHECKING:
    from core.providers.pricing import Price

__all__ = [
    "COMMIT_INTERVAL_S",
    "SEARCHED_CHARS",
    "HistoryRecorder",
    "insert_run",
    "store_verdict",
]

COMMIT_INTERVAL_S = 0.25
# The answer is searchable up to here (the whole of it is in the verdict): indexing a
# million-token answer in full held ~30 MB more at the end of a run, for a search that
# rarely reaches so far.
SEARCHED_CHARS = 100_000
_INSERT_SIZES = (256, 64, 16, 4, 1)  # rows per INSERT (5 parameters each; SQLite < 3.32: 999)


@functools.cache
def _insert_sql(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return f"INSERT INTO chunks (run_id, idx, seq, t_ns, data) VALUES {values}"


# A JSON value over this many characters is stored zlib-compressed (schema 3): a million-
# token answer's verdict JSON is ~6 MB, and SQLite copied it twice more as it wrote it.
BIG_JSON = 64 * 1024


def pack_json(obj: Any, key: str | None) -> str | bytes:
    """A JSON value as the store keeps it, the key masked: as text, or when longer than
    `BIG_JSON` as a zlib-compressed BLOB, compressed piece by piece as it is made (a long
    answer's JSON is never whole in memory)."""
    pieces = _scrubbed(record_pieces(obj), key)
    head: list[str] = []
    size = 0
    for piece in pieces:
        head.append(piece)
        size += len(piece)
        if size > BIG_JSON:
            break
    else:
        return "".join(head)
    z = zlib.compressobj(1)
    out = [z.compress("".join(head).encode())]
    out += [z.compress(piece.encode()) for piece in pieces]
    out.append(z.flush())
    return b"".join(out)


def unpack_json(value: str | bytes) -> Any:
    """A value `pack_json` stored."""
    return json.loads(zlib.decompress(value) if isinstance(value, bytes) else value)


def _scrubbed(pieces: Iterator[str], key: str | None) -> Iterator[str]:
    """`scrub` over text that comes in pieces: the last characters of each wait for the
    next, so a key cut between two is masked too."""
    if not key:
        yield from pieces
        return
    # The key as written in ASCII JSON too (a non-ASCII key is escaped there); the longest
    # form `scrub` looks for is at most six times the key (`\uXXXX` a character).
    escaped = json.dumps(key)[1:-1]
    keep = 6 * len(key)
    carry = ""
    for piece in pieces:
        text = scrub(scrub(carry + piece, key), escaped)
        carry = text[-keep:]
        yield text[:-keep]
    yield carry


def summary_columns(verdict: dict[str, Any]) -> dict[str, Any]:
    """The list's columns from a verdict JSON (wrong types become NULL)."""

    def num(value: Any) -> float | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok and value == value and abs(value) < 1e300 else None

    def integer(value: Any) -> int | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63
        return value if ok else None

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    metrics = verdict.get("metrics") if isinstance(verdict.get("metrics"), dict) else {}
    usage = verdict.get("usage") if isinstance(verdict.get("usage"), dict) else {}
    warnings = verdict.get("warnings") if isinstance(verdict.get("warnings"), list) else []
    session = verdict.get("session_metrics")
    ttft = num(metrics.get("ttft_ms"))
    if isinstance(session, dict) and num(session.get("ttft_ms")) is not None:
        ttft = num(session.get("ttft_ms"))
    return {
        "outcome": text(verdict.get("outcome")),
        "detail": text(verdict.get("detail")),
        "warnings": " ".join(w for w in warnings if isinstance(w, str)),
        "ttft_ms": ttft,
        "tokens_per_s": num(metrics.get("output_tokens_per_s")),
        "input_tokens": integer(usage.get("input_tokens")),
        "output_tokens": integer(usage.get("output_tokens")),
        "total_ms": num(metrics.get("total_ms")),
    }


def insert_run(db: sqlite3.Connection, meta: dict[str, Any], state: str, pid: int | None) -> int:
    """A new run row (and its texts row); returns its id."""
    cur = db.execute(
        "INSERT INTO runs (started, state, writer_pid, source, dialect, base_url, profile, "
        "model, compare_group) VALUES (:started, :state, :pid, :source, :dialect, "
        ":base_url, :profile, :model, :compare_group)",
        {"state": state, "pid": pid, "compare_group": None, **meta},
    )
    run_id = cur.lastrowid
    assert run_id is not None
    db.execute(
        "INSERT INTO run_texts (run_id, prompt) VALUES (?, ?)", (run_id, meta.get("prompt", ""))
    )
    return run_id


def store_verdict(
    db: sqlite3.Connection,
    run_id: int,
    verdict: dict[str, Any],
    state: str,
    *,
    key: str | None = None,
    add_size: int = 0,
) -> None:
    """The run's verdict, its list columns and its answer (for search); the key masked."""
    columns = summary_columns(verdict)
    sets = "".join(f"{name} = :{name}, " for name in columns)
    db.execute(
        f"UPDATE runs SET {sets}state = :state, finished = coalesce(finished, :now), "
        "writer_pid = NULL, size_bytes = size_bytes + :size WHERE id = :id",
        {**columns, "state": state, "now": utc_now(), "size": add_size, "id": run_id},
    )
    answer = verdict.get("text")
    if isinstance(answer, Answer):  # a recorder's verdict: only the searched part is decoded
        answer = answer.head(SEARCHED_CHARS)
    answer = answer[:SEARCHED_CHARS] if isinstance(answer, str) else ""
    db.execute(
        "UPDATE run_texts SET answer = ?, verdict = ? WHERE run_id = ?",
        (
            scrub(answer, key),
            pack_json(verdict, key) if verdict else None,
            run_id,
        ),
    )


class HistoryRecorder:
    """Create with `HistoryStore.recorder(...)`; `run_id` is known at once."""

    def __init__(
        self,
        db: sqlite3.Connection,
        run_id: int,
        next_idx: int,
        key: str | None,
        priced: tuple[str, str] | None = None,
        price: Price | None = None,
    ):
        self._db = db
        self._priced = priced  # (model, base_url): the run's cost is stored when it ends
        self._price = price  # a profile's own price: it wins over genai-prices
        self.run_id = run_id
        self._key = key
        self._key_bytes = key.encode() if key else b""
        self._idx = next_idx - 1
        self._seq = 0
        self._ops: list[tuple[Any, ...]] = []  # attempts' headers and ends, in order
        self._rows: list[Any] = []  # the chunks' INSERT parameters, five a chunk, flat
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last_end: dict[str, Any] | None = None
        self._session: dict[str, Any] | None = None
        self._size = 0
        self.commit_times: list[float] = []  # monotonic seconds of each commit (bench figure)
        self._closed = False
        self.failed: str | None = None  # why the store stopped taking this run (disk full...)
        self._thread = threading.Thread(target=self._flush_loop, name="history-flush", daemon=True)
        self._thread.start()

    # --- the hooks -----------------------------------------------------------------------

    def _json(self, obj: dict[str, Any]) -> str | bytes:
        return pack_json(obj, self._key)

    def header(
        self,
        *,
        attempt: int,
        dialect: str,
        request: HttpRequest,
        status: int | None,
        headers: dict[str, str] | None,
        segment: int = 0,
        headers_t_ns: int | None = None,
    ) -> None:
        line = header_line(
            attempt=attempt,
            dialect=dialect,
            request=request,
            status=status,
            headers=headers,
            segment=segment,
            headers_t_ns=headers_t_ns,
        )
        with self._lock:
            self._idx += 1
            self._seq = 0
            self._ops.append(("header", self._idx, attempt, segment, self._json(line)))

    def chunk(self, t_ns: int, data: bytes) -> None:
        if self._key_bytes and self._key_bytes in data:
            data = data.replace(self._key_bytes, b"***")
        with self._lock:
            if self._idx < 0:
                return
            self._rows.extend((self.run_id, self._idx, self._seq, t_ns, data))
            self._seq += 1
            self._size += len(data)

    def end(self, transport: str, verdict: dict[str, Any], total_ns: int | None) -> None:
        line = {"kind": "end", "transport": transport, "total_ns": total_ns, "verdict": verdict}
        with self._lock:
            if self._idx < 0:
                return
            self._last_end = verdict
            self._ops.append(("end", self._idx, self._json(line)))

    def session(self, verdict: dict[str, Any]) -> None:
        with self._lock:
            self._session = verdict

    def close(self) -> None:
        """Commit what is left and mark the run finished (its verdict is the session's)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._thread.join()
        verdict = self._session or self._last_end
        try:
            if self.failed is None:
                self._flush(finish=verdict or {})
        except sqlite3.Error as exc:
            self.failed = str(exc)
        finally:
            self._db.close()

    # --- committing ----------------------------------------------------------------------

    def _flush_loop(self) -> None:
        next_at = time.monotonic() + COMMIT_INTERVAL_S
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            next_at += COMMIT_INTERVAL_S
            try:
                self._flush()
            except sqlite3.Error as exc:  # the run goes on; the store says why it stopped
                self.failed = str(exc)
                return

    def _flush(self, finish: dict[str, Any] | None = None) -> None:
        with self._lock:
            ops, self._ops = self._ops, []
            rows, self._rows = self._rows, []
        if not ops and not rows and finish is None:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:  # chunks reference the run, not its attempts: their order against them is free
            for op in ops:
                self._write(op)
            self._insert_chunks(rows)
            if finish is not None:
                self._finish(finish)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.commit_times.append(time.monotonic())

    def _insert_chunks(self, rows: list[Any]) -> None:
        """Many rows per statement: sqlite3 lets the GIL go around every step, and taking it
        back once per row behind a busy event loop (and a 0.5 ms switch interval) made
        this thread fall seconds behind a fast stream, its queue growing ~400 B a chunk.
        Statements come in a few fixed sizes (256, 64, 16, 4 and 1 rows), so the connection's
        statement cache holds five, not one per remainder seen (each is tens of KB); the
        parameters are kept flat as the chunks come, so each statement takes a slice."""
        limit = self._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 5
        start, end = 0, len(rows)
        for size in _INSERT_SIZES:
            if size > limit:
                continue
            width = size * 5
            while end - start >= width:
                self._db.execute(_insert_sql(size), rows[start : start + width])
                start += width

    def _write(self, op: tuple[Any, ...]) -> None:
        db = self._db
        if op[0] == "header":
            db.execute(
                "INSERT INTO attempts (run_id, idx, attempt, segment, header) "
                "VALUES (?, ?, ?, ?, ?)",
                (self.run_id, *op[1:]),
            )
        else:
            db.execute(
                "UPDATE attempts SET end_line = ? WHERE run_id = ? AND idx = ?",
                (op[2], self.run_id, op[1]),
            )

    def _finish(self, verdict: dict[str, Any]) -> None:
        store_verdict(
            self._db, self.run_id, verdict, "finished", key=self._key, add_size=self._size
        )
        cost = self._cost(verdict)
        if cost is not None:
            self._db.execute("UPDATE runs SET cost_usd = ? WHERE id = ?", (cost, self.run_id))

    def _cost(self, verdict: dict[str, Any]) -> float | None:
        """From the session's usage and the profile's price or genai-prices (None when
        either is unknown)."""
        if self._priced is None:
            return None
        from core.providers.pricing import run_cost

        usage = verdict.get("usage") if isinstance(verdict.get("usage"), dict) else {}
        ins, outs = usage.get("input_tokens"), usage.get("output_tokens")
        if not isinstance(ins, int) or not isinstance(outs, int):
            return None
        model, base_url = self._priced
        cost = run_cost(
            model=model,
            base_url=base_url,
            input_tokens=ins,
            output_tokens=outs,
            override=self._price,
        )
        return cost.usd if cost is not None else None

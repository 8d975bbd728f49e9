"""The run history: every run kept in SQLite (WAL) at `history.sqlite3` in the data
directory, written as it streams (`HistoryRecorder`), listed, searched (FTS5 over prompt and
answer), filtered, tagged, noted, deleted, trimmed by retention, and read back as the saved
session it was (`SavedSession`), so everything that reads saved runs reads history runs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.record.datadir import history_path
from core.record.diagnose import Replay, replay_session
from core.record.history_recorder import (
    HistoryRecorder,
    insert_run,
    pack_json,
    store_verdict,
    unpack_json,
)
from core.record.history_rows import LIST_COLUMNS, RunSummary, fts_query, summary_row
from core.record.history_schema import HistoryError, check_version, connect, migrate
from core.record.request_info import describe_request, prompt_of
from core.record.savefile import SavedAttempt, SavedSession, utc_now
from core.stream.spec import RunSpec

if TYPE_CHECKING:
    from core.providers.pricing import Price

__all__ = ["HistoryError", "HistoryStore", "Retention", "RunSummary"]


@dataclass(frozen=True, slots=True)
class Retention:
    """Runs older than `days` go first, then the oldest until the chunks fit `max_bytes`.
    None switches a bound off. Generous by default: a year, 2 GiB."""

    days: float | None = 365
    max_bytes: int | None = 2 * 1024**3


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # no signal 0 there: trust the row until it is stale
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class HistoryStore:
    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self.db = db

    @classmethod
    def open(cls, path: Path | None = None, retention: Retention | None = None) -> HistoryStore:
        """Open (creating or migrating) the store; runs left recording by a process that
        died are marked interrupted with `recording_cut`. Raises HistoryError."""
        path = path or history_path()
        check_version(path)  # before anything can write to it
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = connect(path)
            migrate(db)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise HistoryError(f"cannot open the history store {path}: {exc}") from None
        store = cls(path, db)
        store.mark_interrupted()
        if retention is not None:
            store.apply_retention(retention)
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------

    def _new_run(self, meta: dict[str, Any], state: str, pid: int | None) -> int:
        return insert_run(self.db, meta, state, pid)

    def recorder(
        self,
        spec: RunSpec,
        *,
        source: str = "probe",
        compare_group: int | None = None,
        run_id: int | None = None,
        price: Price | None = None,
    ) -> HistoryRecorder:
        """A recorder for one session of `spec` (pass it to `run_session`, alone or in a
        `TeeRecorder`). With `run_id`, the session continues that run (Continue pressed
        after the fact): its attempts are appended. `price` is the profile's own, when it
        has one: the stored cost uses it instead of genai-prices."""
        from core.providers.keys import scrub

        if run_id is None:
            meta = {
                "started": utc_now(),
                "source": source,
                "dialect": spec.dialect,
                "base_url": scrub(spec.base_url, spec.api_key),
                "profile": spec.profile,
                "model": spec.model,
                "prompt": scrub(prompt_of(spec.messages), spec.api_key),
                "compare_group": compare_group,
            }
            run_id = self._new_run(meta, "recording", os.getpid())
            next_idx = 0
        else:
            self.db.execute(
                "UPDATE runs SET state = 'recording', writer_pid = ? WHERE id = ?",
                (os.getpid(), run_id),
            )
            row = self.db.execute(
                "SELECT coalesce(max(idx) + 1, 0) FROM attempts WHERE run_id = ?", (run_id,)
            ).fetchone()
            next_idx = row[0]
        priced = (spec.model, spec.base_url)
        return HistoryRecorder(connect(self.path), run_id, next_idx, spec.api_key, priced, price)

    def import_session(
        self, saved: SavedSession, *, source: str = "import", verdict: dict[str, Any] | None = None
    ) -> int:
        """Store a session that already happened (a saved run, a HAR, a raw body); its
        verdict is judged again from its bytes unless given."""
        if not saved.attempts:
            raise HistoryError("nothing to import: no attempt in it")
        replay = replay_session(saved)
        verdict = verdict or replay.to_json()
        first = saved.attempts[0]
        base_url, model, prompt = describe_request(first.dialect, first.request)
        meta = {
            "started": first.time or utc_now(),
            "source": source,
            "dialect": replay.dialect,
            "base_url": base_url,
            "profile": None,
            "model": model,
            "prompt": prompt,
        }
        self.db.execute("BEGIN IMMEDIATE")
        try:
            run_id = self._new_run(meta, "finished", None)
            self._write_attempts(run_id, saved.attempts)
            self._set_verdict(run_id, verdict, "interrupted" if saved.cut else "finished")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return run_id

    def _write_attempts(self, run_id: int, attempts: list[SavedAttempt]) -> None:
        size = 0
        for idx, attempt in enumerate(attempts):
            self.db.execute(
                "INSERT INTO attempts (run_id, idx, attempt, segment, header, end_line) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    idx,
                    attempt.attempt,
                    attempt.segment,
                    json.dumps(attempt.header),
                    pack_json(attempt.end, None) if attempt.end is not None else None,
                ),
            )
            self.db.executemany(
                "INSERT INTO chunks (run_id, idx, seq, t_ns, data) VALUES (?, ?, ?, ?, ?)",
                [(run_id, idx, seq, t, d) for seq, (t, d) in enumerate(attempt.chunks)],
            )
            size += sum(len(d) for _, d in attempt.chunks)
        self.db.execute("UPDATE runs SET size_bytes = size_bytes + ? WHERE id = ?", (size, run_id))

    def _set_verdict(self, run_id: int, verdict: dict[str, Any], state: str) -> None:
        store_verdict(self.db, run_id, verdict, state)

    def mark_interrupted(self) -> list[int]:
        """Runs left `recording` by a process that is gone: judged from the chunks they
        committed, marked `interrupted` with `recording_cut`. Returns their ids."""
        rows = self.db.execute(
            "SELECT id, writer_pid FROM runs WHERE state = 'recording'"
        ).fetchall()
        done = []
        for run_id, pid in rows:
            if _alive(pid):
                continue
            saved = self.saved_session(run_id)
            if saved.attempts:
                verdict = replay_session(saved).to_json()
            else:
                verdict = {"outcome": "interrupted", "detail": None, "warnings": []}
            warnings = list(verdict.get("warnings") or [])
            if "recording_cut" not in warnings:
                warnings.append("recording_cut")
            verdict["warnings"] = warnings
            self._set_verdict(run_id, verdict, "interrupted")
            done.append(run_id)
        return done

    # --- reading --------------------------------------------------------------------------

    def list_runs(
        self,
        *,
        search: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        outcome: str | None = None,
        since: str | None = None,
        until: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RunSummary]:
        """Newest first. `provider` matches the profile name or a part of the base URL;
        `since`/`until` are ISO 8601 UTC prefixes (`2026-12-01`)."""
        where, params = [], []
        if search and search.strip():
            where.append("id IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)")
            params.append(fts_query(search))
        if provider:
            where.append("(profile = ? OR instr(base_url, ?) > 0)")
            params += [provider, provider]
        if model:
            where.append("model = ?")
            params.append(model)
        if outcome:
            where.append("(outcome = ? OR state = ?)")
            params += [outcome, outcome]
        if since:
            where.append("started >= ?")
            params.append(since)
        if until:
            where.append("started < ?")
            params.append(until)
        if tag:
            where.append("id IN (SELECT run_id FROM tags WHERE tag = ?)")
            params.append(tag)
        sql = f"SELECT {LIST_COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        rows = self.db.execute(sql, params).fetchall()
        tags = self._tags(None if len(rows) > 500 else [r[0] for r in rows])
        return [summary_row(row, tags) for row in rows]

    def _tags(self, run_ids: list[int] | None) -> dict[int, tuple[str, ...]]:
        """Tags by run: of these runs, or of all (one query either way)."""
        sql = "SELECT run_id, tag FROM tags"
        params: list[int] = []
        if run_ids is not None:
            if not run_ids:
                return {}
            sql += f" WHERE run_id IN ({', '.join('?' * len(run_ids))})"
            params = run_ids
        out: dict[int, list[str]] = {}
        for run_id, tag in self.db.execute(sql + " ORDER BY run_id, tag", params):
            out.setdefault(run_id, []).append(tag)
        return {k: tuple(v) for k, v in out.items()}

    def summary(self, run_id: int) -> RunSummary:
        row = self.db.execute(f"SELECT {LIST_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        found = row.fetchone()
        if found is None:
            raise HistoryError(f"no run {run_id} in the history")
        return summary_row(found, self._tags([run_id]))

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM runs").fetchone()[0]

    def saved_session(self, run_id: int) -> SavedSession:
        """The run as the saved session it was: every attempt, chunk and end line."""
        attempts: list[SavedAttempt] = []
        rows = self.db.execute(
            "SELECT idx, header, end_line FROM attempts WHERE run_id = ? ORDER BY idx",
            (run_id,),
        ).fetchall()
        for idx, header, end_line in rows:
            chunks = self.db.execute(
                "SELECT t_ns, data FROM chunks WHERE run_id = ? AND idx = ? ORDER BY seq",
                (run_id, idx),
            ).fetchall()
            attempts.append(
                SavedAttempt(
                    json.loads(header),
                    [(t, bytes(d)) for t, d in chunks],
                    unpack_json(end_line) if end_line else None,
                )
            )
        row = self.db.execute(
            "SELECT verdict, state FROM runs JOIN run_texts ON run_id = id WHERE id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise HistoryError(f"no run {run_id} in the history")
        session = unpack_json(row[0]) if row[0] and row[1] == "finished" else None
        return SavedSession(attempts, session)

    def verdict_json(self, run_id: int) -> dict[str, Any]:
        """What `probe --json` printed for the run (judged again from its bytes when the
        recording never finished), plus `id`."""
        row = self.db.execute(
            "SELECT verdict FROM runs JOIN run_texts ON run_id = id WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise HistoryError(f"no run {run_id} in the history")
        verdict = unpack_json(row[0]) if row[0] else self.replay(run_id).to_json()
        return {"id": run_id, **verdict}

    def replay(self, run_id: int) -> Replay:
        """The run judged again from its bytes, every attempt in `runs` (the run view)."""
        saved = self.saved_session(run_id)
        if not saved.attempts:
            raise HistoryError(f"run {run_id} recorded no attempt")
        return replay_session(saved)

    def export(self, run_ids: list[int], fmt: str) -> str:
        """The runs in one export format (`core.record.exports.FORMATS`)."""
        from core.record.exports import ExportRun, export_runs

        runs = []
        for run_id in run_ids:
            summary = self.summary(run_id)
            verdict = self.verdict_json(run_id)
            verdict.pop("id", None)
            runs.append(
                ExportRun(
                    run_id,
                    summary.time,
                    self.saved_session(run_id),
                    verdict,
                    summary.model,
                    summary.base_url,
                    summary.profile,
                    summary.notes,
                    summary.tags,
                )
            )
        return export_runs(runs, fmt)

    # --- editing --------------------------------------------------------------------------

    def set_notes(self, run_id: int, notes: str) -> None:
        self.db.execute("UPDATE runs SET notes = ? WHERE id = ?", (notes, run_id))

    def add_tags(self, run_id: int, *tags: str) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)",
            [(run_id, t.strip()) for t in tags if t.strip()],
        )

    def remove_tags(self, run_id: int, *tags: str) -> None:
        self.db.executemany(
            "DELETE FROM tags WHERE run_id = ? AND tag = ?", [(run_id, t) for t in tags]
        )

    def new_compare_group(self) -> int:
        """A compare group id never handed out before (a race's runs share one); taken by
        an insert, so two processes racing for one get two."""
        group = self.db.execute("INSERT INTO compare_groups DEFAULT VALUES").lastrowid
        assert group is not None
        return group

    def set_compare_group(self, run_ids: list[int], group: int | None) -> None:
        self.db.executemany(
            "UPDATE runs SET compare_group = ? WHERE id = ?", [(group, i) for i in run_ids]
        )

    def delete(self, run_ids: list[int]) -> int:
        """Delete runs (their attempts, chunks and tags go with them); returns how many."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            deleted = sum(
                self.db.execute("DELETE FROM runs WHERE id = ?", (i,)).rowcount for i in run_ids
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return deleted

    def vacuum(self) -> None:
        self.db.execute("VACUUM")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def apply_retention(self, retention: Retention) -> int:
        """Delete finished runs past the bounds (never one still recording)."""
        doomed: list[int] = []
        if retention.days is not None:
            cutoff = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - retention.days * 86400)
            )
            doomed += [
                r[0]
                for r in self.db.execute(
                    "SELECT id FROM runs WHERE started < ? AND state != 'recording'", (cutoff,)
                )
            ]
        if retention.max_bytes is not None:
            total = self.db.execute("SELECT coalesce(sum(size_bytes), 0) FROM runs").fetchone()[0]
            if total > retention.max_bytes:
                rows = self.db.execute(
                    "SELECT id, size_bytes FROM runs WHERE state != 'recording' "
                    "ORDER BY started, id"
                )
                for run_id, size in rows:  # the days' victims count as freed on the way
                    if total <= retention.max_bytes:
                        break
                    if run_id not in doomed:
                        doomed.append(run_id)
                    total -= size
        return self.delete(doomed) if doomed else 0

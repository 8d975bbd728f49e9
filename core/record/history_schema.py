"""The history store's schema: versioned with `PRAGMA user_version`, migrated forward in one
transaction per step. A store written by a newer version is refused before anything is
written to it (it is opened read-only to look)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

__all__ = ["SCHEMA_VERSION", "HistoryError", "check_version", "connect", "migrate"]


class HistoryError(Exception):
    """The store cannot be used: the message says why in one line."""


_V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,              -- ISO 8601 UTC
    finished TEXT,
    state TEXT NOT NULL,                -- recording | finished | interrupted
    writer_pid INTEGER,                 -- the process recording it (crash detection)
    source TEXT NOT NULL,               -- probe | window | compare | import
    dialect TEXT NOT NULL DEFAULT '',
    base_url TEXT NOT NULL DEFAULT '',
    profile TEXT,
    model TEXT NOT NULL DEFAULT '',
    outcome TEXT,
    detail TEXT,
    warnings TEXT NOT NULL DEFAULT '',  -- space-separated
    ttft_ms REAL,
    tokens_per_s REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    total_ms REAL,
    cost_usd REAL,                      -- filled once pricing exists (compare issue)
    compare_group INTEGER,
    notes TEXT NOT NULL DEFAULT '',
    size_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_time ON runs (started DESC, id DESC);
CREATE INDEX runs_by_state ON runs (state) WHERE state = 'recording';
CREATE INDEX runs_by_model ON runs (model);
CREATE INDEX runs_by_outcome ON runs (outcome);
CREATE INDEX runs_by_profile ON runs (profile);
CREATE INDEX runs_by_group ON runs (compare_group) WHERE compare_group IS NOT NULL;

-- the long texts apart, so the list reads narrow rows
CREATE TABLE run_texts (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    prompt TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '',
    verdict TEXT                        -- the session's verdict JSON (what probe --json prints)
);

CREATE TABLE attempts (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,               -- order within the run's session
    attempt INTEGER NOT NULL,
    segment INTEGER NOT NULL,
    header TEXT NOT NULL,               -- the saved-run header line (request key-masked)
    end_line TEXT,                      -- the saved-run end line; NULL while streaming or cut
    PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;

CREATE TABLE chunks (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    t_ns INTEGER NOT NULL,              -- since the attempt's t0
    data BLOB NOT NULL,
    PRIMARY KEY (run_id, idx, seq)
) WITHOUT ROWID;

CREATE TABLE tags (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE runs_fts USING fts5 (
    prompt, answer, content = 'run_texts', content_rowid = 'run_id', tokenize = 'unicode61'
);
CREATE TRIGGER runs_fts_insert AFTER INSERT ON run_texts BEGIN
    INSERT INTO runs_fts (rowid, prompt, answer) VALUES (new.run_id, new.prompt, new.answer);
END;
CREATE TRIGGER runs_fts_delete AFTER DELETE ON run_texts BEGIN
    INSERT INTO runs_fts (runs_fts, rowid, prompt, answer)
    VALUES ('delete', old.run_id, old.prompt, old.answer);
END;
CREATE TRIGGER runs_fts_update AFTER UPDATE OF prompt, answer ON run_texts BEGIN
    INSERT INTO runs_fts (runs_fts, rowid, prompt, answer)
    VALUES ('delete', old.run_id, old.prompt, old.answer);
    INSERT INTO runs_fts (rowid, prompt, answer) VALUES (new.run_id, new.prompt, new.answer);
END;
"""

# Compare group ids handed out by an insert, so two writers (the window's engine and a CLI
# compare) never take the same one; they were max + 1 over the runs, which both could read
# before either wrote. The groups already used are registered first.
_V2 = """
CREATE TABLE compare_groups (id INTEGER PRIMARY KEY AUTOINCREMENT);
INSERT INTO compare_groups (id)
    SELECT DISTINCT compare_group FROM runs WHERE compare_group IS NOT NULL ORDER BY 1;
"""


# version → the script that brings the store from version-1 to it
def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    """Statement by statement inside the caller's transaction (`executescript` would commit)."""

    def apply(db: sqlite3.Connection) -> None:
        pending = ""
        for line in sql.splitlines(keepends=True):
            pending += line
            if sqlite3.complete_statement(pending):
                db.execute(pending)
                pending = ""

    return apply


# An end line or a session verdict over `BIG_JSON` characters is kept as a zlib-compressed
# BLOB (`history_recorder.pack_json`): no table changes, but an older StreamScope would read
# such a value as broken JSON, so it must refuse the store.
_V3 = ""

MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _script(_V1),
    2: _script(_V2),
    3: _script(_V3),
}
SCHEMA_VERSION = max(MIGRATIONS)


def check_version(path: Path) -> int:
    """The store's schema version, read without writing; refuses a newer one."""
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"{path} is not a StreamScope history store ({exc})") from None
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{path} was written by a newer StreamScope (history schema {version}; this "
            f"version reads up to {SCHEMA_VERSION}); it was left untouched: upgrade "
            "StreamScope, or set STREAMSCOPE_DATA to another directory"
        )
    return version


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at each checkpoint, never torn
    db.execute("PRAGMA foreign_keys = ON")
    return db


def migrate(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:  # another process upgraded it meanwhile
            raise HistoryError(
                f"the history store was upgraded to schema {version} by a newer StreamScope"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[target](db)
            db.execute(f"PRAGMA user_version = {target}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise

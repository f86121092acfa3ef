"""SQLite audit store: the embedded default at ``$WARDEN_HOME/audit.db``.

* WAL journal: readers (``warden audit tail --follow``) never block writers.
* ``synchronous=FULL``: the WAL is fsynced at every commit, so an event that ``append``
  acknowledged survives a crash or power loss.
* ``BEGIN IMMEDIATE`` takes the write lock *before* the chain head is read, and
  ``busy_timeout`` makes other hook processes wait for it instead of failing: the chain is a
  strict sequence however many processes append at once.
* ``application_id`` marks the file as Warden's, so a foreign or corrupted database is refused
  with a clear error instead of being "repaired" or written into.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from warden.adapters.store.base import APP_NAME, SCHEMA, SqlAuditStore, StoreError, StoreOptions
from warden.adapters.store.keyring import AuditKeys

APPLICATION_ID = 0x57415244  # "WARD"
BUSY_TIMEOUT_S = 30.0

_DDL = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL, key_id TEXT NOT NULL,
  body TEXT NOT NULL, segment INTEGER NOT NULL,
  kind TEXT NOT NULL, event_id TEXT NOT NULL, ts TEXT NOT NULL, session TEXT NOT NULL, agent TEXT NOT NULL,
  tool TEXT NOT NULL, decision TEXT NOT NULL, rules TEXT NOT NULL, subject TEXT NOT NULL,
  tool_use_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON events (session, seq);
CREATE INDEX IF NOT EXISTS events_session_tool ON events (session, tool, seq);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_event_id ON events (event_id);
CREATE INDEX IF NOT EXISTS events_tool_use_id ON events (tool_use_id);
CREATE INDEX IF NOT EXISTS events_segment ON events (segment, seq);
CREATE TABLE IF NOT EXISTS segments (
  id INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER, opened_at TEXT NOT NULL,
  closed_at TEXT, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  seq INTEGER NOT NULL, hash TEXT NOT NULL, segment INTEGER NOT NULL, created_at TEXT NOT NULL,
  reason TEXT NOT NULL, public_key TEXT NOT NULL, signature TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_seq ON checkpoints (seq);
CREATE TABLE IF NOT EXISTS policies (digest TEXT PRIMARY KEY, sources TEXT NOT NULL, texts TEXT NOT NULL,
  first_seen TEXT NOT NULL);
"""


LATER_INDEXES = "CREATE INDEX IF NOT EXISTS events_session_tool ON events (session, tool, seq)"


def _explain(exc: sqlite3.Error, path: Path) -> str:
    msg = str(exc)
    if "disk is full" in msg or "database or disk is full" in msg:
        return f"audit log {path} cannot grow: the disk is full. Free space; nothing already written was lost"
    if "not a database" in msg or "malformed" in msg:
        return (f"{path} is not a readable Warden audit database ({msg}). Move it aside (keep it as "
                "evidence); the next decision then starts a new log")
    if "locked" in msg or "busy" in msg:
        return f"audit log {path} stayed locked for {BUSY_TIMEOUT_S:.0f}s by another process ({msg})"
    if "readonly" in msg or "unable to open" in msg:
        return f"audit log {path} cannot be opened for writing ({msg}); check permissions of the file and folder"
    return f"audit log {path}: {msg}"


class SQLiteAuditStore(SqlAuditStore):
    ph = "?"

    def __init__(self, path: str | os.PathLike[str], keys: AuditKeys | None,
                 options: StoreOptions | None = None, *, create: bool = True) -> None:
        self.path = Path(path)
        opts = options or StoreOptions()
        if opts.checkpoint_file is None:
            opts.checkpoint_file = self.path.with_name(self.path.name + ".checkpoints.jsonl")
        if opts.head_file is None:
            opts.head_file = self.path.with_name(self.path.name + ".head")
        super().__init__(keys, opts)
        self.location = str(self.path)
        if not create and not self.path.exists():
            raise StoreError(f"no audit log at {self.path}; run a decision first or pass --db")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                # The log holds commands and paths: private from the first byte (SQLite gives its
                # -wal and -shm files the database file's mode).
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(_explain(exc, self.path) if isinstance(exc, sqlite3.Error)
                             else f"cannot open audit log {self.path}: {exc}") from None
        try:
            self._init_schema()
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreError(_explain(exc, self.path)) from None
        except StoreError:
            self._conn.close()
            raise

    def _init_schema(self) -> None:
        c = self._conn
        c.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        c.execute("BEGIN")  # one snapshot: another process may be creating the schema right now
        try:
            app_id = c.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            c.execute("COMMIT")
        except sqlite3.Error:
            self._rollback()
            raise
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
            raise StoreError(f"{self.path} is an SQLite database of another application (application_id={app_id}, "
                             f"tables={sorted(tables)[:5]}); refusing to write into it. Point --db or "
                             "$WARDEN_HOME at a Warden audit log")
        if c.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA synchronous = FULL")
        if app_id == 0:
            c.execute("BEGIN IMMEDIATE")
            try:
                # Re-check under the lock: another process may have created the schema meanwhile.
                if c.execute("PRAGMA application_id").fetchone()[0] == 0:
                    for stmt in _DDL.split(";"):
                        if stmt.strip():
                            c.execute(stmt)
                    c.execute("INSERT INTO meta (k, v) VALUES ('app', ?), ('schema', ?) ON CONFLICT (k) DO NOTHING",
                              (APP_NAME, str(SCHEMA)))
                    c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    c.execute(f"PRAGMA user_version = {SCHEMA}")
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        else:
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA:
                raise StoreError(f"{self.path} uses audit schema {version}; this Warden knows {SCHEMA}. Upgrade Warden")
            if "events" not in tables:
                raise StoreError(f"{self.path} is marked as a Warden audit log but has no events table: it is "
                                 "damaged. Move it aside and keep it as evidence")
            try:  # added after schema 1 shipped: an approval card finds a session's prompt without a scan
                c.execute(LATER_INDEXES)
            except sqlite3.Error:
                pass  # a read-only copy: only slower

    @contextmanager
    def _write(self) -> Iterator[Any]:
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(_explain(exc, self.path)) from None
        try:
            yield cur
            cur.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreError(_explain(exc, self.path)) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    @contextmanager
    def _read(self) -> Iterator[Any]:
        cur = self._conn.cursor()
        try:
            yield cur
        except sqlite3.Error as exc:
            raise StoreError(_explain(exc, self.path)) from None

    def close(self) -> None:
        self._conn.close()

"""SQLite state store: ``$WARDEN_HOME/state.db``, the local default.

WAL journal with ``synchronous=NORMAL``: commits are atomic and ordered, and a power cut can
lose at most the last few counter increments (never half a transaction). Writers take
``BEGIN IMMEDIATE`` so a read-modify-write (a vote, a once-grant use, a counter) holds the
write lock from its first read. A short ``busy_timeout`` keeps a hook from hanging on a store
another process holds: it then fails closed with a message saying so.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from warden.adapters.state.base import APP, SCHEMA, SqlStateStore, iter_statements
from warden.adapters.state.notify import Notifier
from warden.ports import StateError

APPLICATION_ID = 0x57535431  # "WST1"
BUSY_TIMEOUT_S = 5.0


def _explain(exc: BaseException, path: Path) -> str:
    msg = str(exc)
    if "locked" in msg or "busy" in msg:
        return f"state store {path} stayed locked for {BUSY_TIMEOUT_S:.0f}s by another process ({msg})"
    if "readonly" in msg or "unable to open" in msg:
        return f"state store {path} cannot be written ({msg}); check the permissions of the file and folder"
    if "not a database" in msg or "malformed" in msg:
        return (f"{path} is not a readable Warden state store ({msg}); move it aside (it holds approvals and "
                "kill switches, keep it for review) and Warden starts a new one")
    return f"state store {path}: {msg}"


class SQLiteStateStore(SqlStateStore):
    def __init__(self, path: str | os.PathLike[str], key: bytes) -> None:
        super().__init__(key)
        self.path = Path(path)
        self.location = str(self.path)
        self._notifier = Notifier(self.path.parent / "notify")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
            self._init()
        except (sqlite3.Error, OSError) as exc:
            raise StateError(_explain(exc, self.path)) from None

    def _init(self) -> None:
        c = self._conn
        c.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        app_id = c.execute("PRAGMA application_id").fetchone()[0]
        if app_id == APPLICATION_ID:
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA:
                raise StateError(f"{self.path} uses state schema {version}; this Warden knows {SCHEMA}: upgrade")
        else:
            tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            if app_id != 0 or (tables and "requests" not in tables):
                raise StateError(f"{self.path} is a database of another application; refusing to use it as "
                                 "Warden's state store")
        if c.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA synchronous = NORMAL")
        # checkpoints (which fsync) every ~40 MB of WAL instead of 4 MB: fewer stalls on the hot path
        c.execute("PRAGMA wal_autocheckpoint = 10000")
        if app_id == 0:
            c.execute("BEGIN IMMEDIATE")
            try:
                for stmt in iter_statements():
                    c.execute(stmt)
                c.execute("INSERT INTO meta (k, v) VALUES ('app', ?) ON CONFLICT (k) DO NOTHING", (APP,))
                c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                c.execute(f"PRAGMA user_version = {SCHEMA}")
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StateError(_explain(exc, self.path)) from None
        try:
            yield cur
            cur.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise StateError(_explain(exc, self.path)) from None
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
            raise StateError(_explain(exc, self.path)) from None

    def _notify(self) -> None:
        self._notifier.notify()

    def _wait_change(self, timeout: float) -> None:
        self._notifier.wait(timeout)

    def listen(self) -> None:
        """Start receiving wake-ups now (before reading the state you then wait on)."""
        self._notifier.listen()

    def close(self) -> None:
        self._notifier.close()
        self._conn.close()

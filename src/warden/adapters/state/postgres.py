"""PostgreSQL state store (psycopg 3): the same port for a team server.

Tables live in a schema (``?schema=NAME`` in the URL, default ``warden``). Every write
transaction first takes a transaction-scoped advisory lock for the schema, so a vote, a
once-grant use or a counter increment is serialized across processes and hosts exactly like
SQLite's ``BEGIN IMMEDIATE``. Changes are announced with ``NOTIFY``; waiters ``LISTEN`` on a
second connection and wake within milliseconds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import urlsplit

from warden.adapters.state.base import APP, SqlStateStore, iter_statements
from warden.ports import StateError


def split_schema(url: str) -> tuple[str, str]:
    from warden.adapters.store.base import StoreError
    from warden.adapters.store.postgres import _split_schema

    try:
        return _split_schema(url)
    except StoreError as exc:
        raise StateError(str(exc).replace("audit DB", "state DB")) from None


class _Cursor:
    """A psycopg cursor that takes the ``?`` placeholders the shared SQL is written with."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> None:
        self._cur.execute(sql.replace("?", "%s"), args)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


class PostgresStateStore(SqlStateStore):
    def __init__(self, url: str, key: bytes) -> None:
        super().__init__(key)
        try:
            import psycopg
        except ImportError:
            raise StateError("a PostgreSQL state store needs psycopg: pip install 'warden[postgres]'") from None
        self._psycopg = psycopg
        self._conninfo, self.schema = split_schema(url)
        parts = urlsplit(self._conninfo)
        port = f":{parts.port}" if parts.port else ""
        self.location = f"postgresql://{parts.hostname or ''}{port}{parts.path} (schema {self.schema})"
        self._lock_id = int.from_bytes(hashlib.sha256(f"warden-state:{self.schema}".encode()).digest()[:8],
                                       "big", signed=True)
        self._channel = f"warden_state_{self.schema}"[:63]
        self._listener: Any = None
        try:
            self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10)
            self._conn.execute(f"SET search_path TO {self.schema}, public")
            self._init()
        except psycopg.Error as exc:
            raise StateError(f"PostgreSQL state store {self.location}: {str(exc).strip()}") from None

    def _init(self) -> None:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_id,))
            self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            for stmt in iter_statements(f"{self.schema}."):
                # index names are schema-local: strip the prefix there
                self._conn.execute(re.sub(rf"INDEX IF NOT EXISTS {self.schema}\.", "INDEX IF NOT EXISTS ", stmt))
            row = self._conn.execute("SELECT v FROM meta WHERE k = 'app'").fetchone()
            if row is None:
                self._conn.execute("INSERT INTO meta (k, v) VALUES ('app', %s)", (APP,))
            elif row[0] != APP:
                raise StateError(f"schema {self.schema} belongs to {row[0]!r}, not a Warden state store")

    def _error(self, exc: Exception) -> StateError:
        return StateError(f"PostgreSQL state store {self.location}: {str(exc).strip()}")

    @contextmanager
    def _tx(self, wait_for_flush: bool = True) -> Iterator[Any]:
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                if wait_for_flush:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_id,))
                else:  # SET LOCAL synchronous_commit TO off, in the same round trip as the lock
                    cur.execute("SELECT pg_advisory_xact_lock(%s), set_config('synchronous_commit', 'off', true)",
                                (self._lock_id,))
                yield _Cursor(cur)
        except self._psycopg.Error as exc:
            raise self._error(exc) from None

    def _counter_tx(self) -> AbstractContextManager[Any]:
        # like the SQLite store's synchronous=NORMAL: the commit does not wait for the WAL flush, so a
        # power cut may lose the last few counter increments (never half a transaction); one per decision
        return self._tx(wait_for_flush=False)

    @contextmanager
    def _read(self) -> Iterator[Any]:
        try:
            with self._conn.cursor() as cur:
                yield _Cursor(cur)
        except self._psycopg.Error as exc:
            raise self._error(exc) from None

    def _notify(self) -> None:
        try:
            self._conn.execute(f"NOTIFY {self._channel}")
        except self._psycopg.Error:
            pass  # waiters re-read the store every 0.5 s anyway

    def listen(self) -> None:
        if self._listener is None:
            try:
                self._listener = self._psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10)
                self._listener.execute(f"LISTEN {self._channel}")
            except self._psycopg.Error as exc:
                raise self._error(exc) from None

    def _wait_change(self, timeout: float) -> None:
        self.listen()
        try:
            for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                break
        except self._psycopg.Error as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._conn.close()

    def drop(self) -> None:
        self._conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

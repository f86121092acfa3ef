"""PostgreSQL audit store (psycopg 3) for a team server: same port, same chain, same verifier.

Writers serialize on a transaction-scoped advisory lock taken before the head is read, so any
number of processes or hosts append to one strict chain. ``synchronous_commit`` is forced
``on`` for our transactions: ``append`` returns only after the commit is flushed to the WAL.
Tables live in a schema (default ``warden``; ``?schema=NAME`` in the URL) so one database can
hold the log next to other applications without confusing the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from warden.adapters.store.base import APP_NAME, SCHEMA, SqlAuditStore, StoreError, StoreOptions
from warden.adapters.store.keyring import AuditKeys

_LOCK_ID = 0x5741524400000001  # advisory lock key: "WARD" + 1

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.events (
  seq BIGINT PRIMARY KEY,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL, key_id TEXT NOT NULL,
  body TEXT NOT NULL, segment BIGINT NOT NULL,
  kind TEXT NOT NULL, event_id TEXT NOT NULL, ts TEXT NOT NULL, session TEXT NOT NULL, agent TEXT NOT NULL,
  tool TEXT NOT NULL, decision TEXT NOT NULL, rules TEXT NOT NULL, subject TEXT NOT NULL,
  tool_use_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON {s}.events (session, seq);
CREATE INDEX IF NOT EXISTS events_session_tool ON {s}.events (session, tool, seq);
CREATE INDEX IF NOT EXISTS events_ts ON {s}.events (ts);
CREATE INDEX IF NOT EXISTS events_event_id ON {s}.events (event_id);
CREATE INDEX IF NOT EXISTS events_tool_use_id ON {s}.events (tool_use_id);
CREATE INDEX IF NOT EXISTS events_segment ON {s}.events (segment, seq);
CREATE TABLE IF NOT EXISTS {s}.segments (
  id BIGINT PRIMARY KEY, first_seq BIGINT NOT NULL, last_seq BIGINT, opened_at TEXT NOT NULL,
  closed_at TEXT, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.checkpoints (
  seq BIGINT NOT NULL, hash TEXT NOT NULL, segment BIGINT NOT NULL, created_at TEXT NOT NULL,
  reason TEXT NOT NULL, public_key TEXT NOT NULL, signature TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_seq ON {s}.checkpoints (seq);
CREATE TABLE IF NOT EXISTS {s}.policies (digest TEXT PRIMARY KEY, sources TEXT NOT NULL, texts TEXT NOT NULL,
  first_seen TEXT NOT NULL);
"""


def _split_schema(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), "warden")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise StoreError(f"invalid schema name {schema!r} in the audit DB URL: use lowercase letters, digits, _")
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresAuditStore(SqlAuditStore):
    ph = "%s"

    def __init__(self, url: str, keys: AuditKeys | None, options: StoreOptions | None = None) -> None:
        super().__init__(keys, options or StoreOptions())
        try:
            import psycopg
        except ImportError:
            raise StoreError("PostgreSQL audit logs need psycopg: pip install 'warden[postgres]'") from None
        self._psycopg = psycopg
        conninfo, self.schema = _split_schema(url)
        parts = urlsplit(conninfo)  # shown in messages: never echo a password
        port = f":{parts.port}" if parts.port else ""
        self.location = f"postgresql://{parts.hostname or ''}{port}{parts.path} (schema {self.schema})"
        try:
            self._conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
            self._conn.execute(f"SET search_path TO {self.schema}")
            self._init_schema()
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL audit log {self.location}: {str(exc).strip()}") from None

    def _init_schema(self) -> None:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            for stmt in _DDL.format(s=self.schema).split(";"):
                if stmt.strip():
                    self._conn.execute(stmt)
            row = self._conn.execute("SELECT v FROM meta WHERE k = 'app'").fetchone()
            if row is None:
                if self._conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None:
                    raise StoreError(f"schema {self.schema} holds an events table that is not Warden's")
                self._conn.execute("INSERT INTO meta (k, v) VALUES ('app', %s), ('schema', %s)", (APP_NAME, str(SCHEMA)))
            elif row[0] != APP_NAME:
                raise StoreError(f"schema {self.schema} belongs to {row[0]!r}, not a Warden audit log")

    @contextmanager
    def _write(self) -> Iterator[Any]:
        psycopg = self._psycopg
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit TO on")
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
                yield cur
        except psycopg.errors.DiskFull as exc:
            raise StoreError(f"PostgreSQL audit log {self.location} is out of disk space: {exc}") from None
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL audit log {self.location}: {str(exc).strip()}") from None

    @contextmanager
    def _read(self) -> Iterator[Any]:
        try:
            with self._conn.cursor() as cur:
                yield cur
        except self._psycopg.Error as exc:
            raise StoreError(f"PostgreSQL audit log {self.location}: {str(exc).strip()}") from None

    def close(self) -> None:
        self._conn.close()

    def drop(self) -> None:
        """Remove the whole log (tests and `warden audit` never call this on their own)."""
        self._conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

"""API keys of the team server: hashed at rest, scoped by role, revocable, expiring.

Keys look like ``wk_<id>_<secret>``; only SHA-256(secret) is stored, so a database dump gives no
usable key. The table lives beside the state store (SQLite under ``$WARDEN_HOME`` or PostgreSQL),
created and upgraded by numbered migrations (:data:`MIGRATIONS`), applied in place at start-up.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

ROLES = ("agent", "developer", "approver", "auditor", "admin")

# Ordered, append-only: a deployed server at version N runs N+1.. at its next start.
MIGRATIONS: list[str] = [
    """CREATE TABLE IF NOT EXISTS api_keys (
         id TEXT PRIMARY KEY, digest TEXT NOT NULL, owner TEXT NOT NULL, role TEXT NOT NULL,
         created REAL NOT NULL, expires REAL, revoked REAL, label TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS machines (
         id TEXT PRIMARY KEY, owner TEXT NOT NULL, last_seen REAL NOT NULL, version TEXT NOT NULL DEFAULT '',
         doctor TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS ingested (event_id TEXT PRIMARY KEY, machine TEXT NOT NULL, at REAL NOT NULL)""",
    # the central policy, every version kept (warden.server.policy_store)
    """CREATE TABLE IF NOT EXISTS central_policy (seq INTEGER PRIMARY KEY, version TEXT NOT NULL, text TEXT NOT NULL,
         at REAL NOT NULL, by_who TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '')""",
    # the team a key's owner belongs to: the approval queue and dashboard filter by it
    "ALTER TABLE api_keys ADD COLUMN team TEXT NOT NULL DEFAULT ''",
]


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def connect(url: str) -> Any:
    """An autocommit connection to the server's own tables: SQLite path, or postgresql://...?schema=NAME."""
    if is_postgres(url):
        import psycopg

        base, _, query = url.partition("?")
        schema = next((part[7:] for part in query.split("&") if part.startswith("schema=")), "")
        pg = psycopg.connect(base, autocommit=True)
        if schema:
            pg.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            pg.execute(f'SET search_path TO "{schema}"')
        return pg
    db = sqlite3.connect(url, check_same_thread=False, isolation_level=None, timeout=10)
    db.execute("PRAGMA journal_mode=WAL")
    return db


class KeyError_(Exception):
    """A key was refused (unknown, revoked, expired, malformed)."""


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    owner: str  # the person or machine the key was issued to
    role: str

    def can(self, *roles: str) -> bool:
        return self.role in roles or self.role == "admin"


class KeyStore:
    """Keys and machines; thread-safe; ``url`` is a SQLite path or a postgresql:// URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self.pg = is_postgres(url)
        self._db: Any = connect(url)
        self.migrate()

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> builtins.list[tuple[Any, ...]]:
        with self._lock:
            cur = self._db.execute(self._q(sql), args)
            try:
                return list(cur.fetchall())
            except Exception:  # noqa: BLE001 — statements without rows
                return []

    def migrate(self) -> int:
        """Apply pending migrations in order; returns the schema version now in force."""
        self.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        rows = self.execute("SELECT version FROM schema_version")
        version = rows[0][0] if rows else 0
        if not rows:
            self.execute("INSERT INTO schema_version (version) VALUES (0)")
        for n, sql in enumerate(MIGRATIONS[version:], start=version + 1):
            self.execute(sql)
            self.execute("UPDATE schema_version SET version = ?", (n,))
        return len(MIGRATIONS)

    # -- keys ------------------------------------------------------------------------------------
    def create(self, owner: str, role: str, *, ttl_s: float | None = None, label: str = "",
               team: str = "") -> tuple[str, str]:
        """(key id, the key itself — shown once)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        team = team.strip()
        if len(team) > 100 or any(not (c.isalnum() or c in "-_. ") for c in team):
            raise ValueError("team must be at most 100 letters, digits, spaces, '-', '_' or '.'")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        now = time.time()
        self.execute("INSERT INTO api_keys (id, digest, owner, role, created, expires, revoked, label, team) "
                     "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                     (key_id, _digest(secret), owner, role, now, now + ttl_s if ttl_s else None, label, team))
        return key_id, f"wk_{key_id}_{secret}"

    def check(self, token: str) -> Principal:
        if not token.startswith("wk_") or token.count("_") < 2:
            raise KeyError_("not a Warden server key (wk_...)")
        _, key_id, secret = token.split("_", 2)
        rows = self.execute("SELECT digest, owner, role, expires, revoked FROM api_keys WHERE id = ?", (key_id,))
        if not rows:
            raise KeyError_("unknown key")
        digest, owner, role, expires, revoked = rows[0]
        if not hmac.compare_digest(digest, _digest(secret)):
            raise KeyError_("unknown key")
        if revoked:
            raise KeyError_("this key was revoked")
        if expires is not None and expires < time.time():
            raise KeyError_("this key has expired")
        return Principal(key_id, owner, role)

    def revoke(self, key_id: str) -> bool:
        found = self.execute("SELECT id FROM api_keys WHERE id = ? AND revoked IS NULL", (key_id,))
        self.execute("UPDATE api_keys SET revoked = ? WHERE id = ?", (time.time(), key_id))
        return bool(found)

    def list(self) -> builtins.list[dict[str, Any]]:
        rows = self.execute("SELECT id, owner, role, created, expires, revoked, label, team FROM api_keys "
                            "ORDER BY created")
        return [{"id": r[0], "owner": r[1], "role": r[2], "created": r[3], "expires": r[4], "revoked": r[5],
                 "label": r[6], "team": r[7]} for r in rows]

    def teams(self) -> tuple[dict[str, str], dict[str, str]]:
        """(key id -> team, owner -> team; an owner's newest key with a team decides), for the UI's filters."""
        by_key: dict[str, str] = {}
        by_owner: dict[str, str] = {}
        for key_id, owner, team in self.execute("SELECT id, owner, team FROM api_keys WHERE team <> '' "
                                                "ORDER BY created"):
            by_key[key_id] = team
            by_owner[owner] = team
        return by_key, by_owner

    # -- machines and ingest -----------------------------------------------------------------------
    def seen(self, machine: str, owner: str, version: str = "", doctor: str | None = None) -> None:
        now = time.time()
        rows = self.execute("SELECT id FROM machines WHERE id = ?", (machine,))
        if rows:
            if doctor is None and not version:  # an event batch: keep the version the last report gave
                self.execute("UPDATE machines SET last_seen = ? WHERE id = ?", (now, machine))
            elif doctor is None:
                self.execute("UPDATE machines SET last_seen = ?, version = ? WHERE id = ?", (now, version, machine))
            else:
                self.execute("UPDATE machines SET last_seen = ?, version = ?, doctor = ? WHERE id = ?",
                             (now, version, doctor, machine))
        else:
            self.execute("INSERT INTO machines (id, owner, last_seen, version, doctor) VALUES (?, ?, ?, ?, ?)",
                         (machine, owner, now, version, doctor or ""))

    def machines(self) -> builtins.list[dict[str, Any]]:
        rows = self.execute("SELECT id, owner, last_seen, version, doctor FROM machines ORDER BY id")
        return [{"id": r[0], "owner": r[1], "last_seen": r[2], "version": r[3], "doctor": r[4]} for r in rows]

    def first_ingest(self, event_id: str, machine: str) -> bool:
        """True the first time an event id arrives (exactly-once in the central store)."""
        try:
            self.execute("INSERT INTO ingested (event_id, machine, at) VALUES (?, ?, ?)", (event_id, machine, time.time()))
            return True
        except Exception:  # noqa: BLE001 — unique violation: a replay
            return False

    def first_ingest_many(self, event_ids: builtins.list[str], machine: str) -> set[str]:
        """The ids seen for the first time, recorded in one transaction (a batch costs one commit)."""
        if not event_ids:
            return set()
        now = time.time()
        with self._lock:
            if self.pg:
                with self._db.transaction():
                    cur = self._db.execute(
                        "INSERT INTO ingested (event_id, machine, at) SELECT x, %s, %s FROM unnest(%s::text[]) AS x "
                        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id", (machine, now, list(event_ids)))
                    return {r[0] for r in cur.fetchall()}
            fresh: set[str] = set()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for eid in dict.fromkeys(event_ids):
                    cur = self._db.execute("INSERT OR IGNORE INTO ingested (event_id, machine, at) VALUES (?, ?, ?)",
                                           (eid, machine, now))
                    if cur.rowcount:
                        fresh.add(eid)
                self._db.execute("COMMIT")
            except Exception:
                self._db.execute("ROLLBACK")
                raise
            return fresh

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()

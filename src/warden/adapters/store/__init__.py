"""Audit stores: :func:`open_store` picks SQLite (default) or PostgreSQL from a path or URL."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from warden.adapters.store.base import Filters, SqlAuditStore, StoreError, StoreOptions
from warden.adapters.store.keyring import MAC_KEY, AuditKeys, AuditKeyError, MissingKeyError

__all__ = ["Filters", "SqlAuditStore", "StoreError", "StoreOptions", "default_db_path", "open_store",
           "options_from_env"]

KeyMode = Literal["create", "require", "optional"]


def default_db_path(warden_home: str | os.PathLike[str]) -> Path:
    return Path(warden_home) / "audit.db"


def options_from_env(environ: Mapping[str, str]) -> StoreOptions:
    def num(name: str, default: int) -> int:
        raw = environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise StoreError(f"${name} must be a whole number, got {raw!r}") from None
        if value < 0:
            raise StoreError(f"${name} must be >= 0, got {value}")
        return value

    return StoreOptions(checkpoint_every=num("WARDEN_AUDIT_CHECKPOINT_EVERY", 1000),
                        segment_events=num("WARDEN_AUDIT_SEGMENT_EVENTS", 0))


def open_store(url_or_path: str | os.PathLike[str] | None, warden_home: str | os.PathLike[str], *,
               keys: KeyMode = "create", options: StoreOptions | None = None,
               create: bool = True) -> SqlAuditStore:
    """Open the audit log.

    ``keys="create"`` (writers): create the MAC key on first use, but refuse to append to a log that
    already has events when its key is missing or different — a new key would silently split the
    evidence. ``"require"``: the key must exist. ``"optional"``: open read-only without it.
    """
    home = Path(warden_home)
    target = str(url_or_path) if url_or_path else str(default_db_path(home))
    if target.startswith("sqlite:///"):
        target = target[len("sqlite://"):]
    try:
        audit_keys: AuditKeys | None = AuditKeys.load(home, create=False)
    except MissingKeyError:
        audit_keys = None
    except AuditKeyError as exc:
        raise StoreError(f"{exc}. The audit log cannot be sealed or verified without it") from None

    store = _open(target, audit_keys, options, create=create)
    try:
        has_history = store.head().seq > 0
        if audit_keys is None and has_history:
            try:  # another process may have created the key and the first events meanwhile
                audit_keys = store.keys = AuditKeys.load(home, create=False)
            except MissingKeyError:
                pass
        if audit_keys is None:
            key_file = home / "keys" / f"{MAC_KEY}.key"
            if keys == "require" or (keys == "create" and has_history):
                raise StoreError(
                    f"the audit key {key_file} is missing but the log {store.location} already holds events. "
                    "Restore the key from your backup (events cannot be sealed or verified without it), or "
                    "point $WARDEN_HOME/--db at a new log")
            if keys == "create":
                store.keys = AuditKeys.load(home, create=True)
        elif has_history:
            last = store.last_key_id()
            if last is not None and last not in audit_keys.mac_keys and keys != "optional":
                raise StoreError(
                    f"the audit key in {home / 'keys'} (id {audit_keys.kid}) is not the key that sealed "
                    f"{store.location} (id {last}). Restore the original key file")
    except BaseException:
        store.close()
        raise
    return store


def _open(target: str, keys: AuditKeys | None, options: StoreOptions | None, *, create: bool) -> SqlAuditStore:
    if target.startswith(("postgresql://", "postgres://")):
        from warden.adapters.store.postgres import PostgresAuditStore

        return PostgresAuditStore(target, keys, options)
    from warden.adapters.store.sqlite import SQLiteAuditStore

    return SQLiteAuditStore(target, keys, options, create=create)

"""A state store that is corrupt, foreign, read-only or locked: a clear StateError, never a guess."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from warden.adapters.state import open_state
from warden.ports import StateError


def test_corrupt_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="not a readable Warden state store"):
        open_state(tmp_path, environ={})


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "state.db") as c:
        c.execute("CREATE TABLE users (name TEXT)")
    with pytest.raises(StateError, match="another application"):
        open_state(tmp_path, environ={})


def test_read_only_store_as_root_via_query_only(tmp_path: Path) -> None:
    s = open_state(tmp_path, environ={})
    s._conn.execute("PRAGMA query_only = ON")  # what a read-only mount looks like to SQLite
    with pytest.raises(StateError, match=r"cannot be written|readonly"):
        s.hit("k", 1e10, 0)
    s.close()


def test_locked_store_times_out_with_a_message(tmp_path: Path, monkeypatch) -> None:
    from warden.adapters.state import sqlite as mod

    monkeypatch.setattr(mod, "BUSY_TIMEOUT_S", 0.2)
    s = open_state(tmp_path, environ={})
    holder = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StateError, match="locked"):
            s.hit("k", 1e10, 0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        s.close()


def test_unreadable_key_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "state.key").write_text("not hex")
    with pytest.raises(StateError, match="state key"):
        open_state(tmp_path, environ={})

"""State stores (approvals, grants, kill switches, counters, taint): :func:`open_state` picks one.

``$WARDEN_STATE_DB`` (or the ``url`` argument) selects PostgreSQL with a ``postgresql://`` URL
(``?schema=NAME`` picks the schema); otherwise SQLite at ``$WARDEN_HOME/state.db``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from warden.adapters.state.base import SqlStateStore, new_id
from warden.ports import StateError

__all__ = ["SqlStateStore", "StateError", "new_id", "open_state", "state_key"]

KEY_FILE = "state.key"


def state_key(home: Path) -> bytes:
    """The HMAC key sealing approval rows; created (0600) on first use."""
    path = home / "keys" / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise StateError(f"the state key {path} is unreadable ({exc}); restore it or remove it to start over "
                         "(open approvals and grants are then refused)") from None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    try:
        os.link(tmp, path)  # first writer wins; others read its key
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return bytes.fromhex(path.read_text().strip())


def open_state(home: str | os.PathLike[str], url: str | None = None,
               environ: Mapping[str, str] | None = None) -> SqlStateStore:
    home = Path(home)
    env = os.environ if environ is None else environ
    target = url or env.get("WARDEN_STATE_DB", "").strip() or str(home / "state.db")
    key = state_key(home)
    if target.startswith(("postgresql://", "postgres://")):
        from warden.adapters.state.postgres import PostgresStateStore

        return PostgresStateStore(target, key)
    from warden.adapters.state.sqlite import SQLiteStateStore

    return SQLiteStateStore(target, key)

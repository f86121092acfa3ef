"""Model usage ledger: one row per model request, summed for budgets and `warden model-gateway usage`.

SQLite under ``$WARDEN_HOME/model-usage.db`` (WAL, 0600). Sums are taken per budget key at check
time, so concurrent gateways (or a restart) never lose or double a count: the ledger is the truth.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
  id INTEGER PRIMARY KEY,
  ts REAL NOT NULL,
  actor TEXT NOT NULL, agent TEXT NOT NULL, session TEXT NOT NULL,
  provider TEXT NOT NULL, model TEXT NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_actor ON usage(actor, ts);
CREATE INDEX IF NOT EXISTS usage_agent ON usage(agent, ts);
CREATE INDEX IF NOT EXISTS usage_session ON usage(session, ts);
"""

_COLUMN = {"actor": "actor", "agent": "agent", "session": "session"}


class UsageError(RuntimeError):
    """The ledger cannot be read or written: budgets cannot be enforced, so requests are refused."""


class UsageLedger:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fresh = not self.path.exists()
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10, isolation_level=None)
            if fresh:
                os.chmod(self.path, 0o600)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"cannot open the model usage ledger {self.path}: {exc}; check that "
                             "$WARDEN_HOME is writable") from None

    @classmethod
    def under(cls, warden_home: str | os.PathLike[str]) -> UsageLedger:
        return cls(Path(warden_home) / "model-usage.db")

    def add(self, *, actor: str, agent: str, session: str, provider: str, model: str,
            input_tokens: int, output_tokens: int, cost_usd: float, ts: float | None = None) -> None:
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO usage (ts, actor, agent, session, provider, model, input_tokens, output_tokens,"
                    " cost_usd) VALUES (?,?,?,?,?,?,?,?,?)",
                    (time.time() if ts is None else ts, actor, agent, session, provider, model,
                     int(input_tokens), int(output_tokens), float(cost_usd)))
        except sqlite3.Error as exc:
            raise UsageError(f"cannot record model usage: {exc}") from None

    def total(self, per: str, value: str, since: float) -> tuple[int, float]:
        """(tokens, cost) used since ``since`` by the actor/agent/session ``value`` (``per="all"``: everyone)."""
        where = "ts >= ?"
        args: list[Any] = [since]
        if per in _COLUMN:
            where += f" AND {_COLUMN[per]} = ?"
            args.append(value)
        try:
            with self._lock:
                row = self._db.execute(
                    f"SELECT COALESCE(SUM(input_tokens + output_tokens), 0), COALESCE(SUM(cost_usd), 0) "
                    f"FROM usage WHERE {where}", args).fetchone()
        except sqlite3.Error as exc:
            raise UsageError(f"cannot read model usage: {exc}") from None
        return int(row[0]), float(row[1])

    def summary(self, since: float = 0.0, group: str = "actor") -> list[dict[str, Any]]:
        col = {"actor": "actor", "agent": "agent", "session": "session", "model": "model"}.get(group, "actor")
        with self._lock:
            rows = self._db.execute(
                f"SELECT {col}, COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cost_usd) FROM usage "
                f"WHERE ts >= ? GROUP BY {col} ORDER BY SUM(input_tokens + output_tokens) DESC", (since,)).fetchall()
        return [{group: r[0], "requests": r[1], "input_tokens": r[2], "output_tokens": r[3],
                 "cost_usd": round(r[4], 6)} for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

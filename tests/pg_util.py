"""The shared PostgreSQL test server (127.0.0.1:5432, trust auth, db `test`) and whether it answers."""

from __future__ import annotations

PG = "postgresql://postgres@127.0.0.1:5432/test"


def pg_down() -> str | None:
    """None when the server answers, else why not (tests skip with that reason)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg not installed"
    try:
        psycopg.connect(PG, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG}: {str(exc).strip().splitlines()[0]}"
    return None

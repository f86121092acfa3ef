"""Helpers for the central-evidence tests and bench: a client home with a real local audit log, its link."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warden.adapters.audit import open_recorder
from warden.adapters.store import open_store
from warden.core.audit import session_event
from warden.integrations.server_client.config import ServerLink, save


def record(home: Path, n: int, *, session: str = "s", owner: str = "ann", chunk: int = 500,
           pause: float = 0.0, environ: dict[str, str] | None = None) -> list[str]:
    """Record ``n`` events in the home's local audit log (as hooks would, ``pause`` s apart per chunk)."""
    rec = open_recorder(home, environ or env(home))
    ids: list[str] = []
    try:
        for start in range(0, n, chunk):
            evs = [session_event(phase="start", session=session, started_at=time.time(),
                                 actor={"id": owner, "agent": "claude-code"}) for _ in range(min(chunk, n - start))]
            ids += rec.record_many(evs)
            time.sleep(pause)
    finally:
        rec.close()
    return ids


def login(home: Path, url: str, key: str, machine: str) -> ServerLink:
    """What `warden login` leaves behind: server.json with the URL, key and machine name."""
    link = ServerLink(url=url, key=key, machine=machine)
    save(home, link)
    return link


def env(home: Path) -> dict[str, str]:
    return {"WARDEN_HOME": str(home)}


def local_store(home: Path) -> Any:
    return open_store(None, home, keys="optional", create=False)


def central_url(srv: Any) -> str | None:
    """The server's own audit log: SQLite under its home, or the _audit schema next to its --db."""
    if not srv.db:
        return None
    base, _, query = srv.db.partition("?")
    schema = next(kv[7:] for kv in query.split("&") if kv.startswith("schema="))
    return f"{base}?schema={schema}_audit"


def central_events(srv: Any, machine: str | None = None) -> list[dict[str, Any]]:
    """Events in the server's log that came from machines (read-only, the way `warden audit` reads)."""
    store = open_store(central_url(srv), srv.home, keys="optional", create=False)
    try:
        return [dict(e) for e in _from_machines(store.iter_events(), machine)]
    finally:
        store.close()


def _from_machines(events: Iterator[Any], machine: str | None) -> Iterator[Any]:
    for e in events:
        origin = e.get("origin") or {}
        if "seq" in origin and (machine is None or origin.get("machine") == machine):
            yield e

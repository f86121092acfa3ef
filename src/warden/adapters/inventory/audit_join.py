"""Read the audit log and join it to an inventory (the pure join is warden.core.inventory.evidence)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warden.core.inventory.evidence import join
from warden.core.inventory.model import Inventory

MAX_EVENTS = 200_000  # the newest events; a larger log is reported as cut, not read whole


def join_audit(inv: Inventory, environ: Mapping[str, str], db: str | None = None, home: str | None = None) -> dict[str, Any]:
    from warden.adapters.policy_files import warden_home
    from warden.adapters.store import open_store, options_from_env

    home_path = Path(home) if home else warden_home(environ)
    store = open_store(db or environ.get("WARDEN_AUDIT_DB"), home_path, keys="optional",
                       options=options_from_env(dict(environ)), create=False)
    try:
        events = store.query(limit=MAX_EVENTS, newest_first=True)
    finally:
        store.close()
    events.reverse()
    roots = {r["name"]: os.path.realpath(r["root"]) for r in inv.repos if r["name"] != "~"}
    result = join(inv, roots, events)
    result["events_read"] = len(events)
    result["log_cut"] = len(events) >= MAX_EVENTS
    inv.meta["evidence"] = {k: v for k, v in result.items() if k != "paths"} | {"paths_with_events": len(result["paths"])}
    return result

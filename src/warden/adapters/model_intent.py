"""Intent lookups over the audit log: which instruction and plan led to a tool call.

The model gateway records, per model answer, the tool calls the model proposed (their ids); the
hooks record a decision per tool call with the same id. Joining the two answers "why did the
agent run this?" for the approval card and the evidence pack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def _open(home: str | os.PathLike[str], environ: Mapping[str, str]) -> Any:
    from warden.adapters.store import open_store

    return open_store(environ.get("WARDEN_AUDIT_DB") or None, home, keys="optional", create=False)


def model_event_for(store: Any, tool_use_id: str) -> dict[str, Any] | None:
    """The model event whose answer proposed ``tool_use_id`` (newest first)."""
    from warden.adapters.store.base import Filters

    if not tool_use_id:
        return None
    direct = store.query(Filters(kind="model", tool_use_id=tool_use_id), limit=1, newest_first=True)
    if direct:
        return direct[0]
    for ev in store.iter_query(Filters(kind="model")):  # a later call of a multi-call answer
        if any(isinstance(c, Mapping) and c.get("id") == tool_use_id for c in ev.get("tool_calls") or []):
            return ev
    return None


def trace_tool_use(home: str | os.PathLike[str], environ: Mapping[str, str], tool_use_id: str) -> dict[str, Any]:
    from warden.adapters.store.base import Filters

    store = _open(home, environ)
    try:
        return {
            "tool_use_id": tool_use_id,
            "model": model_event_for(store, tool_use_id),
            "decisions": store.query(Filters(kind="decision", tool_use_id=tool_use_id)),
            "approvals": store.query(Filters(kind="approval", tool_use_id=tool_use_id)),
            "outcomes": store.query(Filters(kind="outcome", tool_use_id=tool_use_id)),
        }
    finally:
        store.close()

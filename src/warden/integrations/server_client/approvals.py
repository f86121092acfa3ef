"""Queued approval requests routed to the team server, and its votes brought back.

The local gate queues a request in the local state store as always (the hook waits on it there,
woken by the store's notifications). The link pushes each pending request to the server
(``POST /v1/approvals``: same id, card and constraints; the server binds it to this machine's key),
waits on the server's answer (``GET /v1/approvals/{id}/wait``, a long-poll) and replays every vote the
server accepted into the local store with ``via = "server"``. The local store checks each vote again
(separation of duties, approvers, quorum), so a server answer can never grant more than the local
policy would let an approver grant.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from warden.core.control.approvals import ApprovalError, ApprovalRequest, Principal


def payload(req: ApprovalRequest, machine: str) -> dict[str, Any]:
    return {"machine": machine, "request": req.to_json()}


def apply_answer(store: Any, local_id: str, answer: Mapping[str, Any], server_url: str) -> list[str]:
    """Replay the server's votes on ``local_id`` into the local store; returns what happened, for the audit."""
    req = store.get_request(local_id)
    if req is None or req.status != "pending":
        return []
    done: list[str] = []
    have = {(v.approver, v.approve) for v in req.votes}
    granted = answer.get("granted") if answer.get("status") == "approved" else None
    for v in answer.get("votes") or ():
        if not isinstance(v, Mapping):
            continue
        approver, approve = str(v.get("approver", "")), bool(v.get("approve"))
        if not approver or (approver, approve) in have:
            continue
        try:
            store.vote(local_id, Principal(approver, ("approver",), f"server {server_url}"), approve,
                       str(v.get("reason", ""))[:1000], time.time(),
                       grant=str(granted) if granted and approve else None)
            done.append(f"{'approve' if approve else 'deny'} by {approver}")
        except ApprovalError as exc:  # the local rules refuse it: the request stays pending here
            done.append(f"refused {approver}: {exc}")
        have.add((approver, approve))
    return done

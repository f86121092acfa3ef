"""Waiting for a queued approval, for any agent entry point that can wait.

Claude Code's PermissionRequest hook (interactive) and the ``warden`` MCP server's ``approve``
tool (headless ``--permission-prompt-tool``) both find the request the PreToolUse decision
queued, wait for it (woken by the state store's notifications, not by polling at human speed),
and then either use its grant (allow) or answer deny with the approver's reason, the expiry, or
"retry after approval". Every outcome is audited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    allow: bool
    message: str
    request_id: str = ""


def find_for_payload(gw: Any, payload: dict[str, Any]) -> Any | None:
    """The newest request for this tool call: by tool_use_id, else by the normalized action's digest."""
    from warden.core.control.digest import action_digest

    store = gw.state()
    tool_use_id = str(payload.get("tool_use_id") or "")
    if tool_use_id:
        found = store.find_request(tool_use_id=tool_use_id)
        if found is not None:
            return found
    action = gw.normalize({**payload, "hook_event_name": "PreToolUse"})
    try:
        policy = gw.policy_for(action.workspace or gw.workspace_for(action.cwd))
    except Exception:
        policy = None
    # the same identity the decision put on the action, so the digest is the one the request has
    action = gw.with_identity(action, policy)
    return store.find_request(action_digest=action_digest(action))


def _shared_use(store: Any, rid: str) -> Any | None:
    """The request's grant, already used once by the other prompt of this same tool call.

    Claude Code (2.1.330, ``-p``) asks both the PermissionRequest hook and the permission prompt
    tool about one call; both wait on the one request, the first uses its ``once`` grant and the
    second answers the same. A later call is a new request (the retry's PreToolUse makes one), so
    this never lets a grant cover a second action.
    """
    for g in store.grants():
        if g.request_id == rid and g.scope == "once" and g.uses == 1 and not g.revoked:
            return g
    return None


def wait_and_answer(gw: Any, request: Any, budget: float, *, via: str) -> Answer:
    """Block until ``request`` is decided (at most ``budget`` seconds or its expiry), then answer."""
    store = gw.state()
    left = max(0.0, min(request.expires_at - time.time(), budget))
    final = store.wait_request(request.id, left) or request
    rid = final.id
    who = {"id": final.actor, "agent": final.agent}
    decision_id = str((final.card or {}).get("decision_id", ""))

    def audit(op: str, **data: Any) -> None:
        try:
            gw.record_control([{"op": op, "session": final.session, "tool": final.tool,
                                "tool_use_id": final.tool_use_id, "actor": who, "request": rid, "via": via,
                                **data}], decision_id)
        except Exception:
            pass  # the answer below is already the safe one when it is a deny; an allow needs the record

    if final.status == "approved":
        grant = store.use_grant(rule_id=final.rule_id, policy_digest=final.policy_digest,
                                action_digest=final.action_digest, shape=final.shape, session=final.session,
                                now=time.time())
        if grant is None:
            grant = _shared_use(store, rid)
        if grant is None:
            audit("approval.refused", code="used")
            return Answer(False, f"Warden: request {rid} was approved but its grant is already used or revoked; "
                                 "retry the action to make a new request", rid)
        try:
            gw.record_control([{"op": "grant.use", "session": final.session, "tool": final.tool,
                                "tool_use_id": final.tool_use_id, "actor": who, "request": rid, "via": via,
                                "grant": grant.to_json()}], decision_id)
        except Exception as exc:
            return Answer(False, f"Warden: the approval could not be recorded ({exc}), so it is not used", rid)
        reasons = "; ".join(f"{v.approver}: {v.reason}" for v in final.votes if v.approve and v.reason)
        return Answer(True, f"approved by {', '.join(grant.approvers)} (request {rid})"
                            + (f": {reasons}" if reasons else ""), rid)
    if final.status == "denied":
        why = "; ".join(f"{v.approver}: {v.reason or 'no reason given'}" for v in final.votes if not v.approve)
        audit("approval.answered", status="denied")
        return Answer(False, f"Warden: request {rid} was denied by {why}. Do not retry this action", rid)
    if final.status == "revoked":
        audit("approval.answered", status="revoked")
        return Answer(False, f"Warden: request {rid} was revoked by a kill switch; stop and ask the user", rid)
    if final.status == "pending" and time.time() >= final.expires_at:
        store.expire_requests(time.time())
        final = store.get_request(rid) or final
    if final.status == "expired":
        audit("approval.expired")
        return Answer(False, f"Warden: request {rid} expired without an approval; retry after approval "
                             f"(`warden approvals approve {rid}`)", rid)
    audit("approval.answered", status="still-pending")
    return Answer(False, f"Warden: request {rid} is still waiting for approval; retry after approval "
                         f"(`warden approvals approve {rid}`)", rid)

"""Asks recorded as approvals: how a human answered Claude Code's permission prompt after a Warden ``ask``.

Claude Code does not tell hooks what the human answered, so the answer is read off what happens:

* ``PermissionRequest`` fires when Claude Code shows its permission dialog (interactive sessions).
  :func:`permission_request` links the prompt to Warden's ask decision and leaves the answer to the
  human (no decision output); it notes that a dialog was shown, so the approval says ``via`` it.
  Warden's own approval queue (``_permission_request`` in the agent module) answers first when the
  ask was routed there; this handles every other ask.
* The tool's ``PostToolUse`` means the human approved: :func:`approved_after_tool` records
  ``approval`` (granted) linked to the decision, before the outcome event.
* An ask still unanswered when the turn ends (``Stop``) or the session ends was refused (or never
  answered): :func:`refused_at_turn_end` records ``approval`` (refused) for each.

Headless ``claude -p`` sends asks to ``--permission-prompt-tool`` instead of a dialog (no
PermissionRequest); the PostToolUse / Stop rules record those answers the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DIALOG = "claude-code permission dialog"
PROMPT = "claude-code permission prompt"


def _pending_file(gw: Any, session: str) -> Path:
    tag = hashlib.sha256(session.encode()).hexdigest()[:24]
    return Path(gw.home) / "approvals" / f"prompts-{tag}.json"


def _input_digest(tool: str, tool_input: Any) -> str:
    return hashlib.sha256(json.dumps([tool, tool_input], sort_keys=True, default=str).encode()).hexdigest()


def _approver(gw: Any, payload: Mapping[str, Any]) -> str:
    """The human at the prompt: the identity the session's actions run as."""
    from warden.adapters.identity import local_actor

    return local_actor(gw.environ, str(payload.get("cwd") or gw.cwd))["id"]


def _store(gw: Any) -> Any:
    return gw._open_recorder().store


def _asks(gw: Any, session: str) -> list[dict[str, Any]]:
    from warden.adapters.store.base import Filters

    found = _store(gw).query(Filters(session=session, kind="decision", decision="ask"))
    return [e for e in found if e.get("event") == "PreToolUse"]  # the asks Claude Code prompts for


def _answered(gw: Any, session: str) -> set[str]:
    """Decisions already answered here, or routed to Warden's approval queue (its control events are
    the record there: another person approves, not the one at Claude Code's prompt)."""
    from warden.adapters.store.base import Filters

    store = _store(gw)
    return {str(e.get("decision_id", "")) for kind in ("approval", "control")
            for e in store.query(Filters(session=session, kind=kind))} - {""}


def permission_request(gw: Any, payload: dict[str, Any]) -> tuple[int, bytes, bytes]:
    """Claude Code is about to ask the human. Link the prompt to Warden's ask; let the human answer."""
    session = str(payload.get("session_id", ""))
    digest = _input_digest(str(payload.get("tool_name", "")), payload.get("tool_input"))
    match = next((e for e in reversed(_asks(gw, session))
                  if _input_digest(str(e.get("tool", "")), e.get("input")) == digest), None)
    if match is not None:
        path = _pending_file(gw, session)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            pending = json.loads(path.read_text())
        except (OSError, ValueError):
            pending = {}
        pending[str(match["id"])] = {"via": DIALOG, "asked_at": time.time()}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(pending))
        os.replace(tmp, path)
    return 0, b"", b""  # no decision: the human answers in Claude Code's dialog


def _via(gw: Any, session: str, decision_id: str, *, forget: bool) -> str:
    path = _pending_file(gw, session)
    try:
        pending = json.loads(path.read_text())
    except (OSError, ValueError):
        return PROMPT
    entry = pending.pop(decision_id, None)
    if forget and entry is not None:
        if pending:
            path.write_text(json.dumps(pending))
        else:
            path.unlink(missing_ok=True)
    return str((entry or {}).get("via") or PROMPT)


def _record(gw: Any, decision: Mapping[str, Any], payload: Mapping[str, Any], granted: bool) -> None:
    from warden.core.audit import approval_event

    session = str(payload.get("session_id", ""))
    did = str(decision.get("id", ""))
    result = decision.get("result") or {}
    how = "approved in" if granted else "refused (or left unanswered) in"
    gw.record(approval_event(
        decision_id=did, granted=granted, approver=_approver(gw, payload),
        via=_via(gw, session, did, forget=True), started_at=time.time(), session=session,
        tool=str(decision.get("tool", "")), tool_use_id=str(decision.get("tool_use_id", "")),
        reason=f"{how} Claude Code after Warden asked: {result.get('reason', '')}",
        actor=decision.get("actor") if isinstance(decision.get("actor"), Mapping) else None, redact=gw.redactor()))


def approved_after_tool(gw: Any, payload: Mapping[str, Any], decision: Mapping[str, Any] | None) -> None:
    """The tool ran after Warden asked: the human approved. Recorded once per decision."""
    if not decision or (decision.get("result") or {}).get("decision") != "ask":
        return
    if _queued(gw, str(decision.get("tool_use_id") or payload.get("tool_use_id") or "")):
        return  # Warden's approval queue answered this call and recorded the real approver
    session = str(payload.get("session_id", ""))
    if str(decision.get("id", "")) in _answered(gw, session):
        return
    _record(gw, decision, payload, granted=True)


def _queued(gw: Any, tool_use_id: str) -> bool:
    """Did this call go to Warden's approval queue (docs/approvals.md)? Then the queue records it."""
    if not tool_use_id:
        return False
    try:
        return gw.state().find_request(tool_use_id=tool_use_id) is not None
    except Exception:
        return False


def refused_at_turn_end(gw: Any, payload: Mapping[str, Any]) -> int:
    """Every ask of this session that neither ran nor was answered: refused. Returns how many."""
    session = str(payload.get("session_id", ""))
    if not session:
        return 0
    answered = _answered(gw, session)
    open_asks = [e for e in _asks(gw, session) if str(e.get("id", "")) not in answered]
    for decision in open_asks:
        _record(gw, decision, payload, granted=False)
    return len(open_asks)

"""The control loop's I/O for the gateway: the state store, the approval card's look-ups, events.

The gateway hands :func:`make_gate` to the decision flow; the gate itself is pure
(:mod:`warden.core.control.gate`). What needs the outside world lives here: opening the state
store (a broken one yields a store that raises, so the gate fails closed), reading the file a
Write replaces, the session's prompt and recent actions from the audit log.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from warden.core.action import Action
from warden.core.decision import Verdict
from warden.core.facts import Analysis
from warden.ports import StateError

MAX_OLD_FILE = 512 * 1024


class UnavailableState:
    """Stands in for a state store that could not be opened: every call raises the reason."""

    location = "(unavailable)"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise StateError(self.reason)

        return fail

    def close(self) -> None:
        pass


def open_state_or_stand_in(home: Path, environ: Mapping[str, str]) -> Any:
    from warden.adapters.state import open_state

    try:
        return open_state(home, environ=environ)
    except (StateError, OSError) as exc:
        return UnavailableState(str(exc))


def _old_text(action: Action) -> str | None:
    if action.tool not in ("Write", "Edit", "MultiEdit"):
        return None
    path = str(action.input.get("file_path", ""))
    try:
        if os.path.getsize(path) > MAX_OLD_FILE:
            return None
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def session_history(audit_store: Any, session: str) -> tuple[str, list[dict[str, Any]]]:
    """(the session's first prompt, its last 10 decisions) from the audit log; empty when unknown."""
    if audit_store is None or not session:
        return "", []
    from warden.adapters.store import Filters

    try:
        prompts = audit_store.query(Filters(session=session, tool="Prompt", kind="decision"), limit=1)
        recent = audit_store.query(Filters(session=session, kind="decision"), limit=10, newest_first=True)
    except Exception:  # the card is still useful without history
        return "", []
    prompt = str((prompts[0].get("input") or {}).get("prompt", "")) if prompts else ""
    rows = []
    for ev in recent:
        inp = ev.get("input") or {}
        subject = inp.get("command") or inp.get("file_path") or inp.get("url") or inp.get("query") or ""
        rows.append({"at": ev.get("timestamp", ""), "tool": ev.get("tool", ""), "subject": str(subject),
                     "decision": (ev.get("result") or {}).get("decision", "")})
    return prompt, rows


def make_gate(store: Any, redact: Callable[[str], str], audit_store: Any = None) -> Any:
    from warden.adapters.state import new_id
    from warden.core.control.card import build_card
    from warden.core.control.gate import Gate

    def card(action: Action, analysis: Analysis, verdict: Verdict) -> dict[str, Any]:
        prompt, recent = session_history(audit_store, action.session)
        try:
            taint = store.taint(action.session) if action.session else []
        except Exception:
            taint = []
        return build_card(action, analysis, verdict, redact=redact, old_text=_old_text(action),
                          session_prompt=prompt, recent=recent, taint=taint)

    def reviewer(card_: Mapping[str, Any], settings: Mapping[str, Any]) -> Any:
        from warden.adapters.reviewer import review
        from warden.core.review.autoreview import ReviewerSettings

        conf = ReviewerSettings.from_settings(settings)
        if conf is None:
            raise ValueError("settings.reviewer needs url and model")
        return review(card_, conf)

    return Gate(store=store, now=time.time(), new_id=new_id, card=card, reviewer=reviewer)


def audit_events(events: list[dict[str, Any]], decision_id: str, redact: Callable[[str], str],
                 started: float) -> list[dict[str, Any]]:
    from warden.core.audit import control_event

    out = []
    for e in events:
        data = {k: v for k, v in e.items() if k not in ("op", "session", "tool", "tool_use_id", "actor")}
        out.append(control_event(op=e["op"], started_at=started, data=data, session=e.get("session", ""),
                                 tool=e.get("tool", ""), tool_use_id=e.get("tool_use_id", ""),
                                 decision_id=decision_id, actor=e.get("actor"), redact=redact))
    return out

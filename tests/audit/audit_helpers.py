"""Builders of realistic audit events shared by the audit tests (and their subprocess writers)."""

from __future__ import annotations

import time

from warden.core.action import action_from_payload
from warden.core.audit import decision_event
from warden.core.decision import Decision, RuleMatch, Verdict


def make_decision(i: int = 0, *, session: str = "s1", decision: Decision = Decision.ALLOW, agent: str = "claude-code",
                  command: str | None = None, rule: str = "") -> dict:
    action = action_from_payload({
        "tool_name": "Bash",
        "tool_input": {"command": command or f"echo {i}"},
        "session_id": session,
        "tool_use_id": f"toolu_{i}",
        "cwd": "/work/project",
        "actor": {"id": "alice@example.com", "agent": agent},
    })
    rules = [RuleMatch(rule, decision, f"rule {rule}", "builtin:recommended.yaml:1", "builtin")] if rule else []
    verdict = Verdict(decision, f"because {i}", rules=rules)
    return decision_event(action, verdict, policy_digest="sha256:abc", policy_sources=["builtin:recommended.yaml"],
                          started_at=time.time(), duration_ms=0.5)


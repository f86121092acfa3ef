"""Budgets and rate limits: ``N/window`` counts keyed by actor, agent, session, rule or tool.

Windows: ``session`` (the agent session), ``task`` (the current user turn: the session's count of
user prompts so far), or a duration (``30s``, ``1h``, ``1d``) counted in fixed, aligned windows
(``100/1h`` counts from the top of the hour). A counter key names the rule, the key and the window
bucket, so the store only needs one atomic "increment and return" per key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from warden.core.action import Action
from warden.core.control.approvals import parse_duration

KEYS = ("actor", "agent", "session", "rule", "tool")
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(session|task|\d+\s*[smhd])\s*$")


@dataclass(frozen=True, slots=True)
class LimitSpec:
    count: int
    window: str  # session | task | duration:SECONDS
    per: str = "session"  # one of KEYS
    on_exceed: str = "deny"  # ask | deny
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "window": self.window, "per": self.per, "on_exceed": self.on_exceed,
                "text": self.text}


def parse_limit(text: str, *, per: str = "session", on_exceed: str = "deny") -> LimitSpec:
    m = _LIMIT.match(str(text))
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"invalid limit {text!r}: use COUNT/WINDOW with WINDOW session, task or a duration "
                         "(10/session, 50/task, 100/1h)")
    if per not in KEYS:
        raise ValueError(f"invalid limit key {per!r}: use one of {', '.join(KEYS)}")
    if on_exceed not in ("ask", "deny"):
        raise ValueError(f"invalid on_exceed {on_exceed!r}: use ask or deny")
    window = m.group(2).replace(" ", "")
    if window not in ("session", "task"):
        window = f"duration:{int(parse_duration(window))}"
    return LimitSpec(int(m.group(1)), window, per, on_exceed, str(text).strip())


def counter_key(spec: LimitSpec, rule_id: str, action: Action, now: float, task: int = 0) -> tuple[str, float]:
    """(key, expires_at) of the counter this action increments. ``task`` is the session's turn number."""
    who = {"actor": action.actor.id, "agent": action.actor.agent, "session": action.session, "rule": "",
           "tool": action.tool}[spec.per]
    if spec.window == "session":
        bucket, expires = f"session={action.session}", now + 7 * 86400
    elif spec.window == "task":
        bucket, expires = f"task={action.session}#{task}", now + 7 * 86400
    else:
        seconds = float(spec.window.split(":", 1)[1])
        start = (now // seconds) * seconds
        bucket, expires = f"window={int(start)}+{int(seconds)}", start + seconds
    return f"{rule_id}|{spec.per}={who}|{bucket}", expires

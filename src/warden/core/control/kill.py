"""Kill-switch scopes: ``all``, or one agent, session or actor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from warden.core.action import Action

SCOPES = ("all", "agent", "session", "actor")


@dataclass(frozen=True, slots=True)
class KillSwitch:
    scope: str  # one of SCOPES
    value: str  # "" for all
    reason: str
    by: str
    at: float

    @property
    def label(self) -> str:
        return "everything" if self.scope == "all" else f"{self.scope} {self.value}"

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "value": self.value, "reason": self.reason, "by": self.by, "at": self.at}


def parse_scope(scope: str, value: str = "") -> tuple[str, str]:
    if scope not in SCOPES:
        raise ValueError(f"unknown kill scope {scope!r}: use one of {', '.join(SCOPES)}")
    if scope == "all":
        return "all", ""
    if not value.strip():
        raise ValueError(f"--{scope} needs a value")
    return scope, value.strip()


def _value(scope: str, *, agent: str, session: str, actor: str) -> str:
    return {"agent": agent, "session": session, "actor": actor}.get(scope, "")


def kill_matches(kills: Iterable[KillSwitch], action: Action) -> KillSwitch | None:
    """The first kill switch that stops this action, or None."""
    return kill_matches_ids(kills, agent=action.actor.agent, session=action.session, actor=action.actor.id)


def kill_matches_ids(kills: Iterable[KillSwitch], *, agent: str, session: str, actor: str) -> KillSwitch | None:
    for k in kills:
        if k.scope == "all" or (k.value and k.value == _value(k.scope, agent=agent, session=session, actor=actor)):
            return k
    return None

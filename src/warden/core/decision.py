"""The one decision vocabulary: allow < ask < deny, strictest wins everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from warden.core.facts import Fact


class Decision(IntEnum):
    ALLOW = 0
    ASK = 1
    DENY = 2

    @classmethod
    def parse(cls, value: str | Decision) -> Decision:
        if isinstance(value, Decision):
            return value
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            raise ValueError(f"unknown decision {value!r}: use allow, ask or deny") from None

    @property
    def label(self) -> str:
        return self.name.lower()



@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that matched, with enough provenance to find it again."""

    id: str
    effect: Decision
    reason: str
    source: str  # "path/to/policy.yaml:12" or "builtin:recommended.yaml:40"
    layer: str  # builtin | user | project | managed | cli
    subject: str = ""  # what it matched: a simple command, a path, a host...

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "effect": self.effect.label,
            "reason": self.reason,
            "source": self.source,
            "layer": self.layer,
            "subject": self.subject,
        }


@dataclass(slots=True)
class Verdict:
    decision: Decision
    reason: str
    rules: list[RuleMatch] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    error: str | None = None
    policy_digest: str = ""
    approval: dict[str, Any] | None = None  # a queued approval request: {id, status, expires_at, ...}

    @classmethod
    def fail_closed(cls, error: str, *, reason: str | None = None) -> Verdict:
        """Deny because something went wrong; the error is the reason (house rule 5)."""
        return cls(Decision.DENY, reason or f"denied because Warden could not decide safely: {error}", error=error)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision": self.decision.label,
            "reason": self.reason,
            "rules": [r.to_json() for r in self.rules],
            "facts": [f.to_json() for f in self.facts],
        }
        if self.error is not None:
            out["error"] = self.error
        if self.policy_digest:
            out["policy_digest"] = self.policy_digest
        if self.approval is not None:
            out["approval"] = dict(self.approval)
        return out

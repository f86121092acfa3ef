"""Approval requests, votes and grants: the pure rules every state store enforces.

A request is created when a rule with ``approval: {route: queue}`` asks. It is bound to the
action digest, the policy digest and the rule id (:mod:`.digest`). People vote; the store applies
:func:`apply_vote` inside one transaction, so separation of duties and quorum hold however many
processes vote at once:

* the requesting actor and the requesting agent never approve their own request;
* an approver list or role list in the rule restricts who may vote at all;
* ``quorum`` approvals by distinct people approve, and a single deny decides deny;
* an expired, decided, used or revoked request takes no vote.

An approved request yields a :class:`Grant`; ``once`` grants are consumed by exactly one action.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

PENDING, APPROVED, DENIED, EXPIRED, REVOKED = "pending", "approved", "denied", "expired", "revoked"
STATUSES = (PENDING, APPROVED, DENIED, EXPIRED, REVOKED)
# Tolerated difference between clocks of processes on one machine (or hosts of a team server).
CLOCK_SKEW_S = 5.0
ONCE_GRANT_TTL_S = 24 * 3600.0  # an approved "once" waits this long for its retry
SESSION_GRANT_TTL_S = 24 * 3600.0


class ApprovalError(Exception):
    """A vote or a grant that cannot be applied; ``code`` is stable for scripts and exit codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Principal:
    """Who votes: a person or service identity, its roles and how it reached Warden."""

    id: str
    roles: tuple[str, ...] = ()
    via: str = "cli"  # cli | terminal (warden exec --yes) | native (the agent's own prompt) | server

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "roles": list(self.roles), "via": self.via}


@dataclass(frozen=True, slots=True)
class Vote:
    approver: str
    approve: bool
    reason: str
    at: float
    via: str = "cli"

    def to_json(self) -> dict[str, Any]:
        return {"approver": self.approver, "approve": self.approve, "reason": self.reason, "at": self.at,
                "via": self.via}


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    id: str
    action_digest: str
    policy_digest: str
    rule_id: str
    shape: str
    session: str
    actor: str
    agent: str
    workspace: str
    tool: str
    created_at: float
    expires_at: float
    grant: str = "once"  # once | session | duration:SECONDS
    quorum: int = 1
    approvers: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    tool_use_id: str = ""
    status: str = PENDING
    votes: tuple[Vote, ...] = ()
    decided_at: float | None = None
    card: Mapping[str, Any] = field(default_factory=dict)  # redacted: see warden.core.control.card

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "rule_id": self.rule_id, "tool": self.tool,
            "action_digest": self.action_digest, "policy_digest": self.policy_digest, "shape": self.shape,
            "session": self.session, "actor": self.actor, "agent": self.agent, "workspace": self.workspace,
            "tool_use_id": self.tool_use_id, "created_at": self.created_at, "expires_at": self.expires_at,
            "decided_at": self.decided_at, "grant": self.grant, "quorum": self.quorum,
            "approvers": list(self.approvers), "roles": list(self.roles),
            "votes": [v.to_json() for v in self.votes], "card": dict(self.card),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ApprovalRequest:
        return cls(
            id=str(d["id"]), action_digest=str(d["action_digest"]), policy_digest=str(d["policy_digest"]),
            rule_id=str(d["rule_id"]), shape=str(d.get("shape", "")), session=str(d.get("session", "")),
            actor=str(d.get("actor", "")), agent=str(d.get("agent", "")), workspace=str(d.get("workspace", "")),
            tool=str(d.get("tool", "")), created_at=float(d["created_at"]), expires_at=float(d["expires_at"]),
            grant=str(d.get("grant", "once")), quorum=int(d.get("quorum", 1)),
            approvers=tuple(d.get("approvers", ())), roles=tuple(d.get("roles", ())),
            tool_use_id=str(d.get("tool_use_id", "")), status=str(d.get("status", PENDING)),
            votes=tuple(Vote(str(v["approver"]), bool(v["approve"]), str(v.get("reason", "")), float(v["at"]),
                             str(v.get("via", "cli"))) for v in d.get("votes", ())),
            decided_at=None if d.get("decided_at") is None else float(d["decided_at"]),
            card=dict(d.get("card") or {}),
        )

    @property
    def approvals(self) -> int:
        return len({v.approver for v in self.votes if v.approve})


@dataclass(frozen=True, slots=True)
class Grant:
    """What an approved request allows: one action (``once``), or a shape for a session or a time."""

    id: str
    request_id: str
    scope: str  # once | session | duration:SECONDS
    rule_id: str
    policy_digest: str
    action_digest: str
    shape: str
    session: str
    actor: str
    agent: str
    created_at: float
    expires_at: float
    approvers: tuple[str, ...] = ()
    uses: int = 0
    revoked: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "request_id": self.request_id, "scope": self.scope, "rule_id": self.rule_id,
                "policy_digest": self.policy_digest, "action_digest": self.action_digest, "shape": self.shape,
                "session": self.session, "actor": self.actor, "agent": self.agent, "created_at": self.created_at,
                "expires_at": self.expires_at, "approvers": list(self.approvers), "uses": self.uses,
                "revoked": self.revoked}


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90s``, ``30m``, ``8h``, ``1d`` -> seconds; raises ValueError with the accepted forms."""
    m = _DURATION.match(str(text))
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"invalid duration {text!r}: use a positive number with s, m, h or d (e.g. 30m)")
    return float(int(m.group(1)) * _UNIT[m.group(2)])


def parse_grant(text: str) -> str:
    """``once`` | ``session`` | a duration -> the canonical grant scope string."""
    t = str(text).strip()
    if t in ("once", "session"):
        return t
    return f"duration:{int(parse_duration(t))}"


def check_vote(req: ApprovalRequest, who: Principal, now: float) -> None:
    """Raise :class:`ApprovalError` unless ``who`` may vote on ``req`` right now."""
    if now + CLOCK_SKEW_S < req.created_at:
        raise ApprovalError("clock", f"the clock reads {now:.0f}, before request {req.id} was created "
                                     f"({req.created_at:.0f}): the clock jumped back; nothing was granted. "
                                     "Fix the system time and retry")
    if req.status != PENDING:
        raise ApprovalError(req.status, f"request {req.id} is already {req.status}; nothing changed. "
                                        "The agent must retry the action to make a new request")
    if now >= req.expires_at:
        raise ApprovalError(EXPIRED, f"request {req.id} expired; nothing was granted. The agent must retry the "
                                     "action to make a new request")
    if not who.id.strip():
        raise ApprovalError("identity", "the approver has no identity: set $WARDEN_ACTOR or log in")
    if who.id in (req.actor, req.agent) or (req.agent and who.id == f"agent:{req.agent}"):
        raise ApprovalError("self", f"{who.id} asked for request {req.id} and cannot approve or deny it "
                                    "(separation of duties); ask another person")
    if req.approvers or req.roles:
        allowed = who.id in req.approvers or bool(set(who.roles) & set(req.roles))
        if not allowed:
            want = ", ".join([*req.approvers, *(f"role:{r}" for r in req.roles)])
            raise ApprovalError("not-approver", f"{who.id} is not an approver of rule {req.rule_id} "
                                                f"(approvers: {want})")
    if any(v.approver == who.id for v in req.votes):
        raise ApprovalError("duplicate", f"{who.id} already voted on request {req.id}; quorum counts distinct "
                                         "people")


def grant_rank(scope: str) -> float:
    """How much a grant scope covers, for "never more than the rule allows": once < duration < session."""
    if scope == "once":
        return 0.0
    if scope == "session":
        return SESSION_GRANT_TTL_S
    return min(float(scope.split(":", 1)[1]), SESSION_GRANT_TTL_S)


def apply_vote(req: ApprovalRequest, who: Principal, approve: bool, reason: str, now: float,
               grant: str | None = None) -> ApprovalRequest:
    """The request after ``who``'s vote (raises :class:`ApprovalError`; the caller audits the refusal).

    ``grant`` lets an approver narrow what the approval covers (never widen it past the rule's).
    """
    check_vote(req, who, now)
    if grant is not None and approve:
        if grant_rank(grant) > grant_rank(req.grant):
            raise ApprovalError("grant-too-wide", f"the rule allows at most a {req.grant} grant for request "
                                                  f"{req.id}; {grant} would cover more")
        req = replace(req, grant=grant)
    votes = (*req.votes, Vote(who.id, approve, reason, now, who.via))
    updated = replace(req, votes=votes)
    if not approve:
        return replace(updated, status=DENIED, decided_at=now)
    if updated.approvals >= req.quorum:
        return replace(updated, status=APPROVED, decided_at=now)
    return updated


def expire(req: ApprovalRequest, now: float) -> ApprovalRequest:
    if req.status == PENDING and now >= req.expires_at:
        return replace(req, status=EXPIRED, decided_at=now)
    return req


def grant_for(req: ApprovalRequest, grant_id: str, now: float) -> Grant:
    """The grant an approved request yields."""
    if req.grant == "once":
        until = now + ONCE_GRANT_TTL_S
    elif req.grant == "session":
        until = now + SESSION_GRANT_TTL_S
    else:
        until = now + float(req.grant.split(":", 1)[1])
    return Grant(id=grant_id, request_id=req.id, scope=req.grant, rule_id=req.rule_id,
                 policy_digest=req.policy_digest, action_digest=req.action_digest, shape=req.shape,
                 session=req.session, actor=req.actor, agent=req.agent, created_at=now, expires_at=until,
                 approvers=tuple(v.approver for v in req.votes if v.approve))


def grant_covers(g: Grant, *, rule_id: str, policy_digest: str, action_digest: str, shape: str, session: str,
                 now: float) -> bool:
    """Does ``g`` allow this action now? (``once``: the same action; else the same rule and shape)."""
    if g.revoked or now >= g.expires_at or now + CLOCK_SKEW_S < g.created_at:
        return False
    if g.rule_id != rule_id or g.policy_digest != policy_digest:
        return False
    if g.scope == "once":
        return g.uses == 0 and g.action_digest == action_digest
    return g.session == session and g.shape == shape

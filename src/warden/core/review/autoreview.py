"""The auto-review tier: a reviewer model may resolve some ``ask`` verdicts, within hard bounds.

What the reviewer may do is decided here, not by the model:

* only an ``ask`` whose every asking rule says ``review: auto`` is eligible; a deny is never sent;
* a rule that names approvers or a quorum (separation of duties) always goes to people;
* a tainted session, a credential in the action, or a limit/loop escalation is never auto-approved;
* the reviewer sees the approval card (already redacted: no secrets), never the raw action;
* its answer must be strict JSON matching :data:`ANSWER_SCHEMA`; anything else (a timeout, a refusal,
  malformed or extra output, a risk above ``max_risk``) escalates to a human. Fail closed means
  "ask a person", never "allow".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RISKS = ("low", "medium", "high")
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["decision", "risk", "reason"],
    "properties": {
        "decision": {"type": "string", "enum": ["approve", "escalate"]},
        "risk": {"type": "string", "enum": list(RISKS)},
        "reason": {"type": "string", "maxLength": 600},
    },
}
# Effects no reviewer model may approve, whatever it says: it cannot know what an opaque command
# runs, and sending data out, publishing, tunnels, privilege and destruction need a person.
_NEVER_FACTS = ("secret.", "session.tainted", "limit.exceeded", "flow.", "guard.", "approval.", "exec.opaque",
                "net.upload", "net.tunnel", "net.remote_exec", "net.reverse_shell", "net.scan", "net.sniff",
                "pkg.publish", "pkg.index", "pkg.system_update", "pkg.uninstall", "fs.", "priv.", "persist.",
                "sys.", "git.force", "git.history_rewrite", "git.push_protected", "cloud.delete", "cloud.destroy",
                "db.destroy", "container.privileged", "exec.remote_package", "path.outside_workspace")
SYSTEM = (
    "You review actions an AI coding agent wants to take, on behalf of a security team. You see an approval card: "
    "the exact command or tool call, what it touches (paths inside/outside the workspace, hosts, branches, "
    "packages), why the policy asked, and the session's recent actions. Approve only routine, low-risk actions "
    "whose effect is limited to the project and reversible. Escalate anything that is destructive, reaches "
    "credentials or production, sends data out, changes security controls, or that you are unsure about. "
    "Answer with one JSON object: {\"decision\": \"approve\"|\"escalate\", \"risk\": \"low\"|\"medium\"|\"high\", "
    "\"reason\": \"...\"} and nothing else."
)


@dataclass
class ReviewOutcome:
    approved: bool
    reason: str
    model: str = ""
    risk: str = ""
    latency_ms: float = 0.0
    prompt_digest: str = ""
    answer: Any = None  # the parsed answer, or the raw text (clipped) when it did not parse
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"approved": self.approved, "reason": self.reason[:600], "model": self.model, "risk": self.risk,
                "latency_ms": round(self.latency_ms, 1), "prompt_digest": self.prompt_digest,
                "answer": self.answer if isinstance(self.answer, dict) else str(self.answer or "")[:600],
                "error": self.error[:300]}


@dataclass(frozen=True)
class ReviewerSettings:
    url: str
    model: str
    api_key_env: str = ""
    timeout_s: float = 10.0
    max_risk: str = "low"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, raw: Mapping[str, Any] | None) -> ReviewerSettings | None:
        if not raw or not raw.get("url") or not raw.get("model"):
            return None
        return cls(url=str(raw["url"]).rstrip("/"), model=str(raw["model"]), api_key_env=str(raw.get("api_key_env") or ""),
                   timeout_s=float(raw.get("timeout_s") or 10.0), max_risk=str(raw.get("max_risk") or "low"))


def eligible(policy: Any, verdict: Any) -> tuple[bool, str]:
    """May the reviewer resolve this ask? (False, why) otherwise."""
    from warden.core.decision import Decision

    if verdict.decision is not Decision.ASK:
        return False, "only asks are reviewed"
    by_id = {r.id: r for r in policy.rules}
    asking = list(dict.fromkeys(m.id for m in verdict.rules if m.effect is Decision.ASK))
    if not asking:
        return False, "no rule asked (the policy default did): a person decides"
    for rule_id in asking:
        rule = by_id.get(rule_id)
        if rule is None or getattr(rule, "review", None) != "auto":
            return False, f"rule {rule_id} is not marked review: auto"
        approval = getattr(rule, "approval", None) or {}
        if approval.get("approvers") or approval.get("roles") or int(approval.get("quorum", 1) or 1) > 1:
            return False, f"rule {rule_id} names its approvers (separation of duties): a person decides"
    kinds = [f.kind for f in verdict.facts]
    blocked = [k for k in kinds if k.startswith(_NEVER_FACTS)]
    if blocked:
        return False, f"{blocked[0]} is never auto-approved"
    return True, ""


def prompt(card: Mapping[str, Any], model: str) -> tuple[list[dict[str, str]], str]:
    """The chat messages for one review, and their digest (recorded; the card itself is in the log)."""
    shown = {k: v for k, v in card.items() if k not in ("decision_id",)}
    text = json.dumps(shown, sort_keys=True, ensure_ascii=False, default=str)[:24_000]
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Approval card:\n{text}"}]
    digest = hashlib.sha256(json.dumps([model, messages], sort_keys=True).encode()).hexdigest()
    return messages, digest


def judge(raw_text: str, max_risk: str) -> tuple[bool, str, str, Any, str]:
    """(approved, reason, risk, answer, error) from the reviewer's raw answer text."""
    try:
        answer = json.loads(raw_text)
    except (ValueError, TypeError):
        return False, "the reviewer's answer was not JSON; a person decides", "", raw_text, "malformed answer"
    if not isinstance(answer, dict) or set(answer) != {"decision", "risk", "reason"}:
        return False, "the reviewer's answer did not match the schema; a person decides", "", answer, "schema"
    decision, risk, reason = answer.get("decision"), answer.get("risk"), answer.get("reason")
    if decision not in ("approve", "escalate") or risk not in RISKS or not isinstance(reason, str):
        return False, "the reviewer's answer did not match the schema; a person decides", "", answer, "schema"
    if decision == "approve" and RISKS.index(risk) > RISKS.index(max_risk if max_risk in RISKS else "low"):
        return False, f"the reviewer judged it {risk} risk, above what it may approve ({max_risk})", risk, answer, ""
    return decision == "approve", reason.strip()[:600] or decision, risk, answer, ""

"""The stateful step of a decision: kill switch, taint, limits, loop breaker, approvals.

Order matters and is fixed:

1. **kill**: a kill switch in scope denies before anything else is looked at;
2. **taint**: the session's taint becomes ``action.tainted`` and a ``session.tainted`` fact, so
   rules (``tainted: true``) see it during evaluation;
3. **evaluate** the policy;
4. **limits** of every matched rule count this action (unless it is already denied); an
   exceeded budget escalates to its ``on_exceed`` effect;
5. **loop breaker**: the same action N times in a row escalates;
6. **approvals**: an ``ask`` where any asking rule routes to the queue uses a matching grant
   (allow) or queues a request (ask, with the request id and "retry after approval");
7. **taint marking**: an action that may run and brings untrusted content in marks the session.

State that cannot be read fails closed: the kill switch and limits deny, a grant is not used.
Everything that changed state is returned as events for the adapter to audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from warden.core.action import Action
from warden.core.control.approvals import PENDING, ApprovalRequest
from warden.core.control.digest import action_digest, command_shape
from warden.core.control.kill import kill_matches
from warden.core.control.limits import counter_key
from warden.core.control.taint import origins_before
from warden.core.decision import Decision, RuleMatch, Verdict
from warden.core.facts import Analysis, Fact

TAINTED = "session.tainted"
Card = Callable[[Action, Analysis, Verdict], Mapping[str, Any]]


@dataclass
class Gate:
    store: Any  # warden.ports.StateStore
    now: float
    new_id: Callable[[str], str]
    card: Card | None = None
    decision_id: str = ""  # the audit id the decision will be recorded under (requests point to it)
    events: list[dict[str, Any]] = field(default_factory=list)
    # the auto-review tier: (card, settings.reviewer) -> ReviewOutcome; I/O lives in the adapter
    reviewer: Callable[[Mapping[str, Any], Mapping[str, Any]], Any] | None = None

    def _event(self, op: str, action: Action, **data: Any) -> None:
        self.events.append({"op": op, "session": action.session, "tool": action.tool,
                            "tool_use_id": action.tool_use_id, "actor": action.actor.to_json(), **data})

    def decide(self, policy: Any, action: Action, analysis: Analysis,
               evaluate: Callable[[Action], Verdict]) -> Verdict:
        try:
            kills, taint = self.store.control_snapshot(action.session)
        except Exception as exc:
            return _deny(policy, f"the kill-switch state cannot be read, so nothing runs until it can: {exc}",
                         "warden.kill", error=str(exc))
        switch = kill_matches(kills, action)
        if switch is not None:
            lift = ("An admin lifts it on the team server" if switch.by.startswith("server:")
                    else "`warden resume` lifts it")
            return _deny(policy, f"stopped by the kill switch for {switch.label} ({switch.by}): {switch.reason}. "
                                 f"{lift}", "warden.kill")
        if taint:
            action = replace(action, tainted=True)
            analysis.facts.append(Fact(TAINTED, "; ".join(o.label for o in taint[:3]),
                                       {"origins": [o.to_json() for o in taint[:10]]}))
        verdict = evaluate(action)
        if taint and verdict.decision is not Decision.ALLOW:
            verdict.reason += f" (session tainted by {'; '.join(o.label for o in taint[:2])})"
        if verdict.decision is not Decision.DENY:
            verdict = self._counters(policy, action, verdict)
        if verdict.decision is Decision.ASK:
            verdict = self._review(policy, action, analysis, verdict)
        if verdict.decision is Decision.ASK:
            verdict = self._approval(policy, action, analysis, verdict)
        if verdict.decision is not Decision.DENY:
            self._mark_taint(policy, action, analysis, taint)
        return verdict

    # -- limits and loops -------------------------------------------------------------------------
    def _counters(self, policy: Any, action: Action, verdict: Verdict) -> Verdict:
        """Limits of the matched rules and the loop breaker, counted in one store transaction."""
        by_id = {r.id: r for r in policy.rules}
        specs = [(rule_id, spec) for rule_id in dict.fromkeys(m.id for m in verdict.rules)
                 if (spec := getattr(by_id.get(rule_id), "limit", None)) is not None]
        breaker: dict[str, Any] = (policy.settings or {}).get("loop_breaker") or {}
        repeat = (action.session, action_digest(action)) if (
            breaker and action.session and action.tool != "Prompt") else None
        if not specs and repeat is None:
            return verdict
        try:
            task = self.store.task(action.session) if any(s.window == "task" for _, s in specs) else 0
            keys = [counter_key(spec, rule_id, action, self.now, task) for rule_id, spec in specs]
            counts, n = self.store.count(keys, repeat, self.now)
        except Exception as exc:
            what = ", ".join(f"{r} ({s.text})" for r, s in specs) or "the loop breaker"
            return _deny(policy, f"the budget of {what} cannot be counted, so the action is denied: {exc}",
                         "warden.limit", error=str(exc))
        for (rule_id, spec), (key, _), count in zip(specs, keys, counts, strict=True):
            if count > spec.count:
                effect = Decision.parse(spec.on_exceed)
                why = (f"budget exceeded: rule {rule_id} allows {spec.text} per {spec.per} and this is number "
                       f"{count}")
                self._event("limit.exceeded", action, rule=rule_id, limit=spec.to_json(), count=count, key=key,
                            effect=effect.label)
                verdict = _escalate(verdict, effect, f"{rule_id}.limit", why, f"{spec.text} per {spec.per}")
                verdict.facts.append(Fact("limit.exceeded", why, {"rule": rule_id, "count": count,
                                                                  "limit": spec.text, "per": spec.per}))
        if repeat is not None and n >= int(breaker["repeat"]) and verdict.decision is not Decision.DENY:
            effect = Decision.parse(breaker.get("effect", "ask"))
            why = f"loop breaker: the same action {n} times in a row in this session"
            self._event("loop.break", action, count=n, effect=effect.label)
            verdict = _escalate(verdict, effect, "warden.loop-breaker", why, "")
        return verdict

    # -- auto-review ----------------------------------------------------------------------------------
    def _review(self, policy: Any, action: Action, analysis: Analysis, verdict: Verdict) -> Verdict:
        settings = (policy.settings or {}).get("reviewer")
        if self.reviewer is None or not settings:
            return verdict
        from warden.core.review.autoreview import eligible

        ok, why = eligible(policy, verdict)
        if not ok:
            if any(getattr(r, "review", None) == "auto" for r in policy.rules
                   if r.id in {m.id for m in verdict.rules}):
                self._event("review.skipped", action, why=why)
            return verdict
        card = dict(self.card(action, analysis, verdict)) if self.card else {}
        try:
            outcome = self.reviewer(card, settings)
        except Exception as exc:  # a broken reviewer is an escalation, never an approval
            from warden.core.review.autoreview import ReviewOutcome

            outcome = ReviewOutcome(False, f"the reviewer failed ({type(exc).__name__}); a person decides",
                                    str(settings.get("model", "")), error=str(exc))
        self._event("review.approve" if outcome.approved else "review.escalate", action, review=outcome.to_json())
        if outcome.approved:
            verdict.decision = Decision.ALLOW
            verdict.reason = (f"auto-approved by the reviewer {outcome.model} ({outcome.risk} risk: {outcome.reason}); "
                              f"it asked because: {verdict.reason}")
            verdict.facts.append(Fact("review.approved", outcome.reason, {"model": outcome.model, "risk": outcome.risk}))
        else:
            verdict.reason = f"{verdict.reason} (the reviewer escalated to a person: {outcome.reason})"
            verdict.facts.append(Fact("review.escalated", outcome.reason, {"model": outcome.model}))
        return verdict

    # -- approvals ----------------------------------------------------------------------------------
    def _approval(self, policy: Any, action: Action, analysis: Analysis, verdict: Verdict) -> Verdict:
        by_id = {r.id: r for r in policy.rules}
        asking = list(dict.fromkeys(m.id for m in verdict.rules if m.effect is Decision.ASK))
        routes = [a for i in asking if (a := getattr(by_id.get(i), "approval", None)) and a.get("route") == "queue"]
        if not routes:
            return verdict  # every asking rule wants the agent's own prompt: today's behaviour
        # One queued rule is enough: the queue is the stricter path (another person, a card), and the
        # request is bound to every rule that asked, so the approver judges all of them at once.
        rule_key = ",".join(sorted(asking))
        conf = _strictest(routes)
        digest = action_digest(action)
        shape = command_shape(action, analysis.commands, analysis.hosts, analysis.paths)
        try:
            grant = self.store.use_grant(rule_id=rule_key, policy_digest=policy.digest, action_digest=digest,
                                         shape=shape, session=action.session, now=self.now)
        except Exception as exc:
            grant = None
            self._event("grant.error", action, rule=rule_key, error=str(exc))
        if grant is not None:
            self._event("grant.use", action, grant=grant.to_json(), request_id=grant.request_id)
            who = ", ".join(grant.approvers) or "an approver"
            verdict.decision = Decision.ALLOW
            verdict.reason = (f"approved by {who} (request {grant.request_id}, grant {grant.scope}); "
                              f"it asked because: {verdict.reason}")
            verdict.facts.append(Fact("approval.granted", verdict.reason,
                                      {"request": grant.request_id, "grant": grant.id, "approvers": list(grant.approvers)}))
            verdict.approval = {"id": grant.request_id, "status": "granted", "grant": grant.scope,
                                "approvers": list(grant.approvers)}
            return verdict
        card = dict(self.card(action, analysis, verdict)) if self.card else {}
        card["decision_id"] = self.decision_id
        request = ApprovalRequest(
            id=self.new_id("ap"), action_digest=digest, policy_digest=policy.digest, rule_id=rule_key, shape=shape,
            session=action.session, actor=action.actor.id, agent=action.actor.agent, workspace=action.workspace,
            tool=action.tool, created_at=self.now, expires_at=self.now + conf["expires_s"], grant=conf["grant"],
            quorum=conf["quorum"], approvers=tuple(conf["approvers"]), roles=tuple(conf["roles"]),
            tool_use_id=action.tool_use_id, card=card)
        try:
            stored = self.store.create_request(request)
        except Exception as exc:
            return _deny(policy, f"{verdict.reason}; the approval queue is unavailable, so it is denied: {exc}",
                         "warden.approval", error=str(exc))
        if stored.id == request.id:
            self._event("approval.request", action, request=_request_summary(stored))
        verdict.approval = {"id": stored.id, "status": stored.status, "expires_at": stored.expires_at,
                            "quorum": stored.quorum, "grant": stored.grant}
        verdict.reason = (f"{verdict.reason}; approval request {stored.id} is queued: another person approves it "
                          f"with `warden approvals approve {stored.id}`; retry after approval")
        return verdict

    # -- taint ------------------------------------------------------------------------------------
    def _mark_taint(self, policy: Any, action: Action, analysis: Analysis, known: Iterable[Any]) -> None:
        if not action.session:
            return
        trusted = (policy.settings or {}).get("trusted_mcp") or ()
        seen = {(o.source, o.detail) for o in known}
        for origin in origins_before(action, paths=analysis.paths + [p for c in analysis.commands for p in c.paths],
                                     facts=analysis.all_facts(), trusted_mcp=trusted, now=self.now):
            if (origin.source, origin.detail) in seen:
                continue
            try:
                self.store.add_taint(action.session, origin)
                self._event("taint", action, origin=origin.to_json())
            except Exception as exc:  # the action may run: say loudly that its taint was not kept
                self._event("taint.error", action, origin=origin.to_json(), error=str(exc))


def _strictest(routes: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Several queue rules ask at once: the request needs what the strictest of them needs."""
    first = dict(routes[0])
    for r in routes[1:]:
        first["quorum"] = max(first["quorum"], r["quorum"])
        first["expires_s"] = min(first["expires_s"], r["expires_s"])
        if r["grant"] == "once" or first["grant"] == "once":
            first["grant"] = "once"
        first["approvers"] = sorted(set(first["approvers"]) | set(r["approvers"]))
        first["roles"] = sorted(set(first["roles"]) | set(r["roles"]))
    return first


def _request_summary(r: ApprovalRequest) -> dict[str, Any]:
    d = r.to_json()
    d.pop("card", None)
    return d


def _escalate(verdict: Verdict, effect: Decision, rule_id: str, why: str, subject: str) -> Verdict:
    match = RuleMatch(rule_id, effect, why, "warden:control", "control", subject)
    verdict.rules.insert(0, match)
    if effect > verdict.decision:
        verdict.decision = effect
        verdict.reason = f"{why} [{rule_id}]; {verdict.reason}"
    return verdict


def _deny(policy: Any, reason: str, rule_id: str, error: str | None = None) -> Verdict:
    v = Verdict(Decision.DENY, reason, [RuleMatch(rule_id, Decision.DENY, reason, "warden:control", "control")],
                error=error, policy_digest=getattr(policy, "digest", ""))
    return v


__all__ = ["PENDING", "TAINTED", "Gate"]

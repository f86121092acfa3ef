"""Compiled policy: plain, picklable data and the evaluation loop.

Nothing here imports pydantic or YAML: hooks unpickle a compiled policy from the cache and
evaluate it directly. See docs/policy.md for the semantics implemented here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from warden.core.action import Action
from warden.core.decision import Decision, RuleMatch, Verdict
from warden.core.facts import Access, Analysis, CommandInfo, Fact, PathRef
from warden.core.policy.globs import PathGlob, join_argv


@dataclass(slots=True)
class Subject:
    """One thing a rule is checked against: a simple command, or the action itself."""

    action: Action
    command: CommandInfo | None
    paths: list[PathRef]
    hosts: list[str]
    facts: list[Fact]
    label: str
    applies_default: bool = True
    _argv_joined: str | None = None
    _kinds: frozenset[str] | None = None

    @property
    def kinds(self) -> frozenset[str]:
        if self._kinds is None:
            self._kinds = frozenset(f.kind for f in self.facts)
        return self._kinds

    @property
    def argv_joined(self) -> str:
        if self._argv_joined is None:
            self._argv_joined = join_argv(self.command.argv) if self.command else ""
        return self._argv_joined


# Bumped whenever the compiled classes change shape: cached pickles of another format are recompiled.
FORMAT = 6


@dataclass(slots=True)
class Matcher:
    tools: re.Pattern[str] | None = None
    programs: re.Pattern[str] | None = None
    commands: tuple[re.Pattern[str], ...] = ()
    paths: tuple[PathGlob, ...] = ()
    access: frozenset[Access] | None = None
    in_workspace: bool | None = None
    hosts: re.Pattern[str] | None = None
    facts: re.Pattern[str] | None = None  # fact-kind globs with wildcards
    fact_kinds: frozenset[str] | None = None  # literal fact kinds: a set intersection, no regex
    actor_ids: re.Pattern[str] | None = None
    agents: re.Pattern[str] | None = None
    roles: re.Pattern[str] | None = None
    context: tuple[tuple[str, re.Pattern[str]], ...] = ()
    tainted: bool | None = None
    unless: Matcher | None = None

    def matches(self, s: Subject, every: bool, home: str) -> bool:
        """``every``: quantify paths/hosts universally (allow rules), else existentially."""
        if self.tools is not None and not self.tools.match(s.action.tool):
            return False
        if self.programs is not None or self.commands:
            cmd = s.command
            if cmd is None or cmd.opaque:
                return False
            if self.programs is not None and not self.programs.match(cmd.program):
                return False
            if self.commands and not any(p.match(s.argv_joined) for p in self.commands):
                return False
        if self.fact_kinds is not None or self.facts is not None:
            kinds = s.kinds
            if not (
                (self.fact_kinds is not None and not self.fact_kinds.isdisjoint(kinds))
                or (self.facts is not None and any(self.facts.match(k) for k in kinds))
            ):
                return False
        if self.paths or self.in_workspace is not None:
            if not self._paths_match(s, every, home):
                return False
        if self.hosts is not None:
            if not s.hosts:
                return False
            hits = (self.hosts.match(h) is not None for h in s.hosts)
            if not (all(hits) if every else any(hits)):
                return False
        if not self._who_matches(s.action):
            return False
        if self.tainted is not None and self.tainted != s.action.tainted:
            return False
        if self.unless is not None and self.unless.matches(s, False, home):
            return False
        return True

    def _paths_match(self, s: Subject, every: bool, home: str) -> bool:
        refs = [p for p in s.paths if self.access is None or p.access in self.access]
        if not refs:
            return False
        workspace = s.action.workspace
        if self.in_workspace is True:
            if not all(p.in_workspace for p in refs):
                return False
        elif self.in_workspace is False:
            if all(p.in_workspace for p in refs):
                return False
        if self.paths:
            hits = (any(g.matches(p.path, home, workspace) for g in self.paths) for p in refs)
            if not (all(hits) if every else any(hits)):
                return False
        return True

    def _who_matches(self, a: Action) -> bool:
        if self.actor_ids is not None and not self.actor_ids.match(a.actor.id):
            return False
        if self.agents is not None and not self.agents.match(a.actor.agent):
            return False
        if self.roles is not None and not any(self.roles.match(r) for r in a.actor.roles):
            return False
        for key, rx in self.context:
            if not rx.match(a.context.get(key, "")):
                return False
        return True


@dataclass(slots=True)
class CompiledRule:
    id: str
    effect: Decision
    reason: str
    source: str
    layer: str
    matcher: Matcher
    approval: dict[str, Any] | None = None  # {route, approvers, roles, quorum, expires_s, grant}
    limit: Any = None  # warden.core.control.limits.LimitSpec
    review: str | None = None  # "auto": the reviewer model may resolve this rule's asks


@dataclass(slots=True)
class CompiledPolicy:
    rules: list[CompiledRule]
    default: Decision
    default_source: str
    settings: dict[str, Any] = field(default_factory=dict)
    sandbox: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    data: Any = None  # warden.core.data.classes.DataClasses when a layer has a `data:` section  # merged `models:` sections (core.model.policy)
    sources: list[dict[str, str]] = field(default_factory=list)  # [{layer, path, digest}]
    digest: str = ""
    disabled: list[dict[str, str]] = field(default_factory=list)  # [{id, by}] for `policy show`
    warnings: list[str] = field(default_factory=list)
    untrusted: list[dict[str, Any]] = field(default_factory=list)  # loosening ignored until trusted
    _index: dict[tuple[str, bool, bool], list[CompiledRule]] = field(default_factory=dict, repr=False)

    def candidates(self, tool: str, has_command: bool, has_facts: bool) -> list[CompiledRule]:
        """Rules that can possibly match a subject of this shape (same results, fewer checks).

        A rule whose tool globs exclude the tool, that needs a simple command the subject lacks,
        or that needs facts the subject has none of cannot match; filtering once per shape keeps
        the per-action loop short.
        """
        key = (tool, has_command, has_facts)
        rules = self._index.get(key)
        if rules is None:
            rules = [
                r for r in self.rules
                if (r.matcher.tools is None or r.matcher.tools.match(tool))
                and (has_command or (r.matcher.programs is None and not r.matcher.commands))
                and (has_facts or (r.matcher.facts is None and r.matcher.fact_kinds is None))
            ]
            self._index[key] = rules
        return rules


def build_subjects(action: Action, analysis: Analysis) -> list[Subject]:
    if not analysis.commands:
        label = action.command if action.tool == "Bash" else action.tool
        return [Subject(action, None, analysis.paths, analysis.hosts, analysis.facts, label or action.tool)]
    subjects = [
        Subject(action, c, c.paths, c.hosts, c.facts, c.describe()) for c in analysis.commands
    ]
    # action-level findings (data flows, secrets in the text) count, but no default applies
    subjects.append(
        Subject(action, None, analysis.paths, analysis.hosts, analysis.facts, action.tool, applies_default=False)
    )
    return subjects


def evaluate(policy: CompiledPolicy, action: Action, analysis: Analysis, *, home: str) -> Verdict:
    matched: list[RuleMatch] = []
    overall = Decision.ALLOW
    defaulted: list[str] = []
    for subject in build_subjects(action, analysis):
        best: Decision | None = None
        has_command = subject.command is not None and not subject.command.opaque
        for rule in policy.candidates(action.tool, has_command, bool(subject.facts)):
            if rule.matcher.matches(subject, rule.effect is Decision.ALLOW, home):
                matched.append(
                    RuleMatch(rule.id, rule.effect, rule.reason, rule.source, rule.layer, subject.label)
                )
                if best is None or rule.effect > best:
                    best = rule.effect
        if best is None and subject.applies_default:
            best = policy.default
            defaulted.append(subject.label)
        if best is not None and best > overall:
            overall = best
    verdict = Verdict(overall, "", matched, analysis.all_facts(), policy_digest=policy.digest)
    verdict.rules.sort(key=lambda r: -r.effect)
    verdict.reason = _reason(verdict, defaulted, policy)
    return verdict


def _reason(verdict: Verdict, defaulted: list[str], policy: CompiledPolicy) -> str:
    deciding = [r for r in verdict.rules if r.effect == verdict.decision]
    if verdict.decision is Decision.ALLOW and deciding:
        # an allow needs no essay: the first reason and the rules that allowed it
        ids = list(dict.fromkeys(r.id for r in deciding))
        return f"{deciding[0].reason} [{', '.join(ids)}]"
    parts: list[str] = []
    seen: set[str] = set()
    for r in deciding:
        if r.id in seen:
            continue
        seen.add(r.id)
        subject = f" (`{_short(r.subject)}`)" if r.subject and len(verdict.rules) != 1 else ""
        parts.append(f"{r.reason} [{r.id}]{subject}")
    if policy.default == verdict.decision and defaulted:
        shown = ", ".join(f"`{_short(d)}`" for d in defaulted[:3])
        parts.append(f"no rule covers {shown}; the policy default is {policy.default.label}")
    return "; ".join(parts) if parts else f"no rule matched; {verdict.decision.label}"


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

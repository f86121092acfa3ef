"""The action-control graph: who can do what, to which system, with which credential.

Nodes are agents, workflows, tools (MCP servers, hooks), credentials, targets (code, branches,
registries, clouds) and instruction files. An :class:`Edge` reads "SOURCE can perform ACTION on
TARGET using CREDENTIAL"; it carries its owner, whether the authority is standing or scoped, the
Warden controls that sit on the path, and the classification under the active policy. Findings
name what a reviewer should fix. Everything here is plain data: detectors fill it, renderers read it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

SCHEMA = "warden.inventory/v1"

NODE_KINDS = ("agent", "workflow", "tool", "credential", "target", "instructions", "policy", "actor")

# The closed vocabulary of action classes an edge can carry (docs/inventory.md explains each).
ACTIONS = (
    "read-code", "write-code", "run-shell", "push", "open-pr", "modify-workflow", "call-tool",
    "fetch-network", "publish", "release", "deploy", "trigger", "steer", "install-deps", "use-credential",
)

# Classifications. The first three are Warden's verdict on a governed path; "ungoverned" is an agent
# path that no Warden control sits on; "context" is a path kept for the map that no agent takes itself (a
# plain CI release or deploy an agent's output may reach, an instruction file steering an agent).
CLASSIFICATIONS = ("allowed", "approval-required", "blocked", "ungoverned", "context")
VERDICT_TO_CLASS = {"allow": "allowed", "ask": "approval-required", "deny": "blocked"}

SEVERITIES = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: str) -> int:
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"unknown severity {severity!r}: use one of {', '.join(SEVERITIES)}") from None


@dataclass(frozen=True, slots=True)
class Location:
    repo: str  # repository name ("~" for the user's machine)
    path: str  # file relative to the repository root (or to the home directory)
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_json(self) -> dict[str, Any]:
        return {"repo": self.repo, "path": self.path, "line": self.line}


@dataclass(slots=True)
class Node:
    id: str
    kind: str
    name: str
    repo: str
    where: Location | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "repo": self.repo,
                "where": self.where.to_json() if self.where else None, "detail": self.detail}


@dataclass(slots=True)
class Edge:
    source: str  # node id (agent, workflow, actor, instructions)
    action: str  # one of ACTIONS
    target: str  # node id
    repo: str
    where: Location | None = None
    credential: str = ""  # node id of the credential used, "" when none is needed
    authority: str = "standing"  # standing: holds the power all the time; scoped: per run/task/branch
    agent: bool = True  # an AI agent takes this path (False: plain CI, kept as context)
    probe: dict[str, Any] | None = None  # a representative action for the policy engine
    direct: dict[str, Any] | None = None  # the same effect without the wrapper (`vercel deploy` for `npm run deploy`)
    controls: list[str] = field(default_factory=list)  # Warden controls on the path (hook, mcp proxy, ...)
    native: str = ""  # the agent's own permission for it: allow | ask | deny | "" (unknown / not set)
    owner: str = ""  # CODEOWNERS owner of the file that grants the path; "" = nobody
    note: str = ""
    classification: str = ""
    verdict: dict[str, Any] = field(default_factory=dict)  # decision, reason, rules (ids) from the engine
    observed: dict[str, Any] = field(default_factory=dict)  # what the audit log shows for it (--audit)

    @property
    def id(self) -> str:
        raw = f"{self.source}|{self.action}|{self.target}|{self.credential}"
        return "e-" + hashlib.sha256(raw.encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "action": self.action, "target": self.target,
                "credential": self.credential or None, "authority": self.authority, "agent": self.agent,
                "repo": self.repo, "where": self.where.to_json() if self.where else None,
                "owner": self.owner or None, "controls": self.controls, "native": self.native or None,
                "classification": self.classification, "verdict": self.verdict or None,
                "probe": self.probe, "direct": self.direct, "note": self.note or None,
                **({"observed": self.observed} if self.observed else {})}


@dataclass(slots=True)
class Finding:
    rule: str  # stable id, e.g. "untrusted-trigger-write"
    severity: str
    title: str
    message: str  # what is wrong and what to do next
    repo: str
    where: Location | None = None
    edges: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        raw = f"{self.rule}|{self.repo}|{self.where}|{self.title}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "title": self.title, "message": self.message,
                "repo": self.repo, "where": self.where.to_json() if self.where else None,
                "edges": self.edges, "fingerprint": self.fingerprint}


@dataclass(frozen=True, slots=True)
class Problem:
    """A file that could not be read or parsed; reported, never fatal."""

    repo: str
    path: str
    kind: str  # unreadable | binary | too-large | malformed | symlink-loop | outside-repo | truncated
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"repo": self.repo, "path": self.path, "kind": self.kind, "detail": self.detail}


@dataclass(slots=True)
class Inventory:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    repos: list[dict[str, Any]] = field(default_factory=list)  # name, root, policy, visibility notes
    meta: dict[str, Any] = field(default_factory=dict)  # generated_at, tool version, policy digests
    _fingerprints: set[str] = field(default_factory=set, repr=False)

    # -- building (detectors call these) ------------------------------------------------------
    def node(self, id: str, kind: str, name: str, repo: str, where: Location | None = None,
             **detail: Any) -> str:
        """Add a node once; later calls merge detail (a server seen by two clients stays one node)."""
        if kind not in NODE_KINDS:
            raise ValueError(f"unknown node kind {kind!r}")
        found = self.nodes.get(id)
        if found is None:
            self.nodes[id] = Node(id, kind, name, repo, where, dict(detail))
        else:
            for k, v in detail.items():
                if isinstance(v, list) and isinstance(found.detail.get(k), list):
                    found.detail[k] = list(dict.fromkeys([*found.detail[k], *v]))
                else:
                    found.detail.setdefault(k, v)
        return id

    def edge(self, edge: Edge) -> Edge:
        if edge.action not in ACTIONS:
            raise ValueError(f"unknown action class {edge.action!r}")
        found = self.edges.get(edge.id)
        if found is not None:
            found.controls = list(dict.fromkeys([*found.controls, *edge.controls]))
            return found
        self.edges[edge.id] = edge
        return edge

    def finding(self, rule: str, severity: str, title: str, message: str, repo: str,
                where: Location | None = None, edges: list[str] | None = None) -> None:
        severity_rank(severity)
        f = Finding(rule, severity, title, message, repo, where, list(edges or []))
        if len(self._fingerprints) != len(self.findings):  # findings appended directly: re-index
            self._fingerprints = {x.fingerprint for x in self.findings}
        if f.fingerprint not in self._fingerprints:
            self._fingerprints.add(f.fingerprint)
            self.findings.append(f)

    def problem(self, repo: str, path: str, kind: str, detail: str) -> None:
        self.problems.append(Problem(repo, path, kind, detail))

    # -- reading --------------------------------------------------------------------------------
    def edges_from(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges.values() if e.source == node_id]

    def counts(self) -> dict[str, Any]:
        by_class: dict[str, int] = {c: 0 for c in CLASSIFICATIONS}
        for e in self.edges.values():
            by_class[e.classification or "ungoverned"] = by_class.get(e.classification or "ungoverned", 0) + 1
        by_sev = {s: 0 for s in SEVERITIES}
        for f in self.findings:
            by_sev[f.severity] += 1
        kinds: dict[str, int] = {}
        for n in self.nodes.values():
            kinds[n.kind] = kinds.get(n.kind, 0) + 1
        return {"nodes": kinds, "edges": by_class, "findings": by_sev, "problems": len(self.problems)}

    def worst(self) -> str | None:
        return max((f.severity for f in self.findings), key=severity_rank, default=None)

    def to_json(self) -> dict[str, Any]:
        sev = {s: i for i, s in enumerate(SEVERITIES)}
        return {
            "schema": SCHEMA,
            "meta": self.meta,
            "repos": self.repos,
            "summary": self.counts(),
            "nodes": [n.to_json() for n in sorted(self.nodes.values(), key=lambda n: (n.kind, n.id))],
            "edges": [e.to_json() for e in sorted(self.edges.values(), key=lambda e: (e.repo, e.source, e.action, e.target))],
            "findings": [f.to_json() for f in sorted(self.findings, key=lambda f: (-sev[f.severity], f.repo, f.rule, str(f.where)))],
            "problems": [p.to_json() for p in self.problems],
        }

"""Paths that go through the default branch: an agent that can push to it reaches every release,
publish and deploy that a push there starts. Warden's verdict on such a path is its verdict on the
push, because the push is the agent's own action; the deploy is CI's."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from warden.core.inventory.model import Edge, Inventory, severity_rank

SHIPPING = ("publish", "release", "deploy")


def _fires_on(branches: object, branch: str) -> bool:
    if branches is None:
        return True
    return isinstance(branches, list) and any(fnmatch.fnmatchcase(branch, str(b)) for b in branches)


def through_default_branch(inv: Inventory, default_branch: Mapping[str, str]) -> None:
    shipping = [e for e in inv.edges.values() if not e.agent and e.action in SHIPPING]
    pushes = [e for e in inv.edges.values() if e.agent and e.action == "push" and e.target.endswith(":branch")]
    for ship in shipping:
        wf = inv.nodes.get(ship.source)
        if wf is None or wf.kind != "workflow" or "push" not in (wf.detail.get("triggers") or []):
            continue
        if not _fires_on(wf.detail.get("push_branches"), default_branch.get(ship.repo, "main")):
            continue
        for push in (p for p in pushes if p.repo == ship.repo):
            inv.edge(Edge(push.source, ship.action, ship.target, ship.repo, ship.where, credential=ship.credential,
                          authority=ship.authority, probe=push.probe, controls=list(push.controls), native=push.native,
                          note=f"by pushing to {default_branch.get(ship.repo, 'main')}, which runs {wf.name} "
                               f"({ship.note or ship.action}); unless branch protection stops direct pushes"))


def untrusted_findings_reach(inv: Inventory) -> None:
    """An agent anyone can trigger that can push to the default branch also reaches what that push ships:
    say so on its finding, and rate it as one whose own workflow deploys."""
    for f in inv.findings:
        if f.rule != "agent-untrusted-trigger":
            continue
        agents = {inv.edges[x].source for x in f.edges if x in inv.edges}
        extra = [e for e in inv.edges.values() if e.source in agents and e.action in SHIPPING
                 and e.note.startswith("by pushing") and e.id not in f.edges]
        if not extra:
            continue
        gated = any(inv.nodes[a].detail.get("actor_gate") for a in agents if a in inv.nodes)
        target = "high" if gated else "critical"
        if severity_rank(target) > severity_rank(f.severity):
            f.severity = target
        names = sorted({inv.nodes[e.target].name for e in extra})
        f.message += (f" Its pushes to the default branch also reach {', '.join(names)} through the workflows that "
                      "run on push (unless branch protection stops a direct push).")
        f.edges += [e.id for e in extra]

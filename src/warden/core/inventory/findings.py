"""Findings that need the whole classified graph: ungoverned agent paths, ownership of the files that
grant authority, and files that could not be read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from warden.core.review.codeowners import OwnerRule, owners_of
from warden.core.inventory.model import Inventory, Location

HIGH_IMPACT = ("push", "publish", "release", "deploy", "modify-workflow", "use-credential")


def ungoverned(inv: Inventory) -> None:
    by_agent: dict[str, list] = defaultdict(list)
    for e in inv.edges.values():
        if e.classification == "ungoverned":
            by_agent[e.source].append(e)
    for agent_id, edges in by_agent.items():
        node = inv.nodes[agent_id]
        risky = sorted({e.action for e in edges if e.action in HIGH_IMPACT})
        standing = any(e.authority == "standing" and e.credential for e in edges if e.action in HIGH_IMPACT)
        sev = "high" if risky and (standing or node.detail.get("scope") == "ci") else "medium" if risky else "low"
        fix = ("add `warden install` / a Warden hook step to the job" if node.detail.get("scope") == "ci"
               else f"run `warden install {node.name}`" if node.name in ("claude-code", "codex", "copilot", "gemini", "cursor")
               else "route its tools through `warden mcp proxy`")
        inv.finding("ungoverned-agent", sev, f"{node.name} has {len(edges)} path(s) with no Warden control",
                    f"{node.name} can {', '.join(sorted({e.action for e in edges}))} with nothing of Warden's in the way"
                    f"{' (incl. ' + ', '.join(risky) + ')' if risky else ''}; {fix}. Warden's policy would make "
                    f"{sum(1 for e in edges if (e.verdict or {}).get('decision') in ('ask', 'deny'))} of them ask or deny.",
                    node.repo, node.where, [e.id for e in edges])


def ownership(inv: Inventory, rules_by_repo: Mapping[str, list[OwnerRule]]) -> None:
    """Files that grant or steer agent authority should need a reviewer (CODEOWNERS)."""
    agent_workflows = {e.source for e in inv.edges.values() if e.action == "trigger" and e.target.startswith("agent:")}
    for node in inv.nodes.values():
        rules = rules_by_repo.get(node.repo)
        if rules is None or node.where is None or node.kind not in ("agent", "workflow", "tool", "instructions"):
            continue
        if node.kind == "workflow" and node.id not in agent_workflows:
            continue  # only agent workflows: plain CI is out of scope for this check
        owners = owners_of(rules, node.where.path) or ()
        node.detail["owners"] = list(owners)
        if owners or not rules:
            continue
        sev = "medium" if node.kind in ("agent", "workflow") or node.detail.get("type") == "mcp-server" else "low"
        inv.finding("unowned-agent-config", sev, f"{node.where.path} has no CODEOWNERS owner",
                    f"It configures {node.name} ({node.kind}); anyone with write access can change what agents are told "
                    "or allowed to do there without a required review. Add a CODEOWNERS line for it.",
                    node.repo, Location(node.repo, node.where.path))


def problems(inv: Inventory) -> None:
    for p in inv.problems:
        if p.kind in ("truncated", "symlink-loop"):
            sev = "info"
        elif p.kind == "malformed":
            sev = "medium"
        else:
            sev = "low"
        inv.finding(f"file-{p.kind}", sev, f"{p.path}: {p.kind}",
                    f"{p.detail}. An agent or CI system reading this file may ignore it or fail, and the controls it "
                    "declares could not be checked.", p.repo, Location(p.repo, p.path))

"""Turn detected paths into classified ones: who owns each, which Warden controls sit on it, and
what the active policy decides for it. The policy engine comes in as a callable, so this stays pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from warden.core.review.codeowners import OwnerRule, owners_of
from warden.core.inventory.model import VERDICT_TO_CLASS, Inventory
from warden.core.inventory.native import hook_covers

# (probe payload, repo) -> verdict JSON ({"decision", "reason", "rules": [...]})
Decide = Callable[[Mapping[str, Any], str], Mapping[str, Any]]


def apply_hooks(inv: Inventory) -> None:
    """An agent edge is governed when a Warden hook of that agent sees the probe's tool.

    Hooks of the user's own agent config (repo "~") govern the same agent in every repository,
    which is why a repository scan without ``--user`` may under-count controls (the report says so).
    """
    hooks_by_agent: dict[str, list[tuple[str, str]]] = {}  # agent name -> [(matcher, scope)]
    for n in inv.nodes.values():
        if n.kind == "agent" and n.detail.get("scope") in ("user", "managed"):
            hooks_by_agent.setdefault(n.name, []).extend((m, n.detail["scope"]) for m in n.detail.get("warden_hooks") or [])
    for edge in inv.edges.values():
        if not edge.agent or not edge.probe:
            continue
        agent_node = inv.nodes.get(edge.source)
        if agent_node is None or agent_node.kind != "agent":
            continue
        tool = str(edge.probe.get("tool_name", ""))
        own = agent_node.detail.get("warden_hooks") or []
        inherited = hooks_by_agent.get(agent_node.name, []) if agent_node.detail.get("scope") == "project" else []
        covering = [scope for m, scope in inherited if hook_covers(m, tool)]
        if any(hook_covers(m, tool) for m in own):
            edge.controls.append(f"warden-hook:{agent_node.name}")
        elif covering:
            edge.controls.append(f"warden-hook:{agent_node.name} ({covering[0]} settings)")
        edge.controls = list(dict.fromkeys(edge.controls))


def assign_owners(inv: Inventory, rules_by_repo: Mapping[str, list[OwnerRule]]) -> None:
    for edge in inv.edges.values():
        rules = rules_by_repo.get(edge.repo)
        if rules and edge.where:
            edge.owner = " ".join(owners_of(rules, edge.where.path) or ())


RANK = {"allow": 0, "ask": 1, "deny": 2}


def _verdict(v: Mapping[str, Any]) -> dict[str, Any]:
    return {"decision": v.get("decision", "deny"), "reason": v.get("reason", ""),
            "rules": [r.get("id", "") for r in v.get("rules") or [] if isinstance(r, Mapping)]}


def _cmd(probe: Mapping[str, Any]) -> str:
    inp = probe.get("tool_input") or {}
    return str(inp.get("command") or inp.get("file_path") or inp.get("url") or probe.get("tool_name", ""))


def classify(inv: Inventory, decide: Decide) -> None:
    """Ask the engine about every probe; then: context (not an agent), ungoverned, or its verdict."""
    for edge in inv.edges.values():
        if edge.probe:
            edge.verdict = _verdict(decide(edge.probe, edge.repo))
            if edge.direct:
                direct = _verdict(decide(edge.direct, edge.repo))
                edge.verdict["direct"] = direct
                if RANK.get(direct["decision"], 2) > RANK.get(edge.verdict["decision"], 2):
                    inv.finding("policy-wrapper-gap", "medium",
                                f"Warden would {edge.verdict['decision']} `{_cmd(edge.probe)}` but {direct['decision']} "
                                f"what it runs", f"`{_cmd(edge.probe)}` runs `{_cmd(edge.direct)}`, which the policy "
                                f"rates {direct['decision']} ({', '.join(direct['rules']) or 'default'}); an agent can "
                                "take the wrapper instead. Add a rule for the wrapper (e.g. command: [\"npm run "
                                "deploy\"]).", edge.repo, edge.where, [edge.id])
        if not edge.agent:
            edge.classification = "context"
        elif not edge.controls:
            edge.classification = "ungoverned"
        elif edge.verdict:
            edge.classification = VERDICT_TO_CLASS.get(str(edge.verdict["decision"]), "blocked")
        else:
            edge.classification = "allowed"

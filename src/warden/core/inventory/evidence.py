"""Join the map with the audit log: for each path, what actually happened through Warden — how often,
with which decisions, who approved, what ran and how it ended, and which tests ran in those sessions.

Events are matched to a path by repository (the event's workspace is the checkout or inside it), agent
(the event's ``agent``), action class (derived from the recorded tool and input the same way probes are
built) and, for MCP calls, the server. Events of a repository that match no path are listed too: they
are authority the static map missed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from warden.core.inventory.commands import reach_in_run
from warden.core.inventory.model import Edge, Inventory

_INSTALL = re.compile(r"^\s*(?:npm|pnpm|yarn)\s+(?:install|ci|i)\b|^\s*pip3?\s+install\b|^\s*uv\s+sync\b")
_TEST = re.compile(r"\b(?:pytest|npm\s+(?:run\s+)?test|pnpm\s+test|yarn\s+test|make\s+(?:test|check)|cargo\s+test|"
                   r"go\s+test|tox|nox|ruff|mypy|eslint|jest|vitest)\b")


def action_class(tool: str, inp: Mapping[str, Any], root: str) -> tuple[str, str]:
    """(action, target key) for a recorded tool call; the key is "" when any target of the action fits."""
    if tool.startswith("mcp__"):
        parts = tool.split("__")
        return "call-tool", f"mcp:{parts[1]}" if len(parts) > 2 else ""
    if tool in ("Read", "Glob", "Grep", "LS", "NotebookRead"):
        return "read-code", "code"
    if tool in ("Write", "Edit", "MultiEdit", "NotebookEdit"):
        path = str(inp.get("file_path", ""))
        rel = path[len(root):].lstrip("/") if root and path.startswith(root) else path
        return ("modify-workflow", "ci") if rel.startswith((".github/workflows/", ".gitlab-ci")) else ("write-code", "code")
    if tool in ("WebFetch", "WebSearch"):
        return "fetch-network", "network"
    if tool == "Bash":
        cmd = str(inp.get("command", ""))
        reach = reach_in_run(cmd)
        if reach:
            return reach[0].action, reach[0].target
        return ("install-deps", "") if _INSTALL.search(cmd) else ("run-shell", "")
    return "run-shell", ""


def _inside(path: str, root: str) -> bool:
    return bool(root) and (path == root or path.startswith(root.rstrip("/") + "/"))


def _probe_class(e: Edge, root: str) -> tuple[str, str] | None:
    if not e.probe:
        return None
    inp = e.probe.get("tool_input")
    return action_class(str(e.probe.get("tool_name", "")), inp if isinstance(inp, Mapping) else {}, root)


def _commands(e: Edge) -> set[str]:
    return {str((p.get("tool_input") or {}).get("command")) for p in (e.probe, e.direct) if p and p.get("tool_name") == "Bash"}


def _match(inv: Inventory, repo: str, root: str, agent: str, tool: str, inp: Mapping[str, Any], action: str,
           key: str) -> Edge | None:
    """The path an event took: the very command a path was probed with (its own action first); else the
    same action and target, taken the way the path takes it (a deploy that happens through a push is not matched by a
    direct `terraform apply`); else, for a shell command, the agent's shell path. The agent on the
    checkout is preferred over agents run from CI."""
    command = str(inp.get("command", "")) if tool == "Bash" else ""
    candidates = []
    for e in inv.edges.values():
        node = inv.nodes.get(e.source)
        if e.repo != repo or not e.agent or node is None or node.kind != "agent":
            continue
        if agent and agent not in (node.name, node.detail.get("agent_type")):
            continue
        exact_target = bool(key) and (e.target.endswith(":" + key) or e.target == f"target:{key}")
        same_command = bool(command) and command in _commands(e)
        if same_command and e.action == action:
            rank = 0
        elif same_command:  # e.g. `npm run deploy`, probed as the deploy path it is
            rank = 1
        elif e.action == action and (exact_target or not key) and _probe_class(e, root) in (None, (action, key)):
            rank = 2
        elif tool == "Bash" and e.action == "run-shell":
            rank = 3
        else:
            continue
        candidates.append((rank, node.detail.get("scope") == "ci", e.id, e))
    return min(candidates, key=lambda c: c[:3])[3] if candidates else None


def join(inv: Inventory, roots: Mapping[str, str], events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    decisions: dict[str, Mapping[str, Any]] = {}
    rows: dict[str, dict[str, Any]] = {}
    unmapped: list[dict[str, Any]] = []
    tests_by_session: dict[str, list[dict[str, Any]]] = {}
    followups: list[Mapping[str, Any]] = []
    by_root = sorted(roots.items(), key=lambda kv: -len(kv[1]))
    for ev in events:
        kind = ev.get("kind")
        if kind in ("approval", "outcome"):
            followups.append(ev)
            continue
        if kind != "decision":
            continue
        where = str(ev.get("workspace") or ev.get("cwd") or "")
        repo = next((name for name, root in by_root if _inside(where, root)), None)
        if repo is None:
            continue
        raw_input = ev.get("input")
        inp: Mapping[str, Any] = raw_input if isinstance(raw_input, Mapping) else {}
        action, key = action_class(str(ev.get("tool", "")), inp, roots[repo])
        decision = str((ev.get("result") or {}).get("decision", ""))
        if ev.get("tool") == "Bash" and _TEST.search(str(inp.get("command", ""))):
            tests_by_session.setdefault(str(ev.get("session", "")), []).append(
                {"command": str(inp.get("command", ""))[:200], "decision": decision, "id": ev.get("id")})
        edge = _match(inv, repo, roots[repo], str(ev.get("agent", "")), str(ev.get("tool", "")), inp, action, key)
        if edge is None:
            unmapped.append({"repo": repo, "agent": ev.get("agent"), "tool": ev.get("tool"), "action": action,
                             "decision": decision, "timestamp": ev.get("timestamp"), "id": ev.get("id")})
            continue
        decisions[str(ev.get("id"))] = {"edge": edge.id, "session": str(ev.get("session", ""))}
        row = rows.setdefault(edge.id, {"edge": edge.id, "repo": repo, "who": inv.nodes[edge.source].name,
                                        "action": edge.action, "target": inv.nodes[edge.target].name,
                                        "classification": edge.classification, "events": 0,
                                        "decisions": {"allow": 0, "ask": 0, "deny": 0}, "approvals": [],
                                        "outcomes": {}, "sessions": set(), "first": None, "last": None,
                                        "rules": set(), "validation": []})
        row["events"] += 1
        row["decisions"][decision] = row["decisions"].get(decision, 0) + 1
        row["sessions"].add(str(ev.get("session", "")))
        ts = str(ev.get("timestamp", ""))
        row["first"] = min(filter(None, [row["first"], ts]), default=None)
        row["last"] = max(filter(None, [row["last"], ts]), default=None)
        row["rules"].update(str(r.get("id", "")) for r in (ev.get("result") or {}).get("rules") or [] if isinstance(r, Mapping))
    for ev in followups:
        link = decisions.get(str(ev.get("decision_id", "")))
        if link is None:
            continue
        row = rows[link["edge"]]
        if ev.get("kind") == "approval":
            row["approvals"].append({"approver": (ev.get("approver") or {}).get("id", ""), "via": (ev.get("approver") or {}).get("via", ""),
                                     "granted": bool(ev.get("granted")), "at": ev.get("timestamp")})
        else:
            status = str((ev.get("outcome") or {}).get("status", "unknown"))
            row["outcomes"][status] = row["outcomes"].get(status, 0) + 1
    for row in rows.values():
        row["validation"] = [t for s in sorted(row["sessions"]) for t in tests_by_session.get(s, [])][:20]
        row["sessions"] = len(row["sessions"])
        row["rules"] = sorted(row["rules"] - {""})
        edge = inv.edges[row["edge"]]
        edge.observed = {k: row[k] for k in ("events", "decisions", "approvals", "outcomes", "first", "last")}
        if edge.classification == "ungoverned":
            row["note"] = "Warden recorded this path although the map found no control on it: a hook or proxy exists outside the scanned files"
    return {"paths": sorted(rows.values(), key=lambda r: (r["repo"], r["who"], r["action"])),
            "unmapped": unmapped[:500], "unmapped_total": len(unmapped),
            "paths_without_events": sum(1 for e in inv.edges.values() if e.agent and e.id not in rows)}

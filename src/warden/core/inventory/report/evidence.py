"""Markdown for `warden evidence --inventory`: the map's paths with what the audit log shows."""

from __future__ import annotations

from typing import Any

from warden.core.inventory.model import Inventory
from warden.core.inventory.report.common import CLASS_LABEL


def evidence_markdown(inv: Inventory, result: dict[str, Any]) -> str:
    out = ["# Agent Action BOM — evidence", "",
           f"{result.get('events_read', 0)} audit events read; {len(result['paths'])} mapped paths have events; "
           f"{result['paths_without_events']} agent paths have none; {result['unmapped_total']} events match no mapped path.",
           "", "| repo | who | can | target | classification | events | allow/ask/deny | approved by | outcomes | validation | first — last |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["paths"]:
        d = r["decisions"]
        approvers = ", ".join(f"{a['approver'] or '?'} ({'granted' if a['granted'] else 'refused'})" for a in r["approvals"]) or "—"
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())) or "—"
        tests = ", ".join(f"`{t['command'][:40]}` {t['decision']}" for t in r["validation"][:3]) or "—"
        out.append(f"| {r['repo']} | {r['who']} | {r['action']} | {r['target']} | {CLASS_LABEL.get(r['classification'], r['classification'])} "
                   f"| {r['events']} | {d.get('allow', 0)}/{d.get('ask', 0)}/{d.get('deny', 0)} | {approvers} | {outcomes} | {tests} "
                   f"| {r['first'] or ''} — {r['last'] or ''} |")
    if result["unmapped"]:
        out += ["", "## Events on no mapped path", "", "| repo | agent | tool | action | decision | time |", "|---|---|---|---|---|---|"]
        out += [f"| {u['repo']} | {u['agent'] or '?'} | {u['tool']} | {u['action']} | {u['decision']} | {u['timestamp']} |"
                for u in result["unmapped"][:100]]
    return "\n".join(out)

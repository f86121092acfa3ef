"""Labels shared by the renderers."""

from __future__ import annotations

from warden.core.inventory.model import Edge, Inventory

CLASS_LABEL = {"allowed": "allowed", "approval-required": "approval required", "blocked": "blocked",
               "ungoverned": "UNGOVERNED", "context": "context"}
CLASS_COLOR = {"allowed": "#2e7d32", "approval-required": "#b26a00", "blocked": "#c62828",
               "ungoverned": "#6a1b9a", "context": "#78909c"}
SEV_ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


def name(inv: Inventory, node_id: str) -> str:
    node = inv.nodes.get(node_id)
    return node.name if node else node_id


def credential_text(inv: Inventory, e: Edge) -> str:
    if not e.credential:
        return "—"
    return f"{name(inv, e.credential)} ({e.authority})"


def where_text(e: Edge) -> str:
    return f"{e.where.path}:{e.where.line}" if e.where and e.where.line else (e.where.path if e.where else "")


def observed_text(e: Edge) -> str:
    """What the audit log showed for the path (with --audit): events and allow/ask/deny, approvals."""
    o = e.observed
    if not o:
        return "—"
    d = o.get("decisions") or {}
    text = f"{o.get('events', 0)} ({d.get('allow', 0)}/{d.get('ask', 0)}/{d.get('deny', 0)})"
    approvers = sorted({a.get("approver", "") for a in o.get("approvals") or [] if a.get("granted")} - {""})
    return text + (f", approved by {', '.join(approvers)}" if approvers else "")


def sorted_edges(inv: Inventory, repo: str) -> list[Edge]:
    order = {c: i for i, c in enumerate(("ungoverned", "blocked", "approval-required", "allowed", "context"))}
    return sorted((e for e in inv.edges.values() if e.repo == repo),
                  key=lambda e: (order.get(e.classification, 9), name(inv, e.source), e.action, name(inv, e.target)))

"""The action-control graph as Graphviz DOT: one cluster per repository, edges coloured by classification."""

from __future__ import annotations

from warden.core.inventory.model import Edge, Inventory
from warden.core.inventory.report.common import CLASS_COLOR

SHAPES = {
    "agent": 'shape=box style="rounded,filled" fillcolor="#e3f2fd" color="#1565c0"',
    "workflow": 'shape=component style=filled fillcolor="#eceff1" color="#455a64"',
    "tool": 'shape=hexagon style=filled fillcolor="#f3e5f5" color="#6a1b9a"',
    "credential": 'shape=note style=filled fillcolor="#fff8e1" color="#b26a00"',
    "target": 'shape=cylinder style=filled fillcolor="#e8f5e9" color="#2e7d32"',
    "actor": 'shape=ellipse style=filled fillcolor="#ffebee" color="#c62828"',
    "instructions": 'shape=note style=filled fillcolor="#fafafa" color="#757575"',
}
MAX_EDGES = 500


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _keep(inv: Inventory) -> list[Edge]:
    edges = sorted(inv.edges.values(), key=lambda e: (e.repo, e.source, e.action, e.target))
    if len(edges) <= MAX_EDGES:
        return edges
    # A picture of thousands of arrows helps nobody: keep what a reviewer acts on first.
    order = {"ungoverned": 0, "blocked": 1, "approval-required": 2, "allowed": 3, "context": 4}
    return sorted(edges, key=lambda e: (order.get(e.classification, 5), e.action == "read-code"))[:MAX_EDGES]


def dot(inv: Inventory) -> str:
    edges = _keep(inv)
    used = {e.source for e in edges} | {e.target for e in edges}
    out = ["digraph warden_inventory {", '  graph [rankdir=LR fontname="Helvetica" fontsize=12 nodesep=0.25 ranksep=0.9 '
           'bgcolor=white pad=0.3 labelloc=t label="Agent Action BOM — action-control graph"];',
           '  node [fontname="Helvetica" fontsize=10];', '  edge [fontname="Helvetica" fontsize=8 arrowsize=0.6];']
    by_repo: dict[str, list[str]] = {}
    for node_id in sorted(used):
        node = inv.nodes.get(node_id)
        if node is None:
            continue
        by_repo.setdefault(node.repo, []).append(node_id)
    for i, (repo, ids) in enumerate(sorted(by_repo.items())):
        shared = repo == "*"
        if not shared:
            out.append(f"  subgraph cluster_{i} {{ label={_q('repository ' + repo if repo != '~' else 'this machine')} "
                       'style="rounded,dashed" color="#90a4ae" fontcolor="#37474f";')
        for node_id in ids:
            node = inv.nodes[node_id]
            label = node.name if len(node.name) <= 38 else node.name[:36] + "…"
            if node.kind == "tool" and node.detail.get("type") == "mcp-server":
                label += "\n(behind Warden)" if node.detail.get("behind_warden_proxy") else "\n(direct)"
            out.append(f"    {_q(node_id)} [label={_q(label)} {SHAPES.get(node.kind, '')}];")
        if not shared:
            out.append("  }")
    for e in edges:
        color = CLASS_COLOR.get(e.classification, "#000000")
        cred = inv.nodes.get(e.credential)
        label = e.action + (f"\n[{cred.name}]" if cred and e.action != "use-credential" else "")
        style = "dashed" if e.classification == "context" else "bold" if e.classification == "ungoverned" else "solid"
        out.append(f"  {_q(e.source)} -> {_q(e.target)} [label={_q(label)} color={_q(color)} fontcolor={_q(color)} "
                   f"style={style}];")
    legend = " | ".join(f"{k}" for k in CLASS_COLOR)
    out.append(f'  legend [shape=plaintext fontsize=9 label={_q("edge colours: " + legend)}];')
    out.append("}")
    return "\n".join(out) + "\n"

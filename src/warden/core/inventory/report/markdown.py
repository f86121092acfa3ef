"""Markdown report (for pull requests, wikis, the note) and the terminal summary."""

from __future__ import annotations

from warden.core.inventory.model import SEVERITIES, Inventory
from warden.core.inventory.report.common import (
    CLASS_LABEL,
    SEV_ICON,
    credential_text,
    name,
    observed_text,
    sorted_edges,
    where_text,
)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(inv: Inventory, *, max_rows: int = 400) -> str:
    c = inv.counts()
    out = ["# Agent Action BOM", "",
           f"Generated {inv.meta.get('generated_at', '')} by {inv.meta.get('generator', 'warden')} — "
           f"{len(inv.repos)} root(s), {len(inv.nodes)} nodes, {len(inv.edges)} action paths.", ""]
    out += ["| classification | paths |", "|---|---|"]
    out += [f"| {CLASS_LABEL[k]} | {v} |" for k, v in c["edges"].items()]
    out += ["", "| severity | findings |", "|---|---|"]
    out += [f"| {SEV_ICON[s]} {s} | {c['findings'][s]} |" for s in reversed(SEVERITIES)]
    for note in inv.meta.get("notes") or []:
        out += ["", f"> {note}"]
    data = inv.to_json()
    out += ["", "## Findings", ""]
    if not data["findings"]:
        out.append("None.")
    for f in data["findings"]:
        where = f["where"]
        loc = f" — `{where['path']}{':' + str(where['line']) if where['line'] else ''}`" if where else ""
        out.append(f"- {SEV_ICON[f['severity']]} **{f['severity']}** [{f['repo']}] {_cell(f['title'])}{loc}  \n  {f['message']}")
    for repo in inv.repos:
        rname = repo["name"]
        out += ["", f"## {rname}", "", f"Root `{repo['root']}`" + (f", default branch `{repo['default_branch']}`" if repo["default_branch"] else "")]
        pol = repo.get("policy") or {}
        if pol:
            layers = ", ".join(f"{x['layer']}:{x['path']}" for x in pol.get("layers") or [])
            out.append(f"Warden policy: {layers or 'none'}" + (f" — **does not load: {pol['error']}**" if pol.get("error") else ""))
        edges = sorted_edges(inv, rname)
        seen = bool(inv.meta.get("evidence"))  # --audit: one more column, what the log shows per path
        out += ["", "| who | can | target | credential | owner | Warden controls | Warden would | classification | evidence |"
                + (" seen (allow/ask/deny) |" if seen else ""), "|---|---|---|---|---|---|---|---|---|" + ("---|" if seen else "")]
        for e in edges[:max_rows]:
            v = (e.verdict or {}).get("decision", "—")
            cells = [name(inv, e.source), e.action, name(inv, e.target), credential_text(inv, e), e.owner or "—",
                     ", ".join(e.controls) or "none", v, CLASS_LABEL.get(e.classification, e.classification),
                     where_text(e) + (f" ({e.note})" if e.note else "")]
            out.append("| " + " | ".join(_cell(x) for x in cells + ([observed_text(e)] if seen else [])) + " |")
        if len(edges) > max_rows:
            out.append(f"\n… {len(edges) - max_rows} more paths in the JSON report.")
        servers = [n for n in inv.nodes.values() if n.repo == rname and n.detail.get("type") == "mcp-server"]
        if servers:
            out += ["", "MCP servers:", "", "| server | clients | transport | command / URL | credential env | auth | behind Warden proxy |",
                    "|---|---|---|---|---|---|---|"]
            for n in sorted(servers, key=lambda n: n.name):
                d = n.detail
                out.append("| " + " | ".join(_cell(x) for x in (
                    n.name, ", ".join(d.get("clients") or []), d.get("transport"), d.get("command") or d.get("url"),
                    ", ".join(d.get("credential_vars") or []) or "—", d.get("auth"),
                    "yes" if d.get("behind_warden_proxy") else "no")) + " |")
    if inv.problems:
        out += ["", "## Files that could not be read", "", "| root | file | problem | detail |", "|---|---|---|---|"]
        out += [f"| {p.repo} | `{_cell(p.path)}` | {p.kind} | {_cell(p.detail)} |" for p in inv.problems]
    return "\n".join(out) + "\n"


def text_summary(inv: Inventory) -> str:
    c = inv.counts()
    lines = [f"Agent Action BOM: {len(inv.repos)} root(s), {len(inv.edges)} action paths — "
             + ", ".join(f"{CLASS_LABEL[k]} {v}" for k, v in c["edges"].items() if v)]
    agents = [n for n in inv.nodes.values() if n.kind == "agent"]
    lines.append(f"  agents {len(agents)}, MCP servers {sum(1 for n in inv.nodes.values() if n.detail.get('type') == 'mcp-server')}, "
                 f"workflows {sum(1 for n in inv.nodes.values() if n.kind == 'workflow')}, "
                 f"credentials {sum(1 for n in inv.nodes.values() if n.kind == 'credential')}, file problems {c['problems']}")
    for f in inv.to_json()["findings"]:
        where = f["where"]
        loc = f" ({f['repo']}/{where['path']}{':' + str(where['line']) if where['line'] else ''})" if where else f" ({f['repo']})"
        lines.append(f"  {f['severity'].upper():8} {f['title']}{loc}")
    ev = inv.meta.get("evidence")
    if ev:
        lines.append(f"  audit: {ev.get('events_read', 0)} events read, {ev.get('paths_with_events', 0)} paths with events, "
                     f"{ev.get('unmapped_total', 0)} events on no mapped path (warden evidence --inventory for the table)")
    for note in inv.meta.get("notes") or []:
        lines.append(f"  note: {note}")
    lines.append("More: --format markdown | html | json | sarif | cyclonedx")
    return "\n".join(lines) + "\n"

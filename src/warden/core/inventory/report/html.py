"""A self-contained HTML report: summary, the drawn graph, findings, and every path per repository."""

from __future__ import annotations

import html as _h

from warden.core.inventory.model import SEVERITIES, Inventory
from warden.core.inventory.report.common import (
    CLASS_COLOR,
    CLASS_LABEL,
    credential_text,
    name,
    observed_text,
    sorted_edges,
    where_text,
)

SEV_COLOR = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#1565c0", "info": "#78909c"}
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,sans-serif;margin:0;color:#1f2933;background:#f7f9fb}
header{background:#102a43;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.8}
main{padding:20px 28px}.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:18px}
.card{background:#fff;border-radius:8px;padding:10px 16px;min-width:120px;box-shadow:0 1px 3px #0002;border-top:4px solid #999}
.card b{display:block;font-size:24px}.card span{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#52606d}
section{background:#fff;border-radius:8px;padding:14px 18px;margin-bottom:18px;box-shadow:0 1px 3px #0002}
h2{font-size:17px;margin:4px 0 10px}table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #e4e7eb;vertical-align:top}th{background:#f0f4f8}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;color:#fff;font-size:11px;font-weight:600;white-space:nowrap}
.graph{overflow:auto;max-height:900px;border:1px solid #e4e7eb;border-radius:6px;background:#fff}
.graph svg{max-width:100%;height:auto}code{font-size:11.5px}.warn{color:#b71c1c;font-weight:600}
"""


def _badge(text: str, color: str) -> str:
    return f'<span class="badge" style="background:{color}">{_h.escape(text)}</span>'


def html(inv: Inventory, *, svg: str = "", svg_error: str = "") -> str:
    e = _h.escape
    c = inv.counts()
    cards = "".join(f'<div class="card" style="border-top-color:{CLASS_COLOR[k]}"><b>{v}</b><span>{e(CLASS_LABEL[k])}</span></div>'
                    for k, v in c["edges"].items())
    cards += "".join(f'<div class="card" style="border-top-color:{SEV_COLOR[s]}"><b>{c["findings"][s]}</b><span>{s} findings</span></div>'
                     for s in reversed(SEVERITIES) if c["findings"][s])
    graph = (f'<div class="graph" id="graph">{svg}</div>' if svg else
             f'<p class="warn" id="graph-missing">The graph image could not be drawn: {e(svg_error)}</p>')
    legend = " ".join(_badge(CLASS_LABEL[k], v) for k, v in CLASS_COLOR.items())
    data = inv.to_json()
    rows = []
    for f in data["findings"]:
        w = f["where"]
        loc = f"{w['path']}{':' + str(w['line']) if w['line'] else ''}" if w else ""
        rows.append(f"<tr><td>{_badge(f['severity'], SEV_COLOR[f['severity']])}</td><td>{e(f['repo'])}</td>"
                    f"<td><b>{e(f['title'])}</b><br>{e(f['message'])}</td><td><code>{e(loc)}</code></td></tr>")
    findings = ("<table id='findings'><tr><th>severity</th><th>repo</th><th>finding</th><th>where</th></tr>"
                + "".join(rows) + "</table>") if rows else "<p>No findings.</p>"
    repos = []
    seen = bool(inv.meta.get("evidence"))
    for r in inv.repos:
        prow = []
        for x in sorted_edges(inv, r["name"]):
            v = (x.verdict or {}).get("decision", "—")
            prow.append(f"<tr><td>{e(name(inv, x.source))}</td><td>{e(x.action)}</td><td>{e(name(inv, x.target))}</td>"
                        f"<td>{e(credential_text(inv, x))}</td><td>{e(x.owner or '—')}</td>"
                        f"<td>{e(', '.join(x.controls) or 'none')}</td><td>{e(v)}</td>"
                        f"<td>{_badge(CLASS_LABEL.get(x.classification, x.classification), CLASS_COLOR.get(x.classification, '#000'))}</td>"
                        f"<td><code>{e(where_text(x))}</code>{'<br>' + e(x.note) if x.note else ''}</td>"
                        + (f"<td>{e(observed_text(x))}</td>" if seen else "") + "</tr>")
        pol = r.get("policy") or {}
        pol_text = ", ".join(f"{p['layer']}:{p['path']}" for p in pol.get("layers") or [])
        repos.append(f"<section><h2>{e(r['name'])}</h2><p><code>{e(r['root'])}</code>"
                     + (f" — Warden policy: {e(pol_text)}" if pol_text else "")
                     + (f" <span class='warn'>policy does not load: {e(pol['error'])}</span>" if pol.get("error") else "")
                     + "</p><table><tr><th>who</th><th>can</th><th>target</th><th>credential</th><th>owner</th>"
                     "<th>Warden controls</th><th>Warden would</th><th>classification</th><th>evidence</th>"
                     + ("<th>seen (allow/ask/deny)</th>" if seen else "") + "</tr>"
                     + "".join(prow) + "</table></section>")
    problems = "".join(f"<tr><td>{e(p.repo)}</td><td><code>{e(p.path)}</code></td><td>{e(p.kind)}</td><td>{e(p.detail)}</td></tr>"
                       for p in inv.problems)
    notes = "".join(f"<p><i>{e(n)}</i></p>" for n in inv.meta.get("notes") or [])
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Agent Action BOM</title>
<style>{CSS}</style></head><body><header><h1>Agent Action BOM</h1>
<p>{len(inv.repos)} root(s) · {len(inv.nodes)} nodes · {len(inv.edges)} action paths · generated {e(str(inv.meta.get('generated_at', '')))}
by {e(str(inv.meta.get('generator', 'warden')))}</p></header><main>
<div class="cards" id="summary">{cards}</div>{notes}
<section><h2>Action-control graph</h2><p>{legend}</p>{graph}</section>
<section><h2>Findings</h2>{findings}</section>
{''.join(repos)}
{('<section><h2>Files that could not be read</h2><table id="problems"><tr><th>root</th><th>file</th><th>problem</th><th>detail</th></tr>' + problems + '</table></section>') if problems else ''}
</main></body></html>
"""

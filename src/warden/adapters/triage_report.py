"""The triage report as one self-contained HTML page: plots as embedded PNG images, alerts as a table.

Plots (matplotlib, Agg backend, no display): decisions over time by verdict, the rules that decided
most, alerts by kind, and how long approvals took. Everything is inline (no CDN, no script), so
the file can be attached to a ticket or opened offline.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from typing import Any

from warden.core.triage.detect import TriageResult, _epoch

COLORS = {"allow": "#2e7d32", "ask": "#f9a825", "deny": "#c62828"}
SEV_COLORS = {"critical": "#7b1fa2", "high": "#c62828", "medium": "#ef6c00", "low": "#607d8b"}


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _plots(result: TriageResult) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    # decisions over time, by verdict, in hourly (or daily for long spans) buckets
    times = [(t, d) for ts, d in result.timeline if (t := _epoch(ts)) is not None]
    fig, ax = plt.subplots(figsize=(8, 3))
    if times:
        start, end = min(t for t, _ in times), max(t for t, _ in times)
        width = 3600.0 if end - start <= 4 * 86400 else 86400.0
        buckets = sorted({int((t - start) // width) for t, _ in times})
        for verdict in ("allow", "ask", "deny"):
            counts = Counter(int((t - start) // width) for t, d in times if d == verdict)
            ax.plot(buckets, [counts.get(b, 0) for b in buckets], label=verdict, color=COLORS[verdict])
        ax.set_xlabel("hours since start" if width == 3600 else "days since start")
        ax.legend(loc="upper right")
    ax.set_title("Decisions over time")
    ax.set_ylabel("decisions")
    out["timeline"] = _png(fig)

    fig, ax = plt.subplots(figsize=(8, 3.2))
    top = sorted(result.by_rule.items(), key=lambda kv: -kv[1])[:10][::-1]
    ax.barh([k for k, _ in top], [v for _, v in top], color="#455a64")
    ax.set_title("Rules that decided most")
    out["rules"] = _png(fig)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    kinds = Counter(a.kind for a in result.alerts)
    if kinds:
        names = sorted(kinds, key=lambda k: -kinds[k])
        ax.bar(names, [kinds[n] for n in names], color="#c62828")
        ax.tick_params(axis="x", rotation=35)
    ax.set_title("Alerts by kind")
    out["kinds"] = _png(fig)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    if result.approval_latency_s:
        ax.hist(result.approval_latency_s, bins=20, color="#1565c0")
    ax.set_title("Approval latency")
    ax.set_xlabel("seconds from ask to approval")
    out["latency"] = _png(fig)
    return out


def render_html(result: TriageResult, *, title: str = "Warden triage") -> str:
    plots = _plots(result)
    esc = html.escape
    rows = []
    for a in result.alerts[:200]:
        rows.append(
            f"<tr><td><span class='sev' style='background:{SEV_COLORS[a.severity]}'>{esc(a.severity)}</span></td>"
            f"<td>{a.score}</td><td>{esc(a.title)}</td><td><code>{esc(a.session)}</code></td>"
            f"<td>{esc(a.agent)}</td><td>{esc(a.why)}</td><td>{len(a.events)}</td>"
            f"<td>{'<br>'.join(f'<code>{esc(d)}</code>' for d in a.details[:3])}</td></tr>")
    kinds = Counter(a.kind for a in result.alerts)
    summary = (f"{result.events:,} events from {result.sessions:,} sessions → <strong>{len(result.alerts)} alerts"
               f"</strong> ({result.reduction:,.0f} events per alert). Decisions: "
               + ", ".join(f"{k} {v:,}" for k, v in sorted(result.by_decision.items())))
    problems = "".join(f"<li>{esc(p)}</li>" for p in result.problems)
    img = "".join(f"<figure><img alt='{esc(name)}' src='data:image/png;base64,{data}'></figure>"
                  for name, data in plots.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #1b1b1b; padding: 0 1rem; }}
h1 {{ margin-bottom: .2rem; }} .lead {{ color: #444; }}
.plots {{ display: flex; flex-wrap: wrap; gap: 1rem; }} figure {{ margin: 0; flex: 1 1 45%; }} img {{ max-width: 100%; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 1rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }} code {{ font-size: 90%; }}
.sev {{ color: white; padding: .1rem .45rem; border-radius: .3rem; font-size: 85%; }}
</style></head><body>
<h1>{esc(title)}</h1>
<p class="lead">{summary}</p>
<p>Alerts by kind: {esc(", ".join(f"{k} {v}" for k, v in kinds.most_common())) or "none"}</p>
<section class="plots" aria-label="plots">{img}</section>
<h2>Alerts</h2>
<table><thead><tr><th>severity</th><th>score</th><th>alert</th><th>session</th><th>agent</th><th>why it matters</th>
<th>events</th><th>what</th></tr></thead><tbody>{''.join(rows) or '<tr><td colspan=8>No alerts.</td></tr>'}</tbody></table>
{f'<h2>Problems reading the log</h2><ul>{problems}</ul>' if problems else ''}
</body></html>
"""


def text_report(result: TriageResult, limit: int = 30) -> str:
    lines = [f"{result.events:,} events, {result.sessions:,} sessions -> {len(result.alerts)} alerts "
             f"({result.reduction:,.0f} events per alert)"]
    for a in result.alerts[:limit]:
        lines.append(f"[{a.severity:8}] {a.score:3} {a.title} — session {a.session} ({a.agent or 'agent?'}): {a.why}")
        for d in a.details[:2]:
            lines.append(f"             {d}")
    if len(result.alerts) > limit:
        lines.append(f"... {len(result.alerts) - limit} more (use --format json or html)")
    lines += [f"problem: {p}" for p in result.problems]
    return "\n".join(lines)

"""The dashboard: decisions over time (an SVG chart drawn here, no script library), top denied and top asked
rules, approval latency, pending approvals, active kills, and the machines that need a person.

The chart has a text twin (a table in a disclosure), so every figure it draws can also be read.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from warden.server.ui_data import VERDICTS, WINDOWS, duration_text
from warden.server.web_html import ago, badge, esc, when

COLOURS = {"allow": "#16a34a", "ask": "#d97706", "deny": "#dc2626"}
WINDOW_LABELS = {1: "last hour", 6: "last 6 hours", 24: "last 24 hours", 168: "last 7 days", 720: "last 30 days"}


def _tick(epoch: float, bucket_s: int) -> str:
    return time.strftime("%H:%M" if bucket_s < 86400 else "%m-%d", time.gmtime(epoch))


def chart_svg(series: list[Mapping[str, Any]], bucket_s: int, width: int = 880, height: int = 240) -> str:
    """Stacked bars, one per bucket (allow at the bottom, then ask, then deny), with a labelled y axis."""
    left, bottom, top = 44, 28, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max((sum(int(b[v]) for v in VERDICTS) for b in series), default=0)
    scale = _nice(peak)
    n = max(1, len(series))
    slot = plot_w / n
    bar = max(2.0, slot * 0.72)
    parts = []
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#374151">'
                     f'{round(scale * frac)}</text>')
    label_every = max(1, n // 8)
    for i, b in enumerate(series):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        tip = ", ".join(f"{b[v]} {v}" for v in VERDICTS)
        parts.append(f"<g><title>{esc(_tick(b['start'], bucket_s))} UTC: {esc(tip)}</title>")
        for v in VERDICTS:
            h = plot_h * int(b[v]) / scale if scale else 0
            if h > 0:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS[v]}"/>')
        parts.append("</g>")
        if i % label_every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 9}" text-anchor="middle" font-size="11" '
                         f'fill="#374151">{esc(_tick(b["start"], bucket_s))}</text>')
    total = {v: sum(int(b[v]) for b in series) for v in VERDICTS}
    label = (f"Decisions over time: {total['allow']} allowed, {total['ask']} asked, {total['deny']} denied, in "
             f"{n} buckets of {duration_text(bucket_s)}")
    return (f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title" '
            f'xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{esc(label)}</title>'
            f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#6b7280"/>{"".join(parts)}</svg>')


def _nice(peak: int) -> int:
    """The y axis top: the peak rounded up to 1, 2 or 5 times a power of ten."""
    if peak <= 0:
        return 1
    mag = 1
    while mag * 10 <= peak:
        mag *= 10
    for m in (1, 2, 5, 10):
        if peak <= m * mag:
            return m * mag
    return 10 * mag


def _series_table(series: list[Mapping[str, Any]], bucket_s: int) -> str:
    rows = "".join(f"<tr><th scope='row'>{esc(_tick(b['start'], bucket_s))}</th>"
                   + "".join(f"<td class='num'>{b[v]}</td>" for v in VERDICTS) + "</tr>"
                   for b in series if any(b[v] for v in VERDICTS))
    return ("<details><summary>The chart as a table</summary><div class='table-wrap'><table><thead><tr>"
            "<th scope='col'>bucket start (UTC)</th>" + "".join(f"<th scope='col' class='num'>{v}</th>" for v in VERDICTS)
            + f"</tr></thead><tbody>{rows or '<tr><td colspan=4>no decisions</td></tr>'}</tbody></table></div></details>")


def _rules_table(rows: list[list[Any]], verdict: str, caption: str) -> str:
    if not rows:
        return f'<p class="muted">No rule {"denied" if verdict == "deny" else "asked"} in this window.</p>'
    body = "".join(f"<tr><td><code>{esc(r)}</code></td><td class='num'>{n}</td>"
                   f"<td><a href='/ui/audit?verdict={verdict}&amp;q={esc(r)}'>see events</a></td></tr>"
                   for r, n in rows)
    return (f"<div class='table-wrap'><table><caption class='sr-only'>{esc(caption)}</caption><thead><tr>"
            f"<th scope='col'>rule</th><th scope='col' class='num'>decisions</th><th scope='col'>audit</th></tr>"
            f"</thead><tbody>{body}</tbody></table></div>")


def _secs(v: float | None) -> str:
    return "—" if v is None else (f"{v:.1f} s" if v < 90 else duration_text(v))


def _machines(view: Mapping[str, Any]) -> str:
    now = view["now"]
    att = view["attention"]
    if att:
        items = "".join(f"<tr><th scope='row' class='nowrap'>{esc(m['id'])}</th><td>{badge(m['state'], 's-' + m['state'])}</td>"
                        f"<td>{esc(m['owner'])}</td><td class='nowrap'>{ago(m['last_seen'], now)}</td>"
                        f"<td><ul class='plain'>{''.join(f'<li>{esc(r)}</li>' for r in m['reasons'])}</ul></td></tr>"
                        for m in att)
        attention = (f"<div class='table-wrap'><table id='attention'><caption class='sr-only'>Machines that need a person"
                     f"</caption><thead><tr><th scope='col'>machine</th><th scope='col'>state</th><th scope='col'>owner</th>"
                     f"<th scope='col'>last contact</th><th scope='col'>why</th></tr></thead><tbody>{items}</tbody></table>"
                     "</div>")
    else:
        attention = '<p class="muted" id="attention">Every machine is in touch and reports live hooks.</p>'
    rows = "".join(f"<tr><th scope='row' class='nowrap'>{esc(m['id'])}</th><td>{badge(m['state'], 's-' + m['state'])}</td>"
                   f"<td>{esc(m['owner'])}</td><td>{esc(m['version']) or '—'}</td><td>{when(m['last_seen'])}</td>"
                   f"<td>{'yes' if m['hooks_live'] else ('no' if m['hooks_live'] is False else '—')}</td>"
                   f"<td class='num'>{esc(m['outbox_pending']) if m['outbox_pending'] is not None else '—'}</td></tr>"
                   for m in view["machines"])
    every = (f"<details><summary>All machines ({len(view['machines'])})</summary><div class='table-wrap'><table><thead><tr>"
             "<th scope='col'>machine</th><th scope='col'>state</th><th scope='col'>owner</th><th scope='col'>client</th>"
             "<th scope='col'>last contact</th><th scope='col'>hooks live</th><th scope='col' class='num'>outbox</th>"
             f"</tr></thead><tbody>{rows}</tbody></table></div></details>") if rows else ""
    return attention + every


def dashboard_page(view: Mapping[str, Any]) -> str:
    t, lat = view["totals"], view["latency"]
    tiles = [(sum(t.values()), "decisions"), (t["allow"], "allowed"), (t["ask"], "asked"), (t["deny"], "denied"),
             (view["pending"], "pending approvals"), (len(view["kills"]), "active kills"),
             (_secs(lat["median_s"]), "approval latency, median"), (_secs(lat["p90_s"]), "approval latency, p90"),
             (len(view["attention"]), "machines needing attention")]
    tile_html = "".join(f'<div class="tile"><span class="n">{esc(n)}</span><span class="l">{esc(label)}</span></div>'
                        for n, label in tiles)
    window_opts = "".join(f'<option value="{h}"{" selected" if h == view["window_hours"] else ""}>'
                          f'{esc(WINDOW_LABELS[h])}</option>' for h in WINDOWS)
    kills = "".join(f"<li><b>{esc(k['scope'])}{(' ' + esc(k['value'])) if k['value'] else ''}</b>: {esc(k['reason'])} "
                    f"<span class='muted'>by {esc(k['by'])}, {ago(k['at'], view['now'])}</span></li>"
                    for k in view["kills"])
    legend = "".join(f'<span><span class="sw sw-{v}" aria-hidden="true"></span>{label}</span>'
                     for v, label in (("allow", "allowed"), ("ask", "asked"), ("deny", "denied")))
    return f"""<h1>Dashboard <small class="muted">({esc(WINDOW_LABELS[view['window_hours']])})</small></h1>
<form class="filters" method="get" action="/ui/dashboard" aria-label="Dashboard settings">
<label for="d-hours">Window<select id="d-hours" name="hours">{window_opts}</select></label>
<label for="d-stale">A machine is stale after (minutes)<input id="d-stale" name="stale_minutes" type="number" min="1"
 step="any" size="6" value="{esc(f"{view['stale_minutes']:g}")}"></label><button type="submit">Show</button></form>
<section class="tiles" aria-label="Totals">{tile_html}</section>
<div class="panel"><h2 id="h-chart">Decisions over time, by verdict</h2>
<figure class="chart" aria-labelledby="h-chart"><div class="legend">{legend}</div>{chart_svg(view['series'], view['bucket_s'])}
<figcaption>Buckets of {esc(duration_text(view['bucket_s']))}, UTC. Latency: {lat['decided']} requests decided in the
window, from request to decision.</figcaption></figure>{_series_table(view['series'], view['bucket_s'])}</div>
<div class="grid2"><section class="panel" aria-labelledby="h-denied"><h2 id="h-denied">Top denied rules</h2>
{_rules_table(view['top_denied'], 'deny', 'Rules that denied most often')}</section>
<section class="panel" aria-labelledby="h-asked"><h2 id="h-asked">Top asked rules</h2>
{_rules_table(view['top_asked'], 'ask', 'Rules that asked most often')}</section></div>
<div class="grid2"><section class="panel" aria-labelledby="h-pending"><h2 id="h-pending">Pending approvals</h2>
<p><b>{view['pending']}</b> waiting · <a href="/ui/approvals">open the queue</a></p></section>
<section class="panel" aria-labelledby="h-kills"><h2 id="h-kills">Active kill switches</h2>
{f'<ul class="plain">{kills}</ul>' if kills else '<p class="muted">None: agents run under the policy.</p>'}</section></div>
<section class="panel" aria-labelledby="h-machines"><h2 id="h-machines">Machines that need attention</h2>
<p class="muted">Stale: no contact for more than {esc(f"{view['stale_minutes']:g}")} minutes. Unhealthy: the last
<code>warden doctor</code> report says the hooks are not live or something failed.</p>{_machines(view)}</section>"""

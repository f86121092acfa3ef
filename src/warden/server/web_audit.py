"""The audit explorer: sessions (filtered, searched) and one session as a timeline.

Plain GET forms and links, no script: every view is a URL that can be shared or bookmarked. Search runs
over what the log holds, which is already redacted (secrets never reach it in clear).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warden.core.audit.events import KINDS
from warden.server.ui_data import VERDICTS, EventFilter, machine_of, subject_of, verdict_of
from warden.server.web_html import badge, bullets, esc, options, query, ts_text, verdict_badge

EVIDENCE_PACK = "/v1/evidence/pack"  # the central evidence-pack endpoint (warden.server.evidence_api)


def evidence_link(session: str, allowed: bool) -> str:
    """The session's evidence pack (a zip ``warden audit verify PACK`` checks), for roles that may download it."""
    if not allowed:
        return '<span class="muted">packs: auditors</span>'
    href = esc(query(EVIDENCE_PACK, {"session": session}))
    return f'<a href="{href}" download>Evidence pack<span class="sr-only"> for session {esc(session)}</span></a>'


def filters_form(f: EventFilter, facets: Mapping[str, list[str]]) -> str:
    kinds = options(sorted(KINDS), f.kind, "any kind")
    return f"""<form class="filters" method="get" action="/ui/audit" role="search" aria-label="Filter and search the audit log">
<label for="a-q">Search (redacted subjects, reasons, rules)<input id="a-q" name="q" type="search" size="28" value="{esc(f.q)}"></label>
<label for="a-agent">Agent<input id="a-agent" name="agent" list="agents" size="12" value="{esc(f.agent)}"></label>
<datalist id="agents">{"".join(f'<option value="{esc(a)}">' for a in facets.get("agents", []))}</datalist>
<label for="a-verdict">Verdict<select id="a-verdict" name="verdict">{options(VERDICTS, f.verdict, "any verdict")}</select></label>
<label for="a-kind">Event kind<select id="a-kind" name="kind">{kinds}</select></label>
<label for="a-machine">Machine<input id="a-machine" name="machine" list="machines" size="14" value="{esc(f.machine)}"></label>
<datalist id="machines">{"".join(f'<option value="{esc(m)}">' for m in facets.get("machines", []))}</datalist>
<label for="a-since">From (UTC)<input id="a-since" name="since" type="datetime-local" value="{esc(f.since[:16])}"></label>
<label for="a-until">Until (UTC)<input id="a-until" name="until" type="datetime-local" value="{esc(f.until[:16])}"></label>
<button type="submit" class="primary">Show</button> <a href="/ui/audit">Clear</a></form>"""


def sessions_table(view: Mapping[str, Any], f: EventFilter, packs: bool) -> str:
    rows = []
    for s in view["sessions"]:
        link = esc(query(f"/ui/audit/sessions/{s['session']}", f.as_query()))
        counts = " ".join(f"{verdict_badge(v)} {s[v]}" for v in VERDICTS if s[v])
        prompt = esc(s["prompt"][:140]) if s["prompt"] else '<span class="muted">no prompt recorded</span>'
        rows.append(f"""<tr><th scope="row" class="nowrap"><a href="{link}">{esc(s['session'][:40])}</a></th>
<td class="nowrap">{ts_text(s['first'])}<br><span class="muted">to {ts_text(s['last'])}</span></td>
<td>{esc(', '.join(s['actors']))}</td><td class="nowrap">{esc(', '.join(s['agents'])) or '—'}</td>
<td>{esc(', '.join(s['machines']))}</td><td>{prompt}</td><td class="num">{s['calls']}</td>
<td class="nowrap">{counts or '—'}</td><td class="nowrap">{evidence_link(s['session'], packs)}</td></tr>""")
    if not rows:
        return '<p class="empty">No session has events that match.</p>'
    return f"""<div class="table-wrap"><table><caption class="sr-only">Sessions, newest activity first</caption>
<thead><tr><th scope="col">session</th><th scope="col">when</th><th scope="col">actor</th><th scope="col">agent</th>
<th scope="col">machine or key</th><th scope="col">first prompt</th><th scope="col" class="num nowrap">tool calls</th>
<th scope="col">verdicts</th><th scope="col">evidence</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"""


def events_table(evs: list[dict[str, Any]]) -> str:
    rows = []
    for e in evs:
        sid = str(e.get("session", ""))
        link = f'<a href="/ui/audit/sessions/{esc(sid)}#e-{esc(e.get("id"))}">{esc(sid[:24])}</a>' if sid else "—"
        rows.append(f"<tr><td class='nowrap'>{ts_text(str(e.get('timestamp', '')))}</td><td>{esc(e.get('kind'))}</td>"
                    f"<td class='nowrap'>{link}</td><td class='nowrap'>{esc(e.get('agent')) or '—'}</td><td>{esc(machine_of(e))}</td>"
                    f"<td>{verdict_badge(verdict_of(e))}</td><td>{esc(e.get('tool'))}</td>"
                    f"<td><code>{esc(subject_of(e)[:160])}</code></td></tr>")
    return f"""<div class="table-wrap"><table><caption class="sr-only">Matching events, newest first</caption>
<thead><tr><th scope="col">time (UTC)</th><th scope="col">kind</th><th scope="col">session</th><th scope="col">agent</th>
<th scope="col">machine or key</th><th scope="col">verdict</th><th scope="col">tool</th><th scope="col">what</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table></div>"""


def explorer(view: Mapping[str, Any], evs: list[dict[str, Any]], f: EventFilter, packs: bool) -> str:
    capped = ('<p class="note">The scan stopped at the newest 20,000 events: narrow the time range to see older '
              'ones.</p>' if view["capped"] else "")
    matched = (f"<h2 id='h-events'>Matching events <small class='muted'>(newest {len(evs)})</small></h2>"
               f"{events_table(evs)}" if f.active() and evs else "")
    return f"""<h1>Audit explorer</h1>{filters_form(f, view['facets'])}
<p class="muted" role="status">{len(view['sessions'])} sessions, {view['matched_events']} matching events{
'; the counts below are of the matching events' if f.active() else ''}.</p>{capped}
<section aria-labelledby="h-sessions"><h2 id="h-sessions">Sessions</h2>{sessions_table(view, f, packs)}</section>
<section aria-labelledby="h-events">{matched}</section>"""


def _rules_line(ev: Mapping[str, Any]) -> str:
    res = ev.get("result") or {}
    rules = [r for r in res.get("rules") or [] if isinstance(r, Mapping)]
    if not rules:
        return ""
    return "Rules: " + ", ".join(f"<code>{esc(r.get('id'))}</code> ({esc(r.get('effect'))})" for r in rules[:6])


def _linked(step: Mapping[str, Any]) -> str:
    items = []
    for c in step["controls"]:
        data = c.get("data") or {}
        req = data.get("request") if isinstance(data.get("request"), Mapping) else {}
        rid = str(req.get("id", "")) if req else ""
        ref = f' <a href="/ui/approvals?status=all&amp;open={esc(rid)}">request {esc(rid)}</a>' if rid else ""
        items.append(f"{badge('control', 'k-info')} {ts_text(str(c.get('timestamp', '')))} <code>{esc(c.get('op'))}</code>"
                     f"{ref}")
    for a in step["approvals"]:
        who = (a.get("approver") or {}).get("id", "")
        reason = (a.get("result") or {}).get("reason", "")
        items.append(f"{badge('approval', 'k-info')} {ts_text(str(a.get('timestamp', '')))} "
                     f"{verdict_badge('allow' if a.get('granted') else 'deny')} "
                     f"{'approved' if a.get('granted') else 'denied'} by <b>{esc(who)}</b>"
                     + (f": “{esc(reason)}”" if reason else ""))
    for o in step["outcomes"]:
        out = o.get("outcome") or {}
        code = out.get("exit_code")
        items.append(f"{badge('outcome', 'k-info')} {ts_text(str(o.get('timestamp', '')))} <b>{esc(out.get('status'))}</b>"
                     + (f", exit code {esc(code)}" if code is not None else "")
                     + (f"<pre>{esc(str(out.get('summary', ''))[:1200])}</pre>" if out.get("summary") else ""))
    return f'<ul class="links" aria-label="what followed">{"".join(f"<li>{i}</li>" for i in items)}</ul>' if items else ""


def timeline_page(t: Mapping[str, Any], f: EventFilter, packs: bool) -> str:
    steps = []
    for n, s in enumerate(t["steps"], 1):
        ev = s["event"]
        eid = esc(ev.get("id"))
        ident = (f" <span class='muted'>decision <code>{eid[:13]}</code>"
                 + (f" · tool_use_id <code>{esc(ev.get('tool_use_id'))}</code>" if ev.get("tool_use_id") else "")
                 + "</span>")
        if s["type"] == "prompt":
            steps.append(f"""<li id="e-{eid}" class="t-prompt"><div class="step-head"><span class="when">{ts_text(str(ev.get('timestamp', '')))}</span>
<h2 class="sr-only">Step {n}: prompt</h2><b>Prompt</b> {verdict_badge(verdict_of(ev))}</div>
<blockquote class="prompt">{esc(subject_of(ev))}</blockquote></li>""")
        elif s["type"] == "call":
            v = verdict_of(ev)
            reason = (ev.get("result") or {}).get("reason", "")
            steps.append(f"""<li id="e-{eid}" class="v-{esc(v)}-step"><div class="step-head"><span class="when">{ts_text(str(ev.get('timestamp', '')))}</span>
<h2 class="sr-only">Step {n}: {esc(ev.get('tool'))} call, verdict {esc(v)}</h2><b>{esc(ev.get('tool'))}</b>
<code>{esc(subject_of(ev)[:300])}</code> {verdict_badge(v)}{ident}</div>
<div class="step-body"><span class="muted">Why:</span> {esc(reason[:600])}<br><span class="muted">{_rules_line(ev)}</span></div>
{_linked(s)}</li>""")
        else:
            steps.append(f"""<li id="e-{eid}"><div class="step-head"><span class="when">{ts_text(str(ev.get('timestamp', '')))}</span>
<h2 class="sr-only">Step {n}: {esc(s['type'])} event</h2>{badge(s['type'], 'k-other')} <code>{esc(subject_of(ev)[:300])}</code>
{verdict_badge(verdict_of(ev))}</div>{_linked(s)}</li>""")
    back = esc(query("/ui/audit", f.as_query()))
    href = esc(query(EVIDENCE_PACK, {"session": t["session"]}))
    download = (f'<p><a id="evidence-pack" class="button primary" href="{href}" download>Download evidence pack</a> '
                '<span class="muted">(a zip of this session\'s events, checkpoints and policy texts; check it with '
                '<code>warden audit verify PACK</code>)</span></p>' if packs else
                '<p class="muted">Evidence packs are for auditors and admins (and developers, of their own sessions).</p>')
    counts = " · ".join(f"{verdict_badge(v)} {t['counts'][v]}" for v in VERDICTS)
    facts = bullets([f"<b>Agents:</b> {esc(', '.join(t['agents'])) or '—'}",
                     f"<b>Machines:</b> {esc(', '.join(t['machines'])) or '—'}",
                     f"<b>From</b> {ts_text(t['first'])} <b>to</b> {ts_text(t['last'])} · {t['events']} events"])
    return f"""<p><a href="{back}">← All sessions</a></p>
<h1>Session <code>{esc(t['session'])}</code></h1>
<div class="panel"><p>Tool calls: {counts}</p>{facts}{download}
<p class="muted">Prompt → each tool call → its verdict → approval → outcome, in time order (UTC); approvals and
outcomes hang under the call they answer (linked by decision id, else tool_use_id).</p></div>
<ol class="timeline" aria-label="Session timeline">{''.join(steps)}</ol>"""

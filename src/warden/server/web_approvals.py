"""The approval queue page: filters, the queue, and one request's full card with the vote form.

The server renders everything (the first load and the pieces the page's script swaps in each second
come from the same functions below); the script only fetches those pieces and posts votes to the JSON
API (``POST /v1/approvals/{id}/approve|deny``), so the page can do nothing the API would not allow and
shows the API's own words when it refuses (self-approval, a grant wider than the rule's, an expiry).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from warden.server.keys import Principal
from warden.server.ui_data import STATUSES, can_vote, duration_text
from warden.server.web_html import ago, badge, bullets, esc, options, query, ts_text, verdict_badge, when

GRANT_CHOICES = (("once", "this one action"), ("duration:900", "15 minutes"), ("duration:3600", "1 hour"),
                 ("duration:28800", "8 hours"), ("session", "the whole session"))


def _grant_rank(scope: str) -> float:
    from warden.core.control.approvals import grant_rank

    try:
        return grant_rank(scope)
    except (ValueError, IndexError):
        return 0.0


def grant_label(scope: str) -> str:
    for value, label in GRANT_CHOICES:
        if value == scope:
            return label
    if scope.startswith("duration:"):
        return duration_text(float(scope.split(":", 1)[1]))
    return scope


def filters_form(view: Mapping[str, Any], sel: Mapping[str, str]) -> str:
    f = view["facets"]
    status_opts = "".join(f'<option value="{s}"{" selected" if s == view["status"] else ""}>{s}</option>'
                          for s in STATUSES)
    return f"""<form class="filters" id="filters" method="get" action="/ui/approvals" role="search"
 aria-label="Filter the queue">
<label for="f-status">Status<select id="f-status" name="status">{status_opts}</select></label>
<label for="f-team">Team<select id="f-team" name="team">{options(f["teams"], sel.get("team", ""), "any team")}</select></label>
<label for="f-agent">Agent<select id="f-agent" name="agent">{options(f["agents"], sel.get("agent", ""), "any agent")}</select></label>
<label for="f-risk">Risk<select id="f-risk" name="risk">{options(f["risks"], sel.get("risk", ""), "any risk")}</select></label>
<button type="submit">Apply filters</button></form>"""


def summary_text(view: Mapping[str, Any]) -> str:
    shown, total = len(view["items"]), view["total"]
    what = "pending" if view["status"] == "pending" else view["status"]
    text = f"{total} {what}" if view["status"] != "all" else f"{total} requests"
    return text + (f", {shown} shown by the filters" if shown != total else "")


def queue_list(view: Mapping[str, Any], open_id: str, sel: Mapping[str, str]) -> str:
    if not view["items"]:
        word = "waiting for approval" if view["status"] == "pending" else f"with status {view['status']}"
        more = " matches these filters" if view["total"] else f" is {word}"
        return f'<li class="empty">Nothing{more}.</li>'
    out = []
    now = time.time()
    for i in view["items"]:
        href = esc(query("/ui/approvals", {**sel, "open": i["id"]}))
        current = ' aria-current="true"' if i["id"] == open_id else ""
        who = i["requested_by"].get("key_owner") or i["actor"]
        machine = f" on {esc(i['machine'])}" if i["machine"] else ""
        team = f"{esc(i['team'])} · " if i["team"] else ""
        state = "" if i["status"] == "pending" else " " + badge(i["status"], f"s-{i['status']}")
        out.append(f"""<li data-id="{esc(i['id'])}" data-status="{esc(i['status'])}" data-risk="{esc(i['risk'])}">
<a class="item" href="{href}" data-open="{esc(i['id'])}"{current}>{badge(i['risk'] + " risk", "r-" + i['risk'])}{state}
 <span class="muted">{esc(i['tool'])}</span><span class="cmd">{esc(i['command'][:160])}</span>
<span class="meta">{team}{esc(i['agent'] or 'agent?')} · {esc(who)}{machine} · {esc(i['rule'].replace(',', ', '))} · asked {ago(i['created_at'], now, coarse=True)}</span></a></li>""")
    return "".join(out)


def _paths(card: Mapping[str, Any]) -> str:
    items = []
    for p in card.get("paths") or []:
        if not isinstance(p, Mapping):
            continue
        out = "" if p.get("in_workspace") else ' <span class="outside">(outside the workspace)</span>'
        items.append(f"<code>{esc(p.get('path'))}</code> <span class='muted'>{esc(p.get('access'))}</span>{out}")
    return bullets(items)


def _facts(items: Any, skip: set[str] | None = None) -> str:
    return bullets(f"<code>{esc(f.get('kind'))}</code> {esc(f.get('detail'))}" for f in items or []
                   if isinstance(f, Mapping) and f.get("kind") not in (skip or set()))


def _shown_kinds(card: Mapping[str, Any]) -> set[str]:
    return {str(f.get("kind")) for key in ("git", "cloud", "packages") for f in card.get(key) or []
            if isinstance(f, Mapping)}


def _subject(row: Mapping[str, Any]) -> str:
    text = str(row.get("subject", ""))[:200]
    if text:
        return f"<code>{esc(text)}</code>"
    return '<span class="muted">(the prompt above)</span>' if row.get("tool") == "Prompt" else "—"


def _recent(card: Mapping[str, Any]) -> str:
    rows = [r for r in card.get("recent_actions") or [] if isinstance(r, Mapping)]
    if not rows:
        return '<span class="muted">none recorded</span>'
    body = "".join(f"<tr><td>{ts_text(str(r.get('at', '')))}</td><td>{esc(r.get('tool'))}</td>"
                   f"<td>{verdict_badge(str(r.get('decision', '')))}</td><td>{_subject(r)}</td></tr>" for r in rows)
    return (f'<div class="table-wrap"><table><caption class="sr-only">Recent actions in this session</caption><thead>'
            f'<tr><th scope="col">when</th><th scope="col">tool</th><th scope="col">verdict</th><th scope="col">what'
            f'</th></tr></thead><tbody>{body}</tbody></table></div>')


def _taint(card: Mapping[str, Any]) -> str:
    items = []
    for t in card.get("taint") or []:
        if isinstance(t, Mapping):
            label = t.get("label") or t.get("origin") or t.get("kind") or json.dumps(dict(t))[:200]
            src = t.get("source") or t.get("detail") or ""
            items.append(f"{esc(label)}" + (f" <span class='muted'>from {esc(src)}</span>" if src else ""))
        else:
            items.append(esc(t))
    return bullets(items, "none: no untrusted content entered this session")


def _why(card: Mapping[str, Any]) -> str:
    """The rules that asked (or denied), each with its reason and source; the verdict's text if none is listed."""
    rules = [r for r in card.get("rules") or [] if isinstance(r, Mapping) and r.get("effect") in ("ask", "deny")]
    if not rules:
        return f"<p>{esc(card.get('reason'))}</p>"
    return bullets(f"<code>{esc(r.get('id'))}</code> {verdict_badge(str(r.get('effect', '')))} {esc(r.get('reason'))} "
                   f"<span class='muted'>({esc(r.get('source'))})</span>" for r in rules)


def _votes(item: Mapping[str, Any]) -> str:
    return bullets(f"<b>{esc(v.get('approver'))}</b> {'approved' if v.get('approve') else 'denied'} "
                   f"{when(v.get('at'))}" + (f": “{esc(v.get('reason'))}”" if v.get("reason") else "")
                   + f" <span class='muted'>via {esc(v.get('via'))}</span>" for v in item["votes"])


def vote_form(item: Mapping[str, Any]) -> str:
    rid = esc(item["id"])
    widest = _grant_rank(item["grant"])
    choices = [(v, label) for v, label in GRANT_CHOICES if _grant_rank(v) <= widest]
    if item["grant"] not in [v for v, _ in choices]:
        choices.append((item["grant"], grant_label(item["grant"])))
    opts = "".join(f'<option value="{esc(v)}"{" selected" if v == item["grant"] else ""}>{esc(label)}'
                   f'{" (the rule’s widest)" if v == item["grant"] else ""}</option>' for v, label in choices)
    return f"""<form class="vote" data-request="{rid}" novalidate><fieldset class="vote"><legend>Your decision</legend>
<label for="reason-{rid}">Reason <span class="muted">(recorded in the audit log and shown to the requester)</span></label>
<textarea id="reason-{rid}" name="reason" maxlength="1000"></textarea>
<div class="vote-row"><label for="grant-{rid}">Approval covers<select id="grant-{rid}" name="grant">{opts}</select></label>
<button class="approve" type="button" data-verb="approve">Approve</button>
<button class="deny" type="button" data-verb="deny">Deny</button></div>
<p class="result" role="status" aria-live="polite"></p><p class="alert" role="alert"></p></fieldset></form>"""


def request_card(item: Mapping[str, Any] | None, who: Principal) -> str:
    if item is None:
        return ('<div class="empty" id="no-card">Choose a request in the queue to see its full card: what it runs, '
                'what it touches, why the policy asks, and who asked.</div>')
    c: Mapping[str, Any] = item["card"]
    rid = esc(item["id"])
    asked = item["requested_by"]
    status = badge(item["status"], f"s-{item['status']}")
    if item["status"] == "pending":
        timing = f"expires {ago(item['expires_at'])}"
    else:
        timing = f"decided {when(item['decided_at'])}" if item.get("decided_at") else ""
    session = item["session"]
    session_link = (f'<a href="/ui/audit/sessions/{esc(session)}">{esc(session)}</a>' if session
                    else '<span class="muted">none</span>')
    machine = esc(asked.get("machine")) if asked.get("machine") else '<span class="muted">none given</span>'
    local = esc(asked.get("local_actor")) if asked.get("local_actor") else '<span class="muted">—</span>'
    via = f" <span class='muted'>({esc(asked['via'])})</span>" if asked.get("via") else ""
    inputs = bullets(f"<b>{esc(k)}</b>: <code>{esc(v)}</code>" for k, v in (c.get("input") or {}).items()
                     if k != "command")
    diff = f"<pre>{esc(c.get('diff'))}</pre>" if c.get("diff") else '<span class="muted">no file change to preview</span>'
    if item["status"] == "pending" and can_vote(who):
        mine = who.owner in (asked.get("key_owner"), asked.get("local_actor"), item["actor"])
        action = (('<p class="note">You asked for this request (your key or your agent): the server refuses '
                   'your own vote; another person decides.</p>' if mine else "") + vote_form(item))
    elif item["status"] == "pending":
        action = (f'<p class="note">You can read this request; approving or denying it needs the approver role '
                  f'(you are {esc(who.role)}).</p>')
    else:
        action = ""
    return f"""<article class="card" id="card-{rid}" data-id="{rid}" data-status="{esc(item['status'])}"
 aria-labelledby="card-title">
<h2 id="card-title" tabindex="-1">{esc(item['tool'])}: <code>{esc(item['command'])}</code></h2>
<p>{status} {badge(item['risk'] + ' risk', 'r-' + item['risk'])} <span class="muted">request <code>{rid}</code> ·
 asked {when(item['created_at'])} · {timing} · {item['approvals']}/{item['quorum']} approvals</span></p>
<p class="muted">{esc(item['risk'].capitalize())} risk because: {esc('; '.join(item['risk_reasons']))}</p>
<div class="card-grid">
<section aria-labelledby="h-why-{rid}"><h3 id="h-why-{rid}">Why it asks</h3>
{_why(c)}</section>
<section aria-labelledby="h-who-{rid}"><h3 id="h-who-{rid}">Who asked</h3><dl class="kv">
<dt>Key owner</dt><dd>{esc(asked.get('key_owner') or item['actor'])}{via}</dd>
<dt>Machine</dt><dd>{machine}</dd><dt>Local user</dt><dd>{local}</dd>
<dt>Team</dt><dd>{esc(item['team']) or '<span class="muted">none set</span>'}</dd>
<dt>Agent</dt><dd>{esc(item['agent']) or '<span class="muted">unknown</span>'}</dd>
<dt>Session</dt><dd>{session_link}</dd><dt>Workspace</dt><dd><code>{esc(c.get('workspace') or c.get('cwd'))}</code></dd>
</dl></section>
<section aria-labelledby="h-what-{rid}"><h3 id="h-what-{rid}">What it runs</h3>
<pre>{esc(c.get('command') or json.dumps(c.get('input') or {}, indent=1))}</pre>
<dl class="kv"><dt>Parsed commands</dt><dd>{bullets(f"<code>{esc(s)}</code>" for s in c.get('simple_commands') or [])}</dd>
<dt>Other input</dt><dd>{inputs}</dd></dl></section>
<section aria-labelledby="h-touch-{rid}"><h3 id="h-touch-{rid}">What it touches</h3><dl class="kv">
<dt>Paths</dt><dd>{_paths(c)}</dd><dt>Hosts</dt><dd>{bullets(f"<code>{esc(h)}</code>" for h in c.get('hosts') or [])}</dd>
<dt>Branches (git)</dt><dd>{_facts(c.get('git'))}</dd><dt>Cloud resources</dt><dd>{_facts(c.get('cloud'))}</dd>
<dt>Packages</dt><dd>{_facts(c.get('packages'))}</dd>
<dt>Other facts</dt><dd>{_facts(c.get('facts'), _shown_kinds(c))}</dd></dl></section>
<section class="wide" aria-labelledby="h-ses-{rid}"><h3 id="h-ses-{rid}">Session</h3><dl class="kv">
<dt>Prompt</dt><dd>{f'<blockquote class="prompt">{esc(c.get("session_prompt"))}</blockquote>' if c.get('session_prompt')
                    else '<span class="muted">not recorded</span>'}</dd>
<dt>Taint origin</dt><dd>{_taint(c)}</dd></dl><h4 class="sr-only">Recent actions</h4>{_recent(c)}</section>
<section class="wide" aria-labelledby="h-diff-{rid}"><h3 id="h-diff-{rid}">Diff preview</h3>{diff}
<h3>Rollback hint</h3><p>{esc(c.get('rollback')) or '<span class="muted">Warden knows no way to undo this</span>'}</p>
</section></div>
<h3>Votes</h3>{_votes(item)}{action}</article>"""


APPROVALS_JS = r"""
(() => {
const form = document.getElementById('filters'), list = document.getElementById('queue');
const pane = document.getElementById('card-pane'), count = document.getElementById('count');
const announce = document.getElementById('announce');
let openId = pane.dataset.open || '', lastList = list.innerHTML, busy = false;
function params() {
  const p = new URLSearchParams(new FormData(form));
  for (const [k, v] of [...p.entries()]) if (!v) p.delete(k);
  return p;
}
function remember() {
  const p = params(); if (openId) p.set('open', openId);
  history.replaceState(null, '', '/ui/approvals' + (p.toString() ? '?' + p : ''));
}
async function loadCard(id, focus) {
  const r = await fetch('/ui/approvals/card/' + encodeURIComponent(id));
  if (r.status === 401) { location.href = '/ui/login'; return; }
  pane.innerHTML = await r.text();
  list.querySelectorAll('a.item').forEach(a => a.setAttribute('aria-current', a.dataset.open === id ? 'true' : 'false'));
  if (focus) { const h = pane.querySelector('h2'); if (h) h.focus(); }
}
async function refresh() {
  if (busy || document.hidden) return;
  busy = true;
  try {
    const p = params(); if (openId) p.set('open', openId);
    const r = await fetch('/ui/approvals/list?' + p);
    if (r.status === 401) { location.href = '/ui/login'; return; }
    if (!r.ok) return;
    const html = await r.text();
    const summary = r.headers.get('x-queue-summary') || '';
    if (count.textContent !== summary) count.textContent = summary;  // announce changes only
    if (html !== lastList) {
      const had = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.open : null;
      list.innerHTML = html; lastList = html;
      if (had) { const a = list.querySelector(`a[data-open="${CSS.escape(had)}"]`); if (a) a.focus(); }
    }
    const card = pane.querySelector('article.card');
    if (card && card.dataset.status === 'pending') {
      const li = list.querySelector(`li[data-id="${CSS.escape(card.dataset.id)}"]`);
      if (!li || li.dataset.status !== 'pending') await loadCard(card.dataset.id, false);  // decided elsewhere
    }
  } finally { busy = false; }
}
list.addEventListener('click', e => {
  const a = e.target.closest('a[data-open]'); if (!a || e.ctrlKey || e.metaKey) return;
  e.preventDefault(); openId = a.dataset.open; remember(); loadCard(openId, true);
});
form.addEventListener('change', () => { remember(); lastList = ''; refresh(); });
form.addEventListener('submit', e => { e.preventDefault(); remember(); lastList = ''; refresh(); });
pane.addEventListener('click', async e => {
  const b = e.target.closest('button[data-verb]'); if (!b) return;
  const f = b.closest('form.vote'), id = f.dataset.request, verb = b.dataset.verb;
  const status = f.querySelector('.result'), alert = f.querySelector('.alert');
  const body = {reason: f.reason.value.trim()};
  if (verb === 'approve' && f.grant) body.grant = f.grant.value;
  f.querySelectorAll('button').forEach(x => x.disabled = true);
  status.textContent = (verb === 'approve' ? 'Approving' : 'Denying') + '…'; alert.textContent = '';
  let r, j = {};
  try {
    r = await fetch(`/v1/approvals/${encodeURIComponent(id)}/${verb}`, {method: 'POST',
      headers: {'content-type': 'application/json'}, body: JSON.stringify(body)});
    j = await r.json().catch(() => ({}));
  } catch (err) { r = {ok: false, status: 0}; j = {error: 'the server did not answer (' + err + '); nothing was recorded'}; }
  if (r.ok) {
    announce.textContent = `Request ${id}: ` + (j.status === 'approved'
      ? 'approved, the agent may go ahead' + (j.grant ? ' (grant ' + j.grant.scope + ')' : '') + '.'
      : j.status === 'denied' ? 'denied, the agent is told no.' : `vote recorded (${j.status}); more approvals are needed.`);
    await loadCard(id, false);
  } else {
    status.textContent = '';
    alert.textContent = 'The server refused this vote: ' + String(j.error || ('HTTP ' + r.status)).replace(/^refused: /, '');
    f.querySelectorAll('button').forEach(x => x.disabled = false);
  }
  lastList = ''; refresh();
});
setInterval(refresh, 1000);
})();
"""

"""The web interface: sign in, the approval queue with full cards, the audit explorer, the dashboard.

Plain server-rendered HTML plus a small inline script that calls the same JSON API (so the page can do
nothing the API would not allow); no external scripts, fonts or CDNs. The queue refreshes itself every
second, so a new request appears and a decided one leaves without a reload.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}
header{background:#1f2937;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#e5e7eb;text-decoration:none}
a.button{display:inline-block;background:#1f2937;color:#fff;padding:.4rem 1rem;border-radius:.35rem;text-decoration:none}header a:focus,header a:hover{text-decoration:underline}
main{max-width:1100px;margin:1rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid #d1d5db;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
.card h2{margin:.1rem 0 .5rem;font-size:1.1rem}.muted{color:#4b5563}
code,pre{background:#f3f4f6;border-radius:.25rem;padding:.05rem .3rem;font-size:90%}
pre{padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:11rem 1fr;gap:.2rem .8rem;margin:.5rem 0}dt{font-weight:600}
button{font:inherit;padding:.35rem .9rem;border-radius:.35rem;border:1px solid #9ca3af;cursor:pointer}
button.approve{background:#166534;color:#fff;border-color:#166534}button.deny{background:#991b1b;color:#fff;border-color:#991b1b}
input,select{font:inherit;padding:.3rem}.actions{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e5e7eb;padding:.3rem .5rem;text-align:left;vertical-align:top}
.allow{color:#166534;font-weight:600}.ask{color:#92400e;font-weight:600}.deny{color:#991b1b;font-weight:600}
.tiles{display:flex;gap:1rem;flex-wrap:wrap}.tile{background:#fff;border:1px solid #d1d5db;border-radius:.5rem;padding:.8rem 1.2rem;min-width:10rem}
.tile b{display:block;font-size:1.6rem}
"""

NAV = ('<header role="banner"><strong>Warden</strong><nav aria-label="main"><a href="/ui/approvals">Approvals</a> · '
       '<a href="/ui/audit">Audit</a> · <a href="/ui/dashboard">Dashboard</a> · <a href="/ui/logout">Sign out</a>'
       '</nav></header>')


def page(title: str, body: str, script: str = "") -> HTMLResponse:
    return HTMLResponse(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)} · Warden</title>
<style>{STYLE}</style></head><body>{NAV}<main id="main">{body}</main>
<script>{script}</script></body></html>""")


APPROVALS_JS = r"""
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
function list(items) { return (items || []).length ? '<ul>' + items.map(x => '<li><code>' + esc(typeof x === 'string' ? x : JSON.stringify(x)) + '</code></li>').join('') + '</ul>' : '<span class="muted">none</span>'; }
function card(r) {
  const c = r.card || {};
  return `<article class="card" aria-labelledby="t-${esc(r.id)}" data-id="${esc(r.id)}">
  <h2 id="t-${esc(r.id)}">${esc(c.tool || r.tool)}: <code>${esc(c.command || JSON.stringify(c.input || {}))}</code></h2>
  <p class="muted">request <code>${esc(r.id)}</code> · ${esc(r.agent)} for ${esc(r.actor)} · session <code>${esc(r.session)}</code> · ${r.approvals}/${r.quorum} approvals</p>
  <dl>
   <dt>Why it asks</dt><dd>${esc(c.reason)}</dd>
   <dt>Simple commands</dt><dd>${list(c.simple_commands)}</dd>
   <dt>Paths</dt><dd>${list((c.paths || []).map(p => p.path + (p.in_workspace ? '' : '  (outside the workspace)')))}</dd>
   <dt>Hosts</dt><dd>${list(c.hosts)}</dd>
   <dt>Git / cloud / packages</dt><dd>${list([...(c.git||[]), ...(c.cloud||[]), ...(c.packages||[])])}</dd>
   <dt>Session prompt</dt><dd>${esc(c.session_prompt) || '<span class="muted">unknown</span>'}</dd>
   <dt>Recent actions</dt><dd>${list((c.recent_actions || []).map(a => a.decision + ' ' + a.subject))}</dd>
   <dt>Taint</dt><dd>${list((c.taint || []).map(t => t.label || JSON.stringify(t)))}</dd>
   <dt>Diff preview</dt><dd>${c.diff ? '<pre>' + esc(c.diff) + '</pre>' : '<span class="muted">none</span>'}</dd>
   <dt>Rollback</dt><dd>${esc(c.rollback) || '<span class="muted">no hint</span>'}</dd>
  </dl>
  <form class="actions" onsubmit="return false">
   <label>Reason <input name="reason" aria-label="reason for ${esc(r.id)}"></label>
   <label>Grant <select name="grant"><option value="">as the rule says</option><option>once</option><option>session</option><option>30m</option></select></label>
   <button class="approve" type="button" onclick="decide('${esc(r.id)}', 'approve', this)">Approve</button>
   <button class="deny" type="button" onclick="decide('${esc(r.id)}', 'deny', this)">Deny</button>
   <span role="status" aria-live="polite" class="result"></span>
  </form></article>`;
}
async function decide(id, verb, btn) {
  const f = btn.closest('form'); const body = {reason: f.reason.value};
  if (f.grant && f.grant.value) body.grant = f.grant.value;
  const r = await fetch(`/v1/approvals/${id}/${verb}`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)});
  const j = await r.json(); f.querySelector('.result').textContent = r.ok ? j.status : (j.error || r.status);
  refresh();
}
async function refresh() {
  const r = await fetch('/v1/approvals?status=pending'); if (!r.ok) return;
  const items = await r.json();
  const root = document.getElementById('queue');
  const seen = new Set(items.map(x => x.id));
  root.querySelectorAll('article').forEach(a => { if (!seen.has(a.dataset.id)) a.remove(); });
  for (const it of items) if (!root.querySelector(`article[data-id="${it.id}"]`)) root.insertAdjacentHTML('beforeend', card(it));
  document.getElementById('count').textContent = items.length + ' pending';
  document.getElementById('empty').hidden = items.length > 0;
}
refresh(); setInterval(refresh, 1000);
"""


def mount_web(app: FastAPI, server: Any) -> None:
    def signed_in(request: Request) -> Any:
        token = request.cookies.get("warden_token", "")
        try:
            return server.keys.check(token) if token else None
        except Exception:  # noqa: BLE001
            return None

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/approvals")

    @app.get("/ui/login", include_in_schema=False)
    def login_form(error: str = "") -> HTMLResponse:
        msg = f'<p role="alert" class="deny">{html.escape(error)}</p>' if error else ""
        sso = ('<p><a id="sso" class="button" href="/ui/oidc/start">Sign in with SSO</a> '
               f'<span class="muted">({html.escape(server.oidc.config.issuer)})</span></p><p>or with a key:</p>'
               if server.oidc is not None else "")
        return page("Sign in", f"""<section class="card" aria-labelledby="h"><h1 id="h">Sign in</h1>{msg}{sso}
<form method="post" action="/ui/login"><p><label for="token">Key or admin token</label><br>
<input id="token" name="token" type="password" size="60" autocomplete="off" required></p>
<p><button type="submit">Sign in</button></p></form>
<p class="muted">`warden server --dev` printed an admin token; machines and scripts use their key; people sign in
with SSO when the server runs with <code>--oidc-issuer</code>.</p></section>""")

    from warden.server.oidc_web import is_sso_key, mount_oidc

    mount_oidc(app, server)

    @app.post("/ui/login", include_in_schema=False)
    def login(token: str = Form(...)) -> RedirectResponse:
        try:
            server.keys.check(token)
        except Exception as exc:  # noqa: BLE001
            return RedirectResponse(f"/ui/login?error={html.escape(str(exc))}", status_code=303)
        resp = RedirectResponse("/ui/approvals", status_code=303)
        resp.set_cookie("warden_token", token, httponly=True, samesite="strict", max_age=12 * 3600)
        return resp

    @app.get("/ui/logout", include_in_schema=False)
    def logout(request: Request) -> RedirectResponse:
        who = signed_in(request)
        if who is not None and is_sso_key(server, who.key_id):
            server.keys.revoke(who.key_id)  # an SSO session's key dies with the session
        resp = RedirectResponse("/ui/login", status_code=303)
        resp.delete_cookie("warden_token")
        return resp

    @app.get("/ui/approvals", include_in_schema=False, response_model=None)
    def approvals_page(request: Request) -> Any:
        if signed_in(request) is None:
            return RedirectResponse("/ui/login")
        return page("Approvals", """<h1>Approval queue <small class="muted" id="count" aria-live="polite"></small></h1>
<p id="empty" class="muted">Nothing is waiting for approval.</p><section id="queue" aria-label="pending requests"></section>""",
                    APPROVALS_JS)

    @app.get("/ui/audit", include_in_schema=False, response_model=None)
    def audit_page(request: Request, session: str = "", q: str = "") -> Any:
        who = signed_in(request)
        if who is None:
            return RedirectResponse("/ui/login")
        from warden.adapters.store.base import Filters

        evs = server.recorder.store.query(Filters(session=session or None), limit=2000, newest_first=not session)
        if q:
            evs = [e for e in evs if q.lower() in str(e).lower()]
        rows = []
        for e in evs[:300]:
            res = e.get("result") or {}
            inp = e.get("input") or {}
            subject = inp.get("command") or inp.get("file_path") or inp.get("url") or e.get("op") or e.get("phase") or ""
            d = str(res.get("decision", ""))
            rows.append(f"<tr><td>{html.escape(str(e.get('timestamp', ''))[:19])}</td><td>{html.escape(e.get('kind', ''))}</td>"
                        f"<td><a href='/ui/audit?session={html.escape(str(e.get('session', '')))}'>"
                        f"{html.escape(str(e.get('session', ''))[:16])}</a></td><td>{html.escape(e.get('agent', ''))}</td>"
                        f"<td class='{d}'>{html.escape(d)}</td><td><code>{html.escape(str(subject)[:140])}</code></td></tr>")
        title = f"Session {html.escape(session)} as a timeline" if session else "Audit explorer"
        from urllib.parse import quote

        download = (f'<p><a id="evidence-pack" class="button" href="/v1/evidence/pack?session={quote(session)}" '
                    'download>Download evidence pack</a> <span class="muted">(zip; check it with '
                    '<code>warden audit verify PACK</code>)</span></p>' if session else "")
        return page("Audit", f"""<h1>{title}</h1>{download}<form method="get" role="search"><label>Search
<input name="q" value="{html.escape(q)}"></label> <input type="hidden" name="session" value="{html.escape(session)}">
<button>Search</button></form><p class="muted">{len(evs)} events; redacted subjects are searched.</p>
<table><thead><tr><th>time</th><th>kind</th><th>session</th><th>agent</th><th>decision</th><th>what</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>""")

    @app.get("/ui/dashboard", include_in_schema=False, response_model=None)
    def dashboard_page(request: Request) -> Any:
        if signed_in(request) is None:
            return RedirectResponse("/ui/login")
        stats = server.recorder.store.stats()
        pending = len(server.state.list_requests(status="pending", limit=10_000))
        kills = server.state.kills()
        tiles = "".join(f"<div class='tile'><b>{v}</b>{html.escape(k)}</div>" for k, v in (
            ("events", stats["events"]), ("allowed", stats["by_decision"].get("allow", 0)),
            ("asked", stats["by_decision"].get("ask", 0)), ("denied", stats["by_decision"].get("deny", 0)),
            ("pending approvals", pending), ("active kills", len(kills))))
        top = "".join(f"<tr><td><code>{html.escape(str(r))}</code></td><td>{n}</td></tr>" for r, n in stats["by_rule"][:10])
        machines = "".join(f"<tr><td>{html.escape(m['id'])}</td><td>{html.escape(m['owner'])}</td>"
                           f"<td>{m['last_seen']:.0f}</td></tr>" for m in server.keys.machines())
        return page("Dashboard", f"""<h1>Dashboard</h1><section class="tiles" aria-label="totals">{tiles}</section>
<h2>Top rules</h2><table><thead><tr><th>rule</th><th>decisions</th></tr></thead><tbody>{top}</tbody></table>
<h2>Machines</h2><table><thead><tr><th>machine</th><th>owner</th><th>last seen (epoch)</th></tr></thead>
<tbody>{machines or '<tr><td colspan=3>none yet</td></tr>'}</tbody></table>""")

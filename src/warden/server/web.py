"""The web interface: sign in, the approval queue with full cards, the audit explorer, the dashboard.

Server-rendered HTML (:mod:`web_approvals`, :mod:`web_audit`, :mod:`web_dashboard`) over the same scoped
data as the JSON API (:mod:`warden.server.ui_data`), plus one small inline script on the queue page that
swaps in fresh pieces every second and posts votes to the JSON API. Nothing comes from outside the
package (no CDN, no web fonts). People sign in; agent keys are for machines and are refused here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from warden.server import ui_data
from warden.server.keys import Principal
from warden.server.web_approvals import APPROVALS_JS, filters_form, queue_list, request_card, summary_text
from warden.server.web_audit import explorer, timeline_page
from warden.server.web_dashboard import dashboard_page
from warden.server.web_html import esc, fragment, page

STATIC = Path(__file__).with_name("static")
AGENT_REFUSED = ("agent keys are for machines and scripts, not for signing in: sign in with your own key "
                 "(an admin creates one with role developer, approver, auditor or admin) or with SSO")


def mount_web(app: FastAPI, server: Any) -> None:
    css = (STATIC / "warden.css").read_bytes()

    def signed_in(request: Request) -> Principal | None:
        token = request.cookies.get("warden_token", "")
        if not token:
            return None
        try:
            who: Principal = server.keys.check(token)
        except Exception:  # noqa: BLE001 — an unknown, revoked or expired key: sign in again
            return None
        return who if who.role != "agent" else None

    def to_login() -> RedirectResponse:
        return RedirectResponse("/ui/login", status_code=303)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/approvals")

    @app.get("/ui/static/warden.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers={"cache-control": "max-age=3600"})

    @app.get("/ui/login", include_in_schema=False)
    def login_form(error: str = "") -> HTMLResponse:
        msg = f'<p role="alert" class="alert">{esc(error)}</p>' if error else ""
        sso = ('<p><a id="sso" class="button primary" href="/ui/oidc/start">Sign in with SSO</a> '
               f'<span class="muted">({esc(server.oidc.config.issuer)})</span></p><p>or with a key:</p>'
               if server.oidc is not None else "")
        return page("Sign in", f"""<section class="panel login" aria-labelledby="h"><h1 id="h">Sign in to Warden</h1>{msg}{sso}
<form method="post" action="/ui/login"><p><label for="token">Your key or the admin token</label><br>
<input id="token" name="token" type="password" size="50" autocomplete="off" required aria-describedby="token-help"></p>
<p><button type="submit" class="primary">Sign in</button></p></form>
<p class="muted" id="token-help"><code>warden server --dev</code> printed an admin token. People get keys with a role
(developer, approver, auditor, admin) from an admin, or sign in with SSO when the server runs with
<code>--oidc-issuer</code>. Agent keys cannot sign in here.</p></section>""", None)

    from warden.server.oidc_web import is_sso_key, mount_oidc

    mount_oidc(app, server)

    @app.post("/ui/login", include_in_schema=False)
    def login(token: str = Form(...)) -> RedirectResponse:
        try:
            who = server.keys.check(token)
        except Exception as exc:  # noqa: BLE001
            return RedirectResponse(f"/ui/login?error={quote(f'sign-in refused: {exc}')}", status_code=303)
        if who.role == "agent":
            server.audit_refusal(who, "web sign-in refused: an agent key")
            return RedirectResponse(f"/ui/login?error={quote('sign-in refused: ' + AGENT_REFUSED)}", status_code=303)
        resp = RedirectResponse("/ui/approvals", status_code=303)
        resp.set_cookie("warden_token", token, httponly=True, samesite="strict", max_age=12 * 3600)
        return resp

    @app.get("/ui/logout", include_in_schema=False)
    def logout(request: Request) -> RedirectResponse:
        who = signed_in(request)
        if who is not None and is_sso_key(server, who.key_id):
            server.keys.revoke(who.key_id)  # an SSO session's key dies with the session
        resp = to_login()
        resp.delete_cookie("warden_token")
        return resp

    # -- approvals -------------------------------------------------------------------------------
    def selection(status: str, team: str, agent: str, risk: str) -> dict[str, str]:
        return {"status": status if status != "pending" else "", "team": team, "agent": agent, "risk": risk}

    @app.get("/ui/approvals", include_in_schema=False, response_model=None)
    async def approvals_page(request: Request, status: str = "pending", team: str = "", agent: str = "",
                             risk: str = "", open: str = "") -> Any:
        who = signed_in(request)
        if who is None:
            return to_login()
        view = await asyncio.to_thread(ui_data.queue, server, who, status=status, team=team, agent=agent, risk=risk)
        item = await asyncio.to_thread(ui_data.request_item, server, who, open) if open else None
        sel = selection(view["status"], team, agent, risk)
        missing = (f'<p class="alert" role="alert">No request {esc(open)} that you may see.</p>'
                   if open and item is None else "")
        body = f"""<h1>Approval queue</h1>{filters_form(view, sel)}
<p id="count" class="muted" role="status" aria-live="polite">{esc(summary_text(view))}</p>
<p id="announce" class="note" role="status" aria-live="polite"></p>{missing}
<div class="split"><section aria-labelledby="h-queue"><h2 id="h-queue" class="sr-only">Requests</h2>
<ul id="queue" class="queue">{queue_list(view, open, sel)}</ul></section>
<section id="card-pane" data-open="{esc(open if item else '')}" aria-label="The open request">{request_card(item, who)}</section></div>"""
        return page("Approvals", body, who, active="approvals", script=APPROVALS_JS)

    @app.get("/ui/approvals/list", include_in_schema=False, response_model=None)
    async def approvals_list(request: Request, status: str = "pending", team: str = "", agent: str = "",
                             risk: str = "", open: str = "") -> Any:
        who = signed_in(request)
        if who is None:
            return fragment("", 401)
        view = await asyncio.to_thread(ui_data.queue, server, who, status=status, team=team, agent=agent, risk=risk)
        return fragment(queue_list(view, open, selection(view["status"], team, agent, risk)),
                        x_queue_summary=summary_text(view))

    @app.get("/ui/approvals/card/{request_id}", include_in_schema=False, response_model=None)
    async def approval_card(request: Request, request_id: str) -> Any:
        who = signed_in(request)
        if who is None:
            return fragment("", 401)
        item = await asyncio.to_thread(ui_data.request_item, server, who, request_id)
        if item is None:
            return fragment(f'<p class="alert" role="alert">No request {esc(request_id)} that you may see.</p>')
        return fragment(request_card(item, who))

    # -- audit -----------------------------------------------------------------------------------
    @app.get("/ui/audit", include_in_schema=False, response_model=None)
    async def audit_page(request: Request, agent: str = "", verdict: str = "", kind: str = "", machine: str = "",
                         since: str = "", until: str = "", q: str = "", session: str = "") -> Any:
        who = signed_in(request)
        if who is None:
            return to_login()
        f = ui_data.EventFilter(agent=agent, verdict=verdict, kind=kind, machine=machine, since=since, until=until,
                                q=q)
        if session:  # /ui/audit?session=ID is the same timeline as /ui/audit/sessions/ID
            return await timeline_response(who, session, f)
        view = await asyncio.to_thread(ui_data.sessions, server, who, f)
        evs = (await asyncio.to_thread(ui_data.find_events, server, who, f, limit=200))[0] if f.active() else []
        return page("Audit explorer", explorer(view, evs, f, ui_data.can_download_packs(who)), who, active="audit")

    async def timeline_response(who: Principal, session: str, back: ui_data.EventFilter) -> HTMLResponse:
        t = await asyncio.to_thread(ui_data.timeline, server, who, session)
        if t is None:
            return page("No such session", f"""<h1>No such session</h1><p class="alert" role="alert">There is no
session <code>{esc(session)}</code> with events you may see.</p><p><a href="/ui/audit">All sessions</a></p>""",
                        who, active="audit", status=404)
        return page(f"Session {session}", timeline_page(t, back, ui_data.can_download_packs(who)), who,
                    active="audit")

    @app.get("/ui/audit/sessions/{session}", include_in_schema=False, response_model=None)
    async def session_page(request: Request, session: str, agent: str = "", verdict: str = "", kind: str = "",
                           machine: str = "", since: str = "", until: str = "", q: str = "") -> Any:
        who = signed_in(request)
        if who is None:
            return to_login()
        back = ui_data.EventFilter(agent=agent, verdict=verdict, kind=kind, machine=machine, since=since, until=until,
                                   q=q)
        return await timeline_response(who, session, back)

    # -- dashboard -------------------------------------------------------------------------------
    @app.get("/ui/dashboard", include_in_schema=False, response_model=None)
    async def dashboard(request: Request, hours: int = 24, stale_minutes: float = ui_data.STALE_MINUTES) -> Any:
        who = signed_in(request)
        if who is None:
            return to_login()
        stale = stale_minutes if 0 < stale_minutes <= 525_600 else ui_data.STALE_MINUTES
        view = await asyncio.to_thread(ui_data.dashboard, server, who, hours=hours, stale_minutes=stale)
        return page("Dashboard", dashboard_page(view), who, active="dashboard")

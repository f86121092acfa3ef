"""The browser side of OIDC sign-in: ``/ui/oidc/start`` and ``/ui/oidc/callback`` (see :mod:`warden.server.oidc`)."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from warden.server.keys import Principal
from warden.server.oidc import SESSION_TTL_S, OIDCError

FLOW_COOKIE = "warden_oidc_flow"
SSO_LABEL = "sso sign-in"


def is_sso_key(server: Any, key_id: str) -> bool:
    rows = server.keys.execute("SELECT label FROM api_keys WHERE id = ?", (key_id,))
    return bool(rows) and rows[0][0] == SSO_LABEL


def mount_oidc(app: FastAPI, server: Any) -> None:
    def refused(why: str, who: str = "") -> RedirectResponse:
        server.counters["refused_requests"] += 1
        server.audit_refusal(Principal("", who or "unknown person", "none"), f"sso sign-in refused: {why}")
        resp = RedirectResponse("/ui/login?error=" + quote(f"SSO sign-in refused: {why}"), status_code=303)
        resp.delete_cookie(FLOW_COOKIE, path="/ui/oidc")
        return resp

    @app.get("/ui/oidc/start", include_in_schema=False, response_model=None)
    def start(request: Request) -> Any:
        if server.oidc is None:
            return RedirectResponse("/ui/login?error=" + quote("SSO is not configured on this server "
                                                                "(warden server --oidc-issuer ...)"), status_code=303)
        base = server.oidc.config.public_url.rstrip("/") or str(request.base_url).rstrip("/")
        try:
            url, flow = server.oidc.start(base + "/ui/oidc/callback")
        except OIDCError as exc:
            return refused(str(exc))
        resp = RedirectResponse(url, status_code=303)
        # lax, not strict: the provider's redirect back is a cross-site navigation that must carry it
        resp.set_cookie(FLOW_COOKIE, flow, httponly=True, samesite="lax", max_age=600, path="/ui/oidc",
                        secure=base.startswith("https://"))
        return resp

    @app.get("/ui/oidc/callback", include_in_schema=False, response_model=None)
    def callback(request: Request, state: str = "", code: str = "", error: str = "",
                 error_description: str = "") -> Any:
        if server.oidc is None:
            return RedirectResponse("/ui/login", status_code=303)
        if error:
            return refused(f"the provider said {error}: {error_description}".rstrip(": "))
        who = ""
        try:
            claims = server.oidc.finish(request.cookies.get(FLOW_COOKIE, ""), state, code)
            who = str(claims.get("email") or claims.get("sub"))
            owner, role = server.oidc.person(claims)
        except OIDCError as exc:
            return refused(str(exc), who)
        _, key = server.keys.create(owner, role, ttl_s=SESSION_TTL_S, label=SSO_LABEL)
        # a same-site page that moves on: a strict cookie set at the end of a cross-site redirect chain
        # would otherwise not be sent with the very next request
        resp = HTMLResponse(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=/ui/approvals"><title>Signed in · Warden</title></head>
<body><p>Signed in as {html.escape(owner)} ({html.escape(role)}). <a href="/ui/approvals">Continue</a></p></body></html>""")
        resp.set_cookie("warden_token", key, httponly=True, samesite="strict", max_age=SESSION_TTL_S,
                        secure=str(request.base_url).startswith("https://"))
        resp.delete_cookie(FLOW_COOKIE, path="/ui/oidc")
        return resp

"""The page shell and small HTML helpers the web interface's pages share.

Every page carries a Content-Security-Policy that allows only this server's stylesheet and the page's own
inline script (by nonce): no external origin can inject or load anything, and a value that slipped past
escaping still could not run. Pages are never cached (they show evidence and pending approvals).
"""

from __future__ import annotations

import html
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse

from warden.server.keys import Principal
from warden.server.ui_data import duration_text

NAV = (("approvals", "/ui/approvals", "Approvals"), ("audit", "/ui/audit", "Audit explorer"),
       ("dashboard", "/ui/dashboard", "Dashboard"))


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def when(epoch: float | None) -> str:
    """Epoch -> ``<time>`` in UTC with the full stamp as its machine-readable value."""
    if not epoch:
        return '<span class="muted">—</span>'
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))
    return f'<time datetime="{stamp.replace(" ", "T")}Z">{stamp} UTC</time>'


def ago(epoch: float | None, now: float | None = None, *, coarse: bool = False) -> str:
    """"3 min ago" / "in 9 min"; ``coarse`` rounds to minutes, so a piece refreshed every second stays the same
    HTML for a minute (the page swaps it in only when it changed)."""
    if not epoch:
        return "never"
    delta = (now or time.time()) - epoch
    if coarse and abs(delta) < 60:
        return "less than a minute ago" if delta >= 0 else "in less than a minute"
    text = duration_text(abs(delta))
    if coarse and abs(delta) < 5400:
        text = f"{round(abs(delta) / 60)} min"
    return f"in {text}" if delta < 0 else f"{text} ago"


def ts_text(ts: str) -> str:
    """An audit timestamp (RFC 3339 UTC) shown to the second."""
    return f'<time datetime="{esc(ts)}">{esc(ts[:19].replace("T", " "))}</time>' if ts else ""


def badge(text: str, cls: str, label: str = "") -> str:
    aria = f' aria-label="{esc(label)}"' if label else ""
    return f'<span class="badge {esc(cls)}"{aria}>{esc(text)}</span>'


def verdict_badge(v: str) -> str:
    return badge(v or "—", f"v-{v}" if v in ("allow", "ask", "deny") else "k-other", f"verdict {v}") if v else ""


def bullets(items: Iterable[str], empty: str = "none") -> str:
    """A list of already-escaped HTML items, or a muted ``empty``."""
    lis = "".join(f"<li>{i}</li>" for i in items)
    return f'<ul class="plain">{lis}</ul>' if lis else f'<span class="muted">{esc(empty)}</span>'


def query(base: str, params: Mapping[str, Any]) -> str:
    kept = {k: v for k, v in params.items() if v not in ("", None)}
    return base + ("?" + urlencode(kept) if kept else "")


def options(values: Iterable[str], selected: str, any_label: str) -> str:
    out = [f'<option value="">{esc(any_label)}</option>']
    for v in values:
        out.append(f'<option value="{esc(v)}"{" selected" if v == selected else ""}>{esc(v)}</option>')
    return "".join(out)


def page(title: str, body: str, who: Principal | None, *, active: str = "", script: str = "",
         status: int = 200) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    nav = ""
    if who is not None:
        links = "".join(f'<li><a href="{href}"{" aria-current=page" if key == active else ""}>{esc(label)}</a></li>'
                        for key, href, label in NAV)
        nav = (f'<nav aria-label="Main"><ul>{links}</ul></nav><p class="who">Signed in as <b>{esc(who.owner)}</b> '
               f'({esc(who.role)}) · <a href="/ui/logout">Sign out</a></p>')
    js = f'<script nonce="{nonce}">{script}</script>' if script else ""
    doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)} · Warden</title>
<link rel="stylesheet" href="/ui/static/warden.css"></head><body><a class="skip" href="#main">Skip to content</a>
<header class="top"><span class="brand">Warden</span>{nav}</header>
<main id="main" tabindex="-1">{body}</main>{js}</body></html>"""
    resp = HTMLResponse(doc, status_code=status)
    secure_headers(resp.headers, nonce)
    return resp


def secure_headers(headers: Any, nonce: str = "") -> None:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    headers["content-security-policy"] = (f"default-src 'none'; script-src {script}; style-src 'self'; img-src 'self'; "
                                          "connect-src 'self'; form-action 'self'; base-uri 'none'; "
                                          "frame-ancestors 'none'")
    headers["cache-control"] = "no-store"
    headers["x-content-type-options"] = "nosniff"
    headers["referrer-policy"] = "same-origin"


def fragment(body: str, status: int = 200, **extra_headers: str) -> HTMLResponse:
    """A piece of a page the page's script fetches and swaps in (same renderer as the first load)."""
    resp = HTMLResponse(body, status_code=status)
    secure_headers(resp.headers)
    for k, v in extra_headers.items():
        resp.headers[k.replace("_", "-")] = v
    return resp

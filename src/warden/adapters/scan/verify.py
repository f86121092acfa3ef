"""``warden scan --verify``: ask a credential's issuer whether it is live. Off unless asked.

This is the only part of scanning that touches the network, so it lives apart from the
engine and runs only on an explicit ``--verify``. Each check is one read-only request to the
issuer's "who am I" endpoint, with a per-request timeout, no redirects (a redirect could carry
the credential to another host) and one request per distinct secret however often it occurs.

Results per finding: ``valid``, ``invalid``, ``unverifiable`` (no check for that rule) or
``error: <why>`` (timeout, refused, unexpected answer). Base URLs can be pointed elsewhere
(GitHub Enterprise, GitLab self-managed, a test server) with ``WARDEN_VERIFY_ENDPOINTS``, a JSON
object such as ``{"github": "https://ghe.example.com/api/v3"}``.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from warden.core.secrets import Finding

VALID, INVALID, UNVERIFIABLE = "valid", "invalid", "unverifiable"


@dataclass(frozen=True)
class Verifier:
    provider: str  # key in WARDEN_VERIFY_ENDPOINTS
    base: str
    path: str
    method: str
    headers: Callable[[str], dict[str, str]]
    body: bytes | None = None
    # 2xx: valid unless the JSON says otherwise (Slack answers 200 {"ok": false})
    ok_json: Callable[[object], bool] | None = None


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _basic_user(secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{secret}:".encode()).decode()}


_GITHUB = Verifier("github", "https://api.github.com", "/user", "GET",
                   lambda s: _bearer(s) | {"Accept": "application/vnd.github+json"})
_SLACK = Verifier("slack", "https://slack.com", "/api/auth.test", "POST", _bearer, body=b"",
                  ok_json=lambda doc: isinstance(doc, dict) and doc.get("ok") is True)
VERIFIERS: dict[str, Verifier] = {
    "github-pat": _GITHUB,
    "github-fine-grained-pat": _GITHUB,
    "github-oauth-token": _GITHUB,
    "github-app-token": _GITHUB,
    "gitlab-pat": Verifier("gitlab", "https://gitlab.com", "/api/v4/user", "GET", lambda s: {"PRIVATE-TOKEN": s}),
    "slack-bot-token": _SLACK,
    "slack-user-token": _SLACK,
    "stripe-secret-key": Verifier("stripe", "https://api.stripe.com", "/v1/balance", "GET", _basic_user),
    "openai-api-key": Verifier("openai", "https://api.openai.com", "/v1/models", "GET", _bearer),
    "openai-project-key": Verifier("openai", "https://api.openai.com", "/v1/models", "GET", _bearer),
    "anthropic-api-key": Verifier("anthropic", "https://api.anthropic.com", "/v1/models", "GET",
                                  lambda s: {"x-api-key": s, "anthropic-version": "2023-06-01"}),
}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib would resend our Authorization header to wherever it points


def _endpoints() -> dict[str, str]:
    raw = os.environ.get("WARDEN_VERIFY_ENDPOINTS", "")
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"WARDEN_VERIFY_ENDPOINTS is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
        raise ValueError('WARDEN_VERIFY_ENDPOINTS must be a JSON object of provider -> base URL, '
                         'e.g. {"github": "https://ghe.example.com/api/v3"}')
    return doc


def check(rule_id: str, secret: str, timeout: float, endpoints: dict[str, str] | None = None) -> str:
    v = VERIFIERS.get(rule_id)
    if v is None:
        return UNVERIFIABLE
    base = (endpoints or {}).get(v.provider, v.base).rstrip("/")
    req = urllib.request.Request(base + v.path, data=v.body, method=v.method,
                                 headers=v.headers(secret) | {"User-Agent": "warden-scan-verify"})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=timeout) as resp:
            data = resp.read(65536)
            if v.ok_json is None:
                return VALID
            try:
                return VALID if v.ok_json(json.loads(data or b"null")) else INVALID
            except json.JSONDecodeError:
                return "error: issuer answered with something that is not JSON"
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return INVALID
        return f"error: issuer answered HTTP {exc.code}"
    except (TimeoutError, OSError) as exc:  # URLError is an OSError; socket.timeout is TimeoutError
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return f"error: no answer within {timeout:g} s"
        return f"error: {reason}"


def verify_findings(findings: Sequence[Finding], timeout: float = 5.0, workers: int = 4) -> dict[int, str]:
    """Status per finding (keyed by ``id(finding)``); one request per distinct (rule, secret)."""
    endpoints = _endpoints()
    distinct: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        distinct.setdefault((f.rule_id, f._secret), []).append(f)
    out: dict[int, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {k: pool.submit(check, k[0], k[1], timeout, endpoints) for k in distinct}
        for k, fut in futures.items():
            status = fut.result()
            for f in distinct[k]:
                out[id(f)] = status
    return out

"""OIDC sign-in for people against a small provider written for the tests (tests/server/oidc_provider.py),
with the real `warden server` process: the authorization-code flow with PKCE followed by httpx and by Chromium,
and every way an id token can be wrong refused."""

from __future__ import annotations

import os
from contextlib import closing
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oidc_provider import Provider  # noqa: E402
from server_proc import WARDEN, ServerProcess, h  # noqa: E402

ROLE_MAP = "approvers=approver,auditors=auditor,platform=admin"


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("oidc")
    with Provider() as prov:
        srv = ServerProcess(root)
        srv.env["OIDC_SECRET"] = prov.client_secret
        srv.cmd += ["--oidc-issuer", prov.issuer, "--oidc-client-id", prov.client_id,
                    "--oidc-client-secret-env", "OIDC_SECRET", "--oidc-role-map", ROLE_MAP]
        srv.start()
        try:
            yield prov, srv
        finally:
            srv.stop()


def sign_in(srv: ServerProcess) -> tuple[httpx.Client, httpx.Response]:
    client = httpx.Client(base_url=srv.url, follow_redirects=True, timeout=20)
    return client, client.get("/ui/oidc/start")


def test_sign_in_names_the_person_and_their_mapped_role(sso):
    prov, srv = sso
    prov.misbehave = ""
    prov.person = {"sub": "u-1", "email": "lead@example.com", "groups": ["staff", "approvers"]}
    client, r = sign_in(srv)
    with closing(client):
        assert r.status_code == 200 and "Signed in as lead@example.com (approver)" in r.text
        assert [x.url.path for x in [*r.history, r]] == ["/ui/oidc/start", "/authorize", "/ui/oidc/callback"]
        # the provider saw PKCE: a verifier whose S256 matched the challenge (it refuses otherwise)
        assert prov.token_requests[-1]["code_verifier"] and prov.token_requests[-1]["grant_type"] == "authorization_code"
        me = client.get("/v1/whoami").json()
        assert (me["owner"], me["role"]) == ("lead@example.com", "approver")
        assert client.get("/v1/approvals").status_code == 200  # an approver reads the queue
        assert client.post("/v1/kill", json={"scope": "all", "reason": "x"}).status_code == 403  # not an admin
        assert client.get("/ui/approvals").url.path == "/ui/approvals"  # the page, not the login form
        client.get("/ui/logout")
        assert client.get("/v1/whoami").status_code == 401
        # the session's key was revoked at sign-out, not just forgotten by the browser
        keys = httpx.get(srv.url + "/v1/keys", headers=h(srv.admin)).json()
        assert any(k["id"] == me["key"] and k["revoked"] for k in keys)


def test_strongest_mapped_role_wins_and_agent_is_never_granted(sso):
    prov, srv = sso
    prov.misbehave = ""
    prov.person = {"sub": "u-2", "email": "ops@example.com", "groups": ["auditors", "platform"]}
    client, r = sign_in(srv)
    with closing(client):
        assert client.get("/v1/whoami").json()["role"] == "admin"
    prov.person = {"sub": "u-3", "email": "bot@example.com", "groups": ["agent"]}  # not in the map, not a person role
    client, r = sign_in(srv)
    with closing(client):
        assert r.url.path == "/ui/login" and "holds no Warden role" in r.text
        assert client.get("/v1/whoami").status_code == 401


@pytest.mark.parametrize("misbehave, says", [
    ("aud", "not valid for this server"),
    ("expired", "not valid for this server"),
    ("bad_sig", "signature does not verify"),
    ("nonce", "not valid for this server"),
    ("iss", "not valid for this server"),
])
def test_a_wrong_id_token_is_refused(sso, misbehave: str, says: str):
    prov, srv = sso
    prov.person = {"sub": "u-1", "email": "lead@example.com", "groups": ["approvers"]}
    prov.misbehave = misbehave
    try:
        client, r = sign_in(srv)
    finally:
        prov.misbehave = ""
    with closing(client):
        assert r.url.path == "/ui/login", r.text
        assert "SSO sign-in refused" in r.text and says in r.text
        assert "warden_token" not in client.cookies
        assert client.get("/v1/approvals").status_code == 401


def test_unknown_role_is_refused_and_audited(sso):
    prov, srv = sso
    prov.person = {"sub": "u-9", "email": "intern@example.com", "groups": ["interns"]}
    client, r = sign_in(srv)
    with closing(client):
        assert r.url.path == "/ui/login" and "holds no Warden role" in r.text and "interns" in r.text
        assert client.get("/v1/whoami").status_code == 401
    evs = httpx.get(srv.url + "/v1/events", params={"q": "intern@example.com"}, headers=h(srv.admin)).json()
    assert any("sso sign-in refused" in str(e) for e in evs)


def test_forged_callback_without_the_flow_is_refused(sso):
    prov, srv = sso
    with httpx.Client(base_url=srv.url, follow_redirects=False, timeout=20) as client:
        start = client.get("/ui/oidc/start")
        assert start.status_code == 303 and start.headers["location"].startswith(prov.issuer + "/authorize?")
        at_idp = httpx.get(start.headers["location"])  # the provider redirects back with a code and the state
        back = httpx.URL(at_idp.headers["location"])
        # a callback with a swapped state (CSRF / stale tab) is refused, and so is one without our flow cookie
        bad_state = client.get("/ui/oidc/callback", params={"code": back.params["code"], "state": "forged"})
        assert "state does not match" in httpx.URL(bad_state.headers["location"]).params["error"]
        stranger = httpx.get(srv.url + "/ui/oidc/callback", params=dict(back.params))
        assert "no sign-in in progress" in httpx.URL(stranger.headers["location"]).params["error"]


def test_server_refuses_half_an_oidc_configuration(tmp_path: Path):
    env = {**os.environ, "WARDEN_HOME": str(tmp_path), "HOME": str(tmp_path)}
    r = subprocess.run([WARDEN, "server", "--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id", "w"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "needs all three" in r.stderr
    r = subprocess.run([WARDEN, "server", "--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id", "w",
                        "--oidc-client-secret-env", "NOPE_UNSET_VAR"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "NOPE_UNSET_VAR" in r.stderr
    r = subprocess.run([WARDEN, "server", "--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id", "w",
                        "--oidc-client-secret-env", "S", "--oidc-role-map", "bots=agent"],
                       env={**env, "S": "x"}, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not a person's role" in r.stderr


def test_sign_in_with_sso_in_the_browser(sso):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.skip("chromium is not installed (.ci/run installs it with apt-get)")
    from test_server_browser import ARGS, ARTIFACTS

    prov, srv = sso
    prov.misbehave = ""
    prov.person = {"sub": "u-1", "email": "lead@example.com", "groups": ["approvers"]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(srv.url + "/")
            page.get_by_role("link", name="Sign in with SSO").click()
            page.wait_for_url(srv.url + "/ui/approvals", timeout=10_000)
            page.locator("#count").wait_for(timeout=5000)
            assert "Approval queue" in page.inner_text("main")
            assert page.evaluate("fetch('/v1/whoami').then(r => r.json())")["owner"] == "lead@example.com"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "server-sso-signed-in.png"))
        finally:
            browser.close()

"""Signed policy bundles with the real server process: `warden login` pins the server's key, pulls and verifies
the bundle and caches it as the managed layer (used offline); a bundle tampered with in transit is refused
and the cached one kept; `warden login --refresh` picks up a new version."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mitm_proxy import MitmProxy  # noqa: E402
from server_proc import LOCKED, ServerProcess, h  # noqa: E402
from warden_cli import run_warden  # noqa: E402



def weaken(signed: dict) -> dict:
    """What an attacker in the middle would do: rewrite the policy text, keeping the signature."""
    signed["bundle"]["policy"] = signed["bundle"]["policy"].replace("effect: deny", "effect: allow")
    return signed


def curl_verdict(env: dict) -> dict:
    r = run_warden("decide", input=json.dumps({"tool_name": "Bash", "tool_input": {"command": "curl https://example.com"}}),
                   env=env)
    return json.loads(r.stdout)


def test_login_pins_verifies_and_caches_the_bundle_and_refuses_a_tampered_one(tmp_path: Path):
    srv = ServerProcess(tmp_path)
    srv.policy.write_text(LOCKED)
    srv.start()
    proxy = MitmProxy(srv.url)
    client_home = tmp_path / "laptop"
    env = {"WARDEN_HOME": str(client_home), "HOME": str(tmp_path), "WARDEN_MANAGED_POLICY": "",
           "WARDEN_SERVER_LINK": "0"}  # the test drives the pulls, not the daemon's link
    try:
        agent = srv.key("laptop-1", "agent")
        signed = httpx.get(srv.url + "/v1/policy/bundle", headers=h(agent)).json()
        assert signed["bundle"]["policy"] == LOCKED and len(signed["bundle"]["version"]) == 16
        assert httpx.get(srv.url + "/v1/policy/bundle").status_code == 401  # a key is needed
        assert (srv.home / "bundle-signing.key").stat().st_mode & 0o077 == 0

        r = run_warden("login", proxy.url, "--key", agent, "--json", env=env)
        assert r.returncode == 0, r.stderr.decode()
        out = json.loads(r.stdout)
        assert out["bundle"]["version"] == signed["bundle"]["version"] and out["bundle"]["changed"]
        cached = client_home / "server-managed.yaml"
        assert cached.read_text() == LOCKED
        saved = json.loads((client_home / "server.json").read_text())
        assert saved["bundle_key"] == httpx.get(srv.url + "/v1/policy/key", headers=h(agent)).json()["public_key"]
        # the managed layer now denies curl on this machine
        v = curl_verdict(env)
        assert v["decision"] == "deny" and "org-no-curl" in json.dumps(v)

        proxy.rewrites["/v1/policy/bundle"] = weaken
        r = run_warden("login", "--refresh", env=env)
        assert r.returncode == 2
        assert "signature does not verify" in r.stderr.decode() and "is kept" in r.stderr.decode()
        assert cached.read_text() == LOCKED  # the cached, verified bundle stays
        proxy.rewrites.clear()

        # a new central policy: --refresh pulls the new version
        srv.policy.write_text(LOCKED.replace("forbids curl", "forbids curl (v2)"))
        r = run_warden("login", "--refresh", "--json", env=env)
        assert r.returncode == 0, r.stderr.decode()
        second = json.loads(r.stdout)["bundle"]
        assert second["changed"] and second["version"] != out["bundle"]["version"]
        assert "(v2)" in cached.read_text()
    finally:
        proxy.close()
        srv.stop()
    # offline: the server is gone, the cached managed layer still decides
    assert curl_verdict(env)["decision"] == "deny"
    r = run_warden("login", "--refresh", env=env)
    assert r.returncode == 2 and "cannot reach" in r.stderr.decode()


def test_a_server_with_a_new_key_is_refused_after_the_pin(tmp_path: Path):
    first = ServerProcess(tmp_path / "a")
    first.policy.write_text(LOCKED)
    first.start()
    env = {"WARDEN_HOME": str(tmp_path / "laptop"), "HOME": str(tmp_path), "WARDEN_MANAGED_POLICY": "",
           "WARDEN_SERVER_LINK": "0"}  # the test drives the pulls, not the daemon's link
    try:
        assert run_warden("login", first.url, "--key", first.key("l", "agent"), env=env).returncode == 0
        (first.home / "bundle-signing.key").unlink()  # the server's key replaced behind the client's back
    finally:
        first.stop()
    first.start()  # same URL and key store, a fresh signing key
    try:
        r = run_warden("login", "--refresh", env=env)
        assert r.returncode == 2 and "pinned at login" in r.stderr.decode(), r.stderr.decode()
    finally:
        first.stop()

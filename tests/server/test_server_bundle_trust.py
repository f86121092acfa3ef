"""The cached server bundle is trusted only while it checks out, with the real server process:

* every policy load re-verifies server-managed.yaml against the signed server-bundle.json and the key
  pinned in server.json; a hand edit, a deletion, an old bundle put back or a variable naming another
  managed file makes `warden decide` and the Claude Code hook deny with the reason;
* a validly signed but older bundle (a replay) is refused by `warden login --refresh`;
* a rotation of the server's signing key is followed from the pin, and a forged hand-over is refused.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mitm_proxy import MitmProxy, Rewrite  # noqa: E402
from server_proc import LOCKED, POLICY, ServerProcess, h  # noqa: E402
from warden_cli import run_warden  # noqa: E402

from warden.core.bundle import canonical, key_id, policy_version, rotation_body  # noqa: E402

CURL = {"tool_name": "Bash", "tool_input": {"command": "curl https://example.com"}}


def locked_server(tmp_path: Path) -> ServerProcess:
    srv = ServerProcess(tmp_path)
    srv.policy.write_text(LOCKED)
    return srv.start()


def client_env(tmp_path: Path, name: str = "laptop") -> dict[str, str]:
    # these tests drive every pull themselves: the warm daemon's server link would pull on its own
    return {"WARDEN_HOME": str(tmp_path / name), "HOME": str(tmp_path), "WARDEN_MANAGED_POLICY": "",
            "WARDEN_SERVER_LINK": "0"}


def decide(env: dict[str, str]) -> dict:
    r = run_warden("decide", input=json.dumps(CURL), env=env)
    return json.loads(r.stdout)


def hook(env: dict[str, str], cwd: Path, daemon: str) -> tuple[int, str]:
    """(exit code, what Claude Code is told) for a curl PreToolUse."""
    payload = {"session_id": "s", "transcript_path": "/dev/null", "cwd": str(cwd), "hook_event_name": "PreToolUse",
               "tool_name": "Bash", "tool_input": {"command": "curl https://example.com"}, "tool_use_id": "t"}
    r = run_warden("hook", "claude-code", input=json.dumps(payload), cwd=str(cwd),
                   env={**env, "CLAUDE_PROJECT_DIR": str(cwd), "WARDEN_HOOK_DAEMON": daemon, "WARDEN_HOOKD_IDLE": "5"})
    if r.returncode == 0:
        out = json.loads(r.stdout)["hookSpecificOutput"]
        return 0, f"{out['permissionDecision']}: {out.get('permissionDecisionReason', '')}"
    return r.returncode, r.stderr.decode()


def login(url: str, key: str, env: dict[str, str]) -> dict:
    r = run_warden("login", url, "--key", key, "--json", env=env)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)["bundle"]


def refresh(env: dict[str, str]) -> tuple[int, str, dict | None]:
    r = run_warden("login", "--refresh", "--json", env=env)
    return r.returncode, r.stderr.decode(), json.loads(r.stdout)["bundle"] if r.returncode == 0 else None


def test_every_load_re_verifies_the_cached_managed_policy(tmp_path: Path):
    srv = locked_server(tmp_path)
    env = client_env(tmp_path)
    home = Path(env["WARDEN_HOME"])
    work = tmp_path / "work"
    work.mkdir()
    managed = home / "server-managed.yaml"
    try:
        login(srv.url, srv.key("laptop-1", "agent"), env)
        assert "org-no-curl" in json.dumps(decide(env))
        first_bundle, first_text = (home / "server-bundle.json").read_bytes(), managed.read_bytes()

        # a local edit that drops the organisation's rule: every decision denies, saying why and what to do
        managed.write_text(LOCKED.replace("effect: deny", "effect: allow"))
        v = decide(env)
        assert v["decision"] == "deny" and "org-no-curl" not in json.dumps(v["rules"])
        assert "was altered" in v["reason"] and "warden login --refresh" in v["reason"], v["reason"]
        for daemon in ("0", "1"):  # in-process (disk cache) and through the warm daemon (memory cache)
            code, told = hook(env, work, daemon)
            assert "was altered" in told and "warden login --refresh" in told, (daemon, code, told)
            assert code == 2 or told.startswith("deny"), (daemon, code, told)

        # --refresh restores the signed policy, and the organisation's rule decides again
        code, err, _ = refresh(env)
        assert code == 0, err
        v = decide(env)
        assert v["decision"] == "deny" and "org-no-curl" in json.dumps(v["rules"]) and "error" not in v
        assert hook(env, work, "1")[1].startswith("deny") and "org-no-curl" in hook(env, work, "1")[1]

        # an edit that keeps the size and puts the mtime back still misses the verification cache (ctime)
        st = managed.stat()
        same_size = managed.read_text().replace("effect: deny", "effect: ask ")
        assert len(same_size) == st.st_size
        managed.write_text(same_size)
        os.utime(managed, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert "was altered" in decide(env)["reason"]
        assert "was altered" in hook(env, work, "1")[1]

        # deleting the managed file does not fall back to a weaker layer
        managed.unlink()
        assert "is missing" in decide(env)["reason"]
        assert refresh(env)[0] == 0

        # a variable cannot put another managed file in its place while logged in
        weak = tmp_path / "weak.yaml"
        weak.write_text("version: 1\nrules: []\n")
        v = decide({**env, "WARDEN_MANAGED_POLICY": str(weak)})
        assert v["decision"] == "deny" and "cannot be replaced" in v["reason"]

        # an older, validly signed bundle put back with its text: refused (server.json accepted a newer one)
        srv.policy.write_text(LOCKED.replace("forbids curl", "forbids curl (v2)"))
        code, err, second = refresh(env)
        assert code == 0 and second and second["changed"], err
        (home / "server-bundle.json").write_bytes(first_bundle)
        managed.write_bytes(first_text)
        v = decide(env)
        assert v["decision"] == "deny" and "another bundle was put in its place" in v["reason"], v["reason"]
        assert refresh(env)[0] == 0 and "(v2)" in managed.read_text()
        assert "org-no-curl" in json.dumps(decide(env)["rules"])
    finally:
        srv.stop()

    # a server-managed.yaml that no login vouches for is not a managed layer: it denies
    stray = client_env(tmp_path, "stray")
    Path(stray["WARDEN_HOME"]).mkdir(mode=0o700)
    (Path(stray["WARDEN_HOME"]) / "server-managed.yaml").write_text("version: 1\ndefault: allow\nrules: []\n")
    assert "not logged in to a team server" in decide(stray)["reason"]


def test_an_older_bundle_is_refused(tmp_path: Path):
    srv = locked_server(tmp_path)
    proxy = MitmProxy(srv.url)
    env = client_env(tmp_path)
    managed = Path(env["WARDEN_HOME"]) / "server-managed.yaml"
    try:
        agent = srv.key("laptop-1", "agent")
        never_seen = httpx.get(srv.url + "/v1/policy/bundle", headers=h(agent)).json()  # v0, signed now
        srv.policy.write_text(LOCKED.replace("forbids curl", "forbids curl (v1)"))
        v1 = login(proxy.url, agent, env)
        assert v1["issued_at"] > never_seen["bundle"]["issued_at"]
        captured = httpx.get(srv.url + "/v1/policy/bundle", headers=h(agent)).json()
        assert captured["bundle"]["version"] == v1["version"]
        srv.policy.write_text(LOCKED.replace("forbids curl", "forbids curl (v2)"))
        code, err, v2 = refresh(env)
        assert code == 0 and v2 and v2["changed"], err

        # a version this machine accepted before, replayed: refused, the cached v2 stays
        proxy.rewrites["/v1/policy/bundle"] = lambda _: captured
        code, err, _ = refresh(env)
        assert code == 2 and "not newer than version" in err and "replayed or rolled-back" in err, err
        assert "is kept" in err and "(v2)" in managed.read_text()
        # an older version it never saw (signed before it logged in): refused as well
        proxy.rewrites["/v1/policy/bundle"] = lambda _: never_seen
        code, err, _ = refresh(env)
        assert code == 2 and "not newer than version" in err, err
        assert "(v2)" in managed.read_text() and "(v2)" in json.dumps(decide(env)["rules"])

        # the same version signed again (another replica, a restart) is not a downgrade: unchanged
        proxy.rewrites.clear()
        code, err, again = refresh(env)
        assert code == 0 and again and not again["changed"] and again["version"] == v2["version"], err
        # and a revert to an earlier text (an admin's PUT) is a new publication, with a newer time: taken
        r = httpx.put(srv.url + "/v1/policy", headers=h(srv.admin), timeout=30,
                      json={"policy": LOCKED.replace("forbids curl", "forbids curl (v1)"), "reason": "revert"})
        assert r.status_code == 200 and r.json()["changed"], r.text
        code, err, back = refresh(env)
        assert code == 0 and back and back["changed"] and back["version"] == v1["version"], err
        assert back["issued_at"] > v2["issued_at"] and "(v1)" in managed.read_text()
    finally:
        proxy.close()
        srv.stop()


def _rotate_on_host(srv: ServerProcess) -> dict:
    r = run_warden("server", "rotate-bundle-key", "--json", env={"WARDEN_HOME": str(srv.home), "HOME": str(srv.root)})
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


def test_a_key_rotation_is_followed_from_the_pin(tmp_path: Path):
    srv = locked_server(tmp_path)
    early, late = client_env(tmp_path, "early"), client_env(tmp_path, "late")
    try:
        agent = srv.key("laptop-1", "agent")
        k1 = httpx.get(srv.url + "/v1/policy/key", headers=h(agent)).json()
        assert k1["chain"] == []
        login(srv.url, agent, early)

        rotated = _rotate_on_host(srv)  # on the server host, while it runs: no restart
        assert rotated["rotated"]["from"] == k1["key_id"] and rotated["retired"] == [k1["key_id"]]
        assert (srv.home / f"bundle-signing.key.retired-{k1['key_id']}").stat().st_mode & 0o077 == 0
        k2 = httpx.get(srv.url + "/v1/policy/key", headers=h(agent)).json()
        assert k2["key_id"] == rotated["rotated"]["to"] != k1["key_id"]
        assert [s["statement"]["from_key_id"] for s in k2["chain"]] == [k1["key_id"]]
        assert httpx.get(srv.url + "/v1/policy/bundle", headers=h(agent)).json()["key_id"] == k2["key_id"]

        login(srv.url, agent, late)  # a machine that logs in now pins K2 directly
        assert json.loads((Path(late["WARDEN_HOME"]) / "server.json").read_text())["bundle_key"] == k2["public_key"]

        # admins can rotate over HTTP too; nobody else can
        assert httpx.post(srv.url + "/v1/policy/key/rotate", headers=h(agent)).status_code == 403
        r = httpx.post(srv.url + "/v1/policy/key/rotate", headers=h(srv.admin))
        assert r.status_code == 200, r.text
        k3 = r.json()
        assert k3["statement"]["statement"]["from_key_id"] == k2["key_id"] and len(k3["chain"]) == 2

        # the early machine (pinned K1) follows K1 -> K2 -> K3 and re-pins; the late one K2 -> K3
        for env in (early, late):
            code, err, got = refresh(env)
            assert code == 0 and got and got["repinned"] and got["key_id"] == k3["key_id"], err
            saved = json.loads((Path(env["WARDEN_HOME"]) / "server.json").read_text())
            assert saved["bundle_key"] == k3["public_key"]
            v = decide(env)  # the load-time check now verifies the cached bundle with the new pin
            assert "org-no-curl" in json.dumps(v["rules"]) and "error" not in v, v
            code, err, again = refresh(env)
            assert code == 0 and again and not again["repinned"], err
    finally:
        srv.stop()


def _forger() -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, base64.b64encode(raw).decode()


def test_a_forged_rotation_statement_is_refused(tmp_path: Path):
    srv = locked_server(tmp_path)
    proxy = MitmProxy(srv.url)
    env = client_env(tmp_path)
    home = Path(env["WARDEN_HOME"])
    try:
        agent = srv.key("laptop-1", "agent")
        login(proxy.url, agent, env)
        pin = json.loads((home / "server.json").read_text())["bundle_key"]
        evil, evil_pub = _forger()
        evil_id = key_id(base64.b64decode(evil_pub))

        def forged_bundle(signed: dict) -> dict:  # a weaker policy, signed by the attacker's key
            body = {**signed["bundle"], "policy": POLICY, "issued_at": signed["bundle"]["issued_at"] + 60}
            body["version"] = policy_version(POLICY)
            return {"bundle": body, "signature": base64.b64encode(evil.sign(canonical(body))).decode(),
                    "key_id": evil_id}

        def chain_with(signer: Ed25519PrivateKey) -> Rewrite:
            def rewrite(published: dict) -> dict:  # "K1 hands over to the attacker", signed by `signer`
                stmt = rotation_body(pin, evil_pub, 2**31)
                forged = {"statement": stmt, "signature": base64.b64encode(signer.sign(canonical(stmt))).decode()}
                return {**published, "key_id": evil_id, "public_key": evil_pub, "chain": [forged]}
            return rewrite

        proxy.rewrites["/v1/policy/bundle"] = forged_bundle
        # no chain at all, then a hand-over signed by the attacker rather than by the pinned key
        for chain in (lambda published: {**published, "chain": []}, chain_with(evil)):
            proxy.rewrites["/v1/policy/key"] = chain
            code, err, _ = refresh(env)
            assert code == 2 and "pinned at login" in err and evil_id in err and "is kept" in err, err
            assert json.loads((home / "server.json").read_text())["bundle_key"] == pin
            assert "org-no-curl" in json.dumps(decide(env)["rules"])
        # a statement whose body was altered after the real key signed another one
        real_key = serialization.load_pem_private_key((srv.home / "bundle-signing.key").read_bytes(), None)
        assert isinstance(real_key, Ed25519PrivateKey)
        honest = rotation_body(pin, evil_pub, 2**31)
        signature = base64.b64encode(real_key.sign(canonical({**honest, "at": 1}))).decode()
        proxy.rewrites["/v1/policy/key"] = lambda published: {**published, "chain": [
            {"statement": honest, "signature": signature}]}
        code, err, _ = refresh(env)
        assert code == 2 and "pinned at login" in err, err
    finally:
        proxy.close()
        srv.stop()


def test_loads_during_a_pull_never_see_a_half_written_set(tmp_path: Path):
    """A pull replaces three files; a load between two of them would see them disagree. It waits on the
    pull's lock and looks again, so no decision is denied as "altered" while a refresh runs."""
    import threading

    from warden.adapters import server_bundle

    srv = locked_server(tmp_path)
    env = client_env(tmp_path)
    home = Path(env["WARDEN_HOME"])
    errors: list[str] = []
    loads = 0
    done = threading.Event()
    try:
        login(srv.url, srv.key("laptop-1", "agent"), env)

        def load_loop() -> None:
            nonlocal loads
            while not done.is_set():
                server_bundle._MEMORY.clear()
                (home / "cache" / server_bundle.CHECK_CACHE).unlink(missing_ok=True)
                try:
                    got = server_bundle.checked_managed(home)
                    assert got is not None and "org-no-curl" in got.text
                except Exception as exc:  # noqa: BLE001 — collected and reported below
                    errors.append(f"{type(exc).__name__}: {exc}")
                loads += 1

        reader = threading.Thread(target=load_loop)
        reader.start()
        for i in range(8):  # eight new versions, each written while the reader loads as fast as it can
            srv.policy.write_text(LOCKED.replace("forbids curl", f"forbids curl (v{i})"))
            code, err, got = refresh(env)
            assert code == 0 and got and got["changed"], err
        done.set()
        reader.join()
    finally:
        done.set()
        srv.stop()
    assert loads > 8 and not errors, (loads, errors[:3])

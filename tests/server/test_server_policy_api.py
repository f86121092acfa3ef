"""The central policy over the API: checked before it is stored, versioned with who and why, served by
every replica within a second, and never rolled back by a restart with an old --policy file."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pg_util import PG, pg_down  # noqa: E402
from server_proc import POLICY, ServerProcess, h  # noqa: E402

NO_CURL = POLICY + """  - id: org-no-curl
    effect: deny
    reason: the organisation forbids curl
    program: [curl]
"""


def _bundle_text(url: str, key: str) -> str:
    return httpx.get(url + "/v1/policy/bundle", headers=h(key), timeout=10).json()["bundle"]["policy"]


def test_put_policy_checks_versions_and_serves_it(tmp_path: Path):
    srv = ServerProcess(tmp_path).start()
    try:
        agent, auditor, approver = srv.key("m", "agent"), srv.key("a", "auditor"), srv.key("p", "approver")
        first = httpx.get(srv.url + "/v1/policy", headers=h(auditor)).json()
        assert first["current"]["text"] == POLICY and first["current"]["by"].startswith("file:")

        # only an admin changes it, and only with a reason
        assert httpx.put(srv.url + "/v1/policy", json={"policy": NO_CURL, "reason": "x"},
                         headers=h(approver)).status_code == 403
        assert httpx.put(srv.url + "/v1/policy", json={"policy": NO_CURL}, headers=h(srv.admin)).status_code == 400
        # a policy that does not load is refused with its problems; nothing changes
        bad = httpx.put(srv.url + "/v1/policy", json={"policy": "rules: [{id: x, effect: maybe}]", "reason": "oops"},
                        headers=h(srv.admin))
        assert bad.status_code == 422 and bad.json()["error"]["problems"], bad.text
        assert _bundle_text(srv.url, agent) == POLICY

        watch = httpx.get(srv.url + "/v1/sync/watch", params={"timeout": 0}, headers=h(agent)).json()
        r = httpx.put(srv.url + "/v1/policy", json={"policy": NO_CURL, "reason": "INC-7: no curl"},
                      headers=h(srv.admin))
        assert r.status_code == 200 and r.json()["changed"], r.text
        assert _bundle_text(srv.url, agent) == NO_CURL
        again = httpx.get(srv.url + "/v1/sync/watch", params={"timeout": 5, "kills": watch["kills_version"],
                                                               "policy_version": watch["policy_version"]},
                          headers=h(agent)).json()
        assert again["policy_version"] == r.json()["version"] != watch["policy_version"]
        # the server's own decisions use it
        v = httpx.post(srv.url + "/v1/decide", json={"tool_name": "Bash", "tool_input": {"command": "curl x.io"}},
                       headers=h(agent), timeout=30).json()
        deadline = time.monotonic() + 8
        while v["decision"] != "deny" and time.monotonic() < deadline:  # each worker thread re-reads within 5 s
            time.sleep(0.5)
            v = httpx.post(srv.url + "/v1/decide", json={"tool_name": "Bash", "tool_input": {"command": "curl x.io"}},
                           headers=h(agent), timeout=30).json()
        assert v["decision"] == "deny" and "org-no-curl" in str(v)
        hist = httpx.get(srv.url + "/v1/policy", headers=h(auditor)).json()
        assert [x["reason"] for x in hist["history"]][:1] == ["INC-7: no curl"] and hist["history"][0]["by"] == "admin"
        old = httpx.get(srv.url + f"/v1/policy/versions/{hist['history'][1]['version']}", headers=h(auditor)).json()
        assert old["text"] == POLICY
        same = httpx.put(srv.url + "/v1/policy", json={"policy": NO_CURL, "reason": "again"}, headers=h(srv.admin))
        assert same.json()["changed"] is False
        events = httpx.get(srv.url + "/v1/events", params={"kind": "control"}, headers=h(auditor)).json()
        assert any(e.get("op") == "policy.update" and e["data"]["reason"] == "INC-7: no curl" for e in events)
    finally:
        srv.stop()

    # a restart with the old --policy file does not roll the pushed policy back
    srv2 = ServerProcess(tmp_path, home=srv.home)
    srv2.start()
    try:
        assert _bundle_text(srv2.url, srv2.key("m2", "agent")) == NO_CURL
    finally:
        srv2.stop()


def test_a_broken_policy_file_keeps_the_server_from_starting(tmp_path: Path):
    srv = ServerProcess(tmp_path)
    srv.policy.write_text("rules: [{id: x, effect: maybe}]\n")
    with pytest.raises(RuntimeError) as err:
        srv.start()
    assert "central.yaml" in str(err.value)


def test_a_policy_pushed_to_one_replica_is_served_by_the_other_within_a_second(tmp_path: Path):
    if pg_down():
        pytest.skip(pg_down())
    import psycopg

    schema = f"wpol_{uuid.uuid4().hex[:8]}"
    db = f"{PG}?schema={schema}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = ServerProcess(tmp_path / "a", db=db, home=tmp_path / "home-a").start()
    b = ServerProcess(tmp_path / "b", db=db, home=tmp_path / "home-b")
    b.cmd = [c for c in b.cmd if c != "--dev"]
    b.cmd = b.cmd[:b.cmd.index("--policy")] + b.cmd[b.cmd.index("--policy") + 2:]  # no file: the database's
    try:
        import subprocess

        b.err = open(b.root / "b.log", "w+b")  # noqa: SIM115
        b.proc = subprocess.Popen(b.cmd, env=b.env, stdout=subprocess.DEVNULL, stderr=b.err)
        b.admin = a.admin
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                if httpx.get(b.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        agent = a.key("m", "agent")
        assert _bundle_text(b.url, agent) == POLICY
        t0 = time.monotonic()
        assert httpx.put(a.url + "/v1/policy", json={"policy": NO_CURL, "reason": "both"},
                         headers=h(a.admin)).status_code == 200
        while _bundle_text(b.url, agent) != NO_CURL and time.monotonic() - t0 < 5:
            time.sleep(0.02)
        took = time.monotonic() - t0
        assert _bundle_text(b.url, agent) == NO_CURL
        assert took < 1.0, f"replica B served the new policy after {took:.2f}s"
    finally:
        a.stop()
        b.stop()
        with psycopg.connect(PG, autocommit=True) as c:
            for part in ("state", "audit", "server"):
                c.execute(f"DROP SCHEMA IF EXISTS {schema}_{part} CASCADE")

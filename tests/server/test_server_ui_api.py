"""The JSON behind the web interface (``/v1/ui/...``) over real HTTP, key teams and their migration, and the
pure pieces the pages rank and flag with (card risk, machine health, latency percentiles)."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pg_util import PG, pg_down  # noqa: E402
from server_proc import UI_POLICY, ServerProcess, h  # noqa: E402

from warden.core.control.risk import card_risk  # noqa: E402
from warden.server.keys import MIGRATIONS, KeyStore  # noqa: E402
from warden.server.ui_data import machine_health, percentile  # noqa: E402

@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui-api")
    s = ServerProcess(root)
    s.policy.write_text(UI_POLICY)
    s.start()
    yield s
    s.stop()


def ask(srv, key: str, command: str, agent: str = "claude-code", session: str = "") -> str:
    r = httpx.post(srv.url + "/v1/decide", headers=h(key), timeout=30, json={
        "tool_name": "Bash", "tool_input": {"command": command}, "session_id": session or f"s-{uuid.uuid4().hex[:8]}",
        "actor": {"agent": agent}})
    assert r.status_code == 200 and r.json()["decision"] == "ask", r.text
    return r.json()["approval"]["id"]


def test_keys_carry_a_team_that_the_queue_filters_by(srv):
    pay = srv.key("carol@example.com", "agent", team="payments")
    plat = srv.key("dan@example.com", "agent", team="platform")
    lead = srv.key("lead@example.com", "approver")
    r = httpx.post(srv.url + "/v1/keys", headers=h(srv.admin), json={"owner": "x", "role": "agent", "team": "a;b"})
    assert r.status_code == 400 and "team" in r.json()["error"]
    teams = {k["owner"]: k["team"] for k in httpx.get(srv.url + "/v1/keys", headers=h(srv.admin)).json()}
    assert teams["carol@example.com"] == "payments" and teams["lead@example.com"] == ""

    push = ask(srv, pay, "git push origin main")
    deploy = ask(srv, plat, "deploy web", agent="codex")
    q = httpx.get(srv.url + "/v1/ui/queue", headers=h(lead)).json()
    by_id = {i["id"]: i for i in q["items"]}
    assert by_id[push]["team"] == "payments" and by_id[deploy]["team"] == "platform"
    assert by_id[push]["risk"] == "high" and "git.push_protected" in by_id[push]["risk_reasons"]
    assert by_id[deploy]["risk"] == "low"
    assert {"payments", "platform"} <= set(q["facets"]["teams"]) and "codex" in q["facets"]["agents"]
    ids = [i["id"] for i in q["items"]]
    assert ids.index(push) < ids.index(deploy)  # highest risk first

    def shown(**f: str) -> set[str]:
        return {i["id"] for i in httpx.get(srv.url + "/v1/ui/queue", params=f, headers=h(lead)).json()["items"]}

    assert push in shown(team="payments") and deploy not in shown(team="payments")
    assert deploy in shown(agent="codex") and push not in shown(agent="codex")
    assert push in shown(risk="high") and deploy not in shown(risk="high")


def test_the_ui_json_is_for_people_and_scoped_to_the_developer(srv):
    mine = srv.key("erin@example.com", "agent", team="web")
    theirs = srv.key("frank@example.com", "agent")
    dev = srv.key("erin@example.com", "developer")
    auditor = srv.key("audit@example.com", "auditor")
    a = ask(srv, mine, "deploy erin-app", session="s-erin")
    b = ask(srv, theirs, "deploy frank-app", session="s-frank")
    for path in ("/v1/ui/queue", "/v1/ui/sessions", "/v1/ui/dashboard", "/v1/ui/sessions/s-erin"):
        assert httpx.get(srv.url + path, headers=h(mine)).status_code == 403, path  # agent keys: no
        assert httpx.get(srv.url + path).status_code == 401, path
    q = {i["id"] for i in httpx.get(srv.url + "/v1/ui/queue", headers=h(dev)).json()["items"]}
    assert a in q and b not in q
    sessions = {s["session"] for s in httpx.get(srv.url + "/v1/ui/sessions", headers=h(dev)).json()["sessions"]}
    assert "s-erin" in sessions and "s-frank" not in sessions
    assert httpx.get(srv.url + "/v1/ui/sessions/s-frank", headers=h(dev)).status_code == 404
    assert httpx.get(srv.url + "/v1/ui/sessions/s-frank", headers=h(auditor)).status_code == 200
    everyone = {s["session"] for s in httpx.get(srv.url + "/v1/ui/sessions", headers=h(auditor)).json()["sessions"]}
    assert {"s-erin", "s-frank"} <= everyone
    dash = httpx.get(srv.url + "/v1/ui/dashboard", headers=h(dev)).json()
    full = httpx.get(srv.url + "/v1/ui/dashboard", headers=h(auditor)).json()
    assert 1 <= dash["pending"] < full["pending"]
    assert httpx.get(srv.url + "/v1/ui/dashboard?stale_minutes=0", headers=h(auditor)).status_code == 422  # out of the published bounds


def test_a_vote_takes_the_grant_scopes_rules_use_and_refuses_unreadable_ones(srv):
    agent = srv.key("gina@example.com", "agent")
    lead = srv.key("lead2@example.com", "approver")
    rid = ask(srv, agent, "deploy api")
    bad = httpx.post(f"{srv.url}/v1/approvals/{rid}/approve", headers=h(lead), json={"grant": "forever"})
    assert bad.status_code == 400 and "grant" in bad.json()["error"]  # not a 500
    ok = httpx.post(f"{srv.url}/v1/approvals/{rid}/approve", headers=h(lead), json={"grant": "30m", "reason": "ok"})
    assert ok.status_code == 200 and ok.json()["grant"]["scope"] == "duration:1800", ok.text
    rid2 = ask(srv, agent, "deploy api --canary")
    ok2 = httpx.post(f"{srv.url}/v1/approvals/{rid2}/approve", headers=h(lead), json={"grant": "duration:900"})
    assert ok2.status_code == 200 and ok2.json()["grant"]["scope"] == "duration:900"


def test_the_dashboard_flags_stale_and_unhealthy_machines_with_the_reason(srv):
    agent = srv.key("hal@example.com", "agent")
    auditor = srv.key("audit2@example.com", "auditor")

    def report(machine: str, doctor: dict) -> None:
        r = httpx.post(srv.url + "/v1/machines/report", headers=h(agent), json={"machine": machine, "version": "1.2",
                                                                                "doctor": doctor})
        assert r.status_code == 200, r.text

    report("hal-ok", {"healthy": True, "hooks_live": True, "findings": []})
    report("hal-broken", {"healthy": False, "hooks_live": True, "findings": [
        {"id": "policy", "severity": "error", "message": "warden.yaml does not load: line 3"}]})
    report("hal-quiet", {"healthy": True, "hooks_live": True, "findings": []})
    db = sqlite3.connect(srv.home / "server.db")
    db.execute("UPDATE machines SET last_seen = ? WHERE id = 'hal-quiet'", (time.time() - 3600,))
    db.commit()
    db.close()
    view = httpx.get(srv.url + "/v1/ui/dashboard", headers=h(auditor)).json()
    att = {m["id"]: m for m in view["attention"]}
    assert "hal-ok" not in att
    assert att["hal-broken"]["state"] == "unhealthy" and "warden.yaml does not load" in " ".join(att["hal-broken"]["reasons"])
    assert att["hal-quiet"]["state"] == "stale" and "no contact for 60 min" in att["hal-quiet"]["reasons"][0]
    # a later event batch from the machine keeps the client version its report gave
    assert httpx.post(srv.url + "/v1/events", headers=h(agent), json={"machine": "hal-ok", "events": []}).status_code == 200
    longer = httpx.get(srv.url + "/v1/ui/dashboard?stale_minutes=120", headers=h(auditor)).json()
    assert "hal-quiet" not in {m["id"] for m in longer["attention"]}
    ok = next(m for m in longer["machines"] if m["id"] == "hal-ok")
    assert ok["version"] == "1.2"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_team_column_is_added_in_place_to_a_deployed_key_table(tmp_path, backend):
    if backend == "postgresql":
        if why := pg_down():
            pytest.skip(why)
        url = f"{PG}?schema=t_{uuid.uuid4().hex[:10]}"
    else:
        url = str(tmp_path / "server.db")
    old = KeyStore.__new__(KeyStore)  # a server from before the team column: the migrations before it only
    saved = MIGRATIONS[:]
    try:
        MIGRATIONS[:] = saved[:next(i for i, sql in enumerate(saved) if "ADD COLUMN team" in sql)]
        KeyStore.__init__(old, url)
        old.execute("INSERT INTO api_keys (id, digest, owner, role, created, expires, revoked, label) "
                    "VALUES (?, ?, ?, ?, ?, NULL, NULL, '')",  # as the old server wrote its rows
                    ("0123456789ab", hashlib.sha256(b"s3cret").hexdigest(), "ivy@example.com", "agent", time.time()))
        old.close()
        key = "wk_0123456789ab_s3cret"
    finally:
        MIGRATIONS[:] = saved
    store = KeyStore(url)  # the new server starts on the same table
    try:
        assert store.migrate() == len(MIGRATIONS)
        assert store.check(key).owner == "ivy@example.com"  # old keys still work
        assert [k["team"] for k in store.list()] == [""]
        store.create("ivy@example.com", "developer", team="data")
        assert store.teams()[1] == {"ivy@example.com": "data"}
    finally:
        store.close()


@pytest.mark.parametrize("card, level", [
    ({"facts": [{"kind": "git.push_protected"}]}, "high"),
    ({"git": [{"kind": "git.subcommand"}], "facts": [{"kind": "git.push"}]}, "medium"),
    ({"packages": [{"kind": "pkg.install"}]}, "medium"),
    ({"facts": [{"kind": "exec.script"}, {"kind": "git.subcommand"}]}, "low"),
    ({"facts": []}, "low"),
    ({"facts": [], "taint": [{"label": "web page"}]}, "high"),
    ({"facts": [], "hosts": ["api.example.com"]}, "medium"),
    ({"facts": [{"kind": "some.new_kind"}]}, "medium"),  # unknown: never low
    ({"facts": [{"kind": "secret.read"}], "risk": "low"}, "low"),  # a card's own risk wins
])
def test_card_risk(card, level):
    assert card_risk(card)[0] == level


def test_machine_health_reads_the_doctor_report():
    now = 10_000.0
    fresh = {"id": "m", "owner": "o", "last_seen": now - 5, "version": "", "doctor": ""}
    assert machine_health(fresh, now, 900)["state"] == "unknown"  # no report yet
    dead = {**fresh, "doctor": '{"healthy": false, "hooks_live": false, "findings": [{"id": "hooks", '
                                '"severity": "error", "message": "Claude Code hooks missing"}]}'}
    got = machine_health(dead, now, 900)
    assert got["state"] == "unhealthy" and got["reasons"] == ["hooks not live: Claude Code hooks missing (hooks)"]
    # the shape `warden sync` sends (warden.integrations.server_client.report)
    synced = {**fresh, "doctor": '{"healthy": false, "hooks_live": true, "findings": [{"check": "policy.load", '
                                 '"status": "fail", "summary": "warden.yaml: bad rule", "fix": "warden policy validate"}, '
                                 '{"check": "daemon", "status": "ok", "summary": "running"}]}'}
    assert machine_health(synced, now, 900)["reasons"] == [
        "doctor fail: warden.yaml: bad rule (policy.load); fix: warden policy validate"]
    garbled = machine_health({**fresh, "doctor": "{not json"}, now, 900)
    assert garbled["state"] == "unhealthy" and "not readable" in garbled["reasons"][0]
    quiet = machine_health({**fresh, "last_seen": now - 7200, "doctor": '{"healthy": true, "hooks_live": true}'}, now, 900)
    assert quiet["state"] == "stale" and quiet["reasons"] == ["no contact for 2 h (stale after 15 min)"]


def test_percentile_is_nearest_rank():
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.9) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0

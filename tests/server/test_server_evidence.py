"""Evidence from every machine, over real HTTP to a real `warden server --dev`: the durable outbox, exactly-once
ingest of each machine's chain as sent, what the server refuses (tampering, gaps, forks, a changed key), central
verification (`warden audit verify --server`) and central evidence packs, per role."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from evidence_util import central_events, env, local_store, login, record  # noqa: E402
from server_proc import ServerProcess, free_port, h  # noqa: E402
from warden_cli import run_warden  # noqa: E402

from warden.adapters.store.keyring import AuditKeys  # noqa: E402
from warden.core.audit import Record, chain_hash  # noqa: E402
from warden.integrations.server_client.outbox import batch_body, cursor_key, pending, ship  # noqa: E402


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("evidence-server")).start()
    s.keys = {role: s.key(f"{role}-1", role) for role in ("developer", "approver", "auditor")}
    yield s
    s.stop()


def records_of(home: Path, after: int = 0, n: int = 10_000) -> list[Record]:
    store = local_store(home)
    try:
        return [r for r in store.iter_records(after_seq=after) if r.seq <= after + n]
    finally:
        store.close()


def post(srv, key: str, body: dict) -> httpx.Response:
    return httpx.post(srv.url + "/v1/events", headers=h(key), json=body, timeout=60)


def held(srv, machine: str, key: str | None = None) -> dict:
    rows = httpx.get(srv.url + "/v1/evidence/machines", headers=h(key or srv.keys["auditor"]), timeout=30).json()
    mine = [m for m in rows if m["machine"] == machine]
    return mine[-1] if mine else {}


def test_nothing_is_lost_while_the_server_is_down_and_everything_arrives_once(tmp_path):
    srv = ServerProcess(tmp_path / "srv")  # not started yet: its port refuses connections
    home = tmp_path / "laptop"
    ids = record(home, 1500, session="offline")
    link = login(home, srv.url, "wk_notyet_notyet", "laptop-offline")
    down = ship(link, home, env(home))
    assert down.error and "cannot reach" in down.error and "stay queued" in down.error
    assert (down.accepted, down.pending) == (0, 1500)
    assert pending(home, env(home)) == 1500
    srv.start()
    try:
        link = login(home, srv.url, srv.key("ann", "agent"), "laptop-offline")
        with httpx.Client(timeout=30) as client:
            up = ship(link, home, env(home), batch=400, client=client)
        assert (up.error, up.accepted, up.replayed, up.pending) == ("", 1500, 0, 0)
        record(home, 250, session="offline")
        assert pending(home, env(home)) == 250
        more = ship(link, home, env(home))
        assert (more.accepted, more.pending) == (250, 0)
        central = central_events(srv, "laptop-offline")
        assert len(central) == 1750 and len({e["id"] for e in central}) == 1750
        assert set(ids) <= {e["id"] for e in central}
        assert [e["origin"]["seq"] for e in central] == list(range(1, 1751))  # in the machine's order
        assert central[0]["origin"]["owner"] == "ann" and central[0]["origin"]["hash"] == records_of(home)[0].hash
    finally:
        srv.stop()


def test_a_replayed_batch_is_counted_not_stored_again(srv, tmp_path):
    home = tmp_path / "replay"
    record(home, 120, session="replay")
    key = srv.key("rita", "agent")
    keys = AuditKeys.load(home, create=False)
    body = batch_body("replay-box", keys, records_of(home))
    first = post(srv, key, body).json()
    again = post(srv, key, body).json()
    assert (first["accepted"], first["replayed"]) == (120, 0)
    assert (again["accepted"], again["replayed"]) == (0, 120)
    overlap = batch_body("replay-box", keys, records_of(home, after=100))  # resend of a tail after a lost cursor
    assert post(srv, key, overlap).json()["replayed"] == 20
    assert len(central_events(srv, "replay-box")) == 120
    assert held(srv, "replay-box")["records"] == 120


def test_tampered_batches_are_refused_whole_and_audited(srv, tmp_path):
    home = tmp_path / "tamper"
    record(home, 30, session="tamper")
    key = srv.key("tom", "agent")
    keys = AuditKeys.load(home, create=False)
    recs = records_of(home)

    def edited(i: int, rehash: bool) -> list[Record]:
        out = list(recs)
        r = out[i]
        body = r.body.replace('"phase":"start"', '"phase":"stop"')
        assert body != r.body
        digest = __import__("hashlib").sha256(body.encode()).hexdigest()
        out[i] = Record(r.seq, r.prev_hash, chain_hash(r.seq, r.prev_hash, digest) if rehash else r.hash, r.mac,
                        r.key_id, body, r.segment)
        return out

    no_rehash = post(srv, key, batch_body("tamper-box", keys, edited(10, rehash=False)))
    assert no_rehash.status_code == 422 and no_rehash.json()["code"] == "tampered"
    assert "record 11 does not match its hash" in no_rehash.json()["error"]
    rehashed = post(srv, key, batch_body("tamper-box", keys, edited(10, rehash=True)))  # the next link breaks
    assert rehashed.status_code == 422 and "record 12 does not link to record 11" in rehashed.json()["error"]
    body = batch_body("tamper-box", keys, recs)
    body["checkpoint"]["signature"] = "00" * 64
    forged = post(srv, key, body)
    assert forged.status_code == 422 and forged.json()["code"] == "bad_checkpoint"
    assert held(srv, "tamper-box") == {}  # nothing of any refused batch was stored
    assert post(srv, key, batch_body("tamper-box", keys, recs)).json()["accepted"] == 30
    alerts = httpx.get(srv.url + "/v1/events?kind=error&q=tamper-box", headers=h(srv.keys["auditor"])).json()
    assert sum("ALERT" in a["error"] for a in alerts) == 3


def test_a_gap_is_answered_409_and_the_client_recovers(srv, tmp_path):
    home = tmp_path / "gap"
    record(home, 300, session="gap")
    link = login(home, srv.url, srv.key("gus", "agent"), "gap-box")
    keys = AuditKeys.load(home, create=False)
    assert post(srv, link.key, batch_body("gap-box", keys, records_of(home, 0, 100))).status_code == 200
    skip = post(srv, link.key, batch_body("gap-box", keys, records_of(home, 200, 100)))
    assert skip.status_code == 409 and skip.json()["code"] == "gap" and skip.json()["expected_seq"] == 101
    store = local_store(home)
    try:  # a cursor that ran ahead of the server (e.g. a server restored from an older backup)
        store.set_meta(cursor_key(link), "250 " + "ab" * 32)
    finally:
        store.close()
    res = ship(link, home, env(home))
    assert (res.error, res.pending, res.accepted) == ("", 0, 200)
    assert held(srv, "gap-box")["head"]["seq"] == 300
    assert len(central_events(srv, "gap-box")) == 300


def test_a_fork_is_refused_and_raises_an_alert(srv, tmp_path):
    home, twin = tmp_path / "fork", tmp_path / "fork-twin"
    record(home, 50, session="fork")
    link = login(home, srv.url, srv.key("fay", "agent"), "fork-box")
    assert ship(link, home, env(home)).accepted == 50
    twin.mkdir()
    shutil.copytree(home / "keys", twin / "keys")  # same keys, a different history: a rewritten log
    record(twin, 60, session="fork-rewritten")
    res = ship(login(twin, srv.url, link.key, "fork-box"), twin, env(twin))
    assert res.accepted == 0 and "409" in res.error and "different record at seq 1" in res.error
    assert res.pending == 60
    assert held(srv, "fork-box")["head"]["seq"] == 50
    alerts = httpx.get(srv.url + "/v1/events?kind=error&q=fork-box", headers=h(srv.keys["auditor"])).json()
    assert any(a["where"] == "server.evidence.fork" and a["error"].startswith("ALERT") for a in alerts)


def test_a_changed_audit_key_is_refused_until_an_admin_resets_the_machine(srv, tmp_path):
    old, new = tmp_path / "old", tmp_path / "reinstalled"
    record(old, 40, session="rekey")
    key = srv.key("kim", "agent")
    assert ship(login(old, srv.url, key, "rekey-box"), old, env(old)).accepted == 40
    record(new, 25, session="rekey-new")
    link = login(new, srv.url, key, "rekey-box")
    refused = ship(link, new, env(new))
    assert "different audit key" in refused.error and "/v1/evidence/machines/rekey-box/reset" in refused.error
    stranger = ship(login(new, srv.url, srv.key("mallory", "agent"), "rekey-box"), new, env(new))
    assert "403" in stranger.error and "kim" in stranger.error  # another owner cannot ship as this machine
    url = srv.url + "/v1/evidence/machines/rekey-box/reset"
    assert httpx.post(url, headers=h(srv.keys["auditor"]), json={"reason": "x"}).status_code == 403
    assert httpx.post(url, headers=h(srv.admin), json={}).status_code == 400
    r = httpx.post(url, headers=h(srv.admin), json={"reason": "laptop reinstalled"})
    assert r.status_code == 200 and r.json()["next_epoch"] == 2
    res = ship(link, new, env(new))
    assert (res.error, res.accepted) == ("", 25)
    chains = [m for m in httpx.get(srv.url + "/v1/evidence/machines", headers=h(srv.keys["auditor"])).json()
              if m["machine"] == "rekey-box"]
    assert [(c["epoch"], c["records"], c["closed"] is not None) for c in chains] == [(1, 40, True), (2, 25, False)]
    report = httpx.get(srv.url + "/v1/evidence/verify?machine=rekey-box", headers=h(srv.keys["auditor"]),
                       timeout=60).json()
    assert [m["ok"] for m in report["machines"]] == [True, True]


def test_a_pruned_prefix_and_a_rotated_mac_key_still_ship(srv, tmp_path):
    from warden.adapters.store.keyring import rotate_mac_key

    home = tmp_path / "pruned"
    record(home, 200, session="pruned")
    store = local_store(home)
    store.keys = AuditKeys.load(home, create=False)
    store.rotate()
    store.prune(0, tmp_path / "archive")  # events 1..200 leave the log, anchored by the signed rotation
    store.close()
    record(home, 30, session="pruned")
    rotate_mac_key(home)  # the next events are sealed with another MAC key, in the same chain
    record(home, 40, session="pruned")
    assert len({r.key_id for r in records_of(home, 200)}) == 2
    link = login(home, srv.url, srv.key("pat", "agent"), "pruned-box")
    assert pending(home, env(home)) == 70
    res = ship(link, home, env(home))
    assert (res.error, res.accepted, res.pending) == ("", 70, 0)
    chain = held(srv, "pruned-box")
    assert chain["base"]["seq"] == 200 and chain["head"]["seq"] == 270
    report = httpx.get(srv.url + "/v1/evidence/verify?machine=pruned-box", headers=h(srv.keys["auditor"]),
                       timeout=60).json()
    assert report["machines"][0]["ok"] and any("pruned" in w for w in report["machines"][0]["warnings"])


def test_roles_on_the_evidence_endpoints_and_the_explorer_link(srv, tmp_path):
    a, b = tmp_path / "ann-home", tmp_path / "bob-home"
    record(a, 20, session="sess-ann", owner="ann-r")
    record(b, 20, session="sess-bob", owner="bob-r")
    key_a, key_b = srv.key("ann-r", "agent"), srv.key("bob-r", "agent")
    assert ship(login(a, srv.url, key_a, "box-ann"), a, env(a)).accepted == 20
    assert ship(login(b, srv.url, key_b, "box-bob"), b, env(b)).accepted == 20

    def pack(key: str, session: str) -> httpx.Response:
        return httpx.get(srv.url + f"/v1/evidence/pack?session={session}", headers=h(key), timeout=60)

    assert pack(key_b, "sess-ann").status_code == 404  # an agent cannot read others' evidence
    assert pack(key_b, "sess-bob").status_code == 200
    assert [m["machine"] for m in httpx.get(srv.url + "/v1/evidence/machines", headers=h(key_b)).json()] == ["box-bob"]
    mine = httpx.get(srv.url + "/v1/evidence/verify", headers=h(key_b), timeout=60).json()
    assert [m["machine"] for m in mine["machines"]] == ["box-bob"]
    auditor = srv.keys["auditor"]
    assert pack(auditor, "sess-ann").status_code == 200 and pack(auditor, "sess-bob").status_code == 200
    assert post(srv, auditor, batch_body("box-ann", AuditKeys.load(a, create=False), records_of(a))).status_code == 403
    developer = srv.keys["developer"]  # developer-1 owns none of these sessions
    assert pack(developer, "sess-ann").status_code == 404
    assert httpx.get(srv.url + "/v1/evidence/verify", headers=h(developer)).status_code == 403
    assert httpx.get(srv.url + "/v1/evidence/machines", headers=h(developer)).status_code == 403
    assert pack(srv.key("ann-r", "developer"), "sess-ann").status_code == 200  # a developer reads their own
    assert httpx.get(srv.url + "/v1/evidence/pack?session=sess-ann").status_code == 401
    page = httpx.get(srv.url + "/ui/audit?session=sess-ann", cookies={"warden_token": auditor}).text
    assert 'href="/v1/evidence/pack?session=sess-ann"' in page
    zipped = httpx.get(srv.url + "/v1/evidence/pack?session=sess-ann", cookies={"warden_token": auditor})
    assert zipped.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(__import__("io").BytesIO(zipped.content)) as zf:
        events = [json.loads(line) for line in zf.read("events.jsonl").decode().splitlines()]
    assert len(events) == 20 and {e["origin"]["machine"] for e in events} == {"box-ann"}


def test_verify_server_and_central_evidence_packs_from_the_cli(srv, tmp_path):
    home = tmp_path / "cli-home"
    record(home, 80, session="cli-sess", owner="cleo")
    link = login(home, srv.url, srv.key("cleo", "agent"), "cli-box")
    assert ship(link, home, env(home)).accepted == 80
    out = run_warden("audit", "verify", "--server", "--json", env=env(home))
    assert out.returncode == 0, out.stderr.decode()
    report = json.loads(out.stdout)
    assert report["ok"] and report["local"]["match"] is True and report["local"]["server_head"]["seq"] == 80
    assert report["server"]["central"]["ok"] and report["server"]["checkpoint"]["seq"] >= 80
    human = run_warden("audit", "verify", "--server", env=env(home))
    assert human.returncode == 0 and b"matches the local log at seq 80" in human.stdout
    pack = tmp_path / "central.zip"
    got = run_warden("audit", "evidence", "--server", "--session", "cli-sess", "--out", str(pack), env=env(home))
    assert got.returncode == 0, got.stderr.decode()
    assert b"verification OK" in got.stdout
    ok = run_warden("audit", "verify", str(pack), "--json", env=env(home))
    assert ok.returncode == 0, ok.stdout.decode() + ok.stderr.decode()
    assert any("sealed by another log's key" in w for w in json.loads(ok.stdout)["warnings"])
    bad = tmp_path / "tampered.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "records.jsonl":
                data = data.replace(b"cli-sess", b"cli-sesX", 1)
            dst.writestr(item, data)
    broken = run_warden("audit", "verify", str(bad), env=env(home))
    assert broken.returncode == 1 and b"BROKEN" in broken.stderr
    nobody = tmp_path / "nobody"
    nobody.mkdir()
    lost = run_warden("audit", "verify", "--server", env=env(nobody))
    assert lost.returncode == 2 and b"not logged in" in lost.stderr


def test_verify_server_says_when_the_server_is_unreachable(tmp_path):
    home = tmp_path / "h"
    record(home, 3)
    login(home, f"http://127.0.0.1:{free_port()}", "wk_x_y", "gone-box")
    out = run_warden("audit", "verify", "--server", env=env(home))
    assert out.returncode == 2 and b"cannot reach" in out.stderr


def test_large_events_ship_in_requests_under_the_servers_body_limit(srv, tmp_path):
    import time

    from warden.adapters.audit import open_recorder
    from warden.core.audit import control_event

    home = tmp_path / "big"
    rec = open_recorder(home, env(home))
    big = {f"field{i}": "é" * 4000 + "x" * 4000 for i in range(60)}  # ~0.5 MB of text, non-ASCII half of it
    rec.record_many([control_event(op="bulk", started_at=time.time(), data=big, session="big") for _ in range(20)])
    rec.close()
    sizes: list[int] = []
    with httpx.Client(timeout=60, event_hooks={"request": [lambda req: sizes.append(len(req.content))]}) as client:
        res = ship(login(home, srv.url, srv.key("bea", "agent"), "big-box"), home, env(home), client=client)
    assert (res.error, res.accepted) == ("", 20)
    assert len(sizes) >= 3 and max(sizes) < 4 * 1024 * 1024


def test_a_local_log_in_postgresql_ships_too(srv, tmp_path):
    """$WARDEN_AUDIT_DB names the local log, as for every other reader and writer of it."""
    import uuid

    import psycopg
    from pg_util import PG, pg_down

    if pg_down():
        pytest.skip(pg_down())
    schema = f"wloc_{uuid.uuid4().hex[:8]}"
    home = tmp_path / "pg-laptop"
    environ = {**env(home), "WARDEN_AUDIT_DB": f"{PG}?schema={schema}"}
    try:
        record(home, 700, session="pg-local", environ=environ)
        link = login(home, srv.url, srv.key("paula", "agent"), "pg-box")
        assert pending(home, environ) == 700
        assert not (home / "audit.db").exists()
        res = ship(link, home, environ)
        assert (res.error, res.accepted, res.pending) == ("", 700, 0)
        assert held(srv, "pg-box")["head"]["seq"] == 700
    finally:
        with psycopg.connect(PG, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_central_packs_carry_the_policy_texts_the_machine_decided_with(srv, tmp_path):
    import time

    from warden.adapters.audit import open_recorder
    from warden.core.action import action_from_payload
    from warden.core.audit import decision_event
    from warden.core.decision import Decision, Verdict

    home = tmp_path / "policy-home"
    action = action_from_payload({"tool_name": "Bash", "tool_input": {"command": "ls"}, "session_id": "pol-sess",
                                  "actor": {"id": "polly", "agent": "claude-code"}})
    rec = open_recorder(home, env(home))
    rec.record(decision_event(action, Verdict(Decision.ALLOW, "fine"), policy_digest="sha256:" + "cd" * 32,
                              policy_sources=["warden.yaml"], started_at=time.time(), duration_ms=1.0,
                              policy_texts={"warden.yaml": "version: 1\nrules: []\n"}))
    rec.close()
    assert ship(login(home, srv.url, srv.key("polly", "agent"), "policy-box"), home, env(home)).accepted == 1
    r = httpx.get(srv.url + "/v1/evidence/pack?session=pol-sess", headers=h(srv.keys["auditor"]), timeout=60)
    with zipfile.ZipFile(__import__("io").BytesIO(r.content)) as zf:
        texts = [zf.read(n).decode() for n in zf.namelist() if n.startswith("policies/") and "warden.yaml" in n]
    assert texts == ["version: 1\nrules: []\n"]

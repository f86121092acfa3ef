"""SIGKILL the team server while a machine ships thousands of events: after a restart on the same home and
database, the central store holds every local event exactly once and verifies (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from evidence_util import central_events, env, login, record  # noqa: E402
from pg_util import PG, pg_down  # noqa: E402
from server_proc import ServerProcess  # noqa: E402
from warden_cli import run_warden  # noqa: E402

from warden.integrations.server_client.outbox import ShipResult, pending, ship  # noqa: E402

TOTAL = 6000
PG_DOWN = pg_down()


@pytest.fixture(params=["sqlite", "postgres"])
def server_db(request):
    if request.param == "sqlite":
        yield None
        return
    if PG_DOWN:
        pytest.skip(PG_DOWN)
    import psycopg

    schema = f"wev_{uuid.uuid4().hex[:8]}"
    yield f"{PG}?schema={schema}"
    with psycopg.connect(PG, autocommit=True) as c:
        for part in ("state", "audit", "server"):
            c.execute(f"DROP SCHEMA IF EXISTS {schema}_{part} CASCADE")


def test_sigkill_the_server_mid_load_loses_nothing_and_stores_nothing_twice(tmp_path, server_db):
    srv = ServerProcess(tmp_path / "srv", db=server_db).start()
    home = tmp_path / "laptop"
    link = login(home, srv.url, srv.key("kai", "agent"), "crash-box")
    results: list[ShipResult] = []
    stop = threading.Event()

    flight = {"sent": 0, "answered": 0}

    def sent(request: httpx.Request) -> None:
        flight["sent"] += 1

    def answered(response: httpx.Response) -> None:
        flight["answered"] += 1

    def shipper() -> None:  # the link loop: ship, and on an error try again shortly
        client = httpx.Client(timeout=30, event_hooks={"request": [sent], "response": [answered]})
        while not stop.is_set():
            res = ship(link, home, env(home), batch=500, max_batches=4, client=client)
            results.append(res)
            if res.error or not res.sent:
                time.sleep(0.05)

    writer = threading.Thread(target=record, args=(home, TOTAL), kwargs={"session": "crash", "chunk": 100,
                                                                              "pause": 0.1})
    ship_thread = threading.Thread(target=shipper)
    writer.start()
    ship_thread.start()
    kills: list[int] = []
    in_flight: list[bool] = []  # was a batch on its way when the kill came?
    try:
        deadline = time.monotonic() + 150
        for threshold in (1500, 3000, 4500):  # three kills -9 at different points of the load
            while sum(r.accepted for r in results) < threshold and time.monotonic() < deadline:
                time.sleep(0.005)
            assert sum(r.accepted for r in results) >= threshold, [r.error for r in results[-3:]]
            spin = time.monotonic() + 5
            while flight["sent"] == flight["answered"] and time.monotonic() < spin:
                pass  # wait for a batch to be on its way: the kill lands while the server handles it
            in_flight.append(flight["sent"] > flight["answered"])
            srv.kill()  # while the shipper is sending and the writer recording
            kills.append(sum(r.accepted for r in results))
            time.sleep(0.3)
            srv.start()
        writer.join(120)
        while time.monotonic() < deadline:
            if not writer.is_alive() and pending(home, env(home)) == 0 and results and not results[-1].error:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        ship_thread.join(60)
        writer.join(60)
    try:
        assert pending(home, env(home)) == 0, [r.error for r in results[-3:]]
        assert any(r.error for r in results), "the kill was never noticed: the test did not test a crash"
        assert any(in_flight), "no kill landed while a batch was being sent"
        central = central_events(srv, "crash-box")
        ids = [e["id"] for e in central]
        assert len(ids) == TOTAL and len(set(ids)) == TOTAL  # every local event, once
        assert sorted(e["origin"]["seq"] for e in central) == list(range(1, TOTAL + 1))
        out = run_warden("audit", "verify", "--server", "--json", env=env(home), timeout=180)
        assert out.returncode == 0, out.stdout.decode()[-2000:] + out.stderr.decode()
        report = json.loads(out.stdout)
        assert report["local"]["match"] and report["local"]["server_head"]["seq"] == TOTAL
        mine = [m for m in report["server"]["machines"] if m["machine"] == "crash-box"]
        assert [m["records"] for m in mine] == [TOTAL] and mine[0]["rechained_seq"] == TOTAL
        print(f"{backend_name(server_db)}: killed at {kills} acknowledged (in flight: {in_flight}), {TOTAL} in the end; "
              f"{sum(r.replayed for r in results)} records replayed, "
              f"{sum(1 for r in results if r.error)} failed ship calls")
    finally:
        srv.stop()


def backend_name(db: str | None) -> str:
    return "postgres" if db else "sqlite"


def test_a_crash_between_storing_records_and_copying_them_into_the_log_is_repaired(tmp_path):
    """The two crash windows of an ingest, set up exactly: records held but not yet in the server's log, and
    records already in the log whose watermark was not advanced. A restart repairs both, each event once."""
    import sqlite3

    from evidence_util import local_store

    from warden.adapters.store.keyring import AuditKeys
    from warden.integrations.server_client.outbox import batch_body

    srv = ServerProcess(tmp_path / "srv").start()
    home = tmp_path / "laptop"
    record(home, 300, session="window")
    link = login(home, srv.url, srv.key("wen", "agent"), "window-box")
    store = local_store(home)
    recs = list(store.iter_records())
    store.close()
    body = batch_body("window-box", AuditKeys.load(home, create=False), recs[:100])
    assert httpx.post(srv.url + "/v1/events", headers=link.headers(), json=body).json()["accepted"] == 100
    srv.stop()
    db = sqlite3.connect(srv.home / "server.db", isolation_level=None)
    db.executemany("INSERT INTO machine_records VALUES ('window-box', 1, ?, ?, ?, ?, ?, ?, ?, 'k', 0)",
                   [(r.seq, r.prev_hash, r.hash, r.mac, r.key_id, r.body, r.segment) for r in recs[100:]])
    db.execute("UPDATE machine_chains SET head_seq = 300, head_hash = ?, rechained_seq = 60", (recs[-1].hash,))
    db.close()
    srv.start()
    try:
        central = central_events(srv, "window-box")
        assert len(central) == 300 and len({e["id"] for e in central}) == 300
        res = ship(link, home, env(home))  # the client never saw 101..300 acknowledged: it resends them
        assert (res.error, res.accepted, res.replayed, res.pending) == ("", 0, 300, 0)
        assert len(central_events(srv, "window-box")) == 300
    finally:
        srv.stop()

"""SQLite audit store against a real database: concurrency, durability, tampering, rotation, bad input."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from audit_helpers import make_decision

from warden.adapters.audit import AuditError, Recorder, open_recorder
from warden.adapters.store import StoreError, StoreOptions, open_store
from warden.core.audit import session_event


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh, empty $WARDEN_HOME."""
    (tmp_path / "wardenhome").mkdir()
    return tmp_path / "wardenhome"

SRC = str(Path(__file__).resolve().parents[2] / "src")
TESTS = str(Path(__file__).resolve().parent)


def fill(home: Path, n: int, **opts) -> None:
    store = open_store(None, home, options=StoreOptions(**opts))
    try:
        for i in range(n):
            store.append(make_decision(i, session=f"s{i % 2}"))
    finally:
        store.close()


def verify(home: Path, **opts):
    store = open_store(None, home, keys="require", options=StoreOptions(**opts))
    try:
        return store.verify()
    finally:
        store.close()


def db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "audit.db", isolation_level=None)


def test_append_verify_and_files_are_private(home: Path) -> None:
    fill(home, 5)
    rep = verify(home)
    assert rep.ok and rep.count == 5 and rep.last_seq == 5
    assert (home / "keys" / "audit-mac.key").stat().st_mode & 0o777 == 0o600
    assert (home / "keys").stat().st_mode & 0o777 == 0o700
    assert (home / "audit.db").stat().st_mode & 0o777 == 0o600
    with db(home) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


WRITER = textwrap.dedent("""
    import sys
    sys.path[:0] = [{src!r}, {tests!r}]
    from audit_helpers import make_decision
    from warden.adapters.store import open_store, StoreOptions
    home, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = open_store(None, home, options=StoreOptions(checkpoint_every=int(sys.argv[4])))
    for i in range(n):
        ev = make_decision(i, session=tag)
        store.append(ev)
        print(ev["id"], flush=True)   # printed only after append returned: the event is acknowledged
""")


def writer_cmd(home: Path, tag: str, n: int, checkpoint_every: int = 0) -> list[str]:
    return [sys.executable, "-c", WRITER.format(src=SRC, tests=TESTS), str(home), tag, str(n), str(checkpoint_every)]


def test_concurrent_writer_processes_keep_one_valid_chain(home: Path) -> None:
    procs = [subprocess.Popen(writer_cmd(home, f"w{k}", 60, checkpoint_every=25), stdout=subprocess.PIPE, text=True)
             for k in range(4)]
    acked = set()
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        acked.update(out.split())
    assert len(acked) == 240
    store = open_store(None, home, keys="require")
    try:
        ids = [e["id"] for e in store.iter_events()]
        rep = store.verify()
        cps = store.checkpoints()
    finally:
        store.close()
    assert sorted(ids) == sorted(acked)  # nothing lost, nothing duplicated
    assert rep.ok and rep.count == 240 and rep.checkpoints >= 9
    assert [c.seq for c in cps if c.reason == "periodic"][:3] == [25, 50, 75]


def test_many_processes_creating_the_log_at_once(home: Path) -> None:
    # Every writer starts on an empty $WARDEN_HOME: schema, keys and first events race each other.
    procs = [subprocess.Popen(writer_cmd(home, f"c{k}", 5), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(6)]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    rep = verify(home)
    assert rep.ok and rep.count == 30


def test_acknowledged_events_survive_kill_9(home: Path) -> None:
    fill(home, 1)  # create DB and keys first so the writer starts appending at once
    p = subprocess.Popen(writer_cmd(home, "crash", 100000), stdout=subprocess.PIPE, text=True)
    acked = []
    assert p.stdout is not None
    while len(acked) < 150:
        line = p.stdout.readline()
        assert line, "writer died early"
        acked.append(line.strip())
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    store = open_store(None, home, keys="require")
    try:
        ids = {e["id"] for e in store.iter_events()}
        rep = store.verify()
    finally:
        store.close()
    assert set(acked) <= ids
    assert rep.ok, rep.broken


def test_tampering_is_located(home: Path) -> None:
    fill(home, 12, checkpoint_every=5)
    assert verify(home).ok

    def broken():
        rep = verify(home)
        assert not rep.ok
        return rep.broken.seq, rep.broken.kind

    with db(home) as c:  # edit
        c.execute("UPDATE events SET body = replace(body, 'echo 3', 'echo 333') WHERE seq = 4")
    assert broken() == (4, "edited")
    with db(home) as c:
        c.execute("UPDATE events SET body = replace(body, 'echo 333', 'echo 3') WHERE seq = 4")
    assert verify(home).ok
    with db(home) as c:  # reorder in place
        c.execute("UPDATE events SET seq = -6 WHERE seq = 6")
        c.execute("UPDATE events SET seq = 6 WHERE seq = 7")
        c.execute("UPDATE events SET seq = 7 WHERE seq = -6")
    assert broken() == (6, "reordered")
    with db(home) as c:
        c.execute("UPDATE events SET seq = -6 WHERE seq = 6")
        c.execute("UPDATE events SET seq = 6 WHERE seq = 7")
        c.execute("UPDATE events SET seq = 7 WHERE seq = -6")
    assert verify(home).ok
    # insert: append a forged event computed without the key
    from warden.core.audit import Head, seal
    with db(home) as c:
        seq, h = c.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        rec = seal(session_event(phase="start", session="evil", started_at=0) | {"id": "x"}, Head(seq, h), b"w" * 32)
        c.execute("INSERT INTO events (seq, prev_hash, hash, mac, key_id, body, segment, kind, event_id, ts, session, "
                  "agent, tool, decision, rules, subject, tool_use_id) VALUES (?,?,?,?,?,?,1,'session','x','','evil','','','','','','')",
                  (rec.seq, rec.prev_hash, rec.hash, rec.mac, c.execute("SELECT key_id FROM events").fetchone()[0],
                   rec.body))
    assert broken() == (13, "forged")
    with db(home) as c:
        c.execute("DELETE FROM events WHERE seq = 13")
    assert verify(home).ok
    # truncate the tail, and the checkpoints in the DB: the copy beside the DB still catches it
    with db(home) as c:
        c.execute("DELETE FROM events WHERE seq > 8")
        c.execute("DELETE FROM checkpoints WHERE seq > 8")
    assert broken() == (9, "truncated")
    # delete in the middle
    with db(home) as c:
        c.execute("DELETE FROM events WHERE seq = 3")
    assert broken() == (3, "deleted")


def test_forged_checkpoint_is_rejected(home: Path) -> None:
    fill(home, 6, checkpoint_every=3)
    with db(home) as c:
        c.execute("UPDATE checkpoints SET seq = 5 WHERE seq = 6")
    (home / "audit.db.checkpoints.jsonl").unlink()
    rep = verify(home)
    assert not rep.ok and rep.broken.kind == "checkpoint"


def test_rotation_and_pruning_keep_verification(home: Path, tmp_path: Path) -> None:
    fill(home, 25, segment_events=10, checkpoint_every=0)
    store = open_store(None, home, keys="require", options=StoreOptions(segment_events=10, checkpoint_every=0))
    try:
        segs = store.segments()
        assert [(s["first_seq"], s["last_seq"], s["state"]) for s in segs] == [
            (1, 10, "sealed"), (11, 20, "sealed"), (21, None, "open")]
        assert store.verify().ok
        archives = store.prune(keep_segments=1, archive_dir=tmp_path / "arch")
        assert len(archives) == 1 and store.count() == 15
        rep = store.verify()
        assert rep.ok and rep.first_seq == 11 and rep.anchor and rep.anchor.seq == 10
        store.append(make_decision(99))
        assert store.verify().ok
    finally:
        store.close()
    # the archive verifies on its own via the CLI path
    from click.testing import CliRunner

    from warden.cli.audit import audit
    res = CliRunner().invoke(audit, ["verify", "--home", str(home), "--file", str(archives[0])])
    assert res.exit_code == 0, res.output
    # pruning more than the anchor allows is detected: delete the anchor's successor
    with db(home) as c:
        c.execute("DELETE FROM events WHERE seq = 11")
    rep = verify(home)
    assert not rep.ok and (rep.broken.seq, rep.broken.kind) == (11, "deleted")


def test_foreign_and_corrupt_databases_are_refused(home: Path) -> None:
    foreign = home / "other.db"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="another application"):
        open_store(str(foreign), home)
    garbage = home / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a readable Warden audit database"):
        open_store(str(garbage), home)
    assert garbage.read_bytes() == b"this is not sqlite at all" * 100  # nothing touched


def test_missing_or_wrong_key_fails_closed_without_losing_events(home: Path) -> None:
    fill(home, 3)
    key = home / "keys" / "audit-mac.key"
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(AuditError, match=r"audit key .* is missing"):
        open_recorder(str(home), {})
    assert not key.exists()  # a new key was NOT silently created
    key.write_bytes(b"\0" * 32)
    key.chmod(0o600)
    with pytest.raises(AuditError, match="not the key that sealed"):
        open_recorder(str(home), {})
    key.chmod(0o644)
    with pytest.raises(AuditError, match="accessible by other users"):
        open_recorder(str(home), {})
    key.write_bytes(saved)
    key.chmod(0o600)
    assert verify(home).ok and verify(home).count == 3


def test_disk_full_raises_and_keeps_what_was_written(home: Path) -> None:
    rec = open_recorder(str(home), {})
    try:
        for i in range(5):
            rec.record(make_decision(i))
        conn = rec.store._conn  # simulate a full disk: SQLite returns SQLITE_FULL at the page limit
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        big = make_decision(99, command="x" * 7000)
        with pytest.raises(AuditError, match="disk is full"):
            for _ in range(50):
                rec.record(big)
    finally:
        rec.close()
    rep = verify(home)
    assert rep.ok and rep.count >= 5


def test_recorder_rejects_bad_events(home: Path) -> None:
    with open_recorder(str(home), {}) as rec:
        with pytest.raises(AuditError, match="kind"):
            rec.record({"kind": "bogus", "id": "1"})
        with pytest.raises(AuditError, match="not plain JSON"):
            rec.record({"kind": "error", "id": "1", "x": float("nan")})
        assert rec.store.count() == 0


def test_policy_texts_are_stored_once_by_digest(home: Path) -> None:
    ev = make_decision(1) | {"policy_texts": {"warden.yaml": "rules: []\n"}}
    with open_recorder(str(home), {}) as rec:
        rec.record(ev)
        rec.record(make_decision(2) | {"policy_texts": {"warden.yaml": "changed but same digest"}})
        stored = rec.store.policy_texts("sha256:abc")
        body = next(iter(rec.store.iter_events()))
    assert stored["texts"] == {"warden.yaml": "rules: []\n"}
    assert "policy_texts" not in body


def test_recorder_is_a_store_port(home: Path) -> None:
    from warden.ports import AuditStore

    with open_recorder(str(home), {}) as rec:
        assert isinstance(rec, Recorder) and isinstance(rec.store, AuditStore)
        ids = rec.record_many([make_decision(i) for i in range(3)])
        assert len(ids) == 3 and rec.store.count() == 3
        assert rec.find_decision("toolu_1")["id"] == ids[1]
        assert rec.find_decision("toolu_404") is None and rec.find_decision("") is None


def test_threads_share_a_recorder_with_group_commit(home: Path) -> None:
    import threading

    rec = open_recorder(str(home), {})
    ids: list[str] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for i in range(40):
            try:
                if i == 7 and k == 0:
                    rec.record({"kind": "error", "id": "bad", "x": float("nan")})
                got = rec.record(make_decision(i, session=f"t{k}"))
                with lock:
                    ids.append(got)
            except Exception as exc:
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert len(errors) == 1 and isinstance(errors[0], AuditError)  # only the bad event's caller failed
        assert len(ids) == 6 * 40 - 1
        assert {e["id"] for e in rec.store.iter_events()} == set(ids)
        assert rec.store.verify().ok
        assert rec.commits <= len(ids)
    finally:
        rec.close()


def test_cutting_the_tail_between_checkpoints_is_caught_by_the_head_witness(home: Path) -> None:
    fill(home, 5)  # default checkpoint interval: no signed checkpoint yet
    assert verify(home).ok
    with db(home) as c:
        c.execute("DELETE FROM events WHERE seq = 5")
    rep = verify(home)
    assert not rep.ok and (rep.broken.seq, rep.broken.kind) == (5, "truncated")
    witness = home / "audit.db.head"
    saved = witness.read_text()
    witness.write_text(saved.replace("00000000000000000005 ", "00000000000000000004 "))  # forged, no key
    rep = verify(home)
    assert not rep.ok and rep.broken.kind == "checkpoint" and "invalid signature" in rep.broken.message
    witness.unlink()  # an attacker who can delete files beside the log: stated limit, reported as a warning
    rep = verify(home)
    assert rep.ok and any("head witness" in w for w in rep.warnings)


def test_mac_key_rotation_keeps_old_events_verifiable(home: Path) -> None:
    from click.testing import CliRunner

    from warden.cli.audit import audit

    fill(home, 3)
    res = CliRunner().invoke(audit, ["rotate-key", "--home", str(home)])
    assert res.exit_code == 0, res.output
    assert verify(home).ok  # the head witness and checkpoints made under the old key still count
    fill(home, 3)
    store = open_store(None, home, keys="require")
    try:
        kids = [r.key_id for r in store.iter_records()]
        assert kids[0] != kids[-1] and len(set(kids)) == 2
        assert store.verify().ok
    finally:
        store.close()
    retired = list((home / "keys").glob("audit-mac.retired-*.key"))
    assert len(retired) == 1 and retired[0].stat().st_mode & 0o777 == 0o600
    retired[0].unlink()
    rep = verify(home)
    assert not rep.ok and (rep.broken.seq, rep.broken.kind) == (1, "unknown_key")


def test_paged_query_returns_everything_in_order(home: Path) -> None:
    fill(home, 7)
    store = open_store(None, home, keys="require")
    try:
        from warden.adapters.store import Filters

        assert [e["seq"] for e in store.iter_query(batch=3)] == list(range(1, 8))
        assert [e["seq"] for e in store.iter_query(Filters(session="s1"), batch=2)] == [2, 4, 6]
        assert store.stats()["events"] == 7
    finally:
        store.close()

"""Evidence packs and queries trust only the hashed bodies, never the index columns beside them."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from audit_helpers import make_decision

from warden.adapters.audit import open_recorder
from warden.adapters.store import Filters, open_store
from warden.cli.app import run


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    with open_recorder(str(h), {}) as rec:
        rec.record_many([make_decision(i, session=f"s{i % 2}") for i in range(10)])
    return h


@pytest.mark.parametrize("selector", ["", "   "])
def test_an_empty_session_selector_is_an_error_not_every_session(home, tmp_path, capsys, selector):
    code = run(["evidence", "--home", str(home), "--session", selector, "--out", str(tmp_path / "p.zip")])
    err = capsys.readouterr().err
    assert code == 2 and "--session is empty" in err
    assert not (tmp_path / "p.zip").exists()


def test_an_unknown_session_is_an_error(home, tmp_path, capsys):
    code = run(["evidence", "--home", str(home), "--session", "nope", "--out", str(tmp_path / "p.zip")])
    assert code == 2 and "no events recorded for session 'nope'" in capsys.readouterr().err


def test_moving_an_event_out_of_a_session_fails_the_pack_it_was_dropped_from(home, tmp_path, capsys):
    with sqlite3.connect(home / "audit.db") as c:
        c.execute("UPDATE events SET session = 's9' WHERE seq = 3")  # seq 3 is s0's
    code = run(["evidence", "--home", str(home), "--session", "s0", "--out", str(tmp_path / "p.zip")])
    out = capsys.readouterr().out
    assert code == 1 and "verification FAILED" in out
    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        report = json.loads(z.read("verification.json"))["log"]
    assert report["broken"]["seq"] == 3 and "session column" in report["broken"]["message"]


def test_queries_keep_only_what_the_hashed_body_confirms(home):
    with sqlite3.connect(home / "audit.db") as c:
        c.execute("UPDATE events SET session = 's1', decision = 'deny' WHERE seq = 1")  # seq 1 is s0's, allowed
    store = open_store(None, home, keys="optional")
    try:
        assert 1 not in [e["seq"] for e in store.query(Filters(session="s1"))]
        assert [e["seq"] for e in store.query(Filters(decision="deny"))] == []
        assert not store.verify().ok
    finally:
        store.close()

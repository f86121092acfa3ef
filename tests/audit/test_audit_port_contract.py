"""One behaviour, two adapters: the SQLite and PostgreSQL stores pass the same contract."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from audit_helpers import make_decision

from warden.adapters.store import Filters, open_store
from warden.core.decision import Decision
from warden.ports import AuditStore

from pg_util import PG, pg_down

_PG_DOWN = pg_down()


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    if request.param == "sqlite":
        yield None, home
        return
    if _PG_DOWN:
        pytest.skip(_PG_DOWN)
    import psycopg

    schema = f"warden_contract_{uuid.uuid4().hex[:8]}"
    yield f"{PG}?schema={schema}", home
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_store_contract(target, tmp_path: Path) -> None:
    url, home = target
    store = open_store(url, home)
    try:
        assert isinstance(store, AuditStore)
        ids = store.append_many([make_decision(i, session=f"s{i % 2}", rule="r-deny" if i == 2 else "",
                                               decision=Decision.DENY if i == 2 else Decision.ALLOW)
                                 for i in range(6)])
        ids.append(store.append(make_decision(6, session="s0")))
        assert [e["id"] for e in store.iter_events()] == ids and len(set(ids)) == 7
        assert store.head().seq == 7
        assert [e["seq"] for e in store.query(Filters(session="s1"))] == [2, 4, 6]
        assert [e["seq"] for e in store.query(Filters(rule="r-deny"))] == [3]
        assert [e["seq"] for e in store.query(Filters(decision="deny"))] == [3]
        assert store.find_decision("toolu_2")["seq"] == 3
        assert store.stats()["by_decision"] == {"allow": 6, "deny": 1}
        store.remember_policy("sha256:abc", {"warden.yaml": "rules: []"}, ["warden.yaml"])
        assert store.policy_texts("sha256:abc")["texts"] == {"warden.yaml": "rules: []"}

        cp = store.rotate()
        assert cp.seq == 7 and store.segments()[0]["state"] == "sealed"
        store.append_many([make_decision(i) for i in range(10, 13)])
        store.rotate()
        archives = store.prune(keep_segments=1, archive_dir=tmp_path / "arch")
        assert len(archives) == 1 and store.count() == 3
        rep = store.verify()
        assert rep.ok and rep.first_seq == 8 and rep.last_seq == 10 and rep.anchor.seq == 7
        store.checkpoint()
        assert store.verify().checkpoints >= 2
    finally:
        store.close()

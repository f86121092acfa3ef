"""The data-driven tamper suite (tests/cases/audit/tamper.yaml) against real SQLite and PostgreSQL,
checked through the real `warden audit verify` CLI. See the YAML file for the fields."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
import yaml
from audit_helpers import make_decision

from warden.adapters.store import StoreOptions, open_store
from warden.cli.app import run

CASES = yaml.safe_load((Path(__file__).parents[1] / "cases" / "audit" / "tamper.yaml").read_text())
PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


def _pg_down() -> str | None:
    try:
        import psycopg

        psycopg.connect(PG_BASE, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means: skip with the reason
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


_PG_DOWN = _pg_down()
PARAMS = [pytest.param(c, b, id=f"{c['id']}-{b}",
                       marks=[pytest.mark.skipif(b == "postgres" and _PG_DOWN is not None,
                                                 reason=f"PostgreSQL not reachable: {_PG_DOWN}")])
          for c in CASES for b in c.get("backends", ["sqlite", "postgres"])]


class Log:
    def __init__(self, tmp: Path, backend: str) -> None:
        self.home = tmp / "home"
        self.home.mkdir()
        self.backend = backend
        self.schema = f"warden_tamper_{uuid.uuid4().hex[:10]}"
        self.url = f"{PG_BASE}?schema={self.schema}" if backend == "postgres" else None
        self.db = self.home / "audit.db"
        self.tables = {t: (f"{self.schema}.{t}" if backend == "postgres" else t)
                       for t in ("events", "checkpoints", "meta", "segments")}

    def open(self):
        return open_store(self.url, self.home, options=StoreOptions(checkpoint_every=10, segment_events=12))

    def build(self) -> None:
        store = self.open()
        try:
            store.append_many([make_decision(i, session=f"s{i % 2}") for i in range(20)])
            witness = self.db.with_name("audit.db.head")
            if witness.exists():
                shutil.copy(witness, self.home / "old.head")
            store.append_many([make_decision(i, session=f"s{i % 2}") for i in range(20, 30)])
            self.cp10 = json.dumps(next(c for c in store.checkpoints() if c.seq == 10).to_json())
        finally:
            store.close()

    def sql(self, statements: list[str]) -> None:
        fill = {**self.tables, "cp10": self.cp10.replace("'", "''")}
        texts = [s.format(**fill) for s in statements]
        if self.backend == "postgres":
            import psycopg

            with psycopg.connect(PG_BASE, autocommit=True) as c:
                for t in texts:
                    c.execute(t)
        else:
            with sqlite3.connect(self.db) as c:
                for t in texts:
                    c.execute(t)

    def drop(self) -> None:
        if self.backend == "postgres":
            import psycopg

            with psycopg.connect(PG_BASE, autocommit=True) as c:
                c.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")


def _file_action(log: Log, action: str) -> None:
    witness = log.db.with_name("audit.db.head")
    if action == "garble_witness":
        witness.write_text("not a witness\n")
    elif action == "old_witness":
        shutil.copy(log.home / "old.head", witness)
    elif action == "delete_witness":
        witness.unlink(missing_ok=True)
    elif action == "delete_checkpoint_file":
        log.db.with_name("audit.db.checkpoints.jsonl").unlink(missing_ok=True)
    else:
        raise AssertionError(f"unknown file action {action!r} in tamper.yaml")


def _verify(log: Log, capsys, strict: bool) -> tuple[int, dict]:
    args = ["audit", "verify", "--home", str(log.home), "--json"] + (["--db", log.url] if log.url else [])
    code = run(args + (["--strict"] if strict else []))
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("case,backend", PARAMS)
def test_tamper_case(case, backend, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WARDEN_AUDIT_CHECKPOINT_EVERY", "10")
    monkeypatch.setenv("WARDEN_AUDIT_SEGMENT_EVENTS", "12")
    log = Log(tmp_path, backend)
    try:
        log.build()
        if case.get("prune"):
            store = log.open()
            try:
                assert store.prune(1, tmp_path / "archive")
            finally:
                store.close()
        if case.get("sql"):
            log.sql(case["sql"])
        for action in case.get("files", []):
            _file_action(log, action)
        expect = case["expect"]
        code, rep = _verify(log, capsys, strict=False)
        strict_code, _ = _verify(log, capsys, strict=True)
        if "broken" in expect:
            assert code == 1 and rep["broken"] and rep["broken"]["kind"] == expect["broken"], rep
            assert strict_code == 1
        else:
            assert code == 0 and rep["ok"], rep
        if "warning" in expect:
            assert any(expect["warning"] in w for w in rep["warnings"]), rep["warnings"]
            if not expect.get("ok"):
                assert strict_code == 1, "a warning must fail --strict"
        elif "broken" not in expect:
            assert not rep["warnings"] and strict_code == 0, rep["warnings"]
    finally:
        log.drop()

"""`warden audit ...` and `warden evidence` end to end, through the real `warden` entry point."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from audit_helpers import make_decision

from warden.adapters.audit import open_recorder
from warden.cli.app import run
from warden.core.audit import approval_event, outcome_event, session_event
from warden.core.decision import Decision


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh, empty $WARDEN_HOME."""
    (tmp_path / "wardenhome").mkdir()
    return tmp_path / "wardenhome"


@pytest.fixture
def log(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WARDEN_HOME", str(home))
    monkeypatch.delenv("WARDEN_AUDIT_DB", raising=False)
    with open_recorder(str(home), {}) as rec:
        rec.remember_policy("sha256:abc", {"/work/project/warden.yaml:1": "rules:\n  - id: no-rm\n"},
                            ["/work/project/warden.yaml"])
        rec.record(session_event(phase="start", session="A", started_at=time.time()))
        d = make_decision(0, session="A", decision=Decision.ASK, rule="ask-push", command="git push")
        rec.record(d)
        rec.record(approval_event(decision_id=d["id"], granted=True, approver="alice@example.com", via="cli",
                                  started_at=time.time(), session="A", tool="Bash"))
        rec.record(outcome_event(tool="Bash", started_at=time.time(), status="ok", exit_code=0, session="A",
                                 output="pushed; token=ghp_abcdefghijklmnopqrstuvwxyz0123456789"))
        for i in range(1, 7):
            deny = i % 2 == 0
            rec.record(make_decision(i, session="B" if i > 3 else "A", agent="cursor" if i == 6 else "claude-code",
                                     decision=Decision.DENY if deny else Decision.ALLOW,
                                     rule="no-rm" if deny else "", command="rm -rf ~" if deny else f"ls {i}"))
    return home


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_verify_exit_codes(log: Path, capsys) -> None:
    code, out, _ = cli(capsys, "audit", "verify")
    assert code == 0 and out.startswith("OK: 10 events intact")
    code, out, _ = cli(capsys, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    with sqlite3.connect(log / "audit.db") as c:
        c.execute("DELETE FROM events WHERE seq = 4")
    code, _, err = cli(capsys, "audit", "verify")
    assert code == 1 and "BROKEN at seq 4 (deleted)" in err
    code, out, _ = cli(capsys, "audit", "verify", "--json")
    assert code == 1 and json.loads(out)["broken"]["seq"] == 4


def test_verify_without_key_is_an_error_not_a_pass(log: Path, capsys) -> None:
    (log / "keys" / "audit-mac.key").rename(log / "saved.key")
    code, _, err = cli(capsys, "audit", "verify")
    assert code == 2 and "audit key is missing" in err


def test_tail_query_and_filters(log: Path, capsys) -> None:
    code, out, _ = cli(capsys, "audit", "tail", "-n", "2", "--json")
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and [r["seq"] for r in rows] == [9, 10]
    code, out, _ = cli(capsys, "audit", "query", "--decision", "deny", "--json")
    assert [json.loads(x)["input"]["command"] for x in out.splitlines()] == ["rm -rf ~"] * 3
    code, out, _ = cli(capsys, "audit", "query", "--session", "B", "--agent", "cursor", "--json")
    assert [json.loads(x)["seq"] for x in out.splitlines()] == [10]
    code, out, _ = cli(capsys, "audit", "query", "--rule", "ask-push")
    assert code == 0 and len(out.splitlines()) == 1 and "git push" in out and "[ask-push]" in out
    code, out, _ = cli(capsys, "audit", "query", "--kind", "approval", "--json")
    assert json.loads(out)["approver"]["id"] == "alice@example.com"
    code, out, _ = cli(capsys, "audit", "query", "--since", "1h", "--tool", "Bash", "--json")
    assert len(out.splitlines()) == 9  # 7 decisions, the approval and the outcome
    code, out, _ = cli(capsys, "audit", "query", "--until", "2000-01-01", "--json")
    assert code == 0 and out == ""
    code, _, err = cli(capsys, "audit", "query", "--since", "yesterday-ish")
    assert code == 2 and "age like 2h" in err


def test_tail_follow_prints_new_events(log: Path) -> None:
    env = {"WARDEN_HOME": str(log), "PATH": "/usr/bin:/bin"}
    p = subprocess.Popen([sys.executable, "-m", "warden", "audit", "tail", "-n", "1", "--follow", "--json",
                          "--interval", "0.1"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout is not None
        assert json.loads(p.stdout.readline())["seq"] == 10
        with open_recorder(str(log), {}) as rec:
            rec.record(make_decision(42, session="C"))
        assert json.loads(p.stdout.readline())["session"] == "C"
    finally:
        p.kill()
        p.wait()


def test_export_jsonl_csv_and_records(log: Path, capsys, tmp_path: Path) -> None:
    code, out, _ = cli(capsys, "audit", "export", "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == 10
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in out  # redacted at record time
    dest = tmp_path / "a.csv"
    code, _, _ = cli(capsys, "audit", "export", "--format", "csv", "--decision", "deny", "-o", str(dest))
    rows = list(csv.DictReader(io.StringIO(dest.read_text())))
    assert code == 0 and len(rows) == 3 and rows[0]["rules"] == "no-rm" and rows[0]["subject"] == "rm -rf ~"
    chain = tmp_path / "chain.jsonl"
    cli(capsys, "audit", "checkpoint")
    code, _, _ = cli(capsys, "audit", "export", "--records", "-o", str(chain))
    pub = (log / "keys" / "audit-signing.pub").read_text().strip()
    code, out, _ = cli(capsys, "audit", "verify", "--file", str(chain), "--public-key", pub)
    assert code == 0 and "1 checkpoints (signed heads, head witness) match" in out
    lines = chain.read_text().splitlines()
    chain.write_text("\n".join(lines[:5] + lines[6:]) + "\n")  # drop one record from the export
    code, _, err = cli(capsys, "audit", "verify", "--file", str(chain), "--public-key", pub)
    assert code == 1 and "BROKEN at seq 6 (deleted)" in err
    chain.write_text("\n".join(lines[:-3] + lines[-1:]) + "\n")  # truncate: the checkpoint still says 10
    code, _, err = cli(capsys, "audit", "verify", "--file", str(chain), "--public-key", pub)
    assert code == 1 and "(truncated)" in err
    code, _, err = cli(capsys, "audit", "verify", "--file", str(chain), "--public-key", "00" * 32)
    assert code == 1 and "unknown key" in err


def test_stats(log: Path, capsys) -> None:
    code, out, _ = cli(capsys, "audit", "stats", "--json")
    s = json.loads(out)
    assert code == 0 and s["by_decision"] == {"allow": 3, "ask": 1, "deny": 3}
    assert s["by_rule"] == [["no-rm", 3], ["ask-push", 1]]
    assert s["by_agent"] == [["claude-code", 6], ["cursor", 1]]
    assert s["top_denied"] == [["rm -rf ~", 3]]
    assert s["by_kind"] == {"decision": 7, "approval": 1, "outcome": 1, "session": 1}
    code, out, _ = cli(capsys, "audit", "stats")
    assert code == 0 and "deny=3" in out and "rm -rf ~" in out


def test_rotate_and_keep(log: Path, capsys, tmp_path: Path) -> None:
    code, out, _ = cli(capsys, "audit", "rotate")
    assert code == 0 and "sealed segment 1 at seq 10" in out
    with open_recorder(str(log), {}) as rec:
        rec.record(make_decision(50))
    code, out, _ = cli(capsys, "audit", "rotate", "--keep", "0", "--archive", str(tmp_path / "arch"))
    assert code == 0 and out.count("archived") == 2
    code, out, _ = cli(capsys, "audit", "verify")
    assert code == 0 and "OK: 0 events" in out
    code, _, err = cli(capsys, "audit", "rotate", "--keep", "1")
    assert code == 2 and "--archive" in err


def test_evidence_pack(log: Path, capsys, tmp_path: Path) -> None:
    pack = tmp_path / "pack.zip"
    code, out, _ = cli(capsys, "evidence", "--session", "A", "--out", str(pack))
    assert code == 0 and "verification OK" in out
    with zipfile.ZipFile(pack) as z:
        names = set(z.namelist())
        assert {"events.jsonl", "approvals.json", "records.jsonl", "verification.json", "summary.html",
                "public_key.txt", "README.txt"} <= names
        events = [json.loads(x) for x in z.read("events.jsonl").decode().splitlines()]
        assert {e["session"] for e in events} == {"A"} and len(events) == 7
        assert json.loads(z.read("approvals.json"))[0]["approver"]["id"] == "alice@example.com"
        assert any(n.startswith("policies/sha256-abc/") and n.endswith("warden.yaml") for n in names)
        html = z.read("summary.html").decode()
        assert "git push" in html and "alice@example.com" in html and "verified intact" in html
        records = z.read("records.jsonl").decode().splitlines()
        other = [json.loads(r) for r in records if "body_sha256" in r]
        assert other and all("body" not in r for r in other)  # session B's events are elided
        z.extractall(tmp_path / "pack")
    pub = (tmp_path / "pack" / "public_key.txt").read_text().strip()
    # an auditor without the MAC key checks the proof with the public key alone
    env = {"WARDEN_HOME": str(tmp_path / "empty"), "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-m", "warden", "audit", "verify", "--file",
                        str(tmp_path / "pack" / "records.jsonl"), "--public-key", pub],
                       capture_output=True, text=True, env=env, timeout=60, check=False)
    assert p.returncode == 0, p.stderr
    code, _, err = cli(capsys, "evidence", "--session", "nope", "--out", str(tmp_path / "x.zip"))
    assert code == 2 and "no events recorded for session" in err


def test_bad_db_is_a_clear_error(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"\x00garbage" * 200)
    code, _, err = cli(capsys, "audit", "verify", "--db", str(bad), "--home", str(tmp_path))
    assert code == 2 and "not a readable Warden audit database" in err
    code, _, err = cli(capsys, "audit", "tail", "--db", str(tmp_path / "none.db"), "--home", str(tmp_path))
    assert code == 2 and "no audit log at" in err


def test_disk_level_corruption_is_reported_not_crashed(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    with open_recorder(str(home), {}) as rec:
        rec.record_many([make_decision(i, command=f"MARK-{i:04d}-" + "x" * 3000) for i in range(120)])
    with sqlite3.connect(home / "audit.db") as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = (home / "audit.db").read_bytes()
    needle = b'"command":"MARK-0077-'  # event 78's stored body (dead copies in free space do not matter)
    with open(home / "audit.db", "r+b") as f:  # flip bytes as a bad disk would
        at = raw.find(needle)
        while at >= 0:
            f.seek(at + len(needle))  # the first "x" after the marker: inside the same page
            f.write(b"y")
            at = raw.find(needle, at + 1)
    code, out, _ = cli(capsys, "audit", "verify", "--home", str(home), "--json")
    rep = json.loads(out)
    assert code == 1 and (rep["broken"]["seq"], rep["broken"]["kind"]) == (78, "edited")
    with open(home / "audit.db", "r+b") as f:  # garbage over the b-tree pages: an error, never a traceback
        f.seek(4096)
        f.write(b"\x55" * 4096 * 8)
    code, out, err = cli(capsys, "audit", "verify", "--home", str(home))
    assert code in (1, 2) and "Traceback" not in out + err and ("malformed" in err or "BROKEN" in err)

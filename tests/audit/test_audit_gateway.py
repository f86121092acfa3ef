"""Every decision made through the Gateway lands in the audit log, and a log failure denies."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from warden.adapters.store import open_store
from warden.core.audit import basic_redact

gateway = pytest.importorskip("warden.gateway", reason="the Gateway is not on this branch yet")


def make_gateway(home: Path, workspace: Path, **env: str):
    gw = gateway.Gateway.from_env(cwd=str(workspace), warden_home=str(home),
                                  environ={"HOME": str(workspace), **env})
    gw.redactor = lambda: basic_redact  # the secrets engine's redactor is another branch's work
    return gw


def test_every_gateway_decision_is_recorded_and_verifies(tmp_path: Path) -> None:
    home, ws = tmp_path / "home", tmp_path / "ws"
    ws.mkdir()
    gw = make_gateway(home, ws)
    try:
        payloads = [
            {"tool_name": "Bash", "tool_input": {"command": "ls -la"}, "session_id": "g1", "cwd": str(ws)},
            {"tool_name": "Read", "tool_input": {"file_path": str(ws / "a.txt")}, "session_id": "g1", "cwd": str(ws)},
            {"tool_name": "Bash", "tool_input": {"command": "echo token=ghp_abcdefghijklmnopqrstuvwxyz0123456789"},
             "session_id": "g1", "cwd": str(ws)},
            {"tool_name": 42},  # invalid payload: denied, and still evidence
        ]
        verdicts = [gw.decide_payload(p) for p in payloads]
    finally:
        gw.close()
    assert all(v.error is None or "audit" not in v.error for v in verdicts), [v.to_json() for v in verdicts]
    store = open_store(None, home, keys="require")
    try:
        events = list(store.iter_events())
        rep = store.verify()
    finally:
        store.close()
    assert rep.ok
    decisions = [e for e in events if e["kind"] == "decision"]
    assert len(decisions) >= 3
    assert [e["result"]["decision"] for e in decisions[:3]] == [v.decision.label for v in verdicts[:3]]
    assert all(e["policy"]["digest"] for e in decisions[:3])
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in str(events)


def test_unwritable_log_denies_the_action(tmp_path: Path) -> None:
    home, ws = tmp_path / "home", tmp_path / "ws"
    ws.mkdir()
    home.mkdir()
    with sqlite3.connect(home / "audit.db") as c:  # someone else's database where the log should be
        c.execute("CREATE TABLE other (x)")
    gw = make_gateway(home, ws)
    try:
        v = gw.decide_payload({"tool_name": "Bash", "tool_input": {"command": "ls"}, "cwd": str(ws)})
    finally:
        gw.close()
    assert v.decision.label == "deny" and "another application" in (v.error or v.reason)

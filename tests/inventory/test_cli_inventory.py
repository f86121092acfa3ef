"""`warden inventory` and `warden evidence --inventory` as a user runs them (real processes, real audit log)."""

from __future__ import annotations

import json
import shutil
import time

from tests.warden_cli import run_warden
from tests.inventory.helpers import FIXTURES, make_repo


def _env(tmp_path):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "WARDEN_HOME": str(tmp_path / "wh"), "WARDEN_MANAGED_POLICY": "", "WARDEN_POLICY": ""}


def _fixture(tmp_path, name):
    repo = tmp_path / "src" / name
    shutil.copytree(FIXTURES / name, repo)
    (repo / ".git").mkdir()
    return repo


def test_text_summary_and_check_gate(tmp_path):
    repo = _fixture(tmp_path, "monorepo")
    env = _env(tmp_path)
    out = run_warden("inventory", str(repo), env=env)
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "CRITICAL Agent workflow triggerable by any commenter" in text and "UNGOVERNED" in text
    gate = run_warden("inventory", str(repo), "--check", "--fail-on", "critical", env=env)
    assert gate.returncode == 1 and b"at or above critical" in gate.stderr
    clean = make_repo(tmp_path / "clean", {"README.md": "x", ".github/CODEOWNERS": "* @org\n"})
    ok = run_warden("inventory", str(clean), "--check", "--fail-on", "low", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr  # only the info note about branch protection


def test_json_output_file_and_schema(tmp_path):
    repo = _fixture(tmp_path, "library")
    out = run_warden("inventory", str(repo), "--format", "json", "-o", str(tmp_path / "inv.json"), env=_env(tmp_path))
    assert out.returncode == 0 and b"wrote" in out.stderr
    doc = json.loads((tmp_path / "inv.json").read_text())
    assert doc["schema"] == "warden.inventory/v1"
    assert set(doc) == {"schema", "meta", "repos", "summary", "nodes", "edges", "findings", "problems"}
    e = doc["edges"][0]
    assert {"source", "action", "target", "credential", "authority", "owner", "controls", "classification", "verdict"} <= set(e)


def test_recursive_and_user(tmp_path):
    top = tmp_path / "src"
    for name in ("monorepo", "library", "mcp-app"):
        _fixture(tmp_path, name)
    (top / "not-a-repo" / "deeper").mkdir(parents=True)
    env = _env(tmp_path)
    home = tmp_path / "home"
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").write_text(json.dumps(
        {"hooks": {"PreToolUse": [{"matcher": "", "hooks": [{"type": "command", "command": "warden hook claude-code"}]}]}}))
    (home / ".claude.json").write_text(json.dumps({"mcpServers": {"memory": {"command": "npx", "args": ["mem"]}}}))
    out = run_warden("inventory", str(top), "--recursive", "--user", "--format", "json", env=env)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert sorted(r["name"] for r in doc["repos"]) == ["library", "mcp-app", "monorepo", "~"]
    mcp_claude = next(e for e in doc["edges"] if e["source"] == "agent:mcp-app:claude-code" and e["action"] == "push")
    assert mcp_claude["controls"] == ["warden-hook:claude-code (user settings)"]  # governed by the user's hook
    assert any(n["id"] == "tool:~:mcp:memory" for n in doc["nodes"])
    assert doc["meta"]["user_scanned"] is True and doc["meta"]["notes"] == []


def test_every_format_writes(tmp_path):
    repo = _fixture(tmp_path, "mcp-app")
    env = _env(tmp_path)
    for fmt, probe in (("markdown", "# Agent Action BOM"), ("sarif", '"version": "2.1.0"'), ("html", "<svg"),
                       ("cyclonedx", '"specVersion": "1.6"')):
        out = run_warden("inventory", str(repo), "--format", fmt, env=env, timeout=120)
        assert out.returncode == 0, (fmt, out.stderr)
        assert probe in out.stdout.decode(), fmt


def test_help_teaches():
    out = run_warden("inventory", "--help")
    text = out.stdout.decode()
    assert out.returncode == 0 and "--check --fail-on high" in text and "ungoverned" in text


def test_evidence_joins_the_map_with_the_audit_log(tmp_path):
    repo = _fixture(tmp_path, "monorepo")
    env = _env(tmp_path)
    actions = [{"tool_name": "Bash", "tool_input": {"command": c}, "cwd": str(repo), "session_id": "s-1",
                "actor": {"agent": "claude-code", "id": "dev@acme.example"}}
               for c in ("git push origin main", "npm run test", "terraform apply -auto-approve")]
    out = run_warden("decide", "--jsonl", input="".join(json.dumps(a) + "\n" for a in actions), env={**env, "WARDEN_AUDIT": "1"})
    assert [json.loads(x)["decision"] for x in out.stdout.splitlines()] == ["ask", "allow", "deny"]
    # a person approves the push (as the approval flow records it)
    import os

    from warden.adapters.audit import open_recorder
    from warden.adapters.store import open_store
    from warden.core.audit.events import approval_event

    store = open_store(None, tmp_path / "wh", keys="optional", create=False)
    push = next(e for e in store.query() if (e.get("input") or {}).get("command") == "git push origin main")
    store.close()
    rec = open_recorder(str(tmp_path / "wh"), {**os.environ, **env})
    rec.record(approval_event(decision_id=push["id"], granted=True, approver="alice@acme.example", via="cli",
                              started_at=time.time(), session="s-1", tool="Bash"))
    rec.close()
    md = run_warden("evidence", "--inventory", str(repo), env=env)
    assert md.returncode == 0, md.stderr
    text = md.stdout.decode()
    push_row = next(x for x in text.splitlines() if "| push |" in x)
    assert "alice@acme.example (granted)" in push_row and "0/1/0" in push_row and "`npm run test` allow" in push_row
    shell_row = next(x for x in text.splitlines() if "| run-shell |" in x)
    assert "1/0/1" in shell_row  # npm run test allowed; terraform apply denied by the project policy
    js = json.loads(run_warden("evidence", "--inventory", str(repo), "--json", env=env).stdout)
    assert js["events_read"] == 4 and js["unmapped_total"] == 0
    inv = json.loads(run_warden("inventory", str(repo), "--audit", "--format", "json", env=env).stdout)
    import jsonschema

    from tests.warden_cli import ROOT

    jsonschema.validate(inv, json.loads((ROOT / "src/warden/core/inventory/schema.json").read_text()))
    observed = [e for e in inv["edges"] if e.get("observed")]
    assert {e["action"] for e in observed} == {"push", "run-shell"}
    md = run_warden("inventory", str(repo), "--audit", "--format", "markdown", env=env).stdout.decode()
    push_line = next(x for x in md.splitlines() if x.startswith("| claude-code | push |"))
    assert push_line.endswith("| 1 (0/1/0), approved by alice@acme.example |")
    summary = run_warden("inventory", str(repo), "--audit", env=env).stdout.decode()
    assert "audit: 4 events read, 2 paths with events, 0 events on no mapped path" in summary
    page = run_warden("inventory", str(repo), "--audit", "--format", "html", env=env).stdout.decode()
    assert "<th>seen (allow/ask/deny)</th>" in page and "1 (0/1/0), approved by alice@acme.example" in page
    bad = run_warden("evidence", env=env)
    assert bad.returncode == 2 and b"--inventory" in bad.stderr


def test_inventory_sees_what_warden_install_wrote(tmp_path):
    """The control the map reports is the one the real installer puts in place, and uninstall removes it."""
    repo = make_repo(tmp_path / "repo", {"CLAUDE.md": "x"})
    env = _env(tmp_path)

    def push_classification() -> str:
        doc = json.loads(run_warden("inventory", str(repo), "--format", "json", env=env).stdout)
        return next(e["classification"] for e in doc["edges"] if e["source"] == "agent:repo:claude-code" and e["action"] == "push")

    assert push_classification() == "ungoverned"
    assert run_warden("install", "claude-code", "--dir", str(repo), env=env).returncode == 0
    assert push_classification() == "approval-required"
    assert run_warden("uninstall", "claude-code", "--dir", str(repo), env=env).returncode == 0
    assert push_classification() == "ungoverned"


def test_a_missing_audit_log_is_an_error_that_says_what_to_do(tmp_path):
    repo = make_repo(tmp_path / "repo", {"CLAUDE.md": "x"})
    env = _env(tmp_path)
    for args in (("evidence", "--inventory", str(repo)), ("inventory", str(repo), "--audit")):
        out = run_warden(*args, env=env)
        assert out.returncode == 2 and b"cannot read the audit log: no audit log at" in out.stderr, args

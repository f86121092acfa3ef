"""warden.sdk.Guard: decisions, the tool decorator, approvals, redaction and records."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from warden_cli import run_warden

from warden.sdk import ActionDenied, ApprovalRequired, Guard

SECRET = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"


@pytest.fixture
def guard(workspace: Path, warden_home: Path) -> Guard:
    return Guard(agent="test-bot", cwd=str(workspace), actor_id="alice@example.com", session="sdk-1")


def audit(warden_home: Path) -> list[dict]:
    out = run_warden("audit", "query", "--json", env={"WARDEN_HOME": str(warden_home)}).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_check_decides_and_records_who_asked(guard: Guard, warden_home: Path):
    assert guard.check("Bash", {"command": "ls -la"}).decision.label == "allow"
    verdict = guard.check("Bash", {"command": "rm -rf ~"})
    assert verdict.decision.label == "deny" and verdict.rules
    decisions = [e for e in audit(warden_home) if e["kind"] == "decision"]
    assert [d["result"]["decision"] for d in decisions] == ["allow", "deny"]
    assert {d["agent"] for d in decisions} == {"test-bot"} and decisions[0]["actor"]["id"] == "alice@example.com"
    assert run_warden("audit", "verify", env={"WARDEN_HOME": str(warden_home)}).returncode == 0


def test_decorated_tool_never_runs_when_denied_and_its_output_is_redacted(guard: Guard, tmp_path: Path):
    ran: list[str] = []

    @guard.tool(as_tool="Bash", to_input=lambda command: {"command": command})
    def shell(command: str) -> str:
        ran.append(command)
        return f"ran {command}\ntoken={SECRET}\n"

    with pytest.raises(ActionDenied) as denied:
        shell("rm -rf ~")
    assert ran == [] and "Warden denied this" in str(denied.value)
    out = shell("ls")
    assert ran == ["ls"] and "[REDACTED:" in out and SECRET not in out


def test_default_action_is_an_mcp_style_tool_of_the_agent(workspace: Path, warden_home: Path):
    (workspace / "warden.yaml").write_text(
        "version: 1\nrules:\n  - id: no-refunds\n    effect: deny\n    reason: refunds need a human\n"
        "    tool: [mcp__shop__refund]\n  - id: lookups\n    effect: allow\n    reason: reading orders is fine\n"
        "    tool: [mcp__shop__lookup]\n")
    shop = Guard(agent="shop", cwd=str(workspace))

    @shop.tool
    def refund(order: str, amount: float = 0.0) -> str:
        return "refunded"

    with pytest.raises(ActionDenied, match="refunds need a human"):
        refund("A-1", amount=10)

    @shop.tool
    async def lookup(order: str) -> dict:
        return {"order": order, "card": "4111 1111 1111 1111", "note": f"key {SECRET}"}

    result = asyncio.run(lookup("A-1"))
    assert result["order"] == "A-1" and SECRET not in json.dumps(result)


def test_an_ask_needs_an_approver(workspace: Path, warden_home: Path):
    asked = Guard(agent="bot", cwd=str(workspace))
    with pytest.raises(ApprovalRequired):
        asked.require("Bash", {"command": "npm install left-pad"})
    seen = []
    approving = Guard(agent="bot", cwd=str(workspace), actor_id="bob", on_ask=lambda v: seen.append(v) or True)
    assert approving.require("Bash", {"command": "npm install left-pad"}).decision.label == "ask"
    failing = Guard(agent="bot", cwd=str(workspace), on_ask=lambda v: 1 / 0)
    with pytest.raises(ApprovalRequired):  # an approval step that crashes is not an approval
        failing.require("Bash", {"command": "npm install left-pad"})
    approvals = [e for e in audit(warden_home) if e["kind"] == "approval"]
    assert [a["granted"] for a in approvals] == [False, True, False] and len(seen) == 1
    assert approvals[1]["decision_id"]  # linked to the decision it answers


def test_a_broken_policy_denies(workspace: Path, warden_home: Path):
    (workspace / "warden.yaml").write_text("version: 1\nrules: [this is not a rule\n")
    verdict = Guard(cwd=str(workspace)).check("Bash", {"command": "ls"})
    assert verdict.decision.label == "deny" and verdict.error


def test_the_example_agent_runs(workspace: Path, warden_home: Path):
    import subprocess
    import sys

    example = Path(__file__).resolve().parents[2] / "examples" / "sdk_agent.py"
    proc = subprocess.run([sys.executable, str(example)], cwd=str(workspace), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "denied: rm -rf" in proc.stdout and "ran: ls" in proc.stdout and "ran: cat notes.txt" in proc.stdout
    assert "deploy notes" in proc.stdout and "[REDACTED:" in proc.stdout and SECRET not in proc.stdout

"""End to end with the real Claude Code CLI: personal data stays out of the model, and a restricted file
is refused to an agent without clearance (the policy's data: section)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from model_server import ModelServer, Turn  # noqa: E402
from test_claude_code_e2e import Session, _claude_or_skip, _session_root  # noqa: E402

pytestmark = pytest.mark.e2e

CARD = "4539 1488 0343 6467"  # Luhn-valid Visa shape, not a real account
SSN = "536-90-4399"
POLICY = """version: 1
data:
  paths:
    restricted: ["customers/**"]
  clearance:
    default: internal
    rules:
      - {actor: {role: [dpo]}, class: restricted}
"""


@pytest.fixture(scope="module")
def run():
    claude = _claude_or_skip()
    s = Session(_session_root("data"))
    (s.workspace / "warden.yaml").write_text(POLICY)
    (s.workspace / "customers").mkdir()
    (s.workspace / "customers" / "list.csv").write_text("name,plan\nAcme,gold\n")
    (s.workspace / "orders.txt").write_text(f"order 1001 paid with {CARD}\ncustomer ssn {SSN}\nstatus: shipped\n")
    script = [Turn.tool("Read", file_path=str(s.workspace / "orders.txt"), text="Reading the orders."),
              Turn.tool("Read", file_path=str(s.workspace / "customers" / "list.csv")),
              Turn.bash("cat orders.txt")]
    try:
        with ModelServer(script) as server:
            env = dict(s.env, ANTHROPIC_BASE_URL=server.url)
            import subprocess

            proc = subprocess.run([claude, "-p", "Summarize the orders", "--output-format", "json", "--allowedTools",
                                   "Bash,Read", "--max-turns", "6"], cwd=s.workspace, env=env, capture_output=True,
                                  text=True, timeout=240)
            s.result = json.loads(proc.stdout.strip().splitlines()[-1])
            s.sent = server.all_request_text()
            s.results = server.tool_results()
        yield s
    finally:
        s.stop_daemon()
        shutil.rmtree(s.root, ignore_errors=True)


def test_a_card_number_in_a_file_never_reaches_the_model(run):
    digits = CARD.replace(" ", "")
    assert CARD not in run.sent and digits not in run.sent and SSN not in run.sent
    assert any("order 1001" in r and "[REDACTED:pii-card:" in r for r in run.results), run.results
    assert any("[REDACTED:pii-ssn:" in r for r in run.results)


def test_a_restricted_file_is_refused_without_clearance(run):
    assert "Acme,gold" not in run.sent
    denied = [d for d in run.result.get("permission_denials", []) if d.get("tool_name") == "Read"]
    refused = any("customers/list.csv" in json.dumps(d) for d in denied) or any(
        "cleared for" in r or "classified above" in r for r in run.results)
    assert refused, (run.result.get("permission_denials"), run.results)
    audit = run.warden("audit", "query", "--json").stdout
    assert "data.above_clearance" in audit and CARD not in audit

"""End to end: the real Claude Code CLI talking to a real `warden model-gateway`, which forwards to
the scripted Messages-API server. What the upstream receives is what a provider would see.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "model_gateway"))

from gateway_proc import GatewayProcess  # noqa: E402
from model_server import ModelServer, Turn  # noqa: E402
from test_claude_code_e2e import SECRETS, WARDEN, Session, _claude_or_skip, _session_root  # noqa: E402

pytestmark = pytest.mark.e2e


def _run(session: Session, claude: str, gateway_url: str, script_len: int, prompt: str) -> dict:
    env = dict(session.env, ANTHROPIC_BASE_URL=gateway_url)
    proc = subprocess.run(
        [claude, "-p", prompt, "--output-format", "json", "--allowedTools", "Bash,Read",
         "--max-turns", str(script_len + 3)],
        cwd=session.workspace, env=env, capture_output=True, text=True, timeout=240)
    assert proc.stdout.strip(), f"claude printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _gateway(session: Session, upstream: str, policy: str = "") -> GatewayProcess:
    gw = GatewayProcess(session.root / "gw", [f"anthropic={upstream}"], policy)
    gw.home = session.warden_home  # one audit log for the hooks and the gateway
    gw.env.update(WARDEN_HOME=str(session.warden_home), HOME=str(session.home))
    return gw.start()


@pytest.fixture
def session():
    claude = _claude_or_skip()
    s = Session(_session_root("modelgw"))
    s.claude = claude
    yield s
    s.stop_daemon()
    shutil.rmtree(s.root, ignore_errors=True)


def test_a_secret_in_a_file_never_reaches_the_model_even_without_hooks(session):
    out = session.warden("uninstall", "claude-code", "--project")
    assert out.returncode == 0, out.stderr
    notes = str(session.workspace / "notes.txt")
    script = [Turn.tool("Read", file_path=notes, text="Reading the notes."), Turn.bash("cat notes.txt")]
    with ModelServer(script) as upstream:
        gw = _gateway(session, upstream.url)
        try:
            result = _run(session, session.claude, gw.url, len(script), "Show me notes.txt")
            sent = upstream.all_request_text()
            results = upstream.tool_results()
        finally:
            gw.stop()
    assert not result.get("is_error"), result
    # the tools really ran and returned the file (hooks are off: nothing else redacted it)...
    assert any("line-before-secret" in r for r in results), results
    # ...yet not one byte of any secret left for the provider
    for secret in SECRETS:
        assert secret not in sent
    assert "[REDACTED:" in sent
    events = gw.events()
    assert events and all(e["result"]["decision"] == "allow" for e in events)
    main = [e for e in events if e["tool_calls"]]
    assert main[0]["instruction"] == "Show me notes.txt"
    assert any(r["path"].startswith("messages[") for e in events for r in e["redacted"])


def test_the_audit_log_links_instruction_tool_use_and_hook_decision(session):
    script = [Turn.bash("ls -la", text="First I will list the files.")]
    with ModelServer(script) as upstream:
        gw = _gateway(session, upstream.url)
        try:
            _run(session, session.claude, gw.url, len(script), "What files are in this project?")
        finally:
            gw.stop()
    model_events = [e for e in gw.events() if e["tool_calls"]]
    assert model_events, gw.events()
    call = model_events[0]["tool_calls"][0]
    assert call["name"] == "Bash" and model_events[0]["plan"] == "First I will list the files."
    decisions = gw.events("decision")
    linked = [d for d in decisions if d["tool_use_id"] == call["id"]]
    assert linked and linked[0]["result"]["decision"] == "allow"
    assert linked[0]["input"]["command"] == "ls -la"
    trace = subprocess.run([WARDEN, "model-gateway", "trace", call["id"], "--json"], env=gw.env,
                           capture_output=True, text=True, timeout=60)
    found = json.loads(trace.stdout)
    assert found["model"]["instruction"] == "What files are in this project?"
    assert found["decisions"][0]["id"] == linked[0]["id"]


BUDGET = """version: 1
models:
  budgets:
    - id: e2e-session
      per: session
      window: session
      tokens: 3600
"""


def test_a_session_over_its_token_budget_is_stopped_with_a_clear_message(session):
    script = [Turn.bash(f"echo step{i}") for i in range(8)]
    with ModelServer(script) as upstream:
        gw = _gateway(session, upstream.url, BUDGET)
        try:
            result = _run(session, session.claude, gw.url, len(script), "Count to eight")
        finally:
            gw.stop()
    refused = [e for e in gw.events() if e["result"]["decision"] == "deny"]
    assert refused and "e2e-session" in refused[0]["result"]["reason"]
    assert len(upstream.main_requests()) < len(script)
    shown = json.dumps(result)
    assert "budget" in shown and "e2e-session" in shown, result

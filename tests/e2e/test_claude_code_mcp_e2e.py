"""End to end: the real Claude Code CLI with a `.mcp.json` wrapped by `warden mcp wrap`, a scripted model.

Two servers behind the proxy: the real npm filesystem server on the workspace, and our rug-pull
server. The model asks, in order: to read a file holding secrets (through the filesystem server),
to write a file (a write: the policy asks, and with no approver the proxy refuses), to call the
weather tool (fine), and to call it again after the server changed its definition (a rug pull).
The tests check what reached the servers, what Claude Code sent back to the model, and the audit log.
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

from model_server import ModelServer, Turn  # noqa: E402
from test_claude_code_e2e import SECRETS, WARDEN, Session, _claude_or_skip, _session_root  # noqa: E402

pytestmark = pytest.mark.e2e

FILESYSTEM = HERE / "node_modules" / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js"
TOY = HERE.parent / "mcp" / "toy_server.py"


@pytest.fixture(scope="module")
def mcp_session():
    claude = _claude_or_skip()
    s = Session(_session_root("mcp"))
    # only the MCP proxy guards this session: without the hooks, a refusal can only have come from it
    assert s.warden("uninstall", "claude-code", "--project").returncode == 0
    s.calls = s.root / "weather-calls.jsonl"
    config = {"mcpServers": {
        "fs": {"command": "node", "args": [str(FILESYSTEM), str(s.workspace)]},
        "weather": {"command": sys.executable, "args": [str(TOY), "rugpull"], "env": {"TOY_CALL_LOG": str(s.calls)}},
    }}
    mcp_json = s.workspace / ".mcp.json"
    mcp_json.write_text(json.dumps(config, indent=2) + "\n")
    s.original_config = mcp_json.read_bytes()
    wrap = s.warden("mcp", "wrap", "--approve-first", "--json")
    assert wrap.returncode == 0, wrap.stderr
    s.wrap_report = json.loads(wrap.stdout)
    s.created = s.workspace / "created-by-mcp.txt"
    script = [
        Turn.tool("mcp__fs__read_text_file", text="Reading the notes.", path=str(s.workspace / "notes.txt")),
        Turn.tool("mcp__fs__write_file", path=str(s.created), content="written through MCP"),
        Turn.tool("mcp__weather__get_weather", city="Oslo"),
        Turn.tool("mcp__weather__get_weather", city="Bergen"),
    ]
    try:
        with ModelServer(script) as server:
            env = dict(s.env, ANTHROPIC_BASE_URL=server.url, MCP_TIMEOUT="60000")
            proc = subprocess.run(
                [claude, "-p", "Show me the notes and the weather", "--output-format", "json",
                 "--mcp-config", str(mcp_json), "--strict-mcp-config",
                 "--allowedTools", "mcp__fs,mcp__weather", "--max-turns", str(len(script) + 3)],
                cwd=s.workspace, env=env, capture_output=True, text=True, timeout=240)
        assert proc.stdout.strip(), f"claude printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
        s.result = json.loads(proc.stdout.strip().splitlines()[-1])
        s.server = server
        yield s
    finally:
        shutil.rmtree(s.root, ignore_errors=True)


def _audit(s) -> list[dict]:
    out = s.warden("audit", "export", "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_wrapped_config_runs_every_server_behind_the_proxy(mcp_session):
    assert sorted(mcp_session.wrap_report["wrapped"]) == ["fs", "weather"]
    servers = json.loads((mcp_session.workspace / ".mcp.json").read_text())["mcpServers"]
    assert all(v["command"] == WARDEN and v["args"][:2] == ["mcp", "proxy"] for v in servers.values())


def test_secret_read_through_the_filesystem_server_never_reaches_the_model(mcp_session):
    results = mcp_session.server.tool_results()
    assert any("line-before-secret" in r and "[REDACTED:" in r for r in results), results
    sent = mcp_session.server.all_request_text()
    for secret in SECRETS:
        assert secret not in sent


def test_denied_write_never_reaches_the_server(mcp_session):
    assert not mcp_session.created.exists()
    results = mcp_session.server.tool_results()
    assert any("Warden" in r and "mcp__fs__write_file" in r for r in results), results


def test_rug_pulled_tool_is_refused(mcp_session):
    calls = [json.loads(line) for line in mcp_session.calls.read_text().splitlines()]
    assert [c["arguments"]["city"] for c in calls] == ["Oslo"], "the second call must not reach the server"
    assert any("quarantined" in r and "rug pull" in r for r in mcp_session.server.tool_results())
    events = _audit(mcp_session)
    quarantined = [e for e in events if e.get("kind") == "mcp" and e.get("what") == "pin.quarantined"]
    assert quarantined and quarantined[0]["data"]["state"] == "changed"
    assert "id_rsa" in quarantined[0]["data"]["diff"]


def test_unwrap_restores_the_original_config(mcp_session):
    proc = mcp_session.warden("mcp", "unwrap", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["restored"] == "exact"
    assert (mcp_session.workspace / ".mcp.json").read_bytes() == mcp_session.original_config


"""End to end: the control loop with the real Claude Code CLI in headless (`-p`) runs.

Each test is one scripted session with Warden installed (`warden install claude-code` writes the
hooks and the `warden` MCP server) and `--permission-prompt-tool mcp__warden__approve`, so a
queued ask waits in Warden's MCP tool while another process approves or denies it. The queue
scenarios run on SQLite and on PostgreSQL (a schema with a random name).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from model_server import ModelServer, Turn  # noqa: E402
from pg_util import PG, pg_down  # noqa: E402
from test_claude_code_e2e import WARDEN, Session, _claude_or_skip, _session_root  # noqa: E402

pytestmark = pytest.mark.e2e

POLICY = """\
version: 1
disable: [ask-packages, ask-network]
rules:
  - id: queue-touch
    effect: ask
    reason: creating marker files needs a second person
    program: [touch]
    approval: {route: queue, expires: 2m}
  - id: allow-pip
    effect: allow
    reason: package installs are fine here, ten per session
    facts: [pkg.install]
    limit: {max: 10/session, on_exceed: deny}
  - id: allow-fetch
    effect: allow
    reason: the test page
    tool: [WebFetch]
  - id: allow-curl-upload
    effect: allow
    reason: uploads to the test API are fine (until the session is tainted)
    program: [curl]
"""


class _Web:
    """Records every request (GET and POST): an upload that was refused never arrives."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def _ok(self) -> None:
                hits.append((self.command, self.path))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = _ok

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class HookedServer(ModelServer):
    """Runs ``before[step]`` once, just before answering that step (e.g. a kill between two tool calls)."""

    def __init__(self, script, before=None) -> None:
        super().__init__(script)
        self.before = dict(before or {})

    def _turn_for(self, body):
        from model_server import _is_main

        if _is_main(body):
            step = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")
            action = self.before.pop(step, None)
            if action is not None:
                action()
        return super()._turn_for(body)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request):
    if request.param == "sqlite":
        yield ""
        return
    reason = pg_down()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"warden_e2e_{uuid.uuid4().hex[:10]}"
    yield f"{PG}?schema={schema}"
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def session(store_url):
    _claude_or_skip()
    s = Session(_session_root("control"))
    (s.workspace / "warden.yaml").write_text(POLICY)
    # the project's policy loosens built-in asks (disable:), which takes effect only once trusted
    assert s.warden("trust").returncode == 0
    if store_url:
        s.env["WARDEN_STATE_DB"] = store_url
    bindir = s.root / "bin"
    bindir.mkdir()
    fake_pip = bindir / "pip"
    fake_pip.write_text("#!/bin/sh\necho \"pretend-installed $*\"\n")
    fake_pip.chmod(0o755)
    s.env["PATH"] = f"{bindir}:{s.env['PATH']}"
    yield s
    s.stop_daemon()
    import shutil

    shutil.rmtree(s.root, ignore_errors=True)


def run_headless(s: Session, script, *, before=None, prompt="Do the scripted steps"):
    claude = _claude_or_skip()
    with HookedServer(script, before) as server:
        env = dict(s.env, ANTHROPIC_BASE_URL=server.url)
        proc = subprocess.run(
            [claude, "-p", prompt, "--output-format", "json", "--allowedTools", "Bash,Read,Write,Edit,WebFetch",
             "--permission-prompt-tool", "mcp__warden__approve", "--mcp-config", str(s.workspace / ".mcp.json"),
             "--max-turns", str(len(script) + 3)],
            cwd=s.workspace, env=env, capture_output=True, text=True, timeout=240)
    assert proc.stdout.strip(), f"claude printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), server


def warden(s: Session, *args: str, actor: str = "bob") -> subprocess.CompletedProcess:
    env = {k: v for k, v in s.env.items()}
    env["WARDEN_ACTOR"] = actor
    return subprocess.run([WARDEN, *args], cwd=s.workspace, env=env, capture_output=True, text=True, timeout=60)


def in_background(s: Session, votes: list[tuple[str, str, str]], results: list) -> threading.Thread:
    """Wait for the first pending request, then cast ``(actor, verb, reason)`` votes from other processes."""

    def work() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            listed = warden(s, "approvals", "list", "--json")
            pending = json.loads(listed.stdout or "[]") if listed.returncode == 0 else []
            if pending:
                rid = pending[0]["id"]
                for actor, verb, reason in votes:
                    results.append((actor, verb, warden(s, "approvals", verb, rid, "--reason", reason, actor=actor)))
                return
            time.sleep(0.2)
        results.append(("timeout", "", None))

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


def control_events(s: Session) -> list[dict]:
    out = warden(s, "audit", "query", "--kind", "control", "--json")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_queued_ask_is_approved_from_another_process_and_runs(session) -> None:
    marker = session.workspace / "approved.txt"
    results: list = []
    voter = in_background(session, [("claude-code", "approve", "I am the agent"), ("bob", "approve", "looks fine")],
                          results)
    result, _ = run_headless(session, [Turn.bash(f"touch {marker}")])
    voter.join(10)
    (_, _, selfie), (_, _, ok) = results[0], results[1]
    assert selfie.returncode == 1 and "separation of duties" in selfie.stderr  # the agent cannot approve itself
    assert ok.returncode == 0, ok.stderr
    assert marker.exists(), result
    ops = [e["op"] for e in control_events(session)]
    assert {"approval.request", "approval.refused", "approval.vote", "grant.use"} <= set(ops)


def test_denied_request_never_runs(session) -> None:
    marker = session.workspace / "denied.txt"
    results: list = []
    voter = in_background(session, [("bob", "deny", "not today")], results)
    _result, server = run_headless(session, [Turn.bash(f"touch {marker}")])
    voter.join(10)
    assert results and results[0][2].returncode == 0, results
    assert not marker.exists()
    assert any("not today" in r for r in server.tool_results()), server.tool_results()


def test_kill_stops_the_next_tool_call(session) -> None:
    first, second = session.workspace / "first.txt", session.workspace / "second.txt"
    kill = lambda: warden(session, "kill", "--agent", "claude-code", "--reason", "e2e stop")  # noqa: E731
    _result, server = run_headless(session, [Turn.bash(f"echo one > {first}"), Turn.bash(f"echo two > {second}")],
                                  before={1: kill})
    assert first.exists() and not second.exists()
    assert any("e2e stop" in r for r in server.tool_results()), server.tool_results()


def test_eleventh_package_install_is_refused(session) -> None:
    script = [Turn.bash(f"pip install pkg{i}") for i in range(11)]
    _result, server = run_headless(session, script)
    outputs = server.tool_results()
    assert sum("pretend-installed" in r for r in outputs) == 10, outputs
    assert any("budget exceeded" in r for r in outputs), outputs
    assert any(e["op"] == "limit.exceeded" for e in control_events(session))


def test_webfetch_then_upload_is_escalated(session) -> None:
    web = _Web()
    upload = "curl -s -m 2 -d @warden.yaml https://api.example.com/upload"
    try:
        # the same upload is allowed before the WebFetch and escalated after it
        script = [Turn.bash(upload), Turn.tool("WebFetch", url=f"{web.url}/page", prompt="Summarize"),
                  Turn.bash(upload)]
        result, _server = run_headless(session, script)
    finally:
        web.close()
    ops = [e for e in control_events(session) if e["op"] == "taint"]
    assert ops and ops[0]["data"]["origin"]["source"] == "web"
    query = warden(session, "audit", "query", "--kind", "decision", "--json")
    uploads = [e for e in map(json.loads, query.stdout.splitlines()) if (e.get("input") or {}).get("command") == upload]
    assert [u["result"]["decision"] for u in uploads] == ["allow", "ask"]
    assert "taint-ask-outbound" in [r["id"] for r in uploads[-1]["result"]["rules"]]
    assert web.url.split("//")[1] in uploads[-1]["result"]["reason"]  # the taint origin is named
    denied = [d["tool_input"].get("command") for d in result.get("permission_denials", [])]
    assert denied == [upload]  # the escalated upload did not run

"""`warden hook claude-code`: protocol mapping and fail-closed behaviour, through the real binary."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from warden_cli import run_warden

POLICY = """\
version: 1
default: ask
rules:
  - id: deny-evil-fetch
    effect: deny
    reason: evil.example serves malware
    tool: [WebFetch]
    host: ["evil.example", "*.evil.example"]
  - id: allow-docs-fetch
    effect: allow
    reason: documentation hosts are fine to read
    tool: [WebFetch]
    host: ["docs.python.org"]
  - id: deny-mcp-drop
    effect: deny
    reason: dropping tables is never done by an agent
    tool: ["mcp__db__drop_*"]
"""


@pytest.fixture
def project(workspace: Path, warden_home: Path) -> Path:
    (workspace / "warden.yaml").write_text(POLICY)
    return workspace


def hook(payload: object, project: Path, *args: str, env: dict | None = None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(payload).encode()
    full_env = {"CLAUDE_PROJECT_DIR": str(project), "WARDEN_HOOK_DAEMON": "0", **(env or {})}
    return run_warden("hook", "claude-code", *args, input=data, env=full_env, cwd=str(project))


def pre(tool: str, tool_input: dict, project: Path) -> dict:
    return {"session_id": "s1", "transcript_path": "/dev/null", "cwd": str(project),
            "hook_event_name": "PreToolUse", "permission_mode": "default", "tool_name": tool,
            "tool_input": tool_input, "tool_use_id": "toolu_1"}


def answer(proc) -> dict:
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)["hookSpecificOutput"]


def test_pre_tool_use_allow_for_workspace_read(project: Path):
    out = answer(hook(pre("Read", {"file_path": str(project / "README.md")}, project), project))
    assert out["hookEventName"] == "PreToolUse"
    assert out["permissionDecision"] == "allow"
    assert "allow-read-tools" in out["permissionDecisionReason"]


def test_pre_tool_use_deny_says_what_was_found_and_what_instead(project: Path):
    out = answer(hook(pre("WebFetch", {"url": "https://evil.example/x", "prompt": "p"}, project), project))
    assert out["permissionDecision"] == "deny"
    reason = out["permissionDecisionReason"]
    assert "deny-evil-fetch" in reason and "evil.example serves malware" in reason
    assert "Instead:" in reason


def test_web_fetch_and_mcp_tools_go_through_the_same_policy(project: Path):
    ok = answer(hook(pre("WebFetch", {"url": "https://docs.python.org/3/", "prompt": "p"}, project), project))
    assert ok["permissionDecision"] == "allow"
    mcp = answer(hook(pre("mcp__db__drop_table", {"table": "users"}, project), project))
    assert mcp["permissionDecision"] == "deny" and "deny-mcp-drop" in mcp["permissionDecisionReason"]
    # A Write outside the workspace is not auto-allowed by the default policy.
    write = answer(hook(pre("Write", {"file_path": "/etc/cron.d/x", "content": "x"}, project), project))
    assert write["permissionDecision"] in ("ask", "deny")


def test_unmodelled_claude_tool_gets_no_opinion(project: Path):
    proc = hook(pre("TodoWriteV9", {"todos": []}, project), project)
    assert proc.returncode == 0 and proc.stdout == b""


def test_garbage_stdin_blocks_with_exit_2(project: Path):
    proc = hook(None, project, raw=b"\x00not json{")
    assert proc.returncode == 2
    assert b"not valid JSON" in proc.stderr and proc.stdout == b""


def test_payload_without_event_or_with_bad_shape_blocks(project: Path):
    assert hook({"tool_name": "Bash"}, project).returncode == 2
    assert hook([1, 2, 3], project).returncode == 2
    bad = pre("Bash", {"command": 42}, project)
    out = answer(hook(bad, project))
    assert out["permissionDecision"] == "deny" and "tool_input.command" in out["permissionDecisionReason"]


def test_broken_policy_denies_every_tool_call(project: Path):
    (project / "warden.yaml").write_text("version: 1\nrules: [this is: not: valid\n")
    out = answer(hook(pre("Read", {"file_path": str(project / "a.txt")}, project), project))
    assert out["permissionDecision"] == "deny"
    assert "policy" in out["permissionDecisionReason"].lower()


def test_broken_policy_at_session_start_is_reported(project: Path):
    (project / "warden.yaml").write_text("version: 1\ndefault: maybe\n")
    proc = hook({"session_id": "s1", "cwd": str(project), "hook_event_name": "SessionStart",
                 "source": "startup"}, project)
    assert proc.returncode == 2 and b"policy" in proc.stderr.lower()


def test_internal_deadline_blocks_with_exit_2(project: Path):
    proc = hook(pre("Read", {"file_path": str(project / "a")}, project), project, "--deadline", "0.000001")
    assert proc.returncode == 2
    assert b"deadline" in proc.stderr
    assert proc.stdout == b""


def test_deadline_on_post_tool_use_withholds_the_output(project: Path):
    payload = {**pre("Bash", {"command": "cat x"}, project), "hook_event_name": "PostToolUse",
               "tool_response": {"stdout": "sensitive", "stderr": "", "interrupted": False}}
    proc = hook(payload, project, env={"WARDEN_HOOK_DEADLINE": "0.000001"})
    out = answer(proc)
    assert "sensitive" not in json.dumps(out)
    assert "withheld" in out["updatedToolOutput"]["stdout"]


def test_bad_arguments_block(project: Path):
    proc = hook(pre("Read", {"file_path": "x"}, project), project, "--deadline", "soon")
    assert proc.returncode == 2 and b"--deadline" in proc.stderr


def test_session_start_gives_the_model_a_policy_summary(project: Path):
    proc = hook({"session_id": "s1", "cwd": str(project), "hook_event_name": "SessionStart",
                 "source": "startup"}, project)
    out = answer(proc)
    context = out["additionalContext"]
    assert out["hookEventName"] == "SessionStart"
    assert "evil.example serves malware" in context  # deny rules are listed
    assert str(project) in context
    assert "\n" not in context  # one paragraph


def test_stop_and_session_end_answer_quietly(project: Path):
    for event in ("Stop", "SessionEnd"):
        proc = hook({"session_id": "s1", "cwd": str(project), "hook_event_name": event}, project)
        assert proc.returncode == 0 and proc.stdout == b"", proc.stderr


def test_events_warden_ignores_pass_through(project: Path):
    proc = hook({"session_id": "s1", "cwd": str(project), "hook_event_name": "Notification",
                 "message": "hi"}, project)
    assert proc.returncode == 0 and proc.stdout == b""


def test_help_without_click():
    proc = run_warden("hook", "claude-code", "--help")
    assert proc.returncode == 0 and b"stdin" in proc.stdout


def test_daemon_answers_like_the_in_process_path(project: Path, warden_home: Path):
    payloads = [
        pre("Read", {"file_path": str(project / "README.md")}, project),
        pre("WebFetch", {"url": "https://evil.example/x", "prompt": "p"}, project),
        pre("Bash", {"command": "ls -la"}, project),
    ]
    # a generous deadline: this test is about equal answers, and a loaded CI machine can make the
    # daemon's first (cold) answer slow; the deadline itself is tested elsewhere
    env = {"WARDEN_HOOK_DAEMON": "1", "WARDEN_HOOKD_IDLE": "20", "WARDEN_HOOK_DEADLINE": "30"}
    try:
        first = [hook(p, project, env=env) for p in payloads]  # the first call starts the daemon
        sock = _wait_for_socket(warden_home)
        served = [hook(p, project, env=env) for p in payloads]
        local = [hook(p, project) for p in payloads]
        for a, b, c in zip(first, served, local, strict=True):
            assert a.returncode == b.returncode == c.returncode == 0
            assert json.loads(a.stdout) == json.loads(b.stdout) == json.loads(c.stdout)
        # An edited policy applies on the very next call, daemon or not.
        # (a host the built-in public-documentation rule does not cover: only the project rule allows it)
        (project / "warden.yaml").write_text(POLICY.replace('"docs.python.org"', '"docs.python.org", "status.example.com"'))
        fetch = pre("WebFetch", {"url": "https://status.example.com/v1/ping", "prompt": "p"}, project)
        assert answer(hook(fetch, project, env=env))["permissionDecision"] == "allow"
        (project / "warden.yaml").write_text(POLICY.replace("docs.python.org", "nothing.invalid"))
        assert answer(hook(fetch, project, env=env))["permissionDecision"] == "ask"
        assert sock.exists()
    finally:
        _stop_daemons(warden_home)


def test_dead_daemon_socket_falls_back_to_in_process(project: Path, warden_home: Path):
    run = warden_home / "run"
    run.mkdir(parents=True, mode=0o700)
    env = {"WARDEN_HOOK_DAEMON": "1", "WARDEN_HOOKD_IDLE": "5"}
    try:
        # A stale socket file with nobody listening: the hook still answers, correctly.
        import socket

        from warden.integrations.daemon.client import socket_path

        path = socket_path({"WARDEN_HOME": str(warden_home)})
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()
        out = answer(hook(pre("WebFetch", {"url": "https://evil.example/", "prompt": "p"}, project), project,
                          env=env))
        assert out["permissionDecision"] == "deny"
    finally:
        _stop_daemons(warden_home)


def _wait_for_socket(warden_home: Path, timeout: float = 20.0) -> Path:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        socks = list((warden_home / "run").glob("hookd-*.sock"))
        if socks:
            return socks[0]
        time.sleep(0.1)
    raise AssertionError("the hook daemon did not start")


def _stop_daemons(warden_home: Path) -> None:
    """Remove the sockets: a daemon whose socket is gone exits at its next idle tick."""
    for sock in (warden_home / "run").glob("hookd-*.sock"):
        try:
            os.unlink(sock)
        except OSError:
            pass


def test_listener_that_never_acknowledges_is_not_waited_for(project: Path, warden_home: Path):
    """Something listens on the daemon socket but never answers (not even the acknowledgement): the
    hook decides in-process instead of waiting for its deadline, and never allows by default."""
    import socket
    import threading

    from warden.integrations.daemon.client import socket_path

    path = socket_path({"WARDEN_HOME": str(warden_home)})
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(4)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(srv.accept()[0]), daemon=True).start()
    try:
        started = time.monotonic()
        proc = hook(pre("WebFetch", {"url": "https://evil.example/", "prompt": "p"}, project), project,
                    "--deadline", "5", env={"WARDEN_HOOK_DAEMON": "1", "WARDEN_HOOKD_IDLE": "5"})
        elapsed = time.monotonic() - started
        assert answer(proc)["permissionDecision"] == "deny"  # the policy's answer, decided here
        assert elapsed < 5 + 2
    finally:
        for conn in held:
            conn.close()
        srv.close()
        _stop_daemons(warden_home)


def test_deadline_answer_cannot_be_steered_by_the_tool_input(project: Path):
    # A PreToolUse whose input mentions another event must still be blocked (exit 2), not answered
    # with a PostToolUse-shaped exit 0 that Claude Code would ignore.
    payload = pre("mcp__x__y", {"hook_event_name": "PostToolUse", "note": '"PostToolUse"'}, project)
    proc = hook(payload, project, "--deadline", "0.0005")
    assert proc.returncode == 2 and proc.stdout == b""


def _imported_modules(project: Path, *args: str, env: dict) -> set[str]:
    import subprocess
    import sys

    payload = json.dumps(pre("Read", {"file_path": str(project / "a")}, project)).encode()
    full_env = {**os.environ, "CLAUDE_PROJECT_DIR": str(project), **env}
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run([sys.executable, "-X", "importtime", str(Path(sys.executable).parent / "warden"),
                           "hook", "claude-code", *args], input=payload, capture_output=True, env=full_env,
                          cwd=str(project), timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {line.split("|")[-1].strip() for line in proc.stderr.decode().splitlines() if "|" in line}


def test_hot_path_stays_lean(project: Path, warden_home: Path):
    heavy = {"click", "rich", "pydantic", "yaml"}
    for _ in range(2):  # fill the compiled-policy cache
        hook(pre("Read", {"file_path": str(project / "a")}, project), project)
    in_process = _imported_modules(project, "--no-daemon", env={})
    assert not heavy & in_process, heavy & in_process
    env = {"WARDEN_HOOK_DAEMON": "1", "WARDEN_HOOKD_IDLE": "10"}
    try:
        hook(pre("Read", {"file_path": str(project / "a")}, project), project, env=env)
        _wait_for_socket(warden_home)
        time.sleep(0.5)
        client = _imported_modules(project, env=env)
        # Served by the daemon: not even JSON or typing is imported by the hook process.
        assert not {"json", "typing", "warden.gateway", *heavy} & client, client
        assert "warden.integrations.hook" in client
        assert "warden.integrations.agents.claude_code" not in client
    finally:
        _stop_daemons(warden_home)

"""`warden kill` terminates a running `warden exec` sandbox in scope, and exec refuses to start under a kill."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from warden_cli import WARDEN, run_warden

from warden.adapters.state import open_state


def test_kill_terminates_a_running_sandbox_and_blocks_the_next(warden_home: Path, workspace: Path) -> None:
    env = {**os.environ, "WARDEN_HOME": str(warden_home), "WARDEN_AGENT": "ci-bot"}
    proc = subprocess.Popen([WARDEN, "exec", "--", "sleep", "30"], cwd=workspace, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        runs: list = []
        while time.monotonic() < deadline and not runs and proc.poll() is None:
            time.sleep(0.1)
            if (warden_home / "state.db").exists():
                store = open_state(warden_home, environ={})
                runs = store.runs()
                store.close()
        assert runs and runs[0]["agent"] == "ci-bot", proc.stderr.read() if proc.poll() is not None else runs
        t0 = time.monotonic()
        assert run_warden("kill", "--agent", "ci-bot", "--reason", "stop the bot", env=env).returncode == 0
        proc.wait(timeout=5)
        assert time.monotonic() - t0 < 5
        assert proc.returncode != 0
    finally:
        if proc.poll() is None:
            proc.kill()
    again = run_warden("exec", "--", "true", env=env, cwd=workspace)
    assert again.returncode == 126 and b"stop the bot" in again.stderr
    assert run_warden("resume", "--agent", "ci-bot", env=env).returncode == 0
    assert run_warden("exec", "--", "true", env=env, cwd=workspace).returncode == 0


def test_exec_asks_through_the_queue_and_runs_after_approval(warden_home: Path, workspace: Path) -> None:
    import json

    (workspace / "warden.yaml").write_text(
        "version: 1\nrules:\n  - id: queue-touch\n    effect: ask\n    reason: markers need review\n"
        "    program: [touch]\n    approval: {route: queue}\n")
    env = {**os.environ, "WARDEN_HOME": str(warden_home), "CLAUDECODE": ""}
    first = run_warden("exec", "--", "touch", "made.txt", env=env, cwd=workspace)
    assert first.returncode == 126 and b"retry after approval" in first.stderr
    assert not (workspace / "made.txt").exists()
    rid = json.loads(run_warden("approvals", "list", "--json", env=env).stdout)[0]["id"]
    assert rid.encode() in first.stderr
    ok = run_warden("approvals", "approve", rid, env={**env, "WARDEN_ACTOR": "bob"})
    assert ok.returncode == 0, ok.stderr
    again = run_warden("exec", "--", "touch", "made.txt", env=env, cwd=workspace)
    assert again.returncode == 0, again.stderr
    assert (workspace / "made.txt").exists()
    third = run_warden("exec", "--", "touch", "made.txt", env=env, cwd=workspace)
    assert third.returncode == 126  # the once grant was used

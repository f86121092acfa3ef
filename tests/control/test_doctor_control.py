"""`warden doctor` shows the control loop: a kill switch in force is a warning with its fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

from warden_cli import run_warden


def test_doctor_reports_a_kill_switch_and_a_broken_state_store(warden_home: Path, workspace: Path) -> None:
    env = {**os.environ, "WARDEN_HOME": str(warden_home)}
    assert run_warden("kill", "--session", "s9", "--reason", "incident 7", env=env).returncode == 0
    out = json.loads(run_warden("doctor", "--json", env=env, cwd=workspace).stdout)
    control = {f["check"]: f for f in out["checks"] if f["check"].startswith("control.")}
    assert control["control.state"]["status"] == "ok"
    assert control["control.kill"]["status"] == "warn" and "incident 7" in control["control.kill"]["summary"]
    assert "warden resume" in control["control.kill"]["fix"]
    (warden_home / "state.db").write_bytes(b"garbage" * 500)
    for suffix in ("-wal", "-shm"):
        (warden_home / f"state.db{suffix}").unlink(missing_ok=True)
    broken = json.loads(run_warden("doctor", "--json", env=env, cwd=workspace).stdout)
    state = next(f for f in broken["checks"] if f["check"] == "control.state")
    assert state["status"] == "fail" and "every decision is denied" in state["fix"]

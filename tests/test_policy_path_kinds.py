"""A policy path that exists but is not a readable regular file is a load error that denies everything;
silently skipping it would drop its deny rules."""

from __future__ import annotations

import json
import os

import pytest
from warden_cli import run_warden


def _plant(path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling-symlink":
        path.symlink_to(path.parent / "gone.yaml")
    elif kind == "symlink-to-directory":
        (path.parent / "adir").mkdir()
        path.symlink_to(path.parent / "adir")


KINDS = ["directory", "fifo", "dangling-symlink", "symlink-to-directory"]
WHERE = ["warden.yaml", ".warden/policy.yaml", "user", "managed", "--policy"]
NEEDLE = {"directory": "is a directory", "fifo": "is a FIFO", "dangling-symlink": "does not exist",
          "symlink-to-directory": "is a directory"}


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("kind", KINDS)
def test_non_file_policy_paths_deny_with_the_reason(warden_home, workspace, tmp_path, where, kind):
    args, env = ["decide", "--no-audit"], {}
    if where == "user":
        path = warden_home / "policy.yaml"
    elif where == "managed":
        path = tmp_path / "etc" / "managed.yaml"
        env["WARDEN_MANAGED_POLICY"] = str(path)
    elif where == "--policy":
        path = tmp_path / "named.yaml"
        args += ["--policy", str(path)]
    else:
        path = workspace / where
    _plant(path, kind)
    payload = {"tool_name": "Read", "tool_input": {"file_path": "README.md"}, "cwd": str(workspace)}
    proc = run_warden(*args, input=json.dumps(payload), env=env, cwd=workspace, timeout=30)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr.decode()
    verdict = json.loads(proc.stdout)
    assert verdict["decision"] == "deny", verdict
    assert NEEDLE[kind] in verdict["reason"] + verdict.get("error", ""), verdict


def test_control_an_absent_project_policy_is_not_an_error(warden_home, workspace):
    payload = {"tool_name": "Read", "tool_input": {"file_path": "README.md"}, "cwd": str(workspace)}
    verdict = json.loads(run_warden("decide", "--no-audit", input=json.dumps(payload), cwd=workspace).stdout)
    assert verdict["decision"] == "allow"

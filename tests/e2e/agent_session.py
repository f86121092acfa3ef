"""Shared set-up for the end-to-end tests that drive a real agent CLI with Warden's hooks.

A :class:`World` is one scratch tree: a workspace (with a file of realistic-looking secrets), a
fake $HOME, a $WARDEN_HOME and an ``outside`` directory holding a sentinel that destructive
commands must never reach. It lives outside /tmp (the policy treats temp roots as scratch space,
so a sentinel there would prove nothing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
BIN = HERE / "node_modules" / ".bin"
WARDEN = str(Path(sys.executable).parent / "warden")
# Realistic-looking credentials (not live): a GitHub token and an AWS key pair.
GITHUB_TOKEN = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"
AWS_KEY_ID = "AKIA" + "QX7RZ2M4KD6WPL3T"
AWS_SECRET = "9Zq4vN2Lr8Tx1Kc7Bm5H" + "d3Wy6Pf0Gs8Ja4Ue2QoX"
SECRETS = (GITHUB_TOKEN, AWS_KEY_ID, AWS_SECRET)
_UNSUITABLE = ("/tmp/", "/var/tmp/", "/dev/shm/", "/root/", "/home/")


def cli_or_skip(name: str, version_args: tuple[str, ...] = ("--version",)) -> str:
    """The pinned CLI from tests/e2e/node_modules; skip (fail under CI=true) when absent."""
    exe = BIN / name
    reason = None
    if not exe.exists():
        reason = f"{name} CLI not installed: run `npm ci` in tests/e2e"
    else:
        try:
            subprocess.run([str(exe), *version_args], capture_output=True, timeout=60, check=True,
                           env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir()})
        except (OSError, subprocess.SubprocessError) as exc:
            reason = f"{name} CLI does not run here: {exc}"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the end-to-end tests)")
        pytest.skip(reason)
    return str(exe)


def session_root(name: str) -> Path:
    repo = HERE.parent.parent
    base = Path(os.environ.get("WARDEN_E2E_DIR") or repo / ".e2e")
    if not os.environ.get("WARDEN_E2E_DIR") and (str(repo) + "/").startswith(_UNSUITABLE):
        base = Path("/var/lib/warden-e2e")
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base))


class World:
    def __init__(self, name: str) -> None:
        self.root = session_root(name)
        self.workspace = self.root / "project"
        self.home = self.root / "home"
        self.warden_home = self.root / "warden-home"
        self.outside = self.root / "outside"
        for d in (self.workspace / ".git", self.home, self.outside):
            d.mkdir(parents=True)
        self.sentinel = self.outside / "sentinel.txt"
        self.sentinel.write_text("must survive\n")
        (self.workspace / "hello-from-workspace.txt").write_text("hi\n")
        (self.workspace / "notes.txt").write_text(
            "line-before-secret\n"
            f"github_token = {GITHUB_TOKEN}\n"
            f"aws_access_key_id = {AWS_KEY_ID}\n"
            f"aws_secret_access_key = {AWS_SECRET}\n"
            "line-after-secret\n"
        )
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "WARDEN_HOME": str(self.warden_home),
            "WARDEN_MANAGED_POLICY": "",
            "WARDEN_HOOKD_IDLE": "30",
            "LANG": "C.UTF-8",
        }

    def warden(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([WARDEN, *args], cwd=self.workspace, env=self.env, capture_output=True, text=True,
                              timeout=60)
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def audit_events(self) -> list[dict[str, Any]]:
        query = self.warden("audit", "query", "--json")
        return [json.loads(line) for line in query.stdout.splitlines() if line.strip()]

    def close(self) -> None:
        for sock in (self.warden_home / "run").glob("hookd-*.sock"):
            sock.unlink(missing_ok=True)  # the daemon exits when its socket is gone
        shutil.rmtree(self.root, ignore_errors=True)


def decisions(events: list[dict[str, Any]]) -> dict[str, str]:
    """command -> decision, for every Bash decision in the audit log."""
    return {(e.get("input") or {}).get("command"): (e.get("result") or {}).get("decision")
            for e in events if e.get("kind") == "decision"}

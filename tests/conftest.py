from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WARDEN = str(Path(sys.executable).parent / "warden")
# Commands started by tests may start the per-user decision daemon; let those exit soon after.
os.environ.setdefault("WARDEN_HOOKD_IDLE", "10")


@pytest.fixture
def warden_home(tmp_path, monkeypatch):
    home = tmp_path / "warden-home"
    monkeypatch.setenv("WARDEN_HOME", str(home))
    monkeypatch.delenv("WARDEN_POLICY", raising=False)
    monkeypatch.setenv("WARDEN_MANAGED_POLICY", "")
    return home


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "project"
    (ws / ".git").mkdir(parents=True)
    return ws


def run_warden(*args: str, input: bytes | str | None = None, env: dict | None = None, cwd=None,
               timeout: float = 60) -> subprocess.CompletedProcess:
    if isinstance(input, str):
        input = input.encode()
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([WARDEN, *args], input=input, capture_output=True, env=full_env, cwd=cwd, timeout=timeout)


@pytest.fixture
def world():
    """A fake home with secrets and a workspace for sandbox tests (see tests/sandbox_env.py)."""
    from sandbox_env import world_fixture

    yield from world_fixture()

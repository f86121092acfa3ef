from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warden_cli import ROOT, WARDEN, run_warden  # noqa: E402,F401  (re-exported for older imports)

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


@pytest.fixture
def world():
    """A fake home with secrets and a workspace for sandbox tests (see tests/sandbox_env.py)."""
    from sandbox_env import world_fixture

    yield from world_fixture()

"""Helpers for the per-agent hook tests: run `warden hook AGENT` through the real binary."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from warden_cli import run_warden

E2E_BIN = Path(__file__).resolve().parent.parent / "e2e" / "node_modules" / ".bin"
SECRET = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"
POLICY = """\
version: 1
default: ask
rules:
  - id: deny-evil-fetch
    effect: deny
    reason: evil.example serves malware
    tool: [WebFetch]
    host: ["evil.example"]
"""


def hook(agent: str, payload: object, project: Path, *args: str, env: dict | None = None,
         raw: bytes | None = None) -> subprocess.CompletedProcess:
    data = raw if raw is not None else json.dumps(payload).encode()
    full_env = {"WARDEN_HOOK_DAEMON": "0", **(env or {})}
    return run_warden("hook", agent, *args, input=data, env=full_env, cwd=str(project))


def cli(name: str) -> str | None:
    """The pinned npm CLI when installed (tests/e2e: `npm ci`), else None."""
    exe = E2E_BIN / name
    if exe.exists():
        return str(exe)
    if os.environ.get("CI"):
        raise AssertionError(f"{name} must be installed in CI (npm ci in tests/e2e)")
    return None

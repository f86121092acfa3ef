"""Doctor findings about an agent integration, as plain data any front end can print.

Each agent's installer module offers ``doctor_checks(environ, project_dir) -> list[Check]``;
``warden doctor`` (and anything else) can run them without importing the CLI. A control that
cannot act (a hook file missing, a hook the agent will skip, a binary newer than the one Warden
was tested with) is an ``error`` or a ``warn``, never silence (house rule 9).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "warn", "error"]


@dataclass(frozen=True)
class Check:
    agent: str
    name: str  # a stable id, e.g. "codex.hooks.trusted"
    status: Status
    detail: str  # what was found
    fix: str = ""  # what to do about it (empty when ok)

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "check": self.name, "status": self.status, "detail": self.detail,
                "fix": self.fix}


def binary_version(program: str, environ: Mapping[str, str], extra_env: Mapping[str, str] | None = None) -> str:
    """``PROGRAM --version``'s x.y.z, or "" when the program is absent or says nothing usable."""
    import re
    import shutil
    import subprocess

    exe = shutil.which(program, path=environ.get("PATH"))
    if not exe:
        return ""
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30,
                             env={**environ, **(extra_env or {})}).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"(\d+\.\d+\.\d+)", out)
    return match.group(1) if match else ""


def version_checks(agent: str, program: str, version: str, tested: str, *, refuses_newer: bool) -> list[Check]:
    """The binary check every agent with an npm CLI shares: absent, newer than tested, or fine."""
    if not version:
        return [Check(agent, f"{agent}.binary", "warn", f"no `{program}` on PATH (nothing to guard yet)",
                      f"install it, or ignore this if {agent} is not used here")]
    if newer_than(version, tested):
        effect = "its hooks fail closed until accepted" if refuses_newer else "its hook payloads may have changed"
        return [Check(agent, f"{agent}.version", "warn", f"{program} {version} is newer than {tested}, the version "
                      f"Warden was tested with; {effect}",
                      f"upgrade Warden, or check docs/agents.md and set WARDEN_UNTESTED_AGENTS={agent}")]
    return [Check(agent, f"{agent}.version", "ok", f"{program} {version} (tested with {tested})")]


def newer_than(found: str, tested: str) -> bool:
    """True when version ``found`` (e.g. "0.172.1") is newer than ``tested`` by major.minor."""
    def key(v: str) -> tuple[int, ...]:
        parts = []
        for p in v.strip().lstrip("v").split(".")[:2]:
            digits = "".join(ch for ch in p if ch.isdigit())
            parts.append(int(digits) if digits else 0)
        return tuple(parts)

    return key(found) > key(tested)

"""Doctor findings about an agent integration, as plain data any front end can print.

Each agent's installer module offers ``doctor_checks(environ, project_dir) -> list[Check]``;
``warden doctor`` (and anything else) can run them without importing the CLI. A control that
cannot act (a hook file missing, a hook the agent will skip, a binary newer than the one Warden
was tested with) is an ``error`` or a ``warn``, never silence (house rule 9).
"""

from __future__ import annotations

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


def newer_than(found: str, tested: str) -> bool:
    """True when version ``found`` (e.g. "0.172.1") is newer than ``tested`` by major.minor."""
    def key(v: str) -> tuple[int, ...]:
        parts = []
        for p in v.strip().lstrip("v").split(".")[:2]:
            digits = "".join(ch for ch in p if ch.isdigit())
            parts.append(int(digits) if digits else 0)
        return tuple(parts)

    return key(found) > key(tested)

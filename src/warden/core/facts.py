"""Facts: what analyzers learned about an action, in a form policies can match.

A fact is a dotted ``kind`` (``git.force_push``, ``path.delete``, ``exec.opaque``) plus a
human ``detail`` and structured ``data``. Policy rules match kinds with globs (``git.*``).
Analyzers only *describe*; the policy decides. Keep kinds stable: policies depend on them.

Shell analysis produces one :class:`CommandInfo` per simple command that will run; the
policy engine evaluates each command as its own subject, so ``ls && rm -rf ~`` is judged
by its worst part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    EXEC = "exec"


@dataclass(frozen=True, slots=True)
class Fact:
    kind: str
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.detail:
            out["detail"] = self.detail
        if self.data:
            out["data"] = dict(self.data)
        return out


@dataclass(frozen=True, slots=True)
class PathRef:
    """A path an action touches, already resolved (absolute, ``~`` and ``..`` expanded)."""

    path: str
    access: Access
    in_workspace: bool
    raw: str = ""  # as written by the agent, for explanations


@dataclass(slots=True)
class CommandInfo:
    """One simple command that will run, normalized (quotes, escapes, wrappers removed)."""

    program: str  # basename of the resolved program, e.g. "rm"; "" when opaque
    argv: tuple[str, ...]  # normalized argv including argv[0] == program
    raw: str = ""  # source text of this simple command
    opaque: bool = False  # the program could not be resolved statically
    paths: list[PathRef] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    via: tuple[str, ...] = ()  # wrappers / contexts it was found under: ("sudo", "bash -c")

    def describe(self) -> str:
        return " ".join(self.argv) if self.argv else (self.raw or "<opaque>")


@dataclass(slots=True)
class Analysis:
    """Everything analyzers found for one action.

    ``commands`` is empty for non-shell tools; action-level ``paths``/``hosts``/``facts``
    describe the whole action (a Read's file, a WebFetch host, a pipeline's data flow).
    """

    commands: list[CommandInfo] = field(default_factory=list)
    paths: list[PathRef] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)

    def all_facts(self) -> list[Fact]:
        out = list(self.facts)
        for c in self.commands:
            out.extend(c.facts)
        return out


# Well-known fact kinds. Analyzers may add more; document new kinds in docs/policy.md.
OPAQUE = "exec.opaque"  # a program, eval or input the analyzer cannot see through
PARSE_ERROR = "shell.parse_error"
SECRET_IN_CONTENT = "secret.content"  # the action carries a credential (write, prompt, fetch)
SECRET_READ = "secret.read"  # the action reads a secret location
PATH_OUTSIDE_WORKSPACE = "path.outside_workspace"

"""Analyzers: Action -> Analysis (facts, paths, hosts, simple commands).

One concern per module. :func:`analyze` dispatches by tool and never raises: an analyzer
failure becomes an ``exec.opaque`` fact, which the default policy never auto-allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from warden.core.action import Action
from warden.core.facts import OPAQUE, Analysis, Fact


@dataclass(frozen=True, slots=True)
class AnalysisEnv:
    """What analyzers may know about the machine, handed in by the adapter (no I/O in core)."""

    home: str = "/root"
    warden_home: str = ""  # $WARDEN_HOME, protected from agents
    realpath: Callable[[str], str] | None = None  # symlink resolution, supplied by adapters
    env: dict[str, str] = field(default_factory=dict)  # variables visible to the command ($HOME...)
    branch: str = ""  # the checked-out git branch: where a bare `git push` goes


def analyze(action: Action, env: AnalysisEnv) -> Analysis:
    if action.context.get("branch") and not env.branch:
        from dataclasses import replace

        env = replace(env, branch=action.context["branch"])  # where a bare `git push` goes
    try:
        from warden.core.analyze.tools import analyze_tool

        return analyze_tool(action, env)
    except Exception as exc:  # never raise: opaque is not safe, and the policy sees it
        return Analysis(facts=[Fact(OPAQUE, f"analyzer failed: {type(exc).__name__}: {exc}")])

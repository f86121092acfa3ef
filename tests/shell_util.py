"""Helpers for the shell analyzer tests: analyze a command and look at what came out."""

from __future__ import annotations

from functools import cache

from warden.core.analyze import AnalysisEnv
from warden.core.analyze.shell import analyze_shell
from warden.core.facts import Analysis

HOME = "/home/dev"
WS = "/home/dev/project"
ENV = AnalysisEnv(home=HOME, warden_home=HOME + "/.warden", env={"HOME": HOME})


def an(cmd: str, cwd: str = WS, env: AnalysisEnv = ENV) -> Analysis:
    return analyze_shell(cmd, cwd, WS, env)


def kinds(cmd: str, **kw) -> set[str]:
    """Every fact kind, command-level and action-level."""
    return {f.kind for f in an(cmd, **kw).all_facts()}


def programs(cmd: str) -> list[str]:
    return [c.program for c in an(cmd).commands]


def argvs(cmd: str) -> list[tuple[str, ...]]:
    return [c.argv for c in an(cmd).commands]


def paths(cmd: str, access: str | None = None) -> set[str]:
    return {p.path for c in an(cmd).commands for p in c.paths if access is None or p.access.value == access}


@cache
def builtin_policy(check_examples: bool = False):
    """The recommended policy, compiled once per test process."""
    from warden.adapters.policy_files import BUILTIN
    from warden.core.policy.load import LayerSource, compile_policy

    return compile_policy([LayerSource("builtin", "builtin:recommended.yaml", BUILTIN.read_text())],
                          check_examples=check_examples)

"""``warden doctor``: a registry of checks, each saying whether a control is really in force.

A control that cannot act (a hook not installed, a command that is not there, a daemon that hangs,
a policy that does not load, a log that does not verify, a sandbox that cannot start, a managed
layer missing where one is expected) must be a loud finding, never a quiet pass.

A check provider is a callable ``(ctx: DoctorContext) -> Iterable[Finding]``. Providers are listed
by ``module:function`` in :data:`PROVIDERS` (imported only when doctor runs) or published by any
installed package under the ``warden.doctor`` entry-point group, so an agent integration or the MCP
proxy adds its checks without touching this file's logic. A provider that raises is itself a
failed finding.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
PROBLEMS = (WARN, FAIL)  # either makes `warden doctor` exit non-zero

# Built-in providers, in the order they print. Add yours here or as a `warden.doctor` entry point.
PROVIDERS: tuple[str, ...] = (
    "warden.integrations.doctor_checks:policy",
    "warden.integrations.doctor_checks:managed",
    "warden.integrations.doctor_checks:audit",
    "warden.integrations.doctor_checks:sandbox",
    "warden.integrations.doctor_checks:daemon",
    "warden.integrations.agents.claude_code_doctor:checks",
    "warden.integrations.server_client.doctor:checks",
)
ENTRY_POINT_GROUP = "warden.doctor"


@dataclass(frozen=True)
class Finding:
    check: str  # dotted id: "policy.loads", "claude-code.hooks.project"
    status: str  # ok | warn | fail | skip
    summary: str  # one line: what was found
    fix: str = ""  # what to do about it (empty when nothing needs doing)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DoctorContext:
    cwd: str
    environ: Mapping[str, str]
    home: Path  # $WARDEN_HOME
    workspace: str
    policy_file: str | None = None


Provider = Callable[[DoctorContext], Iterable[Finding]]


def context(cwd: str | None = None, policy_file: str | None = None,
            environ: Mapping[str, str] | None = None) -> DoctorContext:
    from warden.adapters.environment import find_workspace
    from warden.adapters.policy_files import warden_home

    environ = os.environ if environ is None else environ
    cwd = os.path.abspath(cwd or os.getcwd())
    return DoctorContext(cwd=cwd, environ=dict(environ), home=warden_home(environ),
                         workspace=find_workspace(cwd), policy_file=policy_file)


def _load(target: str) -> Provider:
    module, _, attr = target.partition(":")
    fn: Provider = getattr(importlib.import_module(module), attr)
    return fn


def providers() -> list[tuple[str, Provider | Exception]]:
    found: list[tuple[str, Provider | Exception]] = []
    for target in PROVIDERS:
        try:
            found.append((target, _load(target)))
        except Exception as exc:
            found.append((target, exc))
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                found.append((ep.value, ep.load()))
            except Exception as exc:
                found.append((ep.value, exc))
    except Exception:
        pass  # no metadata (running from a source tree): the built-in list still runs
    return found


def run(ctx: DoctorContext, only: Iterable[tuple[str, Provider | Exception]] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for target, provider in (providers() if only is None else only):
        if isinstance(provider, Exception):
            findings.append(Finding(target, FAIL, f"the check could not be loaded: {provider}",
                                    "reinstall Warden (the check's module is missing or broken)"))
            continue
        try:
            findings.extend(provider(ctx))
        except Exception as exc:
            findings.append(Finding(target, FAIL, f"the check crashed: {type(exc).__name__}: {exc}",
                                    "report this as a Warden bug; the control it checks is unverified"))
    return findings


def healthy(findings: Iterable[Finding]) -> bool:
    return not any(f.status in PROBLEMS for f in findings)

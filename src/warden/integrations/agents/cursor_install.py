"""`warden install|uninstall cursor`: Warden's entries in Cursor's ``hooks.json``.

Project hooks live in ``<dir>/.cursor/hooks.json``, user hooks in ``~/.cursor/hooks.json``, both
``{"version": 1, "hooks": {event: [{"command": ...}]}}``. Cursor's CLI is not on npm, so its
behaviour is tested against fixtures of its documented schema (tests/agents/fixtures/cursor).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from warden.integrations.agents import hookfile
from warden.integrations.agents.checks import Check
from warden.integrations.agents.cursor import AFTER, BEFORE
from warden.integrations.agents.hookfile import Change, HookSpec, SettingsError

AGENT = "cursor"
SPEC = HookSpec(agent=AGENT, events=dict.fromkeys(BEFORE + AFTER), handler=lambda command, _event: {"command": command},
                grouped=False, top={"version": 1})
SCOPES = ("project", "user")
SCOPE_HELP = {"project": "<dir>/.cursor/hooks.json.", "user": "~/.cursor/hooks.json."}
NEXT_STEP = "Cursor reloads hooks.json on change; its Hooks settings tab lists the active hooks."


def hooks_path(scope: str, directory: str | None, environ: Mapping[str, str]) -> Path:
    if scope == "user":
        return Path(environ.get("HOME") or Path.home()) / ".cursor" / "hooks.json"
    return Path(os.path.abspath(directory or os.getcwd())) / ".cursor" / "hooks.json"


def install(scope: str, directory: str | None, command: str | None, environ: dict[str, str] | None = None,
            trust_project: bool = False) -> list[Change]:
    environ = dict(os.environ) if environ is None else environ
    return [hookfile.install(hooks_path(scope, directory, environ), SPEC, command)]


def uninstall(scope: str, directory: str | None, environ: dict[str, str] | None = None) -> list[Change]:
    environ = dict(os.environ) if environ is None else environ
    return [hookfile.uninstall(hooks_path(scope, directory, environ), SPEC)]


def doctor_checks(environ: Mapping[str, str] | None = None, project_dir: str | None = None,
                  *, probe_binary: bool = False) -> list[Check]:
    environ = dict(os.environ) if environ is None else dict(environ)
    checks: list[Check] = []
    found = False
    for scope in SCOPES:
        path = hooks_path(scope, project_dir, environ)
        try:
            data, _raw = hookfile.load(path)
        except SettingsError as exc:
            checks.append(Check(AGENT, f"cursor.hooks.{scope}", "error", str(exc), f"fix {path}"))
            continue
        present = hookfile.installed_entries(data, SPEC)
        if not present:
            continue
        found = True
        if data.get("version") != 1:
            checks.append(Check(AGENT, f"cursor.hooks.{scope}", "error", f"{path} lacks \"version\": 1, so Cursor "
                                "ignores it", f"run `warden install cursor --{scope}`"))
        missing = [e for e in SPEC.events if e not in present]
        if missing:
            checks.append(Check(AGENT, f"cursor.hooks.{scope}", "error", f"{path} lacks Warden's hooks for "
                                f"{', '.join(missing)}", f"run `warden install cursor --{scope}`"))
        else:
            checks.append(Check(AGENT, f"cursor.hooks.{scope}", "ok", f"Warden's hooks are in {path}"))
    if not found:
        checks.append(Check(AGENT, "cursor.hooks", "error", "Warden's hooks are not installed for Cursor",
                            "run `warden install cursor --user`"))
    return checks

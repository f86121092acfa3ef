"""`warden install|uninstall gemini`, and the doctor checks for Gemini's silent-skip states.

Gemini CLI reads ``hooks`` from ``~/.gemini/settings.json`` (user) and ``<project>/.gemini/
settings.json`` (project, loaded only when the folder is trusted: with
``security.folderTrust.enabled``, a folder missing from ``~/.gemini/trustedFolders.json`` runs no
project hook). ``hooksConfig.enabled: false`` or a ``hooksConfig.disabled`` entry naming
Warden's hook turns it off. Hook timeouts are in milliseconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warden.integrations.agents import hookfile
from warden.integrations.agents.checks import Check, binary_version, version_checks
from warden.integrations.agents.hookfile import Change, HookSpec, SettingsError

AGENT = "gemini"
TESTED_VERSION = "0.61.0"
HOOK_TIMEOUT_MS = 30_000  # Warden's own deadline (8 s) answers first, failing closed
HOOK_NAME = "warden"
SPEC = HookSpec(
    agent=AGENT,
    events={"BeforeTool": "*", "AfterTool": "*", "BeforeAgent": None, "SessionStart": None, "SessionEnd": None},
    handler=lambda command, _event: {"name": HOOK_NAME, "type": "command", "command": command, "timeout": HOOK_TIMEOUT_MS},
)
SCOPES = ("project", "user")
SCOPE_HELP = {"project": "<dir>/.gemini/settings.json (used only in folders Gemini trusts).",
              "user": "~/.gemini/settings.json."}
NEXT_STEP = "Gemini CLI runs the hooks from its next start; `/hooks` inside Gemini lists them."


def gemini_home(environ: Mapping[str, str]) -> Path:
    base = environ.get("GEMINI_CLI_HOME") or environ.get("HOME") or str(Path.home())
    return Path(base) / ".gemini"


def settings_path(scope: str, directory: str | None, environ: Mapping[str, str]) -> Path:
    if scope == "user":
        return gemini_home(environ) / "settings.json"
    return Path(os.path.abspath(directory or os.getcwd())) / ".gemini" / "settings.json"


def _folder_trust(environ: Mapping[str, str], project: str) -> tuple[bool, bool | None]:
    """(folder trust enabled, whether ``project`` is trusted: True/False/None when no rule)."""
    user, _raw = hookfile.load(settings_path("user", None, environ))
    enabled = ((user.get("security") or {}).get("folderTrust") or {}).get("enabled") is True
    try:
        rules = json.loads((gemini_home(environ) / "trustedFolders.json").read_text())
    except (OSError, ValueError):
        rules = {}
    best: tuple[int, str] | None = None
    real = os.path.realpath(project)
    for rule, level in (rules.items() if isinstance(rules, dict) else ()):
        root = os.path.dirname(rule) if level == "TRUST_PARENT" else rule
        root = os.path.realpath(root)
        if (real == root or real.startswith(root.rstrip("/") + "/")) and (best is None or len(rule) > best[0]):
            best = (len(rule), str(level))
    trusted = None if best is None else best[1] in ("TRUST_FOLDER", "TRUST_PARENT")
    return enabled, trusted


def install(scope: str, directory: str | None, command: str | None, environ: dict[str, str] | None = None,
            trust_project: bool = False) -> list[Change]:
    environ = dict(os.environ) if environ is None else environ
    path = settings_path(scope, directory, environ)
    if scope == "project":
        enabled, trusted = _folder_trust(environ, str(path.parent.parent))
        if enabled and not trusted:
            raise SettingsError(f"Gemini runs no project hook in {path.parent.parent}: folder trust is on and the "
                                "folder is not trusted; trust it in Gemini (it asks on start), or install with --user")
    return [hookfile.install(path, SPEC, command)]


def uninstall(scope: str, directory: str | None, environ: dict[str, str] | None = None) -> list[Change]:
    environ = dict(os.environ) if environ is None else environ
    return [hookfile.uninstall(settings_path(scope, directory, environ), SPEC)]


def _switched_off(settings: Mapping[str, Any], where: Path) -> list[Check]:
    config = settings.get("hooksConfig") or {}
    out = []
    if config.get("enabled") is False:
        out.append(Check(AGENT, "gemini.hooks.enabled", "error", f"{where} sets hooksConfig.enabled = false: "
                         "Gemini runs no hook at all", "remove that setting"))
    disabled = config.get("disabled") or []
    if isinstance(disabled, list) and any(d == HOOK_NAME or (isinstance(d, str) and "warden hook gemini" in d)
                                          for d in disabled):
        out.append(Check(AGENT, "gemini.hooks.disabled", "error", f"{where} lists Warden's hook in "
                         "hooksConfig.disabled", "remove it from that list"))
    return out


def doctor_checks(environ: Mapping[str, str] | None = None, project_dir: str | None = None,
                  *, probe_binary: bool = True) -> list[Check]:
    environ = dict(os.environ) if environ is None else dict(environ)
    checks: list[Check] = []
    found_any = False
    for scope in SCOPES:
        path = settings_path(scope, project_dir, environ)
        try:
            data, _raw = hookfile.load(path)
        except SettingsError as exc:
            checks.append(Check(AGENT, f"gemini.settings.{scope}", "error", str(exc), f"fix {path}"))
            continue
        checks.extend(_switched_off(data, path))
        present = hookfile.installed_entries(data, SPEC)
        if not present:
            continue
        found_any = True
        missing = [e for e in SPEC.events if e not in present]
        if missing:
            checks.append(Check(AGENT, f"gemini.hooks.{scope}", "error", f"{path} lacks Warden's hooks for "
                                f"{', '.join(missing)}", f"run `warden install gemini --{scope}`"))
        else:
            checks.append(Check(AGENT, f"gemini.hooks.{scope}", "ok", f"Warden's hooks are in {path}"))
        if scope == "project":
            enabled, trusted = _folder_trust(environ, str(path.parent.parent))
            if enabled and not trusted:
                checks.append(Check(AGENT, "gemini.project.trusted", "error",
                                    f"Gemini skips every project hook in {path.parent.parent}: folder trust is on "
                                    "and the folder is not trusted", "trust the folder in Gemini, or install with "
                                    "--user"))
    if not found_any:
        checks.append(Check(AGENT, "gemini.hooks", "error", "Warden's hooks are not installed for Gemini CLI",
                            "run `warden install gemini --user`"))
    if probe_binary:
        version = binary_version("gemini", environ, None)
        checks.extend(version_checks(AGENT, "gemini", version, TESTED_VERSION, refuses_newer=False))
    return checks

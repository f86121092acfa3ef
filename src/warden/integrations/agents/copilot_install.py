"""`warden install|uninstall copilot`, and the doctor checks for Copilot's silent-skip states.

User hooks live under ``hooks`` in ``$COPILOT_HOME/settings.json`` (default ``~/.copilot``);
repository hooks in ``<repo>/.github/hooks/*.json`` (Warden writes its own ``warden.json``).
Copilot loads repository hooks only in folders it trusts (``trustedFolders`` in
``$COPILOT_HOME/config.json``, formerly ``trusted_folders``, ``--trust-folder``, or ``COPILOT_ALLOW_ALL``) and skips them
silently otherwise, so a project install checks that trust (``--trust-project`` records it) and
:func:`doctor_checks` reports a repository whose hooks Copilot would not run.
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

AGENT = "copilot"
TESTED_VERSION = "1.0.102"
HOOK_TIMEOUT = 30  # seconds; Warden's own deadline (8 s) answers first, failing closed
EVENTS = ("preToolUse", "permissionRequest", "postToolUse", "userPromptSubmitted", "sessionStart", "sessionEnd",
          "agentStop")
SPEC = HookSpec(
    agent=AGENT,
    events=dict.fromkeys(EVENTS),
    handler=lambda command, event: {"type": "command", "bash": f"{command} --event {event}",
                                    "timeoutSec": HOOK_TIMEOUT},
    grouped=False,
    command_key="bash",
    top={"version": 1},
)
SCOPES = ("project", "user")
SCOPE_HELP = {"project": "<dir>/.github/hooks/warden.json (the folder must be trusted by Copilot).",
              "user": "$COPILOT_HOME/settings.json (default ~/.copilot)."}
NEXT_STEP = "Copilot CLI runs the hooks from its next start; `warden doctor` checks that it will."


def copilot_home(environ: Mapping[str, str]) -> Path:
    configured = environ.get("COPILOT_HOME")
    return Path(configured) if configured else Path(environ.get("HOME") or Path.home()) / ".copilot"


def hooks_path(scope: str, directory: str | None, environ: Mapping[str, str]) -> Path:
    if scope == "user":
        return copilot_home(environ) / "settings.json"
    return Path(os.path.abspath(directory or os.getcwd())) / ".github" / "hooks" / "warden.json"


def _config(environ: Mapping[str, str]) -> tuple[Path, str, dict[str, Any]]:
    """config.json: its path, its leading ``//`` comment lines (Copilot writes a header), its JSON."""
    path = copilot_home(environ) / "config.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return path, "", {}
    lines = text.splitlines(keepends=True)
    header = "".join(line for line in lines if line.lstrip().startswith("//"))
    body = "".join(line for line in lines if not line.lstrip().startswith("//"))
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError as exc:
        raise SettingsError(f"{path} is not valid JSON ({exc}); fix it, then retry") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must hold a JSON object")
    return path, header, data


def folder_trusted(environ: Mapping[str, str], folder: str) -> bool:
    if environ.get("COPILOT_ALLOW_ALL", "").lower() in ("1", "true"):
        return True
    _path, _header, data = _config(environ)
    real = os.path.realpath(folder)
    for trusted in _trusted(data):
        root = os.path.realpath(str(trusted))
        if real == root or real.startswith(root.rstrip("/") + "/"):
            return True
    return False


_KEYS = ("trustedFolders", "trusted_folders")  # Copilot renamed the key and migrates old files on start


def _trusted(data: Mapping[str, Any]) -> list[str]:
    return [str(f) for key in _KEYS for f in (data.get(key) or []) if isinstance(data.get(key), list)]


def _trust(environ: Mapping[str, str], folder: str) -> Change:
    path, header, data = _config(environ)
    folders = list(data.get("trustedFolders") or [])
    if folder in _trusted(data):
        return Change(path, False, None, [], 0)
    # an empty backup records that the file did not exist, so uninstall knows the trust was ours
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = hookfile.backup(path, path.read_bytes() if path.exists() else b"")
    data["trustedFolders"] = [*folders, folder]
    hookfile.write_atomic(path, (header + json.dumps(data, indent=2) + "\n").encode("utf-8"), hookfile.mode_of(path))
    return Change(path, True, saved, ["trustedFolders"], 0)


def _untrust(environ: Mapping[str, str], folder: str) -> Change:
    """Take back a trust Warden recorded: only when a pre-install backup shows it was not there."""
    path, header, data = _config(environ)
    backups = hookfile.backups(path)
    if folder not in _trusted(data) or not backups:
        return Change(path, False, None, [], 0)
    try:
        before = json.loads("".join(line for line in backups[0].read_text().splitlines(keepends=True)
                                    if not line.lstrip().startswith("//")) or "{}")
    except (OSError, ValueError):
        return Change(path, False, None, [], 0)
    if folder in _trusted(before):
        return Change(path, False, None, [], 0)  # the user trusted it before Warden did
    for key in _KEYS:
        if isinstance(data.get(key), list):
            data[key] = [f for f in data[key] if f != folder]
            if not data[key] and key not in before:
                del data[key]
    if data == before:
        original = backups[0].read_bytes()
        if original:
            hookfile.write_atomic(path, original, hookfile.mode_of(path))
        else:
            path.unlink()
    else:
        hookfile.write_atomic(path, (header + json.dumps(data, indent=2) + "\n").encode("utf-8"),
                              hookfile.mode_of(path))
    return Change(path, True, None, [], 1)


def install(scope: str, directory: str | None, command: str | None, environ: dict[str, str] | None = None,
            trust_project: bool = False) -> list[Change]:
    environ = dict(os.environ) if environ is None else environ
    path = hooks_path(scope, directory, environ)
    changes = []
    if scope == "project":
        repo = str(path.parent.parent.parent)
        if not folder_trusted(environ, repo):
            if not trust_project:
                raise SettingsError(
                    f"Copilot skips the hooks in {path.parent} until it trusts the folder {repo}; trust it in "
                    "Copilot (it asks on first start), rerun with --trust-project to let Warden record the trust, "
                    "or install with --user")
            changes.append(_trust(environ, repo))
    return [hookfile.install(path, SPEC, command), *changes]


def uninstall(scope: str, directory: str | None, environ: dict[str, str] | None = None) -> list[Change]:
    environ = dict(os.environ) if environ is None else environ
    path = hooks_path(scope, directory, environ)
    changes = [hookfile.uninstall(path, SPEC)]
    if scope == "project":
        changes.append(_untrust(environ, str(path.parent.parent.parent)))
    return changes


def doctor_checks(environ: Mapping[str, str] | None = None, project_dir: str | None = None,
                  *, probe_binary: bool = True) -> list[Check]:
    environ = dict(os.environ) if environ is None else dict(environ)
    checks: list[Check] = []
    found_any = False
    for scope in SCOPES:
        path = hooks_path(scope, project_dir, environ)
        try:
            data, _raw = hookfile.load(path)
        except SettingsError as exc:
            checks.append(Check(AGENT, f"copilot.hooks.{scope}", "error", str(exc), f"fix {path}"))
            continue
        present = hookfile.installed_entries(data, SPEC)
        if not present:
            continue
        found_any = True
        missing = [e for e in SPEC.events if e not in present]
        stale = [e for e, entries in present.items() if not any(f"--event {e}" in h.get("bash", "")
                                                                  for _g, _h, h in entries)]
        if missing or stale:
            checks.append(Check(AGENT, f"copilot.hooks.{scope}", "error", f"{path}: Warden's hooks for "
                                f"{', '.join(missing + stale)} are missing or do not name their event",
                                f"run `warden install copilot --{scope}`"))
        else:
            checks.append(Check(AGENT, f"copilot.hooks.{scope}", "ok", f"Warden's hooks are in {path}"))
        if scope == "project":
            repo = str(path.parent.parent.parent)
            try:
                trusted = folder_trusted(environ, repo)
            except SettingsError as exc:
                checks.append(Check(AGENT, "copilot.config", "error", str(exc)))
                continue
            if not trusted:
                checks.append(Check(AGENT, "copilot.folder.trusted", "error",
                                    f"Copilot silently skips the repository hooks in {path.parent}: it does not "
                                    f"trust {repo}", "trust the folder in Copilot, or `warden install copilot "
                                    "--project --trust-project`"))
    if not found_any:
        checks.append(Check(AGENT, "copilot.hooks", "error", "Warden's hooks are not installed for Copilot CLI",
                            "run `warden install copilot --user`"))
    if probe_binary:
        version = binary_version("copilot", environ, {"COPILOT_AUTO_UPDATE": "false"})
        checks.extend(version_checks(AGENT, "copilot", version, TESTED_VERSION, refuses_newer=True))
    return checks

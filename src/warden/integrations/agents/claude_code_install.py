"""Where Claude Code keeps its hooks, and how Warden's entries look there (see hookfile)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from warden.integrations.agents import hookfile
from warden.integrations.agents.hookfile import HookSpec

HOOK_TIMEOUT = 30  # seconds; Warden's own deadline (8 s) answers first, failing closed
# A queued approval waits in the PermissionRequest hook (in its own process, not the daemon) for
# up to its `expires`; Warden's deadline there ends the wait with a deny before Claude Code's timeout.
APPROVAL_DEADLINE = 1800
APPROVAL_TIMEOUT = APPROVAL_DEADLINE + 60


def _handler(command: str, event: str) -> dict[str, Any]:
    if event == "PermissionRequest":
        return {"type": "command", "command": f"{command} --deadline {APPROVAL_DEADLINE} --no-daemon",
                "timeout": APPROVAL_TIMEOUT}
    return {"type": "command", "command": command, "timeout": HOOK_TIMEOUT}


SPEC = HookSpec(
    agent="claude-code",
    # event -> matcher (None: the event takes no matcher)
    events={"PreToolUse": "*", "PostToolUse": "*", "UserPromptSubmit": None, "SessionStart": None,
            "SessionEnd": None, "Stop": None, "PermissionRequest": "*"},
    handler=_handler,
)


def warden_command() -> str:
    """This installation's absolute `warden hook claude-code` (for callers that want it)."""
    return hookfile.warden_command(SPEC.agent)


def settings_path(scope: str, project_dir: str | None = None, environ: dict[str, str] | None = None) -> Path:
    environ = dict(os.environ) if environ is None else environ
    if scope == "user":
        config = environ.get("CLAUDE_CONFIG_DIR")
        base = Path(config) if config else Path(environ.get("HOME") or Path.home()) / ".claude"
        return base / "settings.json"
    if scope == "local":
        return Path(project_dir or os.getcwd()) / ".claude" / "settings.local.json"
    return Path(project_dir or os.getcwd()) / ".claude" / "settings.json"




SCOPES = ("project", "user", "local")
SCOPE_HELP = {
    "project": "This project: <dir>/.claude/settings.json (the default).",
    "user": "Every project: ~/.claude/settings.json ($CLAUDE_CONFIG_DIR).",
    "local": "Uncommitted: <dir>/.claude/settings.local.json.",
}
NEXT_STEP = "Claude Code picks the hooks up at its next start; check with `/hooks` inside Claude Code."


def install(scope: str, directory: str | None, command: str | None, environ: dict[str, str] | None = None,
            trust_project: bool = False) -> list[hookfile.Change]:
    # trust_project: Claude Code loads a project's hooks without a separate trust step
    return [hookfile.install(settings_path(scope, directory, environ), SPEC, command)]


def uninstall(scope: str, directory: str | None, environ: dict[str, str] | None = None) -> list[hookfile.Change]:
    return [hookfile.uninstall(settings_path(scope, directory, environ), SPEC)]

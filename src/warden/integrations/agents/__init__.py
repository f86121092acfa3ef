"""One module per agent: its hook payloads -> Action, a Verdict -> its wire answer.

Each agent module is imported only when an event for that agent has to be answered (by the daemon
or, without one, in the hook process); the hook runner (:mod:`warden.integrations.hook`) names
them by string so the hot path does not import them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from warden.integrations.agents.checks import Check

# agent -> its installer module, which offers SCOPES, install, uninstall and doctor_checks
INSTALLERS = {
    "claude-code": "warden.integrations.agents.claude_code_install",
    "codex": "warden.integrations.agents.codex_install",
    "gemini": "warden.integrations.agents.gemini_install",
    "copilot": "warden.integrations.agents.copilot_install",
    "cursor": "warden.integrations.agents.cursor_install",
}


def doctor_checks(agent: str | None = None, environ: Mapping[str, str] | None = None,
                  project_dir: str | None = None, *, probe_binary: bool = True) -> list[Check]:
    """Every doctor finding for one agent (or all that have checks): for `warden doctor`."""
    import importlib

    found: list[Check] = []
    for name in [agent] if agent else list(INSTALLERS):
        module = importlib.import_module(INSTALLERS[name])
        check = getattr(module, "doctor_checks", None)
        if check is not None:
            found.extend(check(environ, project_dir, probe_binary=probe_binary))
    return found

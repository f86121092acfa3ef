"""Claude Code sandbox mode (``sandbox.claude_code: true``): allowed Bash runs under ``warden exec``.

The PreToolUse answer carries ``updatedInput`` with the command rewritten by
:func:`warden.adapters.exec.wrap_for_claude`; Claude Code runs the rewritten command, so its exit
code and output reach the model as the command's own. An ``ask`` is rewritten too, with a
one-time grant (:mod:`warden.adapters.exec.grants`) so that ``warden exec`` honours the approval
the human gives in Claude Code's prompt. A ``deny`` is never rewritten: it does not run at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROFILE = "default"


def sandbox_mode(gw: Any, workspace: str) -> bool:
    try:
        return bool((gw.policy_for(workspace).sandbox or {}).get("claude_code"))
    except Exception:
        return False  # a policy that does not load has already denied


def sandboxed_input(gw: Any, payload: Mapping[str, Any], decision: str) -> dict[str, Any] | None:
    """The rewritten ``tool_input`` for an allowed or asked Bash call in sandbox mode, else None."""
    tool_input = payload.get("tool_input")
    if payload.get("tool_name") != "Bash" or decision == "deny" or not isinstance(tool_input, Mapping):
        return None
    command = tool_input.get("command")
    workspace = str(payload.get("workspace") or gw.workspace_for(str(payload.get("cwd") or "")))
    if not isinstance(command, str) or not sandbox_mode(gw, workspace):
        return None
    from warden.adapters.exec import wrap_for_claude

    grant = ""
    if decision == "ask":
        from warden.adapters.exec.grants import issue

        grant = issue(gw.home, command, gw.last_decision_id or "")
    return {**tool_input, "command": wrap_for_claude(command, workspace, PROFILE, grant)}

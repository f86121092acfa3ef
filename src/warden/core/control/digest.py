"""What an approval is bound to.

``action_digest`` is the identity of one concrete action: the tool, a hash of its normalized
arguments, the workspace, the actor and the session. Any change to the command, to who asks or
to the session yields a different digest, so an approval given for one action never covers
another.

``command_shape`` is coarser, for grants of scope ``session`` or a duration: the tool plus, for
shell commands, each simple command's program and its first non-option argument (``git push``,
``npm install``); for file tools the resolved path; for web tools the host; for MCP tools the
tool name. A session grant for ``git push origin main`` therefore also covers
``git push origin feature`` in that session under the same rule, but not ``git reset --hard``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from warden.core.action import Action

# Claude Code rewrites these between a refused call and its retry; they do not change what runs.
_VOLATILE_KEYS = frozenset({"description", "timeout"})


def normalized_input(action: Action) -> dict[str, Any]:
    return {k: v for k, v in sorted(action.input.items()) if k not in _VOLATILE_KEYS}


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode(
        "utf-8", "surrogatepass")


def input_hash(action: Action) -> str:
    return hashlib.sha256(_canonical(normalized_input(action))).hexdigest()


def action_digest(action: Action) -> str:
    body = {
        "tool": action.tool,
        "input": input_hash(action),
        "workspace": action.workspace,
        "actor": action.actor.id,
        "agent": action.actor.agent,
        "session": action.session,
    }
    return hashlib.sha256(_canonical(body)).hexdigest()


def _first_operand(argv: Iterable[str]) -> str:
    for word in list(argv)[1:]:
        if not word.startswith("-"):
            return word
    return ""


def command_shape(action: Action, commands: Iterable[Any] = (), hosts: Iterable[str] = (),
                  paths: Iterable[Any] = ()) -> str:
    """The coarse shape a ``session``/duration grant covers (see the module docstring)."""
    if action.tool == "Bash":
        parts = []
        for cmd in commands:
            program = getattr(cmd, "program", "") or "<opaque>"
            parts.append(f"{program} {_first_operand(getattr(cmd, 'argv', ()))}".strip())
        return "Bash:" + ";".join(sorted(set(parts))) if parts else "Bash:" + (action.command or "")
    if action.tool in ("WebFetch", "WebSearch"):
        return f"{action.tool}:" + ",".join(sorted(set(hosts)))
    file_path = action.input.get("file_path") if isinstance(action.input, Mapping) else None
    if isinstance(file_path, str):
        resolved = [getattr(p, "path", "") for p in paths] or [file_path]
        return f"{action.tool}:" + ",".join(sorted(set(resolved)))
    return action.tool

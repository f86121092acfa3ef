"""Action: the only type adapters hand inward.

Actions arrive in Claude Code's hook shape (``tool_name``, ``tool_input``, ``cwd``,
``session_id``, ``hook_event_name``) plus optional ``actor`` and ``context`` objects.
:func:`action_from_payload` validates that shape and raises :class:`ActionError` with a
message a user can act on; callers turn that into a deny verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from warden.core.limits import MAX_DEPTH, MAX_PAYLOAD_BYTES, MAX_STRING  # noqa: F401 - re-exported

KNOWN_TOOLS = frozenset(
    {"Bash", "Read", "Write", "Edit", "MultiEdit", "NotebookEdit", "WebFetch", "WebSearch", "Glob", "Grep",
     "LS", "Task", "TodoWrite", "NotebookRead", "Prompt"}
)


ACTOR_DETAILS = ("agent_version", "user", "host", "email")


class ActionError(ValueError):
    """The payload is not an action we can judge; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Actor:
    id: str = ""  # a human or service identity ("alice@example.com")
    agent: str = ""  # which agent acts ("claude-code", "cursor", "ci-bot")
    roles: tuple[str, ...] = ()
    agent_version: str = ""  # the agent's own version ("2.1.328"), when the adapter can tell
    user: str = ""  # OS account the agent runs as
    host: str = ""  # machine name
    email: str = ""  # git user.email on that machine

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "agent": self.agent, "roles": list(self.roles)}
        for key in ("agent_version", "user", "host", "email"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True, slots=True)
class Action:
    tool: str
    input: Mapping[str, Any]
    cwd: str = ""
    workspace: str = ""  # root the agent is meant to work in; defaults to cwd
    session: str = ""
    event: str = "PreToolUse"
    tool_use_id: str = ""
    actor: Actor = field(default_factory=Actor)
    context: Mapping[str, str] = field(default_factory=dict)  # environment, branch, ...
    tainted: bool = False  # set by the control loop (never from the payload): untrusted content entered

    @property
    def is_mcp(self) -> bool:
        return self.tool.startswith("mcp__")

    @property
    def mcp_server(self) -> str:
        return self.tool.split("__")[1] if self.is_mcp and self.tool.count("__") >= 2 else ""

    @property
    def command(self) -> str | None:
        cmd = self.input.get("command") if self.tool == "Bash" else None
        return cmd if isinstance(cmd, str) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "tool_name": self.tool,
            "tool_input": dict(self.input),
            "cwd": self.cwd,
            "workspace": self.workspace,
            "session_id": self.session,
            "hook_event_name": self.event,
            "tool_use_id": self.tool_use_id,
            "actor": self.actor.to_json(),
            "context": dict(self.context),
        }


def _str(payload: Mapping[str, Any], key: str, default: str = "") -> str:
    value = payload.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ActionError(f"field {key!r} must be a string, got {type(value).__name__}")
    if len(value) > MAX_STRING:
        raise ActionError(f"field {key!r} is {len(value)} characters; the limit is {MAX_STRING}")
    return value


def _check_bounds(value: Any, where: str, depth: int = 0) -> None:
    """Every string within limits and nesting bounded: larger input is denied, not truncated."""
    if depth > MAX_DEPTH:
        raise ActionError(f"{where} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ActionError(f"{where} is {len(value)} characters; the limit is {MAX_STRING}")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _check_bounds(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_bounds(v, f"{where}[{i}]", depth + 1)


def _check_tool_input(tool: str, tool_input: Mapping[str, Any]) -> None:
    _check_bounds(tool_input, "tool_input")
    required = {
        "Bash": ("command",),
        "Read": ("file_path",),
        "Write": ("file_path",),
        "Edit": ("file_path",),
        "MultiEdit": ("file_path",),
        "WebFetch": ("url",),
        "WebSearch": ("query",),
    }.get(tool, ())
    for key in required:
        if not isinstance(tool_input.get(key), str):
            raise ActionError(f"{tool} needs a string tool_input.{key}")


def action_from_payload(payload: Any, *, default_cwd: str = "") -> Action:
    """Validate a Claude-Code-shaped payload and build an :class:`Action`."""
    if not isinstance(payload, Mapping):
        raise ActionError(f"an action must be a JSON object, got {type(payload).__name__}")
    tool = _str(payload, "tool_name")
    event = _str(payload, "hook_event_name", "PreToolUse") or "PreToolUse"
    if event == "UserPromptSubmit" and not tool:
        tool = "Prompt"
        tool_input: Any = {"prompt": _str(payload, "prompt")}
    else:
        tool_input = payload.get("tool_input", {})
    if not tool:
        raise ActionError("missing tool_name (e.g. \"Bash\", \"Read\", \"mcp__server__tool\")")
    if tool not in KNOWN_TOOLS and not tool.startswith("mcp__"):
        raise ActionError(f"unknown tool {tool!r}: expected one of {sorted(KNOWN_TOOLS)} or mcp__server__tool")
    if tool_input is None:
        tool_input = {}
    if not isinstance(tool_input, Mapping):
        raise ActionError(f"tool_input must be a JSON object, got {type(tool_input).__name__}")
    _check_tool_input(tool, tool_input)
    cwd = _str(payload, "cwd", default_cwd) or default_cwd
    workspace = _str(payload, "workspace") or cwd

    actor_raw = payload.get("actor") or {}
    if not isinstance(actor_raw, Mapping):
        raise ActionError("actor must be an object like {\"id\": ..., \"agent\": ..., \"roles\": [...]}")
    roles = actor_raw.get("roles") or ()
    if isinstance(roles, str):
        roles = (roles,)
    if not isinstance(roles, (list, tuple)) or not all(isinstance(r, str) for r in roles):
        raise ActionError("actor.roles must be a list of strings")
    actor = Actor(id=_str(actor_raw, "id"), agent=_str(actor_raw, "agent"), roles=tuple(roles),
                  **{k: _str(actor_raw, k) for k in ACTOR_DETAILS})

    context_raw = payload.get("context") or {}
    if not isinstance(context_raw, Mapping):
        raise ActionError("context must be an object like {\"environment\": \"prod\", \"branch\": \"main\"}")
    context = {str(k): str(v) for k, v in context_raw.items() if isinstance(v, (str, int, float, bool))}

    return Action(
        tool=tool,
        input=dict(tool_input),
        cwd=cwd,
        workspace=workspace,
        session=_str(payload, "session_id"),
        event=event,
        tool_use_id=_str(payload, "tool_use_id"),
        actor=actor,
        context=context,
    )

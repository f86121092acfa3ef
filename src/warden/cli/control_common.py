"""What the control commands (approvals, kill, resume, status) share: the store, the identity, audit."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warden.cli.common import fail

# Exit codes of `warden approvals`, `warden kill`, `warden resume` (docs/approvals.md#exit-codes).
EXIT_OK = 0
EXIT_REFUSED = 1  # the vote or change was refused (self-approval, expired, decided, not an approver...)
EXIT_USAGE = 2  # bad arguments (click's own code)
EXIT_UNKNOWN = 3  # no such request
EXIT_STATE = 4  # the state store cannot be used (locked, read-only, corrupt, tampered)

# Environment variables that show a command runs inside an agent's tool call: approvals given
# there would be the agent approving itself.
AGENT_MARKERS = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CODEX_SANDBOX", "GEMINI_CLI", "CURSOR_AGENT",
                 "WARDEN_IN_SANDBOX")


def warden_home(environ: Mapping[str, str]) -> Path:
    from warden.adapters.policy_files import warden_home as home

    return home(environ)


def open_store() -> Any:
    from warden.adapters.state import open_state
    from warden.ports import StateError

    try:
        return open_state(warden_home(os.environ))
    except StateError as exc:
        fail(str(exc), "check $WARDEN_HOME and $WARDEN_STATE_DB", code=EXIT_STATE)


def identity(environ: Mapping[str, str] | None = None) -> tuple[str, tuple[str, ...]]:
    """(who runs this command, their roles): $WARDEN_ACTOR, else git's user.email, else user@host.

    Roles come from ``$WARDEN_HOME/roles.yaml`` (``id: [role, ...]``), a file the agent's own
    guards protect, not from anything the approver types.
    """
    env = os.environ if environ is None else environ
    try:
        from warden.adapters.identity import local_actor  # type: ignore[import-not-found,unused-ignore]

        ident = str(local_actor(env, os.getcwd())["id"])
    except ImportError:
        import getpass
        import socket

        ident = env.get("WARDEN_ACTOR", "").strip() or f"{getpass.getuser()}@{socket.gethostname()}"
    return ident, roles_of(ident, env)


def roles_of(ident: str, environ: Mapping[str, str]) -> tuple[str, ...]:
    path = warden_home(environ) / "roles.yaml"
    try:
        text = path.read_text()
    except OSError:
        return ()
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        fail(f"{path} is not valid YAML: {exc}", "fix it: a mapping of identity -> list of roles", code=EXIT_STATE)
    roles = data.get(ident, []) if isinstance(data, dict) else []
    return tuple(str(r) for r in (roles if isinstance(roles, list) else [roles]))


def inside_agent(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return next((m for m in AGENT_MARKERS if env.get(m, "").strip() not in ("", "0")), "")


def audit(op: str, data: dict[str, Any], *, actor: Mapping[str, Any] | None = None, session: str = "",
          decision_id: str = "") -> str | None:
    """Record a control event; returns an error message instead of raising (the caller decides)."""
    from warden.gateway import Gateway

    gw = Gateway.from_env(cwd=os.getcwd())
    try:
        if not gw.audit:
            return None
        gw.record_control([{"op": op, "session": session, "tool": str(data.get("tool", "")), "tool_use_id": "",
                            "actor": dict(actor or {}), **data}], decision_id)
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        gw.close()


def ago(ts: float, now: float | None = None) -> str:
    secs = int((now or time.time()) - ts)
    sign = "" if secs >= 0 else "in "
    secs = abs(secs)
    text = f"{secs}s" if secs < 120 else f"{secs // 60}m" if secs < 7200 else f"{secs // 3600}h"
    return f"{sign}{text}" + (" ago" if not sign else "")

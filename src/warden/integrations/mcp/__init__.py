"""MCP gateway: one policy over every tool an agent reaches through MCP.

``stdio``    ``warden mcp proxy``: one client, one upstream stdio server
``http``     ``warden mcp gateway``: several upstreams (stdio and streamable HTTP) on one endpoint
``guard``    the policy side, shared by both: decisions, list filtering, pins, redaction, taint
``pins``     keyed digests of tool definitions per server identity, quarantine and approval
``clients``  ``warden mcp wrap|unwrap`` for client configuration files, and the doctor check
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Any

from warden.integrations.mcp.guard import Guard, GuardConfig
from warden.integrations.mcp.pins import PinFile, server_identity

__all__ = ["Guard", "GuardConfig", "PinFile", "build_guard", "server_identity"]

SERVER_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def check_server_name(name: str) -> str:
    """Server names become part of tool names and URIs: lower-case letters, digits, '-' (never '__')."""
    if not name or not set(name) <= SERVER_NAME_CHARS or name.startswith("-") or len(name) > 64:
        raise ValueError(f"MCP server name {name!r} must be 1-64 lower-case letters, digits or '-' (it becomes "
                         "part of every tool name, mcp__<name>__<tool>)")
    return name


def default_name(argv: list[str]) -> str:
    """A readable server name from a command line: the package or script, not the interpreter."""
    import re

    skip = {"node", "python", "python3", "npx", "uvx", "uv", "run", "bunx", "deno", "-y", "-m", "--yes", "stdio"}
    for word in argv:
        base = word.rstrip("/").rsplit("/", 1)[-1]
        if base in skip or base.startswith("-"):
            continue
        base = re.sub(r"(^server-|^mcp-server-|^mcp-|-mcp$|-server$|\.(js|py|mjs|cjs)$)", "", base.lower())
        base = re.sub(r"[^a-z0-9-]+", "-", base).strip("-")
        if base and base not in ("index", "dist", "main"):
            return base[:64]
    return "server"


def build_guard(server: str, origin: list[str] | str, *, environ: Mapping[str, str], cwd: str | None = None,
                approve_first: bool = False, max_result_bytes: int = 1024 * 1024,
                relist_after: float = 60.0, gateway: Any = None) -> Guard:
    from warden.gateway import Gateway

    gw = gateway or Gateway.from_env(cwd=cwd, environ=environ)
    session = environ.get("WARDEN_SESSION") or f"mcp-{uuid.uuid4().hex[:12]}"
    cfg = GuardConfig(server=check_server_name(server), identity=server_identity(server, origin),
                      approve_first=approve_first, max_result_bytes=max_result_bytes, relist_after=relist_after,
                      session=session,
                      cwd=cwd or os.getcwd())
    return Guard(cfg, gw, PinFile(gw.home), taint=state_taint_hook(gw))


def state_taint_hook(gw: Any) -> Any:
    """Taint found in a result goes to the control StateStore, where later decisions of the session read it.

    (Taint from an untrusted server itself is marked by the gateway's control gate when the call is
    decided: ``settings.trusted_mcp`` in the policy says which servers are trusted.)"""
    def add(session: str, server: str, tool: str, reason: str, source: str = "injection") -> None:
        import time

        from warden.core.control.taint import TaintOrigin

        gw.state().add_taint(session, TaintOrigin(source, reason[:500], tool, time.time()))

    return add

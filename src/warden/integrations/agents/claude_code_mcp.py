"""The ``warden`` MCP server with one tool, ``approve``: Claude Code's permission prompt in headless runs.

``claude -p ... --permission-prompt-tool mcp__warden__approve`` calls it with
``{tool_name, input, tool_use_id}`` whenever a tool call would need a permission dialog, which
headless runs do not have. Warden answers with exactly one text block holding
``{"behavior": "allow", "updatedInput": ...}`` once another person approved the queued request,
or ``{"behavior": "deny", "message": ...}`` (denied, expired, or no Warden request to wait for).
``warden install claude-code`` adds the server to the project's ``.mcp.json``.
"""

from __future__ import annotations

import json
import os
from typing import Any

MAX_WAIT_S = 1800.0


def decide_prompt(arguments: dict[str, Any], environ: dict[str, str], cwd: str) -> dict[str, Any]:
    """One permission prompt -> the answer object (blocking while the request waits)."""
    from warden.gateway import Gateway
    from warden.integrations.agents.approval_wait import find_for_payload, wait_and_answer

    tool_name = arguments.get("tool_name")
    tool_input = arguments.get("input")
    if not isinstance(tool_name, str) or not isinstance(tool_input, dict):
        return {"behavior": "deny", "message": "Warden: the permission prompt had no tool_name/input; denied"}
    gw = Gateway.from_env(cwd=cwd, environ=environ)
    try:
        payload = {"tool_name": tool_name, "tool_input": tool_input, "cwd": cwd,
                   "tool_use_id": str(arguments.get("tool_use_id") or ""),
                   "workspace": environ.get("CLAUDE_PROJECT_DIR", ""), "actor": {"agent": "claude-code"}}
        request = find_for_payload(gw, payload)
        if request is None:
            return {"behavior": "deny", "message": (
                "Warden: this action needs a person's approval and this headless run has no one to ask "
                "(the rule routes to the agent's own prompt). Route it to Warden's queue with "
                "`approval: {route: queue}` in the policy, or run it interactively")}
        answer = wait_and_answer(gw, request, float(environ.get("WARDEN_APPROVAL_WAIT", MAX_WAIT_S)), via="mcp")
        if answer.allow:
            return {"behavior": "allow", "updatedInput": tool_input}
        return {"behavior": "deny", "message": answer.message}
    except Exception as exc:  # fail closed, and say why
        return {"behavior": "deny", "message": f"Warden could not check the approval, so it is denied: {exc}"}
    finally:
        gw.close()


def serve() -> None:
    import anyio
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("warden")

    @server.tool(name="approve", structured_output=False,
                 description="Warden's permission prompt: waits for a person to approve a queued action.")
    async def approve(tool_name: str, input: dict[str, Any], tool_use_id: str = "") -> str:  # noqa: A002
        arguments = {"tool_name": tool_name, "input": input, "tool_use_id": tool_use_id}
        answer = await anyio.to_thread.run_sync(decide_prompt, arguments, dict(os.environ), os.getcwd())
        return json.dumps(answer)

    server.run("stdio")


MCP_NAME = "warden"


def mcp_entry(command: str) -> dict[str, Any]:
    """The `.mcp.json` entry for the server (command: this installation's warden executable)."""
    return {"type": "stdio", "command": command, "args": ["approvals", "mcp-server"]}


def install_mcp(project_dir: str, command: str) -> tuple[str, bool]:
    """Add (or refresh) the ``warden`` server in ``<project>/.mcp.json``; returns (path, changed)."""
    path = os.path.join(project_dir, ".mcp.json")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        data = {}
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); fix it, then rerun `warden install claude-code`") from None
    if not isinstance(data, dict) or not isinstance(data.setdefault("mcpServers", {}), dict):
        raise ValueError(f"{path} must be an object with an `mcpServers` object")
    entry = mcp_entry(command)
    if data["mcpServers"].get(MCP_NAME) == entry:
        return path, False
    data["mcpServers"][MCP_NAME] = entry
    tmp = path + ".warden-tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return path, True

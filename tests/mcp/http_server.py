"""A streamable-HTTP MCP server of our own, on the official SDK's MCPServer: `python http_server.py PORT`."""

from __future__ import annotations

import sys

import anyio
from mcp.server.mcpserver import MCPServer

TOKEN = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"
server = MCPServer("docs")


@server.tool()
def get_page(title: str) -> str:
    """Return a documentation page."""
    return f"page {title}"


@server.tool()
def delete_page(title: str) -> str:
    """Delete a documentation page."""
    return f"deleted {title}"


@server.tool()
def get_config() -> str:
    """Return the deployment configuration."""
    return f"token: {TOKEN}"


@server.resource("docs://index")
def index() -> str:
    """The index page."""
    return "index of docs"


if __name__ == "__main__":
    anyio.run(lambda: server.run_streamable_http_async(host="127.0.0.1", port=int(sys.argv[1])))

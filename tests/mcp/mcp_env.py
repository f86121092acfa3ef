"""Shared set-up for the MCP tests: the official SDK client talking to a server through `warden mcp proxy`.

Not conftest.py: several test folders have one, and `from conftest import` would pick any of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WARDEN = str(Path(sys.executable).parent / "warden")
TOY = str(HERE / "toy_server.py")
NODE_MODULES = REPO / "tests" / "e2e" / "node_modules" / "@modelcontextprotocol"
EVERYTHING = NODE_MODULES / "server-everything" / "dist" / "index.js"
FILESYSTEM = NODE_MODULES / "server-filesystem" / "dist" / "index.js"


def need_node_server(path: Path) -> str:
    if shutil.which("node") is None or not path.exists():
        reason = f"{path.parent.parent.name} not installed: run `npm ci` in tests/e2e"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the MCP tests)")
        pytest.skip(reason)
    return str(path)


class Env:
    """A temporary WARDEN_HOME/HOME and a workspace; `proxy_args` builds a proxied server command."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.warden_home = root / "warden-home"
        self.workspace = root / "project"
        for d in (self.home, self.warden_home, self.workspace / ".git"):
            d.mkdir(parents=True, exist_ok=True)
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
                    "WARDEN_HOME": str(self.warden_home), "WARDEN_MANAGED_POLICY": "", "LANG": "C.UTF-8"}

    def proxy_args(self, name: str, *server: str, flags: tuple[str, ...] = ("--approve-first",)) -> list[str]:
        return ["mcp", "proxy", "--name", name, *flags, "--", *server]

    @contextlib.asynccontextmanager
    async def client(self, name: str, *server: str, flags: tuple[str, ...] = ("--approve-first",),
                     direct: bool = False, **session_kw) -> AsyncIterator:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        if direct:
            params = StdioServerParameters(command=server[0], args=list(server[1:]), env=self.env,
                                           cwd=str(self.workspace))
        else:
            params = StdioServerParameters(command=WARDEN, args=self.proxy_args(name, *server, flags=flags),
                                           env=self.env, cwd=str(self.workspace))
        async with stdio_client(params) as (r, w), ClientSession(r, w, **session_kw) as session:
            await session.initialize()
            yield session

    def audit(self, kind: str | None = None) -> list[dict]:
        db = self.warden_home / "audit.db"
        if not db.exists():
            return []
        con = sqlite3.connect(db)
        try:
            rows = [json.loads(r[0]) for r in con.execute("select body from events order by seq")]
        finally:
            con.close()
        return [e for e in rows if kind is None or e.get("kind") == kind]

    def mcp_events(self, what: str) -> list[dict]:
        return [e for e in self.audit("mcp") if e.get("what") == what]

"""Representative actions ("probes") for each action class, in the hook payload shape the policy
engine judges. A probe is what an agent would send when it takes the path, so Warden's verdict on the
probe is Warden's verdict on the path."""

from __future__ import annotations

from typing import Any


def bash(command: str, cwd: str) -> dict[str, Any]:
    return {"tool_name": "Bash", "tool_input": {"command": command}, "cwd": cwd}


def local_agent_probes(root: str, branch: str) -> dict[str, dict[str, Any]]:
    """What a coding agent on a checkout can do with the tools every such agent has."""
    sep = "" if root.endswith("/") else "/"
    return {
        "read-code": {"tool_name": "Read", "tool_input": {"file_path": f"{root}{sep}README.md"}, "cwd": root},
        "write-code": {"tool_name": "Write", "tool_input": {"file_path": f"{root}{sep}src/main.py", "content": "x"}, "cwd": root},
        "run-shell": bash("make test", root),
        "push": bash(f"git push origin {branch}", root),
        "modify-workflow": {"tool_name": "Write", "tool_input": {"file_path": f"{root}{sep}.github/workflows/ci.yml",
                                                                 "content": "x"}, "cwd": root},
        # not a documentation page: what "reach the internet" means for an agent (docs reads are allowed)
        "fetch-network": {"tool_name": "WebFetch", "tool_input": {"url": "https://collector.example.net/in?id=42", "prompt": "read"}, "cwd": root},
        "install-deps": bash("npm install", root),
    }


def mcp_probe(server: str, root: str, tool: str = "call") -> dict[str, Any]:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in server) or "server"
    return {"tool_name": f"mcp__{safe}__{tool}", "tool_input": {}, "cwd": root}

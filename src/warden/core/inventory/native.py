"""The agents' own permission settings, evaluated for a probe action: what the agent would do on
its own (allow / ask / deny), before and apart from Warden. Recorded beside Warden's verdict."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

READ_TOOLS = frozenset({"Read", "Glob", "Grep", "LS", "NotebookRead"})
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})


def _wild(spec: str) -> re.Pattern[str]:
    # Claude Code: "npm run test:*" is a prefix rule, "*" elsewhere a wildcard; "**" spans directories.
    if spec.endswith(":*"):
        return re.compile(re.escape(spec[:-2]) + r"(?:\s.*)?\Z", re.S)
    out = []
    i = 0
    while i < len(spec):
        if spec.startswith("**", i):
            out.append(".*")
            i += 2
        elif spec[i] == "*":
            out.append(".*" if not any(c in spec for c in "/") else "[^/]*")
            i += 1
        else:
            out.append(re.escape(spec[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.S)


def claude_rule_matches(rule: str, payload: Mapping[str, Any]) -> bool:
    tool = str(payload.get("tool_name", ""))
    inp = payload.get("tool_input") or {}
    m = re.fullmatch(r"([A-Za-z0-9_\-*]+)(?:\((.*)\))?", rule.strip(), re.S)
    if not m:
        return False
    name, spec = m.group(1), m.group(2)
    if name.startswith("mcp__"):
        prefix = name.rstrip("*")
        return tool == name or (tool.startswith(prefix.rstrip("_") + "__") if name.count("__") == 1 or name.endswith("*") else False)
    if name != tool and not (name == "Edit" and tool in EDIT_TOOLS):
        return False
    if spec is None or spec in ("", "*"):
        return True
    if tool == "Bash":
        return bool(_wild(spec).match(str(inp.get("command", ""))))
    if tool == "WebFetch" and spec.startswith("domain:"):
        url = str(inp.get("url", ""))
        host = re.sub(r"^[a-z]+://", "", url).split("/")[0].split(":")[0]
        dom = spec[len("domain:"):]
        return host == dom or host.endswith("." + dom)
    path = str(inp.get("file_path", ""))
    spec_path = spec[2:] if spec.startswith("./") else spec.lstrip("/")
    return bool(_wild(spec_path).match(path)) or bool(_wild("**/" + spec_path).match(path))


def claude_native(permissions: Mapping[str, Any], mode: str, payload: Mapping[str, Any]) -> str:
    """deny rules, then ask, then allow, then the permission mode's default (as Claude Code does)."""
    for decision in ("deny", "ask", "allow"):
        rules = permissions.get(decision) or []
        if isinstance(rules, list) and any(isinstance(r, str) and claude_rule_matches(r, payload) for r in rules):
            return decision
    tool = str(payload.get("tool_name", ""))
    if mode == "bypassPermissions":
        return "allow"
    if mode == "plan":
        return "allow" if tool in READ_TOOLS else "deny"
    if tool in READ_TOOLS:
        return "allow"
    if mode == "acceptEdits" and tool in EDIT_TOOLS:
        return "allow"
    return "ask"


def codex_native(approval: str, sandbox: str, payload: Mapping[str, Any]) -> str:
    """Codex: the sandbox bounds what runs, the approval policy whether a person is asked."""
    tool = str(payload.get("tool_name", ""))
    if tool in READ_TOOLS:
        return "allow"
    writes = tool in EDIT_TOOLS or tool == "Bash"
    if sandbox == "read-only" and writes and approval == "never":
        return "deny"
    if approval == "never":
        return "allow"
    if approval in ("untrusted", "on-request") or (sandbox == "read-only" and writes):
        return "ask"
    return "allow" if sandbox in ("workspace-write", "danger-full-access") else "ask"


def hook_covers(matcher: str, tool: str) -> bool:
    """Claude-Code-style matcher: empty or * is every tool, else a name, A|B list or regex (searched)."""
    if matcher in ("", "*", ".*"):
        return True
    try:
        return re.search(matcher, tool) is not None
    except re.error:
        return matcher == tool

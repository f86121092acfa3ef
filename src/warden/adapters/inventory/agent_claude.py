"""Claude Code: settings layers (permissions allow/ask/deny, permission mode, hooks, sandbox)."""

from __future__ import annotations

from typing import Any

from warden.adapters.inventory.base import Scope, local_agent
from warden.adapters.inventory.files import as_list
from warden.core.inventory.commands import is_warden_command
from warden.core.inventory.native import claude_native

FILES = {"project": (".claude/settings.json", ".claude/settings.local.json"),
         "user": (".claude/settings.json",),
         "managed": ("managed-settings.json",)}
PRESENCE = ("CLAUDE.md", ".mcp.json", "CLAUDE.local.md")


def hook_entries(hooks: Any) -> tuple[list[str], list[str]]:
    """(matchers of PreToolUse entries that run Warden, other hook commands) from a Claude-shaped hooks map.
    Codex and Gemini use the same shape, which is why this is shared."""
    warden: list[str] = []
    other: list[str] = []
    if not isinstance(hooks, dict):
        return warden, other
    for event, entries in hooks.items():
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            matcher = entry.get("matcher") or ""
            for h in entry.get("hooks") or []:
                cmd = str(h.get("command", "")) if isinstance(h, dict) else ""
                if is_warden_command(cmd):
                    if event in ("PreToolUse", "BeforeTool"):
                        warden.append(str(matcher))
                elif cmd:
                    other.append(f"{event}: {cmd[:120]}")
    return warden, other


def detect(scope: Scope) -> None:
    files = [f for f in FILES.get(scope.kind, ()) if scope.files.exists(f)]
    present = [f for f in PRESENCE if scope.kind == "project" and scope.files.exists(f)]
    if not files and not present:
        return
    perms: dict[str, list[str]] = {"allow": [], "ask": [], "deny": []}
    mode = "default"
    warden: list[str] = []
    other: list[str] = []
    flags: dict[str, Any] = {}
    for rel in files:
        data = scope.files.mapping(rel, "json")
        p = data.get("permissions") or {}
        if isinstance(p, dict):
            for k in perms:
                perms[k] += [r for r in as_list(p.get(k)) if isinstance(r, str)]
            mode = str(p.get("defaultMode") or mode)
        w, o = hook_entries(data.get("hooks"))
        warden += w
        other += o
        for key in ("disableAllHooks", "enableAllProjectMcpServers"):
            if data.get(key):
                flags[key] = rel
        sandbox = data.get("sandbox")
        if isinstance(sandbox, dict):
            flags["sandbox"] = bool(sandbox.get("enabled"))
    where = scope.at(files[0] if files else present[0])
    if flags.get("disableAllHooks"):
        warden = []  # hooks are off: a Warden entry in the file does nothing
        scope.inv.finding("claude-hooks-disabled", "high", "Claude Code hooks are disabled",
                          f"{flags['disableAllHooks']} sets disableAllHooks, so no hook (Warden's included) runs; "
                          "remove it and run `warden install claude-code`.", scope.repo, scope.at(flags["disableAllHooks"], "disableAllHooks"))
    local_agent(scope, "claude-code", where, native=lambda probe: claude_native(perms, mode, probe),
                config=files, permission_mode=mode, permissions=perms, warden_hooks=warden, other_hooks=other,
                sandbox=flags.get("sandbox", False))
    if mode == "bypassPermissions":
        scope.inv.finding("claude-bypass-permissions", "high", "Claude Code runs with bypassPermissions",
                          "Every tool call runs without a prompt; only deny rules and hooks stand in the way. "
                          "Use defaultMode 'default' or 'acceptEdits', or make sure Warden's hook is installed.",
                          scope.repo, scope.at(files[0], "bypassPermissions") if files else where)
    if any(r in ("Bash", "Bash(*)", "Bash(:*)") for r in perms["allow"]):
        rel = next((f for f in files if '"Bash' in (scope.files.text(f) or "")), where.path)
        scope.inv.finding("claude-allow-any-shell", "high", "Claude Code allows every shell command",
                          "An allow rule 'Bash' lets the agent run any command unprompted; allow specific commands "
                          "(e.g. 'Bash(npm run test:*)') instead.", scope.repo, scope.at(rel, '"Bash'))
    if flags.get("enableAllProjectMcpServers"):
        scope.inv.finding("claude-all-project-mcp", "medium", "Every project MCP server is approved automatically",
                          "enableAllProjectMcpServers starts any server a commit adds to .mcp.json; approve servers "
                          "by name with enabledMcpjsonServers.", scope.repo,
                          scope.at(flags["enableAllProjectMcpServers"], "enableAllProjectMcpServers"))

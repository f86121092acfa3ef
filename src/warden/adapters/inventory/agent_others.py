"""Copilot (repository hooks, coding agent set-up), Gemini CLI (settings hooks, policy files) and Cursor
(hooks.json, CLI permissions): the agents whose configs are small enough to share one module."""

from __future__ import annotations

from typing import Any

from warden.adapters.inventory.agent_claude import hook_entries
from warden.adapters.inventory.base import Scope, local_agent
from warden.adapters.inventory.files import as_dict, as_list
from warden.core.inventory.commands import is_warden_command
from warden.core.inventory.model import Edge
from warden.core.inventory.native import claude_native, hook_covers
from warden.core.inventory.probes import bash

# Gemini tool names -> the Claude-shaped names probes use
GEMINI_TOOLS = {"run_shell_command": "Bash", "write_file": "Write", "replace": "Edit", "read_file": "Read",
                "web_fetch": "WebFetch", "google_web_search": "WebSearch", "glob": "Glob", "read_many_files": "Read"}
# Cursor hook events that gate (before*) -> the tools they see
CURSOR_EVENTS = {"beforeShellExecution": "Bash", "beforeMCPExecution": "mcp__.*", "beforeReadFile": "Read|Glob|Grep"}


def copilot(scope: Scope) -> None:
    if scope.kind != "project":
        hook_files = [".copilot/settings.json"] if scope.files.exists(".copilot/settings.json") else []
    else:
        hook_files = scope.files.find(".github/hooks/*.json")
    present = [f for f in (".github/copilot-instructions.md",) if scope.kind == "project" and scope.files.exists(f)]
    present += scope.files.find(".github/instructions/*.instructions.md") if scope.kind == "project" else []
    setup = ".github/workflows/copilot-setup-steps.yml"
    coding_agent = scope.kind == "project" and (scope.files.exists(setup) or scope.files.exists(setup[:-3] + "yaml"))
    if not (hook_files or present or coding_agent):
        return
    warden = []
    for rel in hook_files:
        hooks = scope.files.mapping(rel, "json").get("hooks")
        for h in (hooks or {}).get("preToolUse") or [] if isinstance(hooks, dict) else []:
            if isinstance(h, dict) and is_warden_command(str(h.get("bash") or h.get("command") or "")):
                warden.append("")
    where = scope.at((hook_files or present or [setup])[0])
    local_agent(scope, "copilot", where, config=hook_files, warden_hooks=warden)
    if coding_agent:
        # The cloud agent works on its own copilot/* branches and opens pull requests with a scoped token.
        agent_id = scope.inv.node(f"agent:{scope.repo}:copilot-coding-agent", "agent", "copilot-coding-agent",
                                  scope.repo, scope.at(setup), scope="project", warden_hooks=warden,
                                  note="GitHub's cloud agent; its MCP servers and firewall live in repository settings")
        token = scope.credential("GITHUB_TOKEN (copilot)", "per-task token of the coding agent", standing=False)
        for action, key, label, cmd in (("write-code", "branch:copilot/*", "copilot/* branches", "git push origin copilot/fix"),
                                        ("open-pr", "pulls", "pull requests", "gh pr create --fill"),
                                        ("run-shell", "ci", "Actions runner", "make test")):
            scope.inv.edge(Edge(agent_id, action, scope.target(key, label), scope.repo, scope.at(setup), credential=token,
                                authority="scoped", probe=bash(cmd, scope.root)))


def gemini(scope: Scope) -> None:
    rel = ".gemini/settings.json"
    has = scope.files.exists(rel)
    policies = scope.files.find(".gemini/policies/*.toml")
    present = scope.kind == "project" and scope.files.exists("GEMINI.md")
    if not (has or policies or present):
        return
    data = scope.files.mapping(rel, "json") if has else {}
    warden_raw, other = hook_entries(data.get("hooks") if isinstance(data, dict) else None)
    covers = []
    for m in warden_raw:
        names = [claude for g, claude in GEMINI_TOOLS.items() if hook_covers(m, g)] if m not in ("", "*") else [""]
        covers += names
    rules: list[dict[str, Any]] = []
    for p in policies:
        rules += [r for r in as_list(scope.files.mapping(p, "toml").get("rule")) if isinstance(r, dict)]
    tools = as_dict(data.get("tools"))
    perms = {"allow": [GEMINI_TOOLS.get(str(t).split("(")[0], str(t)) for t in as_list(tools.get("allowed"))],
             "deny": [GEMINI_TOOLS.get(str(t).split("(")[0], str(t)) for t in as_list(tools.get("exclude"))], "ask": []}
    for r in rules:
        name = GEMINI_TOOLS.get(str(r.get("toolName", "")), str(r.get("toolName", "")))
        bucket = {"allow": "allow", "deny": "deny", "ask_user": "ask"}.get(str(r.get("decision")))
        if name and bucket:
            perms[bucket].append(name)
    mode = "bypassPermissions" if as_dict(data.get("general")).get("defaultApprovalMode") == "yolo" else "default"
    local_agent(scope, "gemini", scope.at(rel if has else (policies or ["GEMINI.md"])[0]),
                native=lambda probe: claude_native(perms, mode, probe), config=[rel] if has else [],
                policy_files=policies, policy_rules=len(rules), warden_hooks=covers, other_hooks=other)
    if mode == "bypassPermissions":
        scope.inv.finding("gemini-yolo", "high", "Gemini CLI approves every tool call (yolo)",
                          "general.defaultApprovalMode is yolo; use 'default' or put Warden's BeforeTool hook in front.",
                          scope.repo, scope.at(rel, "yolo"))


def cursor(scope: Scope) -> None:
    hooks_rel, cli_rel = ".cursor/hooks.json", ".cursor/cli.json"
    rules = scope.files.find(".cursor/rules/*.mdc", ".cursor/rules/**/*.mdc") if scope.kind == "project" else []
    present = [f for f in (hooks_rel, cli_rel, ".cursorrules", ".cursor/mcp.json") if scope.files.exists(f)] + rules
    if not present:
        return
    data = scope.files.mapping(hooks_rel, "json") if scope.files.exists(hooks_rel) else {}
    covers = []
    hooks = data.get("hooks") if isinstance(data, dict) else None
    for event, entries in (hooks or {}).items() if isinstance(hooks, dict) else []:
        for h in entries if isinstance(entries, list) else []:
            if isinstance(h, dict) and is_warden_command(str(h.get("command", ""))) and event in CURSOR_EVENTS:
                covers.append(CURSOR_EVENTS[event])
    cli = scope.files.mapping(cli_rel, "json") if scope.files.exists(cli_rel) else {}
    p = as_dict(as_dict(cli).get("permissions"))
    # Cursor CLI rules look like Shell(git push) / Read(src/**) / Write(**): the same shape as Claude's.
    rename = {"Shell": "Bash"}
    perms = {k: [rename.get(r.split("(")[0], r.split("(")[0]) + r[len(r.split("(")[0]):] for r in as_list(p.get(k))
                 if isinstance(r, str)] for k in ("allow", "deny")}
    perms["ask"] = []
    local_agent(scope, "cursor", scope.at(present[0]), native=(lambda probe: claude_native(perms, "default", probe)) if p else None,
                config=present, warden_hooks=covers)


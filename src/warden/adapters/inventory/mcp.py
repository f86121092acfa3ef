"""MCP servers from every client's config: how each starts (command or URL), which environment
variables carry credentials (names only, never values), how it authenticates, and whether it runs
behind Warden's MCP proxy (``warden mcp proxy ... -- COMMAND``)."""

from __future__ import annotations

import re
import shlex
from typing import Any

from warden.adapters.inventory.base import Scope
from warden.adapters.inventory.files import as_dict, as_list
from warden.core.inventory.commands import looks_like_credential
from warden.core.inventory.model import Edge
from warden.core.inventory.probes import mcp_probe

# (scope kind, relative path, format, client agent, key holding the servers)
CLIENT_FILES = [
    ("project", ".mcp.json", "json", "claude-code", "mcpServers"),
    ("project", ".cursor/mcp.json", "json", "cursor", "mcpServers"),
    ("project", ".vscode/mcp.json", "jsonc", "copilot", "servers"),
    ("project", ".gemini/settings.json", "json", "gemini", "mcpServers"),
    ("project", ".codex/config.toml", "toml", "codex", "mcp_servers"),
    ("user", ".claude.json", "json", "claude-code", "mcpServers"),
    ("user", ".cursor/mcp.json", "json", "cursor", "mcpServers"),
    ("user", ".codeium/windsurf/mcp_config.json", "json", "windsurf", "mcpServers"),
    ("user", ".gemini/settings.json", "json", "gemini", "mcpServers"),
    ("user", ".config/Code/User/mcp.json", "jsonc", "copilot", "servers"),
    ("user", ".copilot/mcp-config.json", "json", "copilot", "mcpServers"),
    ("user", ".codex/config.toml", "toml", "codex", "mcp_servers"),
]
_VAR_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?|\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}|\$\{input:([A-Za-z0-9_-]+)\}")
_LOOPBACK = re.compile(r"^https?://(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?(?:/|$)")


def behind_warden(command: str, args: list[str]) -> tuple[bool, list[str]]:
    """(proxied, upstream argv): the server is started through `warden mcp proxy`."""
    argv = [command, *args]
    for i, word in enumerate(argv):
        base = word.rsplit("/", 1)[-1]
        if base == "warden" or (base == "-m" and i + 1 < len(argv) and argv[i + 1] == "warden"):
            j = i + (2 if base == "-m" else 1)
            if argv[j:j + 2] == ["mcp", "proxy"]:
                rest = argv[j + 2:]
                return True, rest[rest.index("--") + 1:] if "--" in rest else rest
    return False, argv


def servers_in(data: Any, key: str) -> list[tuple[str, dict[str, Any], str]]:
    """(name, entry, json path) for every server in a client config, including ~/.claude.json projects."""
    out: list[tuple[str, dict[str, Any], str]] = []
    if not isinstance(data, dict):
        return out
    block = data.get(key)
    if isinstance(block, dict):
        out += [(n, e, f"{key}.{n}") for n, e in block.items() if isinstance(e, dict)]
    projects = data.get("projects") if key == "mcpServers" else None
    if isinstance(projects, dict):
        for path, proj in projects.items():
            inner = proj.get("mcpServers") if isinstance(proj, dict) else None
            if isinstance(inner, dict):
                out += [(n, e, f"projects[{path}].mcpServers.{n}") for n, e in inner.items() if isinstance(e, dict)]
    return out


def describe(entry: dict[str, Any]) -> dict[str, Any]:
    """The parts of a server entry a reviewer needs; credential values never leave this function."""
    command = str(entry.get("command") or "")
    args = [str(a) for a in as_list(entry.get("args")) if isinstance(a, (str, int, float))]
    if command and not args and " " in command:
        try:
            command, *args = shlex.split(command)
        except ValueError:
            pass
    url = str(entry.get("url") or entry.get("serverUrl") or entry.get("httpUrl") or "")
    env = as_dict(entry.get("env"))
    headers = as_dict(entry.get("headers") or entry.get("http_headers"))
    cred_vars = sorted({k for k in env if looks_like_credential(str(k))})
    literal = sorted(k for k, v in env.items() if str(k) in cred_vars and isinstance(v, str) and v and not _VAR_REF.search(v))
    for k, v in headers.items():
        refs = [g for m in _VAR_REF.finditer(str(v)) for g in m.groups() if g]
        cred_vars += [r for r in refs if r not in cred_vars]
        if str(k).lower() in ("authorization", "x-api-key") and not refs and v:
            literal.append(f"header {k}")
    for arg in args:
        cred_vars += [g for m in _VAR_REF.finditer(arg) for g in m.groups() if g and looks_like_credential(g) and g not in cred_vars]
    if entry.get("bearer_token_env_var"):
        cred_vars.append(str(entry["bearer_token_env_var"]))
    if entry.get("oauth") or entry.get("auth") == "oauth" or isinstance(entry.get("oauth"), dict):
        auth = "oauth"
    elif any(str(k).lower() in ("authorization", "x-api-key") for k in headers) or entry.get("bearer_token_env_var"):
        auth = "header"
    elif cred_vars:
        auth = "env"
    else:
        auth = "none"
    proxied, upstream = behind_warden(command, args) if command else (False, [])
    transport = str(entry.get("type") or entry.get("transport") or ("http" if url else "stdio"))
    return {"transport": transport, "command": " ".join(upstream)[:300] if command else "", "url": url,
            "credential_vars": sorted(set(cred_vars)), "literal_secrets": literal, "auth": auth,
            "behind_warden_proxy": proxied}


def detect(scope: Scope) -> None:
    for kind, rel, fmt, client, key in CLIENT_FILES:
        if kind != scope.kind or not scope.files.exists(rel):
            continue
        data = scope.files.parsed(rel, fmt)
        for name, entry, jpath in servers_in(data, key):
            _server(scope, rel, client, name, entry, jpath)


def _server(scope: Scope, rel: str, client: str, name: str, entry: dict[str, Any], jpath: str) -> None:
    d = describe(entry)
    where = scope.at(rel, f'"{name}"') if not rel.endswith(".toml") else scope.at(rel, f"mcp_servers.{name}")
    tool = scope.inv.node(f"tool:{scope.repo}:mcp:{name}", "tool", f"MCP {name}", scope.repo, where,
                          type="mcp-server", clients=[client], config=[f"{rel}#{jpath}"], **d)
    agent = scope.inv.node(f"agent:{scope.repo}:{client}", "agent", client, scope.repo, where, scope=scope.kind)
    creds = [scope.credential(v, f"environment variable of MCP server {name}", standing=d["auth"] != "oauth")
             for v in d["credential_vars"]]
    controls = ["warden-mcp-proxy"] if d["behind_warden_proxy"] else []
    probe = mcp_probe(name, scope.root)
    for cred in creds or [""]:
        scope.inv.edge(Edge(agent, "call-tool", tool, scope.repo, where, credential=cred,
                            authority="scoped" if d["auth"] == "oauth" else "standing", probe=probe, controls=list(controls)))
    if d["url"]:
        host = re.sub(r"^[a-z]+://", "", d["url"]).split("/")[0]
        target = scope.target(f"host:{host}", host)
        scope.inv.edge(Edge(tool, "fetch-network", target, scope.repo, where, agent=False,
                            credential=creds[0] if creds else "", authority="standing"))
        if d["url"].startswith("http://") and not _LOOPBACK.match(d["url"]):
            scope.inv.finding("mcp-plain-http", "medium", f"MCP server {name} is reached over plain HTTP",
                              f"{d['url']} sends tool calls and any credential unencrypted; use https.", scope.repo, where)
    if d["literal_secrets"]:
        scope.inv.finding("mcp-literal-secret", "high", f"MCP server {name} has a credential written into its config",
                          f"{', '.join(d['literal_secrets'])} holds a value, not a ${{VAR}} reference: anyone who can "
                          "read the file has it. Move it to the environment or a secret manager and rotate it.",
                          scope.repo, where)
    if not d["behind_warden_proxy"] and (d["credential_vars"] or d["url"]):
        scope.inv.finding("mcp-unproxied-credential", "medium", f"MCP server {name} holds credentials outside Warden",
                          f"{client} calls {name} directly with {', '.join(d['credential_vars']) or 'a remote endpoint'}; "
                          "no policy or audit sits on those calls. " + (
                              f"Put it behind `warden mcp gateway` (a `url:` server entry for {d['url']})." if d["url"] else
                              f"Run `warden mcp wrap` for {rel}, or by hand: `warden mcp proxy --name {name} -- {d['command']}`."),
                          scope.repo, where)

"""MCP servers in every client config: launch, credential variable names, auth, Warden's proxy."""

from __future__ import annotations

import json

import pytest

from tests.inventory.helpers import make_repo, rules, scan
from warden.adapters.inventory.mcp import behind_warden, describe

DESCRIBE = [
    ({"command": "npx", "args": ["-y", "server-github"], "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}", "LOG_LEVEL": "debug"}},
     {"transport": "stdio", "credential_vars": ["GITHUB_TOKEN"], "literal_secrets": [], "auth": "env", "behind_warden_proxy": False}),
    ({"command": "npx", "args": ["pg"], "env": {"PGPASSWORD": "s3cret"}},
     {"credential_vars": ["PGPASSWORD"], "literal_secrets": ["PGPASSWORD"]}),
    ({"type": "http", "url": "https://mcp.example/mcp", "headers": {"Authorization": "Bearer ${API_KEY}"}},
     {"transport": "http", "credential_vars": ["API_KEY"], "auth": "header", "literal_secrets": []}),
    ({"url": "https://mcp.example/mcp", "headers": {"Authorization": "Bearer abc123"}},
     {"literal_secrets": ["header Authorization"], "auth": "header"}),
    ({"url": "https://mcp.example/mcp", "oauth": {"enabled": True}}, {"auth": "oauth"}),
    ({"command": "warden", "args": ["mcp", "proxy", "--", "npx", "fs", "."]},
     {"behind_warden_proxy": True, "command": "npx fs ."}),
    ({"command": "srv --token ${SRV_TOKEN}"}, {"credential_vars": ["SRV_TOKEN"], "command": "srv --token ${SRV_TOKEN}"}),
    ({"url": "https://x.example", "bearer_token_env_var": "X_TOKEN"}, {"credential_vars": ["X_TOKEN"], "auth": "header"}),
]


@pytest.mark.parametrize("entry,expected", DESCRIBE)
def test_describe(entry, expected):
    got = describe(entry)
    assert {k: got[k] for k in expected} == expected
    assert "s3cret" not in json.dumps(got) and "abc123" not in json.dumps(got)  # values never leave


@pytest.mark.parametrize("command,args,proxied,upstream", [
    ("warden", ["mcp", "proxy", "--", "npx", "x"], True, ["npx", "x"]),
    ("/usr/local/bin/warden", ["mcp", "proxy", "--name", "gh", "--", "gh-mcp"], True, ["gh-mcp"]),
    ("python3", ["-m", "warden", "mcp", "proxy", "--", "srv"], True, ["srv"]),
    ("npx", ["warden-mcp", "proxy"], False, ["npx", "warden-mcp", "proxy"]),
    ("warden", ["mcp", "serve"], False, ["warden", "mcp", "serve"]),
])
def test_behind_warden(command, args, proxied, upstream):
    assert behind_warden(command, args) == (proxied, upstream)


def test_every_client_file_and_findings(tmp_path):
    repo = make_repo(tmp_path / "repo", {
        ".mcp.json": json.dumps({"mcpServers": {
            "gh": {"command": "npx", "args": ["gh"], "env": {"GH_TOKEN": "${GH_TOKEN}"}},
            "fs": {"command": "warden", "args": ["mcp", "proxy", "--", "npx", "fs"]},
            "db": {"command": "npx", "args": ["pg"], "env": {"DB_PASSWORD": "hunter2"}}}}),
        ".cursor/mcp.json": json.dumps({"mcpServers": {"sentry": {"url": "http://sentry.example/sse"}}}),
        ".vscode/mcp.json": '{\n // comment\n "servers": {"pw": {"command": "npx", "args": ["@playwright/mcp"]},},\n}',
        ".gemini/settings.json": json.dumps({"mcpServers": {"notes": {"command": "notes"}}}),
        ".codex/config.toml": '[mcp_servers.docs]\ncommand = "docs-mcp"\nenv = { DOCS_API_KEY = "$DOCS_API_KEY" }\n',
    })
    inv = scan(repo)
    servers = {n.name: n.detail for n in inv.nodes.values() if n.detail.get("type") == "mcp-server"}
    assert set(servers) == {"MCP gh", "MCP fs", "MCP db", "MCP sentry", "MCP pw", "MCP notes", "MCP docs"}
    assert servers["MCP pw"]["clients"] == ["copilot"] and servers["MCP docs"]["clients"] == ["codex"]
    calls = {inv.nodes[e.target].name: e for e in inv.edges.values() if e.action == "call-tool"}
    assert calls["MCP fs"].controls == ["warden-mcp-proxy"] and calls["MCP fs"].classification == "approval-required"
    assert calls["MCP gh"].classification == "ungoverned"
    assert inv.nodes[calls["MCP gh"].credential].name == "GH_TOKEN"
    assert calls["MCP gh"].verdict["decision"] == "ask"  # what Warden's policy would do once it is proxied
    assert {"mcp-literal-secret", "mcp-plain-http", "mcp-unproxied-credential"} <= rules(inv)
    assert "hunter2" not in json.dumps(inv.to_json())


def test_user_configs_including_claude_json_projects(tmp_path):
    home = make_repo(tmp_path / "home", {
        ".claude.json": json.dumps({"mcpServers": {"mem": {"command": "mem"}}, "history": "h" * (3 * 1024 * 1024),
                                    "projects": {"/src/app": {"mcpServers": {"jira": {"url": "https://jira.example/mcp"}}}}}),
        ".codeium/windsurf/mcp_config.json": json.dumps({"mcpServers": {"ws": {"command": "ws"}}}),
        ".config/Code/User/mcp.json": '{"servers": {"code": {"command": "c"}}}',
    }, git=False)
    inv = scan(user_home=home)
    names = {n.name for n in inv.nodes.values() if n.detail.get("type") == "mcp-server"}
    assert names == {"MCP mem", "MCP jira", "MCP ws", "MCP code"}
    jira = inv.nodes["tool:~:mcp:jira"]
    assert not inv.problems
    assert jira.detail["config"] == [".claude.json#projects[/src/app].mcpServers.jira"]

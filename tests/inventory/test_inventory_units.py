"""Pure pieces: CODEOWNERS matching, native permission evaluation, command tables, hook matchers."""

from __future__ import annotations

import pytest

from warden.core.review import codeowners
from warden.core.inventory.commands import agent_for_uses, agents_in_run, is_warden_command, reach_in_run
from warden.core.inventory.native import claude_native, codex_native, hook_covers
from warden.core.inventory.probes import bash

OWNERS = """
# comment
*           @org/all
*.md        @org/docs
/.github/   @org/platform
docs/       @org/writers
/build/logs/ @org/ops
src/**/secret.py @org/sec
/CLAUDE.md
"""


@pytest.mark.parametrize("path,owners", [
    ("x.py", ("@org/all",)), ("README.md", ("@org/docs",)), ("pkg/AGENTS.md", ("@org/docs",)),
    (".github/workflows/ci.yml", ("@org/platform",)), ("a/docs/x.py", ("@org/writers",)), ("docs/x.py", ("@org/writers",)),
    ("build/logs/a.txt", ("@org/ops",)), ("src/a/b/secret.py", ("@org/sec",)), ("CLAUDE.md", ()),
])
def test_codeowners(path, owners):
    assert (codeowners.owners_of(codeowners.parse(OWNERS)[0], path) or ()) == owners


def test_codeowners_unanchored_name_and_gitlab_sections():
    rules, _ = codeowners.parse("[Docs]\nCLAUDE.md @a\n")
    assert codeowners.owners_of(rules, "pkg/CLAUDE.md") == ("@a",)
    assert codeowners.owners_of(rules, "pkg/CLAUDE.mdx") is None


def _p(tool, **inp):
    return {"tool_name": tool, "tool_input": inp}


@pytest.mark.parametrize("perms,mode,payload,expected", [
    ({"deny": ["Bash(git push:*)"]}, "bypassPermissions", _p("Bash", command="git push origin main"), "deny"),
    ({"allow": ["Bash(npm run test:*)"]}, "default", _p("Bash", command="npm run test -- --watch"), "allow"),
    ({"allow": ["Bash(npm run test:*)"]}, "default", _p("Bash", command="npm run testify"), "ask"),
    ({"ask": ["Bash(git *)"], "allow": ["Bash(git status)"]}, "default", _p("Bash", command="git status"), "ask"),
    ({}, "acceptEdits", _p("Write", file_path="/r/src/a.py"), "allow"),
    ({}, "plan", _p("Write", file_path="/r/src/a.py"), "deny"),
    ({"deny": ["Read(./.env)"]}, "default", _p("Read", file_path="/r/.env"), "deny"),
    ({"deny": ["Edit(src/**)"]}, "acceptEdits", _p("Write", file_path="/r/src/deep/a.py"), "deny"),
    ({"allow": ["WebFetch(domain:example.com)"]}, "default", _p("WebFetch", url="https://docs.example.com/x"), "allow"),
    ({"allow": ["mcp__github"]}, "default", _p("mcp__github__create_issue"), "allow"),
    ({"allow": ["mcp__github__get_issue"]}, "default", _p("mcp__github__create_issue"), "ask"),
])
def test_claude_native(perms, mode, payload, expected):
    assert claude_native(perms, mode, payload) == expected


@pytest.mark.parametrize("approval,sandbox,tool,expected", [
    ("never", "danger-full-access", "Bash", "allow"), ("never", "read-only", "Write", "deny"),
    ("on-request", "workspace-write", "Bash", "ask"), ("untrusted", "workspace-write", "Read", "allow"),
    ("on-failure", "workspace-write", "Bash", "allow"),
])
def test_codex_native(approval, sandbox, tool, expected):
    assert codex_native(approval, sandbox, {"tool_name": tool}) == expected


@pytest.mark.parametrize("matcher,tool,covers", [
    ("", "Write", True), ("*", "mcp__x__y", True), ("Bash", "Bash", True), ("Edit|Write", "Write", True),
    ("Edit.*", "NotebookEdit", True), ("Bash", "Write", False), ("mcp__.*", "mcp__gh__x", True), ("[", "[", True),
])
def test_hook_covers(matcher, tool, covers):
    assert hook_covers(matcher, tool) is covers


@pytest.mark.parametrize("text,actions", [
    ("npm ci && npm publish --provenance", ["publish"]), ("python -m twine upload dist/*", ["publish"]),
    ("terraform -chdir=infra apply -auto-approve", ["deploy"]), ("terraform plan", []),
    ("kubectl --context prod apply -f x", ["deploy"]), ("kubectl get pods", []),
    ("docker buildx build --push -t x .", ["publish"]), ("gh release create v1", ["release"]),
    ("git push origin HEAD", ["push"]), ("echo git-push", []),
])
def test_reach_table(text, actions):
    assert [r.action for r in reach_in_run(text)] == actions


@pytest.mark.parametrize("text,agents", [
    ("npx -y @anthropic-ai/claude-code -p hi", ["claude-code"]), ("claude -p 'fix'", ["claude-code"]),
    ("codex exec 'x'", ["codex"]), ("npx @google/gemini-cli --prompt x", ["gemini"]),
    ("pip install aider-chat && aider --message x", ["aider"]), ("echo claude", []), ("copilot -p x", ["copilot"]),
])
def test_agents_in_run(text, agents):
    assert agents_in_run(text) == agents


def test_agent_actions_and_warden_commands():
    assert agent_for_uses("anthropics/claude-code-action@v1") == "claude-code"
    assert agent_for_uses("openai/codex-action@main") == "codex"
    assert agent_for_uses("actions/checkout@v4") is None
    assert is_warden_command("warden hook claude-code") and is_warden_command("/opt/bin/warden mcp proxy -- x")
    assert is_warden_command("/usr/bin/python3 -m warden hook claude-code")  # what `warden install` writes
    assert not is_warden_command("echo wardens hook") and not is_warden_command("npx warden-cli")
    assert bash("ls", "/r") == {"tool_name": "Bash", "tool_input": {"command": "ls"}, "cwd": "/r"}

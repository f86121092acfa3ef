"""The official SDK client through `warden mcp proxy` to real servers (everything, filesystem, git)."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import pytest
from mcp_env import EVERYTHING, FILESYSTEM, WARDEN, need_node_server

pytestmark = pytest.mark.e2e


def _dump(items) -> list[dict]:
    return [i.model_dump(mode="json", by_alias=True, exclude_none=True) for i in items]


def test_everything_server_passes_through_faithfully(menv):
    server = ("node", need_node_server(EVERYTHING), "stdio")
    # "trigger" and "toggle" read as writes (ask, refused without an approver): this user lets writes through
    (menv.warden_home / "policy.yaml").write_text(
        "version: 1\ndisable: [ask-mcp-write]\nrules:\n  - id: allow-everything-demo\n    effect: allow\n"
        "    reason: a demo server\n    tool: [mcp__everything__*]\n")

    async def main():
        async with menv.client("everything", *server, direct=True) as s:
            direct = (_dump((await s.list_tools()).tools), _dump((await s.list_prompts()).prompts),
                      _dump((await s.list_resources()).resources),
                      _dump((await s.list_resource_templates()).resource_templates),
                      (await s.call_tool("get-structured-content", {"location": "New York"})).model_dump())
        progress: list[float] = []
        logs: list[str] = []

        async def on_log(params):
            logs.append(str(params.data))

        async with menv.client("everything", *server, logging_callback=on_log) as s:
            proxied = (_dump((await s.list_tools()).tools), _dump((await s.list_prompts()).prompts),
                       _dump((await s.list_resources()).resources),
                       _dump((await s.list_resource_templates()).resource_templates),
                       (await s.call_tool("get-structured-content", {"location": "New York"})).model_dump())

            async def on_progress(done, total, message):
                progress.append(done)

            long = await s.call_tool("trigger-long-running-operation", {"duration": 1, "steps": 3},
                                     progress_callback=on_progress)
            echo = await s.call_tool("echo", {"message": "hello"})
            prompt = await s.get_prompt("args-prompt", {"city": "Paris"})
            resource = await s.read_resource(proxied[2][0]["uri"])
            await s.set_logging_level("debug")
            await s.call_tool("toggle-simulated-logging", {})
            with anyio.move_on_after(6):
                while not logs:
                    await anyio.sleep(0.1)
        return direct, proxied, progress, long, echo, prompt, resource, logs

    direct, proxied, progress, long, echo, prompt, resource, logs = anyio.run(main)
    # definitions (annotations, outputSchema, _meta, icons), prompts, resources and templates unchanged
    assert proxied[0] == direct[0] and len(direct[0]) >= 10
    assert any("annotations" in t for t in proxied[0]) and any("outputSchema" in t for t in proxied[0])
    assert proxied[1:4] == direct[1:4]
    assert proxied[4]["structured_content"] == direct[4]["structured_content"] is not None
    assert progress == [1.0, 2.0, 3.0] and not long.is_error
    assert echo.content[0].text == "Echo: hello"
    assert "Paris" in json.dumps(prompt.model_dump(mode="json"))
    assert resource.contents and resource.contents[0].uri
    assert logs, "logging notifications from the server must reach the client"


def test_filesystem_server_reads_allowed_writes_refused_secrets_redacted(menv):
    server = ("node", need_node_server(FILESYSTEM), str(menv.workspace))
    (menv.workspace / "README.md").write_text("hello from the workspace\n")
    token = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"
    (menv.workspace / "config.txt").write_text(f"deploy_token = {token}\n")

    async def main():
        async with menv.client("fs", *server) as s:
            names = {t.name for t in (await s.list_tools()).tools}
            read = await s.call_tool("read_text_file", {"path": str(menv.workspace / "README.md")})
            secret = await s.call_tool("read_text_file", {"path": str(menv.workspace / "config.txt")})
            write = await s.call_tool("write_file", {"path": str(menv.workspace / "new.txt"), "content": "x"})
            env_file = await s.call_tool("read_text_file", {"path": str(menv.workspace / ".env")})
        return names, read, secret, write, env_file

    names, read, secret, write, env_file = anyio.run(main)
    assert {"read_text_file", "write_file", "list_directory"} <= names
    assert read.content[0].text == "hello from the workspace\n" and not read.is_error
    text = json.dumps(secret.model_dump(mode="json"))
    assert token not in text and "[REDACTED:" in text
    assert write.is_error and "approval" in write.content[0].text
    assert not (menv.workspace / "new.txt").exists(), "a refused call must never reach the server"
    assert env_file.is_error and "credential" in env_file.content[0].text
    redacted = menv.mcp_events("redacted")
    assert redacted and token not in json.dumps(menv.audit())
    assert any("content[0].text" in f for f in redacted[0]["data"]["fields"])
    assert [e for e in menv.audit("control") if e["op"] == "taint"], "an untrusted server taints the session"
    decisions = [e for e in menv.audit("decision") if e["tool"] == "mcp__fs__write_file"]
    assert decisions and decisions[0]["result"]["decision"] == "ask"


def test_git_server_destructive_tools_hidden_and_refused(menv, tmp_path):
    repo = menv.workspace
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "a.txt").write_text("a\n")
    server = (sys.executable, "-m", "mcp_server_git", "--repository", str(repo))

    async def main():
        async with menv.client("git", *server) as s:
            names = {t.name for t in (await s.list_tools()).tools}
            status = await s.call_tool("git_status", {"repo_path": str(repo)})
            reset = await s.call_tool("git_reset", {"repo_path": str(repo)})
        return names, status, reset

    names, status, reset = anyio.run(main)
    assert "git_status" in names and "git_log" in names
    assert "git_reset" not in names, "what the policy denies is not listed"
    assert not status.is_error and "a.txt" in status.content[0].text
    assert reset.is_error and "mcp__git__git_reset" in reset.content[0].text
    assert "deny-mcp-destructive" in reset.content[0].text


def test_missing_upstream_binary_is_a_clear_error(menv):
    async def main():
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client
        from mcp.shared.exceptions import MCPError

        params = StdioServerParameters(command=WARDEN, args=menv.proxy_args("gone", "/nonexistent/mcp-server"),
                                       env=menv.env)
        async with stdio_client(params) as (r, w), ClientSession(r, w) as s:
            with pytest.raises(MCPError) as info:
                with anyio.fail_after(20):
                    await s.initialize()
            return str(info.value)

    message = anyio.run(main)
    assert "cannot start the MCP server" in message and "/nonexistent/mcp-server" in message

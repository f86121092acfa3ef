"""The streamable-HTTP gateway: two upstreams (stdio and HTTP), namespacing, policy, concurrent clients."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mcp_env import HERE, TOY, WARDEN

pytestmark = pytest.mark.e2e
TOKEN = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def gateway(menv, tmp_path: Path):
    port = free_port()
    docs = subprocess.Popen([sys.executable, str(HERE / "http_server.py"), str(port)], env=menv.env,
                            stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        config = tmp_path / "gateway.yaml"
        config.write_text(json.dumps({"listen": {"host": "127.0.0.1", "port": 0}, "servers": {
            "weather": {"command": [sys.executable, TOY, "plain"], "approve_first": True},
            "slow": {"command": [sys.executable, TOY, "progress"], "approve_first": True},
            "docs": {"url": f"http://127.0.0.1:{port}/mcp", "approve_first": True}}}))
        gw = subprocess.Popen([WARDEN, "mcp", "gateway", "--config", str(config)], env=menv.env, cwd=menv.workspace,
                              stderr=subprocess.PIPE, text=True)
        try:
            line = ""
            while "listening on" not in line:
                line = gw.stderr.readline()
                assert line, "the gateway exited before listening"
            yield line.split("listening on ")[1].split()[0]
        finally:
            gw.terminate()
            assert gw.wait(timeout=20) is not None
    finally:
        docs.terminate()
        docs.wait(timeout=20)


@asynccontextmanager
async def client(url: str):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url) as streams, ClientSession(streams[0], streams[1]) as s:
        await s.initialize()
        yield s


def test_two_upstreams_namespaced_and_guarded(gateway, menv):
    async def main():
        async with client(gateway) as s:
            tools = sorted(t.name for t in (await s.list_tools()).tools)
            resources = [str(r.uri) for r in (await s.list_resources()).resources]
            weather = await s.call_tool("weather__get_weather", {"city": "Oslo"})
            page = await s.call_tool("docs__get_page", {"title": "intro"})
            deleted = await s.call_tool("docs__delete_page", {"title": "intro"})
            config = await s.call_tool("docs__get_config", {})
            unknown = await s.call_tool("nosuch__tool", {})
            index = await s.read_resource("docs+docs://index")
            return tools, resources, weather, page, deleted, config, unknown, index

    tools, resources, weather, page, deleted, config, unknown, index = anyio.run(main)
    assert tools == ["docs__get_config", "docs__get_page", "slow__get_weather", "weather__get_weather"]
    assert resources == ["docs+docs://index"]
    assert weather.content[0].text == "sunny in Oslo" and page.content[0].text == "page intro"
    assert deleted.is_error and "deny-mcp-destructive" in deleted.content[0].text
    assert TOKEN not in json.dumps(config.model_dump(mode="json")) and "[REDACTED:" in config.content[0].text
    assert unknown.is_error and "names no server" in unknown.content[0].text
    assert index.contents[0].text == "index of docs"
    decisions = menv.audit("decision")
    assert len({e["session"] for e in decisions}) == 1 and decisions[0]["session"].startswith("mcp-gw-")
    tools_seen = {e["tool"] for e in decisions}
    assert {"mcp__weather__get_weather", "mcp__docs__get_page", "mcp__docs__delete_page"} <= tools_seen

    async def auto():  # the SDK's high-level client, negotiating the protocol version itself
        from mcp import Client

        async with Client(gateway, mode="auto") as c:
            return (await c.call_tool("weather__get_weather", {"city": "Rome"})).content[0].text

    assert anyio.run(auto) == "sunny in Rome"


def test_concurrent_clients_get_their_own_answers(gateway, menv):
    results: dict[int, list[str]] = {}

    async def one(n: int):
        async with client(gateway) as s:
            results[n] = []
            for i in range(8):
                r = await s.call_tool("weather__get_weather", {"city": f"c{n}-{i}"})
                results[n].append(r.content[0].text)

    async def main():
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for n in range(6):
                    tg.start_soon(one, n)

    anyio.run(main)
    assert results == {n: [f"sunny in c{n}-{i}" for i in range(8)] for n in range(6)}
    sessions = {e["session"] for e in menv.audit("decision") if e["tool"] == "mcp__weather__get_weather"}
    assert len(sessions) == 6, "each client session is its own audit session"


def test_progress_notifications_stream_back_to_the_right_client(gateway):
    async def one(n: int) -> tuple[list[float], str]:
        steps: list[float] = []

        async def on_progress(done, total, message):
            steps.append(done)

        async with client(gateway) as s:
            r = await s.call_tool("slow__get_weather", {"city": f"c{n}"}, progress_callback=on_progress)
            return steps, r.content[0].text

    async def main():
        out = {}

        async def run(n):
            out[n] = await one(n)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for n in range(3):
                    tg.start_soon(run, n)
        return out

    out = anyio.run(main)
    assert out == {n: ([1.0, 2.0, 3.0], f"sunny in c{n}") for n in range(3)}

"""Pins, quarantine, rug pulls, poisoning, pagination and misbehaving servers, through the real proxy."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import anyio
import pytest
from mcp_env import TOY, WARDEN

TOKEN = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"


def toy(mode: str) -> tuple[str, ...]:
    return (sys.executable, TOY, mode)


def pins_cli(menv, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([WARDEN, "mcp", "pins", *args], env=menv.env, capture_output=True, text=True, timeout=60)


def test_new_tools_are_quarantined_until_approved(menv):
    async def names():
        async with menv.client("weather", *toy("plain"), flags=()) as s:
            listed = [t.name for t in (await s.list_tools()).tools]
            call = await s.call_tool("get_weather", {"city": "Oslo"})
            return listed, call

    listed, call = anyio.run(names)
    assert listed == [] and call.is_error and "quarantined" in call.content[0].text
    pending = json.loads(pins_cli(menv, "list", "--json").stdout)["servers"][0]["pending"]
    assert [p["tool"] for p in pending] == ["get_weather"] and '"description"' in pending[0]["diff"]
    # on a terminal the diff comes first and "no" approves nothing
    import os

    master, slave = os.openpty()
    refused = subprocess.run([WARDEN, "mcp", "pins", "approve", "weather", "--all"], env=menv.env, stdin=slave,
                             input=None, capture_output=False, stdout=subprocess.PIPE, text=True, timeout=60,
                             preexec_fn=lambda: os.write(master, b"n\n"))
    os.close(master)
    os.close(slave)
    assert refused.returncode == 1 and '"description": "Get the weather for a city."' in refused.stdout
    assert json.loads(pins_cli(menv, "list", "--json").stdout)["servers"][0]["pending"]
    approved = pins_cli(menv, "approve", "weather", "--all")
    assert approved.returncode == 0 and "approved get_weather" in approved.stdout
    listed, call = anyio.run(names)
    assert listed == ["get_weather"] and not call.is_error and call.content[0].text == "sunny in Oslo"
    assert [e["what"] for e in menv.audit("mcp") if e["what"].startswith("pin.")] == ["pin.quarantined",
                                                                                       "pin.approved"]
    reset = pins_cli(menv, "reset", "weather")
    assert reset.returncode == 0
    listed, _ = anyio.run(names)
    assert listed == []


def test_rug_pull_is_refused_on_the_next_call_and_shown_as_a_diff(menv):
    async def main():
        async with menv.client("weather", *toy("rugpull")) as s:
            first_list = [t.name for t in (await s.list_tools()).tools]
            first = await s.call_tool("get_weather", {"city": "Oslo"})
            await anyio.sleep(0.2)  # the server announced tools/list_changed after answering
            second = await s.call_tool("get_weather", {"city": "Oslo"})
            relisted = [t.name for t in (await s.list_tools()).tools]
            return first_list, first, second, relisted

    first_list, first, second, relisted = anyio.run(main)
    assert first_list == ["get_weather"] and not first.is_error
    assert second.is_error and "definition changed" in second.content[0].text
    assert relisted == []
    pending = json.loads(pins_cli(menv, "list", "weather", "--json").stdout)["servers"][0]["pending"]
    assert pending[0]["state"] == "changed" and "+" in pending[0]["diff"] and "id_rsa" in pending[0]["diff"]
    assert menv.mcp_events("pin.quarantined")[0]["data"]["state"] == "changed"


def test_tools_named_outside_the_spec_alphabet_are_dropped(menv):
    async def main():
        async with menv.client("weather", *toy("badnames")) as s:
            listed = [t.name for t in (await s.list_tools()).tools]
            return listed, await s.call_tool("resources/read", {})

    listed, call = anyio.run(main)
    assert listed == ["get_weather"]
    assert call.is_error and "does not offer" in call.content[0].text
    assert any("misnamed" in e["detail"] for e in menv.mcp_events("refused"))


@pytest.mark.parametrize(("relist_after", "refused"), [("0.5", True), ("60", False)])
def test_silent_definition_swap_is_caught_by_relisting(menv, relist_after, refused):
    async def main():
        async with menv.client("weather", *toy("silent"), flags=("--approve-first", "--relist-after", relist_after)) as s:
            await s.list_tools()
            await s.call_tool("get_weather", {"city": "Oslo"})
            await anyio.sleep(1)
            return await s.call_tool("get_weather", {"city": "Oslo"})

    second = anyio.run(main)
    assert second.is_error is refused
    if refused:
        assert "definition changed" in second.content[0].text


def test_renamed_tool_is_quarantined_as_a_rename(menv):
    async def main():
        async with menv.client("weather", *toy("rename")) as s:
            await s.list_tools()
            await s.call_tool("get_weather", {"city": "Oslo"})
            await anyio.sleep(0.2)
            renamed = await s.call_tool("get_weather_v2", {"city": "Oslo"})
            return renamed

    renamed = anyio.run(main)
    assert renamed.is_error and "renamed copy of 'get_weather'" in renamed.content[0].text


def test_poisoned_definition_is_hidden_and_refused(menv):
    async def main():
        async with menv.client("facts", *toy("poison")) as s:
            listed = [t.name for t in (await s.list_tools()).tools]
            call = await s.call_tool("get_fact", {})
            return listed, call

    listed, call = anyio.run(main)
    assert listed == ["get_time"]
    assert call.is_error and "deny-mcp-poisoned" in call.content[0].text
    poison = menv.mcp_events("poison")
    assert poison and {"hidden-instructions", "invisible-unicode", "secret-access", "exfiltration-url"} <= set(
        poison[0]["detail"].split("carries ")[1].split(","))


def test_secrets_redacted_from_content_and_structured_content(menv):
    async def main():
        async with menv.client("notes", *toy("secrets")) as s:
            await s.list_tools()
            return await s.call_tool("read_note", {})

    result = anyio.run(main)
    dumped = json.dumps(result.model_dump(mode="json"))
    assert TOKEN not in dumped
    assert result.content[0].text.startswith("the deploy token is [REDACTED:github-pat")
    assert result.structured_content["note"]["token"].startswith("[REDACTED:") and result.meta == {"kept": True}
    event = menv.mcp_events("redacted")[0]
    assert set(event["data"]["fields"]) == {"content[0].text", "structuredContent.note.token"}
    assert TOKEN not in json.dumps(menv.audit())
    from warden.adapters.state import open_state

    # the control gate marked the session when the call to this untrusted server was decided
    taint = [e for e in menv.audit("control") if e["op"] == "taint"]
    assert len(taint) == 1 and "server notes" in taint[0]["data"]["origin"]["detail"]
    assert [o.source for o in open_state(menv.warden_home).taint(taint[0]["session"])] == ["mcp"]


def test_paginated_lists_are_filtered_page_by_page(menv):
    async def main():
        async with menv.client("items", *toy("paginate")) as s:
            names, cursor, pages = [], None, 0
            while True:
                from mcp.types import PaginatedRequestParams

                page = await s.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
                pages += 1
                names += [t.name for t in page.tools]
                cursor = page.next_cursor
                if not cursor:
                    break
            call = await s.call_tool("get_item_23", {})
            return names, pages, call

    names, pages, call = anyio.run(main)
    assert pages == 3 and len(names) == 24 and "delete_all_items" not in names
    assert not call.is_error


@pytest.mark.parametrize("mode", ["hang", "die"])
def test_hung_or_dead_upstream_gives_a_clear_error_not_a_hang(menv, mode):
    from mcp.shared.exceptions import MCPError

    async def main():
        async with menv.client("weather", *toy(mode), flags=("--approve-first", "--timeout", "1")) as s:
            await s.list_tools()
            with anyio.fail_after(15), pytest.raises(MCPError) as info:
                await s.call_tool("get_weather", {"city": "Oslo"})
            return str(info.value)

    started = time.monotonic()
    message = anyio.run(main)
    assert time.monotonic() - started < 15
    expected = "did not answer tools/call within 1 s" if mode == "hang" else "exited (code 3)"
    assert expected in message and "'weather'" in message
    assert menv.mcp_events("upstream.error")


@pytest.mark.parametrize("mode", ["garbage", "flood"])
def test_noisy_upstream_does_not_break_the_session(menv, mode):
    logs: list[str] = []

    async def on_log(params):
        logs.append(params.data)

    async def main():
        async with menv.client("weather", *toy(mode), logging_callback=on_log) as s:
            await s.list_tools()
            return await s.call_tool("get_weather", {"city": "Oslo"})

    result = anyio.run(main)
    assert not result.is_error and result.content[0].text == "sunny in Oslo"
    if mode == "flood":
        assert len(logs) == 5000, "notifications pass through unchanged, in order"
    else:
        assert menv.mcp_events("refused")


def test_oversized_result_is_withheld(menv):
    async def main():
        async with menv.client("weather", *toy("huge")) as s:
            await s.list_tools()
            return await s.call_tool("get_weather", {"city": "Oslo"})

    result = anyio.run(main)
    assert result.is_error and "1048576-byte limit" in result.content[0].text


def test_malformed_client_input_gets_errors_and_the_session_goes_on(menv):
    """Raw bytes on the proxy's stdin: bad JSON, a batch, an oversized line, then a valid request."""
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    lines = [b"{not json", b'[{"jsonrpc":"2.0","id":9,"method":"ping"}]', b'{"jsonrpc":"2.0","id":2}',
             b'{"jsonrpc":"2.0","id":3,"method":"x","params":"' + b"a" * (17 * 1024 * 1024) + b'"}',
             json.dumps(init).encode(), b'{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":5}}',
             b'{"jsonrpc":"2.0","id":5,"method":"no/such/method"}']
    proc = subprocess.Popen([WARDEN, *menv.proxy_args("weather", *toy("plain"))], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=menv.env)
    proc.stdin.write(b"\n".join(lines) + b"\n")
    proc.stdin.flush()
    replies = []
    try:
        while not {1, 4, 5} <= {r.get("id") for r in replies}:
            line = proc.stdout.readline()
            assert line, "the proxy closed its output early"
            replies.append(json.loads(line))
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0, "the proxy shuts down cleanly when the client leaves"
    codes = [r.get("error", {}).get("code") for r in replies]
    assert codes.count(-32700) == 1 and codes.count(-32600) >= 3  # parse error, batch, invalid, oversized
    by_id = {r.get("id"): r for r in replies}
    assert by_id[1]["result"]["serverInfo"]["name"] == "toy-plain"
    assert by_id[4]["error"]["code"] == -32602
    assert by_id[5]["error"]["code"] == -32601, "unknown methods reach the server and its error comes back"
    assert len(menv.mcp_events("refused")) >= 3


def test_taint_reaches_the_control_state_and_injection_is_flagged(menv):
    from warden.adapters.state import open_state

    menv.env["WARDEN_SESSION"] = "sess-taint"
    (menv.warden_home / "policy.yaml").write_text("version: 1\nsettings:\n  trusted_mcp: [weather]\n")

    async def main():
        async with menv.client("weather", *toy("inject")) as s:
            await s.list_tools()
            return await s.call_tool("get_weather", {"city": "Oslo"})

    result = anyio.run(main)
    assert not result.is_error
    origins = open_state(menv.warden_home).taint("sess-taint")
    assert [o.source for o in origins] == ["injection"], "a trusted server taints only through injection"
    assert "Ignore all previous instructions" in origins[0].detail
    assert menv.mcp_events("taint")[0]["data"]["source"] == "injection"


def test_ask_routed_to_the_approval_queue_is_allowed_on_retry_after_approval(menv, tmp_path):
    """An ask whose rule routes to the queue: the tool error names the request, another person approves
    it with `warden approvals approve`, and the same call then goes through."""
    menv.env["WARDEN_SESSION"] = "sess-approve"
    (menv.warden_home / "policy.yaml").write_text(
        "version: 1\nrules:\n  - id: queue-weather-writes\n    effect: ask\n    reason: forecasts are published\n"
        "    tool: [mcp__weather__get_weather]\n    approval: {route: queue}\n")
    calls = tmp_path / "calls.jsonl"
    menv.env["TOY_CALL_LOG"] = str(calls)

    async def main():
        async with menv.client("weather", *toy("plain")) as s:
            await s.list_tools()
            first = await s.call_tool("get_weather", {"city": "Oslo"})
            text = first.content[0].text
            request = text.split("approval request ")[1].split()[0]
            vote = await anyio.to_thread.run_sync(lambda: subprocess.run(
                [WARDEN, "approvals", "approve", request, "--reason", "fine"], capture_output=True, text=True,
                env={**menv.env, "WARDEN_ACTOR": "alice@example.com"}, timeout=60))
            second = await s.call_tool("get_weather", {"city": "Oslo"})
            return first, vote, second

    first, vote, second = anyio.run(main)
    assert first.is_error and "is queued" in first.content[0].text
    assert vote.returncode == 0, vote.stdout + vote.stderr
    assert not second.is_error and second.content[0].text == "sunny in Oslo"
    assert len(calls.read_text().splitlines()) == 1, "only the approved call reached the server"


def test_call_without_listing_first_and_no_timeout(menv):
    """A client that calls straight away: the proxy lists the tools itself first (--timeout 0: no limit)."""
    async def main():
        async with menv.client("weather", *toy("plain"), flags=("--approve-first", "--timeout", "0")) as s:
            return await s.call_tool("get_weather", {"city": "Oslo"})

    result = anyio.run(main)
    assert not result.is_error and result.content[0].text == "sunny in Oslo"

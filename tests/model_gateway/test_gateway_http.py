"""The model gateway over real HTTP: a real `warden model-gateway` process, scripted upstreams."""

from __future__ import annotations

import json

import httpx
import pytest
from model_server import ModelServer, Turn
from openai_server import OpenAIServer

GITHUB_TOKEN = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"
AWS_KEY_ID = "AKIA" + "QX7RZ2M4KD6WPL3T"
BASH_TOOL = {"name": "Bash", "description": "run", "input_schema": {"type": "object"}}


def anthropic_body(text: str = "list the files", stream: bool = False, model: str = "claude-sonnet-4-5",
                   extra: list | None = None) -> dict:
    return {"model": model, "max_tokens": 100, "stream": stream, "tools": [BASH_TOOL],
            "system": [{"type": "text", "text": f"You are helpful. Deploy token: {GITHUB_TOKEN}"}],
            "metadata": {"user_id": "user_abc_account_x_session_11111111-2222-3333-4444-555555555555"},
            "messages": [{"role": "user", "content": text}, *(extra or [])]}


def test_secrets_never_reach_the_upstream_and_the_answer_is_recorded(start_gateway):
    with ModelServer([Turn(text="first"), Turn.bash("ls -la", text="I will list the files.")]) as up:
        gw = start_gateway([f"anthropic={up.url}"])
        tool_result = [{"role": "assistant", "content": [{"type": "text", "text": "reading"}]},
                       {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x",
                                                     "content": f"aws_access_key_id = {AWS_KEY_ID}"}]},
                       {"role": "user", "content": "now list the files please"}]
        r = httpx.post(gw.url + "/v1/messages", json=anthropic_body(extra=tool_result), timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["content"][1]["name"] == "Bash"
        sent = up.all_request_text()
        assert GITHUB_TOKEN not in sent and AWS_KEY_ID not in sent
        assert "[REDACTED:" in sent
        (ev,) = gw.wait_events(1)
        assert ev["result"]["decision"] == "allow"
        assert ev["instruction"] == "now list the files please"
        assert ev["plan"] == "I will list the files."
        assert ev["tool_calls"][0]["name"] == "Bash" and ev["tool_calls"][0]["id"].startswith("toolu_")
        assert ev["tool_use_id"] == ev["tool_calls"][0]["id"]
        assert ev["usage"] == {"input_tokens": 100, "output_tokens": 12, "cost_usd": 0.0}
        assert ev["session"] == "11111111-2222-3333-4444-555555555555"
        assert ev["actor"]["id"] == "dev@example.com"
        paths = {x["path"] for x in ev["redacted"]}
        assert "system[0].text" in paths and "messages[2].content[0].content" in paths
        assert GITHUB_TOKEN not in json.dumps(ev)


def test_stream_passes_through_byte_for_byte(start_gateway):
    with ModelServer([Turn.bash("echo hi", text="Plan: echo.")]) as up:
        gw = start_gateway([f"anthropic={up.url}"])
        body = anthropic_body(stream=True)
        body["system"] = "no secrets here"
        direct = httpx.post(up.url + "/v1/messages", json=body, timeout=30).content
        via = httpx.post(gw.url + "/v1/messages", json=body, timeout=30).content
        # message ids count up per request; everything else is identical
        assert via.replace(b"msg_0002", b"msg_0001").replace(b"toolu_0002", b"toolu_0001") == direct
        ev = gw.wait_events(1)[0]
        assert ev["streamed"] is True and ev["plan"] == "Plan: echo."
        assert json.loads(ev["tool_calls"][0]["arguments"]) == {"command": "echo hi", "description": "scripted"}
        assert ev["first_byte_ms"] is not None


POLICY_APPROVED = """version: 1
models:
  allow:
    - provider: anthropic
      model: [claude-haiku-*]
"""


def test_unapproved_model_is_refused_in_the_apis_own_shape(start_gateway):
    with ModelServer([]) as up:
        gw = start_gateway([f"anthropic={up.url}"], POLICY_APPROVED)
        r = httpx.post(gw.url + "/v1/messages", json=anthropic_body(model="claude-opus-4"), timeout=30)
        assert r.status_code == 403
        err = r.json()
        assert err["type"] == "error" and err["error"]["type"] == "permission_error"
        assert "claude-opus-4" in err["error"]["message"] and "not approved" in err["error"]["message"]
        assert up.requests == []
        ok = httpx.post(gw.url + "/v1/messages", json=anthropic_body(model="claude-haiku-4-5"), timeout=30)
        assert ok.status_code == 200
        evs = gw.wait_events(2)
        assert [e["result"]["decision"] for e in evs] == ["deny", "allow"]


POLICY_BUDGET = """version: 1
models:
  budgets:
    - id: session-tokens
      per: session
      window: session
      tokens: 220
  prices:
    "claude-*": {input: 3, output: 15}
"""


def test_a_session_over_its_token_budget_is_stopped(start_gateway):
    with ModelServer([]) as up:
        gw = start_gateway([f"anthropic={up.url}"], POLICY_BUDGET)
        codes = []
        for i in range(3):
            r = httpx.post(gw.url + "/v1/messages", json=anthropic_body(text=f"step {i}"), timeout=30)
            codes.append(r.status_code)
            gw.wait_events(i + 1)  # usage is written when the answer is complete
        assert codes == [200, 200, 429]
        err = r.json()["error"]
        assert err["type"] == "rate_limit_error" and "session-tokens" in err["message"]
        assert "224 of 220 tokens used" in err["message"]
        assert len(up.requests) == 2
        evs = gw.events()
        assert evs[0]["usage"]["cost_usd"] == pytest.approx((100 * 3 + 12 * 15) / 1e6)
        # another session still has its own budget
        other = anthropic_body()
        other["metadata"]["user_id"] = "user_abc_account_x_session_99999999-2222-3333-4444-555555555555"
        assert httpx.post(gw.url + "/v1/messages", json=other, timeout=30).status_code == 200


def test_gateway_keys_replace_provider_keys(start_gateway):
    with OpenAIServer() as up:
        gw = start_gateway([f"openai={up.url},key_env=PROVIDER_KEY"], dev=False, run=False,
                           extra_env={"PROVIDER_KEY": "sk-provider-secret"})
        body = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
        import subprocess

        # no gateway key and no --dev: nobody could connect, so it refuses to start and says why
        refused = subprocess.run(gw.cmd, env=gw.env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "keys add" in refused.stderr
        out = subprocess.run([gw.cmd[0], "model-gateway", "keys", "add", "--actor", "alice", "--agent", "codex",
                              "--json"], env=gw.env, capture_output=True, text=True, check=True)
        key = json.loads(out.stdout)["key"]
        gw.start()
        assert httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=30).status_code == 401
        bad = httpx.post(gw.url + "/v1/chat/completions", json=body, headers={"authorization": "Bearer sk-x"}, timeout=30)
        assert bad.status_code == 401 and "not a Warden gateway key" in bad.json()["error"]["message"]
        r = httpx.post(gw.url + "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"},
                       timeout=30)
        assert r.status_code == 200
        assert up.headers[-1]["authorization"] == "Bearer sk-provider-secret"
        assert key not in json.dumps(up.headers)
        ev = gw.wait_events(3)[-1]
        assert ev["actor"]["id"] == "alice" and ev["agent"] == "codex"


@pytest.mark.parametrize("stream", [False, True])
def test_openai_chat_tool_calls_and_usage(start_gateway, stream):
    with OpenAIServer(text="Plan: run tests.", tool=("shell", {"cmd": "pytest -q"})) as up:
        gw = start_gateway([f"openai={up.url}"])
        body = {"model": "gpt-test", "stream": stream,
                "messages": [{"role": "system", "content": f"token {GITHUB_TOKEN}"},
                             {"role": "user", "content": "run the tests"}]}
        r = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=30)
        assert r.status_code == 200
        assert GITHUB_TOKEN not in up.all_text()
        ev = gw.wait_events(1)[0]
        assert ev["api"] == "chat" and ev["instruction"] == "run the tests"
        assert ev["plan"] == "Plan: run tests."
        assert ev["tool_calls"][0]["id"] == "call_1" and json.loads(ev["tool_calls"][0]["arguments"]) == {"cmd": "pytest -q"}
        assert ev["usage"]["input_tokens"] == 200 and ev["usage"]["output_tokens"] == 30


@pytest.mark.parametrize("stream", [False, True])
def test_openai_responses_api(start_gateway, stream):
    with OpenAIServer(text="I will look.", tool=("exec_command", {"cmd": "ls"})) as up:
        gw = start_gateway([f"openai={up.url}"])
        body = {"model": "gpt-test", "stream": stream, "instructions": f"key {AWS_KEY_ID}",
                "input": [{"role": "user", "content": [{"type": "input_text", "text": "what is here?"}]},
                          {"type": "function_call_output", "call_id": "c0", "output": f"gh {GITHUB_TOKEN}"}]}
        r = httpx.post(gw.url + "/v1/responses", json=body, timeout=30)
        assert r.status_code == 200
        sent = up.all_text()
        assert AWS_KEY_ID not in sent and GITHUB_TOKEN not in sent
        ev = gw.wait_events(1)[0]
        assert ev["api"] == "responses" and ev["instruction"] == "what is here?"
        assert ev["tool_calls"][0] == {"id": "call_1", "name": "exec_command", "arguments": '{"cmd": "ls"}'}
        assert ev["usage"]["input_tokens"] == 200


def test_bad_requests_get_clear_errors_and_nothing_is_forwarded(start_gateway):
    with OpenAIServer() as up:
        gw = start_gateway([f"openai={up.url}"], args=["--max-body-mb", "1"])
        url = gw.url + "/v1/chat/completions"
        r = httpx.post(url, content=b"{not json", headers={"content-type": "application/json"}, timeout=30)
        assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]
        r = httpx.post(url, content=b"hello", headers={"content-type": "text/plain"}, timeout=30)
        assert r.status_code == 415
        r = httpx.post(url, json={"model": "m", "messages": [{"role": "user", "content": "x" * (2 << 20)}]}, timeout=30)
        assert r.status_code == 413
        r = httpx.post(url, json=[1, 2], timeout=30)
        assert r.status_code == 400
        r = httpx.post(gw.url + "/v1/files", json={}, timeout=30)
        assert r.status_code == 404 and "does not forward" in r.json()["error"]["message"]
        assert up.requests == []
        assert len(gw.wait_events(4)) == 4  # every refusal is evidence


def test_dead_upstream_is_a_clear_error_not_a_hang(start_gateway):
    from gateway_proc import free_port

    gw = start_gateway([f"anthropic=http://127.0.0.1:{free_port()}"])
    r = httpx.post(gw.url + "/v1/messages", json=anthropic_body(), timeout=30)
    assert r.status_code == 502
    assert r.json()["error"]["type"] == "api_error" and "cannot be reached" in r.json()["error"]["message"]
    ev = gw.wait_events(1)[0]
    assert ev["http_status"] == 502 and ev["error"]


def test_dropped_stream_ends_with_an_error_event(start_gateway):
    with OpenAIServer(mode="drop", text="x" * 50) as up:
        gw = start_gateway([f"openai={up.url}"])
        body = {"model": "gpt-test", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        with httpx.stream("POST", gw.url + "/v1/chat/completions", json=body, timeout=30) as r:
            data = b"".join(r.iter_raw())
        ev = gw.wait_events(1)[0]
        assert "ended before the answer was complete" in ev["error"]
        assert data.rstrip().endswith(b"}") and b"ended before the answer was complete" in data


def test_loop_breaker_refuses_the_same_request_again_and_again(start_gateway):
    with ModelServer([]) as up:
        gw = start_gateway([f"anthropic={up.url}"], "version: 1\nmodels:\n  loop: {repeat: 3}\n")
        body = anthropic_body()
        codes = [httpx.post(gw.url + "/v1/messages", json=body, timeout=30).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        body["messages"].append({"role": "user", "content": "something else"})
        assert httpx.post(gw.url + "/v1/messages", json=body, timeout=30).status_code == 200


def test_broken_policy_refuses_everything(start_gateway):
    with ModelServer([]) as up:
        gw = start_gateway([f"anthropic={up.url}"], "version: 1\nmodels:\n  allow: [ {provider: anthropic} ]\n",
                           args=["--policy-reload", "0.1"])
        gw.policy.write_text("version: 1\nmodels:\n  allow: oops\n")
        import time

        time.sleep(0.3)
        r = httpx.post(gw.url + "/v1/messages", json=anthropic_body(), timeout=30)
        assert r.status_code == 503 and "policy could not be loaded" in r.json()["error"]["message"]
        assert up.requests == []

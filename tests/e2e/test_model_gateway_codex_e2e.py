"""End to end: the real Codex CLI (`codex exec`, Responses API) pointed at `warden model-gateway`, which
forwards to the scripted Responses server. No Warden hooks are installed: only the gateway stands between
what Codex reads and what the provider receives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "model_gateway"))

from agent_session import SECRETS, World, cli_or_skip  # noqa: E402
from gateway_proc import GatewayProcess  # noqa: E402
from responses_server import Call, ResponsesServer  # noqa: E402

pytestmark = pytest.mark.e2e


def test_codex_through_the_gateway_never_sends_a_secret_and_is_recorded():
    codex = cli_or_skip("codex")
    w = World("codex-gw")
    try:
        codex_home = w.home / ".codex"
        codex_home.mkdir()
        script = [Call("exec_command", {"cmd": "cat notes.txt"}), Call("exec_command", {"cmd": "ls -la"})]
        with ResponsesServer(script) as upstream:
            gw = GatewayProcess(w.root / "gw", [f"openai={upstream.url}"])
            gw.home = w.warden_home
            gw.env.update(WARDEN_HOME=str(w.warden_home), HOME=str(w.home))
            gw.start()
            try:
                (codex_home / "config.toml").write_text(
                    'model_provider = "warden"\nmodel = "gpt-5"\napproval_policy = "never"\n'
                    'sandbox_mode = "danger-full-access"\n\n[model_providers.warden]\nname = "warden"\n'
                    f'base_url = "{gw.url}/v1"\nwire_api = "responses"\nenv_key = "WARDEN_GATEWAY_KEY"\n')
                env = {**w.env, "CODEX_HOME": str(codex_home), "WARDEN_GATEWAY_KEY": "unused-in-dev"}
                proc = subprocess.run([codex, "exec", "--skip-git-repo-check", "--json", "show me notes.txt"],
                                      cwd=w.workspace, env=env, capture_output=True, text=True, timeout=240)
                sent = upstream.all_request_text()
                outputs = upstream.tool_outputs()
                events = gw.wait_events(2)
            finally:
                gw.stop()
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert any("line-before-secret" in o for o in outputs), outputs  # the file really was read
        for secret in SECRETS:
            assert secret not in sent
        assert "[REDACTED:" in sent
        assert events and all(e["api"] == "responses" for e in events)
        assert any(e["agent"] == "codex" for e in events), [e["agent"] for e in events]
        assert any(c["name"] == "exec_command" for e in events for c in e["tool_calls"])
        assert any(r["path"].startswith("input[") for e in events for r in e["redacted"])
    finally:
        w.close()

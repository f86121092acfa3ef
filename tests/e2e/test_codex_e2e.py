"""End to end: the real Codex CLI (`codex exec`), Warden's hooks installed by `warden install codex`,
a scripted Responses-API model server.

The script asks Codex to run, in order: a destructive command on a file outside the workspace, a
benign workspace listing, and `cat` of a file holding secrets. Then: the sentinel survives, the
listing ran, the model never received a secret, and the audit log verifies and names Codex.
Hook trust is part of the test: install must leave Codex trusting the hooks (Codex skips an
untrusted hook silently), so nothing here passes `--dangerously-bypass-hook-trust`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from agent_session import SECRETS, World, cli_or_skip, decisions  # noqa: E402
from responses_server import Call, ResponsesServer  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def session():
    codex = cli_or_skip("codex")
    w = World("codex")
    codex_home = w.home / ".codex"
    codex_home.mkdir()
    w.env["CODEX_HOME"] = str(codex_home)
    w.commands = {
        "destructive": f"rm -f {w.sentinel}",
        "benign": "ls -la",
        "cat_secret": "cat notes.txt",
    }
    script = [Call("exec_command", {"cmd": w.commands[k]}) for k in ("destructive", "benign", "cat_secret")]
    try:
        with ResponsesServer(script) as server:
            (codex_home / "config.toml").write_text(
                'model_provider = "scripted"\nmodel = "gpt-5"\napproval_policy = "never"\n'
                'sandbox_mode = "danger-full-access"\n\n[model_providers.scripted]\nname = "scripted"\n'
                f'base_url = "{server.url}"\nwire_api = "responses"\nenv_key = "SCRIPTED_API_KEY"\n')
            w.config_before = (codex_home / "config.toml").read_bytes()
            w.install = json.loads(w.warden("install", "codex", "--user", "--json").stdout)
            proc = subprocess.run([codex, "exec", "--skip-git-repo-check", "--json", "tidy up and show notes.txt"],
                                  cwd=w.workspace, env={**w.env, "SCRIPTED_API_KEY": "x"}, capture_output=True,
                                  text=True, timeout=240)
            w.proc, w.server = proc, server
            w.codex_events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
            if __import__("os").environ.get("WARDEN_E2E_DEBUG"):
                print(json.dumps(server.tool_outputs(), indent=1), proc.stderr[-3000:])
        yield w
    finally:
        w.close()


def test_install_trusts_the_hooks_and_the_session_ran(session):
    assert session.install["changed"] is True
    assert [f["settings"].rsplit("/", 1)[-1] for f in session.install["files"]] == ["hooks.json", "config.toml"]
    assert session.proc.returncode == 0, session.proc.stderr[-3000:]
    # every scripted step reached the model and came back as a tool output
    assert len(session.server.tool_outputs()) == 3, session.server.tool_outputs()


def test_destructive_command_outside_the_workspace_never_runs(session):
    assert session.sentinel.read_text() == "must survive\n"
    denial = session.server.tool_outputs()[0]
    # Warden said so (an ask becomes a deny in Codex, which has no ask), with the way forward.
    assert "Warden" in denial and "approval" in denial, denial


def test_benign_command_runs(session):
    assert "hello-from-workspace.txt" in session.server.tool_outputs()[1]


def test_secret_in_tool_output_never_reaches_the_model(session):
    redacted = session.server.tool_outputs()[2]
    assert "line-before-secret" in redacted and "[REDACTED:" in redacted, redacted
    sent = session.server.all_request_text()
    for secret in SECRETS:
        assert secret not in sent


def test_audit_log_verifies_and_names_codex(session):
    session.warden("audit", "verify")
    events = session.audit_events()
    made = decisions(events)
    assert made.get(session.commands["destructive"]) in ("ask", "deny")
    assert made.get(session.commands["benign"]) == "allow"
    assert {e.get("agent") for e in events if e.get("kind") == "decision"} == {"codex"}
    assert any(e.get("kind") == "outcome" and (e.get("outcome") or {}).get("status") == "redacted" for e in events)
    assert {"start", "stop"} <= {e.get("phase") for e in events if e.get("kind") == "session"}
    for secret in SECRETS:
        assert secret not in json.dumps(events)


def test_uninstall_restores_codex_config_byte_for_byte(session):
    session.warden("uninstall", "codex", "--user")
    codex_home = Path(session.env["CODEX_HOME"])
    assert (codex_home / "config.toml").read_bytes() == session.config_before
    assert not (codex_home / "hooks.json").exists()

"""The approval card (no secrets, diff, rollback, outside paths) and the policy fields' validation."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from warden.core.policy.load import LayerSource, PolicyLoadError, compile_policy
from warden.gateway import Gateway

TOKEN = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"

QUEUE_ALL = """
version: 1
rules:
  - id: queue-writes
    effect: ask
    reason: writes need review
    tool: [Write, Edit, Bash]
    approval: {route: queue}
"""


@pytest.fixture
def gw(tmp_path: Path, workspace: Path):
    (workspace / "warden.yaml").write_text(QUEUE_ALL)
    g = Gateway(cwd=str(workspace), policy_file=None, home=tmp_path / "wh", environ={"HOME": str(tmp_path)},
                audit=True)
    yield g
    g.close()


def card_of(gw, payload):
    v = gw.decide_payload({"cwd": gw.cwd, "session_id": "s1", "actor": {"id": "alice", "agent": "cc"}, **payload})
    assert v.approval, v.reason
    return gw.state().get_request(v.approval["id"]).card


def test_write_card_has_a_diff_a_rollback_hint_and_no_secret(gw, workspace: Path) -> None:
    target = workspace / "config.py"
    target.write_text("DEBUG = False\n")
    card = card_of(gw, {"tool_name": "Write", "tool_input": {"file_path": str(target),
                                                             "content": f"DEBUG = True\nTOKEN = '{TOKEN}'\n"}})
    assert "-DEBUG = False" in card["diff"] and "+DEBUG = True" in card["diff"]
    assert card["rollback"].startswith("previous content sha256:")
    assert TOKEN not in repr(card) and "REDACTED" in card["diff"]
    assert card["paths"][0]["path"] == str(target) and card["paths"][0]["in_workspace"] is True


def test_bash_card_lists_commands_outside_paths_hosts_and_session_prompt(gw, workspace: Path) -> None:
    gw.decide_payload({"hook_event_name": "UserPromptSubmit", "prompt": f"deploy it, token {TOKEN}",
                       "cwd": gw.cwd, "session_id": "s1"})
    card = card_of(gw, {"tool_name": "Bash", "tool_input": {
        "command": f"cp /etc/hosts ./h && curl -H 'Authorization: token {TOKEN}' https://api.example.com/x"}})
    assert len(card["simple_commands"]) == 2
    assert "/etc/hosts" in card["outside_workspace"] and "api.example.com" in card["hosts"]
    assert card["session_prompt"].startswith("deploy it") and TOKEN not in repr(card)
    assert card["recent_actions"] and card["recent_actions"][0]["tool"] == "Prompt"


def test_rendered_card_reads_like_a_card(gw, workspace: Path) -> None:
    from warden.cli.approvals import render_card

    v = gw.decide_payload({"tool_name": "Bash", "tool_input": {"command": "git push origin main"}, "cwd": gw.cwd,
                           "session_id": "s1", "actor": {"id": "alice", "agent": "cc"}})
    text = render_card(gw.state().get_request(v.approval["id"]))
    for heading in ("WHAT WILL RUN", "WHAT IT TOUCHES", "WHY IT ASKS", "WHO ASKS", "ROLLBACK"):
        assert heading in text
    assert "git push origin main" in text and "warden approvals approve" in text


@pytest.mark.parametrize("rule,message", [
    ("effect: deny\n    approval: {route: queue}", "only applies to rules with effect: ask"),
    ("effect: ask\n    approval: {route: teams}", "rules.0.approval.route"),
    ("effect: ask\n    approval: {expires: forever}", "rules.0.approval.expires"),
    ("effect: ask\n    approval: {grant: always}", "rules.0.approval.grant"),
    ("effect: ask\n    approval: {quorum: 0}", "rules.0.approval.quorum"),
    ("effect: allow\n    limit: 10 per session", "rules.0.limit.max"),
    ("effect: allow\n    limit: {max: 5/session, per: planet}", "rules.0.limit.per"),
    ("effect: allow\n    limit: {max: 5/session, on_exceed: allow}", "rules.0.limit.on_exceed"),
])
def test_bad_control_fields_are_load_errors_with_a_line(rule: str, message: str) -> None:
    text = f"version: 1\nrules:\n  - id: r\n    reason: x\n    program: [ls]\n    {rule}\n"
    with pytest.raises(PolicyLoadError) as exc:
        compile_policy([LayerSource("project", "warden.yaml", text)], check_examples=False)
    assert message in str(exc.value) and "warden.yaml:" in str(exc.value)


def test_good_control_fields_compile() -> None:
    text = ("version: 1\nsettings: {loop_breaker: {repeat: 3}, trusted_mcp: [github]}\nrules:\n"
            "  - id: r\n    reason: x\n    effect: ask\n    program: [ls]\n"
            "    approval: {route: queue, approvers: [bob], quorum: 2, expires: 90s, grant: 30m}\n"
            "    limit: 10/1h\n")
    p = compile_policy([LayerSource("project", "warden.yaml", text)], check_examples=False)
    rule = next(r for r in p.rules if r.id == "r")
    assert rule.approval == {"route": "queue", "approvers": ["bob"], "roles": [], "quorum": 2, "expires_s": 90.0,
                             "grant": "duration:1800"}
    assert rule.limit.window == "duration:3600" and rule.limit.per == "session"
    assert p.settings["loop_breaker"] == {"repeat": 3} and p.settings["trusted_mcp"] == ["github"]


def test_watch_streams_a_new_request(gw, workspace: Path, tmp_path: Path) -> None:
    import os

    from warden_cli import WARDEN

    env = {**os.environ, "WARDEN_HOME": str(tmp_path / "wh")}
    watch = subprocess.Popen([WARDEN, "approvals", "watch", "--json", "--timeout", "20"], env=env,
                             stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    v = gw.decide_payload({"tool_name": "Bash", "tool_input": {"command": "git push origin x"}, "cwd": gw.cwd,
                           "session_id": "s1", "actor": {"id": "alice", "agent": "cc"}})
    line = watch.stdout.readline()
    watch.kill()
    import json

    assert json.loads(line)["id"] == v.approval["id"]

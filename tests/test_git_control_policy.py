"""The policy side of the git control surface: writes to anything git executes from are guard tampering
(denied), whatever the tool; the data files git writes while working are not."""

from __future__ import annotations

import subprocess

import pytest

from warden.core.analyze.paths import git_control_kind

CONTROL = [".git/config", ".git/config.worktree", ".git/hooks/pre-commit", ".git/commondir", ".git/gitdir",
           ".git/info/attributes", ".git/info/exclude", ".git/objects/info/alternates",
           ".git/objects/info/http-alternates", ".git/modules/lib/config", ".git/modules/lib/hooks/post-checkout",
           ".git/modules/a/modules/b/config", ".git/worktrees/wt/commondir", ".git/worktrees/wt/config.worktree",
           ".git/modules/lib", ".gitmodules", "sub/.gitmodules", "vendor/x/.git/config", ".envrc", "sub/.envrc",
           ".vscode/tasks.json", ".vscode/launch.json"]
DATA = [".git/objects/ab/cdef", ".git/refs/heads/main", ".git/index", ".git/HEAD", ".git/COMMIT_EDITMSG",
        ".gitignore", ".github/README.md", "src/git/config.py", "notes/.git-notes"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    from warden.gateway import Gateway

    ws = tmp_path_factory.mktemp("ws")
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    home = tmp_path_factory.mktemp("home")
    gw = Gateway(cwd=str(ws), policy_file=None, home=home / ".warden", environ={"HOME": str(home)}, audit=False)
    return gw, ws


def _verdict(gateway, tool, tool_input):
    gw, ws = gateway
    return gw.decide_payload({"tool_name": tool, "tool_input": tool_input, "cwd": str(ws)})


@pytest.mark.parametrize("rel", CONTROL)
def test_writing_the_git_control_surface_is_denied(gateway, rel):
    _, ws = gateway
    for tool, data in (("Write", {"file_path": str(ws / rel), "content": "x"}),
                       ("Bash", {"command": f"echo x > {rel}"})):
        v = _verdict(gateway, tool, data)
        assert v.decision.label == "deny", (tool, v.reason)
        assert "guard.tamper" in {f.kind for f in v.facts}


@pytest.mark.parametrize("rel", DATA)
def test_git_data_and_lookalikes_are_not_guards(rel):
    assert git_control_kind(f"/w/{rel}") == ""


@pytest.mark.parametrize("command", ["mv planted .git", "echo 'gitdir: /tmp/p' > sub/.git", "cp -r /tmp/p .git"])
def test_putting_a_git_dir_in_place_is_denied(gateway, command):
    v = _verdict(gateway, "Bash", {"command": command})
    assert v.decision.label == "deny", v.reason


@pytest.mark.parametrize("command", ["GIT_DIR=/tmp/p git status", "GIT_COMMON_DIR=/tmp/p git log",
                                     "git --git-dir=/tmp/p status", "git --git-dir /tmp/planted log"])
def test_pointing_git_at_another_git_dir_is_not_auto_allowed(gateway, command):
    v = _verdict(gateway, "Bash", {"command": command})
    assert v.decision.label != "allow", v.reason


def test_ordinary_git_stays_allowed(gateway):
    for command in ("git status", "git --git-dir=.git log", "git diff"):
        assert _verdict(gateway, "Bash", {"command": command}).decision.label == "allow", command

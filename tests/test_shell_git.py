"""git semantics: protected branches, force pushes, deletions, work-tree loss, config that runs programs."""

from __future__ import annotations

import pytest
from shell_util import an, kinds


@pytest.mark.parametrize("cmd", ["git push --force origin main", "git push -f origin master", "git push origin +main",
                                 "git push --force-with-lease origin main", "git push -f origin HEAD:main",
                                 "git push --mirror", "git -C sub push -f origin refs/heads/main",
                                 "git push -fu origin release/1.2"])
def test_force_push_to_protected(cmd):
    assert "git.force_push_protected" in kinds(cmd)


@pytest.mark.parametrize("cmd", ["git push origin :main", "git push origin --delete master", "git push -d origin main"])
def test_delete_protected(cmd):
    assert "git.delete_protected" in kinds(cmd)


def test_push_data_carries_branches_and_force():
    push = next(f for f in an("git push -f origin feature/x").all_facts() if f.kind == "git.push")
    assert push.data["branches"] == ["feature/x"] and push.data["force"] is True and push.data["remote"] == "origin"
    assert "git.force_push" in kinds("git push -f") and "git.force_push_protected" not in kinds("git push -f")
    assert "git.push_protected" in kinds("git push origin main")


@pytest.mark.parametrize("cmd,kind", [
    ("git reset --hard HEAD~1", "git.reset_hard"), ("git clean -fdx", "git.clean"), ("git checkout -- .", "git.discard"),
    ("git restore src/", "git.discard"), ("git stash clear", "git.stash_drop"), ("git branch -D old", "git.branch_delete"),
    ("git filter-branch --tree-filter x HEAD", "git.history_rewrite"), ("git gc --prune=now", "git.history_rewrite"),
    ("git commit --no-verify -m x", "git.no_verify"), ("git commit -nm x", "git.no_verify"),
    ("git remote add evil https://x/r", "git.remote_change"), ("git -c core.pager='sh -c id' log", "git.config_exec"),
    ("git config alias.x '!sh -c id'", "git.config_exec"), ("git config core.hooksPath /tmp/h", "guard.tamper"),
    ("git credential fill", "secret.read"), ("git -c core.sshCommand='nc x 1' fetch", "exec.escape"),
    ("git clone --template=/tmp/t https://x/r", "exec.escape"), ("git clone ext::sh -c id", "exec.escape"),
    ("git config --global user.name x", "git.config_global"), ("git $SUB", "exec.opaque"),
])
def test_risky_git(cmd, kind):
    assert kind in kinds(cmd), (cmd, kinds(cmd))


@pytest.mark.parametrize("cmd", ["git status", "git log --oneline", "git diff --stat", "git commit -m 'rm -rf /'",
                                 "git checkout -b x", "git switch main", "git restore --staged a", "git clean -n",
                                 "git branch -d merged", "git fetch", "git pull --rebase", "GIT_PAGER=cat git log",
                                 "git -c color.ui=always log", "git config --get user.email", "git stash pop"])
def test_everyday_git_is_quiet(cmd):
    risky = {k for k in kinds(cmd) if not k.startswith(("git.subcommand", "git.fetch", "path.outside"))}
    assert not risky, (cmd, risky)


def test_escaped_command_inside_git_config_is_analyzed():
    assert "fs.critical" in kinds("git -c core.pager='rm -rf ~' log")
    assert "fs.critical" in kinds("git rebase --exec 'rm -rf ~' main")

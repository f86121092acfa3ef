"""Wrappers are unwrapped, with their own options skipped; the inner command is analyzed."""

from __future__ import annotations

import pytest
from shell_util import an, argvs, kinds, paths, programs


@pytest.mark.parametrize("wrapper", [
    "sudo", "sudo -u root", "sudo -E -H", "sudo --user=root", "doas", "doas -u root", "command", "exec", "exec -a x",
    "env", "env -i", "env -i A=1 B=2", "env -u HOME", "env -C /tmp", "nice", "nice -n 10", "nohup", "timeout 10",
    "timeout -s KILL -k 5 10", "time", "time -p", "stdbuf -oL -eL", "ionice -c3", "setsid", "busybox", "chrt -f 1",
    "taskset 0x1", "taskset -c 0", "unbuffer", "flock /tmp/l", "flock -n /tmp/l", "strace -f -o /tmp/t", "fakeroot",
    "torsocks", "xargs", "xargs -0 -n1", "xargs -I{} -P4", "nice -n 5 sudo -u x timeout 3", "uv run", "poetry run",
    "bundle exec", "pipenv run", "conda run -n env", "coproc", "watch -x", "chroot /srv/root",
])
def test_inner_command_is_analyzed(wrapper):
    assert "rm" in programs(f"{wrapper} rm -rf x"), wrapper
    assert any(c.program == "rm" and c.via for c in an(f"{wrapper} rm -rf x").commands)


def test_privilege_wrappers_are_facts():
    for w in ["sudo", "doas", "pkexec", "su -c", "runuser -u root --"]:
        assert "priv.escalate" in kinds(f"{w} id"), w
    assert "priv.shell" in kinds("sudo -i") and "priv.shell" in kinds("sudo su")


@pytest.mark.parametrize("cmd", ["su -c 'rm -rf /'", "su root -c 'rm -rf /'", "flock /tmp/l -c 'rm -rf /'",
                                 "env -S 'rm -rf /'", "watch 'rm -rf /'", "sudo -s rm -rf /", "script -qc 'rm -rf /'"])
def test_shell_string_wrappers(cmd):
    assert "fs.critical" in kinds(cmd), cmd


def test_command_v_runs_nothing():
    assert programs("command -v rm") == ["command"]


def test_find_exec_and_delete():
    assert "fs.critical" in kinds("find / -delete")
    assert "fs.critical" in kinds("find ~ -type f -delete")  # -type does not narrow the tree
    assert "fs.critical" not in kinds("find / -name '*.log' -delete")
    assert "fs.write_outside" in kinds("find / -name '*.log' -delete")
    assert ("rm", "-rf", ".") in argvs("find . -exec rm -rf {} +")
    assert "fs.critical" in kinds("find / -exec rm -rf {} \\;")
    assert not {"fs.critical", "fs.write_outside"} & kinds("find . -name '*.pyc' -delete")


def test_find_name_pattern_reaches_classification():
    assert "secret.read" in kinds("find ~ -name 'id_rsa*' -exec cat {} \\;")
    assert "guard.tamper" in kinds("find . -path '*/.claude/*' -delete")


def test_xargs_feeds_stdin_words():
    assert ("rm", "-rf", "/") in argvs("echo / | xargs rm -rf")
    assert "fs.unresolved_target" in kinds("ls | xargs rm")
    # what find lists is classified like the paths themselves
    assert "fs.critical" in kinds("find / | xargs rm -rf")
    assert not {"fs.critical", "fs.write_outside"} & kinds("find . -name '*.pyc' | xargs rm")
    assert "secret.read" in kinds("find / -name '*.pem' | xargs cat")
    assert ("rm", "-rf", "/") in argvs("echo / | xargs -I{} rm -rf {}")


def test_env_dump_without_command():
    assert "secret.env_dump" in kinds("env")
    assert "secret.env_dump" not in kinds("env FOO=1 ls")


def test_loader_variables_in_wrappers():
    assert "exec.env_inject" in kinds("env LD_PRELOAD=/tmp/x.so ls")
    assert "exec.env_inject" in kinds("LD_PRELOAD=/tmp/x.so ls")
    assert "exec.env_inject" not in kinds("NODE_ENV=test npm test")
    assert paths("sudo tee /etc/hosts", "write") == {"/etc/hosts"}

"""Path classification shared by Bash and the file tools."""

from __future__ import annotations

import pytest
from shell_util import ENV, WS, kinds

from warden.core.action import action_from_payload
from warden.core.analyze import analyze
from warden.core.analyze.paths import classify, is_critical, secret_kind
from warden.core.facts import Access, PathRef


@pytest.mark.parametrize("path", ["/", "/home/dev", "/etc", "/usr/lib", "/*", "/home/dev/*", "/home", "/home/*",
                                  "/var/log", "/home/dev/*/x"])
def test_critical(path):
    assert is_critical(path, ENV, WS)


@pytest.mark.parametrize("path", ["/tmp/x", "/home/dev/project/build", "/home/dev/project/*", "/usr/local/go/bin",
                                  "/home/dev/notes"])
def test_not_critical(path):
    assert not is_critical(path, ENV, WS)


@pytest.mark.parametrize("path", ["/home/dev/.ssh/id_rsa", "/home/dev/.aws/credentials", "/home/dev/.config/gh/hosts.yml",
                                  "/home/dev/.netrc", "/home/dev/.docker/config.json", "/home/dev/.kube/config",
                                  "/home/dev/project/.env", "/home/dev/project/.env.production", "/proc/1/environ",
                                  "/etc/shadow", "/home/dev/.git-credentials", "/srv/app/server.key", "/root/.aws/credentials",
                                  "/home/dev/project/terraform.tfstate", "/home/dev/.bash_history"])
def test_secret_locations(path):
    assert secret_kind(path, ENV)


@pytest.mark.parametrize("path", ["/home/dev/.ssh/id_rsa.pub", "/home/dev/.ssh/known_hosts", "/home/dev/project/.env.example",
                                  "/home/dev/project/README.md", "/etc/hosts", "/home/dev/.gitconfig",
                                  "/etc/ssl/certs/ca-certificates.crt", "/home/dev/project/certs/fullchain.pem"])
def test_not_secret(path):
    assert not secret_kind(path, ENV)


@pytest.mark.parametrize("path,kind", [
    ("/home/dev/project/.claude/settings.json", "guard.tamper"), ("/home/dev/project/.mcp.json", "guard.tamper"),
    ("/home/dev/project/warden.yaml", "guard.tamper"), ("/home/dev/project/.warden/policy.yaml", "guard.tamper"),
    ("/home/dev/.warden/audit.db", "guard.tamper"), ("/home/dev/project/.git/hooks/pre-commit", "guard.tamper"),
    ("/home/dev/project/sub/.claude/settings.json", "guard.tamper"), ("/home/dev/.claude/settings.json", "guard.tamper"),
    ("/home/dev/project/.github/workflows/ci.yml", "ci.workflow_write"), ("/home/dev/.bashrc", "persist.shell_rc"),
    ("/home/dev/.ssh/authorized_keys", "persist.authorized_keys"), ("/etc/sudoers", "sys.auth_write"),
    ("/etc/cron.d/x", "persist.cron"), ("/home/dev/.config/systemd/user/x.service", "persist.service"),
    ("/dev/sda", "device.write"), ("/etc/nginx/nginx.conf", "sys.file_write"), ("/home/dev/other", "fs.write_outside"),
    ("/home/dev/project/.git/config", "git.config_write"),
])
def test_write_classification(path, kind):
    facts = {f.kind for f in classify(PathRef(path, Access.WRITE, path.startswith(WS + "/")), ENV, WS)}
    assert kind in facts, facts


def test_temp_and_sinks_are_quiet():
    for path in ["/tmp/x", "/var/tmp/y", "/dev/null", "/dev/stderr", "/dev/fd/3"]:
        facts = {f.kind for f in classify(PathRef(path, Access.WRITE, False), ENV, WS)}
        assert not facts - {"path.outside_workspace"}, (path, facts)


def test_bash_and_file_tools_are_judged_alike():
    for tool, key, cmd in [("Read", "file_path", "cat ~/.ssh/id_rsa"), ("Write", "file_path", "echo x > .mcp.json")]:
        raw = "~/.ssh/id_rsa" if tool == "Read" else ".mcp.json"
        action = action_from_payload({"tool_name": tool, "tool_input": {key: raw, "content": "x"}, "cwd": WS})
        tool_kinds = {f.kind for f in analyze(action, ENV).all_facts()}
        assert {"secret.read", "guard.tamper"} & tool_kinds & kinds(cmd)


def test_symlinks_resolve_through_the_adapter_supplied_realpath():
    from dataclasses import replace

    env = replace(ENV, realpath=lambda p: "/home/dev/.ssh/id_rsa" if p.endswith("innocent.txt") else p)
    assert "secret.read" in kinds("cat innocent.txt", env=env)


def test_listing_a_secret_directory_is_not_reading_it():
    assert "secret.read" not in kinds("ls -la ~/.ssh")
    assert "secret.read" in kinds("cat ~/.ssh/*")


def test_symlinks_made_in_the_same_command_are_followed():
    assert "fs.critical" in kinds("ln -s / x; rm -rf x/")
    assert "fs.critical" in kinds("ln -s ~ h && rm -rf h/*")
    assert "fs.critical" in kinds("mkdir d; ln -s /etc d/; rm -rf d/etc/")
    assert "secret.read" in kinds("ln -s ~/.ssh k; cat k/id_rsa")
    assert not {"fs.critical", "fs.write_outside"} & kinds("ln -s build b; rm -rf b/")


def test_workspace_behind_a_symlink_is_still_the_workspace():
    from dataclasses import replace

    real = {"/home/dev/project": "/data/project"}

    def realpath(p: str) -> str:
        for k, v in real.items():
            if p == k or p.startswith(k + "/"):
                return v + p[len(k):]
        return p

    env = replace(ENV, realpath=realpath)
    assert "fs.write_outside" not in kinds("rm -rf build", env=env)
    assert "fs.write_outside" in kinds("rm -rf /data/other", env=env)


def test_credential_stores_stay_protected_when_the_workspace_is_home():
    from warden.core.analyze.shell import analyze_shell

    def kinds_at_home(cmd: str) -> set[str]:
        return {f.kind for f in analyze_shell(cmd, "/home/dev", "/home/dev", ENV).all_facts()}

    assert "secret.write" in kinds_at_home("rm -rf ~/.ssh")
    assert "secret.write" in kinds_at_home("echo x > ~/.aws/credentials")
    assert "fs.critical" in kinds_at_home("rm -rf ~/*")
    assert "secret.write" not in kinds_at_home("echo A=1 > .env")


def test_a_root_workspace_is_no_workspace():
    from warden.core.analyze.shell import analyze_shell

    ks = {f.kind for f in analyze_shell("rm -rf /etc/nginx", "/", "/", ENV).all_facts()}
    assert "fs.write_outside" in ks and "sys.file_write" in ks

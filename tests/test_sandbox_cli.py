"""`warden exec` end to end: the policy decides first, then the command runs in real bubblewrap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox_env import needs_bwrap

from warden.adapters.exec import wrap_for_claude

pytestmark = [needs_bwrap, pytest.mark.e2e]
WARDEN = str(Path(sys.executable).parent / "warden")



def warden_exec(world, policy: str, *args: str, env: dict | None = None):
    pol = world.base / "policy.yaml"
    pol.write_text(policy)
    full = dict(world.env, WARDEN_POLICY=str(pol), WARDEN_AUDIT="0", WARDEN_MANAGED_POLICY="")
    full.update(env or {})
    return subprocess.run([WARDEN, "exec", *args], cwd=world.ws, env=full, capture_output=True, timeout=60)


# disable: ['*'] switches off the built-in recommended rules so each test's default alone decides
ALLOW = "version: 1\ndisable: ['*']\ndefault: allow\n"


def test_allowed_command_runs_confined_with_status_passed_through(world):
    r = warden_exec(world, ALLOW, "--", "/bin/sh", "-c",
                    f"echo in > made.txt; echo out > {world.outside}/x.txt; cat ~/.ssh/id_rsa; echo err >&2; exit 7")
    assert r.returncode == 7
    assert (world.ws / "made.txt").read_text() == "in\n"
    assert not (world.outside / "x.txt").exists()
    assert b"SECRETKEY" not in r.stdout + r.stderr
    assert b"err\n" in r.stderr


def test_deny_refuses_before_running(world):
    r = warden_exec(world, "version: 1\ndisable: ['*']\ndefault: deny\n", "--", "/bin/sh", "-c", "echo ran > ran.txt")
    assert r.returncode == 126
    assert b"denied by policy" in r.stderr
    assert not (world.ws / "ran.txt").exists()


def test_ask_is_refused_without_a_human(world):
    r = warden_exec(world, "version: 1\ndisable: ['*']\ndefault: ask\n", "--yes", "--", "/bin/sh", "-c", "echo ran > ran.txt")
    assert r.returncode == 126
    assert b"asks for approval" in r.stderr and b"agents and scripts cannot approve" in r.stderr
    assert not (world.ws / "ran.txt").exists()


def test_no_sandbox_needs_the_policy(world):
    script = f"echo out > {world.outside}/unconfined.txt"
    r = warden_exec(world, ALLOW, "--no-sandbox", "--", "/bin/sh", "-c", script)
    assert r.returncode == 125 and b"not allowed by the policy" in r.stderr
    assert not (world.outside / "unconfined.txt").exists()
    r = warden_exec(world, ALLOW + "sandbox:\n  allow_unsandboxed: true\n", "--no-sandbox", "--", "/bin/sh", "-c", script)
    assert r.returncode == 0 and b"WITHOUT the sandbox" in r.stderr
    assert (world.outside / "unconfined.txt").exists()


def test_missing_bubblewrap_fails_closed(world):
    r = warden_exec(world, ALLOW, "--", "/bin/sh", "-c", "echo ran > ran.txt", env={"PATH": "/nonexistent"})
    assert r.returncode == 125
    assert b"apt-get install bubblewrap" in r.stderr and b"did not run" in r.stderr
    assert not (world.ws / "ran.txt").exists()


def test_profile_selection_and_unknown_profile(world):
    policy = ALLOW + f"sandbox:\n  profiles:\n    wide:\n      writable: [{json.dumps(str(world.outside))}]\n"
    r = warden_exec(world, policy, "--profile", "wide", "--", "/bin/sh", "-c", f"echo ok > {world.outside}/w.txt")
    assert r.returncode == 0, r.stderr
    assert (world.outside / "w.txt").exists()
    r = warden_exec(world, policy, "--profile", "nope", "--", "true")
    assert r.returncode == 125 and b"no sandbox profile named 'nope'" in r.stderr


def test_json_explain_shows_the_plan_and_runs_nothing(world):
    r = warden_exec(world, ALLOW, "--json-explain", "--", "/bin/sh", "-c", "echo ran > ran.txt")
    assert r.returncode == 0
    plan = json.loads(r.stdout)
    assert plan["decision"] == "allow" and plan["network"] == "none"
    assert "--unshare-all" in plan["bwrap"] and "--seccomp" in plan["bwrap"] and "--cap-drop" in plan["bwrap"]
    assert str(world.home / ".ssh") in plan["mounts"]["masked"]
    assert not (world.ws / "ran.txt").exists()


def test_command_not_found(world):
    r = warden_exec(world, ALLOW, "--", "no-such-program-xyz")
    assert r.returncode == 127 and b"command not found" in r.stderr


def test_claude_code_rewrite_runs_in_the_sandbox(world):
    pol = world.base / "policy.yaml"
    pol.write_text(ALLOW)
    command = f"echo \"it's $((6*7))\" > answer.txt && echo pwned > {world.outside}/p.txt; cat ~/.aws/credentials"
    wrapped = wrap_for_claude(command, str(world.ws))
    env = dict(world.env, WARDEN_POLICY=str(pol), WARDEN_AUDIT="0", WARDEN_MANAGED_POLICY="",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    r = subprocess.run(["/bin/sh", "-c", wrapped], cwd=world.ws, env=env, capture_output=True, timeout=60)
    assert (world.ws / "answer.txt").read_text() == "it's 42\n", r.stderr
    assert not (world.outside / "p.txt").exists()
    assert b"SECRETAWS" not in r.stdout + r.stderr


def test_ask_can_be_approved_by_a_human_at_a_terminal(world):
    import pty

    pol = world.base / "policy.yaml"
    pol.write_text("version: 1\ndisable: ['*']\ndefault: ask\n")
    env = dict(world.env, WARDEN_POLICY=str(pol), WARDEN_AUDIT="0", WARDEN_MANAGED_POLICY="")
    main, tty = pty.openpty()
    try:
        args = [WARDEN, "exec", "--yes", "--", "/bin/sh", "-c", "echo ran > ran.txt"]
        r = subprocess.run(args, cwd=world.ws, env=env, stdin=tty, stderr=tty, stdout=subprocess.PIPE, timeout=60)
        assert r.returncode == 0
        assert (world.ws / "ran.txt").read_text() == "ran\n"
        (world.ws / "ran.txt").unlink()
        r = subprocess.run(args[:2] + args[3:], cwd=world.ws, env=env, stdin=tty, stderr=tty, timeout=60)
        assert r.returncode == 126  # at a terminal, but nobody said --yes
        assert not (world.ws / "ran.txt").exists()
    finally:
        os.close(main)
        os.close(tty)


@pytest.mark.parametrize("daemon", ["1", "0"])
def test_exec_records_decision_and_outcome_with_or_without_the_daemon(world, daemon):
    env = {"WARDEN_AUDIT": "1", "WARDEN_HOOK_DAEMON": daemon, "WARDEN_HOOKD_IDLE": "5"}
    codes = [warden_exec(world, ALLOW, "--", "/bin/sh", "-c", f"exit {n}", env=env).returncode for n in (3, 4, 5)]
    assert codes == [3, 4, 5]
    full = dict(world.env, WARDEN_MANAGED_POLICY="")
    tail = subprocess.run([WARDEN, "audit", "tail", "-n", "20", "--json"], env=full, capture_output=True, timeout=60)
    events = [json.loads(line) for line in tail.stdout.decode().splitlines()]
    decisions = [e for e in events if e["kind"] == "decision"]
    outcomes = [e for e in events if e["kind"] == "outcome"]
    assert [d["result"]["decision"] for d in decisions] == ["allow"] * 3
    assert [o["outcome"]["exit_code"] for o in outcomes] == [3, 4, 5]
    assert [o["decision_id"] for o in outcomes] == [d["id"] for d in decisions]  # each run linked to its decision
    assert subprocess.run([WARDEN, "audit", "verify"], env=full, capture_output=True, timeout=60).returncode == 0
    sockets = list((world.warden_home / "run").glob("*.sock")) if (world.warden_home / "run").exists() else []
    assert bool(sockets) == (daemon == "1")  # the first run started a daemon, which served the later ones


@pytest.mark.parametrize("daemon", ["1", "0"])
def test_credential_values_under_innocent_names_never_reach_the_sandbox(world, daemon):
    import secrets
    import string

    # a Stripe live key: not among the sandbox's built-in prefixes, so only the secrets engine catches it
    token = "sk_live_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    env = {"WARDEN_HOOK_DAEMON": daemon, "WARDEN_HOOKD_IDLE": "5", "BUILD_LABEL": token, "PLAIN_SETTING": "on"}
    for _ in range(2):  # the second run is the one a started daemon answers
        r = warden_exec(world, ALLOW, "--", "/usr/bin/env", env=env)
        assert r.returncode == 0, r.stderr
        assert b"PLAIN_SETTING=on" in r.stdout
        assert token.encode() not in r.stdout and b"BUILD_LABEL" not in r.stdout

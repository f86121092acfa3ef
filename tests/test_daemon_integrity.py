"""The warm daemon cannot be impersonated, a stopped or trickling daemon costs at most ~1 s, and the
sandbox cannot reach any Warden daemon's socket."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from test_claude_hook import POLICY, _stop_daemons, _wait_for_socket, answer, hook, pre

from warden.integrations.daemon import client
from warden.integrations.daemon.client import socket_path

ENV = {"WARDEN_HOOK_DAEMON": "1", "WARDEN_HOOKD_IDLE": "20"}


@pytest.fixture
def project(workspace: Path, warden_home: Path) -> Path:
    (workspace / "warden.yaml").write_text(POLICY)
    return workspace
EVIL = ("WebFetch", {"url": "https://evil.example/", "prompt": "p"})


def _listen_as(path: str, uid: int) -> int:
    """A child that binds ``path`` as us, then listens as ``uid``: SO_PEERCRED reports ``uid``."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            s = socket.socket(socket.AF_UNIX)
            s.bind(path)
            os.setuid(uid)
            s.listen(4)
            os.write(w, b"1")
            while True:
                conn, _ = s.accept()
                conn.sendall(b"+0 0 0\n")  # "allow, nothing to say": must never be believed
                conn.close()
        finally:
            os._exit(0)
    os.read(r, 1)
    return pid


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to listen as another uid")
def test_a_socket_served_by_another_uid_is_refused_fail_closed(project, warden_home):
    path = socket_path({"WARDEN_HOME": str(warden_home)})
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    pid = _listen_as(path, 65534)
    try:
        proc = hook(pre("Read", {"file_path": str(project / "a")}, project), project, env=ENV)
        assert proc.returncode == 2 and proc.stdout == b""
        assert b"served by uid 65534" in proc.stderr and b"rm " in proc.stderr
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.unlink(path)


def _daemon_pid(sock: Path) -> int:
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(sock))
    try:
        return client._peer(s)[0]
    finally:
        s.close()


def test_a_stopped_daemon_is_replaced_and_the_hook_still_answers(project, warden_home):
    try:
        hook(pre(*EVIL, project), project, env=ENV)  # starts the daemon
        sock = _wait_for_socket(warden_home)
        assert answer(hook(pre(*EVIL, project), project, env=ENV))["permissionDecision"] == "deny"
        pid = _daemon_pid(sock)
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        proc = hook(pre(*EVIL, project), project, "--deadline", "8", env=ENV)
        elapsed = time.monotonic() - started
        assert answer(proc)["permissionDecision"] == "deny"  # decided in-process, correctly
        assert elapsed < 8 + 2, elapsed  # was: the whole deadline + 1 s, then exit 2
        for _ in range(50):  # the stopped daemon was killed
            try:
                os.kill(pid, 0)
                if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                    break
            except (ProcessLookupError, FileNotFoundError):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError("the stopped daemon is still there")
        for _ in range(100):  # ...and a fresh one answers again
            if sock.exists():
                try:
                    if _daemon_pid(sock) != pid:
                        break
                except OSError:
                    pass
            time.sleep(0.1)
        assert answer(hook(pre(*EVIL, project), project, env=ENV))["permissionDecision"] == "deny"
    finally:
        _stop_daemons(warden_home)


def test_a_trickling_daemon_cannot_stretch_the_deadline(warden_home, tmp_path):
    path = str(tmp_path / "trickle.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(2)
    stop = threading.Event()

    def trickle():
        conn, _ = srv.accept()
        conn.sendall(b"+")
        while not stop.is_set():  # one byte every 0.2 s, forever: each recv succeeds
            try:
                conn.sendall(b"9")
            except OSError:
                return
            time.sleep(0.2)

    threading.Thread(target=trickle, daemon=True).start()
    original = client.socket_path
    client.socket_path = lambda environ: path  # type: ignore[assignment]
    box: list = []
    try:
        started = time.monotonic()
        asker = threading.Thread(target=lambda: box.append(client.ask(b"{}", {}, str(tmp_path), [client.DECIDE], 1.5)),
                                 daemon=True)
        asker.start()
        asker.join(timeout=15)  # a failure must be a failure, not a hung test run
        elapsed = time.monotonic() - started
        assert box, "the client is still reading the trickle after 15 s"
        result = box[0]
    finally:
        client.socket_path = original  # type: ignore[assignment]
        stop.set()
        srv.close()
    assert result is not None and result[0] == 2 and b"did not answer in time" in result[2]
    assert elapsed < 1.5 + 2, elapsed


@pytest.mark.e2e
def test_daemon_sockets_are_invisible_inside_the_sandbox(world):
    from sandbox_env import needs_bwrap  # noqa: F401 - the world fixture needs bwrap anyway

    other_home = world.outside / "other-warden"
    run = other_home / "run"
    run.mkdir(parents=True, mode=0o700)
    sock_path = str(run / "hookd-0000abcd.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(sock_path)
    srv.listen(2)
    try:
        probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1]); print('CONNECTED')\n"
                 "except OSError as e:\n    print('refused', e.strerror)\nimport os\nprint(os.listdir(sys.argv[2]))\n")
        from sandbox_env import PY

        from warden.adapters.exec import Profile, run_sandboxed

        r = run_sandboxed([PY, "-c", probe, sock_path, str(run)], Profile(), str(world.ws), cwd=str(world.ws),
                          env=world.env, warden_home=str(world.warden_home), capture=True)
        text = (r.stdout or b"").decode() + (r.stderr or b"").decode()
        assert "CONNECTED" not in text and "hookd-0000abcd.sock" not in text, text
        assert "refused" in text
    finally:
        srv.close()

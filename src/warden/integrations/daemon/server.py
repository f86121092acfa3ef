"""The warm per-user daemon, so a hook, `warden decide` or `warden exec` costs little more than
starting Python.

Why: every agent tool call starts a hook process. Importing the policy engine, the shell parser
and the audit store costs several times the interpreter's own start-up. The daemon keeps them
imported; the calling process only forwards its stdin, environment and cwd over a Unix socket and
copies the answer back (:mod:`warden.integrations.daemon.client`, which imports nothing but
``_socket``). The daemon is agent-neutral: a hook request names its agent and the agent module
answers it (:func:`warden.integrations.hook.run_with_deadline`).

Correctness does not depend on the daemon:
* The daemon answers with exactly the function the in-process path runs, with the caller's
  environment and cwd. Policy files are re-read and digested on every request (the compiled
  policy comes from the digest-keyed cache), so an edited policy applies on the next call.
* No daemon, a refused connection, or a daemon built from other code (it checks its source files'
  stamps on every request and answers ``STALE``) -> the caller answers in-process and starts a
  fresh daemon in the background for next time.
* A daemon that does not answer within the caller's deadline -> the caller fails closed (exit 2),
  and a watchdog makes such a daemon exit so the next call starts a fresh one.

The socket lives in ``$WARDEN_HOME/run/`` (a directory created 0700; protect it in the policy like
the rest of ``$WARDEN_HOME``), or in ``/tmp/warden-<uid>/`` when that path would be too long for a
Unix socket. ``WARDEN_HOOK_DAEMON=0`` turns the daemon off; ``WARDEN_HOOKD_IDLE`` (seconds,
default 900) is how long an idle daemon lives.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from warden.integrations.daemon.client import ACK, DECIDE, HOOK, MAGIC, MAX_BODY, REPORT
from warden.integrations.daemon.pool import RecorderPool

# --- server ----------------------------------------------------------------------------------


def _code_stamp() -> tuple[tuple[str, int], ...]:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # src/warden
    stamp = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith((".py", ".yaml")):
                full = os.path.join(dirpath, name)
                try:
                    stamp.append((full, os.stat(full).st_mtime_ns))
                except OSError:
                    pass
    return tuple(sorted(stamp))


def _read_exact(conn: Any, n: int, buf: bytearray) -> bytes:
    while len(buf) < n:
        chunk = conn.recv(max(65536, n - len(buf)))
        if not chunk:
            raise EOFError("client closed early")
        buf.extend(chunk)
    data = bytes(buf[:n])
    del buf[:n]
    return data


def _read_request(conn: Any) -> tuple[str, dict[str, str], list[str], bytes]:
    buf = bytearray()
    magic = _read_exact(conn, len(MAGIC), buf)
    if magic != MAGIC:
        raise ValueError("not a Warden hook request")
    while b"\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk or len(buf) > 200:
            raise ValueError("bad header")
        buf.extend(chunk)
    line, _, rest = bytes(buf).partition(b"\n")
    buf = bytearray(rest)
    n_cwd, n_env, n_argv, n_raw = (int(x) for x in line.split())
    if min(n_cwd, n_env, n_argv, n_raw) < 0 or n_raw > MAX_BODY + 1 or n_env > 8 * 1024 * 1024:
        raise ValueError("request too large")
    cwd = os.fsdecode(_read_exact(conn, n_cwd, buf))
    env_b = _read_exact(conn, n_env, buf)
    argv_b = _read_exact(conn, n_argv, buf)
    raw = _read_exact(conn, n_raw, buf)
    environ: dict[str, str] = {}
    for item in env_b.split(b"\0") if env_b else ():
        key, sep, value = item.partition(b"=")
        if sep:
            environ[os.fsdecode(key)] = os.fsdecode(value)
    argv = [os.fsdecode(a) for a in argv_b.split(b"\0")] if argv_b else []
    return cwd, environ, argv, raw


def serve(path: str) -> int:
    import fcntl
    import queue
    import socket
    import threading

    from warden.integrations import hook

    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    st = os.stat(directory)
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        return 1  # someone else's or a shared directory: never listen there
    lock = open(path + ".lock", "a")  # noqa: SIM115 - held open (and locked) for the daemon's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another daemon is alive
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o077)
    try:
        srv.bind(path)
    finally:
        os.umask(old_umask)
    srv.listen(16)
    srv.settimeout(5.0)
    # Accepted and acknowledged on their own thread, so a client can tell "busy" (acknowledged at once,
    # answered in turn) from "stopped or wedged" (never acknowledged: the client replaces the daemon).
    accepted: queue.Queue[Any] = queue.Queue()
    closing = threading.Event()
    acceptor = threading.Thread(target=_accept_loop, args=(srv, accepted, closing), daemon=True)
    acceptor.start()
    my_inode = os.stat(path).st_ino
    stamp = _code_stamp()
    stamp_checked = _now()
    pool = RecorderPool()
    idle_limit = float(os.environ.get("WARDEN_HOOKD_IDLE") or 900)
    last = _now()
    link = None
    try:  # logged in to a team server: the link (kills, approvals, outbox) runs while the daemon lives
        from warden.integrations.server_client.link import start_in_background

        link = start_in_background(dict(os.environ))
    except Exception:  # noqa: BLE001 — `warden doctor` reports a link that is not running
        pass
    # Warm the imports the first request would otherwise pay for.
    try:
        from warden.gateway import Gateway

        warm = Gateway.from_env(cwd="/", environ=dict(os.environ), audit=False)
        warm.decide_payload({"tool_name": "Bash", "tool_input": {"command": "true"}, "cwd": "/"})
        warm.close()
        import json  # noqa: F401
    except Exception:
        pass
    while True:
        try:
            conn = accepted.get(timeout=5.0)
        except queue.Empty:
            if _now() - last > idle_limit or not _still_ours(path, my_inode):
                break
            continue
        last = _now()
        with conn:
            try:
                conn.settimeout(5.0)
                cwd, environ, argv, raw = _read_request(conn)
            except Exception:
                continue
            # Our own code changed (an upgrade): hand the event back and exit. Checked at most
            # once a second; an upgrade mid-second is answered by the old code one last time.
            if _now() - stamp_checked > 1.0:
                stamp_checked = _now()
                if _code_stamp() != stamp:
                    _send(conn, b"STALE\n")
                    break
            if argv[:1] == [REPORT]:  # a sandbox run/egress report to record as an outcome
                _send(conn, _reply(*_report(raw, environ, cwd, pool)))
                continue
            if argv[:1] == [DECIDE]:  # a plain decision (`warden exec`/`decide`, see daemon.decide)
                watchdog = threading.Timer(DECIDE_DEADLINE + 2.0, os._exit, args=(3,))
                watchdog.daemon = True
                watchdog.start()
                try:
                    _send(conn, _reply(*_decide(raw, environ, cwd, argv[1:], pool)))
                finally:
                    watchdog.cancel()
                continue
            if argv[:1] != [HOOK] or len(argv) < 2 or argv[1] not in hook.AGENTS:
                _send(conn, _reply(2, b"", b"warden: the daemon got a request it does not know; blocking\n"))
                continue
            agent = argv[1]
            try:
                opts = hook.parse_args(argv[2:], environ)
            except ValueError as exc:
                _send(conn, _reply(2, b"", f"warden hook {agent}: {exc}\n".encode()))
                continue
            deadline = opts["deadline"]
            # A request stuck past its deadline (in C code that ignores signals) ends the daemon;
            # the caller has already failed closed, and the next call starts a fresh daemon.
            watchdog = threading.Timer(deadline + 2.0, os._exit, args=(3,))
            watchdog.daemon = True
            watchdog.start()
            try:
                code, out, err = hook.run_with_deadline(agent, raw, environ, cwd, opts, deadline, pool)
            finally:
                watchdog.cancel()
            _send(conn, _reply(code, out, err))
    closing.set()
    srv.close()
    pool.close()
    if link is not None:
        link.close()
    if _still_ours(path, my_inode):
        os.unlink(path)
    return 0


DECIDE_DEADLINE = 8.0


def _decide(raw: bytes, environ: dict[str, str], cwd: str, args: list[str], pool: RecorderPool) -> tuple[int, bytes, bytes]:
    """Decide one action payload with the caller's environment; the verdict plus what the caller
    needs to act on it (the workspace's sandbox section, the recorded decision id, and which of its
    environment variables hold credentials)."""
    import json

    from warden.adapters.exec.env import engine_flags
    from warden.gateway import Gateway

    policy_file = args[1] if args[:1] == ["--policy"] and len(args) > 1 else None
    gw = Gateway.from_env(cwd=cwd, policy_file=policy_file, environ=environ, audit=True)
    with pool.borrowed(gw) as outcome:
        try:
            payload = json.loads(raw)
            verdict = gw.decide_payload(payload)
            workspace = payload.get("workspace") or gw.workspace_for(cwd)
            try:
                sandbox = gw.policy_for(workspace).sandbox
            except Exception:  # the verdict is already a deny that quotes the load error
                sandbox = None
            out = {"verdict": verdict.to_json(), "sandbox": sandbox, "decision_id": gw.last_decision_id,
                   "audit": gw.audit, "secret_env": engine_flags(environ)}
        except Exception as exc:  # the caller fails closed on a non-zero answer
            return 2, b"", f"warden: the decision daemon failed: {type(exc).__name__}: {exc}\n".encode()
        outcome["healthy"] = True
        return 0, json.dumps(out).encode(), b""


def _report(raw: bytes, environ: dict[str, str], cwd: str, pool: RecorderPool) -> tuple[int, bytes, bytes]:
    """Record a sandbox run or egress report as an outcome linked to its decision."""
    import json

    from warden.adapters.exec.report import outcome_from_report
    from warden.gateway import Gateway

    gw = Gateway.from_env(cwd=cwd, environ=environ, audit=True)
    with pool.borrowed(gw) as outcome:
        try:
            body = json.loads(raw)
            event_id = gw.record(outcome_from_report(body["report"], str(body.get("decision_id") or ""),
                                                     gw.redactor()))
        except Exception as exc:  # the caller reports that the run could not be recorded
            return 2, b"", f"{type(exc).__name__}: {exc}".encode()
        outcome["healthy"] = True
        return 0, event_id.encode(), b""


def _accept_loop(srv: Any, accepted: Any, closing: Any) -> None:
    while not closing.is_set():
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            continue
        except OSError:
            return  # the listening socket was closed: the daemon is exiting
        try:
            conn.sendall(ACK)
        except OSError:
            conn.close()
            continue
        accepted.put(conn)


def _reply(code: int, out: bytes, err: bytes) -> bytes:
    return b"%d %d %d\n" % (code, len(out), len(err)) + out + err


def _send(conn: Any, data: bytes) -> None:
    try:
        conn.sendall(data)
    except OSError:
        pass


def _still_ours(path: str, inode: int) -> bool:
    try:
        return os.stat(path).st_ino == inode
    except OSError:
        return False


def _now() -> float:
    import time

    return time.monotonic()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m warden.integrations.daemon.server SOCKET_PATH (started by the hook)\n")
        raise SystemExit(2)
    raise SystemExit(serve(sys.argv[1]))

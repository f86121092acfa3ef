"""The daemon's lean client: forward one request over a Unix socket and copy the answer back.

Every per-call entry point (agent hooks, `warden decide`, `warden exec`) runs this in a fresh
process, so it imports nothing but ``os``, ``sys`` and ``_socket`` (``json`` and ``typing`` alone
would cost more than the round trip). The server is :mod:`warden.integrations.daemon.server`.

Wire format (one request per connection)::

    MAGIC  "<len cwd> <len env> <len argv> <len body>\\n"  cwd  env(NUL-joined K=V)  argv(NUL-joined)  body
    ->     "+"  "<exit code> <len out> <len err>\\n"  out  err    or  "+STALE\\n"  (decide locally)

The ``+`` is sent on accept by the daemon's acceptor thread: no ``+`` within ``ACK_TIMEOUT`` means a
stopped or wedged daemon, which the client kills and replaces (it answers in-process meanwhile).
The client also checks ``SO_PEERCRED``: a socket served by another uid is refused (fail closed).

``argv[0]`` says what is asked: ``HOOK`` + agent name + hook options, ``DECIDE`` or ``REPORT``.
"""

import os
import sys
import time  # a builtin module: free to import

TYPE_CHECKING = False  # importing typing costs ~8 ms here; annotations are quoted
if TYPE_CHECKING:
    from collections.abc import Mapping

MAGIC = b"WARDEN-HOOK 1\n"
MAX_BODY = 16 * 1024 * 1024  # the largest hook event or action any entry point forwards
HOOK = "--hook"  # argv[0]: answer a hook event; argv[1] is the agent, the rest its options
DECIDE = "--decide"  # argv[0]: decide one action payload (`warden exec`, `warden decide`)
REPORT = "--record-report"  # argv[0]: record a sandbox run/egress report as an outcome
_MAX_SUN_PATH = 100
ACK = b"+"  # the daemon's first byte on every accepted connection: "alive, working on it"
ACK_TIMEOUT = 1.0  # seconds a live daemon may take to acknowledge, even on a loaded machine
_SERVER_MODULE = "warden.integrations.daemon.server"


def _tag(text: str) -> str:
    """A short stable tag (32-bit FNV-1a): zlib would cost an extension-module import per call."""
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


def socket_path(environ: "Mapping[str, str]") -> str:
    home = environ.get("WARDEN_HOME") or (environ.get("HOME") or "/") + "/.warden"
    # One daemon per (interpreter, installed package): a different venv never answers for us.
    tag = _tag(os.path.realpath(sys.executable) + "\0" + os.path.dirname(__file__))
    path = f"{home}/run/hookd-{tag}.sock"
    if len(path.encode()) <= _MAX_SUN_PATH:
        return path
    return f"/tmp/warden-{os.getuid()}/hookd-{tag}-{_tag(home)}.sock"


def ask(body: bytes, environ: "Mapping[str, str]", cwd: str, argv: "list[str]",
        deadline: float) -> "tuple[int, bytes, bytes] | None":
    """The daemon's (exit code, stdout, stderr), or None when the caller should answer in-process.

    None means nothing was decided (no daemon, a refused connection, a daemon from other code);
    a daemon that accepted the request but did not answer in time is a fail-closed exit 2.
    """
    import _socket

    path = socket_path(environ)
    if path.startswith("/tmp/"):
        try:
            st = os.stat(os.path.dirname(path))
        except OSError:
            st = None
        if st is not None and (st.st_uid != os.getuid() or st.st_mode & 0o077):
            return None  # a directory someone else controls: never trust a socket in it
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(min(deadline, 2.0))
        try:
            sock.connect(path)
        except OSError:
            spawn(path)
            return None
        peer_pid, peer_uid = _peer(sock)
        if peer_uid != os.getuid():
            # A socket at our path served by someone else: never send them our environment, and never
            # take their answer. Fail closed; the message says how to clear it.
            return 2, b"", (f"Warden blocked this: the daemon socket {path} is served by uid {peer_uid}, not by "
                            f"you (uid {os.getuid()}); something may be impersonating Warden. Remove the socket "
                            f"(rm {path}) or set WARDEN_HOOK_DAEMON=0\n").encode()
        env = b"\0".join(k + b"=" + v for k, v in os.environb.items())
        cwd_b = os.fsencode(cwd)
        argv_b = b"\0".join(os.fsencode(a) for a in argv)
        header = b"%d %d %d %d\n" % (len(cwd_b), len(env), len(argv_b), len(body))
        started = time.monotonic()
        try:
            sock.sendall(MAGIC + header + cwd_b + env + argv_b + body)
            sock.shutdown(_socket.SHUT_WR)
            # A live daemon acknowledges at once (its acceptor thread runs even while a request is being
            # decided); a stopped or wedged one never does: kill it, start a fresh one, decide here.
            sock.settimeout(ACK_TIMEOUT)
            first = sock.recv(1)
        except OSError:
            _replace_stuck(peer_pid, path)
            return None
        chunks = [] if first == ACK else [first]
        # One budget for the whole answer, not per recv: a daemon that trickles bytes cannot stretch it.
        end = started + deadline + 1.0
        try:
            while first:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the answer did not complete within the deadline")
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError as exc:
            _replace_stuck(peer_pid, path)
            return 2, b"", (f"Warden blocked this: the hook daemon did not answer in time ({exc})\n").encode()
        reply = b"".join(chunks)
        if not reply or reply.startswith(b"STALE"):
            return None  # nothing was decided (daemon restarting or from other code): decide here
        head, _, rest = reply.partition(b"\n")
        try:
            code_s, out_n, err_n = head.split()
            out_len, err_len, code = int(out_n), int(err_n), int(code_s)
        except ValueError:
            return 2, b"", b"Warden blocked this: the hook daemon sent an unreadable answer\n"
        if len(rest) != out_len + err_len:
            return 2, b"", b"Warden blocked this: the hook daemon sent a truncated answer\n"
        return code, rest[:out_len], rest[out_len:]
    finally:
        sock.close()


def _peer(sock: object) -> tuple[int, int]:
    """(pid, uid) of the process that listens on the other end (SO_PEERCRED, set by the kernel)."""
    import _socket

    try:
        cred = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # type: ignore[attr-defined]
    except (OSError, AttributeError):
        return 0, -1  # cannot tell who it is: treated as someone else
    return int.from_bytes(cred[0:4], sys.byteorder), int.from_bytes(cred[4:8], sys.byteorder)


def _replace_stuck(pid: int, path: str) -> None:
    """End a daemon that accepted but does not answer (SIGSTOP, wedged in C code), then start another."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            is_ours = _SERVER_MODULE.encode() in f.read()
        if pid > 1 and is_ours:
            os.kill(pid, 9)  # SIGKILL also ends a stopped process
    except OSError:
        pass
    spawn(path)


def spawn(path: str) -> None:
    """Start a daemon in the background; never fails the caller."""
    try:
        devnull = os.devnull
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, devnull, os.O_WRONLY, 0),
        ]
        env = dict(os.environ)
        env.pop("PYTHONSTARTUP", None)
        os.posix_spawn(sys.executable, [sys.executable, "-m", _SERVER_MODULE, path],
                       env, file_actions=actions, setsid=True)
    except Exception:
        pass

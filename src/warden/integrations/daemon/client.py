"""The daemon's lean client: forward one request over a Unix socket and copy the answer back.

Every per-call entry point (agent hooks, `warden decide`, `warden exec`) runs this in a fresh
process, so it imports nothing but ``os``, ``sys`` and ``_socket`` (``json`` and ``typing`` alone
would cost more than the round trip). The server is :mod:`warden.integrations.daemon.server`.

Wire format (one request per connection)::

    MAGIC  "<len cwd> <len env> <len argv> <len body>\\n"  cwd  env(NUL-joined K=V)  argv(NUL-joined)  body
    ->     "<exit code> <len out> <len err>\\n"  out  err         or  "STALE\\n"  (decide locally)

``argv[0]`` says what is asked: ``HOOK`` + agent name + hook options, ``DECIDE`` or ``REPORT``.
"""

import os
import sys

TYPE_CHECKING = False  # importing typing costs ~8 ms here; annotations are quoted
if TYPE_CHECKING:
    from collections.abc import Mapping

MAGIC = b"WARDEN-HOOK 1\n"
MAX_BODY = 16 * 1024 * 1024  # the largest hook event or action any entry point forwards
HOOK = "--hook"  # argv[0]: answer a hook event; argv[1] is the agent, the rest its options
DECIDE = "--decide"  # argv[0]: decide one action payload (`warden exec`, `warden decide`)
REPORT = "--record-report"  # argv[0]: record a sandbox run/egress report as an outcome
_MAX_SUN_PATH = 100
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
        env = b"\0".join(k + b"=" + v for k, v in os.environb.items())
        cwd_b = os.fsencode(cwd)
        argv_b = b"\0".join(os.fsencode(a) for a in argv)
        header = b"%d %d %d %d\n" % (len(cwd_b), len(env), len(argv_b), len(body))
        sock.settimeout(deadline + 1.0)  # the daemon enforces the deadline itself; this is the backstop
        try:
            sock.sendall(MAGIC + header + cwd_b + env + argv_b + body)
            sock.shutdown(_socket.SHUT_WR)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError as exc:
            return 2, b"", (f"Warden blocked this: the hook daemon did not answer in time ({exc})\n").encode()
        reply = b"".join(chunks)
        if not reply or reply.startswith(b"STALE"):
            return None  # nothing was decided (daemon restarting or from other code): decide here
        head, _, rest = reply.partition(b"\n")
        code_s, out_n, err_n = head.split()
        out_len, err_len = int(out_n), int(err_n)
        if len(rest) != out_len + err_len:
            return 2, b"", b"Warden blocked this: the hook daemon sent a truncated answer\n"
        return int(code_s), rest[:out_len], rest[out_len:]
    finally:
        sock.close()


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

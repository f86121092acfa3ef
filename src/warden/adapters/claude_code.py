"""Claude Code hooks: ``warden hook claude-code`` reads one hook event on stdin and answers it.

Event -> what Warden does (docs/claude-code.md has the full story):

* ``PreToolUse``: the Gateway's verdict becomes ``permissionDecision`` allow / ask / deny with a
  reason that says what was found and what would be allowed instead.
* ``PostToolUse``: secrets in the tool's output are replaced through ``updatedToolOutput`` before
  the model sees them; the outcome is recorded.
* ``UserPromptSubmit``: a prompt carrying a secret is blocked.
* ``SessionStart`` / ``SessionEnd`` / ``Stop``: session boundaries are recorded; SessionStart
  hands the model a one-paragraph summary of the policy.

Fail closed: Claude Code lets a tool run when a hook exits 1, crashes or times out, so every
internal error and the internal deadline (kept well below the hook timeout) exit 2 with the
reason on stderr. PostToolUse is the exception that proves the rule: there exit 2 would not stop
the output reaching the model, so a failure *withholds* the output instead.

This module is the hot path of every tool call: it imports only ``os``, ``sys`` and ``_socket``
and hands the event to the hook daemon (:mod:`warden.adapters.claude_hookd`). The protocol mapping
is :func:`warden.adapters.claude_protocol.respond`, run by the daemon or, without one, here.
"""

from __future__ import annotations

import os
import sys

from warden.adapters.environment import flag_on

TYPE_CHECKING = False  # importing typing costs ~8 ms here; annotations are strings anyway
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

DEFAULT_DEADLINE = 8.0  # seconds; the installed hook timeout is 30 s (Claude Code's default is 60 s)
MAX_STDIN = 16 * 1024 * 1024
SESSION_EVENTS = ("SessionStart", "SessionEnd", "Stop", "SubagentStop")

USAGE = """usage: warden hook claude-code [--deadline SECONDS] [--no-daemon] [--policy FILE]
Reads one Claude Code hook event (JSON) on stdin and answers in Claude Code's hook protocol.
Installed by `warden install claude-code`; see docs/claude-code.md."""


class HookDeadline(Exception):
    """The internal deadline passed: the answer is a block, not a late allow."""


def hook_main(argv: list[str]) -> int:
    """Entry point dispatched by ``warden.cli.main`` before click is imported."""
    try:
        opts = parse_args(argv, os.environ)
    except ValueError as exc:
        sys.stderr.write(f"warden hook claude-code: {exc}\n{USAGE}\n")
        return 2
    if opts.get("help"):
        sys.stdout.write(USAGE + "\n")
        return 0
    environ = os.environ
    deadline = opts["deadline"]
    try:
        raw = sys.stdin.buffer.read(MAX_STDIN + 1)
    except Exception as exc:  # a closed or unreadable stdin is not an answer
        sys.stderr.write(f"warden: cannot read the hook event on stdin ({exc}); blocking to stay safe\n")
        return 2
    cwd = _safe_cwd()
    if opts["daemon"] and flag_on(environ, "WARDEN_HOOK_DAEMON"):
        try:
            answer = ask_daemon(raw, environ, cwd, argv, deadline)
        except Exception:
            answer = None  # the daemon is an accelerator; the in-process path is the reference
        if answer is not None:
            code, out, err = answer
            return _emit(code, out, err)
    try:
        code, out, err = run_with_deadline(raw, environ, cwd, opts, deadline)
    except BaseException as exc:  # last line of defence: never exit 1, which Claude Code treats as go-ahead
        sys.stderr.write(f"Warden blocked this because it failed: {type(exc).__name__}: {exc}\n")
        return 2
    return _emit(code, out, err)


def _emit(code: int, out: bytes, err: bytes) -> int:
    try:
        if out:
            sys.stdout.buffer.write(out)
            sys.stdout.buffer.flush()
        if err:
            sys.stderr.buffer.write(err)
            sys.stderr.buffer.flush()
    except Exception:
        return 2
    return code


def _safe_cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "/"


def parse_args(argv: list[str], environ: Mapping[str, str]) -> dict[str, Any]:
    opts: dict[str, Any] = {"deadline": DEFAULT_DEADLINE, "daemon": True, "policy": None}
    env_deadline = environ.get("WARDEN_HOOK_DEADLINE")
    if env_deadline:
        opts["deadline"] = _positive(env_deadline, "WARDEN_HOOK_DEADLINE")
    it = iter(argv)
    for arg in it:
        if arg in ("-h", "--help"):
            opts["help"] = True
        elif arg == "--no-daemon":
            opts["daemon"] = False
        elif arg == "--deadline" or arg.startswith("--deadline="):
            value = arg.split("=", 1)[1] if "=" in arg else next(it, "")
            opts["deadline"] = _positive(value, "--deadline")
        elif arg == "--policy" or arg.startswith("--policy="):
            value = arg.split("=", 1)[1] if "=" in arg else next(it, "")
            if not value:
                raise ValueError("--policy needs a file name")
            opts["policy"] = value
        else:
            raise ValueError(f"unknown argument {arg!r}")
    return opts


def _positive(value: str, name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if not seconds > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return seconds


def run_with_deadline(
    raw: bytes, environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any], deadline: float, pool: Any = None
) -> tuple[int, bytes, bytes]:
    """Answer in this process, with SIGALRM enforcing the deadline (main thread only)."""
    import signal

    def _expired(signum: int, frame: Any) -> None:
        raise HookDeadline(f"Warden did not decide within its {deadline:g} s deadline")

    previous = signal.signal(signal.SIGALRM, _expired)
    state: dict[str, str] = {}  # respond() notes the parsed event name here
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, deadline)
            from warden.adapters.claude_protocol import respond

            return respond(raw, environ, cwd, opts, pool, state)
        finally:
            # An alarm that lands here still raises HookDeadline, caught just below.
            signal.setitimer(signal.ITIMER_REAL, 0)
    except HookDeadline as exc:
        from warden.adapters.claude_protocol import failure

        return failure(state.get("event") or event_of(raw), str(exc))
    finally:
        signal.signal(signal.SIGALRM, previous)


def event_of(raw: bytes) -> str:
    """The event name for a failure answer when the payload could not be (fully) handled.

    Reads the first ``"hook_event_name": "..."`` (Claude Code writes it before ``tool_input``, so
    a tool input cannot smuggle in another name) and accepts only known names.
    """
    key = b'"hook_event_name"'
    at = raw.find(key, 0, 65536)
    if at < 0:
        return ""
    rest = raw[at + len(key): at + len(key) + 64].lstrip(b" \t\r\n")
    if not rest.startswith(b":"):
        return ""
    rest = rest[1:].lstrip(b" \t\r\n")
    if not rest.startswith(b'"'):
        return ""
    name = rest[1:].split(b'"', 1)[0].decode("ascii", "replace")
    known = ("PreToolUse", "PostToolUse", "UserPromptSubmit", *SESSION_EVENTS)
    return name if name in known else ""


# --- the daemon client (see warden.adapters.claude_hookd for the server) -----------------------

MAGIC = b"WARDEN-HOOK 1\n"
_MAX_SUN_PATH = 100


def socket_path(environ: Mapping[str, str]) -> str:
    home = environ.get("WARDEN_HOME") or (environ.get("HOME") or "/") + "/.warden"
    import zlib  # builtin C module: no import cost worth measuring

    # One daemon per (interpreter, installed package): a different venv never answers for us.
    origin = os.path.realpath(sys.executable) + "\0" + os.path.dirname(__file__)
    tag = f"{zlib.crc32(origin.encode()):08x}"
    path = f"{home}/run/hookd-{tag}.sock"
    if len(path.encode()) <= _MAX_SUN_PATH:
        return path
    return f"/tmp/warden-{os.getuid()}/hookd-{tag}-{zlib.crc32(home.encode()):08x}.sock"


# --- client (hot path: keep it to _socket, os and sys) ---------------------------------------


def ask_daemon(raw: bytes, environ: Mapping[str, str], cwd: str, argv: list[str],
        deadline: float) -> tuple[int, bytes, bytes] | None:
    """The daemon's answer, or None when the caller should answer in-process."""
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
        header = b"%d %d %d %d\n" % (len(cwd_b), len(env), len(argv_b), len(raw))
        sock.settimeout(deadline + 1.0)  # the daemon enforces the deadline itself; this is the backstop
        try:
            sock.sendall(MAGIC + header + cwd_b + env + argv_b + raw)
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
        os.posix_spawn(sys.executable, [sys.executable, "-m", "warden.adapters.claude_hookd", path],
                       env, file_actions=actions, setsid=True)
    except Exception:
        pass

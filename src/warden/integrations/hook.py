"""``warden hook AGENT``: read one hook event on stdin and answer it in that agent's protocol.

The hook runner is agent-neutral; what an event means and how an answer is written is the agent
module's business (:mod:`warden.integrations.agents`, named in :data:`AGENTS`). Each agent module
offers ``respond(raw, environ, cwd, opts, pool, state) -> (exit code, stdout, stderr)``,
``failure(event, why)`` (the answer that actually blocks for that event) and ``event_of(raw)``.

Fail closed: agents let a tool run when a hook exits 1, crashes or times out, so every internal
error and the internal deadline (kept well below the hook timeout) become the agent's own
blocking answer with the reason on stderr.

This module is the hot path of every tool call: it imports only ``os``, ``sys`` and the daemon's
lean client, and hands the event to the warm daemon (:mod:`warden.integrations.daemon.server`).
Without a daemon the agent module answers here, in-process; both run :func:`run_with_deadline`.
"""

from __future__ import annotations

import os
import sys

from warden.adapters.environment import flag_on
from warden.integrations.daemon import client

TYPE_CHECKING = False  # importing typing costs ~8 ms here; annotations are strings anyway
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Protocol

    class AgentModule(Protocol):
        """What an agent module offers the hook runner (a module satisfies it structurally)."""

        def respond(self, raw: bytes, environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any],
                    pool: Any, state: dict[str, str]) -> tuple[int, bytes, bytes]: ...

        def failure(self, event: str, why: str) -> tuple[int, bytes, bytes]: ...

        def event_of(self, raw: bytes) -> str: ...

# agent name (as in `warden hook NAME`) -> the module that speaks its protocol
AGENTS: dict[str, str] = {
    "claude-code": "warden.integrations.agents.claude_code",
    "codex": "warden.integrations.agents.codex",
    "gemini": "warden.integrations.agents.gemini",
    "copilot": "warden.integrations.agents.copilot",
    "cursor": "warden.integrations.agents.cursor",
}
DEFAULT_DEADLINE = 8.0  # seconds; the installed hook timeout is 30 s (Claude Code's default is 60 s)
MAX_STDIN = client.MAX_BODY

USAGE = """usage: warden hook {agent} [--deadline SECONDS] [--no-daemon] [--policy FILE] [--event NAME]
Reads one {agent} hook event (JSON) on stdin and answers in {agent}'s hook protocol.
Installed by `warden install {agent}`; see docs/agents.md."""


class HookDeadline(BaseException):
    """The internal deadline passed: the answer is a block, not a late allow.

    A BaseException so that no ``except Exception`` on the way (in an agent module or the engine)
    can turn the deadline into an ordinary error answer or swallow it.
    """


def main(agent: str, argv: list[str]) -> int:
    """Entry point dispatched by ``warden.cli.main`` before click is imported."""
    if agent not in AGENTS:
        sys.stderr.write(f"warden hook: unknown agent {agent!r} (known: {', '.join(AGENTS)}); blocking\n")
        return 2
    try:
        opts = parse_args(argv, os.environ)
    except ValueError as exc:
        sys.stderr.write(f"warden hook {agent}: {exc}\n{USAGE.format(agent=agent)}\n")
        return 2
    if opts.get("help"):
        sys.stdout.write(USAGE.format(agent=agent) + "\n")
        return 0
    environ = os.environ
    deadline = opts["deadline"]
    try:
        raw = sys.stdin.buffer.read(MAX_STDIN + 1)
    except Exception as exc:  # a closed or unreadable stdin is not an answer
        sys.stderr.write(f"warden: cannot read the hook event on stdin ({exc}); blocking to stay safe\n")
        return 2
    cwd = _safe_cwd()
    # Whether a human can answer a prompt: a daemon (no terminal of its own) cannot tell.
    os.environ["WARDEN_HOOK_TTY"] = "1" if _has_terminal() else "0"
    if opts["daemon"] and flag_on(environ, "WARDEN_HOOK_DAEMON"):
        try:
            answer = client.ask(raw, environ, cwd, [client.HOOK, agent, *argv], deadline)
        except Exception:
            answer = None  # the daemon is an accelerator; the in-process path is the reference
        if answer is not None:
            return _emit(*answer)
    try:
        code, out, err = run_with_deadline(agent, raw, environ, cwd, opts, deadline)
    except BaseException as exc:  # last line of defence: never exit 1, which agents treat as go-ahead
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


def _has_terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


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
        elif arg == "--event" or arg.startswith("--event="):
            # agents that run one configured command per event without naming it in the payload
            opts["event"] = arg.split("=", 1)[1] if "=" in arg else next(it, "")
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


def agent_module(agent: str) -> AgentModule:
    import importlib

    module: Any = importlib.import_module(AGENTS[agent])
    return module  # a module satisfies AgentModule structurally


def run_with_deadline(
    agent: str, raw: bytes, environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any], deadline: float,
    pool: Any = None,
) -> tuple[int, bytes, bytes]:
    """Answer in this process, with SIGALRM enforcing the deadline (main thread only)."""
    import signal

    def _expired(signum: int, frame: Any) -> None:
        raise HookDeadline(f"Warden did not decide within its {deadline:g} s deadline")

    previous = signal.signal(signal.SIGALRM, _expired)
    state: dict[str, str] = {}  # respond() notes the parsed event name here
    module: AgentModule | None = None
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, deadline)
            module = agent_module(agent)
            return module.respond(raw, environ, cwd, opts, pool, state)
        finally:
            # An alarm that lands here still raises HookDeadline, caught just below.
            signal.setitimer(signal.ITIMER_REAL, 0)
    except HookDeadline as exc:
        module = module or agent_module(agent)
        return module.failure(state.get("event") or module.event_of(raw), str(exc))
    finally:
        signal.signal(signal.SIGALRM, previous)

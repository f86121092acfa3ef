"""`warden exec` without click: decide through the policy, then run inside bubblewrap.

Both the click command (:mod:`warden.cli.exec`, for ``--help``) and the fast dispatch in
:func:`warden.cli.main` call :func:`run_exec`. ``warden exec`` wraps every sandboxed agent
command, so its start-up is product behaviour: no click, rich or pydantic on this path.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any

_SHELLS = {"sh", "bash", "dash", "zsh"}


def decided_command(command: list[str]) -> str:
    """The Bash text the policy judges. ``bash -c SCRIPT`` is judged as SCRIPT itself, so the
    Claude Code sandbox rewrite is decided on what the agent actually asked for."""
    if len(command) == 3 and os.path.basename(command[0]) in _SHELLS and command[1] == "-c":
        return command[2]
    return shlex.join(command)


def _workspace(gw: Any, cwd: str, given: str | None) -> str:
    if given:
        return os.path.realpath(given)
    ws = os.path.realpath(gw.workspace_for(cwd))
    home = os.path.realpath(os.path.expanduser("~"))
    # A marker in $HOME (~/.claude) must not make the whole home directory the writable workspace.
    if ws in ("/", home) and os.path.realpath(cwd) != ws:
        return os.path.realpath(cwd)
    return ws


def _say(message: str, hint: str = "") -> None:
    sys.stderr.write(f"warden exec: {message}\n")
    if hint:
        sys.stderr.write(f"  fix: {hint}\n")
    sys.stderr.flush()


def _found(program: str, path: str | None) -> bool:
    if "/" in program:
        return os.path.isfile(program)
    for d in (path or os.defpath).split(os.pathsep):
        candidate = os.path.join(d or ".", program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return True
    return False


def run_exec(command: list[str], *, policy_file: str | None = None, profile: str = "default",
             workspace: str | None = None, no_sandbox: bool = False, json_explain: bool = False,
             yes: bool = False, grant: str = "") -> int:
    from warden.adapters.exec import EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_SETUP
    from warden.adapters.exec.profile import ProfileError, parse_sandbox_section
    from warden.core.action import Action, Actor
    from warden.core.decision import Decision

    if not command:
        _say("no command given", "warden exec [--profile NAME] -- CMD ARGS...")
        return EXIT_SETUP
    cwd = os.getcwd()

    def action_in(gw: Any) -> Any:
        return Action(tool="Bash", input={"command": decided_command(command)}, cwd=cwd,
                      workspace=_workspace(gw, cwd, workspace),
                      actor=Actor(agent=os.environ.get("WARDEN_AGENT", "warden-exec")),
                      context={"sandbox_profile": "none" if no_sandbox else profile})

    # The warm daemon decides (and records) in a few milliseconds; a dry run, or no daemon yet,
    # decides here. Either way the same Gateway code makes the decision.
    gw: Any = None
    verdict = None
    if not json_explain:
        from warden.integrations.daemon.decide import daemon_gateway

        gw = daemon_gateway(cwd, policy_file, os.environ)
        if gw is not None:
            action = action_in(gw)
            verdict = gw.decide(action)
    if verdict is None:
        from warden.gateway import Gateway

        gw = Gateway.from_env(cwd=cwd, policy_file=policy_file, audit=not json_explain)
        action = action_in(gw)
        verdict = gw.decide(action)
    ws = action.workspace
    settings = chosen = None
    try:
        settings = parse_sandbox_section(gw.policy_for(ws).sandbox)
        chosen = settings.profile(profile)
    except ProfileError as exc:
        _say(str(exc), "fix the sandbox section of the policy (see docs/sandbox.md)")
        return EXIT_SETUP
    except Exception as exc:  # the policy did not load: the verdict above is already a deny
        if verdict.decision is not Decision.DENY:
            _say(f"cannot read the sandbox policy: {exc}", "run `warden policy validate`")
            return EXIT_SETUP

    if json_explain:
        return _explain(command, verdict, ws, cwd, profile, chosen)

    if verdict.decision is Decision.DENY:
        rules = ", ".join(r.id for r in verdict.rules)
        _say(f"denied by policy: {verdict.reason}" + (f" [{rules}]" if rules else ""),
             "see why with `warden explain " + shlex.quote(action.input["command"]) + "`")
        return EXIT_REFUSED
    if verdict.decision is Decision.ASK and verdict.approval:
        # The rule routes to Warden's queue: another person approves; a terminal waits for it.
        verdict = _wait_for_queue(gw, action, verdict)
        if verdict.decision is not Decision.ALLOW:
            return EXIT_REFUSED
    if verdict.decision is Decision.ASK and grant:
        from warden.adapters.exec.grants import redeem
        from warden.adapters.policy_files import warden_home

        if redeem(warden_home(os.environ), grant, action.input["command"]) is None:
            _say("the approval grant for this command is unknown, used, expired or for another command",
                 "grants come from Warden's Claude Code hook, once per approved command")
            return EXIT_REFUSED
    elif verdict.decision is Decision.ASK:
        if not (yes and sys.stdin.isatty() and sys.stderr.isatty()):
            _say(f"the policy asks for approval: {verdict.reason}",
                 "a human can approve at a terminal with `warden exec --yes -- ...`; "
                 "agents and scripts cannot approve their own commands")
            return EXIT_REFUSED
        if gw.audit:
            try:
                import getpass
                import time

                from warden.core.audit import approval_event

                gw.record(approval_event(
                    decision_id=gw.last_decision_id or "", granted=True, approver=getpass.getuser(),
                    via="tty --yes", started_at=time.time(), session=action.session, tool="Bash",
                    tool_use_id=action.tool_use_id, reason=f"approved at a terminal: {verdict.reason}",
                    redact=gw.redactor()))
            except Exception as exc:
                _say(f"the approval could not be recorded ({exc}), so the command did not run", "check $WARDEN_HOME")
                return EXIT_REFUSED
    if settings is None or chosen is None:
        return EXIT_REFUSED  # unreachable: a policy that does not load denies

    if not _found(command[0], os.environ.get("PATH")):
        _say(f"{command[0]}: command not found")
        return EXIT_NOT_FOUND
    from warden.cli.exec_watch import KillWatch

    with KillWatch(action) as watch:
        if watch.refusal:
            _say(watch.refusal)
            return EXIT_REFUSED
        if no_sandbox:
            return _unsandboxed(command, cwd, settings, chosen)
        return _sandboxed(command, chosen, ws, cwd, gw)


def _wait_for_queue(gw: Any, action: Any, verdict: Any) -> Any:
    """A queued ask: at a terminal, wait for the approval and decide again (which uses the grant)."""
    from warden.core.decision import Decision

    rid = verdict.approval["id"]
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        _say(f"the policy asks for approval: {verdict.reason}",
             f"retry after approval: another person runs `warden approvals approve {rid}`")
        return verdict
    _say(f"waiting for approval of request {rid} (`warden approvals show {rid}`); Ctrl-C stops waiting")
    import time

    from warden.gateway import Gateway

    local = Gateway.from_env(cwd=action.cwd)
    try:
        store = local.state()
        req = store.wait_request(rid, max(0.0, verdict.approval.get("expires_at", 0) - time.time()))
    except KeyboardInterrupt:
        _say("stopped waiting; nothing ran")
        return verdict
    finally:
        local.close()
    if req is None or req.status != "approved":
        _say(f"request {rid} is {req.status if req else 'gone'}; nothing ran")
        return verdict
    again = gw.decide(action)
    if again.decision is not Decision.ALLOW:
        _say(f"not allowed after the approval: {again.reason}")
    return again


def _unsandboxed(command: list[str], cwd: str, settings: Any, chosen: Any) -> int:
    from warden.adapters.exec import EXIT_SETUP, run_unsandboxed

    if not settings.allow_unsandboxed:
        _say("--no-sandbox is not allowed by the policy",
             "set `sandbox: {allow_unsandboxed: true}` in the policy if you accept running unconfined")
        return EXIT_SETUP
    _say("running WITHOUT the sandbox (the policy allows --no-sandbox)")
    return run_unsandboxed(command, cwd=cwd, wall_seconds=chosen.limits.wall_seconds).returncode


def _audit_sink(gw: Any) -> Any:
    """The sandbox's run and egress reports as audit outcome events, linked to the decision."""
    if not gw.audit:
        return None
    if hasattr(gw, "record_report"):  # the daemon builds and records the event
        return gw.record_report

    def sink(report: dict[str, Any]) -> str:
        from warden.adapters.exec.report import outcome_from_report

        return gw.record(outcome_from_report(report, gw.last_decision_id or "", gw.redactor()))

    return sink


def _sandboxed(command: list[str], chosen: Any, ws: str, cwd: str, gw: Any) -> int:
    from warden.adapters.exec import EXIT_SETUP, SandboxUnavailable, run_sandboxed
    from warden.adapters.exec.mounts import MountError
    from warden.adapters.exec.profile import ProfileError

    try:
        result = run_sandboxed(command, chosen, ws, cwd=cwd, audit=_audit_sink(gw),
                               secret_env=getattr(gw, "secret_env", None))
    except MountError as exc:
        _say(str(exc), "adjust the profile in the policy or pass --workspace DIR")
        return EXIT_SETUP
    except ProfileError as exc:
        _say(str(exc), "fix the sandbox profile in the policy (docs/sandbox.md)")
        return EXIT_SETUP
    except SandboxUnavailable as exc:
        _say(f"the sandbox is unavailable, so the command did not run: {exc}")
        return EXIT_SETUP
    for v in result.violations:
        _say(f"blocked: {v}")
    denied = [e for e in result.egress if e.get("decision") == "deny"]
    for e in denied[:5]:
        _say(f"blocked network connection to {e.get('host')}:{e.get('port')}: {e.get('reason')}")
    if len(denied) > 5:
        _say(f"... and {len(denied) - 5} more blocked connections (`warden audit query --tool sandbox.egress`)")
    if result.timed_out:
        _say(f"killed after the wall-clock limit ({chosen.limits.wall_seconds} s)")
    if result.audit_error:
        _say(f"warning: the run could not be recorded in the audit log: {result.audit_error}")
    return result.returncode


def _explain(command: list[str], verdict: Any, ws: str, cwd: str, profile: str, chosen: Any) -> int:
    from warden.adapters.exec import SandboxUnavailable, prepare
    from warden.adapters.exec.mounts import MountError

    plan: dict[str, Any] = {"decision": verdict.decision.label, "reason": verdict.reason,
                            "rules": [r.id for r in verdict.rules], "workspace": ws, "profile": profile}
    if chosen is not None:
        try:
            # fd numbers and the socket path are placeholders: nothing is started.
            prepared = prepare(command, chosen, ws, cwd=cwd, seccomp_fd=3, status_fd=4,
                               proxy_socket="/run/warden-egress.sock")
            lim = chosen.limits
            plan.update(bwrap=prepared.argv, mounts=prepared.mounts.to_json(), env_removed=prepared.env_removed,
                        network=chosen.network, allow_domains=list(chosen.allow_domains),
                        limits={"cpu_seconds": lim.cpu_seconds, "memory_mb": lim.memory_mb,
                                "processes": lim.processes, "wall_seconds": lim.wall_seconds})
        except (SandboxUnavailable, MountError, ValueError) as exc:
            plan["sandbox_error"] = str(exc)
    import json

    sys.stdout.write(json.dumps(plan, indent=2) + "\n")
    return 0


_FLAGS = {"--no-sandbox": "no_sandbox", "--json-explain": "json_explain", "--yes": "yes"}
_VALUES = {"--policy": "policy_file", "--profile": "profile", "--workspace": "workspace", "--grant": "grant"}


def fast_main(args: list[str]) -> int | None:
    """Parse `exec` argv without click; None when the arguments need the full parser (help, typos)."""
    opts: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            command = args[i + 1:]
            return run_exec(command, **opts) if command else None
        if arg in _FLAGS:
            opts[_FLAGS[arg]] = True
        elif arg in _VALUES and i + 1 < len(args):
            opts[_VALUES[arg]] = args[i + 1]
            i += 1
        elif "=" in arg and arg.split("=", 1)[0] in _VALUES:
            key, value = arg.split("=", 1)
            opts[_VALUES[key]] = value
        elif arg.startswith("-"):
            return None
        else:
            return run_exec(args[i:], **opts)
        i += 1
    return None

"""`warden exec`: decide a command through the policy, then run it inside bubblewrap."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from typing import Any

import click

from warden.cli.common import policy_option

_SHELLS = {"sh", "bash", "dash", "zsh"}


def _decided_command(command: tuple[str, ...]) -> str:
    """The Bash text the policy judges. ``bash -c SCRIPT`` is judged as SCRIPT itself, so the
    Claude Code sandbox rewrite decides on what the agent actually asked for."""
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


def _refuse(message: str, hint: str, code: int) -> None:
    click.echo(f"warden exec: {message}", err=True)
    if hint:
        click.echo(f"  fix: {hint}", err=True)
    raise SystemExit(code)


def _found(program: str) -> bool:
    if "/" in program:
        return os.path.isfile(program)
    return shutil.which(program) is not None


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@policy_option
@click.option("--profile", default="default", show_default=True, help="Sandbox profile from the policy's sandbox.profiles.")
@click.option("--workspace", type=click.Path(file_okay=False, exists=True), default=None,
              help="Writable project root (default: the nearest ancestor with .git, warden.yaml, .warden or .claude).")
@click.option("--no-sandbox", is_flag=True, help="Run without bubblewrap; refused unless the policy sets sandbox.allow_unsandboxed.")
@click.option("--json-explain", is_flag=True, help="Print the decision and the sandbox plan as JSON; do not run.")
@click.option("--yes", is_flag=True, help="Approve an `ask` verdict yourself; only accepted from a human at a terminal.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def exec_command(policy_file: str | None, profile: str, workspace: str | None, no_sandbox: bool,
                 json_explain: bool, yes: bool, command: tuple[str, ...]) -> None:
    """Decide COMMAND through the policy, then run it inside a bubblewrap sandbox.

    \b
    Examples:
      warden exec -- make test
      warden exec --profile net -- pip install -r requirements.txt
      warden exec --json-explain -- python build.py     # show the plan, run nothing
    \b
    Inside the sandbox the root file system is read-only; the workspace, a private /tmp and
    the profile's writable paths are writable; git hooks/config, .claude/, .cursor/, .mcp.json,
    warden.yaml, .warden/ and .github/workflows stay read-only; ~/.ssh, ~/.aws, ~/.config/gh,
    ~/.netrc, ~/.docker/config.json, ~/.kube, .env* files and $WARDEN_HOME are hidden;
    credential-looking environment variables are removed; the network is closed unless the
    profile says `network: proxy` (then only allow_domains are reachable, through Warden's proxy).
    \b
    Exit status: the command's own (128+N if killed by signal N); 124 wall-clock limit hit;
    125 sandbox unavailable or profile invalid (nothing ran); 126 refused by policy; 127 not found.
    """
    from warden.adapters.exec import (
        EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_SETUP, MountError, ProfileError, SandboxUnavailable,
        parse_sandbox_section, prepare, run_sandboxed, run_unsandboxed,
    )
    from warden.core.action import Action, Actor
    from warden.core.decision import Decision
    from warden.gateway import Gateway

    cwd = os.getcwd()
    gw = Gateway.from_env(cwd=cwd, policy_file=policy_file, audit=not json_explain)
    ws = _workspace(gw, cwd, workspace)
    action = Action(tool="Bash", input={"command": _decided_command(command)}, cwd=cwd, workspace=ws,
                    actor=Actor(agent=os.environ.get("WARDEN_AGENT", "warden-exec")),
                    context={"sandbox_profile": "none" if no_sandbox else profile})
    verdict = gw.decide(action)
    try:
        settings = parse_sandbox_section(gw.policy_for(ws).sandbox)
        chosen = settings.profile(profile)
    except ProfileError as exc:
        _refuse(str(exc), "fix the sandbox section of the policy (see docs/sandbox.md)", EXIT_SETUP)
    except Exception as exc:  # the policy did not load: the verdict above is already a deny
        settings, chosen = None, None
        if verdict.decision is not Decision.DENY:
            _refuse(f"cannot read the sandbox policy: {exc}", "run `warden policy validate`", EXIT_SETUP)

    if json_explain:
        plan: dict[str, Any] = {"decision": verdict.decision.label, "reason": verdict.reason,
                                "rules": [r.id for r in verdict.rules], "workspace": ws, "profile": profile}
        if chosen is not None:
            try:
                prepared = prepare(list(command), chosen, ws, cwd=cwd, seccomp_fd=3, status_fd=4,
                                   proxy_socket="/run/warden-egress.sock")
                plan.update(bwrap=prepared.argv, mounts=prepared.mounts.to_json(), env_removed=prepared.env_removed,
                            network=chosen.network, allow_domains=list(chosen.allow_domains),
                            limits=dict(cpu_seconds=chosen.limits.cpu_seconds, memory_mb=chosen.limits.memory_mb,
                                        processes=chosen.limits.processes, wall_seconds=chosen.limits.wall_seconds))
            except (SandboxUnavailable, MountError, ValueError) as exc:
                plan["sandbox_error"] = str(exc)
        sys.stdout.write(json.dumps(plan, indent=2) + "\n")
        return

    if verdict.decision is Decision.DENY:
        rules = ", ".join(r.id for r in verdict.rules)
        _refuse(f"denied by policy: {verdict.reason}" + (f" [{rules}]" if rules else ""),
                "see why with `warden explain " + shlex.quote(action.input["command"]) + "`", EXIT_REFUSED)
    if verdict.decision is Decision.ASK:
        human = yes and sys.stdin.isatty() and sys.stderr.isatty()
        if not human:
            _refuse(f"the policy asks for approval: {verdict.reason}",
                    "a human can approve at a terminal with `warden exec --yes -- ...`; "
                    "agents and scripts cannot approve their own commands", EXIT_REFUSED)
        if gw.audit:
            try:
                gw.record({"type": "approval", "decision": "allow", "by": "tty --yes",
                           "command": action.input["command"], "cwd": cwd})
            except Exception as exc:
                _refuse(f"the approval could not be recorded ({exc})", "check $WARDEN_HOME", EXIT_REFUSED)
    assert settings is not None and chosen is not None  # a policy that did not load has denied above

    if not _found(command[0]):
        _refuse(f"{command[0]}: command not found", "", EXIT_NOT_FOUND)
    if no_sandbox:
        if not settings.allow_unsandboxed:
            _refuse("--no-sandbox is not allowed by the policy",
                    "set `sandbox: {allow_unsandboxed: true}` in warden.yaml if you accept running unconfined",
                    EXIT_SETUP)
        click.echo("warden exec: running WITHOUT the sandbox (policy allows --no-sandbox)", err=True)
        result = run_unsandboxed(list(command), cwd=cwd, wall_seconds=chosen.limits.wall_seconds)
        raise SystemExit(result.returncode)

    audit = gw.record if gw.audit else None
    try:
        result = run_sandboxed(list(command), chosen, ws, cwd=cwd, audit=audit)
    except (ProfileError, MountError) as exc:
        _refuse(str(exc), "adjust the profile in the policy or pass --workspace", EXIT_SETUP)
    except SandboxUnavailable as exc:
        _refuse(f"the sandbox is unavailable, so the command did not run: {exc}", "", EXIT_SETUP)
    for v in result.violations:
        click.echo(f"warden exec: blocked: {v}", err=True)
    if result.timed_out:
        click.echo(f"warden exec: killed after the wall-clock limit ({chosen.limits.wall_seconds} s)", err=True)
    raise SystemExit(result.returncode)

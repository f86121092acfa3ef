"""`warden kill`, `warden resume`, `warden status`: the kill switch and the control state."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import click

from warden.cli.common import emit_json, json_option
from warden.cli.control_common import EXIT_REFUSED, EXIT_STATE, ago, audit, identity, open_store

SCOPE_HELP = """\b
Scope (one of):
  --all            every agent, session and actor
  --agent NAME     one agent (claude-code, codex, warden-exec, ...)
  --session ID     one agent session
  --actor ID       one person or service identity"""


def _scope(all_: bool, agent: str | None, session: str | None, actor: str | None) -> tuple[str, str]:
    from warden.core.control.kill import parse_scope

    given = [(n, v) for n, v in (("agent", agent), ("session", session), ("actor", actor)) if v is not None]
    if all_ + len(given) != 1:
        raise click.UsageError("name exactly one scope: --all, --agent NAME, --session ID or --actor ID")
    try:
        return parse_scope("all") if all_ else parse_scope(*given[0])
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _scope_options(f: Any) -> Any:
    for opt in (click.option("--actor", default=None, help="One person or service identity."),
                click.option("--session", default=None, help="One agent session id."),
                click.option("--agent", default=None, help="One agent name."),
                click.option("--all", "all_", is_flag=True, help="Everything.")):
        f = opt(f)
    return f


def _stop_runs(store: Any, scope: str, value: str) -> list[int]:
    """SIGTERM the `warden exec` processes in scope on this machine (bwrap dies with its parent)."""
    from warden.core.control.kill import KillSwitch, kill_matches_ids

    switch = [KillSwitch(scope, value, "", "", 0)]
    stopped = []
    for run in store.runs():
        if kill_matches_ids(switch, agent=run["agent"], session=run["session"], actor=run["actor"]) is None:
            continue
        try:
            os.kill(int(run["pid"]), signal.SIGTERM)
            stopped.append(int(run["pid"]))
        except ProcessLookupError:
            store.unregister_run(run["id"])
        except PermissionError:
            pass
    return stopped


@click.command(epilog=SCOPE_HELP)
@_scope_options
@click.option("--reason", required=True, help="Why: shown in every denial and at SessionStart.")
@json_option
def kill(all_: bool, agent: str | None, session: str | None, actor: str | None, reason: str, as_json: bool) -> None:
    """Stop agents now: every later decision in scope is denied with REASON.

    \b
    Takes effect at the next decision of every entry point (hooks, decide, exec, the daemon),
    in every process, within a second; running `warden exec` sandboxes in scope are terminated
    and open grants and pending requests in scope are revoked. `warden resume` lifts it.
    Exit status: 0 done; 2 bad arguments; 4 the state store cannot be used.
    """
    from warden.core.control.kill import KillSwitch
    from warden.ports import StateError

    scope, value = _scope(all_, agent, session, actor)
    ident, _ = identity()
    store = open_store()
    try:
        revoked = store.kill(KillSwitch(scope, value, reason, ident, time.time()))
        stopped = _stop_runs(store, scope, value)
    except StateError as exc:
        click.echo(f"warden: the kill switch could not be set: {exc}", err=True)
        raise SystemExit(EXIT_STATE) from None
    finally:
        store.close()
    err = audit("kill", {"scope": scope, "value": value, "reason": reason, "by": ident, "revoked": revoked,
                         "stopped_pids": stopped}, session=value if scope == "session" else "")
    label = "everything" if scope == "all" else f"{scope} {value}"
    if as_json:
        emit_json({"ok": True, "scope": scope, "value": value, "revoked": revoked, "stopped": stopped,
                   "audit_error": err})
    else:
        click.echo(f"killed {label}: {reason} ({revoked} grants/requests revoked, {len(stopped)} sandboxes stopped)")
    if err:
        click.echo(f"warden: warning: the kill is in force but could not be audited: {err}", err=True)


@click.command(epilog=SCOPE_HELP)
@_scope_options
@click.option("--reason", default="", help="Why it is safe again (recorded).")
@json_option
def resume(all_: bool, agent: str | None, session: str | None, actor: str | None, reason: str, as_json: bool) -> None:
    """Lift a kill switch set with the same scope.

    Exit status: 0 lifted; 1 no such kill switch; 2 bad arguments; 4 the state store cannot be used.
    """
    from warden.ports import StateError

    scope, value = _scope(all_, agent, session, actor)
    ident, _ = identity()
    store = open_store()
    try:
        central = next((k for k in store.kills() if (k.scope, k.value) == (scope, value) and k.by.startswith(
            "server:")), None)
        if central is not None:  # the organisation's switch: only the server lifts it
            audit("resume.refused", {"scope": scope, "value": value, "by": ident, "set_by": central.by})
            click.echo(f"warden: refused: this kill switch was set on the team server ({central.by}): "
                       f"{central.reason}. An admin lifts it there (the web page or POST /v1/resume); this "
                       "machine follows within a second", err=True)
            raise SystemExit(EXIT_REFUSED)
        done = store.resume(scope, value)
        remaining = store.kills()
    except StateError as exc:
        click.echo(f"warden: {exc}", err=True)
        raise SystemExit(EXIT_STATE) from None
    finally:
        store.close()
    if done:
        audit("resume", {"scope": scope, "value": value, "reason": reason, "by": ident})
    if as_json:
        emit_json({"ok": done, "scope": scope, "value": value, "still_killed": [k.to_json() for k in remaining]})
    elif done:
        click.echo(f"resumed {scope} {value}".strip())
    else:
        click.echo(f"warden: no kill switch for {scope} {value}".strip(), err=True)
    for k in remaining if not as_json else ():
        click.echo(f"still in force: {k.label}: {k.reason}", err=True)
    if not done:
        raise SystemExit(EXIT_REFUSED)


@click.command()
@json_option
def status(as_json: bool) -> None:
    """Kill switches, open approvals, active grants, limit counters, tainted sessions, running sandboxes.

    Exit status: 0; 4 when the state store cannot be read (then kill switches and limits deny).
    """
    from warden.ports import StateError

    store = open_store()
    now = time.time()
    try:
        data = {
            "store": store.location,
            "kills": [k.to_json() for k in store.kills()],
            "pending": [{k: v for k, v in r.to_json().items() if k != "card"} for r in store.list_requests(status="pending")],
            "grants": [g.to_json() for g in store.grants(active_at=now)],
            "counters": [{"key": k, "count": c, "expires_at": e} for k, c, e in store.counters(now)],
            "runs": store.runs(),
        }
    except StateError as exc:
        click.echo(f"warden: the state store cannot be read, so kill switches and limits deny: {exc}", err=True)
        raise SystemExit(EXIT_STATE) from None
    finally:
        store.close()
    if as_json:
        emit_json(data)
        return
    click.echo(f"state: {data['store']}")
    click.echo("kill switches: " + ("none" if not data["kills"] else ""))
    for k in data["kills"]:
        label = "everything" if k["scope"] == "all" else f"{k['scope']} {k['value']}"
        click.echo(f"  {label}: {k['reason']} (by {k['by']}, {ago(k['at'], now)})")
    click.echo(f"open approval requests: {len(data['pending'])}" + ("  (warden approvals list)" if data["pending"] else ""))
    click.echo(f"active grants: {len(data['grants'])}")
    for g in data["grants"]:
        click.echo(f"  {g['id']} {g['scope']} rule {g['rule_id']} session {g['session'] or '-'} by "
                   f"{', '.join(g['approvers'])}, expires {ago(g['expires_at'], now)}")
    click.echo(f"limit counters: {len(data['counters'])}")
    for c in data["counters"]:
        click.echo(f"  {c['count']:>6}  {c['key']}")
    if data["runs"]:
        click.echo(f"running sandboxes: {len(data['runs'])}")
        for r in data["runs"]:
            click.echo(f"  pid {r['pid']} agent {r['agent']} session {r['session'] or '-'}")

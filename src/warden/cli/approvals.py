"""`warden approvals list|show|approve|deny|watch`: the approval queue and its cards."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from warden.cli.common import emit_json, json_option
from warden.cli.control_common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_STATE,
    EXIT_UNKNOWN,
    ago,
    audit,
    identity,
    inside_agent,
    open_store,
)

EXIT_CODES_HELP = """\b
Exit status: 0 done; 1 refused (self-approval, not an approver, expired, already decided,
changed policy, run inside an agent); 2 bad arguments; 3 no such request; 4 the state store
cannot be used (locked, read-only, corrupt or edited outside Warden)."""


@click.group()
def approvals() -> None:
    """The approval queue: requests from rules with `approval: {route: queue}`.

    \b
    A queued request is bound to the exact action (its digest), the policy and the rule; someone
    other than the requesting actor or agent approves it, and the agent's retry (or its waiting
    hook) then runs. See docs/approvals.md.
    \b
      warden approvals list                 open requests
      warden approvals show ap-1a2b3c       the card: what runs, what it touches, why, who
      warden approvals approve ap-1a2b3c --reason "checked the diff"
      warden approvals deny ap-1a2b3c --reason "not on a Friday"
      warden approvals watch                stream new requests (a terminal beside the agent)
    """


def _expire(store: Any) -> None:
    """Expired requests are decided (denied) the first time anyone looks: audit each one."""
    for req in store.expire_requests(time.time()):
        audit("approval.expired", {"request": req.id, "rule": req.rule_id, "tool": req.tool},
              actor={"id": req.actor, "agent": req.agent}, session=req.session,
              decision_id=str(req.card.get("decision_id", "")))


def _subject(req: Any) -> str:
    card = req.card or {}
    text = card.get("command") or (card.get("input") or {}).get("file_path") or (card.get("input") or {}).get("url")
    return " ".join(str(text or req.tool).split())[:70]


@approvals.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include decided, expired and revoked requests.")
@click.option("--limit", default=50, show_default=True, help="At most this many requests.")
@json_option
def list_cmd(show_all: bool, limit: int, as_json: bool) -> None:
    """Open approval requests, newest first."""
    store = open_store()
    try:
        _expire(store)
        reqs = store.list_requests(status=None if show_all else "pending", limit=limit)
    except Exception as exc:
        _state_failed(exc)
    if as_json:
        emit_json([{k: v for k, v in r.to_json().items() if k != "card"} | {"subject": _subject(r)} for r in reqs])
        return
    if not reqs:
        click.echo("no open approval requests" if not show_all else "no approval requests")
        return
    now = time.time()
    for r in reqs:
        left = f"expires {ago(r.expires_at, now)}" if r.status == "pending" else r.status
        votes = f"{r.approvals}/{r.quorum}"
        click.echo(f"{r.id}  {r.status:<8} {votes:<4} {ago(r.created_at, now):>8}  {left:<16} {r.rule_id:<28} "
                   f"{r.actor or r.agent}: {_subject(r)}")


@approvals.command("show")
@click.argument("request_id")
@json_option
def show_cmd(request_id: str, as_json: bool) -> None:
    """The approval card of one request (secrets are never shown)."""
    store = open_store()
    try:
        _expire(store)
        req = store.get_request(request_id)
    except Exception as exc:
        _state_failed(exc)
    if req is None:
        click.echo(f"warden: no approval request {request_id!r}; `warden approvals list --all` shows them", err=True)
        raise SystemExit(EXIT_UNKNOWN)
    if as_json:
        emit_json(req.to_json())
        return
    click.echo(render_card(req))


def render_card(req: Any) -> str:
    c = dict(req.card or {})
    now = time.time()
    out = [f"Approval request {req.id}  [{req.status}]  rule {req.rule_id}",
           f"  asked {ago(req.created_at, now)}, expires {ago(req.expires_at, now)}; grant {req.grant}; "
           f"quorum {req.approvals}/{req.quorum}"
           + (f"; approvers {', '.join([*req.approvers, *('role:' + r for r in req.roles)])}"
              if req.approvers or req.roles else "")]

    def section(title: str, lines: list[str]) -> None:
        if lines:
            out.append(f"\n{title}")
            out.extend(f"  {line}" for line in lines)

    what = [f"tool: {c.get('tool', req.tool)}"]
    if c.get("command") is not None:
        what.append(f"command: {c['command']}")
        what.extend(f"  runs: {s}" for s in c.get("simple_commands") or [])
    else:
        what.extend(f"{k}: {v}" for k, v in (c.get("input") or {}).items())
    section("WHAT WILL RUN", what)
    touches = [f"{p['access']:<6} {p['path']}" + ("" if p["in_workspace"] else "   (OUTSIDE the workspace)")
               for p in c.get("paths") or []]
    touches += [f"host   {h}" for h in c.get("hosts") or []]
    for key, label in (("git", "git"), ("cloud", "cloud"), ("packages", "pkg")):
        touches += [f"{label:<6} {f['kind']}: {f['detail']}" for f in c.get(key) or []]
    section("WHAT IT TOUCHES", touches)
    why = [f"{r['id']} ({r['effect']}, {r['source']}): {r['reason']}" for r in c.get("rules") or []]
    why += [f"fact {f['kind']}" + (f": {f['detail']}" if f.get("detail") else "") for f in c.get("facts") or []]
    section("WHY IT ASKS", why)
    actor = c.get("actor") or {}
    who = [f"actor: {actor.get('id') or req.actor or '(unknown)'}   agent: {actor.get('agent') or req.agent}",
           f"session: {req.session or '(none)'}   workspace: {req.workspace}"]
    if c.get("context"):
        who.append("context: " + ", ".join(f"{k}={v}" for k, v in c["context"].items()))
    if c.get("session_prompt"):
        who.append(f"session prompt: {c['session_prompt']}")
    section("WHO ASKS", who)
    section("RECENT ACTIONS IN THIS SESSION",
            [f"{a.get('decision', ''):<5} {a.get('tool', '')}: {a.get('subject', '')}" for a in c.get("recent_actions") or []])
    section("TAINT (untrusted content in this session)",
            [f"{t.get('source')}: {t.get('detail')} (via {t.get('tool')})" for t in c.get("taint") or []])
    if c.get("diff"):
        section("DIFF", str(c["diff"]).splitlines())
    if c.get("rollback"):
        section("ROLLBACK", [str(c["rollback"])])
    if req.votes:
        section("VOTES", [f"{'approve' if v.approve else 'deny'} by {v.approver} ({v.via}) {ago(v.at, now)}"
                          + (f": {v.reason}" if v.reason else "") for v in req.votes])
    if req.status == "pending":
        out.append(f"\napprove: warden approvals approve {req.id} --reason TEXT    "
                   f"deny: warden approvals deny {req.id} --reason TEXT")
    return "\n".join(out)


def _state_failed(exc: Exception) -> None:
    click.echo(f"warden: the approval queue cannot be used: {exc}", err=True)
    raise SystemExit(EXIT_STATE)


def _vote(request_id: str, approve: bool, reason: str, as_json: bool, grant: str | None = None) -> None:
    from warden.core.control.approvals import ApprovalError, Principal
    from warden.ports import StateError

    ident, roles = identity()
    verb = "approve" if approve else "deny"
    marker = inside_agent()
    if marker:
        err = audit("approval.refused", {"request": request_id, "code": "agent-session", "approver": ident,
                                         "vote": verb, "marker": marker})
        _refuse(as_json, "agent-session", f"approvals cannot be given from inside an agent session (${marker} is "
                f"set): the agent would approve itself. Run this in your own terminal", err, EXIT_REFUSED)
    routed = _server_routed()
    if routed:
        err = audit("approval.refused", {"request": request_id, "code": "server-routed", "approver": ident,
                                         "vote": verb, "server": routed})
        _refuse(as_json, "server-routed", f"this machine is logged in to the team server {routed}: its queued "
                f"requests are approved there, by someone other than the requester ({routed}/ui/approvals)",
                err, EXIT_REFUSED)
    store = open_store()
    try:
        req = store.get_request(request_id)
        policy_digest = _current_policy_digest(req.workspace) if req is not None else None
        updated, made = store.vote(request_id, Principal(ident, roles, "cli"), approve, reason, time.time(),
                                   policy_digest=policy_digest, grant=grant)
    except ApprovalError as exc:
        err = audit("approval.refused", {"request": request_id, "code": exc.code, "approver": ident, "vote": verb,
                                         "error": str(exc)})
        _refuse(as_json, exc.code, str(exc), err, EXIT_UNKNOWN if exc.code == "unknown" else EXIT_REFUSED)
    except StateError as exc:
        err = audit("approval.refused", {"request": request_id, "code": "state", "approver": ident, "vote": verb,
                                         "error": str(exc)})
        _refuse(as_json, "state", f"nothing was granted: {exc}", err, EXIT_STATE)
    finally:
        store.close()
    decision_id = str(updated.card.get("decision_id", ""))
    who = {"id": updated.actor, "agent": updated.agent}
    errors = [audit("approval.vote", {"request": updated.id, "approver": ident, "roles": list(roles), "vote": verb,
                                      "reason": reason, "status": updated.status, "tool": updated.tool,
                                      "grant": made.to_json() if made else None},
                    actor=who, session=updated.session, decision_id=decision_id)]
    if updated.status in ("approved", "denied"):
        errors.append(_approval_event(updated, ident, reason, decision_id))
    problems = [e for e in errors if e]
    if as_json:
        emit_json({"ok": True, "request": updated.id, "status": updated.status, "approvals": updated.approvals,
                   "quorum": updated.quorum, "grant": made.to_json() if made else None,
                   "audit_errors": problems})
    else:
        more = "" if updated.status != "pending" else f" ({updated.approvals}/{updated.quorum} approvals so far)"
        click.echo(f"{updated.id}: {updated.status}{more}" + (f"; grant {made.scope}" if made else ""))
    for p in problems:
        click.echo(f"warden: warning: the vote was recorded in the queue but not in the audit log: {p}", err=True)
    raise SystemExit(EXIT_OK)


def _approval_event(req: Any, approver: str, reason: str, decision_id: str) -> str | None:
    import os

    from warden.core.audit import approval_event
    from warden.gateway import Gateway

    gw = Gateway.from_env(cwd=os.getcwd())
    try:
        if gw.audit:
            gw.record(approval_event(decision_id=decision_id, granted=req.status == "approved",
                                     approver=", ".join(v.approver for v in req.votes) or approver, via="queue",
                                     started_at=time.time(), session=req.session, tool=req.tool,
                                     tool_use_id=req.tool_use_id, reason=reason,
                                     actor={"id": req.actor, "agent": req.agent}, redact=gw.redactor()))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        gw.close()


def _current_policy_digest(workspace: str) -> str | None:
    """The policy in force for the request's workspace now (None when it cannot be loaded)."""
    import os

    from warden.gateway import Gateway

    if not workspace or not os.path.isdir(workspace):
        return None
    gw = Gateway.from_env(cwd=workspace, audit=False)
    try:
        return str(gw.policy_for(workspace).digest)
    except Exception:
        return None
    finally:
        gw.close()


def _server_routed() -> str:
    """The team server this machine's approvals go to ('' when it is not logged in to one)."""
    import os

    from warden.adapters.policy_files import warden_home
    from warden.integrations.server_client import config

    try:
        link = config.load(warden_home(os.environ))
    except config.NotLoggedIn:
        return "(unreadable server.json)"
    return link.url if link else ""


def _refuse(as_json: bool, code: str, message: str, audit_error: str | None, exit_code: int) -> None:
    if as_json:
        emit_json({"ok": False, "code": code, "error": message, "audit_errors": [audit_error] if audit_error else []})
    else:
        click.echo(f"warden: refused: {message}", err=True)
        if audit_error:
            click.echo(f"warden: the refusal could not be audited: {audit_error}", err=True)
    raise SystemExit(exit_code)


_reason = click.option("--reason", default="", help="Why (recorded in the audit log and shown to the agent).")


@approvals.command("approve", epilog=EXIT_CODES_HELP)
@click.argument("request_id")
@_reason
@click.option("--grant", "grant_text", default=None, metavar="once|session|DURATION",
              help="Narrow what this approval covers (never wider than the rule's grant).")
@json_option
def approve_cmd(request_id: str, reason: str, grant_text: str | None, as_json: bool) -> None:
    """Approve a request as yourself ($WARDEN_ACTOR, else git user.email, else user@host).

    The requester (actor or agent) cannot approve its own request; a rule's `approvers` and
    `quorum` are enforced by the store itself.
    """
    grant = None
    if grant_text is not None:
        from warden.core.control.approvals import parse_grant

        try:
            grant = parse_grant(grant_text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--grant") from None
    _vote(request_id, True, reason, as_json, grant)


@approvals.command("deny", epilog=EXIT_CODES_HELP)
@click.argument("request_id")
@_reason
@json_option
def deny_cmd(request_id: str, reason: str, as_json: bool) -> None:
    """Deny a request; one deny decides it, and the agent is told your reason."""
    _vote(request_id, False, reason, as_json)


@approvals.command("watch")
@click.option("--timeout", type=float, default=0, help="Stop after this many seconds (0: until Ctrl-C).")
@json_option
def watch_cmd(timeout: float, as_json: bool) -> None:
    """Stream new requests as they arrive: a card per request (JSON lines with --json)."""
    store = open_store()
    store.listen()
    seen: set[str] = set()
    deadline = time.monotonic() + timeout if timeout else None
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                _expire(store)
                pending = store.list_requests(status="pending", limit=200)
            except Exception as exc:
                _state_failed(exc)
            for req in reversed(pending):
                if req.id in seen:
                    continue
                seen.add(req.id)
                if as_json:
                    emit_json(req.to_json())
                else:
                    click.echo(render_card(req) + "\n" + "-" * 72)
                    sys.stdout.flush()
            left = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            store.wait_for_change(left)
    except KeyboardInterrupt:
        pass
    finally:
        store.close()


@approvals.command("mcp-server", hidden=True)
def mcp_server_cmd() -> None:
    """The `warden` MCP server (stdio) with the `approve` permission-prompt tool (docs/approvals.md)."""
    from warden.integrations.agents.claude_code_mcp import serve

    serve()

"""Claude Code's hook protocol: one hook event in, (exit code, stdout, stderr) out.

Event -> what Warden does (docs/claude-code.md has the full story):

* ``PreToolUse``: the Gateway's verdict becomes ``permissionDecision`` allow / ask / deny with a
  reason that says what was found and what would be allowed instead; in sandbox mode an allowed
  or asked Bash command comes back as ``updatedInput`` running under ``warden exec``.
* ``PermissionRequest``: links Claude Code's permission dialog to Warden's ask (see
  :mod:`warden.integrations.agents.claude_code_approval`).
* ``PostToolUse``: secrets in the tool's output are replaced through ``updatedToolOutput`` before
  the model sees them; the outcome is recorded, and an approval when the call had been asked.
* ``UserPromptSubmit``: a prompt carrying a secret is blocked.
* ``SessionStart`` / ``SessionEnd`` / ``Stop``: session boundaries are recorded (asks left
  unanswered become refused approvals); SessionStart hands the model a summary of the policy.

Fail closed: Claude Code lets a tool run when a hook exits 1, crashes or times out, so every
internal error exits 2 with the reason on stderr. PostToolUse is the exception that proves the
rule: there exit 2 would not stop the output reaching the model, so a failure *withholds* the
output instead.

Runs inside the daemon or, without one, in the hook process; the lean entry point is the
agent-neutral :mod:`warden.integrations.hook` (``warden hook claude-code``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from warden.integrations.agents.claude_code_approval import (
    approved_after_tool,
    refused_at_turn_end,
)
from warden.integrations.daemon.client import MAX_BODY as MAX_STDIN

_ACTOR = {"agent": "claude-code"}
MAX_REASON = 2000  # Claude Code caps hook output at 10,000 characters; reasons stay well under


# ------------------------------------------------------------------------------------------


def respond(
    raw: bytes,
    environ: Mapping[str, str],
    cwd: str,
    opts: Mapping[str, Any],
    pool: Any = None,
    state: dict[str, str] | None = None,
) -> tuple[int, bytes, bytes]:
    """One hook event in, (exit code, stdout, stderr) out. Never raises except HookDeadline.

    ``pool`` (the daemon's) keeps audit recorders open between events; without it every event
    opens and closes its own.
    """
    event = event_of(raw)
    try:
        if len(raw) > MAX_STDIN:
            return failure(event, f"the hook event is larger than {MAX_STDIN} bytes")
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return failure(event, f"the hook event on stdin is not valid JSON ({exc})")
        if not isinstance(payload, dict):
            return failure(event, f"the hook event must be a JSON object, got {type(payload).__name__}")
        name = payload.get("hook_event_name")
        if not isinstance(name, str) or not name:
            return failure("", "the hook event has no hook_event_name")
        event = name
        if state is not None:
            state["event"] = event
        handler = _HANDLERS.get(event)
        if handler is None:
            if event in _NO_OPINION:
                return 0, b"", b""  # an event Warden does not take part in (Notification, PreCompact...)
            return failure(event, f"Warden does not know the Claude Code hook event {event!r} (is Claude Code "
                                  "newer than Warden's integration? run `warden doctor`)")
        gw = _gateway(payload, environ, cwd, opts)
        answer: tuple[int, bytes, bytes] | None = None
        try:
            if pool is not None:
                pool.lend(gw)
            answer = handler(gw, payload, opts) if handler is _permission_request else handler(gw, payload)
            return answer
        finally:
            if pool is not None:
                pool.take_back(gw, healthy=answer is not None and answer[0] == 0 and b"audit" not in answer[1])
            gw.close()
    except Exception as exc:  # the hook runner's HookDeadline is a BaseException and passes through
        return failure(event, f"internal error: {type(exc).__name__}: {exc}")


SESSION_EVENTS = ("SessionStart", "SessionEnd", "Stop", "SubagentStop")


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
    known = ("PreToolUse", "PostToolUse", "UserPromptSubmit", "PermissionRequest", *SESSION_EVENTS)
    return name if name in known else ""


def failure(event: str, why: str) -> tuple[int, bytes, bytes]:
    """Fail closed, in the way that actually closes for this event."""
    message = f"Warden blocked this because it could not decide safely: {why}"
    if event == "PostToolUse":
        # exit 2 would not stop the output reaching the model; replacing it does.
        notice = f"[output withheld by Warden: {why}]"
        body = {"hookSpecificOutput": {"hookEventName": "PostToolUse", "updatedToolOutput": {
            "stdout": notice, "stderr": "", "interrupted": False, "isImage": False}}}
        return 0, json.dumps(body).encode(), (message + "\n").encode()
    if event in ("Stop", "SubagentStop"):
        # exit 2 on Stop means "keep going", which would loop the agent; warn instead.
        return 1, b"", (f"warden: {why}\n").encode()
    return 2, b"", (message + "\n").encode()


def _gateway(payload: dict[str, Any], environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any]) -> Any:
    """The one integration point with the policy engine and audit log (warden.gateway)."""
    from warden.gateway import Gateway

    # Claude Code tells hooks the project root; commands may `cd` away from it, the workspace stays.
    project = environ.get("CLAUDE_PROJECT_DIR")
    if project and not payload.get("workspace"):
        payload["workspace"] = project
    payload.setdefault("actor", {"agent": "claude-code", "agent_version": claude_version(payload)})
    return Gateway.from_env(
        cwd=str(payload.get("cwd") or cwd), policy_file=opts.get("policy"), environ=environ, audit=True
    )


def claude_version(payload: Mapping[str, Any]) -> str:
    """Claude Code's version as its transcript records it (every entry carries ``"version"``)."""
    import re

    path = payload.get("transcript_path")
    if not isinstance(path, str) or not path:
        return ""
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return ""  # no transcript yet (the first event of a session)
    found = re.search(rb'"version"\s*:\s*"([0-9][0-9A-Za-z.+-]{0,40})"', head)
    return found.group(1).decode() if found else ""


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _clip(text: str, limit: int = MAX_REASON) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- PreToolUse -----------------------------------------------------------------------------


def _pre_tool_use(gw: Any, payload: dict[str, Any]) -> tuple[int, bytes, bytes]:
    from warden.core.action import KNOWN_TOOLS

    tool = payload.get("tool_name")
    if isinstance(tool, str) and tool not in KNOWN_TOOLS and not tool.startswith("mcp__"):
        # A Claude Code tool Warden does not model (Agent, TodoWrite, ...): no opinion, so Claude
        # Code's own permission rules decide. Its inner tool calls still come through this hook.
        return 0, b"", b""
    verdict = gw.decide_payload(payload)
    decision = verdict.decision.label
    reason = _explain(verdict, payload)
    out: dict[str, Any] = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": decision,
                                                  "permissionDecisionReason": reason}}
    from warden.integrations.agents.claude_code_sandbox import sandboxed_input

    rewritten = sandboxed_input(gw, payload, decision)
    if rewritten is not None:
        out["hookSpecificOutput"]["updatedInput"] = rewritten
    return 0, _json(out), b""


def _explain(verdict: Any, payload: Mapping[str, Any]) -> str:
    """What was decided, what was found, and what would be allowed instead."""
    label = verdict.decision.label
    head = {"allow": "Warden allowed this", "ask": "Warden asks for approval",
            "deny": "Warden denied this"}[label]
    text = f"{head}: {verdict.reason}"
    if label == "allow":
        return _clip(text)
    kinds = sorted({f.kind for f in verdict.facts})
    if kinds:
        text += f". Found: {', '.join(kinds[:8])}"
    instead = _instead(kinds, payload)
    if instead:
        text += f". Instead: {instead}"
    return _clip(text)


# fact-kind prefixes -> what would be allowed instead (the fact vocabulary is docs/facts.md)
_INSTEAD: tuple[tuple[tuple[str, ...], str], ...] = (
    (("exec.opaque", "exec.escape", "exec.env_inject", "shell.parse_error", "shell.too_complex",
      "flow.decoded_exec", "flow.remote_exec", "shell.binary"),
     "run the command itself, directly (not through eval, `bash -c`, decoded, piped-in or downloaded "
     "scripts), so Warden can see what runs"),
    (("path.outside_workspace", "fs.write_outside", "fs.critical", "fs.unresolved_target",
      "fs.workspace_root_delete"),
     "keep file changes to specific paths inside the workspace ({workspace})"),
    (("guard.",), "leave Claude Code's settings and Warden's policy and state to the user"),
    (("secret.",), "refer to credentials by name (an environment variable the tool reads itself) instead "
                   "of reading, printing or writing them"),
    (("git.",), "use a non-destructive git command (no force push or history rewrite on shared branches)"),
    (("flow.exfil", "net.", "host."), "fetch only from hosts the policy allows, and send no local data out"),
    (("pkg.",), "ask the user to install or publish packages"),
    (("priv.", "sys.", "persist."), "avoid sudo and system-wide changes; ask the user to make them"),
)


def _instead(kinds: list[str], payload: Mapping[str, Any]) -> str:
    workspace = payload.get("workspace") or payload.get("cwd") or "the workspace"
    hints = [hint.format(workspace=workspace) for prefixes, hint in _INSTEAD
             if any(k.startswith(prefixes) for k in kinds)]
    if not hints:
        hints.append("ask the user to run it, or to adjust the policy (`warden explain` shows why)")
    return "; ".join(hints)


# --- PostToolUse ----------------------------------------------------------------------------


def _redact_tree(value: Any, redact: Any, path: str, changed: list[str]) -> Any:
    if isinstance(value, str):
        new = redact(value)
        if new != value:
            changed.append(path or "$")
        return new
    if isinstance(value, list):
        return [_redact_tree(v, redact, f"{path}[{i}]", changed) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _redact_tree(v, redact, f"{path}.{k}" if path else str(k), changed)
                for k, v in value.items()}
    return value


def _post_tool_use(gw: Any, payload: dict[str, Any]) -> tuple[int, bytes, bytes]:
    redact = gw.redactor()
    changed: list[str] = []
    _taint_from_output(gw, payload)
    _queue_bypass(gw, payload)
    response = _redact_tree(payload.get("tool_response"), redact, "", changed)
    if getattr(gw, "audit", True):
        from warden.core.audit import outcome_event

        summary = response if isinstance(response, str) else _json(response).decode("utf-8")
        tool_use_id = str(payload.get("tool_use_id", ""))
        decision = _decision(gw, tool_use_id)
        approved_after_tool(gw, payload, decision)  # it ran after an ask: the human approved
        gw.record(outcome_event(
            tool=str(payload.get("tool_name", "")), started_at=time.time(),
            status="redacted" if changed else "completed", tool_use_id=tool_use_id,
            session=str(payload.get("session_id", "")), decision_id=str((decision or {}).get("id", "")),
            output=summary, actor=_ACTOR, redact=redact,
        ))
    if not changed:
        return 0, b"", b""
    note = (f"Warden replaced secrets or personal data in this tool output ({', '.join(changed[:5])}) with redaction markers; "
            "the real values are not available to you. Refer to them by name (e.g. an environment variable).")
    out = {"hookSpecificOutput": {"hookEventName": "PostToolUse", "updatedToolOutput": response,
                                  "additionalContext": note}}
    return 0, _json(out), b""


def _taint_from_output(gw: Any, payload: Mapping[str, Any]) -> None:
    """Tool output that reads like a prompt injection marks the session (its origin is kept)."""
    from warden.core.action import Action
    from warden.core.control.taint import origins_after

    session = payload.get("session_id")
    if not isinstance(session, str) or not session:
        return
    text = "\n".join(_strings(payload.get("tool_response")))
    action = Action(tool=str(payload.get("tool_name", "")), input={}, session=session)
    for origin in origins_after(action, text, time.time()):
        try:
            gw.state().add_taint(session, origin)
            gw.record_control([{"op": "taint", "session": session, "tool": action.tool,
                                "tool_use_id": str(payload.get("tool_use_id", "")), "actor": _ACTOR,
                                "origin": origin.to_json()}])
        except Exception:
            pass  # the next decision reads the taint; an unreadable store denies there


def _queue_bypass(gw: Any, payload: Mapping[str, Any]) -> None:
    """A queued call that ran while its request was still pending went around the queue (a dialog
    answered by the user, a hook not installed): say so loudly in the audit log."""
    tool_use_id = payload.get("tool_use_id")
    if not isinstance(tool_use_id, str) or not tool_use_id:
        return
    try:
        req = gw.state().find_request(tool_use_id=tool_use_id)
        if req is None or req.status != "pending":
            return
        gw.record_control([{"op": "approval.bypassed", "session": req.session, "tool": req.tool,
                            "tool_use_id": tool_use_id, "actor": {"id": req.actor, "agent": req.agent},
                            "request": req.id, "rule": req.rule_id,
                            "error": "the tool ran while its approval request was pending: the queue was "
                                     "bypassed (is Warden's PermissionRequest hook installed? `warden doctor`)"}],
                           str((req.card or {}).get("decision_id", "")))
    except Exception:
        pass  # detection only; the decision itself was recorded


def _strings(value: Any, limit: int = 2000) -> list[str]:
    """The text leaves of a tool response (not its JSON: escapes would hide phrase boundaries)."""
    out: list[str] = []
    stack = [value]
    while stack and len(out) < limit:
        v = stack.pop()
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
        elif isinstance(v, list):
            stack.extend(reversed(v))
    return out


def _decision(gw: Any, tool_use_id: str) -> dict[str, Any] | None:
    """This call's PreToolUse decision event, linking the outcome (and approval) to it (best effort)."""
    if not tool_use_id:
        return None
    try:
        finder = getattr(gw, "find_decision", None) or gw._open_recorder().find_decision
        found = finder(tool_use_id)
    except Exception:
        return None  # an unlinked outcome is still evidence; the decision itself was recorded
    return found if isinstance(found, dict) else None


# --- PermissionRequest (queued approvals, interactive) ---------------------------------------


def _permission_request(gw: Any, payload: dict[str, Any], opts: Mapping[str, Any]) -> tuple[int, bytes, bytes]:
    """A queued request waits here for another person (up to its expiry, within the hook's deadline);
    an ask that is not Warden's queue gets no answer, so Claude Code shows its own dialog."""
    from warden.integrations.agents.approval_wait import find_for_payload, wait_and_answer

    request = find_for_payload(gw, payload)
    if request is None or request.status not in ("pending", "approved"):
        return _native_dialog(gw, payload)
    budget = max(0.0, float(opts.get("deadline") or 8.0) - 1.5)
    answer = wait_and_answer(gw, request, budget, via="claude-code PermissionRequest")
    decision: dict[str, Any] = {"behavior": "allow" if answer.allow else "deny"}
    if not answer.allow:
        decision["message"] = _clip(answer.message)
    return 0, _json({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}}), b""


def _native_dialog(gw: Any, payload: dict[str, Any]) -> tuple[int, bytes, bytes]:
    """Not Warden's queue: Claude Code's own dialog answers. Where the native-approval recorder
    (``claude_code_approval``, the nosilent work) is present, it links the dialog to the ask."""
    try:
        from warden.integrations.agents.claude_code_approval import (  # type: ignore[import-not-found,unused-ignore]
            permission_request as record_dialog,
        )
    except ImportError:
        return 0, b"", b""
    answer: tuple[int, bytes, bytes] = record_dialog(gw, payload)
    return answer


# --- UserPromptSubmit -----------------------------------------------------------------------


def _user_prompt_submit(gw: Any, payload: dict[str, Any]) -> tuple[int, bytes, bytes]:
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        return failure("UserPromptSubmit", "the prompt is missing or not text")
    redacted = gw.redactor()(prompt)
    _next_task(gw, payload)
    verdict = gw.decide_payload(payload)  # records the decision; secret.* facts come from analysis
    carries_secret = redacted != prompt or any(f.kind.startswith("secret") for f in verdict.facts)
    if carries_secret or verdict.decision.label == "deny":
        why = ("it contains what looks like a secret" if carries_secret else verdict.reason)
        reason = (f"Warden blocked this prompt: {why}. Secrets must not be sent to the model; remove it and "
                  "refer to it by name (for example $API_TOKEN) instead.")
        return 0, _json({"decision": "block", "reason": _clip(reason)}), b""
    return 0, b"", b""


def _next_task(gw: Any, payload: Mapping[str, Any]) -> None:
    """Each user prompt starts a new task: limits with a `/task` window count from here."""
    session = payload.get("session_id")
    if isinstance(session, str) and session:
        try:
            gw.state().next_task(session)
        except Exception:
            pass  # a `/task` limit then counts on in the previous task: stricter, never looser


# --- Session boundaries ---------------------------------------------------------------------


_PHASES = {"SessionStart": "start", "SessionEnd": "end", "Stop": "stop", "SubagentStop": "stop"}


def _session(gw: Any, payload: dict[str, Any]) -> tuple[int, bytes, bytes]:
    event = str(payload.get("hook_event_name"))
    details = [f"claude-code {event}", f"cwd={payload.get('cwd', '')}"]
    for key in ("source", "reason", "permission_mode", "stop_hook_active"):
        if isinstance(payload.get(key), (str, bool)):
            details.append(f"{key}={payload[key]}")
    policy = None
    if event == "SessionStart":
        policy = gw.policy  # a broken policy raises here: better to say so at session start
        details.append(f"policy={getattr(policy, 'digest', '')}")
    try:
        if getattr(gw, "audit", True) and event in ("Stop", "SubagentStop", "SessionEnd"):
            refused_at_turn_end(gw, payload)  # asks that neither ran nor were answered: refused
        if getattr(gw, "audit", True):
            from warden.core.audit import session_event

            gw.record(session_event(phase=_PHASES[event], session=str(payload.get("session_id", "")),
                                    started_at=time.time(), actor=_ACTOR, detail=" ".join(details),
                                    redact=gw.redactor()))
    except Exception as exc:
        return failure(event, f"the audit log could not record {event}: {exc}")
    if policy is None:
        return 0, b"", b""
    context = policy_summary(policy, payload)
    killed = _kill_notice(gw, payload)
    if killed:
        context = killed + " " + context
    out = {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": _clip(context, 3000)}}
    return 0, _json(out), b""


def _kill_notice(gw: Any, payload: Mapping[str, Any]) -> str:
    """A kill switch in scope, said up front: every tool call of this session will be denied."""
    from warden.core.control.kill import kill_matches_ids

    try:
        kills = gw.state().kills()
    except Exception as exc:
        return f"WARDEN: the kill-switch state cannot be read ({exc}), so every tool call is denied."
    raw = payload.get("actor")
    actor: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    k = kill_matches_ids(kills, agent=str(actor.get("agent") or "claude-code"), session=str(payload.get("session_id", "")),
                         actor=str(actor.get("id") or ""))
    if k is None:
        return ""
    return (f"WARDEN KILL SWITCH: {k.label} was stopped by {k.by}: {k.reason}. Every tool call is denied until "
            "someone runs `warden resume`; tell the user and stop.")


def policy_summary(policy: Any, payload: Mapping[str, Any]) -> str:
    """One paragraph the model reads at session start, so it wastes fewer turns on denials."""
    workspace = payload.get("workspace") or payload.get("cwd") or "the project directory"
    rules = list(getattr(policy, "rules", []))

    # Site rules first (managed, project, user): they are what this model cannot guess.
    order = {"managed": 0, "cli": 1, "project": 1, "user": 2, "builtin": 3}
    rules.sort(key=lambda r: order.get(str(getattr(r, "layer", "builtin")), 3))

    def reasons(effect: str, limit: int, conditional: bool = False) -> list[str]:
        seen: list[str] = []
        for r in rules:
            if _conditional(r) != conditional:
                continue
            label = getattr(getattr(r, "effect", None), "label", "")
            # the first clause is the what; the rest (the why, the instead) is in each denial
            reason = " ".join(str(getattr(r, "reason", "")).split()).split(";")[0].rstrip(".")
            reason = reason if len(reason) <= 110 else reason[:109] + "…"
            if label == effect and reason and reason not in seen:
                seen.append(reason)
        return seen[:limit]

    default = getattr(getattr(policy, "default", None), "label", "ask")
    digest = str(getattr(policy, "digest", ""))[:12] or "unknown"
    parts = [f"Warden checks every tool call in this session against a security policy (digest {digest})."]
    allowed = reasons("allow", 5)
    if allowed:
        parts.append("Allowed without asking: " + "; ".join(allowed) + ".")
    denied = reasons("deny", 10)
    if denied:
        parts.append("Always denied: " + "; ".join(denied) + ".")
    bound = [f"{e}: {x}" for e in ("allow", "deny") for x in reasons(e, 5, conditional=True)]
    if bound:
        parts.append("Only for some users, agents, branches or environments (the condition decides, not the "
                     "command alone): " + "; ".join(bound) + ".")
    parts.append(f"Anything else needs approval or follows the default ({default}).")
    untrusted = list(getattr(policy, "untrusted", []) or [])
    if untrusted:
        parts.append(f"The project's own policy ({untrusted[0]['path']}) tries to loosen these rules in "
                     f"{len(untrusted)} place(s); that is ignored until the user reviews it and runs `warden trust`.")
    parts.append(f"Work inside {workspace}, run commands directly (no eval, `bash -c`, decoded or piped-in "
                 "scripts), and do not read, print or write credentials: secrets in tool output are redacted "
                 "and prompts carrying secrets are blocked. A denial's reason says what would be allowed "
                 "instead; do not retry the same action in another form.")
    return _clip(" ".join(parts), 2500)


def _conditional(rule: Any) -> bool:
    """A rule bound to who acts or where (actor, agent, role, context), itself or through ``unless``."""
    def bound(m: Any) -> bool:
        return m is not None and bool(getattr(m, "context", ()) or getattr(m, "actor_ids", None)
                                      or getattr(m, "agents", None) or getattr(m, "roles", None))
    matcher = getattr(rule, "matcher", None)
    return bound(matcher) or bound(getattr(matcher, "unless", None))


# Events Claude Code may send that carry nothing for policy (Warden does not install them).
_NO_OPINION = frozenset({"Notification", "PreCompact", "PostCompact", "SubagentStart", "PostToolUseFailure",
                         "InstructionsLoaded", "ConfigChange"})

_HANDLERS: dict[str, Any] = {
    "PreToolUse": _pre_tool_use,
    "PermissionRequest": _permission_request,
    "PostToolUse": _post_tool_use,
    "UserPromptSubmit": _user_prompt_submit,
    "SessionStart": _session,
    "SessionEnd": _session,
    "Stop": _session,
    "SubagentStop": _session,
}

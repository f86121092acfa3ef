"""Claude Code's hook protocol: one hook event in, (exit code, stdout, stderr) out.

Event -> what Warden does (docs/claude-code.md has the full story):

* ``PreToolUse``: the Gateway's verdict becomes ``permissionDecision`` allow / ask / deny with a
  reason that says what was found and what would be allowed instead.
* ``PostToolUse``: secrets in the tool's output are replaced through ``updatedToolOutput`` before
  the model sees them; the outcome is recorded.
* ``UserPromptSubmit``: a prompt carrying a secret is blocked.
* ``SessionStart`` / ``SessionEnd`` / ``Stop``: session boundaries are recorded; SessionStart
  hands the model a one-paragraph summary of the policy.

Fail closed: Claude Code lets a tool run when a hook exits 1, crashes or times out, so every
internal error exits 2 with the reason on stderr. PostToolUse is the exception that proves the
rule: there exit 2 would not stop the output reaching the model, so a failure *withholds* the
output instead.

Runs inside the daemon or, without one, in the hook process; the lean entry point is the
agent-neutral :mod:`warden.integrations.hook` (``warden hook claude-code``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from warden.integrations.agents import common
from warden.integrations.agents.common import Answer, HookGateway, RecorderLender

AGENT = "claude-code"
SETTINGS = "Claude Code's settings"
SESSION_EVENTS = ("SessionStart", "SessionEnd", "Stop", "SubagentStop")
# Events Claude Code may send that carry nothing for policy (Warden does not install them).
IGNORED = frozenset({"Notification", "PreCompact", "PostCompact", "SubagentStart", "PostToolUseFailure",
                     "InstructionsLoaded", "ConfigChange"})
MAX_REASON = common.MAX_REASON


def respond(raw: bytes, environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any],
            pool: RecorderLender | None = None, state: dict[str, str] | None = None) -> Answer:
    """One hook event in, (exit code, stdout, stderr) out (see :func:`common.respond`)."""
    return common.respond(PROTOCOL, raw, environ, cwd, opts, pool, state)


def event_of(raw: bytes) -> str:
    return common.event_named(raw, ("PreToolUse", "PostToolUse", "UserPromptSubmit", "PermissionRequest",
                                    *SESSION_EVENTS))


def failure(event: str, why: str) -> Answer:
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


def _with_actor(payload: dict[str, Any]) -> dict[str, Any]:
    payload.setdefault("actor", common.actor(AGENT))
    return payload


# --- PreToolUse -----------------------------------------------------------------------------


def _pre_tool_use(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    from warden.core.action import KNOWN_TOOLS

    tool = payload.get("tool_name")
    if isinstance(tool, str) and tool not in KNOWN_TOOLS and not tool.startswith("mcp__"):
        # A Claude Code tool Warden does not model (Agent, TodoWrite, ...): no opinion, so Claude
        # Code's own permission rules decide. Its inner tool calls still come through this hook.
        return 0, b"", b""
    verdict = gw.decide_payload(_with_actor(payload))
    out = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": verdict.decision.label,
                                  "permissionDecisionReason": common.explain(verdict, payload, SETTINGS)}}
    return 0, common.dumps(out), b""


# --- PostToolUse ----------------------------------------------------------------------------


def _post_tool_use(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    changed: list[str] = []
    response = common.redact_tree(payload.get("tool_response"), gw.redactor(), "", changed)
    common.record_outcome(gw, AGENT, tool=str(payload.get("tool_name", "")), response=response, changed=changed,
                          tool_use_id=str(payload.get("tool_use_id", "")), session=str(payload.get("session_id", "")))
    if not changed:
        return 0, b"", b""
    out = {"hookSpecificOutput": {"hookEventName": "PostToolUse", "updatedToolOutput": response,
                                  "additionalContext": common.REDACTION_NOTE.format(where=", ".join(changed[:5]))}}
    return 0, common.dumps(out), b""


# --- PermissionRequest (queued approvals, interactive) ---------------------------------------


def _permission_request(gw: HookGateway, payload: dict[str, Any], opts: Mapping[str, Any]) -> Answer:
    """A queued request waits here for another person (up to its expiry, within the hook's deadline);
    an ask that is not Warden's queue gets no answer, so Claude Code shows its own dialog."""
    from warden.integrations.agents.approval_wait import find_for_payload, wait_and_answer

    request = find_for_payload(gw, payload)
    if request is None or request.status not in ("pending", "approved"):
        return 0, b"", b""
    budget = max(0.0, float(opts.get("deadline") or 8.0) - 1.5)
    answer = wait_and_answer(gw, request, budget, via="claude-code PermissionRequest")
    decision: dict[str, Any] = {"behavior": "allow" if answer.allow else "deny"}
    if not answer.allow:
        decision["message"] = common.clip(answer.message)
    return 0, common.dumps({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}}), b""


# --- UserPromptSubmit -----------------------------------------------------------------------


def _user_prompt_submit(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        return failure("UserPromptSubmit", "the prompt is missing or not text")
    reason = common.prompt_block_reason(gw, _with_actor(payload), prompt)
    if reason:
        return 0, common.dumps({"decision": "block", "reason": reason}), b""
    return 0, b"", b""


# --- Session boundaries ---------------------------------------------------------------------


_PHASES = {"SessionStart": "start", "SessionEnd": "end", "Stop": "stop", "SubagentStop": "stop"}


def _session(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    event = str(payload.get("hook_event_name"))
    summary = (lambda text: {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": text}}) \
        if event == "SessionStart" else None
    return common.session_answer(gw, AGENT, payload, event=event, phase=_PHASES[event], failure=failure,
                                 keys=("source", "reason", "permission_mode", "stop_hook_active"), summary=summary)


policy_summary = common.policy_summary  # re-exported: tests and docs refer to it here

PROTOCOL = common.AgentProtocol(
    agent=AGENT,
    handlers={"PreToolUse": _pre_tool_use, "PostToolUse": _post_tool_use, "UserPromptSubmit": _user_prompt_submit,
              "PermissionRequest": _permission_request,  # type: ignore[dict-item]
              **dict.fromkeys(SESSION_EVENTS, _session)},
    with_opts=frozenset({"PermissionRequest"}),
    failure=failure,
    event_of=event_of,
    ignored_events=IGNORED,
    workspace_env="CLAUDE_PROJECT_DIR",  # Claude Code tells hooks the project root
)

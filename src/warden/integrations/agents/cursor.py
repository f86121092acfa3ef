"""Cursor's agent hook protocol (``.cursor/hooks.json`` / ``~/.cursor/hooks.json``).

Cursor sends ``hook_event_name``, ``conversation_id``, ``generation_id``, ``workspace_roots`` and
(since 1.7.x) ``cursor_version``, plus per-event fields. Event -> what Warden does (docs/agents.md):

* ``beforeShellExecution`` (``command``, ``cwd``), ``beforeMCPExecution`` (``server``,
  ``tool_name``, ``tool_input``), ``beforeReadFile`` (``file_path``, ``content``): the verdict as
  ``{"permission": "allow"|"deny"|"ask", "user_message", "agent_message"}`` (Cursor has spelled the
  message keys in camelCase and snake_case; both are written). beforeReadFile has no ask: an ask
  is a deny that says approval is needed. A file whose content carries a secret is not handed over.
* ``beforeSubmitPrompt``: ``{"continue": false}`` for a prompt carrying a secret.
* ``afterFileEdit``, ``afterShellExecution``, ``afterMCPExecution``, ``stop``: recorded (Cursor
  cannot change an output or undo an edit, so secrets in outputs reach the model: a gap
  docs/agents.md names, with ``beforeReadFile`` as the control that can act).

Fail closed: exit 2 blocks in Cursor; other failures let the action run. Every failure here is
exit 2 with the deny JSON on stdout and the reason on stderr.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from warden.core.decision import Decision
from warden.integrations.agents import common
from warden.integrations.agents.common import Answer, HookGateway, RecorderLender

AGENT = "cursor"
TESTED_VERSION = "2.4.0"  # the documented hook schema the fixtures in tests/agents/fixtures/cursor follow
SETTINGS = "Cursor's settings (.cursor/)"
BEFORE = ("beforeShellExecution", "beforeMCPExecution", "beforeReadFile", "beforeSubmitPrompt")
AFTER = ("afterFileEdit", "afterShellExecution", "afterMCPExecution", "stop")
IGNORED = frozenset({"afterAgentResponse", "afterAgentThought", "beforeTabFileRead", "afterTabFileEdit",
                     "sessionStart", "sessionEnd", "preCompact", "subagentStart", "subagentStop"})


def respond(raw: bytes, environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any],
            pool: RecorderLender | None = None, state: dict[str, str] | None = None) -> Answer:
    return common.respond(PROTOCOL, raw, environ, cwd, opts, pool, state)


def event_of(raw: bytes) -> str:
    return common.event_named(raw, BEFORE + AFTER)


def _permission(decision: str, message: str) -> dict[str, Any]:
    return {"permission": decision, "user_message": message, "agent_message": message,
            "userMessage": message, "agentMessage": message}


def failure(event: str, why: str) -> Answer:
    message = f"Warden blocked this because it could not decide safely: {why}"
    if event in AFTER:
        return 0, b"", (f"warden: {why}\n").encode()  # nothing left to block; say so
    if event == "beforeSubmitPrompt":
        return 2, common.dumps({"continue": False, "user_message": message}), (message + "\n").encode()
    return 2, common.dumps(_permission("deny", common.clip(message))), (message + "\n").encode()


def _prepare(payload: dict[str, Any], environ: Mapping[str, str]) -> str | None:
    from warden.integrations.agents.codex import untested_version

    version = payload.get("cursor_version")
    problem = untested_version(environ, AGENT, version if isinstance(version, str) else "", TESTED_VERSION)
    if problem:
        return problem
    roots = payload.get("workspace_roots")
    if isinstance(roots, list) and roots and isinstance(roots[0], str):
        payload.setdefault("workspace", roots[0])
    payload.setdefault("session_id", str(payload.get("conversation_id", "")))
    payload.setdefault("actor", common.actor(AGENT))
    return None


def _base(payload: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: payload[k] for k in ("session_id", "workspace", "actor") if k in payload}
    out["cwd"] = str(payload.get("cwd") or payload.get("workspace") or "")
    out["hook_event_name"] = "PreToolUse"
    return out


def _need(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"the {payload.get('hook_event_name')} event has no {key}")
    return value


def _answer(gw: HookGateway, action: dict[str, Any], *, ask: bool = True) -> Answer:
    verdict = gw.decide_payload(action)
    if verdict.decision is Decision.ALLOW:
        return 0, common.dumps(_permission("allow", "")), b""
    reason = common.explain(verdict, action, SETTINGS)
    if verdict.decision is Decision.ASK and not ask:
        return 0, common.dumps(_permission("deny", f"{reason}. {common.approval_hint(gw, verdict)}")), b""
    return 0, common.dumps(_permission(verdict.decision.label, reason)), b""


def _before_shell(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    try:
        command = _need(payload, "command")
    except ValueError as exc:
        return failure("beforeShellExecution", str(exc))
    return _answer(gw, {**_base(payload), "tool_name": "Bash", "tool_input": {"command": command}})


def _before_mcp(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    try:
        server, tool = _need(payload, "server"), _need(payload, "tool_name")
    except ValueError as exc:
        return failure("beforeMCPExecution", str(exc))
    raw_input = payload.get("tool_input")
    try:
        args = json.loads(raw_input) if isinstance(raw_input, str) else (raw_input or {})
    except ValueError:
        return failure("beforeMCPExecution", "tool_input is not valid JSON")
    if not isinstance(args, dict):
        return failure("beforeMCPExecution", "tool_input is not an object")
    return _answer(gw, {**_base(payload), "tool_name": f"mcp__{server}__{tool}", "tool_input": args})


def _before_read(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    try:
        path = _need(payload, "file_path")
    except ValueError as exc:
        return failure("beforeReadFile", str(exc))
    base = _base(payload)
    path = path if os.path.isabs(path) else os.path.join(base["cwd"], path)
    content = payload.get("content")
    if isinstance(content, str) and gw.redactor()(content) != content:
        # the file itself carries a secret: Cursor would hand it to the model whole
        gw.decide_payload({**base, "tool_name": "Read", "tool_input": {"file_path": path}})
        why = (f"{path} contains what looks like a secret, and Cursor cannot redact what it reads; "
               "refer to the credential by name instead")
        return 0, common.dumps(_permission("deny", f"Warden denied this: {why}")), b""
    return _answer(gw, {**base, "tool_name": "Read", "tool_input": {"file_path": path}}, ask=False)


def _before_prompt(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        return failure("beforeSubmitPrompt", "the prompt is missing or not text")
    action = {**_base(payload), "hook_event_name": "UserPromptSubmit", "prompt": prompt}
    reason = common.prompt_block_reason(gw, action, prompt)
    if reason:
        return 0, common.dumps({"continue": False, "user_message": reason}), b""
    return 0, common.dumps({"continue": True}), b""


def _after(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    event = str(payload.get("hook_event_name"))
    session = str(payload.get("session_id", ""))
    if event == "stop":
        common.record_session(gw, AGENT, phase="stop", session=session,
                              detail=f"{AGENT} stop status={payload.get('status', '')}")
        return 0, b"", b""
    tool = {"afterFileEdit": "Edit", "afterShellExecution": "Bash", "afterMCPExecution": "mcp"}[event]
    response = payload.get("edits") if event == "afterFileEdit" else payload.get(
        "output" if event == "afterShellExecution" else "result_json")
    changed: list[str] = []
    redacted = common.redact_tree(response, gw.redactor(), "", changed)
    common.record_outcome(gw, AGENT, tool=tool, response=redacted, changed=changed, tool_use_id="", session=session)
    return 0, b"", b""


PROTOCOL = common.AgentProtocol(
    agent=AGENT,
    handlers={"beforeShellExecution": _before_shell, "beforeMCPExecution": _before_mcp,
              "beforeReadFile": _before_read, "beforeSubmitPrompt": _before_prompt,
              **dict.fromkeys(AFTER, _after)},
    failure=failure,
    event_of=event_of,
    ignored_events=IGNORED,
    prepare=_prepare,
)

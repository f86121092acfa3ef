"""GitHub Copilot CLI's hook protocol (``.github/hooks/*.json`` / ``hooks`` in ``~/.copilot/settings.json``).

Copilot runs one configured command per event and does not name the event in the payload, so the
installed command says it: ``warden hook copilot --event preToolUse``. Payloads are camelCase
(``sessionId``, ``cwd``, ``toolName``, ``toolArgs``; ``toolResult`` after a tool; ``prompt``).
Event -> what Warden does (docs/agents.md):

* ``preToolUse``: ``{"permissionDecision": "deny"|"ask", "permissionDecisionReason"}``; an allow is
  an empty answer. Copilot supports ask (its own prompt; in ``-p`` mode it denies, saying it could
  not ask). Tools: bash -> Bash, view -> Read, create/edit -> Write/Edit, apply_patch -> one
  write per file, rg/glob -> Grep/Glob, write_bash -> the typed text as a command.
* ``permissionRequest``: a policy deny answers ``{"behavior": "deny"}``; otherwise the user decides.
* ``postToolUse``: secrets are replaced in what the model sees through ``modifiedResult``.
* ``userPromptSubmitted``: a secret in the prompt is replaced through ``modifiedPrompt``.
* ``sessionStart`` hands the model the policy summary; ``sessionEnd``/``agentStop`` are recorded.

Fail closed: Copilot denies a tool whose preToolUse hook exits non-zero, but *runs it* when the
hook prints something that is not JSON. Every failure here is exit 2 with the deny JSON on stdout
and the reason on stderr (postToolUse: the result withheld through ``modifiedResult``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from warden.core.decision import Decision, Verdict
from warden.integrations.agents import common
from warden.integrations.agents.common import Answer, HookGateway, RecorderLender

AGENT = "copilot"
TESTED_VERSION = "1.0.102"  # @github/copilot, as pinned in tests/e2e/package.json
SETTINGS = "Copilot's configuration (~/.copilot, .github/hooks)"
EVENTS = ("preToolUse", "permissionRequest", "postToolUse", "userPromptSubmitted", "sessionStart", "sessionEnd",
          "agentStop")
IGNORED = frozenset({"errorOccurred", "notification", "subagentStart", "subagentStop", "postToolUseFailure",
                     "preCompact"})


def respond(raw: bytes, environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any],
            pool: RecorderLender | None = None, state: dict[str, str] | None = None) -> Answer:
    event = str(opts.get("event") or "")
    if not event:
        return failure("", "the hook command does not say which Copilot event this is (--event NAME); "
                           "reinstall with `warden install copilot`")
    return common.respond(PROTOCOL, raw, environ, cwd, opts, pool, state, given=event)


def event_of(raw: bytes) -> str:
    return ""  # Copilot's payloads do not carry the event; the runner knows it from --event


def failure(event: str, why: str) -> Answer:
    message = f"Warden blocked this because it could not decide safely: {why}"
    if event == "postToolUse":
        body: dict[str, Any] = {"modifiedResult": {"resultType": "success",
                                                   "textResultForLlm": f"[output withheld by Warden: {why}]"}}
        return 0, common.dumps(body), (message + "\n").encode()
    if event == "permissionRequest":
        return 0, common.dumps({"behavior": "deny", "message": common.clip(message)}), (message + "\n").encode()
    if event in ("sessionEnd", "agentStop"):
        return 0, b"", (f"warden: {why}\n").encode()  # blocking agentStop would force another turn
    body = {"permissionDecision": "deny", "permissionDecisionReason": common.clip(message)}
    return 2, common.dumps(body), (message + "\n").encode()


def _prepare(payload: dict[str, Any], environ: Mapping[str, str]) -> str | None:
    from warden.integrations.agents.codex import untested_version

    problem = untested_version(environ, AGENT, environ.get("COPILOT_CLI_BINARY_VERSION", ""), TESTED_VERSION)
    if problem:
        return problem
    # Copilot's camelCase fields in the Claude-Code shape Warden's actions use
    if "sessionId" in payload:
        payload.setdefault("session_id", str(payload["sessionId"]))
    return None


def _check_tool(payload: Mapping[str, Any], event: str) -> str | None:
    if not isinstance(payload.get("toolName"), str) or not payload.get("toolName"):
        return f"the {event} event has no toolName"
    args = payload.get("toolArgs", payload.get("toolInput"))
    if not isinstance(args, dict):
        return f"the {event} event's toolArgs is missing or not an object"
    return None


def actions(payload: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The Warden action payloads one Copilot tool call amounts to; None: no opinion."""
    tool = str(payload.get("toolName"))
    args: Mapping[str, Any] = payload.get("toolArgs", payload.get("toolInput")) or {}
    cwd = str(payload.get("cwd") or "")
    base = {"cwd": cwd, "session_id": str(payload.get("sessionId", "")), "hook_event_name": "PreToolUse",
            "actor": common.actor(AGENT)}
    if payload.get("workspace"):
        base["workspace"] = payload["workspace"]

    def one(name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
        return {**base, "tool_name": name, "tool_input": tool_input}

    def path(key: str = "path") -> str:
        value = args.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{tool} without {key}")
        return value if os.path.isabs(value) else os.path.join(cwd, value)

    if tool == "bash":
        command = args.get("command")
        if not isinstance(command, str):
            raise ValueError("bash without a command")
        return [one("Bash", {"command": command})]
    if tool == "write_bash":
        text = args.get("input")
        if not isinstance(text, str):
            raise ValueError("write_bash without input")
        return [one("Bash", {"command": text})] if text.strip() else None
    if tool == "view":
        return [one("Read", {"file_path": path()})]
    if tool == "create":
        return [one("Write", {"file_path": path(), "content": str(args.get("file_text", ""))})]
    if tool in ("edit", "str_replace"):
        return [one("Edit", {"file_path": path(), "old_string": str(args.get("old_str", "")),
                             "new_string": str(args.get("new_str", ""))})]
    if tool == "apply_patch":
        patch = next((v for k in ("input", "patch", "command") if isinstance(v := args.get(k), str)), None)
        return common.patch_actions(patch or "", cwd, one)
    if tool in ("rg", "grep", "glob"):
        where = args.get("path")
        found = {"pattern": str(args.get("pattern", "")), "path": path() if where else cwd}
        return [one("Glob" if tool == "glob" else "Grep", found)]
    if tool in ("web_fetch", "fetch"):
        url = args.get("url")
        return [one("WebFetch", {"url": url, "prompt": ""})] if isinstance(url, str) else None
    return None


def _judge(gw: HookGateway, payload: dict[str, Any], event: str) -> tuple[Verdict, dict[str, Any]] | None:
    """The strictest verdict over the call's actions; None: no opinion. ValueError: cannot judge."""
    problem = _check_tool(payload, event)
    if problem:
        raise ValueError(problem)
    try:
        calls = actions(payload)
    except ValueError as exc:
        raise ValueError(f"the {payload.get('toolName')} call cannot be judged: {exc}") from None
    return None if calls is None else common.decide_all(gw, calls)


def _pre_tool_use(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    try:
        judged = _judge(gw, payload, "preToolUse")
    except ValueError as exc:
        return failure("preToolUse", str(exc))
    if judged is None:
        return 0, b"", b""
    verdict, action = judged
    if verdict.decision is Decision.ALLOW:
        return 0, b"", b""
    return 0, common.dumps({"permissionDecision": verdict.decision.label,
                            "permissionDecisionReason": common.explain(verdict, action, SETTINGS)}), b""


def _permission_request(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    try:
        judged = _judge(gw, payload, "permissionRequest")
    except ValueError as exc:
        return failure("permissionRequest", str(exc))
    if judged is None:
        return 0, b"", b""
    verdict, action = judged
    if verdict.decision is not Decision.DENY:
        return 0, b"", b""  # Copilot's own approval prompt decides: that prompt is the ask
    return 0, common.dumps({"behavior": "deny", "message": common.explain(verdict, action, SETTINGS)}), b""


def _post_tool_use(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    result = payload.get("toolResult")
    if not isinstance(result, dict):
        return failure("postToolUse", "the postToolUse event has no toolResult")
    changed: list[str] = []
    text = common.redact_tree(result.get("textResultForLlm"), gw.redactor(), "textResultForLlm", changed)
    common.record_outcome(gw, AGENT, tool=str(payload.get("toolName", "")), response=text, changed=changed,
                          tool_use_id="", session=str(payload.get("sessionId", "")))
    if not changed:
        return 0, b"", b""
    note = common.REDACTION_NOTE.format(where=", ".join(changed[:5]))
    shown = f"{text}\n\n[{note}]" if isinstance(text, str) else common.dumps(text).decode("utf-8")
    return 0, common.dumps({"modifiedResult": {**result, "textResultForLlm": shown}}), b""


def _user_prompt_submitted(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        return failure("userPromptSubmitted", "the prompt is missing or not text")
    action = {"hook_event_name": "UserPromptSubmit", "prompt": prompt, "cwd": payload.get("cwd", ""),
              "session_id": str(payload.get("sessionId", "")), "actor": common.actor(AGENT)}
    if common.prompt_block_reason(gw, action, prompt) is None:
        return 0, b"", b""
    # Copilot cannot refuse a prompt, but it lets the hook replace it: the secret never leaves.
    return 0, common.dumps({"modifiedPrompt": gw.redactor()(prompt)}), b""


def _session(gw: HookGateway, payload: dict[str, Any], event: str) -> Answer:
    summary = (lambda text: {"additionalContext": text}) if event == "sessionStart" else None
    phase = {"sessionStart": "start", "sessionEnd": "end", "agentStop": "stop"}[event]
    return common.session_answer(gw, AGENT, payload, event=event, phase=phase, failure=failure,
                                 keys=("source", "reason", "stopReason"), summary=summary)


PROTOCOL = common.AgentProtocol(
    agent=AGENT,
    handlers={"preToolUse": _pre_tool_use, "permissionRequest": _permission_request, "postToolUse": _post_tool_use,
              "userPromptSubmitted": _user_prompt_submitted,
              "sessionStart": lambda gw, p: _session(gw, p, "sessionStart"),
              "sessionEnd": lambda gw, p: _session(gw, p, "sessionEnd"),
              "agentStop": lambda gw, p: _session(gw, p, "agentStop")},
    failure=failure,
    event_of=event_of,
    ignored_events=IGNORED,
    workspace_env="COPILOT_PROJECT_DIR",
    prepare=_prepare,
)

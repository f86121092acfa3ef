"""OpenAI Codex CLI's hook protocol (``$CODEX_HOME/hooks.json`` / ``<project>/.codex/hooks.json``).

Codex sends Claude-Code-shaped events (``hook_event_name``, ``tool_name``, ``tool_input``,
``tool_use_id``, ``cwd``, ``session_id``). Event -> what Warden does (docs/agents.md):

* ``PreToolUse``: deny -> ``permissionDecision: deny`` with the reason. Codex rejects ``ask``
  (and a bare ``allow``) from this hook as invalid output and then *runs the tool*, so an ask
  becomes a deny that names the recorded decision for the user to approve, and an allow is an
  empty answer. Tools: ``Bash`` (exec_command), ``apply_patch`` (each file in the patch is judged
  as a write), ``write_stdin`` (the text typed into a running shell is judged as a command),
  ``view_image`` (a read), ``mcp__server__tool``; other tools get no opinion.
* ``PermissionRequest`` (Codex is about to ask the user): a policy deny answers ``behavior: deny``;
  otherwise the user's own prompt decides (that prompt is Warden's ask).
* ``PostToolUse``: Codex cannot replace a tool's output, but ``decision: block`` replaces what the
  model sees with the hook's reason, so a secret-bearing output goes back redacted as the reason.
* ``UserPromptSubmit``: a prompt carrying a secret is blocked. ``SessionStart`` records the session
  and hands the model the policy summary; ``Stop``/``SessionEnd`` are recorded.

Fail closed: only exit 2 with a reason on stderr, or exit 0 with valid blocking JSON, blocks in
Codex; exit 1, a crash or invalid JSON let the tool run. Every failure here is exit 2 + stderr
(PostToolUse: a block that withholds the output).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from warden.core.decision import Decision
from warden.integrations.agents import common
from warden.integrations.agents.common import Answer, HookGateway, RecorderLender

AGENT = "codex"
TESTED_VERSION = "0.171.0"  # @openai/codex, as pinned in tests/e2e/package.json
SETTINGS = "Codex's configuration (~/.codex, .codex/)"
EVENTS = ("PreToolUse", "PermissionRequest", "PostToolUse", "UserPromptSubmit", "SessionStart", "SessionEnd",
          "Stop")
IGNORED = frozenset({"PreCompact", "PostCompact", "SubagentStart", "SubagentStop", "Interrupt",
                     "PreModelRequest", "PostModelRequest"})


def respond(raw: bytes, environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any],
            pool: RecorderLender | None = None, state: dict[str, str] | None = None) -> Answer:
    return common.respond(PROTOCOL, raw, environ, cwd, opts, pool, state)


def event_of(raw: bytes) -> str:
    return common.event_named(raw, EVENTS)


def failure(event: str, why: str) -> Answer:
    """Fail closed in the form that blocks for this event in Codex."""
    message = f"Warden blocked this because it could not decide safely: {why}"
    if event == "PostToolUse":
        # the output has been produced; a block replaces what the model sees with this reason
        body = {"decision": "block", "reason": f"[output withheld by Warden: {why}]"}
        return 0, common.dumps(body), (message + "\n").encode()
    if event == "PermissionRequest":
        denial = {"hookSpecificOutput": {"hookEventName": "PermissionRequest",
                                         "decision": {"behavior": "deny", "message": common.clip(message)}}}
        return 0, common.dumps(denial), (message + "\n").encode()
    if event in ("Stop", "SessionEnd"):
        return 0, b"", (f"warden: {why}\n").encode()  # blocking Stop would make Codex continue the turn
    return 2, b"", (message + "\n").encode()


# --- version and payload checks ----------------------------------------------------------------

_versions: dict[tuple[str, int], str] = {}


def codex_version(environ: Mapping[str, str]) -> str:
    """The running Codex's version, from the npm package it names in CODEX_MANAGED_PACKAGE_ROOT."""
    root = environ.get("CODEX_MANAGED_PACKAGE_ROOT")
    if not root:
        return ""
    manifest = os.path.join(root, "package.json")
    try:
        key = (manifest, os.stat(manifest).st_mtime_ns)
    except OSError:
        return ""
    if key not in _versions:
        try:
            with open(manifest, "rb") as fh:
                _versions[key] = str(json.loads(fh.read(1 << 20)).get("version") or "")
        except (OSError, ValueError, AttributeError):
            _versions[key] = ""
    return _versions[key]


def untested_version(environ: Mapping[str, str], agent: str, found: str, tested: str) -> str | None:
    """A refusal when the agent is newer than the version Warden's integration was tested with
    (its hook payloads may have changed meaning), unless the user accepted that explicitly."""
    from warden.integrations.agents.checks import newer_than

    if not found or not newer_than(found, tested):
        return None
    accepted = {a.strip() for a in environ.get("WARDEN_UNTESTED_AGENTS", "").split(",")}
    if agent in accepted:
        return None
    return (f"{agent} {found} is newer than {tested}, the version Warden's {agent} integration was tested "
            f"with; upgrade Warden, or accept the untested version with WARDEN_UNTESTED_AGENTS={agent}")


def _prepare(payload: dict[str, Any], environ: Mapping[str, str]) -> str | None:
    problem = untested_version(environ, AGENT, codex_version(environ), TESTED_VERSION)
    if problem:
        return problem
    event = payload.get("hook_event_name")
    if event in ("PreToolUse", "PostToolUse", "PermissionRequest"):
        if not isinstance(payload.get("tool_name"), str) or not payload.get("tool_name"):
            return f"the {event} event has no tool_name"
        if not isinstance(payload.get("tool_input"), dict):
            return f"the {event} event's tool_input is missing or not an object"
    payload.setdefault("actor", common.actor(AGENT))
    return None


# --- tool calls -> actions ------------------------------------------------------------------------


def actions(payload: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The Warden action payloads one Codex tool call amounts to; None: a tool Warden has no
    opinion on. Raises ValueError when the call cannot be understood (the caller blocks)."""
    tool = str(payload.get("tool_name"))
    args: Mapping[str, Any] = payload.get("tool_input") or {}
    cwd = str(payload.get("cwd") or "")
    base = {k: payload[k] for k in ("cwd", "session_id", "workspace", "actor", "tool_use_id") if k in payload}
    base["hook_event_name"] = "PreToolUse"

    def one(tool_name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
        return {**base, "tool_name": tool_name, "tool_input": tool_input}

    if tool == "Bash" or tool.startswith("mcp__"):
        return [one(tool, dict(args))]
    if tool == "write_stdin":
        chars = args.get("chars")
        if not isinstance(chars, str):
            raise ValueError("write_stdin without text")
        # Text typed into a running shell runs as a command: judge it as one.
        return [one("Bash", {"command": chars})] if chars.strip() else None
    if tool == "apply_patch":
        patch: str | None = next((v for k in ("command", "input", "patch") if isinstance(v := args.get(k), str)),
                                 None)
        if patch is None:
            raise ValueError("apply_patch without a patch")
        return common.patch_actions(patch, cwd, one)
    if tool == "view_image":
        image = args.get("path")
        if not isinstance(image, str):
            raise ValueError("view_image without a path")
        return [one("Read", {"file_path": image if os.path.isabs(image) else os.path.join(cwd, image)})]
    return None


def _deny(reason: str) -> Answer:
    out = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                  "permissionDecisionReason": common.clip(reason)}}
    return 0, common.dumps(out), b""


def _pre_tool_use(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    try:
        calls = actions(payload)
    except ValueError as exc:
        return failure("PreToolUse", f"the {payload.get('tool_name')} call cannot be judged: {exc}")
    if calls is None:
        return 0, b"", b""
    verdict, judged = common.decide_all(gw, calls)
    if verdict.decision is Decision.ALLOW:
        return 0, b"", b""  # Codex treats a bare "allow" as invalid output; silence lets it run
    reason = common.explain(verdict, judged, SETTINGS)
    if verdict.decision is Decision.ASK:
        reason = f"{reason}. {common.approval_hint(gw, verdict)}"
    return _deny(reason)


def _permission_request(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    try:
        calls = actions(payload)
    except ValueError as exc:
        return failure("PermissionRequest", f"the {payload.get('tool_name')} request cannot be judged: {exc}")
    if calls is None:
        return 0, b"", b""
    verdict, judged = common.decide_all(gw, calls)
    if verdict.decision is not Decision.DENY:
        return 0, b"", b""  # the user's own approval prompt decides: that prompt is the ask
    body = {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": {
        "behavior": "deny", "message": common.explain(verdict, judged, SETTINGS)}}}
    return 0, common.dumps(body), b""


def _post_tool_use(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    changed: list[str] = []
    response = common.redact_tree(payload.get("tool_response"), gw.redactor(), "", changed)
    common.record_outcome(gw, AGENT, tool=str(payload.get("tool_name", "")), response=response, changed=changed,
                          tool_use_id=str(payload.get("tool_use_id", "")), session=str(payload.get("session_id", "")))
    if not changed:
        return 0, b"", b""
    text = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
    note = common.REDACTION_NOTE.format(where=", ".join(changed[:5]))
    # The reason replaces the output the model sees: the redacted output itself, then the note.
    return 0, common.dumps({"decision": "block", "reason": common.clip(f"{text}\n\n[{note}]", 60_000)}), b""


def _user_prompt_submit(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        return failure("UserPromptSubmit", "the prompt is missing or not text")
    reason = common.prompt_block_reason(gw, payload, prompt)
    if reason:
        return 0, common.dumps({"decision": "block", "reason": reason}), b""
    return 0, b"", b""


_PHASES = {"SessionStart": "start", "SessionEnd": "end", "Stop": "stop"}


def _session(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    event = str(payload.get("hook_event_name"))
    summary = (lambda text: {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": text}}) \
        if event == "SessionStart" else None
    return common.session_answer(gw, AGENT, payload, event=event, phase=_PHASES[event], failure=failure,
                                 keys=("source", "model", "permission_mode"), summary=summary)


PROTOCOL = common.AgentProtocol(
    agent=AGENT,
    handlers={"PreToolUse": _pre_tool_use, "PermissionRequest": _permission_request, "PostToolUse": _post_tool_use,
              "UserPromptSubmit": _user_prompt_submit, "SessionStart": _session, "SessionEnd": _session,
              "Stop": _session},
    failure=failure,
    event_of=event_of,
    ignored_events=IGNORED,
    prepare=_prepare,
)

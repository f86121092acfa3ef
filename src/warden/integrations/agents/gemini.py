"""Gemini CLI's hook protocol (``hooks`` in ``~/.gemini/settings.json`` / ``.gemini/settings.json``).

Gemini sends ``hook_event_name``, ``session_id``, ``cwd``, ``timestamp`` plus per-event fields
(``tool_name``/``tool_input`` for BeforeTool, ``tool_response`` for AfterTool, ``prompt`` for
BeforeAgent). Event -> what Warden does (docs/agents.md):

* ``BeforeTool``: the verdict becomes ``{"decision": "allow"|"ask"|"deny", "reason"}`` (Gemini
  supports ask: it forces its confirmation prompt). Tools map to Warden's vocabulary:
  run_shell_command -> Bash, read_file -> Read, write_file -> Write, replace -> Edit,
  list_directory -> LS, glob/grep_search -> Glob/Grep, web_fetch -> WebFetch (each URL in the
  prompt), google_web_search -> WebSearch, MCP tools (``mcp_context``) -> ``mcp__server__tool``.
* ``AfterTool``: Gemini cannot rewrite a result, but a ``deny`` replaces what the model sees with
  ``Tool result blocked: <reason>``, so a secret-bearing result goes back redacted as the reason.
* ``BeforeAgent`` (the user's prompt): a prompt carrying a secret is blocked. ``SessionStart``
  records the session and gives the model the policy summary; ``SessionEnd`` is recorded.

Fail closed: Gemini blocks on a deny JSON or exit 2; **any other non-zero exit only warns** and
the tool runs. So every failure here is exit 2 *and* the deny JSON on stdout (Gemini reads
stdout first) with the reason on stderr; end-of-session events warn with exit 0.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from warden.core.decision import Decision
from warden.integrations.agents import common
from warden.integrations.agents.common import Answer, HookGateway, RecorderLender

AGENT = "gemini"
TESTED_VERSION = "0.61.0"  # @google/gemini-cli, as pinned in tests/e2e/package.json
SETTINGS = "Gemini CLI's settings (~/.gemini, .gemini/)"
EVENTS = ("BeforeTool", "AfterTool", "BeforeAgent", "SessionStart", "SessionEnd")
IGNORED = frozenset({"AfterAgent", "BeforeModel", "AfterModel", "BeforeToolSelection", "PreCompress",
                     "Notification"})
_URL = re.compile(r"https?://[^\s<>\"')\]]+")


def respond(raw: bytes, environ: Mapping[str, str], cwd: str, opts: Mapping[str, Any],
            pool: RecorderLender | None = None, state: dict[str, str] | None = None) -> Answer:
    return common.respond(PROTOCOL, raw, environ, cwd, opts, pool, state)


def event_of(raw: bytes) -> str:
    return common.event_named(raw, EVENTS)


def failure(event: str, why: str) -> Answer:
    message = f"Warden blocked this because it could not decide safely: {why}"
    if event in ("SessionEnd",):
        return 0, common.dumps({"systemMessage": f"warden: {why}"}), (f"warden: {why}\n").encode()
    if event == "AfterTool":
        reason = f"[output withheld by Warden: {why}]"
    else:
        reason = common.clip(message)
    return 2, common.dumps({"decision": "deny", "reason": reason}), (message + "\n").encode()


def _prepare(payload: dict[str, Any], environ: Mapping[str, str]) -> str | None:
    event = payload.get("hook_event_name")
    if event in ("BeforeTool", "AfterTool"):
        if not isinstance(payload.get("tool_name"), str) or not payload.get("tool_name"):
            return f"the {event} event has no tool_name"
        if not isinstance(payload.get("tool_input"), dict):
            return f"the {event} event's tool_input is missing or not an object"
    payload.setdefault("actor", common.actor(AGENT))
    return None


def _abs(path: Any, cwd: str) -> str:
    if not isinstance(path, str) or not path:
        raise ValueError("a path argument is missing")
    return path if os.path.isabs(path) else os.path.join(cwd, path)


def actions(payload: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The Warden action payloads one Gemini tool call amounts to; None: no opinion.
    Raises ValueError when a tool Warden knows arrives without the arguments it needs."""
    tool = str(payload.get("tool_name"))
    args: Mapping[str, Any] = payload.get("tool_input") or {}
    cwd = str(payload.get("cwd") or "")
    base = {k: payload[k] for k in ("cwd", "session_id", "workspace", "actor") if k in payload}
    base["hook_event_name"] = "PreToolUse"

    def one(name: str, tool_input: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {**base, **extra, "tool_name": name, "tool_input": tool_input}

    mcp = payload.get("mcp_context")
    if isinstance(mcp, dict) and mcp.get("server_name"):
        name = str(mcp.get("tool_name") or tool.rsplit("__", 1)[-1])
        return [one(f"mcp__{mcp['server_name']}__{name}", dict(args))]
    if tool == "run_shell_command":
        command = args.get("command")
        if not isinstance(command, str):
            raise ValueError("run_shell_command without a command")
        where = args.get("dir_path") or args.get("directory")
        return [one("Bash", {"command": command}, cwd=_abs(where, cwd) if where else cwd)]
    if tool in ("read_file", "read_many_files"):
        paths = args.get("paths") if tool == "read_many_files" else [args.get("file_path") or args.get("absolute_path")]
        if not isinstance(paths, list) or not paths:
            raise ValueError(f"{tool} without paths")
        return [one("Read", {"file_path": _abs(p, cwd)}) for p in paths]
    if tool == "write_file":
        return [one("Write", {"file_path": _abs(args.get("file_path"), cwd), "content": str(args.get("content", ""))})]
    if tool == "replace":
        return [one("Edit", {"file_path": _abs(args.get("file_path"), cwd), "old_string": str(args.get("old_string", "")),
                             "new_string": str(args.get("new_string", ""))})]
    if tool == "list_directory":
        return [one("LS", {"path": _abs(args.get("dir_path") or args.get("path"), cwd)})]
    if tool in ("glob", "grep_search", "search_file_content"):
        where = args.get("dir_path") or args.get("path")
        found = {"pattern": str(args.get("pattern", "")), "path": _abs(where, cwd) if where else cwd}
        return [one("Glob" if tool == "glob" else "Grep", found)]
    if tool == "web_fetch":
        urls = _URL.findall(str(args.get("prompt", "")))
        return [one("WebFetch", {"url": u, "prompt": str(args.get("prompt", ""))}) for u in urls] or None
    if tool == "google_web_search":
        return [one("WebSearch", {"query": str(args.get("query", ""))})]
    return None


def _before_tool(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    try:
        calls = actions(payload)
    except ValueError as exc:
        return failure("BeforeTool", f"the {payload.get('tool_name')} call cannot be judged: {exc}")
    if calls is None:
        return 0, b"", b""
    verdict, judged = common.decide_all(gw, calls)
    if verdict.decision is Decision.ALLOW:
        return 0, b"", b""
    reason = common.explain(verdict, judged, SETTINGS)
    body: dict[str, Any] = {"decision": verdict.decision.label, "reason": reason}
    if verdict.decision is Decision.ASK:
        if gw.environ.get("WARDEN_HOOK_TTY") == "0":
            # Headless (`gemini -p`, CI): Gemini would wait forever for a confirmation nobody can give.
            hint = common.approval_hint(gw, verdict, "nobody is at a terminal to confirm it")
            body = {"decision": "deny", "reason": f"{reason}. {hint}"}
        else:
            body["systemMessage"] = reason  # shown with Gemini's confirmation prompt
    return 0, common.dumps(body), b""


def _after_tool(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    changed: list[str] = []
    response = payload.get("tool_response")
    shown = response.get("llmContent") if isinstance(response, dict) else response  # what the model gets
    redacted = common.redact_tree(shown, gw.redactor(), "", changed)
    common.record_outcome(gw, AGENT, tool=str(payload.get("tool_name", "")), response=redacted, changed=changed,
                          tool_use_id="", session=str(payload.get("session_id", "")))
    if not changed:
        return 0, b"", b""
    text = redacted if isinstance(redacted, str) else common.dumps(redacted).decode("utf-8")
    note = common.REDACTION_NOTE.format(where=", ".join(changed[:5]))
    # a deny replaces what the model sees with "Tool result blocked: <reason>": the redacted result
    return 0, common.dumps({"decision": "deny", "reason": common.clip(f"{text}\n\n[{note}]", 60_000)}), b""


def _before_agent(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    prompt = payload.get("prompt")
    if not isinstance(prompt, str):
        return failure("BeforeAgent", "the prompt is missing or not text")
    action = {**payload, "hook_event_name": "UserPromptSubmit"}
    reason = common.prompt_block_reason(gw, action, prompt)
    if reason:
        return 0, common.dumps({"decision": "deny", "reason": reason}), b""
    return 0, b"", b""


def _session(gw: HookGateway, payload: dict[str, Any]) -> Answer:
    event = str(payload.get("hook_event_name"))
    summary = (lambda text: {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": text}}) \
        if event == "SessionStart" else None
    return common.session_answer(gw, AGENT, payload, event=event, phase="start" if summary else "end",
                                 failure=failure, keys=("source", "reason"), summary=summary)


PROTOCOL = common.AgentProtocol(
    agent=AGENT,
    handlers={"BeforeTool": _before_tool, "AfterTool": _after_tool, "BeforeAgent": _before_agent,
              "SessionStart": _session, "SessionEnd": _session},
    failure=failure,
    event_of=event_of,
    ignored_events=IGNORED,
    workspace_env="GEMINI_PROJECT_DIR",
    prepare=_prepare,
)

"""Secret-carrying content as facts (``secret.content``), for prompts, writes and commands.

Which text an action *sends somewhere* depends on the tool: a Write's content, an Edit's
new strings, a Bash command line, a prompt, a WebFetch URL and prompt, any MCP argument.
Each is scanned with the built-in rules; one fact per action lists the rule ids and the
fields they were found in.

Fingerprints are deliberately left out of facts: facts are pure (no key is available in
the core) and end up in verdicts and audit events, where an unkeyed hash of a short
password would be a dictionary-attack oracle. Adapters that need identity (the audit log,
redacted output) call :func:`warden.core.secrets.redact` with their key instead.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterator

from warden.core.action import MAX_DEPTH, Action
from warden.core.facts import SECRET_IN_CONTENT, Fact

# MCP arguments are untrusted JSON: the walk is bounded, and as deep as action.py accepts,
# so nothing an action may carry is out of reach.
_MAX_DEPTH = MAX_DEPTH + 1
_MAX_TOTAL = 4 * 1024 * 1024  # characters scanned per action (MAX_STRING in action.py)


def _strings(value: Any, where: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif depth >= _MAX_DEPTH:
        return
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{where}.{k}" if where else str(k), depth + 1)
        return
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]", depth + 1)


def carried_text(action: Action) -> Iterator[tuple[str, str]]:
    """(field, text) pairs of what the action writes, sends or says."""
    data = action.input
    tool = action.tool
    if tool == "Write":
        yield from _strings(data.get("content"), "content")
    elif tool in ("Edit", "NotebookEdit"):
        yield from _strings(data.get("new_string"), "new_string")
        yield from _strings(data.get("new_source"), "new_source")
    elif tool == "MultiEdit":
        edits = data.get("edits")
        if isinstance(edits, list):
            for i, e in enumerate(edits[:1000]):
                if isinstance(e, dict):
                    yield from _strings(e.get("new_string"), f"edits[{i}].new_string")
    elif tool == "Bash":
        yield from _strings(data.get("command"), "command")
    elif tool == "Prompt":
        yield from _strings(data.get("prompt"), "prompt")
    elif tool == "WebFetch":
        yield from _strings(data.get("url"), "url")
        yield from _strings(data.get("prompt"), "prompt")
    elif tool == "WebSearch":
        yield from _strings(data.get("query"), "query")
    elif action.is_mcp or tool == "Task":
        yield from _strings(dict(data), "")


def content_facts(action: Action) -> list[Fact]:
    from warden.core.secrets import default_ruleset

    ruleset = default_ruleset()
    rules: list[str] = []
    fields: list[str] = []
    budget = _MAX_TOTAL
    truncated = False
    for where, text in carried_text(action):
        if not text:
            continue
        if len(text) > budget:
            text, truncated = text[:budget], True
        budget -= len(text)
        found = ruleset.scan(text)
        if found:
            fields.append(where)
            for f in found:
                if f.rule_id not in rules:
                    rules.append(f.rule_id)
        if budget <= 0:
            break
    facts: list[Fact] = []
    if rules:
        facts.append(
            Fact(
                SECRET_IN_CONTENT,
                f"{action.tool} carries a secret ({', '.join(rules)}) in {', '.join(fields)}",
                {"rules": rules, "fields": fields},
            )
        )
    if truncated:
        facts.append(Fact("secret.scan_truncated", f"only the first {_MAX_TOTAL} characters were scanned"))
    return facts

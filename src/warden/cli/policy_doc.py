"""A policy file as a Markdown rule table (docs/default-policy.md is generated with it)."""

from __future__ import annotations

from typing import Any

HEADER = "| tier | rule | matches | reason | e.g. |\n|---|---|---|---|---|"
_LIST_LIMIT = 12


def _cell(text: str) -> str:
    # control characters (an example may hold a NUL byte) are shown escaped, never written raw
    shown = "".join(ch if ch >= " " or ch == "\t" else repr(ch)[1:-1] for ch in text)
    return " ".join(shown.split()).replace("|", "\\|")


def _values(name: str, values: list[str], code: bool = True) -> str:
    shown = [f"`{v}`" if code else str(v) for v in values[:_LIST_LIMIT]]
    more = ", ..." if len(values) > _LIST_LIMIT else ""
    label = f"{len(values)} {name}s" if len(values) > _LIST_LIMIT else name
    return f"{label}: {', '.join(shown)}{more}"


def _matches(rule: Any) -> str:
    parts = []
    if rule.tool:
        parts.append("tool: " + ", ".join(rule.tool))
    for field, name in (("program", "program"), ("command", "command"), ("path", "path"), ("host", "host"),
                        ("facts", "facts")):
        values = getattr(rule, field)
        if values:
            parts.append(_values(name, values) if field != "facts" else "facts: " + ", ".join(f"`{v}`" for v in values))
    if rule.access:
        parts.append("access: " + ", ".join(rule.access))
    if rule.in_workspace is not None:
        parts.append(f"in_workspace: {str(rule.in_workspace).lower()}")
    if rule.actor:
        parts.append("actor: " + ", ".join(f"{k}={v}" for k, v in rule.actor.model_dump(exclude_none=True).items()))
    if rule.context:
        parts.append("context: " + ", ".join(f"{k}={v}" for k, v in rule.context.items()))
    if rule.tainted is not None:
        parts.append("in a tainted session" if rule.tainted else "in an untainted session")
    if rule.limit is not None:
        parts.append(f"limit: {rule.limit.max} per {rule.limit.per}, then {rule.limit.on_exceed}")
    if rule.approval is not None and rule.approval.route == "queue":
        parts.append(f"approval: queue (quorum {rule.approval.quorum}, grant {rule.approval.grant})")
    if rule.unless:
        parts.append("unless: " + ", ".join(f"{k}={v}" for k, v in rule.unless.model_dump(exclude_none=True).items()))
    return "; ".join(parts)


def _example(rule: Any) -> str:
    if not rule.examples or not rule.examples.match:
        return ""
    ex = rule.examples.match[0]
    if isinstance(ex, dict):
        tool = ex.get("tool_name") or ("Prompt" if ex.get("hook_event_name") == "UserPromptSubmit" else "?")
        detail = ex.get("tool_input") or {"prompt": ex.get("prompt", "")}
        first = next(iter(detail.values()), "") if isinstance(detail, dict) else detail
        return f"`{_cell(f'{tool}: {first}')}`"
    return f"`{_cell(ex)}`"


def rules_markdown(text: str, path: str = "policy.yaml") -> str:
    """The rule table for one policy file's text (raises PolicyLoadError when it does not parse)."""
    from warden.core.policy.load import LayerSource, parse_layer

    model, _ = parse_layer(LayerSource("project", path, text))
    rows = [HEADER]
    for rule in model.rules:
        rows.append(f"| {rule.effect} | `{rule.id}` | {_cell(_matches(rule))} | {_cell(rule.reason)} | {_example(rule)} |")
    return "\n".join(rows) + "\n"

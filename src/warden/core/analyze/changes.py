"""Change-risk facts for file edits: ``change.auth``, ``change.migration``, ... (see core/review/risk.py).

The lines looked at are what the edit writes and, for Edit/MultiEdit, what it replaces: removing
a permission check changes authorization as much as adding one.
"""

from __future__ import annotations

from warden.core.action import Action
from warden.core.facts import Access, Analysis, Fact

_EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})


def _texts(action: Action) -> list[str]:
    data = action.input
    out: list[str] = []
    for key in ("content", "new_string", "old_string", "new_source"):
        value = data.get(key)
        if isinstance(value, str):
            out.append(value)
    edits = data.get("edits")
    if isinstance(edits, list):
        for edit in edits[:200]:
            if isinstance(edit, dict):
                out.extend(v for k in ("new_string", "old_string") if isinstance(v := edit.get(k), str))
    return out


def change_facts(action: Action, path: str) -> list[Fact]:
    if action.tool not in _EDIT_TOOLS or not path:
        return []
    from warden.core.review.risk import classify, fact_kinds

    lines = [line for text in _texts(action) for line in text.splitlines()]
    risk = classify(path, lines)
    facts = []
    for kind in fact_kinds(risk):
        label = kind.split(".", 1)[1]
        why = "; ".join(r for s, r in zip(risk.signals, risk.reasons()) if s.label == label)
        facts.append(Fact(kind, f"{path}: {why}"[:500]))
    return facts


def shell_change_facts(analysis: Analysis, workspace: str) -> list[Fact]:
    """Shell writes into the workspace (``sed -i``, ``>``, ``tee``, ``cp``): labels from the path alone,
    since the new content is not known before the command runs."""
    from warden.core.review.risk import classify, fact_kinds

    out: list[Fact] = []
    seen: set[str] = set()
    refs = list(analysis.paths) + [p for c in analysis.commands for p in c.paths]
    for ref in refs:
        if ref.access not in (Access.WRITE, Access.DELETE) or not ref.in_workspace or not workspace:
            continue
        rel = ref.path[len(workspace) + 1:] if ref.path.startswith(workspace + "/") else ref.path
        for kind in fact_kinds(classify(rel)):
            if kind not in seen:
                seen.add(kind)
                out.append(Fact(kind, f"{rel}: the command writes {rel}"))
    return out

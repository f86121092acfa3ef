"""The approval card: everything a person needs to judge a queued action, and no secrets.

Built once, when the request is queued, from the action, its analysis and the verdict, plus
what the adapter looked up (the file a Write replaces, the session's first prompt and recent
actions, the taint origins). Every string passes through ``redact`` before it is stored.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from warden.core.action import Action
from warden.core.decision import Verdict
from warden.core.facts import Analysis

MAX_DIFF_LINES = 80
MAX_TEXT = 4000
Redact = Callable[[str], str]


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diff_preview(action: Action, old_text: str | None) -> str:
    """A unified diff for Write/Edit/MultiEdit (old_text: the file's current content, if known)."""
    path = str(action.input.get("file_path", ""))
    if action.tool == "Write":
        new = str(action.input.get("content", ""))
        old = old_text or ""
    elif action.tool == "Edit":
        old = str(action.input.get("old_string", ""))
        new = str(action.input.get("new_string", ""))
    elif action.tool == "MultiEdit":
        edits = action.input.get("edits") or []
        old = "\n".join(str(e.get("old_string", "")) for e in edits if isinstance(e, Mapping))
        new = "\n".join(str(e.get("new_string", "")) for e in edits if isinstance(e, Mapping))
    else:
        return ""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"a{path}", f"b{path}", lineterm=""))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines"]
    return "\n".join(lines)


def rollback_hint(action: Action, analysis: Analysis, old_text: str | None) -> str:
    """How to undo the action, where Warden knows a way."""
    if action.tool in ("Write", "Edit", "MultiEdit"):
        if old_text is None:
            return "the file is new: delete it to undo"
        digest = hashlib.sha256(old_text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        return f"previous content sha256:{digest}…; `git checkout -- {action.input.get('file_path', '')}` if tracked"
    hints = []
    for c in analysis.commands:
        argv = list(c.argv)
        if c.program == "git" and "push" in argv:
            hints.append("`git revert <commit>` and push again (or `git push --force-with-lease` to the old head)")
        elif c.program == "git" and "commit" in argv:
            hints.append("`git reset --soft HEAD~1`")
        elif c.program == "terraform" and "apply" in argv:
            hints.append("`terraform plan -destroy` shows what removing it takes")
        elif c.program in ("pip", "pip3", "uv") and "install" in argv:
            hints.append(f"`pip uninstall {' '.join(a for a in argv[2:] if not a.startswith('-'))}`")
        elif c.program in ("npm", "pnpm", "yarn") and ("install" in argv or "add" in argv or "i" in argv):
            hints.append(f"`{c.program} uninstall {' '.join(a for a in argv[2:] if not a.startswith('-'))}`")
        elif c.program == "kubectl" and "apply" in argv:
            hints.append("`kubectl delete -f` the same manifests, or `kubectl rollout undo`")
    return "; ".join(dict.fromkeys(hints))


def _facts_of(analysis: Analysis, prefixes: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for f in analysis.all_facts():
        if f.kind.startswith(prefixes):
            out.append({"kind": f.kind, "detail": f.detail})
    return out


def build_card(action: Action, analysis: Analysis, verdict: Verdict, *, redact: Redact,
               old_text: str | None = None, session_prompt: str = "", recent: Iterable[Mapping[str, Any]] = (),
               taint: Iterable[Any] = ()) -> dict[str, Any]:
    r = redact
    paths = []
    for p in [*analysis.paths, *(p for c in analysis.commands for p in c.paths)]:
        entry = {"path": r(p.path), "access": str(p.access), "in_workspace": p.in_workspace}
        if entry not in paths:
            paths.append(entry)
    hosts = sorted({h for h in [*analysis.hosts, *(h for c in analysis.commands for h in c.hosts)]})
    command = action.command
    card: dict[str, Any] = {
        "tool": action.tool,
        "command": r(_clip(command)) if command is not None else None,
        "input": {k: r(_clip(str(v), 500)) for k, v in action.input.items() if k not in ("content",)},
        "simple_commands": [r(_clip(c.describe(), 500)) for c in analysis.commands],
        "paths": paths[:50],
        "outside_workspace": [p["path"] for p in paths if not p["in_workspace"]][:20],
        "hosts": hosts[:50],
        "git": _facts_of(analysis, ("git.",))[:20],
        "cloud": _facts_of(analysis, ("cloud.", "container.", "db."))[:20],
        "packages": _facts_of(analysis, ("pkg.",))[:20],
        "rules": [{"id": m.id, "effect": m.effect.label, "reason": r(m.reason), "source": m.source,
                   "subject": r(_clip(m.subject, 300))} for m in verdict.rules][:20],
        "reason": r(_clip(verdict.reason)),
        "facts": [{"kind": f.kind, "detail": r(_clip(f.detail, 300))} for f in verdict.facts][:40],
        "actor": action.actor.to_json(),
        "session": action.session,
        "workspace": action.workspace,
        "cwd": action.cwd,
        "context": {k: r(str(v)) for k, v in action.context.items()},
        "session_prompt": r(_clip(session_prompt, 1000)),
        "recent_actions": [{k: r(_clip(str(v), 300)) for k, v in a.items()} for a in list(recent)[:10]],
        "taint": [t.to_json() if hasattr(t, "to_json") else dict(t) for t in taint][:10],
        "diff": r(diff_preview(action, old_text)),
        "rollback": r(rollback_hint(action, analysis, old_text)),
    }
    return card

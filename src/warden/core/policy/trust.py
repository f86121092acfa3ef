"""A project policy is untrusted input: it may tighten the rules, never loosen them unless trusted.

A cloned repository's ``warden.yaml`` is written by whoever wrote the repository. Until the user
trusts that exact file (``warden trust``, by content digest) or the managed layer lists it in
``trusted_projects``, compile_policy ignores every part of it that would loosen what the lower
layers (built-in, user) decide, and says so with ``file:line`` and the fix:

* ``disable:`` of a lower ask or deny rule, and a rule that replaces one by reusing its id;
* a ``default`` more permissive than the lower layers' default;
* an allow rule that shadows a lower ask or deny (it matches one of that rule's own examples);
* settings that loosen: ``ask_fallback: allow``, fewer ``protected_branches``, any
  ``environments`` (naming environments decides which context rules fire), ``trusted_mcp``
  (results that would not taint) or ``reviewer`` (a model that approves asks);
* sandbox settings that loosen: ``allow_unsandboxed: true``, ``claude_code: false``, any
  ``profiles`` (a profile can make paths writable or open the network).

Pure: the adapter says which files are trusted; this module only judges the texts.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from warden.core.decision import Decision

STRICT = ("ask", "deny")


@dataclass(frozen=True, slots=True)
class Loosening:
    path: str
    line: int
    what: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "what": self.what,
                "fix": f"review it, then run `warden trust {self.path}`"}

    def __str__(self) -> str:
        return (f"{self.path}:{self.line}: ignored until you trust this file: {self.what}; review it, then run "
                f"`warden trust {self.path}`")


def is_trusted(path: str, trusted: frozenset[str] | None, managed_globs: list[str], trust_locked: bool) -> bool:
    """``trusted`` None means the caller trusts every file (pure callers, policy tests)."""
    if any(fnmatch.fnmatchcase(path, g) for g in managed_globs):
        return True
    if trusted is None:
        return True
    return not trust_locked and path in trusted


def settings_loosening(new: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Keys of a project's ``settings`` that would loosen ``current`` (the merged lower layers)."""
    out = []
    if new.get("ask_fallback") == "allow" and current.get("ask_fallback", "deny") != "allow":
        out.append("ask_fallback")
    if "protected_branches" in new:
        before = set(current.get("protected_branches") or ["main", "master"])
        if not before <= set(new["protected_branches"]):
            out.append("protected_branches")
    for key in ("environments", "trusted_mcp", "reviewer"):  # which contexts fire, what taints, who approves
        if new.get(key):
            out.append(key)
    return out


def sandbox_loosening(new: dict[str, Any], current: dict[str, Any]) -> list[str]:
    out = []
    if new.get("allow_unsandboxed") and not current.get("allow_unsandboxed"):
        out.append("allow_unsandboxed")
    if new.get("claude_code") is False and current.get("claude_code"):
        out.append("claude_code")
    if new.get("profiles"):
        out.append("profiles")
    return out


def looser_default(new: str, current: Decision) -> bool:
    return Decision.parse(new) < current


def is_strict(effect: str) -> bool:
    return effect in STRICT

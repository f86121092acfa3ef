"""How risky a queued action looks, from its approval card: ``high``, ``medium`` or ``low``, with why.

The policy already decided *that* a person must look; this only orders and filters the queue, so an
approver sees the force-push before the ``npm install``. It reads the facts the analyzers put on the
card (fact kinds are documented in docs/facts.md) and the session's taint; a card that carries its own
``risk`` (a reviewer's, or a client's) keeps it. Unknown facts count as medium: the queue never calls
something low that it does not understand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LEVELS = ("low", "medium", "high")

# Irreversible, credential-touching, privilege- or history-changing, or code from elsewhere running.
HIGH = ("secret.", "flow.", "fs.critical", "cloud.destroy", "db.destroy", "git.force_push", "git.delete_protected",
        "git.push_protected", "git.history_rewrite", "priv.", "persist.", "guard.", "container.privileged",
        "container.host_mount", "net.reverse_shell", "net.remote_exec", "net.metadata", "pkg.publish", "vcs.guard_off",
        "mcp.destructive", "mcp.poisoned", "sys.", "device.", "session.tainted", "exec.remote_package",
        "exec.foreign_code")
# Changes something outside the workspace, talks to other hosts, or installs: worth a look, usually routine.
MEDIUM = ("net.", "cloud.", "container.", "db.", "pkg.", "git.", "fs.", "exec.", "vcs.", "mcp.", "path.outside",
          "ci.", "shell.", "tool.destructive", "change.")
# Facts that describe without judging (docs/facts.md calls them info): they raise nothing.
INFO = ("git.subcommand", "git.fetch", "fs.recursive_delete", "exec.script", "exec.package_bin", "exec.module",
        "exec.implicit_runner", "exec.foreign_source", "exec.implicit_write", "net.local", "net.lookup", "db.read",
        "db.local", "cloud.read", "container.exec", "interp.", "tool.verb", "tool.shell_arg", "tool.read_only",
        "mcp.read", "mcp.hint_", "program.read_only", "pkg.install_project", "approval.granted", "limit.exceeded",
        "review.")


def _kinds(card: Mapping[str, Any]) -> list[str]:
    kinds: list[str] = []
    for key in ("facts", "git", "cloud", "packages"):
        for f in card.get(key) or []:
            if isinstance(f, Mapping) and f.get("kind"):
                kinds.append(str(f["kind"]))
    return list(dict.fromkeys(kinds))


def level_of(kind: str) -> str:
    if kind.startswith(INFO) and not kind.startswith(HIGH):
        return "low"
    if kind.startswith(HIGH):
        return "high"
    if kind.startswith(MEDIUM):
        return "medium"
    return "medium"  # a kind this table does not know yet


def card_risk(card: Mapping[str, Any]) -> tuple[str, list[str]]:
    """(level, the reasons that set it) for one approval card."""
    own = str(card.get("risk") or "")
    if own in LEVELS:
        return own, [f"the card says {own} risk"]
    found: dict[str, list[str]] = {level: [] for level in LEVELS}
    for kind in _kinds(card):
        found[level_of(kind)].append(kind)
    if card.get("taint"):
        found["high"].append("session tainted by untrusted content")
    outside = [str(p) for p in card.get("outside_workspace") or []]
    if outside:
        found["medium"].append(f"touches {len(outside)} path(s) outside the workspace")
    if card.get("hosts"):
        found["medium"].append(f"talks to {', '.join(str(h) for h in card['hosts'][:3])}")
    for level in ("high", "medium"):
        if found[level]:
            return level, found[level]
    return "low", ["no risky facts on the card"]

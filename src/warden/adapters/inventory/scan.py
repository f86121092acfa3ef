"""Run every detector over the roots asked for, then classify the graph with the real policy engine."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warden.adapters.inventory import (
    agent_claude,
    agent_codex,
    agent_others,
    instructions,
    mcp,
    packages,
    protection,
    warden_policy,
    workflows,
)
from warden.adapters.inventory.base import Detector, Scope
from warden.adapters.inventory.files import RepoFiles
from warden.core.inventory import classify, findings, reach
from warden.core.inventory.model import Inventory

# Order matters only for enrichment: agent configs first, so later detectors find the agent nodes.
DETECTORS: list[tuple[str, Detector]] = [
    ("claude-code", agent_claude.detect), ("codex", agent_codex.detect), ("copilot", agent_others.copilot),
    ("gemini", agent_others.gemini), ("cursor", agent_others.cursor), ("warden-policy", warden_policy.detect),
    ("mcp", mcp.detect), ("instructions", instructions.detect), ("ci", workflows.detect),
    ("packages", packages.detect), ("protection", protection.detect),
]
MANAGED_ROOTS = {"claude-code": "/etc/claude-code", "codex": "/etc/codex"}
MAX_REPOS = 5000


def find_repos(top: str, max_depth: int = 4) -> list[str]:
    """Checkouts under a directory (a .git entry marks one); never descends into a found checkout."""
    found: list[str] = []
    stack = [(Path(top), 0)]
    seen: set[tuple[int, int]] = set()
    while stack and len(found) < MAX_REPOS:
        path, depth = stack.pop()
        try:
            st = path.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        if (path / ".git").exists():
            found.append(str(path))
            continue
        if depth >= max_depth:
            continue
        try:
            children = sorted((p for p in path.iterdir() if p.is_dir() and p.name not in (".git", "node_modules")), reverse=True)
        except OSError:
            continue
        stack += [(c, depth + 1) for c in children]
    return sorted(found)


def default_branch(root: Path) -> str:
    try:
        ref = (root / ".git" / "refs" / "remotes" / "origin" / "HEAD").read_text().strip()
        return ref.rsplit("/", 1)[-1] or "main"
    except OSError:
        return "main"


def _unique_name(root: Path, taken: set[str]) -> str:
    name = root.name or str(root)
    n, candidate = 2, name
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate


class Scanner:
    """Builds one :class:`Inventory` from repositories, the user's home and the managed settings."""

    def __init__(self, gateway: Any, *, policy_file: str | None = None,
                 managed_roots: Mapping[str, str] | None = None) -> None:
        self.gateway = gateway
        self.managed_roots = MANAGED_ROOTS if managed_roots is None else managed_roots
        self.policy_file = policy_file
        self.inv = Inventory()
        self.roots: dict[str, str] = {}
        self.owner_rules: dict[str, list] = {}
        self._names: set[str] = set()
        self._cache: dict[str, Mapping[str, Any]] = {}
        self._policy_memo: dict[str, Any] = {}

    def _run(self, scope: Scope) -> None:
        for name, detector in DETECTORS:
            try:
                detector(scope)
            except Exception as exc:  # a detector bug must cost one detector on one root, not the run
                self.inv.problem(scope.repo, ".", "detector-error", f"{name}: {type(exc).__name__}: {exc}")

    def add_repo(self, path: str) -> None:
        root = Path(path).resolve()
        name = _unique_name(root, self._names)
        files = RepoFiles(root, name, self.inv)
        scope = Scope(files, "project", default_branch(root), {"gateway": self.gateway, "policy_file": self.policy_file,
                                                                "policy_memo": self._policy_memo})
        self._run(scope)
        self.roots[name] = str(root)
        self.owner_rules[name] = scope.extra.get("codeowners") or []
        policy = self.inv.nodes.get(f"policy:{name}")
        self.inv.repos.append({"name": name, "root": str(root), "default_branch": scope.default_branch,
                               "policy": policy.detail if policy else None,
                               "files_indexed": len(files.all_files())})

    def add_user(self, home: str) -> None:
        self._names.update(("~", "managed"))
        self._run(Scope(RepoFiles(home, "~", self.inv, walk=False), "user"))
        self.roots["~"] = home
        self.inv.repos.append({"name": "~", "root": home, "default_branch": "", "policy": None, "files_indexed": 0})
        managed = [r for r in self.managed_roots.values() if os.path.isdir(r)]
        for root in managed:  # administrators' settings: their own root, so they never merge with the user's
            self._run(Scope(RepoFiles(root, "managed", self.inv, walk=False), "managed"))
        if managed:
            self.roots["managed"] = home
            self.inv.repos.append({"name": "managed", "root": ", ".join(managed), "default_branch": "", "policy": None,
                                   "files_indexed": 0})

    def _decide(self, probe: Mapping[str, Any], repo: str) -> Mapping[str, Any]:
        root = self.roots.get(repo) or self.roots.get("~") or os.getcwd()
        payload = {**probe, "cwd": probe.get("cwd") or root, "workspace": root,
                   "actor": {"agent": "inventory-probe"}}
        key = json.dumps(payload, sort_keys=True)
        verdict = self._cache.get(key)
        if verdict is None:
            # The policy's verdict on a path, not on a live action: no limit counter or approval is touched.
            verdict = self._cache[key] = self.gateway.judge_payload(payload).to_json()
        return verdict

    def finish(self, *, user_scanned: bool) -> Inventory:
        inv = self.inv
        reach.through_default_branch(inv, {r["name"]: r["default_branch"] for r in inv.repos})
        classify.apply_hooks(inv)
        classify.assign_owners(inv, self.owner_rules)
        classify.classify(inv, self._decide)
        reach.untrusted_findings_reach(inv)
        findings.ungoverned(inv)
        findings.ownership(inv, self.owner_rules)
        findings.problems(inv)
        from warden import __version__

        inv.meta.update({"generator": f"warden {__version__}", "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         "user_scanned": user_scanned,
                         "notes": [] if user_scanned else ["User-level agent settings were not scanned (use --user): "
                                                           "paths governed only by hooks in your home directory show as ungoverned."]})
        return inv


def inventory(paths: list[str], *, recursive: bool = False, user_home: str | None = None, gateway: Any,
              policy_file: str | None = None, managed_roots: Mapping[str, str] | None = None) -> Inventory:
    scanner = Scanner(gateway, policy_file=policy_file, managed_roots=managed_roots)
    if user_home:
        scanner.add_user(user_home)
    for p in paths:
        for repo in (find_repos(p) if recursive else [p]):
            scanner.add_repo(repo)
    return scanner.finish(user_scanned=bool(user_home))

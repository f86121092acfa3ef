"""What every detector is handed (a :class:`Scope`) and the shared way to add a local agent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from warden.adapters.inventory.files import RepoFiles
from warden.core.inventory.model import Edge, Inventory, Location
from warden.core.inventory.probes import local_agent_probes

TARGET_LABELS = {
    "read-code": ("code", "source code"),
    "write-code": ("code", "source code"),
    "run-shell": ("shell", "shell on the checkout"),
    "push": ("branch", "default branch"),
    "modify-workflow": ("ci", "CI workflows"),
    "fetch-network": ("network", "the internet"),
}


@dataclass
class Scope:
    """One root being inventoried: a repository checkout, the user's home, or managed settings."""

    files: RepoFiles
    kind: str  # project | user | managed
    default_branch: str = "main"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def inv(self) -> Inventory:
        return self.files.inv

    @property
    def repo(self) -> str:
        return self.files.name

    @property
    def root(self) -> str:
        return str(self.files.root)

    def at(self, path: str, needle: str = "") -> Location:
        return Location(self.repo, path, self.files.line_of(path, needle) if needle else 0)

    def target(self, key: str, label: str, **detail: Any) -> str:
        """Targets inside the repository are per repo; registries and clouds are shared nodes."""
        from warden.core.inventory.commands import TARGET_NAMES

        label = TARGET_NAMES.get(key, label)
        shared = key.split(":")[0] in ("registry", "cloud", "network", "host")
        node_id = f"target:{key}" if shared else f"target:{self.repo}:{key}"
        return self.inv.node(node_id, "target", label, "*" if shared else self.repo, **detail)

    def credential(self, name: str, source: str, *, standing: bool, shared: bool = False, **detail: Any) -> str:
        node_id = f"credential:{'*' if shared else self.repo}:{name}"
        return self.inv.node(node_id, "credential", name, "*" if shared else self.repo, source=source,
                             authority="standing" if standing else "scoped", **detail)


Detector = Callable[[Scope], None]


def local_agent(scope: Scope, name: str, where: Location, *, native: Callable[[dict[str, Any]], str] | None = None,
                actions: tuple[str, ...] = tuple(TARGET_LABELS), **detail: Any) -> str:
    """Add (or enrich) the node for a coding agent working on this root, with the paths every such agent
    has: read and write the code, run a shell, push with the user's git credentials, edit workflows,
    fetch from the network. ``native`` maps a probe to the agent's own permission for it."""
    inv = scope.inv
    agent_id = inv.node(f"agent:{scope.repo}:{name}", "agent", name, scope.repo, where, scope=scope.kind,
                        **detail)
    probes = local_agent_probes(scope.root, scope.default_branch)
    git_cred = scope.credential("git credentials (user)", "the user's git credential helper / ssh agent",
                                standing=True, shared=True)
    for action in actions:
        key, label = TARGET_LABELS[action]
        target = scope.target(key, label)
        probe = probes[action]
        inv.edge(Edge(agent_id, action, target, scope.repo, where,
                      credential=git_cred if action == "push" else "",
                      authority="standing", probe=probe, native=native(probe) if native else ""))
    return agent_id

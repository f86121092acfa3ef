"""Package manifests: lifecycle scripts that run on install (an agent's `npm install` runs them), and
whether the package is publishable (a path to a registry with the user's ambient credentials)."""

from __future__ import annotations

from warden.adapters.inventory.base import Scope
from warden.adapters.inventory.files import as_dict
from warden.core.inventory.commands import reach_in_run
from warden.core.inventory.model import Edge
from warden.core.inventory.probes import bash

LIFECYCLE = ("preinstall", "install", "postinstall", "prepare", "prepublish", "prepublishOnly", "prepack", "postpack")


def _agents(scope: Scope) -> list[str]:
    return [n.id for n in scope.inv.nodes.values()
            if n.kind == "agent" and n.repo == scope.repo and n.detail.get("scope") == "project"]


def detect(scope: Scope) -> None:
    if scope.kind != "project":
        return
    for rel in scope.files.find("package.json", "**/package.json"):
        data = scope.files.mapping(rel, "json")
        if not data:
            continue
        scripts = as_dict(data.get("scripts"))
        hooks = {k: str(v) for k, v in scripts.items() if k in LIFECYCLE}
        name = str(data.get("name") or rel)
        publishable = bool(data.get("name")) and not data.get("private")
        if hooks:
            node = scope.inv.node(f"tool:{scope.repo}:npm-scripts:{rel}", "tool", f"{name} lifecycle scripts",
                                  scope.repo, scope.at(rel, next(iter(hooks))), type="lifecycle-scripts", scripts=hooks)
            for agent in _agents(scope):
                scope.inv.edge(Edge(agent, "install-deps", node, scope.repo, scope.at(rel, next(iter(hooks))),
                                    probe=bash("npm install", scope.root), note=", ".join(hooks)))
            risky = {k: v for k, v in hooks.items() if k in ("preinstall", "install", "postinstall")}
            if risky:
                scope.inv.finding("install-scripts", "low", f"{rel} runs scripts on install",
                                  f"{', '.join(f'{k}: {v[:60]}' for k, v in risky.items())} run whenever anyone (an agent "
                                  "included) installs dependencies; keep them minimal and reviewed.",
                                  scope.repo, scope.at(rel, next(iter(risky))))
        cred = scope.credential("npm token (~/.npmrc)", "the user's npm login", standing=True, shared=True)
        if publishable:
            reg = scope.target("registry:npm", "npm registry")
            for agent in _agents(scope):
                scope.inv.edge(Edge(agent, "publish", reg, scope.repo, scope.at(rel, '"name"'), credential=cred,
                                    probe=bash("npm publish", scope.root), note=f"package {name}"))
        for script, cmd in scripts.items():
            for reach in reach_in_run(str(cmd)):
                if reach.action in ("publish", "deploy", "release"):
                    scope.inv.node(f"tool:{scope.repo}:npm-script:{rel}:{script}", "tool", f"npm run {script}",
                                   scope.repo, scope.at(rel, f'"{script}"'), type="package-script", command=str(cmd)[:200],
                                   reaches=reach.label)
                    for agent in _agents(scope):
                        scope.inv.edge(Edge(agent, reach.action, scope.target(reach.target, reach.label), scope.repo,
                                            scope.at(rel, f'"{script}"'),
                                            credential=cred if reach.target == "registry:npm" else "",
                                            probe=bash(f"npm run {script}", scope.root), direct=bash(str(cmd), scope.root),
                                            note=f"npm run {script}: {str(cmd)[:80]}"))
    for rel in scope.files.find("pyproject.toml", "Cargo.toml"):
        data = scope.files.mapping(rel, "toml")
        if rel.endswith("pyproject.toml") and isinstance(data.get("project"), dict):
            key, label, cmd, cred = "registry:pypi", "PyPI", "twine upload dist/*", "PyPI token (~/.pypirc)"
        elif rel.endswith("Cargo.toml") and isinstance(data.get("package"), dict) and data["package"].get("publish") is not False:
            key, label, cmd, cred = "registry:crates", "crates.io", "cargo publish", "cargo token (~/.cargo/credentials)"
        else:
            continue
        target = scope.target(key, label)
        c = scope.credential(cred, "the user's registry login", standing=True, shared=True)
        for agent in _agents(scope):
            scope.inv.edge(Edge(agent, "publish", target, scope.repo, scope.at(rel), credential=c,
                                probe=bash(cmd, scope.root), note=f"package manifest {rel}"))

"""Warden's own policy layers for a root: which files make the active policy, and whether it loads.
A policy that does not load denies everything (fail closed), which the report must say loudly."""

from __future__ import annotations

import hashlib
from typing import Any

from warden.adapters.inventory.base import Scope


def detect(scope: Scope) -> None:
    from warden.adapters.policy_files import discover, load_compiled
    from warden.adapters.trust import trusted_paths

    if scope.kind != "project":
        return
    gateway = scope.extra.get("gateway")
    environ = gateway.environ if gateway is not None else {}
    try:
        sources = discover(scope.root, policy_file=scope.extra.get("policy_file"), environ=environ)
    except Exception as exc:
        sources, error = [], str(exc)
    else:
        error = ""
    home = gateway.home if gateway is not None else None
    explicit = scope.extra.get("policy_file") or environ.get("WARDEN_POLICY")
    # The same trust decision the gateway makes: an untrusted project file may tighten, never loosen.
    trusted = trusted_paths(sources, home, explicit) if sources and home is not None else frozenset()
    layers: list[dict[str, Any]] = [
        {"layer": layer, "path": path.removeprefix("builtin:") if layer == "builtin" else _rel(scope, path),
         **({"trusted": path in trusted} if layer == "project" else {})} for layer, path, _ in sources]
    digest = ""
    if sources and not error:
        # Checkouts with the same policy texts share one compiled policy: compiling (which checks every
        # rule's examples) is the slow part of a cold run over many repositories. Only rule provenance
        # (file:line) then names the first checkout's file; decisions do not depend on it.
        memo: dict[str, Any] = scope.extra.setdefault("policy_memo", {})
        key = hashlib.sha256("\0".join(f"{layer}\0{path in trusted}\0{text}" for layer, path, text in sources)
                             .encode()).hexdigest()
        try:
            compiled = memo.get(key)
            if compiled is None:
                compiled = memo[key] = load_compiled(sources, home, trusted)
            digest = compiled.digest
            if gateway is not None and not scope.extra.get("policy_file"):
                gateway.use_policy(scope.root, compiled)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
    node = scope.inv.node(f"policy:{scope.repo}", "policy", "Warden policy", scope.repo, scope.at(
        str(next((p["path"] for p in layers if p["layer"] == "project"), "warden.yaml"))), layers=layers, digest=digest,
        error=error or None)
    scope.extra["policy_node"] = node
    if error:
        scope.inv.finding("warden-policy-broken", "high", "Warden's policy for this repository does not load",
                          f"{error[:400]}. Every action Warden sees here is denied until it is fixed: run "
                          "`warden policy validate`.", scope.repo, scope.inv.nodes[node].where)


def _rel(scope: Scope, path: str) -> str:
    root = scope.root.rstrip("/") + "/"
    return path[len(root):] if path.startswith(root) else path

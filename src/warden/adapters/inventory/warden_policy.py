"""Warden's own policy layers for a root: which files make the active policy, and whether it loads.
A policy that does not load denies everything (fail closed), which the report must say loudly."""

from __future__ import annotations

from warden.adapters.inventory.base import Scope


def detect(scope: Scope) -> None:
    from warden.adapters.policy_files import discover, load_compiled

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
    layers = [{"layer": layer, "path": path if layer == "builtin" else _rel(scope, path)} for layer, path, _ in sources]
    digest = ""
    if sources and not error:
        try:
            digest = load_compiled(sources, gateway.home if gateway is not None else None).digest
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
    node = scope.inv.node(f"policy:{scope.repo}", "policy", "Warden policy", scope.repo, scope.at(
        next((p["path"] for p in layers if p["layer"] == "project"), "warden.yaml")), layers=layers, digest=digest,
        error=error or None)
    scope.extra["policy_node"] = node
    if error:
        scope.inv.finding("warden-policy-broken", "high", "Warden's policy for this repository does not load",
                          f"{error[:400]}. Every action Warden sees here is denied until it is fixed: run "
                          "`warden policy validate`.", scope.repo, scope.inv.nodes[node].where)


def _rel(scope: Scope, path: str) -> str:
    root = scope.root.rstrip("/") + "/"
    return path[len(root):] if path.startswith(root) else path

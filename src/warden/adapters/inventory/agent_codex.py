"""Codex: config.toml (approval policy, sandbox mode), hooks.json, and whether its hooks are trusted."""

from __future__ import annotations

from warden.adapters.inventory.agent_claude import hook_entries
from warden.adapters.inventory.base import Scope, local_agent
from warden.core.inventory.native import codex_native

# scope -> (config file, hooks file); managed hooks live inside requirements.toml
FILES = {"project": (".codex/config.toml", ".codex/hooks.json"), "user": (".codex/config.toml", ".codex/hooks.json"),
         "managed": ("requirements.toml", "")}


def _trusted(config: dict) -> bool:
    state = ((config.get("hooks") or {}).get("state") or {}) if isinstance(config.get("hooks"), dict) else {}
    return any(isinstance(v, dict) and v.get("trusted_hash") for v in state.values()) if isinstance(state, dict) else False


def detect(scope: Scope) -> None:
    conf_rel, hooks_rel = FILES.get(scope.kind, ("", ""))
    has_conf = bool(conf_rel) and scope.files.exists(conf_rel)
    has_hooks = bool(hooks_rel) and scope.files.exists(hooks_rel)
    present = scope.kind == "project" and scope.files.exists("AGENTS.md")
    if not (has_conf or has_hooks or present):
        return
    config = scope.files.mapping(conf_rel, "toml") if has_conf else {}
    approval = str(config.get("approval_policy") or "on-request")
    sandbox = str(config.get("sandbox_mode") or "workspace-write")
    hooks_data = scope.files.mapping(hooks_rel, "json") if has_hooks else {}
    warden, other = hook_entries(hooks_data.get("hooks") if isinstance(hooks_data, dict) else None)
    if scope.kind == "managed":
        warden, other = hook_entries(config.get("hooks") if isinstance(config.get("hooks"), dict) else None)
    where = scope.at(conf_rel if has_conf else hooks_rel if has_hooks else "AGENTS.md")
    trusted = scope.kind == "managed" or _trusted(config)
    if warden and not trusted:
        scope.inv.finding("codex-hook-untrusted", "high", "Codex skips Warden's hook until it is trusted",
                          f"{hooks_rel} runs Warden, but Codex silently skips unmanaged hooks that are not trusted "
                          "(no hooks.state trusted_hash in config.toml). Trust it in Codex, or install it as a managed "
                          "hook in /etc/codex/requirements.toml.", scope.repo, scope.at(hooks_rel, "warden"))
        warden = []
    local_agent(scope, "codex", where, native=lambda probe: codex_native(approval, sandbox, probe),
                config=[f for f in (conf_rel, hooks_rel) if f and scope.files.exists(f)], approval_policy=approval,
                sandbox_mode=sandbox, warden_hooks=warden, other_hooks=other, hooks_trusted=trusted)
    if approval == "never" and sandbox == "danger-full-access":
        scope.inv.finding("codex-full-auto", "high", "Codex runs anything without asking and without a sandbox",
                          "approval_policy = never with sandbox_mode = danger-full-access: use workspace-write, or "
                          "put Warden's hook in front of it.", scope.repo, scope.at(conf_rel, "danger-full-access"))

"""Every fact kind the analyzers emit (docs/facts.md describes each), for policy lint.

A rule whose `facts:` names a kind outside this set can never match: `warden policy validate` warns.
Kept in step with the analyzers by tests/test_policy_lint.py (it lists what to add).
"""

from __future__ import annotations

KNOWN_KINDS: frozenset[str] = frozenset({
    # SQL, URLs, tool arguments, program specs, implicit and foreign code (issue 12); MCP proxy (issue 15)
    "db.exec", "db.privilege", "db.read", "db.schema", "db.unparsed", "db.write", "exec.foreign_code", "exec.foreign_source", "exec.implicit_run", "exec.implicit_runner", "exec.implicit_write", "mcp.args_truncated", "mcp.poison", "mcp.poisoned", "mcp.unknown", "net.encoded_query", "net.file_url", "net.internal", "net.metadata", "net.public_read", "net.scheme", "program.unknown_use", "program.read_only", "vcs.guard_off", "secret.in_url", "secret.tree_list", "tool.args_too_deep", "tool.args_too_large", "tool.destructive", "tool.read_only", "tool.shell_arg", "tool.verb",
    "ci.workflow_write", "cloud.credentials", "cloud.delete", "cloud.destroy", "cloud.exec", "cloud.mutate",
    "cloud.read", "container.delete", "container.exec", "container.host_mount", "container.privileged",
    "container.run", "db.connect", "db.destroy", "db.dump", "db.local", "db.mutate",
    "device.create", "device.read",
    "device.write", "exec.env_inject", "exec.escape", "exec.interactive", "exec.module",
    "exec.module_other", "exec.opaque", "exec.open", "exec.package_bin", "exec.recursion",
    "exec.remote_package", "exec.script", "exec.script_outside", "flow.decoded_exec", "flow.exfil",
    "flow.remote_exec", "flow.secret_env_to_net", "fs.critical", "fs.no_preserve_root", "fs.recursive_delete",
    "fs.unresolved_target", "fs.workspace_root_delete", "fs.write_outside", "git.branch_delete",
    "git.branch_delete_remote", "git.clean", "git.config_exec", "git.config_global", "git.config_write",
    "git.delete_protected", "git.dir_delete", "git.discard", "git.fetch", "git.force_push",
    "git.force_push_current", "git.force_push_protected", "git.history_rewrite", "git.no_verify", "git.push",
    "git.push_protected", "git.remote_change", "git.reset_hard", "git.stash_drop", "git.subcommand",
    "guard.state_read", "guard.tamper", "interp.code", "interp.shell_out", "mcp.destructive", "mcp.hint_destructive", "mcp.hint_open_world", "mcp.hint_read_only", "mcp.read", "mcp.write", "net.bad_url", "net.connect", "net.listen", "net.local", "net.lookup", "net.remote_exec", "net.reverse_shell", "net.scan", "net.sniff",
    "net.tunnel", "net.upload", "path.outside_workspace", "persist.authorized_keys", "persist.cron",
    "persist.service", "persist.shell_rc", "pkg.config", "pkg.index", "pkg.install", "pkg.install_project",
    "pkg.publish", "pkg.system_update", "pkg.uninstall", "priv.escalate", "priv.grant", "priv.setuid",
    "priv.shell", "secret.build", "secret.bulk_read",
    "secret.content", "secret.env_dump", "secret.env_read", "secret.helper", "secret.link",
    "secret.read", "secret.scan_truncated", "secret.write", "shell.alias", "shell.binary",
    "shell.parse_error", "shell.too_complex", "shell.too_large", "sys.account_read", "sys.auth_write",
    "sys.config", "sys.file_write", "sys.firewall", "sys.fork_bomb", "sys.format", "sys.history_tamper",
    "sys.kernel", "sys.kill", "sys.kill_all", "sys.log_tamper", "sys.mount", "sys.network", "sys.power",
    "sys.ptrace", "sys.security_config", "sys.security_off", "sys.service", "sys.users", "vcs.remote_write",
})

"""`warden hook claude-code`, `warden install claude-code`, `warden uninstall claude-code`.

The hook itself never goes through click: ``warden.cli.main`` dispatches ``warden hook
AGENT`` straight to :func:`warden.integrations.hook.main`. The click command here
exists for ``--help`` and for the rare invocation through ``python -m warden.cli.app``.
"""

from __future__ import annotations

import os
import sys

import click

from typing import Any

from warden.cli.common import emit_json, fail, json_option
from warden.integrations.agents import INSTALLERS
from warden.integrations.agents.hookfile import SettingsError



@click.group()
def hook() -> None:
    """Agent hook entry points (run by the agent, not by you).

    \b
    Each agent runs `warden hook AGENT` for every tool call, prompt and session boundary
    once `warden install AGENT` has written its hook configuration. Test one by hand:
      echo '{"hook_event_name":"PreToolUse","tool_name":"Bash",
             "tool_input":{"command":"rm -rf ~"},"cwd":"'"$PWD"'"}' | warden hook claude-code
    """


_HOOK_HELP = """Answer one {title} hook event: JSON on stdin, {title}'s hook protocol on stdout.

    \b
    Options:
      --deadline SECONDS   answer (fail closed) within this time; default 8, or
                           $WARDEN_HOOK_DEADLINE
      --no-daemon          decide in this process; the warm daemon is skipped
                           ($WARDEN_HOOK_DAEMON=0 does the same)
      --policy FILE        policy file for the project layer
    \b
    Every failure is answered in the form that blocks in {title} ({blocks}), with
    the reason on stderr. See {doc}.
    """

# agent -> (title, its blocking form, docs page)
_HOOKS = {
    "claude-code": ("Claude Code", "exit 2", "docs/claude-code.md"),
    "codex": ("Codex", "exit 2, or a block for PostToolUse", "docs/agents.md"),
    "gemini": ("Gemini CLI", "exit 2 with the deny JSON; never another non-zero exit", "docs/agents.md"),
    "copilot": ("Copilot CLI", "exit 2 with the deny JSON; postToolUse withholds the result", "docs/agents.md"),
    "cursor": ("Cursor", "exit 2 with the deny JSON", "docs/agents.md"),
}


def _hook_command(agent: str, title: str, blocks: str, doc: str) -> click.Command:
    @click.pass_context
    def run(ctx: click.Context) -> None:
        from warden.integrations.hook import main as hook_main

        raise SystemExit(hook_main(agent, list(ctx.args)))

    return click.Command(
        agent, callback=run, help=_HOOK_HELP.format(title=title, blocks=blocks, doc=doc), add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    )


for _agent, (_title, _blocks, _doc) in _HOOKS.items():
    hook.add_command(_hook_command(_agent, _title, _blocks, _doc))


AGENTS = tuple(INSTALLERS)  # the same names as warden.integrations.hook.AGENTS (a test pins it)


def _installer(agent: str) -> Any:
    import importlib

    return importlib.import_module(INSTALLERS[agent])


def _scope(agent: str, project: bool, user: bool, local: bool) -> str:
    if sum((project, user, local)) > 1:
        fail("choose one of --project, --user or --local")
    scope = "user" if user else "local" if local else "project"
    scopes = _installer(agent).SCOPES
    if scope not in scopes:
        fail(f"{agent} has no {scope} scope", f"use one of: {', '.join('--' + s for s in scopes)}")
    return scope


_scope_options = [
    click.option("--project", is_flag=True, help="This project (the default): e.g. <dir>/.claude/settings.json."),
    click.option("--user", is_flag=True, help="Every project of this user: e.g. ~/.claude/settings.json."),
    click.option("--local", is_flag=True, help="Uncommitted project settings (Claude Code: settings.local.json)."),
    click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
                 help="Project directory (default: the current directory)."),
]


def _with_scope(fn):
    for option in reversed(_scope_options):
        fn = option(fn)
    return fn


def _report(agent: str, changes: list[Any]) -> dict[str, Any]:
    """The first file's change at the top level (the shape `--json` always had) plus every file."""
    head = changes[0].to_json()
    return {**head, "agent": agent, "changed": any(c.changed for c in changes),
            "files": [c.to_json() for c in changes]}


@click.command()
@click.argument("agent", type=click.Choice(AGENTS))
@_with_scope
@click.option("--command", "command", default=None, metavar="CMD",
              help="Claude Code: the warden program the hooks run (default: `warden` on PATH for --project, "
                   "whose settings are committed; this installation's absolute path otherwise). Other agents: "
                   "the hook command to write (default: this installation's absolute `warden hook AGENT`).")
@click.option("--trust-project", is_flag=True,
              help="Codex, Copilot: also record that the agent trusts the project (both silently skip the hooks of "
                   "a project they do not trust).")
@json_option
def install(agent: str, project: bool, user: bool, local: bool, directory: str | None, command: str | None,
            trust_project: bool, as_json: bool) -> None:
    """Install Warden's hooks into an agent's configuration.

    \b
    Merges Warden's hook entries into the agent's hooks file, keeping every other setting and
    hook; where the agent skips hooks it does not trust (Codex), the trust record is written too.
    Claude Code also gets a PermissionRequest hook (queued approvals wait there) and, for a
    project, the `warden` MCP server in .mcp.json (for `claude -p --permission-prompt-tool
    mcp__warden__approve`).
    Running it again changes nothing; a file that existed is backed up first
    (NAME.warden-backup-<time>), and `warden uninstall` restores it byte for byte.
    See docs/agents.md for what each agent's hooks can and cannot do.
    \b
    Examples:
      warden install claude-code              this project (.claude/settings.json)
      warden install claude-code --user       all projects (~/.claude/settings.json)
      warden install codex --user             ~/.codex/hooks.json + trust records in config.toml
      warden uninstall claude-code            remove exactly Warden's entries again
    """
    installer = _installer(agent)
    scope = _scope(agent, project, user, local)
    try:
        # Claude Code's installer predates the per-scope interface and keeps install(path, ...) for it
        run = getattr(installer, "install_scope", installer.install)
        changes = run(scope, directory, command, dict(os.environ), trust_project=trust_project)
    except (SettingsError, getattr(installer, "SettingsError", SettingsError), OSError) as exc:
        fail(str(exc), "nothing was changed")
    mcp_path, mcp_changed = _install_mcp(user, directory) if agent == "claude-code" else (None, False)
    if as_json:
        report = _report(agent, changes)
        if agent == "claude-code":
            report.update({"mcp_config": mcp_path, "mcp_changed": mcp_changed})
        emit_json(report)
        return
    if mcp_changed:
        click.echo(f"Added the `warden` MCP server (headless approvals: --permission-prompt-tool "
                   f"mcp__warden__approve) to {mcp_path}")
    if not any(c.changed for c in changes):
        click.echo(f"Warden's hooks are already installed in {changes[0].path}; nothing changed.")
        return
    for change in changes:
        if not change.changed:
            continue
        click.echo(f"Installed Warden's {agent} hooks in {change.path}")
        if change.backup:
            click.echo(f"  backup of the previous file: {change.backup}")
        if change.added:
            click.echo(f"  events: {', '.join(change.added)}")
    click.echo(f"  {installer.NEXT_STEP}")
    if not os.environ.get("WARDEN_HOME") and sys.stdout.isatty():
        click.echo("  Decisions are recorded under ~/.warden; `warden audit verify` checks the log.")


def _install_mcp(user: bool, directory: str | None) -> tuple[str | None, bool]:
    """The project's .mcp.json gets the `warden` approval server (not for --user installs)."""
    if user:
        return None, False
    import shlex

    from warden.integrations.agents.claude_code_install import warden_command
    from warden.integrations.agents.claude_code_mcp import install_mcp

    exe = shlex.split(warden_command(portable=True))[0]  # .mcp.json is committed: `warden` on PATH
    try:
        return install_mcp(os.path.abspath(directory or os.getcwd()), exe)
    except (ValueError, OSError) as exc:
        fail(str(exc), "the hooks were installed; the MCP server was not")
    return None, False


@click.command()
@click.argument("agent", type=click.Choice(AGENTS))
@_with_scope
@json_option
def uninstall(
    agent: str, project: bool, user: bool, local: bool, directory: str | None, as_json: bool
) -> None:
    """Remove exactly Warden's hook entries from an agent's configuration.

    \b
    Other settings and other hooks stay as they are; when the result equals the file as it
    was before `warden install`, that file is restored byte for byte.
    \b
    Examples:
      warden uninstall claude-code
      warden uninstall claude-code --user
    """
    installer = _installer(agent)
    scope = _scope(agent, project, user, local)
    try:
        run = getattr(installer, "uninstall_scope", installer.uninstall)
        changes = run(scope, directory, dict(os.environ))
    except (SettingsError, getattr(installer, "SettingsError", SettingsError), OSError) as exc:
        fail(str(exc), "nothing was changed")
    if as_json:
        emit_json(_report(agent, changes))
        return
    if not any(c.changed for c in changes):
        click.echo(f"No Warden hooks in {changes[0].path}; nothing changed.")
    for change in changes:
        if not change.changed:
            continue
        if change.deleted_file:
            click.echo(f"Removed {change.removed} Warden hook entries; {change.path} held nothing else and was deleted.")
        else:
            click.echo(f"Removed {change.removed} Warden hook entries from {change.path}.")

"""`warden hook claude-code`, `warden install claude-code`, `warden uninstall claude-code`.

The hook itself never goes through click: ``warden.cli.main`` dispatches ``warden hook
AGENT`` straight to :func:`warden.integrations.hook.main`. The click command here
exists for ``--help`` and for the rare invocation through ``python -m warden.cli.app``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from warden.cli.common import emit_json, fail, json_option

AGENTS = ("claude-code",)


@click.group()
def hook() -> None:
    """Agent hook entry points (run by the agent, not by you).

    \b
    Claude Code runs `warden hook claude-code` for every tool call, prompt and session
    boundary once `warden install claude-code` has written its settings. Test one by hand:
      echo '{"hook_event_name":"PreToolUse","tool_name":"Bash",
             "tool_input":{"command":"rm -rf ~"},"cwd":"'"$PWD"'"}' | warden hook claude-code
    """


@hook.command(
    "claude-code",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.pass_context
def claude_code_hook(ctx: click.Context) -> None:
    """Answer one Claude Code hook event: JSON on stdin, Claude Code's hook protocol on stdout.

    \b
    Options:
      --deadline SECONDS   answer (fail closed, exit 2) within this time; default 8, or
                           $WARDEN_HOOK_DEADLINE
      --no-daemon          decide in this process; the hook daemon is skipped
                           ($WARDEN_HOOK_DAEMON=0 does the same)
      --policy FILE        policy file for the project layer
    \b
    Exit codes: 0 answered (the decision is in the JSON); 2 blocked because Warden could not
    decide safely (the reason is on stderr). See docs/claude-code.md.
    """
    from warden.integrations.hook import main as hook_main

    raise SystemExit(hook_main("claude-code", list(ctx.args)))


def _scope_path(project: bool, user: bool, local: bool, directory: str | None):
    from warden.integrations.agents.claude_code_install import settings_path

    if sum((project, user, local)) > 1:
        fail("choose one of --project, --user or --local")
    scope = "user" if user else "local" if local else "project"
    return settings_path(scope, directory)


_scope_options = [
    click.option("--project", is_flag=True, help="This project: <dir>/.claude/settings.json (the default)."),
    click.option("--user", is_flag=True, help="Every project: ~/.claude/settings.json ($CLAUDE_CONFIG_DIR)."),
    click.option("--local", is_flag=True, help="Uncommitted: <dir>/.claude/settings.local.json."),
    click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
                 help="Project directory (default: the current directory)."),
]


def _with_scope(fn):
    for option in reversed(_scope_options):
        fn = option(fn)
    return fn


@click.command()
@click.argument("agent", type=click.Choice(AGENTS))
@_with_scope
@click.option("--command", "command", default=None, metavar="PROGRAM",
              help="The warden program the hooks run (default: `warden` on PATH for --project, whose settings "
                   "are committed; this installation's absolute path for --user and --local).")
@json_option
def install(agent: str, project: bool, user: bool, local: bool, directory: str | None, command: str | None,
            as_json: bool) -> None:
    """Install Warden's hooks into Claude Code's settings.

    \b
    Merges hook entries for PreToolUse, PostToolUse, UserPromptSubmit, SessionStart,
    SessionEnd, Stop and PermissionRequest (queued approvals wait there; other asks are recorded
    as approvals) into the settings file, and adds the `warden` MCP server (for `claude -p
    --permission-prompt-tool mcp__warden__approve`) to the project's .mcp.json, keeping every
    other setting and hook. Running it again changes nothing; a file that existed is backed up
    first, under $WARDEN_HOME/backups (never into the committed .claude/ directory).
    
    The hook command fails closed: where `warden` is missing or broken, Claude Code blocks every
    tool call with a message saying how to install Warden. Project settings (and .mcp.json) name
    `warden` on PATH, so the committed files work on every teammate's machine.
    \b
    Examples:
      warden install claude-code              this project (.claude/settings.json)
      warden install claude-code --user       all projects (~/.claude/settings.json)
      warden uninstall claude-code            remove exactly Warden's entries again
    """
    from warden.integrations.agents import claude_code_install as installer

    path = _scope_path(project, user, local, directory)
    portable = not (user or local)
    try:
        change = installer.install(path, command, portable=portable)
    except (installer.SettingsError, OSError) as exc:
        fail(str(exc), "nothing was changed")
    mcp_path, mcp_changed = _install_mcp(user, directory)
    if as_json:
        emit_json({**change.to_json(), "mcp_config": mcp_path, "mcp_changed": mcp_changed})
        return
    if mcp_changed:
        click.echo(f"Added the `warden` MCP server (headless approvals: --permission-prompt-tool "
                   f"mcp__warden__approve) to {mcp_path}")
    if not change.changed:
        click.echo(f"Warden's hooks are already installed in {path}; nothing changed.")
        return
    click.echo(f"Installed Warden's Claude Code hooks in {path}")
    if change.backup:
        click.echo(f"  backup of the previous file: {change.backup}")
    click.echo(f"  events: {', '.join(change.added)}")
    click.echo("  Claude Code picks the hooks up at its next start; check with `warden doctor`.")
    if portable and not command and shutil.which("warden") is None:
        click.echo("  warning: `warden` is not on PATH here, so these hooks block every tool call until it is; "
                   f"add {Path(sys.executable).parent} to PATH (or install Warden with pipx)", err=True)
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
    """Remove exactly Warden's hook entries from Claude Code's settings.

    \b
    Other settings and other hooks stay as they are; when the result equals the file as it
    was before `warden install`, that file is restored byte for byte.
    \b
    Examples:
      warden uninstall claude-code
      warden uninstall claude-code --user
    """
    from warden.integrations.agents import claude_code_install as installer

    path = _scope_path(project, user, local, directory)
    try:
        change = installer.uninstall(path)
    except (installer.SettingsError, OSError) as exc:
        fail(str(exc), "nothing was changed")
    if as_json:
        emit_json(change.to_json())
        return
    if not change.changed:
        click.echo(f"No Warden hooks in {path}; nothing changed.")
    elif change.deleted_file:
        click.echo(f"Removed {change.removed} Warden hook entries; {path} held nothing else and was deleted.")
    else:
        click.echo(f"Removed {change.removed} Warden hook entries from {path}.")

"""Click application with lazily imported sub-commands.

Each sub-command lives in its own module and is imported only when invoked, which keeps
``warden --help`` and every command's start-up lean. A command whose module is not
installed is simply not listed.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

from warden import __version__

# name -> "module:attribute". Order is the order shown in --help.
COMMANDS: dict[str, str] = {
    "demo": "warden.cli.demo:demo",
    "decide": "warden.cli.decide:decide",
    "explain": "warden.cli.decide:explain",
    "policy": "warden.cli.policy:policy",
    "scan": "warden.cli.scan:scan",
    "redact": "warden.cli.scan:redact",
    "audit": "warden.cli.audit:audit",
    "evidence": "warden.cli.audit:evidence",
    "hook": "warden.cli.hook:hook",
    "install": "warden.cli.hook:install",
    "uninstall": "warden.cli.hook:uninstall",
    "exec": "warden.cli.exec:exec_command",
    "inventory": "warden.cli.inventory:inventory",
    "server": "warden.cli.server:server",
    "login": "warden.cli.server:login",
    "sync": "warden.cli.sync:sync",
    "model-gateway": "warden.cli.model_gateway:model_gateway",
    "approvals": "warden.cli.approvals:approvals",
    "kill": "warden.cli.control:kill",
    "resume": "warden.cli.control:resume",
    "status": "warden.cli.control:status",
    "review": "warden.cli.review:review",
    "triage": "warden.cli.triage:triage",
    "mcp": "warden.cli.mcp:mcp",
    "trust": "warden.cli.trust:trust",
    "doctor": "warden.cli.doctor:doctor",
}


def _available(name: str) -> bool:
    module = COMMANDS[name].split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [n for n in COMMANDS if _available(n)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not _available(cmd_name):
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="warden")
def cli() -> None:
    """Warden decides, for every AI-agent action, allow / ask / deny — and keeps the evidence.

    \b
    Try it:
      warden demo                          a guided tour on the built-in policy
      warden explain "rm -rf ~/project"    why a command is allowed, asked or denied
      echo '{"tool_name":"Bash","tool_input":{"command":"ls"}}' | warden decide
      warden policy show                   the effective policy and where each rule comes from

    Policy discovery: --policy FILE, $WARDEN_POLICY, warden.yaml or .warden/policy.yaml in the
    workspace, $WARDEN_HOME/policy.yaml (default ~/.warden), then the built-in defaults.
    """


def run(args: list[str]) -> int:
    try:
        cli.main(args=args, prog_name="warden", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0

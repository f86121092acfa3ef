"""Options and helpers shared by CLI commands."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

policy_option = click.option(
    "--policy", "policy_file", type=click.Path(dir_okay=False), default=None,
    help="Policy file to use as the project layer (overrides $WARDEN_POLICY and workspace discovery).",
)
cwd_option = click.option(
    "--cwd", type=click.Path(file_okay=False), default=None,
    help="Working directory the action runs in (default: the current directory).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def fail(message: str, hint: str = "", code: int = 2) -> None:
    click.echo(f"warden: {message}", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)
    raise SystemExit(code)


def gateway(policy_file: str | None, cwd: str | None, audit: bool = True) -> Any:
    from warden.gateway import Gateway

    return Gateway.from_env(cwd=cwd, policy_file=policy_file, audit=audit)


DECISION_STYLE = {"allow": "bold green", "ask": "bold yellow", "deny": "bold red"}


def styled(decision: str) -> str:
    return f"[{DECISION_STYLE.get(decision, 'bold')}]{decision.upper()}[/]"



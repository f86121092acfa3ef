"""`warden exec` (click front for --help and odd argv; the logic is in :mod:`warden.cli.exec_run`)."""

from __future__ import annotations

import click

from warden.cli.common import policy_option


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@policy_option
@click.option("--profile", default="default", show_default=True,
              help="Sandbox profile from the policy's sandbox.profiles.")
@click.option("--workspace", type=click.Path(file_okay=False, exists=True), default=None,
              help="Writable project root (default: nearest ancestor with .git, warden.yaml, .warden or .claude).")
@click.option("--no-sandbox", is_flag=True,
              help="Run without bubblewrap; refused unless the policy sets sandbox.allow_unsandboxed: true.")
@click.option("--json-explain", is_flag=True, help="Print the decision and the sandbox plan as JSON; run nothing.")
@click.option("--yes", is_flag=True, help="Approve an `ask` verdict yourself; accepted only from a human at a terminal.")
@click.option("--grant", default="", metavar="TOKEN",
              help="A one-time grant from Warden's Claude Code hook: the human approved this `ask` there.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def exec_command(policy_file: str | None, profile: str, workspace: str | None, no_sandbox: bool,
                 json_explain: bool, yes: bool, grant: str, command: tuple[str, ...]) -> None:
    """Decide COMMAND through the policy, then run it inside a bubblewrap sandbox.

    \b
    Examples:
      warden exec -- make test
      warden exec --profile net -- pip install -r requirements.txt
      warden exec --json-explain -- python build.py     # the decision and sandbox plan, nothing runs
    \b
    Inside the sandbox:
      read-only   the whole file system, and inside the workspace what git will execute
                  (.git config, hooks, commondir, info/, submodule and worktree git dirs,
                  .gitmodules, paths the config names), .claude/, .cursor/, .vscode/, .husky/,
                  .mcp.json, warden.yaml, .warden/, .github/workflows, .envrc; their parent
                  directories cannot be renamed, and all are checked unchanged after the run
      writable    the workspace, a private /tmp (sized), the profile's `writable` paths
      hidden      the credential catalogue (~/.ssh ~/.aws ~/.config/gh ~/.claude/.credentials.json
                  ~/.pgpass ... ~80 home stores, /etc/shadow, files named by KUBECONFIG,
                  GOOGLE_APPLICATION_CREDENTIALS, PGPASSFILE ...), .env* files, $WARDEN_HOME,
                  Warden daemon sockets, host sockets under /run, the profile's `masked` paths
      environment credential-looking variables removed (keep some with `env_allow`)
      network     closed; with `network: proxy` only `allow_domains`, through Warden's proxy
      also        seccomp filter, no new privileges, CPU/memory (cgroup, tmpfs sizes)/file size/
                  process/wall-clock limits
    \b
    Exit status: the command's own (128+N if killed by signal N); 124 wall-clock limit hit;
    125 sandbox unavailable or profile invalid (nothing ran); 126 refused by policy; 127 not found.
    Details: docs/sandbox.md.
    """
    from warden.cli.exec_run import run_exec

    raise SystemExit(run_exec(list(command), policy_file=policy_file, profile=profile, workspace=workspace,
                              no_sandbox=no_sandbox, json_explain=json_explain, yes=yes,
                              grant=grant))

"""`warden doctor`: is every control really in force? Human output with fixes, --json, exit 1 on problems."""

from __future__ import annotations

import click

from warden.cli.common import cwd_option, emit_json, json_option, policy_option

MARKS = {"ok": "[green]✔[/]", "warn": "[yellow]![/]", "fail": "[bold red]✘[/]", "skip": "[dim]-[/]"}


@click.command()
@policy_option
@cwd_option
@json_option
def doctor(policy_file: str | None, cwd: str | None, as_json: bool) -> None:
    """Check that Warden really guards this machine and project; say how to fix what does not.

    \b
    Checks (each a plug-in: docs/doctor.md):
      policy.loads         the effective policy compiles; project loosening ignored until trusted
      managed.in_force     the managed policy is in force where one is expected (/etc/warden exists,
                           or WARDEN_EXPECT_MANAGED=1), root-owned
      audit.verifies       the audit log's hash chain, MACs and signed checkpoints verify
      sandbox.works        bubblewrap builds the sandbox and confines a probe command
      daemon.healthy       the hook daemon, if running, answers a probe correctly and in time
      claude-code.*        Warden's hooks are installed (all events, not disabled, portable), and
                           the installed command answers probe payloads correctly within the deadline
    \b
    Exit status: 0 when nothing is wrong, 1 when any check warns or fails.
      warden doctor
      warden doctor --json | jq '.checks[] | select(.status != "ok")'
    """
    from warden.integrations import doctor as registry

    ctx = registry.context(cwd, policy_file)
    findings = registry.run(ctx)
    ok = registry.healthy(findings)
    if as_json:
        emit_json({"ok": ok, "workspace": ctx.workspace, "checks": [f.to_json() for f in findings]})
    else:
        from rich.markup import escape

        from warden.cli.common import console

        out = console()
        out.print(f"[bold]warden doctor[/] — workspace {escape(ctx.workspace)}, home {escape(str(ctx.home))}")
        for f in findings:
            out.print(f"  {MARKS.get(f.status, '?')} {escape(f.check):<34} {escape(f.summary)}")
            if f.fix and f.status in ("warn", "fail"):
                out.print(f"      [bold]fix:[/] {escape(f.fix)}")
        problems = sum(f.status in ("warn", "fail") for f in findings)
        out.print("[green]all checks passed[/]" if ok else f"[bold red]{problems} problem(s)[/]: fix them, then "
                  "run `warden doctor` again")
    if not ok:
        raise SystemExit(1)

"""``warden inventory``: the Agent Action BOM — where agents can act, classified under the active policy."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from warden.cli.common import fail, policy_option

FORMATS = ("json", "cyclonedx", "sarif", "markdown", "html", "text")
SEVERITIES = ("info", "low", "medium", "high", "critical")


@click.command("inventory")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option("--recursive", "-r", is_flag=True, help="Treat each PATH as a folder of checkouts (any folder with .git).")
@click.option("--user", "user", is_flag=True,
              help="Also inventory this machine's agent configs in $HOME (and managed settings in /etc).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output: text summary, json (schema warden.inventory/v1), cyclonedx (1.6 BOM), sarif (findings), "
                   "markdown, html (with the drawn graph).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
@click.option("--check", is_flag=True, help="Exit 1 when a finding is at or above --fail-on (for CI).")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="high", show_default=True,
              help="Severity that fails --check.")
@click.option("--audit", "with_audit", is_flag=True,
              help="Join the audit log: per path, what actually happened (see also `warden evidence --inventory`).")
@policy_option
def inventory(paths: tuple[str, ...], recursive: bool, user: bool, fmt: str, output: str | None, check: bool,
              fail_on: str, with_audit: bool, policy_file: str | None) -> None:
    """Map where AI agents can act: an action-control graph and Agent Action BOM.

    For every repository it finds the agents (Claude Code, Codex, Copilot, Gemini CLI, Cursor, agents
    run from CI), their permissions and hooks, MCP servers and their credentials, instruction files,
    CI workflows that run agents (who can trigger them, token scopes, secrets, what their output
    reaches), package publish paths and branch protection as declared. Every path "AGENT can ACTION
    TARGET using CREDENTIAL" is classified by Warden's active policy: allowed, approval-required,
    blocked, or ungoverned (no Warden control on it).

    \b
    Examples:
      warden inventory .                             summary of this checkout
      warden inventory ~/src --recursive --user      every checkout under ~/src, plus this machine
      warden inventory . --format html -o bom.html   report with the drawn graph
      warden inventory . --format sarif -o inv.sarif code-scanning upload
      warden inventory . --check --fail-on high      CI gate: exit 1 on high or critical findings
      warden inventory . --format cyclonedx -o bom.cdx.json

    Unreadable, binary, huge or malformed files and symlink loops are reported per file; they never stop
    the run. See docs/inventory.md for every detector, the graph model and the JSON schema.
    """
    from warden.adapters.inventory.scan import inventory as build
    from warden.cli.common import gateway

    if not paths and not user:
        paths = (os.getcwd(),)
    gw = gateway(policy_file, None, audit=False)
    try:
        inv = build(list(paths), recursive=recursive, user_home=(os.environ.get("HOME") or str(Path.home())) if user else None,
                    gateway=gw, policy_file=policy_file)
        if with_audit:
            from warden.adapters.inventory.audit_join import join_audit

            try:
                join_audit(inv, os.environ)
            except Exception as exc:
                fail(f"cannot read the audit log: {exc}", "check $WARDEN_HOME / $WARDEN_AUDIT_DB, or drop --audit")
    finally:
        gw.close()
    text = render(inv, fmt)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}: {_summary(inv)}", err=True)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if check:
        from warden.core.inventory.model import severity_rank

        worst = inv.worst()
        if worst is not None and severity_rank(worst) >= severity_rank(fail_on):
            n = sum(1 for f in inv.findings if severity_rank(f.severity) >= severity_rank(fail_on))
            click.echo(f"warden inventory: {n} finding(s) at or above {fail_on}", err=True)
            sys.exit(1)


def _summary(inv) -> str:
    c = inv.counts()
    return (f"{len(inv.repos)} root(s), {len(inv.edges)} paths ("
            + ", ".join(f"{k} {v}" for k, v in c["edges"].items() if v) + f"), {len(inv.findings)} findings, "
            f"{c['problems']} file problems")


def render(inv, fmt: str) -> str:
    if fmt == "json":
        import json

        return json.dumps(inv.to_json(), indent=2, ensure_ascii=False)
    if fmt == "cyclonedx":
        from warden.adapters.inventory.bom import cyclonedx_json

        return cyclonedx_json(inv)
    if fmt == "sarif":
        import json

        from warden.core.inventory.report.sarif import sarif

        return json.dumps(sarif(inv), indent=2)
    if fmt == "markdown":
        from warden.core.inventory.report.markdown import markdown

        return markdown(inv)
    if fmt == "html":
        from warden.adapters.inventory.graphviz import render_svg
        from warden.core.inventory.report.dot import dot
        from warden.core.inventory.report.html import html

        svg, error = render_svg(dot(inv))
        if error:
            click.echo(f"warden inventory: the graph image is missing from the report: {error}", err=True)
        return html(inv, svg=svg, svg_error=error)
    from warden.core.inventory.report.markdown import text_summary

    return text_summary(inv)


def evidence_report(paths: list[str], *, db: str | None, home: str | None, out: str | None, as_json: bool) -> None:
    """`warden evidence --inventory`: every path of the map with what the audit log shows for it."""
    import json

    from warden.adapters.inventory.audit_join import join_audit
    from warden.adapters.inventory.scan import inventory as build
    from warden.cli.common import gateway

    gw = gateway(None, None, audit=False)
    try:
        inv = build(paths, gateway=gw)
    finally:
        gw.close()
    environ = dict(os.environ)
    try:
        result = join_audit(inv, environ, db=db, home=home)
    except Exception as exc:
        fail(f"cannot read the audit log: {exc}", "point --db / --home at the log, or record some decisions first")
    from warden.core.inventory.report.evidence import evidence_markdown

    text = json.dumps(result, indent=2, default=list) if as_json else evidence_markdown(inv, result)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}: {len(result['paths'])} paths with events, {result['unmapped_total']} events on no "
                   f"mapped path, {result['events_read']} events read", err=True)
    else:
        sys.stdout.write(text + "\n")

"""``warden triage``: a few scored alerts instead of thousands of audit events."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from warden.cli.common import fail


@click.command("triage")
@click.option("--since", default=None, metavar="TIME", help="Only events at or after TIME (RFC 3339, e.g. 2026-12-01).")
@click.option("--until", default=None, metavar="TIME", help="Only events before TIME.")
@click.option("--db", default=None, metavar="URL", help="Audit log to read (default $WARDEN_AUDIT_DB or $WARDEN_HOME/audit.db).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the report here.")
@click.option("--work-hours", default="7-20", show_default=True, metavar="H-H",
              help="Working hours (UTC); activity outside, or at weekends, is flagged off-hours.")
@click.option("--baseline", type=int, default=0, show_default=True,
              help="The first N events only teach which hosts are usual (no new-host alerts from them).")
def triage(since: str | None, until: str | None, db: str | None, fmt: str, output: str | None, work_hours: str,
           baseline: int) -> None:
    """Score what matters in the audit log: probing, limit hits, protected targets, exfiltration paths,
    unreviewed sensitive edits, off-hours work and tainted sessions that then acted.

    \b
      warden triage --since 2026-12-01                  # the week's alerts, highest score first
      warden triage --format html -o triage.html        # with plots: decisions over time, top rules,
                                                        # alerts by kind, approval latency
      warden triage --format json | jq '.alerts[0]'
    \b
    Each alert names the session, the events behind it and why it matters; the report says how many
    raw events stand behind each alert. See docs/review.md.
    """
    from warden.adapters.policy_files import warden_home
    from warden.adapters.store import open_store
    from warden.adapters.store.base import Filters
    from warden.adapters.triage_report import render_html, text_report
    from warden.core.triage.detect import Triage, TriageConfig

    try:
        start, end = (int(x) for x in work_hours.split("-", 1))
    except ValueError:
        fail(f"--work-hours {work_hours!r}: write START-END hours, e.g. 7-20")
    config = TriageConfig(work_start_hour=start, work_end_hour=end, baseline_events=baseline)
    home = warden_home(os.environ)
    try:
        store = open_store(db or os.environ.get("WARDEN_AUDIT_DB") or None, home, keys="optional", create=False)
    except Exception as exc:  # noqa: BLE001
        fail(f"cannot open the audit log: {exc}", "check --db / $WARDEN_HOME, or run `warden audit verify`")
    t = Triage(config)
    try:
        for ev in store.iter_query(Filters(since=since, until=until)):
            t.add(ev)
    except Exception as exc:  # noqa: BLE001 — a damaged log still gets a report of what was read
        t.problems.append(f"stopped reading the log: {type(exc).__name__}: {exc}")
    finally:
        store.close()
    result = t.result()
    if fmt == "json":
        out = json.dumps(result.to_json(), indent=2)
    elif fmt == "html":
        out = render_html(result)
    else:
        out = text_report(result)
    if output:
        Path(output).write_text(out, "utf-8")
        click.echo(f"wrote {output}: {len(result.alerts)} alerts from {result.events:,} events", err=True)
    else:
        click.echo(out)

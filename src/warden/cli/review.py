"""``warden review``: the change-risk report of a git diff (a PR in CI)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from warden.cli.common import fail


@click.command("review")
@click.option("--base", default=None, metavar="REV", help="Review what changed since REV (its merge base with HEAD).")
@click.option("--head", default=None, metavar="REV", help="The tip to review (default HEAD; alone: that one commit).")
@click.option("--staged", is_flag=True, help="Review the staged changes instead.")
@click.option("--diff", "diff_file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Read a unified diff from FILE ('-' for stdin) instead of running git.")
@click.option("--repo", type=click.Path(file_okay=False), default=".", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["markdown", "json", "sarif"]), default="markdown",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the report here.")
@click.option("--fail-on", type=click.Choice(["none", "low", "medium", "high"]), default="none", show_default=True,
              help="Exit 1 when a sensitive change at or above this severity is found (a CI gate).")
def review(base: str | None, head: str | None, staged: bool, diff_file: str | None, repo: str, fmt: str,
           output: str | None, fail_on: str) -> None:
    """Label what a change touches: auth, authz, crypto, payments, secrets, data export, schema, IaC, CI, deps.

    \b
    Each changed file gets labels from its path and from the lines it adds or removes, the hunks
    that carry them, secrets found in added lines, and who should review it (CODEOWNERS).
    \b
      warden review --base origin/main                 # a PR branch, as Markdown
      warden review --base origin/main --format sarif -o review.sarif --fail-on high
      git diff | warden review --diff -
    \b
    Exit codes: 0 report written (and nothing at or above --fail-on), 1 --fail-on reached,
    2 the diff could not be read. See docs/review.md.
    """
    from warden import __version__
    from warden.adapters.review_git import ReviewInputError, codeowners_text, diff_text
    from warden.core.review import codeowners, diff, report

    root = Path(repo)
    problems: list[str] = []
    try:
        if diff_file:
            raw = sys.stdin.buffer.read() if diff_file == "-" else Path(diff_file).read_bytes()
            text = raw.decode("utf-8", "replace")
        else:
            text, problems = diff_text(root, base, head, staged)
    except (ReviewInputError, OSError) as exc:
        fail(str(exc), "run it inside a git repository, or pass --diff FILE")
    if "\x00" in text[:8000] and "diff --git" not in text[:8000]:
        fail("the input is binary, not a unified diff", "pass the output of `git diff`")
    files = diff.parse(text)
    _where, owners_src = codeowners_text(root)
    rules, owner_problems = codeowners.parse(owners_src) if owners_src else ([], [])
    problems += owner_problems
    if not owners_src:
        problems.append("no CODEOWNERS file: reviewers are suggested by area only")
    from warden.core.secrets import scan_text

    def scan(line: str) -> list[tuple[str, int]]:
        return [(f.rule_id, f.column) for f in scan_text(line)]

    result = report.build(files, rules, scan, problems)
    if fmt == "json":
        out = json.dumps(result, indent=2)
    elif fmt == "sarif":
        out = json.dumps(report.sarif(result, __version__), indent=2)
    else:
        out = report.markdown(result)
    if output:
        Path(output).write_text(out if out.endswith("\n") else out + "\n", "utf-8")
    else:
        click.echo(out.rstrip("\n"))
    if fail_on != "none" and report.failing(result, fail_on):
        raise SystemExit(1)

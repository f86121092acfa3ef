"""`warden scan` (find secrets in files, diffs, stdin) and `warden redact` (filter stdin)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _fail(message: str) -> None:
    click.echo(f"warden: {message}", err=True)
    raise SystemExit(EXIT_ERROR)


def _ruleset(config: str | None):  # type: ignore[no-untyped-def]
    from warden.core.secrets import GitleaksConfigError, default_ruleset, load_gitleaks_toml

    if not config:
        return default_ruleset()
    base_dir = Path(config).resolve().parent

    def load_extend(path: str) -> str:
        return (base_dir / path).read_text(encoding="utf-8")

    try:
        text = Path(config).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read --config {config}: {exc}")
    try:
        return load_gitleaks_toml(text, default_ruleset(), load_extend=load_extend, source=config)
    except GitleaksConfigError as exc:
        _fail(f"{exc}\n  fix the file, or run without --config to use the built-in rules")


def _key() -> bytes:
    """Fingerprint key: $WARDEN_FINGERPRINT_KEY (shared by a team/CI) or the local key file."""
    env = os.environ.get("WARDEN_FINGERPRINT_KEY")
    if env:
        return env.encode("utf-8")
    from warden.adapters.keys import KeyStoreError, default_warden_home, load_or_create_key

    try:
        return load_or_create_key(default_warden_home(), "fingerprint")
    except KeyStoreError as exc:
        _fail(str(exc))
    raise AssertionError  # unreachable


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--git-diff", "git_rev", metavar="REV", help="Scan only lines added since REV (git diff REV).")
@click.option("--staged", is_flag=True, help="Scan only lines added in the git index (pre-commit).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE instead of stdout.")
@click.option("--baseline", type=click.Path(dir_okay=False), help="Ignore findings whose fingerprint is in FILE.")
@click.option("--write-baseline", type=click.Path(dir_okay=False),
              help="Write every current finding's fingerprint to FILE (accept them) and exit 0.")
@click.option("--gitignore", is_flag=True, help="Skip files ignored by .gitignore (uses git).")
@click.option("--config", type=click.Path(dir_okay=False), help="A gitleaks-format TOML config.")
@click.option("--max-size", type=int, default=256, show_default=True, metavar="MB",
              help="Skip (with a notice) files larger than this.")
@click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links while walking directories.")
@click.option("--pii", "pii", is_flag=True,
              help="Scan for personal data instead (cards, IBANs, SSNs, national ids, phones, e-mail, DOB, PHI). "
                   "Exit 1 when any is found. See docs/data.md.")
@click.option("--pii-kinds", default="all", show_default=True, metavar="KINDS",
              help="With --pii: a comma list of card, iban, ssn, national_id, phone, email, dob, phi.")
def scan(paths: tuple[str, ...], git_rev: str | None, staged: bool, fmt: str, output: str | None,
         baseline: str | None, write_baseline: str | None, gitignore: bool, config: str | None,
         max_size: int, follow_symlinks: bool, pii: bool = False, pii_kinds: str = "all") -> None:
    """Find secrets (API keys, tokens, private keys, passwords) in files, diffs or stdin.

    \b
    Examples:
      warden scan .                           a whole tree
      warden scan --gitignore .               skip what .gitignore ignores
      warden scan --staged                    what you are about to commit
      warden scan --git-diff origin/main      what a branch adds
      cat app.log | warden scan -             stdin
      warden scan . --format sarif -o warden.sarif
      warden scan . --write-baseline .warden-baseline.json   accept today's findings
      warden scan . --baseline .warden-baseline.json         report only new ones

    Exit status: 0 no findings, 1 findings, 2 error (bad config, git failure, unreadable path).
    Secrets never appear in the output: findings are identified by a keyed fingerprint (key in
    $WARDEN_HOME/keys/fingerprint.key, or $WARDEN_FINGERPRINT_KEY to share one with CI).
    Silence one line with a `warden:allow-secret` comment. See docs/secrets.md.
    """
    if pii:
        from warden.cli.pii import scan_main

        scan_main(paths, _pii_kinds(pii_kinds), "json" if fmt == "json" else "text", output, max_size)
    from warden.adapters.scan import baseline as bl
    from warden.adapters.scan import report
    from warden.adapters.scan.sources import (
        FileResult,
        GitError,
        ScanOptions,
        iter_paths,
        scan_file,
        scan_git_diff,
        scan_stream_text,
    )

    if sum(bool(x) for x in (paths, git_rev, staged)) != 1:
        _fail("give PATH... (or - for stdin), --git-diff REV or --staged — exactly one of them.\n"
              "  try: warden scan .   or   warden scan --staged")
    ruleset = _ruleset(config)
    key = _key()
    accepted: set[str] = set()
    if baseline:
        try:
            accepted = bl.load_baseline(baseline)
        except bl.BaselineError as exc:
            _fail(str(exc))

    options = ScanOptions(max_bytes=max_size * 1024 * 1024, gitignore=gitignore, follow_symlinks=follow_symlinks)
    results: list[FileResult] = []
    if git_rev or staged:
        try:
            results = scan_git_diff(git_rev, ruleset, staged=staged)
        except GitError as exc:
            _fail(f"{exc}\n  run inside a git repository; REV is anything `git diff` accepts")
    else:
        if "-" in paths:
            results.append(scan_stream_text(sys.stdin.buffer, ruleset))
        fs_paths = [p for p in paths if p != "-"]
        walk_errors: list[str] = []
        results.extend(_scan_files(fs_paths, ruleset, options, iter_paths, scan_file, walk_errors))
        for err in walk_errors:
            where, _, why = err.partition(": ")
            results.append(FileResult(where, notice=f"unreadable directory: {why}", error=True))

    if accepted:
        bl.apply_baseline(results, accepted, key)
    if write_baseline:
        n = bl.write_baseline(write_baseline, results, key)
        click.echo(f"warden: wrote {n} fingerprint(s) to {write_baseline}", err=True)
        raise SystemExit(EXIT_CLEAN)

    if fmt == "json":
        text = report.render_json(results, key)
    elif fmt == "sarif":
        text = report.render_sarif(results, key, ruleset)
    else:
        text = report.render_text(results, key)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write --output {output}: {exc.strerror}")
    else:
        click.echo(text, nl=False)
    for r in results:
        if (r.notice and fmt == "text") or r.error:
            click.echo(f"warden: {r.path}: {r.notice}", err=True)
    if any(r.error for r in results):
        raise SystemExit(EXIT_ERROR)
    raise SystemExit(EXIT_FINDINGS if any(r.findings for r in results) else EXIT_CLEAN)


def _scan_files(paths, ruleset, options, iter_paths, scan_file, errors):  # type: ignore[no-untyped-def]
    """Scan with a progress bar on stderr when it is a terminal and the scan is long."""
    if not paths:
        return []
    files = list(iter_paths(paths, options, errors))
    if not sys.stderr.isatty() or len(files) < 200:
        return [scan_file(p, ruleset, options, shown) for p, shown in files]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    out = []
    # stderr: stdout carries the report (possibly JSON/SARIF piped to a file)
    with Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("scan", total=len(files))
        for p, shown in files:
            out.append(scan_file(p, ruleset, options, shown))
            progress.advance(task)
    return out


@click.command()
@click.option("--config", type=click.Path(dir_okay=False), help="A gitleaks-format TOML config.")
@click.option("--check", is_flag=True, help="Exit 1 if anything was redacted (still prints the redacted text).")
@click.option("--pii", "pii", is_flag=True, help="Redact personal data instead (see --pii-kinds).")
@click.option("--pii-kinds", default="default", show_default=True, metavar="KINDS",
              help="With --pii: 'default' (cards, SSNs, national ids), 'all', or a comma list of kinds.")
def redact(config: str | None, check: bool, pii: bool = False, pii_kinds: str = "default") -> None:
    """Copy stdin to stdout with every secret replaced by a marker.

    \b
    Markers look like [REDACTED:github-pat:3f9a1c]: the rule id, then 6 hex digits of
    HMAC-SHA256(key, secret), so the same secret always gets the same marker under your key
    and reveals nothing without it. Works as a streaming filter on input of any size.
    Examples:
      some-tool 2>&1 | warden redact
      warden redact < build.log > build.redacted.log
      warden redact --check < out.txt || echo "secrets were present"
    """
    if pii:
        from warden.cli.pii import redact_main

        redact_main(_pii_kinds(pii_kinds), check)
    from warden.core.secrets import Finding, redact_stream

    ruleset = _ruleset(config)
    key = _key()
    found: list[Finding] = []
    decoder_chunks = _stdin_chunks()
    out = sys.stdout
    try:
        for piece in redact_stream(decoder_chunks, key, ruleset, found):
            out.write(piece)
        out.flush()
    except BrokenPipeError:
        raise SystemExit(EXIT_CLEAN) from None
    if found:
        click.echo(f"warden: redacted {len(found)} secret(s)", err=True)
    raise SystemExit(EXIT_FINDINGS if (check and found) else EXIT_CLEAN)


def _stdin_chunks():  # type: ignore[no-untyped-def]
    from warden.adapters.scan.sources import decoded_chunks

    return decoded_chunks(sys.stdin.buffer)


def _pii_kinds(value: str) -> tuple[str, ...]:
    from warden.core.pii import DEFAULT_REDACT, KINDS

    if value == "all":
        return KINDS
    if value == "default":
        return DEFAULT_REDACT
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        _fail(f"unknown personal-data kind(s) {', '.join(bad)}; known: {', '.join(KINDS)}")
    return kinds

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


def _ruleset(config: str | None, root: str | None = None, use_repo_config: bool = True):  # type: ignore[no-untyped-def]
    """Rules from --config, $GITLEAKS_CONFIG / $GITLEAKS_CONFIG_TOML, ROOT/.gitleaks.toml, or the built-ins.

    The same order gitleaks uses, so a repository's own .gitleaks.toml applies without flags.
    Returns (ruleset, where the config came from or "").
    """
    from warden.core.secrets import GitleaksConfigError, default_ruleset, load_gitleaks_toml

    source, text = "", None
    if config:
        source = config
    elif os.environ.get("GITLEAKS_CONFIG"):
        source = os.environ["GITLEAKS_CONFIG"]
    elif os.environ.get("GITLEAKS_CONFIG_TOML"):
        source, text = "$GITLEAKS_CONFIG_TOML", os.environ["GITLEAKS_CONFIG_TOML"]
    elif use_repo_config and root and (Path(root) / ".gitleaks.toml").is_file():
        source = str(Path(root) / ".gitleaks.toml")
    if not source:
        return default_ruleset(), ""
    base_dir = Path(source).resolve().parent if text is None else Path.cwd()

    def load_extend(path: str) -> str:
        return (base_dir / path).read_text(encoding="utf-8")

    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"cannot read config {source}: {exc}")
    try:
        return load_gitleaks_toml(text or "", default_ruleset(), load_extend=load_extend, source=source), source
    except GitleaksConfigError as exc:
        _fail(f"{exc}\n  fix the file, or run without it (--no-repo-config skips ROOT/.gitleaks.toml)")
    raise AssertionError  # unreachable


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
@click.option("--git", "git_range", is_flag=False, flag_value="", default=None, metavar="[RANGE]",
              help="Scan git history: every line each commit added (default: all commits reachable from HEAD; "
                   "RANGE like main..feature or v1.0..). A PATH after it is the repository.")
@click.option("--all-refs", is_flag=True, help="With --git: every branch, tag and remote ref, not only HEAD.")
@click.option("--since", metavar="DATE", help="With --git: commits newer than DATE (git log --since).")
@click.option("--log-opts", metavar="OPTS", help="With --git: more commit-selecting git log options "
              "(e.g. '--author=bob --no-merges', '-- src/').")
@click.option("--include-vendored", is_flag=True,
              help="With --git: also scan vendored trees (node_modules/, vendor/, _vendor/, third_party/, *.min.js).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, metavar="N",
              help="With --git: scan in N processes (default: one per core, up to 4).")
@click.option("--git-diff", "git_rev", metavar="REV", help="Scan only lines added since REV (git diff REV).")
@click.option("--staged", is_flag=True, help="Scan only lines added in the git index (pre-commit).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE instead of stdout.")
@click.option("--baseline", type=click.Path(dir_okay=False), help="Ignore findings accepted in FILE.")
@click.option("--write-baseline", type=click.Path(dir_okay=False),
              help="Accept every current finding: write their keyless identities to FILE and exit 0.")
@click.option("--gitignore", is_flag=True, help="Skip files ignored by .gitignore (uses git).")
@click.option("--config", type=click.Path(dir_okay=False),
              help="A gitleaks-format TOML config (default: $GITLEAKS_CONFIG, else ROOT/.gitleaks.toml if present).")
@click.option("--no-repo-config", is_flag=True, help="Ignore a .gitleaks.toml in the scanned root.")
@click.option("--max-size", type=int, default=None, metavar="MB",
              help="Skip (with a notice) files larger than this (default 256; 32 per blob with --git).")
@click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links while walking directories.")
@click.option("--verify", is_flag=True,
              help="Ask each credential's issuer whether it is live (network; off unless given). See docs/secrets.md.")
@click.option("--verify-timeout", type=float, default=5.0, show_default=True, metavar="SECONDS",
              help="Per-request timeout for --verify.")
@click.option("--pii", "pii", is_flag=True,
              help="Scan for personal data instead (cards, IBANs, SSNs, national ids, phones, e-mail, DOB, PHI). "
                   "Exit 1 when any is found. See docs/data.md.")
@click.option("--pii-kinds", default="all", show_default=True, metavar="KINDS",
              help="With --pii: a comma list of card, iban, ssn, national_id, phone, email, dob, phi.")
def scan(paths: tuple[str, ...], git_range: str | None, all_refs: bool, since: str | None, log_opts: str | None,
         include_vendored: bool, jobs: int | None, git_rev: str | None, staged: bool, fmt: str, output: str | None,
         baseline: str | None, write_baseline: str | None, gitignore: bool, config: str | None,
         no_repo_config: bool, max_size: int | None, follow_symlinks: bool, verify: bool,
         verify_timeout: float, pii: bool = False, pii_kinds: str = "all") -> None:
    """Find secrets (API keys, tokens, private keys, passwords) in files, git history, diffs or stdin.

    \b
    Examples:
      warden scan .                           a whole tree
      warden scan --gitignore .               skip what .gitignore ignores
      warden scan --git                       every commit reachable from HEAD (incident response)
      warden scan --git --all-refs            every branch and tag
      warden scan --git origin/main..HEAD     what a branch's commits added (CI)
      warden scan --git --since 2024-01-01 ../other-repo
      warden scan --staged                    what you are about to commit
      warden scan --git-diff origin/main      what a branch adds (as one diff)
      cat app.log | warden scan -             stdin
      warden scan . --format sarif -o warden.sarif
      warden scan . --write-baseline .warden-baseline.json   accept today's findings
      warden scan . --baseline .warden-baseline.json         report only new ones

    Exit status: 0 no findings, 1 findings, 2 error (bad config, git failure, unreadable path,
    a corrupt object that left part of the history unscanned).
    Secrets never appear in the output: findings carry a keyed fingerprint (key in
    $WARDEN_HOME/keys/fingerprint.key) and a keyless identity (for baselines and SARIF).
    A .gitleaks.toml in the scanned root is used as gitleaks would (--no-repo-config to skip).
    Silence one line with a `warden:allow-secret` comment. See docs/secrets.md.
    """
    if pii:
        from warden.cli.pii import scan_main

        scan_main(paths, _pii_kinds(pii_kinds), "json" if fmt == "json" else "text", output, max_size or 256)
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

    history = git_range is not None
    if sum(bool(x) for x in (paths and not history, git_rev, staged, history)) != 1:
        _fail("give PATH... (or - for stdin), --git [RANGE], --git-diff REV or --staged — exactly one of them.\n"
              "  try: warden scan .   or   warden scan --git   or   warden scan --staged")
    if (all_refs or since or log_opts or include_vendored or jobs) and not history:
        _fail("--all-refs, --since, --log-opts, --include-vendored and --jobs go with --git")
    repo = "."
    if history:
        if git_range and not paths and os.path.isdir(git_range) and not _is_rev(git_range):
            repo, git_range = git_range, ""  # `warden scan --git ../repo`: a directory, not a range
        elif len(paths) == 1:
            repo = paths[0]
        elif len(paths) > 1:
            _fail("--git scans one repository: give at most one PATH")
    root = _scan_root(paths, history or bool(git_rev or staged), repo)
    ruleset, config_source = _ruleset(config, root, not no_repo_config)
    if config_source and not config:
        click.echo(f"warden: using {config_source}", err=True)
    key = _key()
    accepted = bl.Baseline()
    try:
        if baseline:
            accepted = bl.load_baseline(baseline)
        ignore = Path(root) / ".gitleaksignore" if root and not no_repo_config else None
        if ignore is not None and ignore.is_file():  # gitleaks reads it from the scanned root too
            n = bl.load_gitleaksignore(ignore, accepted)
            accepted.root = str(root)
            click.echo(f"warden: using {ignore} ({n} entries)", err=True)
    except bl.BaselineError as exc:
        _fail(str(exc))

    results: list[FileResult] = []
    stats: dict[str, int] | None = None
    category = "files"
    if history:
        from warden.adapters.scan.history import DEFAULT_MAX_BYTES, HistoryOptions, scan_history

        category = "history"
        opts = HistoryOptions(rev_range=git_range or "", all_refs=all_refs, since=since or "",
                              log_opts=log_opts or "", include_vendored=include_vendored,
                              max_bytes=max_size * 1024 * 1024 if max_size else DEFAULT_MAX_BYTES)
        try:
            hs = scan_history(repo, ruleset, opts, workers=jobs)
        except GitError as exc:
            _fail(f"{exc}\n  run inside a git repository (or give its path); RANGE is anything `git log` accepts")
        results, stats = hs.results, hs.summary()
    elif git_rev or staged:
        category = "diff"
        try:
            results = scan_git_diff(git_rev, ruleset, staged=staged)
        except GitError as exc:
            _fail(f"{exc}\n  run inside a git repository; REV is anything `git diff` accepts")
    else:
        options = ScanOptions(max_bytes=(max_size or 256) * 1024 * 1024, gitignore=gitignore,
                              follow_symlinks=follow_symlinks)
        if "-" in paths:
            results.append(scan_stream_text(sys.stdin.buffer, ruleset))
        fs_paths = [p for p in paths if p != "-"]
        walk_errors: list[str] = []
        results.extend(_scan_files(fs_paths, ruleset, options, iter_paths, scan_file, walk_errors))
        for err in walk_errors:
            where, _, why = err.partition(": ")
            results.append(FileResult(where, notice=f"unreadable directory: {why}", error=True))

    if accepted:
        dropped = bl.apply_baseline(results, accepted, key)
        if stats is not None:
            stats["findings"] -= dropped
    if write_baseline:
        n = bl.write_baseline(write_baseline, results)
        click.echo(f"warden: wrote {n} accepted finding(s) to {write_baseline}", err=True)
        raise SystemExit(EXIT_CLEAN)

    verified: dict[int, str] | None = None
    if verify:
        from warden.adapters.scan.verify import verify_findings

        try:
            verified = verify_findings([f for r in results for f in r.findings], timeout=verify_timeout)
        except ValueError as exc:
            _fail(str(exc))

    if fmt == "json":
        text = report.render_json(results, key, stats, verified)
    elif fmt == "sarif":
        text = report.render_sarif(results, key, ruleset, category, verified)
    else:
        text = report.render_text(results, key, stats, verified)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write --output {output}: {exc.strerror}")
    else:
        click.echo(text, nl=False)
    for r in results:
        # text reports list every notice on stderr; machine formats carry them, so only errors and
        # repository-wide notices (a shallow clone) go there too
        if (r.notice and (fmt == "text" or (history and r.commit is None))) or r.error:
            where = f"{r.path} (commit {r.commit.sha[:12]})" if r.commit else r.path
            click.echo(f"warden: {where}: {r.notice}", err=True)
    if stats is not None:
        for reason, count in sorted(getattr(hs, "skipped", {}).items()):
            from warden.adapters.scan.history import MAX_NOTICES_PER_REASON

            if count > MAX_NOTICES_PER_REASON:
                click.echo(f"warden: {count} file version(s) skipped as {reason} (first "
                           f"{MAX_NOTICES_PER_REASON} listed)", err=True)
    if any(r.error for r in results):
        raise SystemExit(EXIT_ERROR)
    raise SystemExit(EXIT_FINDINGS if any(r.findings for r in results) else EXIT_CLEAN)


def _is_rev(value: str) -> bool:
    import subprocess

    p = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "--end-of-options", value + "^{commit}"],
                       capture_output=True, check=False)
    return p.returncode == 0


def _scan_root(paths: tuple[str, ...], git_mode: bool, repo: str) -> str | None:
    """Where a .gitleaks.toml is looked for: the repository top, or the one directory scanned."""
    if git_mode:
        from warden.adapters.scan.history import repo_root
        from warden.adapters.scan.sources import GitError

        try:
            return repo_root(repo)
        except GitError:
            return repo
    dirs = [p for p in paths if p != "-" and os.path.isdir(p)]
    return dirs[0] if len(dirs) == 1 and len(paths) == 1 else None


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

    ruleset, _ = _ruleset(config, use_repo_config=False)
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

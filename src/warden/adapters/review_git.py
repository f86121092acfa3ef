"""What `warden review` reads from git: the diff of a change and the repository's CODEOWNERS."""

from __future__ import annotations

import subprocess
from pathlib import Path

MAX_DIFF_BYTES = 64 * 1024 * 1024


class ReviewInputError(RuntimeError):
    """git could not produce the diff; the message says why and what to try."""


def _git(repo: Path, *args: str, limit: int = MAX_DIFF_BYTES) -> tuple[str, bool]:
    try:
        proc = subprocess.Popen(["git", "-C", str(repo), "-c", "core.quotepath=false", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise ReviewInputError(f"cannot run git: {exc}") from None
    assert proc.stdout is not None and proc.stderr is not None
    data = proc.stdout.read(limit + 1)
    truncated = len(data) > limit
    if truncated:
        proc.kill()
    err = proc.stderr.read(4000).decode("utf-8", "replace")
    code = proc.wait()
    if code != 0 and not truncated:
        raise ReviewInputError(f"git {' '.join(args[:3])} failed: {err.strip() or f'exit {code}'}")
    return data[:limit].decode("utf-8", "replace"), truncated


def diff_text(repo: Path, base: str | None, head: str | None, staged: bool = False) -> tuple[str, list[str]]:
    """The unified diff to review and any problems reading it (too large, no merge base)."""
    problems: list[str] = []
    args = ["diff", "--no-color", "--no-ext-diff", "--find-renames", "-U3"]
    if staged:
        args.append("--cached")
    elif base:
        target = head or "HEAD"
        try:
            mb, _ = _git(repo, "merge-base", base, target, limit=1000)
            args += [mb.strip(), target]
        except ReviewInputError:
            problems.append(f"no merge base of {base} and {target}: reviewing the plain difference")
            args += [base, target]
    elif head:
        args += [head + "^", head]
    text, truncated = _git(repo, *args)
    if truncated:
        problems.append(f"the diff is larger than {MAX_DIFF_BYTES // (1024 * 1024)} MiB: only its start was read")
    return text, problems


def codeowners_text(repo: Path) -> tuple[str, str]:
    from warden.core.review.codeowners import LOCATIONS

    for rel in LOCATIONS:
        p = repo / rel
        try:
            if p.is_file():
                return rel, p.read_text("utf-8", "replace")[:1_000_000]
        except OSError:
            continue
    return "", ""

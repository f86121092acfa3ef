"""Where text comes from: files (streamed), directory walks, git diffs, stdin.

Every source yields :class:`FileResult` objects; a file that cannot be scanned (binary,
too large, unreadable) yields a result with a ``notice`` instead of findings, so a report
always says what was *not* looked at.
"""

from __future__ import annotations

import bisect
import codecs
import os
import stat
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from warden.core.secrets import Finding, Ruleset

READ_BYTES = 1 << 20
SNIFF_BYTES = 8192
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # larger files are skipped with a notice
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".tox", ".mypy_cache"}


@dataclass(slots=True)
class ScanOptions:
    max_bytes: int = DEFAULT_MAX_BYTES
    gitignore: bool = False
    follow_symlinks: bool = False
    skip_dirs: frozenset[str] = frozenset(_SKIP_DIRS)


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """The commit a history finding was added in (``warden scan --git``)."""

    sha: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: str  # ISO 8601, author date
    timestamp: int  # committer time, seconds (orders "first introduced")
    index: int = 0  # position in git log order


@dataclass(slots=True)
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    notice: str = ""  # why the file was skipped or only partly read
    error: bool = False  # an error (unreadable) rather than a deliberate skip
    size: int = 0
    commit: CommitInfo | None = None  # history scans: the commit whose diff this is
    introduced: dict[tuple[int, int], str] = field(default_factory=dict)  # (start, end) -> first commit sha


def decoded_chunks(stream: BinaryIO, first: bytes = b"") -> Iterator[str]:
    # Invalid UTF-8 becomes U+FFFD: offsets stay consistent and nothing crashes.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    if first:
        yield decoder.decode(first)
    while True:
        block = stream.read(READ_BYTES)
        if not block:
            break
        yield decoder.decode(block)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def is_binary(sample: bytes) -> bool:
    if b"\0" in sample:
        return True
    return False


def scan_file(path: str, ruleset: Ruleset, options: ScanOptions | None = None, display: str | None = None
              ) -> FileResult:
    options = options or ScanOptions()
    shown = display or path
    result = FileResult(shown)
    try:
        # O_NONBLOCK: a FIFO or device in the tree must not hang the scan; it is skipped below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        result.notice = f"unreadable: {exc.strerror or exc}"
        result.error = True
        return result
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            result.notice = "skipped: not a regular file"
            return result
        with os.fdopen(fd, "rb") as fh:
            result.size = st.st_size
            if st.st_size > options.max_bytes:
                result.notice = f"skipped: {st.st_size / 1e6:.0f} MB is over the {options.max_bytes / 1e6:.0f} MB " \
                    "limit (raise it with --max-size)"
                return result
            first = fh.read(SNIFF_BYTES)
            if is_binary(first):
                result.notice = "skipped: binary file"
                return result
            result.findings = list(ruleset.scan_stream(decoded_chunks(fh, first), shown))
            result.findings.extend(ruleset.path_findings(shown))
    except OSError as exc:
        result.notice = f"unreadable: {exc.strerror or exc}"
        result.error = True
    return result


def scan_stream_text(stream: BinaryIO, ruleset: Ruleset, name: str = "-") -> FileResult:
    result = FileResult(name)
    first = stream.read(SNIFF_BYTES)
    if is_binary(first):
        result.notice = "skipped: binary input"
        return result
    result.findings = list(ruleset.scan_stream(decoded_chunks(stream, first), name))
    return result


def _git_visible(directory: Path) -> set[str] | None:
    """Files git would not ignore under ``directory`` (tracked + untracked), or None."""
    try:
        out = subprocess.run(
            ["git", "-C", str(directory), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, timeout=120, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {os.path.normpath(directory / p.decode("utf-8", "surrogateescape")) for p in out.split(b"\0") if p}


def iter_paths(paths: Iterable[str], options: ScanOptions, errors: list[str] | None = None
               ) -> Iterator[tuple[str, str]]:
    """(filesystem path, display path) for every file under ``paths``.

    Missing paths are yielded too, so the scan reports them as unreadable rather than
    silently scanning less than asked; directories that cannot be listed go to ``errors``.
    """

    def onerror(exc: OSError) -> None:
        if errors is not None:
            errors.append(f"{exc.filename}: {exc.strerror or exc}")

    for raw in paths:
        root = Path(raw)
        if not root.is_dir():
            yield str(root), raw
            continue
        visible = _git_visible(root) if options.gitignore else None
        for dirpath, dirnames, filenames in os.walk(root, followlinks=options.follow_symlinks, onerror=onerror):
            dirnames[:] = sorted(d for d in dirnames if d not in options.skip_dirs)
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if visible is not None and os.path.normpath(full) not in visible:
                    continue
                if not options.follow_symlinks and os.path.islink(full):
                    continue
                yield full, full


# ---- git diffs ----------------------------------------------------------------------------

class GitError(RuntimeError):
    pass


def scan_git_diff(rev: str | None, ruleset: Ruleset, cwd: str = ".", staged: bool = False) -> list[FileResult]:
    """Scan only the lines a diff adds (``git diff REV`` or ``git diff --staged``).

    The diff is read as a stream and each file's added lines go through the streaming
    scanner, so a commit that adds a 1 GB file needs no more memory than a small one.
    """
    args = ["git", "-C", cwd, "diff", "--no-color", "--no-ext-diff", "--unified=0", "--no-renames"]
    if staged:
        args.append("--staged")
    if rev:
        if rev.startswith("-"):
            raise GitError(f"refusing revision {rev!r}: it looks like an option")
        args.append(rev)
    args.append("--")
    try:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    assert proc.stdout is not None and proc.stderr is not None
    try:
        results = _scan_diff(proc.stdout, ruleset)
    finally:
        proc.stdout.close()
        err = proc.stderr.read()
        code = proc.wait()
    if code != 0:
        msg = err.decode("utf-8", "replace").strip()
        raise GitError(f"git diff failed: {msg or 'exit ' + str(code)}")
    return results


def _scan_diff(stream: Iterable[bytes], ruleset: Ruleset) -> list[FileResult]:
    results: list[FileResult] = []
    lines = iter(stream)
    line = next(lines, None)
    while line is not None:
        if not line.startswith(b"diff --git "):
            line = next(lines, None)
            continue
        path = ""
        line = next(lines, None)
        while line is not None and not line.startswith((b"diff --git ", b"@@")):
            if line.startswith(b"+++ "):
                target = line[4:].rstrip(b"\n").decode("utf-8", "replace")
                path = target[2:] if target.startswith("b/") else ("" if target == "/dev/null" else target)
            elif line.startswith(b"Binary files "):
                name = line.rstrip(b"\n").decode("utf-8", "replace").split(" and ")[-1]
                results.append(FileResult(name.removeprefix("b/").removesuffix(" differ"),
                                          notice="skipped: binary file"))
            line = next(lines, None)
        if line is None or not line.startswith(b"@@") or not path:
            continue
        hunks: list[tuple[int, int]] = []  # (first text line of the hunk, its line in the new file)
        state: dict[str, bytes | None] = {"next": None}

        def added(first: bytes = line, hunks: list[tuple[int, int]] = hunks,
                  state: dict[str, bytes | None] = state) -> Iterator[str]:
            # Yields the file's added lines; stops at the next file, leaving its header line.
            cur: bytes | None = first
            emitted = 0
            while cur is not None and not cur.startswith(b"diff --git "):
                if cur.startswith(b"@@"):
                    try:
                        new_no = int(cur.split(b"+", 1)[1].split(b" ", 1)[0].split(b",")[0])
                    except (IndexError, ValueError):
                        new_no = 0
                    hunks.append((emitted + 1, new_no))
                elif cur.startswith(b"+"):
                    emitted += 1
                    yield cur[1:].decode("utf-8", "replace").rstrip("\n") + "\n"
                cur = next(lines, None)
            state["next"] = cur

        found = [_relocate(f, new_line_number(hunks, f.line), new_line_number(hunks, f.end_line))
                 for f in ruleset.scan_stream(added(), path)]
        results.append(FileResult(path, found))
        line = state["next"]
    return results


def new_line_number(hunks: list[tuple[int, int]], text_line: int) -> int:
    """Line in the new file of line ``text_line`` of a diff's added text; ``hunks`` holds
    (first added-text line of each hunk, its line in the new file), in order."""
    i = bisect.bisect_right(hunks, (text_line, float("inf"))) - 1
    if i < 0:
        return text_line
    first, new_no = hunks[i]
    return new_no + (text_line - first)


def _relocate(f: Finding, line: int, end_line: int) -> Finding:
    from dataclasses import replace

    return replace(f, line=line, end_line=end_line)

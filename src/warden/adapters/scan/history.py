"""Git history scanning: every line any commit added, with who added it, when, and where.

One ``git log -p -U0`` stream is read once, in 1 MiB blocks. Each file section (``diff --git``)
is handled as soon as it is complete, so memory holds one section at a time whatever the size
of the repository; a section is at most about twice git's ``core.bigFileThreshold`` (set to
``--max-size``: bigger blobs are reported as skipped, git never diffs them). Only added lines
are scanned (a secret removed later was still added by some commit, and is found there);
deleted files are never read (``--irreversible-delete``), and vendored trees
are excluded by pathspec so git does not even read them (binary blobs git recognises itself).

Bad repositories are reported, not fatal: a shallow clone gets a notice (older history is not
there to scan); a missing or corrupt object makes git stop, and the scan resumes after the
commit it stopped on (``--skip``) with an error notice naming it; submodules (gitlinks) and
non-UTF-8 paths get notices; a commit walk that cannot go on ends the scan with an error.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shlex
import subprocess
import threading
from collections.abc import Generator, Iterator
from typing import IO
from dataclasses import dataclass, field, replace

from warden.adapters.scan.sources import CommitInfo, FileResult, GitError, new_line_number
from warden.core.secrets import Finding, Ruleset

BLOCK = 1 << 20
BIG_SECTION = 4 * BLOCK  # a file diff larger than this is scanned as a stream, not held whole
DEFAULT_MAX_BYTES = 32 * 1024 * 1024  # per blob; git treats larger ones as binary and does not diff them
MAX_NOTICES_PER_REASON = 50  # a history can hold thousands of images: count them, list the first few
MAX_RESTARTS = 1000
_MARK = b"\x1e\x1eWARDEN-COMMIT "
_FORMAT = "%x1e%x1eWARDEN-COMMIT %H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%ct"
_DIFF = b"diff --git "

# Vendored trees and minified bundles: third-party code, scanned upstream if at all.
VENDORED_GLOBS = (
    "**/node_modules/**", "**/vendor/**", "**/_vendor/**", "**/vendored/**", "**/third_party/**",
    "**/bower_components/**", "**/site-packages/**", "**/*.min.js", "**/*.min.css", "**/*.js.map",
)
# git log options that only select commits: anything else could change the output we parse
# (--format, --stat, -z, --word-diff, --output=FILE ...) and is refused.
_SELECTING = (
    "--since", "--after", "--until", "--before", "--author", "--committer", "--grep", "--max-count", "-n",
    "--first-parent", "--no-merges", "--merges", "--all", "--branches", "--tags", "--remotes", "--glob",
    "--exclude", "--not", "--ancestry-path", "--max-age", "--min-age", "--author-date-order", "--date-order",
    "--topo-order", "--reverse", "--invert-grep", "-i", "--regexp-ignore-case", "--all-match", "--full-history",
    "--simplify-merges", "--dense", "--sparse", "--since-as-filter", "--max-parents", "--min-parents",
)


@dataclass(slots=True)
class HistoryOptions:
    rev_range: str = ""  # "" = everything reachable from HEAD
    all_refs: bool = False
    since: str = ""
    log_opts: str = ""
    include_vendored: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass
class HistoryScan:
    results: list[FileResult] = field(default_factory=list)  # only sections with findings, and notices
    commits: int = 0  # commits git log printed (every commit walked, merges included)
    files: int = 0  # file sections scanned
    bytes_read: int = 0  # bytes of git output consumed
    bytes_scanned: int = 0  # bytes of added lines handed to the rules
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    excluded: tuple[str, ...] = ()  # pathspecs excluded by rule

    def summary(self) -> dict[str, int]:
        return {
            "commits_scanned": self.commits,
            "files_scanned": self.files,
            "files_skipped": sum(self.skipped.values()),
            "files_unreadable": sum(1 for r in self.results if r.error),
            "findings": sum(len(r.findings) for r in self.results),
            "bytes_scanned": self.bytes_scanned,
        }


def check_log_opts(text: str) -> list[str]:
    """Split ``--log-opts`` and refuse options that would change git's output format."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise GitError(f"--log-opts: {exc}") from None
    after_dashes = False
    for w in words:
        if w == "--":
            after_dashes = True
        elif w.startswith("-") and not after_dashes and w.split("=", 1)[0] not in _SELECTING:
            raise GitError(f"--log-opts: {w!r} is not a commit-selecting option; allowed: {', '.join(_SELECTING)}")
    return words


def selection_args(opts: HistoryOptions) -> list[str]:
    """The commit selection (range, refs, --since, --log-opts, pathspecs) shared by git log and rev-list."""
    if opts.rev_range.startswith("-"):
        raise GitError(f"refusing revision range {opts.rev_range!r}: it looks like an option")
    extra = check_log_opts(opts.log_opts) if opts.log_opts else []
    revs, paths = extra, []
    if "--" in extra:
        i = extra.index("--")
        revs, paths = extra[:i], extra[i + 1:]
    args = [f"--since={opts.since}"] if opts.since else []
    if opts.all_refs:
        args.append("--all")
    args += revs
    if opts.rev_range:
        args.append(opts.rev_range)
    elif not opts.all_refs and not any(not w.startswith("-") for w in revs):
        args.append("HEAD")
    args += ["--", *(paths or ["."])]
    # Few, cheap pathspecs: git evaluates each on every path of every commit (a list of
    # binary extensions here made git log six times slower; git spots binaries itself).
    excluded = () if opts.include_vendored else VENDORED_GLOBS
    return args + [f":(exclude,glob){g}" for g in excluded]


def git_log_argv(repo: str, opts: HistoryOptions) -> list[str]:
    return [
        "git", "-C", repo, "-c", "core.quotePath=false", "-c", f"core.bigFileThreshold={opts.max_bytes}",
        "-c", "log.showRoot=true", "-c", "diff.noprefix=false",
        "log", "-p", "-U0", "--no-renames", "--no-color", "--no-ext-diff", "--no-textconv", "--full-history",
        "--no-show-signature", "--full-index", "--src-prefix=a/", "--dst-prefix=b/", "--irreversible-delete",
        f"--format={_FORMAT}", *selection_args(opts),
    ]


def count_commits(repo: str, opts: HistoryOptions) -> int:
    """About how many commits git log will print: rev-list without the vendored pathspecs.

    Pathspecs make git diff every commit's tree; without them counting is nearly free. Only
    the user's own paths (``--log-opts '-- src/'``) are kept.
    """
    sel = selection_args(opts)
    cut = sel.index("--")
    user_paths = [a for a in sel[cut + 1:] if not a.startswith(":(exclude")]
    args = sel[:cut] + (["--", *user_paths] if user_paths != ["."] else [])
    p = _git(repo, "rev-list", "--count", "--full-history", *args)
    out = p.stdout.decode("ascii", "replace").strip()
    return int(out) if p.returncode == 0 and out.isdigit() else 0


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    # Never reach the network for a partial clone's missing blobs; never prompt.
    env.update(GIT_NO_LAZY_FETCH="1", GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", LC_ALL="C")
    return env


def _git(repo: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", repo, *args], capture_output=True, timeout=120, env=_git_env())
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"cannot run git: {exc}") from None


def repo_root(repo: str) -> str:
    p = _git(repo, "rev-parse", "--show-toplevel")
    if p.returncode != 0:
        p2 = _git(repo, "rev-parse", "--git-dir")  # a bare repository has no work tree
        if p2.returncode != 0:
            raise GitError(f"{repo} is not a git repository: {p.stderr.decode('utf-8', 'replace').strip()}")
        return os.path.abspath(repo)
    return p.stdout.decode("utf-8", "surrogateescape").strip()


def scan_history(repo: str, ruleset: Ruleset, opts: HistoryOptions | None = None, workers: int | None = None
                 ) -> HistoryScan:
    """Scan the added lines of every selected commit; see the module docstring.

    Long histories are cut into ``workers`` contiguous slices of git log order (``--skip`` /
    ``--max-count``), each scanned by its own git and its own process: git's diffing and the
    rules then use every core. Results are merged in log order, as one scan would give them.
    """
    opts = opts or HistoryOptions()
    out = HistoryScan(excluded=() if opts.include_vendored else VENDORED_GLOBS)
    shallow = _git(repo, "rev-parse", "--is-shallow-repository")
    if shallow.returncode == 0 and shallow.stdout.strip() == b"true":
        out.results.append(FileResult(
            "(repository)", notice="shallow clone: commits before the clone depth are not there to scan, and the "
            "oldest commit present shows its whole tree as added; fetch full history (git fetch --unshallow, or "
            "actions/checkout with fetch-depth: 0) for a complete scan"))
    if not opts.rev_range and not opts.all_refs and _git(repo, "rev-parse", "--verify", "-q", "HEAD").returncode:
        if _git(repo, "rev-parse", "--git-dir").returncode == 0:  # a repository with no commit yet
            out.results.append(FileResult("(repository)", notice="no commits yet: nothing in history to scan"))
            return out
    argv = git_log_argv(repo, opts)
    n = count_commits(repo, opts)
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if n < MIN_COMMITS_PER_WORKER * 2 or workers < 2:
        parts = [_scan_slice(argv, ruleset, 0, None)]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        global _WORKER_RULESET
        _WORKER_RULESET = ruleset  # inherited by the forked workers: no re-compiling, no pickling
        step = -(-n // workers)
        # The count ignores the vendored pathspecs (cheap: no tree diffs), so it can exceed what
        # git log prints; the last slice is open-ended, and the slices still cover every
        # printed commit exactly once.
        bounds: list[tuple[int, int | None]] = [(i, step) for i in range(0, n, step)]
        bounds[-1] = (bounds[-1][0], None)
        with ProcessPoolExecutor(len(bounds), mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_slice_worker, [(argv, start, count) for start, count in bounds]))
        _WORKER_RULESET = None
    for part in parts:
        if part.error:
            raise GitError(part.error)
        out.results += part.results
        out.commits += part.commits
        out.files += part.files
        out.bytes_read += part.bytes_read
        out.bytes_scanned += part.bytes_scanned
        for reason, count in part.skipped.items():
            out.skipped[reason] = out.skipped.get(reason, 0) + count
    _attribute_first_commit(out.results)
    _size_skipped_blobs(repo, out, opts.max_bytes)
    return out


MIN_COMMITS_PER_WORKER = 2000  # below this a second git + process costs about what it saves
_WORKER_RULESET: Ruleset | None = None


@dataclass
class _Slice(HistoryScan):
    error: str = ""  # a failure to report in the parent (exceptions do not cross processes well)


def _slice_worker(job: tuple[list[str], int, int | None]) -> _Slice:
    argv, start, count = job
    assert _WORKER_RULESET is not None
    try:
        return _scan_slice(argv, _WORKER_RULESET, start, count)
    except GitError as exc:
        return _Slice(error=str(exc))


def _scan_slice(argv: list[str], ruleset: Ruleset, start: int, count: int | None) -> _Slice:
    """Commits [start, start + count) of git log order (all from start when count is None)."""
    out = _Slice()
    parser = _Parser(ruleset, out)
    parser.index = start
    end = None if count is None else start + count
    restarts = 0
    at = argv.index("log") + 1  # options go before the revisions and the "--" pathspecs
    while True:
        skip = parser.index
        if end is not None and skip >= end:
            break
        window = ([f"--skip={skip}"] if skip else []) + ([f"--max-count={end - skip}"] if end is not None else [])
        code, err = _run_log(argv[:at] + window + argv[at:], parser, skip)
        parser.flush_commit()
        if code == 0:
            break
        msg = err.strip().splitlines()[-1] if err.strip() else f"git log exited {code}"
        if parser.index == skip:  # no commit got through: the walk itself is broken (or a bad range)
            if skip == 0 and not parser.seen_any:
                raise GitError(f"git log failed: {msg}")
            out.results.append(FileResult(f"(commit after {parser.last_sha[:12] or 'start'})", notice=(
                f"history walk stopped: {msg}; {out.commits} commit(s) were scanned before it "
                "(repair with git fsck, or re-clone)"), error=True))
            break
        # git stopped inside the diff of the commit it printed last: skip that commit, go on.
        bad = parser.last_sha
        out.results.append(FileResult(f"(commit {bad[:12]})", notice=(
            f"skipped the rest of commit {bad}: {msg} (a missing or corrupt object; run git fsck)"), error=True))
        restarts += 1
        if restarts >= MAX_RESTARTS:
            out.results.append(FileResult("(repository)", notice=f"gave up after {restarts} corrupt commits",
                                          error=True))
            break
    return out


def _run_log(argv: list[str], parser: _Parser, base_index: int) -> tuple[int, str]:
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_git_env())
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    assert proc.stdout is not None and proc.stderr is not None
    err_tail: list[bytes] = []

    def drain(stream: object = proc.stderr) -> None:
        # stderr in its own thread: a chatty git must never block on a full pipe while we read stdout
        for line in proc.stderr:  # type: ignore[union-attr]
            err_tail.append(line)
            del err_tail[:-20]

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    parser.index = base_index
    blocks = _read_ahead(proc.stdout)
    try:
        buf = b""
        it = iter(blocks)
        for block in it:
            parser.out.bytes_read += len(block)
            buf += block
            cut = max(buf.rfind(b"\n" + _DIFF), buf.rfind(b"\n" + _MARK))
            if cut > 0:
                parser.feed(buf[: cut + 1])
                buf = buf[cut + 1:]
            elif len(buf) > BIG_SECTION and buf.startswith(_DIFF) and b"\n@@" in buf:
                # one file's diff bigger than we want to hold: stream it through the scanner
                buf = parser.stream_section(buf, it)
        if buf:
            parser.feed(buf)
    finally:
        blocks.close()
        proc.stdout.close()
        code = proc.wait()
        t.join(timeout=10)
    return code, b"".join(err_tail).decode("utf-8", "replace")


def _read_ahead(stream: IO[bytes], depth: int = 8) -> Generator[bytes, None, None]:
    """Blocks of ``stream`` read by a thread, at most ``depth`` MiB ahead of the consumer.

    git and the scanner then work at the same time (two cores) instead of taking turns
    through a 64 KiB pipe; the bounded queue keeps memory fixed when the scanner is slower.
    """
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), BLOCK)
    except (ImportError, OSError, ValueError):
        pass  # a smaller pipe only costs speed
    q: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def pump() -> None:
        try:
            while not stop.is_set():
                block = stream.read(BLOCK)
                if not block:
                    break
                q.put(block)
        except (OSError, ValueError):
            pass
        finally:
            q.put(None)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        while (block := q.get()) is not None:
            yield block
    finally:
        stop.set()
        while t.is_alive():  # unblock a pump waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(timeout=0.05)


class _Parser:
    """Turns git log -p -U0 output into scanned sections; keeps only what has findings or notices."""

    def __init__(self, ruleset: Ruleset, out: HistoryScan) -> None:
        self.ruleset = ruleset
        self.out = out
        self.index = 0  # commits begun in log order, across restarts (the --skip value)
        self.commit: CommitInfo | None = None
        self.last_sha = ""
        self.seen_any = False
        self.path_rules = any(r.path and not r.regex for r in ruleset.rules)

    def flush_commit(self) -> None:
        self.commit = None

    def feed(self, chunk: bytes) -> None:
        pos = 0
        n = len(chunk)
        while pos < n:
            nxt_d = chunk.find(b"\n" + _DIFF, pos)
            nxt_m = chunk.find(b"\n" + _MARK, pos)
            ends = [e for e in (nxt_d, nxt_m) if e != -1]
            end = min(ends) + 1 if ends else n
            unit = chunk[pos:end]
            if unit.startswith(_MARK):
                self._commit(unit)
            elif unit.startswith(_DIFF) and self.commit is not None:
                self._section(unit)
            pos = end

    def _commit(self, unit: bytes) -> None:
        head = unit[len(_MARK):].split(b"\n", 1)[0].decode("utf-8", "replace")
        parts = head.split("\x1f")
        parts += [""] * (6 - len(parts))
        sha, parents, name, email, date, ts = parts[:6]
        self.commit = CommitInfo(sha, tuple(parents.split()), name, email, date, int(ts or 0), self.index)
        self.index += 1
        self.out.commits += 1
        self.last_sha = sha
        self.seen_any = True

    def _notice(self, reason: str, path: str, text: str, error: bool = False) -> None:
        count = self.out.skipped.get(reason, 0) + 1
        self.out.skipped[reason] = count
        if count <= MAX_NOTICES_PER_REASON:
            self.out.results.append(FileResult(path, notice=text, error=error, commit=self.commit))

    def _path(self, header: bytes) -> str | None:
        """The section's file path, or None (with a notice) when it is not to be scanned."""
        raw_path = _target_path(header)
        try:
            path = raw_path.decode("utf-8")
        except UnicodeDecodeError:
            path = raw_path.decode("utf-8", "backslashreplace")
            self._notice("non-utf8-path", path, "path is not valid UTF-8: scanned, shown with \\x escapes")
        if b" 160000" in header:  # a gitlink: the submodule's history lives in another repository
            self._notice("submodule", path, "skipped: submodule (scan its own repository)")
            return None
        if b"\nBinary files " in header or header.startswith(b"Binary files "):
            blob = _new_blob(header)
            self._notice("binary", path, f"skipped: binary or over the size limit (blob {blob})")
            return None
        return path

    def _section(self, unit: bytes) -> None:
        commit = self.commit
        assert commit is not None
        at = unit.find(b"\n@@")
        header = unit if at == -1 else unit[:at]
        path = self._path(header)
        if path is None or at == -1:
            return  # skipped with a notice, or a mode-only change / empty file
        self.out.files += 1
        body = unit[at + 1:]
        added = [ln[1:] for ln in body.split(b"\n") if ln[:1] == b"+"]
        if not added:
            return
        data = b"\n".join(added)
        self.out.bytes_scanned += len(data)
        text = data.decode("utf-8", "replace")
        findings = self.ruleset.scan(text, path, commit=commit.sha)
        if self.path_rules:
            findings.extend(self.ruleset.path_findings(path))
        if findings:
            lines = _new_line_numbers(body)
            moved = [replace(f, line=_at(lines, f.line), end_line=_at(lines, f.end_line)) for f in findings]
            self.out.results.append(FileResult(path, moved, commit=commit, size=len(data)))


    def stream_section(self, head: bytes, blocks: Iterator[bytes]) -> bytes:
        """Scan one huge file diff that starts ``head`` and continues in ``blocks``.

        Memory stays at a few MiB whatever the file size: added lines go through the
        engine's streaming scanner, new-file line numbers are kept per hunk, not per line.
        Returns the bytes after the section (the start of the next unit).
        """
        commit = self.commit
        at = head.find(b"\n@@")
        path = self._path(head[:at])
        if commit is None or path is None:
            return head  # not a scannable section; the normal path will report it
        self.out.files += 1
        hunks: list[tuple[int, int]] = []  # (first added-text line of the hunk, its new-file line)
        leftover: list[bytes] = []
        out = self.out

        def added() -> Iterator[str]:
            emitted = 0
            pending = head[at + 1:]
            while True:
                lines = pending.split(b"\n")
                tail = lines.pop()  # an unfinished line: completed by the next block
                for i, ln in enumerate(lines):
                    if ln.startswith((_DIFF, _MARK)):
                        leftover.append(b"\n".join(lines[i:]) + b"\n" + tail)
                        return
                    if ln.startswith(b"@@"):
                        hunks.append((emitted + 1, _hunk_start(ln)))
                    elif ln[:1] == b"+":
                        emitted += 1
                        out.bytes_scanned += len(ln)
                        yield ln[1:].decode("utf-8", "replace") + "\n"
                block = next(blocks, None)
                if block is None:
                    if tail:
                        leftover.append(tail)
                    return
                out.bytes_read += len(block)
                pending = tail + block

        found = [replace(f, line=new_line_number(hunks, f.line), end_line=new_line_number(hunks, f.end_line))
                 for f in self.ruleset.scan_stream(added(), path)]
        if self.path_rules:
            found.extend(self.ruleset.path_findings(path))
        if found:
            self.out.results.append(FileResult(path, found, commit=commit))
        return b"".join(leftover)


def _hunk_start(line: bytes) -> int:
    try:
        return int(line.split(b"+", 1)[1].split(b" ", 1)[0].split(b",")[0])
    except (IndexError, ValueError):
        return 0


def _target_path(header: bytes) -> bytes:
    for marker in (b"\n+++ ", b"\n--- "):
        i = header.find(marker)
        if i != -1:
            value = header[i + len(marker): header.find(b"\n", i + 1) if header.find(b"\n", i + 1) != -1 else None]
            value = _unquote(value.rstrip(b"\r"))
            if value != b"/dev/null":
                return value[2:] if value[:2] in (b"a/", b"b/") else value
    first = header.split(b"\n", 1)[0][len(_DIFF):]
    if first.startswith(b'"'):
        # "a/x" "b/y": the second quoted name
        last = first.rfind(b' "')
        return _unquote(first[last + 1:])[2:] if last != -1 else _unquote(first)[2:]
    half = first.find(b" b/")
    return first[half + 3:] if half != -1 else first


def _unquote(value: bytes) -> bytes:
    """Undo git's C-style quoting of unusual paths ("tab\\there", "\\303\\251")."""
    if not (value.startswith(b'"') and value.endswith(b'"') and len(value) >= 2):
        return value
    out = bytearray()
    s = value[1:-1]
    i = 0
    simple = {ord("n"): 10, ord("t"): 9, ord('"'): 34, ord("\\"): 92, ord("a"): 7, ord("b"): 8, ord("f"): 12,
              ord("r"): 13, ord("v"): 11}
    while i < len(s):
        c = s[i]
        if c == 92 and i + 1 < len(s):
            d = s[i + 1]
            if d in simple:
                out.append(simple[d])
                i += 2
                continue
            if 48 <= d <= 55 and i + 3 < len(s) + 1:
                out.append(int(s[i + 1: i + 4], 8) & 0xFF)
                i += 4
                continue
        out.append(c)
        i += 1
    return bytes(out)


def _new_blob(header: bytes) -> str:
    i = header.find(b"\nindex ")
    if i == -1:
        return "?"
    line = header[i + 7: header.find(b"\n", i + 1) if header.find(b"\n", i + 1) != -1 else None]
    return line.split(b" ", 1)[0].split(b"..")[-1].decode("ascii", "replace")


def _new_line_numbers(body: bytes) -> list[int]:
    """For each added line (in order), its line number in the new file (from the @@ headers)."""
    numbers: list[int] = []
    cur = 0
    for ln in body.split(b"\n"):
        if ln.startswith(b"@@"):
            cur = _hunk_start(ln)
        elif ln[:1] == b"+":
            numbers.append(cur)
            cur += 1
    return numbers


def _at(lines: list[int], text_line: int) -> int:
    if 1 <= text_line <= len(lines):
        return lines[text_line - 1]
    return text_line


def _attribute_first_commit(results: list[FileResult]) -> None:
    """Mark each finding with the oldest commit that added the same secret under the same rule."""
    salt = os.urandom(16)  # in-memory grouping only: this digest is never written anywhere

    def ident(f: Finding) -> bytes:
        return hashlib.blake2b(f"{f.rule_id}\0{f._secret}".encode("utf-8", "surrogatepass"), key=salt).digest()

    first: dict[bytes, CommitInfo] = {}
    for r in results:
        if r.commit is None:
            continue
        for f in r.findings:
            k = ident(f)
            old = first.get(k)
            # oldest by commit time; on a tie, the one git listed later (log order is newest first)
            if old is None or (r.commit.timestamp, -r.commit.index) < (old.timestamp, -old.index):
                first[k] = r.commit
    for r in results:
        for f in r.findings:
            c = first.get(ident(f))
            if c is not None:
                r.introduced[(f.start, f.end)] = c.sha


def _size_skipped_blobs(repo: str, out: HistoryScan, max_bytes: int) -> None:
    """Say which skipped blobs were too big rather than binary (one git cat-file --batch-check)."""
    pending = [r for r in out.results if r.notice.startswith("skipped: binary or over") and "(blob " in r.notice]
    blobs = sorted({r.notice.rsplit("(blob ", 1)[1].rstrip(")") for r in pending} - {"?"})
    if not blobs:
        return
    try:
        p = subprocess.run(["git", "-C", repo, "cat-file", "--batch-check=%(objectname) %(objectsize)"],
                           input="\n".join(blobs).encode() + b"\n", capture_output=True, timeout=120, env=_git_env())
    except (OSError, subprocess.SubprocessError):
        return
    sizes: dict[str, int] = {}
    for line in p.stdout.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    for r in pending:
        blob = r.notice.rsplit("(blob ", 1)[1].rstrip(")")
        size = sizes.get(blob)
        if size is not None and size > max_bytes:
            r.notice = (f"skipped: {size / 1e6:.1f} MB blob is over the {max_bytes / 1e6:.0f} MB limit "
                        f"(raise it with --max-size) (blob {blob})")
        elif size is not None:
            r.notice = f"skipped: binary file (blob {blob})"


def iter_findings(scan: HistoryScan) -> Iterator[tuple[FileResult, Finding]]:
    for r in scan.results:
        for f in r.findings:
            yield r, f



"""A unified-diff reader for review: files, renames, binary changes, hunks, added/removed lines.

Pure and bounded: text in (``git diff`` output, already decoded with replacement), ``FileDiff``
records out. Anything it cannot read is reported on the file (``problems``) rather than raised:
a malformed diff must produce a report that says so, never a crash or a silent pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINES_PER_FILE = 50_000  # beyond this a file's lines are counted but not kept
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_GIT = re.compile(r"^diff --git (?:\"?a/)(.+?)\"? (?:\"?b/)(.+?)\"?$")


@dataclass(slots=True)
class Hunk:
    old_start: int
    new_start: int
    header: str
    added: list[tuple[int, str]] = field(default_factory=list)  # (new line number, text)
    removed: list[tuple[int, str]] = field(default_factory=list)  # (old line number, text)


@dataclass(slots=True)
class FileDiff:
    path: str  # the new path ('' when deleted: then old_path)
    old_path: str = ""
    status: str = "modified"  # added | deleted | modified | renamed | copied
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)
    added_count: int = 0
    removed_count: int = 0
    truncated: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.path or self.old_path

    def lines(self) -> list[str]:
        return [t for h in self.hunks for _, t in h.added] + [t for h in self.hunks for _, t in h.removed]

    def added_lines(self) -> list[tuple[int, str]]:
        return [x for h in self.hunks for x in h.added]


def _unquote(path: str) -> str:
    if path.startswith('"') and path.endswith('"'):
        path = path[1:-1]
    if '\\' in path:  # git C-quotes non-ASCII: "caf\303\251.py"
        try:
            path = path.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode(
                "utf-8", "replace")
        except (UnicodeError, ValueError):
            pass
    return path


def parse(text: str) -> list[FileDiff]:
    files: list[FileDiff] = []
    cur: FileDiff | None = None
    hunk: Hunk | None = None
    old_no = new_no = 0
    kept = 0
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if line.startswith("diff --git "):
            m = _GIT.match(line)
            cur = FileDiff(path=_unquote(m.group(2)) if m else "", old_path=_unquote(m.group(1)) if m else "")
            if not m:
                cur.problems.append(f"unreadable file header: {line[:200]!r}")
            files.append(cur)
            hunk, kept = None, 0
            continue
        if cur is None:
            if line.startswith("--- ") or line.startswith("+++ "):  # a plain diff without git headers
                cur = FileDiff(path="")
                files.append(cur)
            elif line.strip():
                continue
            else:
                continue
        if hunk is None or not line or line[0] not in "+- \\":
            if line.startswith("new file mode"):
                cur.status = "added"
            elif line.startswith("deleted file mode"):
                cur.status = "deleted"
            elif line.startswith("rename from "):
                cur.status, cur.old_path = "renamed", _unquote(line[12:])
            elif line.startswith("rename to "):
                cur.path = _unquote(line[10:])
            elif line.startswith("copy from "):
                cur.status, cur.old_path = "copied", _unquote(line[10:])
            elif line.startswith("copy to "):
                cur.path = _unquote(line[8:])
            elif line.startswith("Binary files ") or line.startswith("GIT binary patch"):
                cur.binary = True
            elif line.startswith("--- "):
                old = line[4:].strip()
                if old != "/dev/null":
                    cur.old_path = cur.old_path or _unquote(old[2:] if old.startswith("a/") else old)
                else:
                    cur.status = "added"
                hunk = None
            elif line.startswith("+++ "):
                new = line[4:].strip()
                if new == "/dev/null":
                    cur.status, cur.path = "deleted", ""
                else:
                    cur.path = cur.path or _unquote(new[2:] if new.startswith("b/") else new)
                hunk = None
            elif line.startswith("@@"):
                m = _HUNK.match(line)
                if not m:
                    cur.problems.append(f"unreadable hunk header: {line[:120]!r}")
                    hunk = None
                    continue
                old_no, new_no = int(m.group(1)), int(m.group(3))
                hunk = Hunk(old_no, new_no, line[:200])
                cur.hunks.append(hunk)
            continue
        tag, body = line[0], line[1:]
        if tag == "\\":
            continue  # "\ No newline at end of file"
        if tag == "+":
            cur.added_count += 1
            if kept < MAX_LINES_PER_FILE:
                hunk.added.append((new_no, body))
                kept += 1
            else:
                cur.truncated = True
            new_no += 1
        elif tag == "-":
            cur.removed_count += 1
            if kept < MAX_LINES_PER_FILE:
                hunk.removed.append((old_no, body))
                kept += 1
            else:
                cur.truncated = True
            old_no += 1
        else:
            old_no += 1
            new_no += 1
    for f in files:
        if f.status == "deleted" and not f.path:
            f.path = ""
        if not f.path and not f.old_path:
            f.problems.append("no file name in the diff")
    return files

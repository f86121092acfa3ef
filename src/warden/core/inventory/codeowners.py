"""CODEOWNERS: who must review a change to a path (GitHub/GitLab syntax, last matching line wins)."""

from __future__ import annotations

import re
from dataclasses import dataclass

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


@dataclass(frozen=True, slots=True)
class OwnerRule:
    pattern: str
    owners: tuple[str, ...]
    line: int
    regex: re.Pattern[str]


def glob_body(pattern: str) -> str:
    """Regex for a path glob: ``**/`` any directories, a trailing ``/**`` or a bare ``**`` anything,
    ``*`` and ``?`` within one name. Shared by CODEOWNERS and the file finder."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] in "*?":
            out.append("[^/]*" if pattern[i] == "*" else "[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    p = pattern.lstrip("/")
    directory = p.endswith("/")
    prefix = "" if anchored else "(?:.*/)?"
    # A name matches the file itself or everything below it (a directory); "dir/" only the latter.
    suffix = "/.*" if directory else "(?:/.*)?"
    return re.compile(prefix + glob_body(p.rstrip("/")) + suffix + r"\Z")


def parse(text: str) -> list[OwnerRule]:
    rules = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("["):  # GitLab [Section] headers
            continue
        parts = line.split()
        pattern, owners = parts[0], tuple(p for p in parts[1:] if not p.startswith("#"))
        try:
            rules.append(OwnerRule(pattern, owners, n, _pattern_regex(pattern)))
        except re.error:
            continue
    return rules


def owners_of(rules: list[OwnerRule], path: str) -> tuple[str, ...]:
    """Owners of a repository-relative path; () when no rule covers it (or the last match has none)."""
    for rule in reversed(rules):
        if rule.regex.match(path):
            return rule.owners
    return ()

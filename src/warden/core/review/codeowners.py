"""CODEOWNERS: who owns a path (GitHub semantics: gitignore-style patterns, the last match wins)."""

from __future__ import annotations

import re
from dataclasses import dataclass

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


@dataclass(frozen=True, slots=True)
class OwnerRule:
    pattern: str
    owners: tuple[str, ...]
    line: int
    rx: re.Pattern[str]


def _to_regex(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    p = pattern.strip("/") if pattern != "/" else ""
    directory = pattern.endswith("/")
    out = []
    i = 0
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if p.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    body = "".join(out)
    prefix = "^" if anchored else "^(?:.*/)?"
    # a pattern matches the path itself and, as a directory, everything below it
    suffix = "/.*$" if directory else "(?:/.*)?$"
    return re.compile(prefix + body + suffix)


def parse(text: str) -> tuple[list[OwnerRule], list[str]]:
    rules: list[OwnerRule] = []
    problems: list[str] = []
    for n, raw in enumerate(text.splitlines()[:10_000], 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line or line.startswith("["):  # GitLab sections
            continue
        parts = line.split()
        pattern, owners = parts[0], tuple(parts[1:])
        try:
            rules.append(OwnerRule(pattern, owners, n, _to_regex(pattern)))
        except re.error as exc:
            problems.append(f"CODEOWNERS:{n}: cannot read pattern {pattern!r}: {exc}")
    return rules, problems


def owners_of(rules: list[OwnerRule], path: str) -> tuple[str, ...] | None:
    """The owners of ``path`` (the last matching rule), () for an explicitly unowned path, None if no rule."""
    found: tuple[str, ...] | None = None
    for rule in rules:
        if rule.rx.match(path.lstrip("/")):
            found = rule.owners
    return found

"""Glob compilation for rule fields: names, gitignore-style paths, hosts, argv token patterns.

All patterns compile to anchored stdlib regexes once, at policy compile time. Policy text
is trusted configuration; the strings matched against them are not, so the translations
below never produce nested unbounded quantifiers over the same characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEP = "\x1f"  # joins argv tokens for command patterns; cannot occur in a shell token we keep


def _translate(glob: str, *, star: str, any_run: str | None) -> str:
    """fnmatch-like translation; ``**`` spans separators when ``any_run`` is given."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            if any_run is not None and glob.startswith("**", i):
                out.append(any_run)
                i += 2
                continue
            out.append(star)
        elif c == "?":
            out.append(star[:-1] if star.endswith("*") else ".")
        elif c == "[":
            j = glob.find("]", i + 2)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = glob[i + 1 : j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def compile_names(globs: list[str] | tuple[str, ...], *, ignore_case: bool = False) -> re.Pattern[str]:
    """Alternation of simple globs (``*`` matches anything) for tool/program/fact names."""
    body = "|".join(f"(?:{_translate(g, star='.*', any_run=None)})" for g in globs)
    return re.compile(f"(?:{body})\\Z", re.IGNORECASE if ignore_case else 0)


def compile_hosts(globs: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """Host globs: ``*.example.com`` (subdomains), ``.example.com`` (domain and subdomains)."""
    parts = []
    for g in globs:
        g = g.strip().lower().rstrip(".")
        if g in ("*", "**"):
            parts.append(".+")
        elif g.startswith("."):
            parts.append(f"(?:(?:[^.]+\\.)*{re.escape(g[1:])})")
        elif g.startswith("*."):  # any depth of subdomain, never the bare domain
            parts.append(f"(?:(?:[^.]+\\.)+{_translate(g[2:], star='[^.]*', any_run='.*')})")
        else:
            parts.append(f"(?:{_translate(g, star='[^.]*', any_run='.*')})")
    return re.compile(f"(?:{'|'.join(parts)})\\Z")


@dataclass(frozen=True, slots=True)
class PathGlob:
    """A gitignore-style pattern, anchored to one of: absolute, home, workspace, any depth."""

    anchor: str  # "abs" | "home" | "workspace" | "name"
    regex: re.Pattern[str]
    text: str

    def matches(self, path: str, home: str, workspace: str) -> bool:
        if self.anchor == "abs":
            return self.regex.match(path) is not None
        if self.anchor == "name":
            # like gitignore: a slash-less pattern matches any component, so a matching
            # directory covers everything below it
            return any(self.regex.match(part) for part in path.split("/") if part)
        root = home if self.anchor == "home" else workspace
        if not root:
            return False
        root = root.rstrip("/")
        if path == root:
            rel = ""
        elif path.startswith(root + "/"):
            rel = path[len(root) + 1 :]
        else:
            return False
        return self.regex.match(rel) is not None


def compile_path(glob: str) -> PathGlob:
    text = glob
    if glob.endswith("/") and len(glob) > 1:
        glob = glob.rstrip("/")
    if glob.startswith("~/") or glob == "~":
        anchor, body = "home", glob[2:]
    elif glob.startswith("/"):
        anchor, body = "abs", glob
    elif "/" in glob:
        anchor, body = "workspace", glob.removeprefix("./")
    else:
        return PathGlob("name", re.compile(_translate(glob, star="[^/]*", any_run=".*") + r"\Z"), text)
    if body in ("", "**"):
        return PathGlob(anchor, re.compile(r".*\Z", re.DOTALL), text)
    rx = _translate(body, star="[^/]*", any_run=".*")
    rx = rx.replace(".*/", "(?:.*/)?")  # "**/x" also matches "x" at the root
    # a matching directory covers everything below it (gitignore semantics)
    return PathGlob(anchor, re.compile(rx + r"(?:/.*)?\Z", re.DOTALL), text)


def compile_command(pattern: str) -> re.Pattern[str]:
    """Token pattern -> regex over ``_SEP``-joined argv; prefix match.

    ``*`` is exactly one token, ``**`` any run of tokens, other tokens are globs within one
    token. ``git push ** --force`` matches ``git push origin main --force``.
    """
    import shlex

    tokens = shlex.split(pattern)
    parts = []
    for tok in tokens:
        if tok == "**":
            parts.append(f"(?:[^{_SEP}]*{_SEP})*?")
        else:
            parts.append(_translate(tok, star=f"[^{_SEP}]*", any_run=None) + _SEP)
    return re.compile("".join(parts))


def join_argv(argv: tuple[str, ...] | list[str]) -> str:
    return "".join(a.replace(_SEP, " ") + _SEP for a in argv)

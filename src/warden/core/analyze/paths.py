"""Path resolution and classification, without touching the file system.

Symlinks are resolved only through ``env.realpath`` (supplied by adapters).
"""

from __future__ import annotations

import posixpath

from warden.core.analyze import AnalysisEnv
from warden.core.facts import Fact, PathRef


def expand_home(raw: str, env: AnalysisEnv) -> str:
    home = env.env.get("HOME") or env.home
    if raw == "~" or raw.startswith("~/"):
        return home + raw[1:]
    for var in ("$HOME", "${HOME}"):
        if raw == var or raw.startswith(var + "/"):
            return home + raw[len(var):]
    return raw


def is_within(path: str, root: str) -> bool:
    if not root:
        return False
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root + "/") or root == "/"


def resolve_path(raw: str, cwd: str, workspace: str, env: AnalysisEnv) -> tuple[str, bool]:
    """Absolute, normalized path and whether it stays inside the workspace."""
    path = expand_home(raw, env)
    if not path.startswith("/"):
        path = posixpath.join(cwd or workspace or "/", path)
    path = posixpath.normpath(path)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if env.realpath is not None:
        try:
            path = env.realpath(path)
        except Exception:  # an unresolvable path keeps its lexical form
            pass
    return path, is_within(path, workspace)


def path_facts(ref: PathRef, env: AnalysisEnv, workspace: str) -> list[Fact]:
    facts: list[Fact] = []
    if not ref.in_workspace:
        facts.append(Fact("path.outside_workspace", ref.path, {"access": ref.access.value}))
    return facts

"""What git will execute: the files in a workspace that decide which programs git runs.

A sandboxed command must not be able to change any of them, or the host's next ``git status``
runs its code unconfined. Not just ``.git/config`` and ``.git/hooks``:

* files that send git to *another* configuration: ``commondir`` (a linked worktree's shared git
  dir), ``gitdir``, ``info/`` (attributes select filter and diff drivers), object ``alternates``;
* every submodule's and linked worktree's own git directory (``.git/modules/*``, ``.git/worktrees/*``),
  nested as deep as git allows;
* ``.gitmodules`` (``update = !cmd``);
* the paths the existing configuration names: ``core.hooksPath``, ``core.fsmonitor``, include files
  and the programs of ``core.pager``/``diff.external``/``filter.*`` when they live in the workspace.

The policy side of the same list is :func:`warden.core.analyze.paths.git_control_kind`.
"""

from __future__ import annotations

import os

# (path relative to a git dir, is a directory)
GIT_DIR_CONTROL = (("config", False), ("config.worktree", False), ("hooks", True), ("commondir", False),
                   ("gitdir", False), ("info", True), ("objects/info/alternates", False),
                   ("objects/info/http-alternates", False))
_NESTED = ("modules", "worktrees")
_MAX_NESTED = 200
_MAX_DEPTH = 3
_MAX_CONFIG = 256 * 1024
# Config keys whose value is a path git reads config from or a program git runs.
_PATH_KEYS = ("core.hookspath", "core.fsmonitor", "core.pager", "core.editor", "core.sshcommand", "diff.external",
              "include.path", "core.askpass", "sequence.editor", "gpg.program")
_PATH_KEY_SUFFIXES = (".path", ".clean", ".smudge", ".process", ".textconv", ".command", ".driver", ".cmd")


def _config_values(text: str) -> list[tuple[str, str]]:
    """(section.key, value) pairs of a git config, enough to find paths: no includes, no escapes."""
    out: list[tuple[str, str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            head = line[1:line.find("]")] if "]" in line else line[1:]
            name, _, sub = head.partition(" ")
            section = name.lower() + (("." + sub.strip().strip('"')) if sub else "")
            continue
        key, eq, value = line.partition("=")
        if eq:
            out.append((f"{section}.{key.strip().lower()}", value.strip().strip('"')))
    return out


def _named_paths(git_dir: str, ws: str) -> list[tuple[str, bool]]:
    """Workspace paths that the git dir's config names as config, hooks or programs."""
    found: list[tuple[str, bool]] = []
    try:
        with open(os.path.join(git_dir, "config"), encoding="utf-8", errors="replace") as f:
            text = f.read(_MAX_CONFIG)
    except OSError:
        return found
    for key, value in _config_values(text):
        if not (key in _PATH_KEYS or (key.startswith(("includeif.", "filter.", "diff.", "merge.")) and
                key.endswith(_PATH_KEY_SUFFIXES))):
            continue
        word = value.split()[0] if value.split() else ""
        if word.startswith("!"):  # a shell command: its first word is the program
            word = word[1:]
        if not word:
            continue
        # include paths are relative to the config file; programs and hooksPath to the work tree
        base = git_dir if key.endswith(".path") and key.startswith("include") else ws
        path = os.path.normpath(os.path.join(base, os.path.expanduser(word)))
        if path != ws and path.startswith(ws + "/"):
            found.append((os.path.relpath(path, ws), key == "core.hookspath" or os.path.isdir(path)))
    return found


def git_control_targets(ws: str) -> list[tuple[str, bool]]:
    """(path relative to ``ws``, is a directory) for every git control path of the workspace's repository."""
    git = os.path.join(ws, ".git")
    if not os.path.isdir(git):
        return []  # no repository, or a worktree's .git file pointing outside (read-only already)
    targets: list[tuple[str, bool]] = []
    stack = [(".git", 0)]
    seen = 0
    while stack:
        rel, depth = stack.pop()
        targets += [(f"{rel}/{name}", is_dir) for name, is_dir in GIT_DIR_CONTROL]
        targets += _named_paths(os.path.join(ws, rel), ws)
        if depth >= _MAX_DEPTH:
            continue
        for nested in _NESTED:
            try:
                entries = sorted(os.listdir(os.path.join(ws, rel, nested)))
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > _MAX_NESTED:
                    break
                if os.path.isdir(os.path.join(ws, rel, nested, entry)):
                    stack.append((f"{rel}/{nested}/{entry}", depth + 1))
    return targets


def planted_git_dir(ws: str) -> str:
    """After a run that started without ``.git``: why a ``.git`` created inside would run code, or ''."""
    git = os.path.join(ws, ".git")
    if not os.path.lexists(git):
        return ""
    if not os.path.isdir(git) or os.path.islink(git):
        return ".git is a file or link (a gitdir pointer to another repository's config)"
    for rel in ("commondir", "gitdir", "objects/info/alternates"):
        if os.path.lexists(os.path.join(git, rel)):
            return f".git/{rel} redirects git elsewhere"
    try:
        hooks = [h for h in os.listdir(os.path.join(git, "hooks")) if not h.endswith(".sample")]
    except OSError:
        hooks = []
    if hooks:
        return f".git/hooks holds {', '.join(sorted(hooks)[:5])}"
    try:
        with open(os.path.join(git, "config"), encoding="utf-8", errors="replace") as f:
            pairs = _config_values(f.read(_MAX_CONFIG))
    except OSError:
        pairs = []
    for key, _ in pairs:
        if key in _PATH_KEYS or key.endswith(_PATH_KEY_SUFFIXES) or key.startswith(("alias.", "pager.")):
            return f".git/config sets {key}"
    return ""

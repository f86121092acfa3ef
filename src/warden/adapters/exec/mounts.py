"""The mount plan: which host paths the sandbox sees writable, read-only, or not at all.

Order matters in bubblewrap: later mounts cover earlier ones. We lay out
  1. the whole host read-only, fresh /dev and /proc, private /tmp, an empty /run (host sockets
     such as the Docker or systemd ones are root-equivalent even on a read-only mount);
  2. the workspace and the profile's extra writable paths, read-write;
  3. protected paths inside those (git hooks and config, agent settings, Warden policy, CI
     workflows) re-bound read-only, and the profile's read_only paths;
  4. secrets masked: directories become empty read-only tmpfs, files become /dev/null.

Paths are resolved on the host with realpath first, so a symlink planted in the workspace
(``.claude -> elsewhere``) protects or masks the real target rather than being skipped.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping

from warden.adapters.exec.gitsurface import git_control_targets, planted_git_dir
from warden.adapters.exec.integrity import Snapshot, fingerprint_all, verify_and_restore
from warden.core.credentials import catalogue, credential_env_files

# Relative to the workspace root: what would let a command run code *outside* the sandbox later
# (git hooks and config, agent settings and MCP servers, editor tasks, direnv, CI workflows) or
# change Warden's own policy. `.vscode`, `.envrc` and git's per-worktree config join the brief's list.
# The git directory's own control surface (config, hooks, commondir, info/, alternates, submodules'
# and worktrees' git dirs, paths the config names) comes from gitsurface.git_control_targets.
PROTECTED_DIRS = (".claude", ".cursor", ".vscode", ".warden", ".github/workflows", ".husky")
PROTECTED_FILES = (".mcp.json", "warden.yaml", ".envrc", ".gitmodules")
PROTECTED = PROTECTED_DIRS + PROTECTED_FILES
# Credential locations: the one catalogue (warden/core/credentials.json) the policy also uses.
_CAT = catalogue()
SECRET_HOME = _CAT.home_paths  # relative to $HOME
# System locations worth a mask: /dev, /proc, /run and /tmp are fresh inside the sandbox already.
SECRET_SYSTEM = tuple(p for p in _CAT.system_paths if not p.startswith(("/dev/", "/proc/", "/run/", "/tmp/")))
# The .env* walk is bounded: deep trees (node_modules, venvs) are skipped and the count capped.
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache",
                        ".pytest_cache", "target", "dist", "build", ".cache"})
_ENV_WALK_DEPTH = 4
_ENV_WALK_MAX_ENTRIES = 20_000
_GLOB_MAX = 1000
_RUN_BYTES = 16 * 1024 * 1024  # /run holds only the proxy socket and relay
_PROC_KNOBS = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/acpi")


class MountError(ValueError):
    """The requested layout is unsafe or impossible; the message says what to change."""


class MountPlan:
    __slots__ = ("absent_protected", "args", "fingerprints", "git_dirs_before", "masked", "pinned", "placeholders",
                 "protected", "read_only", "writable")

    def __init__(self) -> None:
        self.args: list[str] = []
        self.writable: list[str] = []
        self.protected: list[str] = []
        self.read_only: list[str] = []
        self.masked: list[str] = []
        # Protected files that did not exist: checked (and removed) after the run, since bubblewrap
        # would have to create a placeholder file in the user's tree to cover them.
        self.absent_protected: list[str] = []
        # Directories created on the host as mount points; removed after the run if empty.
        self.placeholders: list[str] = []
        # Ancestors of protected paths bound onto themselves: a mount point cannot be renamed or
        # removed (EBUSY), so `mv .git x` cannot carry the protective mounts inside it away.
        self.pinned: list[str] = []
        # (inode, content digest) of every protected and pinned path before the run, checked after.
        self.fingerprints: Snapshot = Snapshot()
        self.git_dirs_before: bool = False

    def to_json(self) -> dict[str, list[str]]:
        return {"writable": self.writable, "protected": self.protected, "pinned": self.pinned,
                "read_only": self.read_only, "masked": self.masked, "absent_protected": self.absent_protected}


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def expand(entry: str, workspace: str, home: str) -> list[str]:
    """A profile path entry -> absolute host paths (``~`` = home, relative = workspace, globs bounded)."""
    entry = entry.rstrip("/") or "/"
    if entry == "~" or entry.startswith("~/"):
        path = home + entry[1:]
    elif entry.startswith("$WARDEN_HOME"):
        raise MountError("use an absolute path instead of $WARDEN_HOME in sandbox profiles")
    elif os.path.isabs(entry):
        path = entry
    else:
        path = os.path.join(workspace, entry)
    path = os.path.normpath(path)
    if any(ch in path for ch in "*?["):
        return sorted(glob.glob(path, recursive=True))[:_GLOB_MAX]
    return [path]


def _find_env_files(workspace: str) -> list[str]:
    found: list[str] = []
    seen = 0
    stack = [(workspace, 0)]
    while stack:
        top, depth = stack.pop()
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > _ENV_WALK_MAX_ENTRIES:
                return found
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < _ENV_WALK_DEPTH and entry.name not in _SKIP_DIRS:
                        stack.append((entry.path, depth + 1))
                elif _CAT.is_env_file_name(entry.name):
                    # A directory named .env is usually a virtualenv, so only files (or links) count.
                    if os.path.isfile(entry.path):
                        found.append(entry.path)
            except OSError:
                continue
    return found


def plan_mounts(
    *,
    workspace: str,
    home: str,
    warden_home: str,
    writable: list[str],
    read_only: list[str],
    masked: list[str],
    env: Mapping[str, str] | None = None,
    tmpfs_bytes: int = 0,
) -> MountPlan:
    """Build the bubblewrap file-system arguments. Paths in the profile lists are already expanded."""
    ws = os.path.realpath(workspace)
    home = os.path.realpath(home) if home else ""
    if ws == "/" or (home and ws == home):
        raise MountError(
            f"refusing to make {ws} writable as the workspace: run from a project directory "
            f"(or pass --workspace DIR)"
        )
    plan = MountPlan()
    a = plan.args
    a += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    # Kernel-wide knobs in a fresh procfs are guarded only by file modes, and when Warden runs as
    # root the sandbox's uid 0 *is* host root: /proc/sys/kernel/core_pattern alone would let it run
    # a program as root outside. Cover them read-only, as container runtimes do.
    for knob in _PROC_KNOBS:
        if os.path.exists(knob):
            a += ["--ro-bind", knob, knob]
    # Sized: tmpfs pages are memory that RLIMIT_AS never sees (a memory cgroup, when there is one,
    # counts them too). /dev/shm is part of bubblewrap's unsized /dev tmpfs unless covered here.
    size = [str(tmpfs_bytes)] if tmpfs_bytes else []
    a += [*(["--size", *size] if size else []), "--tmpfs", "/tmp",
          *(["--size", *size] if size else []), "--tmpfs", "/dev/shm",
          "--size", str(_RUN_BYTES), "--tmpfs", "/run"]

    writable_roots = [ws]
    for p in writable:
        real = os.path.realpath(p)
        if real == "/" or not os.path.exists(real):
            continue  # nothing to bind; a missing path cannot be written through anyway
        writable_roots.append(real)
    for root in dict.fromkeys(writable_roots):
        a += ["--bind", root, root]
        plan.writable.append(root)

    def in_writable(path: str) -> bool:
        return any(_under(path, r) for r in plan.writable)

    # A protected path the profile lists as writable (itself or an ancestor) is granted.
    granted = [os.path.realpath(p) for p in writable]

    targets = [(rel, rel in PROTECTED_DIRS) for rel in PROTECTED] + git_control_targets(ws)
    covers: list[str] = []  # emitted after the pins: a pin bound later would not hide them, but order is clearer
    for rel, is_dir in dict.fromkeys(targets):
        host = os.path.join(ws, rel)
        real = os.path.realpath(host)
        if any(_under(real, g) for g in granted if g != ws) or not in_writable(real) or real == ws:
            continue
        if os.path.lexists(host) and not os.path.exists(real):
            plan.absent_protected.append(real)  # dangling link: whatever appears at its target is removed
        elif os.path.exists(real):
            _pin_ancestors(plan, real, ws)
            covers += ["--ro-bind", real, real]
            plan.protected.append(real)
        elif not is_dir:
            # bubblewrap would have to create a file in the user's tree to cover it: checked after the run
            plan.absent_protected.append(real)
        else:
            # An absent protected directory becomes an empty read-only tmpfs, so it cannot be created.
            created = _missing_ancestors(real, ws)
            try:
                for d in reversed(created):  # made here, not by bubblewrap, so the parents can be pinned
                    os.mkdir(d, 0o755)
            except OSError as exc:
                raise MountError(f"cannot create the mount point {real}: {exc.strerror}") from None
            plan.placeholders += created
            _pin_ancestors(plan, real, ws)
            covers += ["--perms", "0555", "--tmpfs", real, "--remount-ro", real]
            plan.protected.append(real)
    for d in sorted(plan.pinned, key=len):
        a += ["--bind", d, d]
    a += covers

    for p in read_only:
        real = os.path.realpath(p)
        if os.path.exists(real) and in_writable(real):
            a += ["--ro-bind", real, real]
            plan.read_only.append(real)

    secrets = [os.path.join(home, rel) for rel in SECRET_HOME] if home else []
    secrets += SECRET_SYSTEM  # /etc/shadow and friends: readable when Warden runs as root
    for pattern in _CAT.system_patterns:
        if not pattern.startswith(("/dev/", "/proc/", "/run/", "/tmp/")):
            secrets += glob.glob(pattern)[:_GLOB_MAX]
    secrets += credential_env_files(env or {})  # GOOGLE_APPLICATION_CREDENTIALS, KUBECONFIG, PGPASSFILE...
    secrets += _find_env_files(ws)
    for root in plan.writable[1:]:
        secrets += _find_env_files(root)
    secrets += list(masked)
    if warden_home:
        secrets.append(warden_home)  # audit log and keys: invisible, not just read-only
    # Every live Warden daemon's socket directory (other WARDEN_HOMEs, other users): a sandboxed
    # process must not ask a daemon to decide or to record reports in its audit log.
    secrets += [d for d in daemon_socket_dirs() if not any(_under(w, d) for w in plan.writable)]
    for p in dict.fromkeys(secrets):
        if not os.path.lexists(p):
            continue  # most catalogue entries are absent: one lstat, not a realpath walk
        real = os.path.realpath(p)
        if not os.path.exists(real) or any(_under(real, m) for m in plan.masked):
            continue  # already hidden (itself, or inside a masked directory such as $WARDEN_HOME)
        if real == "/" or (home and real == home) or any(_under(w, real) for w in plan.writable):
            raise MountError(f"cannot mask {real}: it contains the workspace or a writable path")
        if _under(real, "/tmp") and not in_writable(real):
            continue  # the private /tmp already hides it
        if os.path.isdir(real):
            a += ["--perms", "0700", "--tmpfs", real, "--remount-ro", real]
        else:
            a += ["--ro-bind", "/dev/null", real]
        plan.masked.append(real)
    # placeholders are ours and removed after the run: nothing of the user's to compare there
    plan.fingerprints = fingerprint_all([p for p in plan.protected if p not in plan.placeholders],
                                        [p for p in plan.pinned if p not in plan.placeholders])
    # lexists, not isdir: a git worktree's .git is a file, and it was there before the run (not planted)
    plan.git_dirs_before = os.path.lexists(os.path.join(ws, ".git"))
    return plan


def daemon_socket_dirs(table: str = "/proc/net/unix") -> list[str]:
    """Directories of the listening Warden daemon sockets the kernel knows in this network namespace."""
    try:
        with open(table, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    dirs = []
    for line in lines:
        parts = line.split(None, 7)
        if len(parts) == 8 and parts[7].startswith("/"):
            base = os.path.basename(parts[7])
            if base.startswith("hookd-") and base.endswith(".sock"):
                dirs.append(os.path.dirname(parts[7]))
    return list(dict.fromkeys(dirs))


def _pin_ancestors(plan: MountPlan, path: str, ws: str) -> None:
    """Mark every existing directory between the workspace and ``path`` to be bound onto itself."""
    cur = os.path.dirname(path)
    while cur != ws and _under(cur, ws):
        if cur not in plan.pinned and cur not in plan.protected:
            plan.pinned.append(cur)
        cur = os.path.dirname(cur)


def _missing_ancestors(path: str, stop: str) -> list[str]:
    """Directories from ``path`` up to (not including) ``stop`` that do not exist yet, deepest first."""
    out = []
    cur = path
    while _under(cur, stop) and cur != stop and not os.path.exists(cur):
        out.append(cur)
        cur = os.path.dirname(cur)
    return out


def check_absent_protected(plan: MountPlan) -> list[str]:
    """After the run: protected files that appeared are removed; returns what was removed."""
    removed = []
    for path in plan.absent_protected:
        if os.path.lexists(path):
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    import shutil  # rare path: keep it off the start-up cost

                    shutil.rmtree(path)
                else:
                    os.unlink(path)
                removed.append(path)
            except OSError:
                removed.append(path + " (could not remove)")
    return removed


def post_run_violations(plan: MountPlan, workspace: str) -> list[str]:
    """Everything the run changed that it must not have, repaired where possible (see integrity.py)."""
    problems = [f"created protected path {p} (removed)" for p in check_absent_protected(plan)]
    problems += verify_and_restore(plan.fingerprints)
    if not plan.git_dirs_before:
        ws = os.path.realpath(workspace)
        why = planted_git_dir(ws)
        if why:  # a repository created inside whose next host `git status` would run its code
            aside = f"{ws}/.git.warden-quarantine"
            try:
                os.rename(os.path.join(ws, ".git"), aside)
                problems.append(f"created a git repository that would run code ({why}); moved to {aside}")
            except OSError as exc:
                problems.append(f"created a git repository that would run code ({why}); could not move it:"
                                f" {exc.strerror}")
    return problems


def remove_placeholders(plan: MountPlan) -> None:
    for path in plan.placeholders:  # deepest first
        try:
            os.rmdir(path)
        except OSError:
            pass

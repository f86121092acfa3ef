"""Install and remove Warden's hook entries in Claude Code's settings.json files.

Merging rules, chosen so a user's own configuration is never disturbed:
* Warden's entries are recognised by their command (``... warden hook claude-code ...``); nothing
  else is ever touched, reordered or reformatted beyond JSON re-serialisation.
* Installing twice is a no-op; installing from another path replaces the old Warden entries.
* Every write is atomic, and a file that existed is first copied to a timestamped backup under
  ``$WARDEN_HOME/backups/claude-code/`` (never beside the file: ``.claude/`` is committed).
* Uninstall removes exactly Warden's entries; when what remains equals a backup taken at install
  time, that backup's bytes are restored, so unrelated settings come back byte for byte.

The hook command fails closed on its own: Claude Code lets a tool run when a hook command is
missing or exits 1, so the installed command checks that ``warden`` exists and turns any failure of
it into exit 2 with a message that says how to install Warden. A project's settings are committed,
so they name ``warden`` on ``PATH`` (portable across machines); user and local settings stay on this
machine and name this installation's absolute path.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# event -> matcher (None: the event takes no matcher)
EVENTS: dict[str, str | None] = {
    "PreToolUse": "*",
    "PostToolUse": "*",
    "UserPromptSubmit": None,
    "SessionStart": None,
    "SessionEnd": None,
    "Stop": None,
    "PermissionRequest": "*",
}
# Where a failing hook must not block: exit 2 on Stop means "keep going", which would loop the agent.
NON_BLOCKING = ("Stop", "SessionEnd")
INSTALL_HINT = ("install it (pipx install warden, or `make install` in a Warden checkout and put its .venv/bin on "
                "PATH), or remove the hooks with `warden uninstall claude-code`")
HOOK_TIMEOUT = 30  # seconds; Warden's own deadline (8 s) answers first, failing closed
# A queued approval waits in the PermissionRequest hook (in its own process, not the daemon) for
# up to its `expires`; Warden's deadline there ends the wait with a deny before Claude Code's timeout.
APPROVAL_DEADLINE = 1800
APPROVAL_TIMEOUT = APPROVAL_DEADLINE + 60
_OURS = re.compile(r"""(^|[/\s'"])warden['"]?\s+hook\s+claude-code(\s|$)""")
BACKUP_SUFFIX = ".warden-backup-"


class SettingsError(Exception):
    """The settings file cannot be merged safely; the message says what to fix."""


@dataclass
class Change:
    path: Path
    changed: bool
    backup: Path | None
    added: list[str]
    removed: int
    deleted_file: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"settings": str(self.path), "changed": self.changed,
                "backup": str(self.backup) if self.backup else None, "events": self.added,
                "removed_entries": self.removed, "deleted_file": self.deleted_file}


def settings_path(scope: str, project_dir: str | None = None, environ: dict[str, str] | None = None) -> Path:
    environ = dict(os.environ) if environ is None else environ
    if scope == "user":
        config = environ.get("CLAUDE_CONFIG_DIR")
        base = Path(config) if config else Path(environ.get("HOME") or Path.home()) / ".claude"
        return base / "settings.json"
    if scope == "local":
        return Path(project_dir or os.getcwd()) / ".claude" / "settings.local.json"
    return Path(project_dir or os.getcwd()) / ".claude" / "settings.json"


def warden_command(portable: bool = False) -> str:
    """The ``warden`` to run: by name on PATH when ``portable`` (committed settings), else this
    installation's absolute console script."""
    if portable:
        return "warden"
    candidates = [Path(sys.executable).parent / "warden"]
    if sys.argv and sys.argv[0]:
        candidates.append(Path(sys.argv[0]))
    for c in candidates:
        if c.name == "warden" and c.is_file() and os.access(c, os.X_OK):
            return shlex.quote(str(c.resolve()))
    found = shutil.which("warden")
    return shlex.quote(str(Path(found).resolve())) if found else "warden"


def hook_command(warden: str, blocking: bool = True, args: str = "") -> str:
    """A shell command that runs ``WARDEN hook claude-code`` and fails closed without it.

    Missing or not executable: exit 2 (Claude Code blocks the call and shows the message). Any
    exit other than 0 and 2 (a crash, a broken install): exit 2 as well. ``blocking=False`` (Stop,
    SessionEnd) warns with exit 1 instead, which Claude Code shows without looping the agent.
    """
    code = 2 if blocking else 1
    missing = f"Warden blocked this: {warden} is not installed on this machine (or not on PATH); {INSTALL_HINT}"
    broken = f"Warden blocked this: warden hook claude-code failed; run warden doctor, or {INSTALL_HINT}"
    probe = f"command -v {warden} >/dev/null 2>&1" if warden == "warden" else f"[ -x {warden} ]"
    return (f"{probe} || {{ echo {shlex.quote(missing)} >&2; exit {code}; }}; "
            f"{warden} hook claude-code{' ' + args if args else ''} || {{ rc=$?; [ $rc -eq 2 ] && exit 2; "
            f"echo {shlex.quote(broken)} \"(exit $rc)\" >&2; exit {code}; }}")


def is_ours(hook: Any) -> bool:
    command = hook.get("command") if isinstance(hook, dict) else None
    return isinstance(command, str) and bool(_OURS.search(command))


def _load(path: Path) -> tuple[dict[str, Any], bytes | None]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not raw.strip():
        return {}, raw
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SettingsError(f"{path} is not valid JSON ({exc}); fix or move it, then retry") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must hold a JSON object, found {type(data).__name__}")
    hooks = data.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise SettingsError(f"{path}: \"hooks\" must be an object of event -> list; fix it by hand first")
    return data, raw


def _strip(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A copy of ``data`` without Warden's entries (empty groups/events/hooks removed)."""
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return data, 0
    removed = 0
    new_hooks: dict[str, Any] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            new_hooks[event] = groups
            continue
        new_groups = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(inner, list):
                new_groups.append(group)
                continue
            kept = [h for h in inner if not is_ours(h)]
            removed += len(inner) - len(kept)
            if kept:
                new_groups.append({**group, "hooks": kept})
            elif len(inner) == 0:
                new_groups.append(group)
        if new_groups or not groups:
            new_hooks[event] = new_groups
    out = dict(data)
    if new_hooks or not hooks:
        out["hooks"] = new_hooks
    else:
        del out["hooks"]
    return out, removed


def _with_ours(data: dict[str, Any], warden: str) -> dict[str, Any]:
    out = dict(data)
    hooks = dict(out.get("hooks") or {})
    for event, matcher in EVENTS.items():
        group: dict[str, Any] = {}
        if matcher is not None:
            group["matcher"] = matcher
        if event == "PermissionRequest":  # a queued approval waits here, in its own process
            command = hook_command(warden, True, f"--deadline {APPROVAL_DEADLINE} --no-daemon")
            group["hooks"] = [{"type": "command", "command": command, "timeout": APPROVAL_TIMEOUT}]
        else:
            command = hook_command(warden, blocking=event not in NON_BLOCKING)
            group["hooks"] = [{"type": "command", "command": command, "timeout": HOOK_TIMEOUT}]
        existing = hooks.get(event)
        if existing is not None and not isinstance(existing, list):
            raise SettingsError(f"hooks.{event} must be a list; fix it by hand first")
        # Warden goes first so its deny is on record before other hooks act on the call.
        hooks[event] = [group, *(existing or [])]
    out["hooks"] = hooks
    return out


def _dump(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def backup_dir(path: Path, environ: dict[str, str] | None = None) -> Path:
    """Backups of one settings file live under $WARDEN_HOME, keyed by the file's real path."""
    import hashlib

    from warden.adapters.policy_files import warden_home

    tag = hashlib.sha256(os.path.realpath(path).encode()).hexdigest()[:16]
    return warden_home(environ) / "backups" / "claude-code" / tag


def _backup(path: Path, raw: bytes) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    where = backup_dir(path)
    where.mkdir(parents=True, exist_ok=True)
    (where / "SOURCE").write_text(os.path.realpath(path) + "\n")
    backup = where / f"{path.name}{BACKUP_SUFFIX}{stamp}"
    n = 1
    while backup.exists():
        if backup.read_bytes() == raw:
            return backup
        n += 1
        backup = where / f"{path.name}{BACKUP_SUFFIX}{stamp}-{n}"
    backup.write_bytes(raw)
    return backup


def _mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return None


def install(path: Path, warden: str | None = None, *, portable: bool = False) -> Change:
    """``warden``: the program the hooks run (default: see :func:`warden_command`)."""
    warden = warden or warden_command(portable)
    data, raw = _load(path)
    base, removed = _strip(data)
    new = _with_ours(base, warden)
    if new == data:
        return Change(path, False, None, list(EVENTS), 0)
    backup = _backup(path, raw) if raw is not None else None
    _write_atomic(path, _dump(new), _mode(path))
    return Change(path, True, backup, list(EVENTS), removed)


def uninstall(path: Path) -> Change:
    data, raw = _load(path)
    if raw is None:
        return Change(path, False, None, [], 0)
    new, removed = _strip(data)
    if removed == 0:
        return Change(path, False, None, [], 0)
    restored = _matching_backup(path, new)
    if restored is not None:
        _write_atomic(path, restored, _mode(path))
    elif not new and _created_by_install(path):
        path.unlink()
        return Change(path, True, None, [], removed, deleted_file=True)
    else:
        _write_atomic(path, _dump(new), _mode(path))
    return Change(path, True, None, [], removed)


def _backups(path: Path) -> list[Path]:
    return sorted(backup_dir(path).glob(f"{path.name}{BACKUP_SUFFIX}*"), reverse=True)


def _matching_backup(path: Path, content: dict[str, Any]) -> bytes | None:
    """Bytes of the newest backup whose JSON equals ``content`` (formatting preserved)."""
    for backup in _backups(path):
        try:
            raw = backup.read_bytes()
            if (json.loads(raw.decode("utf-8")) if raw.strip() else {}) == content:
                return raw
        except (OSError, ValueError, UnicodeDecodeError):
            continue
    return None


def _created_by_install(path: Path) -> bool:
    # No backup means the file did not exist before Warden wrote it.
    return not _backups(path)


# --- the interface `warden install AGENT` uses for every agent (see warden.integrations.agents) ---

SCOPES = ("project", "user", "local")
NEXT_STEP = "Claude Code picks the hooks up at its next start; check with `warden doctor`."


def install_scope(scope: str, directory: str | None, command: str | None, environ: dict[str, str] | None = None,
                  trust_project: bool = False) -> list[Change]:
    # trust_project: Claude Code loads a project's hooks without a separate trust step. Project
    # settings are committed, so they name `warden` on PATH (portable).
    return [install(settings_path(scope, directory, environ), command, portable=scope == "project")]


def uninstall_scope(scope: str, directory: str | None, environ: dict[str, str] | None = None) -> list[Change]:
    return [uninstall(settings_path(scope, directory, environ))]

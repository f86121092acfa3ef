"""Install and remove Warden's hook entries in an agent's JSON hooks file.

Claude Code's settings.json, Codex's hooks.json, Gemini's settings.json, Copilot's
``.github/hooks/*.json`` and Cursor's hooks.json all hold ``"hooks": {event: [...]}``; a
:class:`HookSpec` says how one agent spells its entries. Merging rules, chosen so a user's own
configuration is never disturbed:

* Warden's entries are recognised by their command (``... warden hook AGENT ...``); nothing else
  is ever touched, reordered or reformatted beyond JSON re-serialisation.
* Installing twice is a no-op; installing from another path replaces the old Warden entries.
* Every write is atomic, and a file that existed is first copied to a timestamped backup
  (``NAME.warden-backup-YYYYmmddTHHMMSS``).
* Uninstall removes exactly Warden's entries; when what remains equals a backup taken at install
  time, that backup's bytes are restored, so unrelated settings come back byte for byte.
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BACKUP_SUFFIX = ".warden-backup-"


class SettingsError(Exception):
    """The settings file cannot be merged safely; the message says what to fix."""


@dataclass(frozen=True)
class HookSpec:
    """How one agent spells Warden's hook entries in its JSON hooks file."""

    agent: str  # as in `warden hook AGENT`
    events: Mapping[str, str | None]  # event -> matcher (None: the event takes no matcher)
    handler: Callable[[str, str], dict[str, Any]]  # (command, event) -> one hook handler object
    grouped: bool = True  # event -> [{matcher, hooks: [handler]}]; False: event -> [handler]
    first: bool = True  # Warden's entry goes first; False appends (keeps others' positions stable)
    command_key: str = "command"  # the handler field holding the command line
    top: Mapping[str, Any] = field(default_factory=dict)  # top-level keys the file must carry

    def is_ours(self, handler: Any) -> bool:
        command = handler.get(self.command_key) if isinstance(handler, dict) else None
        pattern = r"""(^|[/\s'"])warden['"]?\s+hook\s+""" + re.escape(self.agent) + r"(\s|$)"
        return isinstance(command, str) and bool(re.search(pattern, command))


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


def warden_command(agent: str) -> str:
    """Absolute command for the hook: this installation's ``warden`` script."""
    candidates = [Path(sys.executable).parent / "warden"]
    if sys.argv and sys.argv[0]:
        candidates.append(Path(sys.argv[0]))
    for c in candidates:
        if c.name == "warden" and c.is_file() and os.access(c, os.X_OK):
            return f"{shlex.quote(str(c.resolve()))} hook {agent}"
    found = shutil.which("warden")
    if found:
        return f"{shlex.quote(str(Path(found).resolve()))} hook {agent}"
    # No console script (running from source): the interpreter can still reach the module.
    return f"{shlex.quote(sys.executable)} -m warden hook {agent}"


def load(path: Path) -> tuple[dict[str, Any], bytes | None]:
    """The file's JSON object (``{}`` when absent or empty) and its raw bytes (None when absent)."""
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


def _strip_grouped(groups: list[Any], spec: HookSpec) -> tuple[list[Any], int]:
    removed = 0
    new_groups = []
    for group in groups:
        inner = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(inner, list):
            new_groups.append(group)
            continue
        kept = [h for h in inner if not spec.is_ours(h)]
        removed += len(inner) - len(kept)
        if kept:
            new_groups.append({**group, "hooks": kept})
        elif len(inner) == 0:
            new_groups.append(group)
    return new_groups, removed


def strip(data: dict[str, Any], spec: HookSpec) -> tuple[dict[str, Any], int]:
    """A copy of ``data`` without Warden's entries (empty groups/events/hooks removed)."""
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return data, 0
    removed = 0
    new_hooks: dict[str, Any] = {}
    for event, entries in hooks.items():
        if not isinstance(entries, list):
            new_hooks[event] = entries
            continue
        if spec.grouped:
            kept, n = _strip_grouped(entries, spec)
        else:
            kept = [h for h in entries if not spec.is_ours(h)]
            n = len(entries) - len(kept)
        removed += n
        if kept or not entries:
            new_hooks[event] = kept
    out = dict(data)
    if new_hooks or not hooks:
        out["hooks"] = new_hooks
    else:
        del out["hooks"]
    if removed and not new_hooks:
        for key, value in spec.top.items():  # keys Warden added only because the format needs them
            if out.get(key) == value and len(out) == 1:
                del out[key]
    return out, removed


def with_ours(data: dict[str, Any], spec: HookSpec, command: str) -> dict[str, Any]:
    out = {**spec.top, **data} if not data else dict(data)  # format keys only for a file Warden creates
    hooks = dict(out.get("hooks") or {})
    for event, matcher in spec.events.items():
        entry: dict[str, Any] = spec.handler(command, event)
        if spec.grouped:
            group: dict[str, Any] = {}
            if matcher is not None:
                group["matcher"] = matcher
            group["hooks"] = [entry]
            entry = group
        existing = hooks.get(event)
        if existing is not None and not isinstance(existing, list):
            raise SettingsError(f"hooks.{event} must be a list; fix it by hand first")
        # First by default, so Warden's deny is on record before other hooks act on the call.
        hooks[event] = [entry, *(existing or [])] if spec.first else [*(existing or []), entry]
    out["hooks"] = hooks
    return out


def dump(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_atomic(path: Path, data: bytes, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
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


def backup(path: Path, raw: bytes) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}{BACKUP_SUFFIX}{stamp}")
    n = 1
    while target.exists():
        if target.read_bytes() == raw:
            return target
        n += 1
        target = path.with_name(f"{path.name}{BACKUP_SUFFIX}{stamp}-{n}")
    target.write_bytes(raw)
    return target


def mode_of(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return None


def install(path: Path, spec: HookSpec, command: str | None = None) -> Change:
    command = command or warden_command(spec.agent)
    data, raw = load(path)
    base, removed = strip(data, spec)
    new = with_ours(base, spec, command)
    if new == data:
        return Change(path, False, None, list(spec.events), 0)
    saved = backup(path, raw) if raw is not None else None
    write_atomic(path, dump(new), mode_of(path))
    return Change(path, True, saved, list(spec.events), removed)


def uninstall(path: Path, spec: HookSpec) -> Change:
    data, raw = load(path)
    if raw is None:
        return Change(path, False, None, [], 0)
    new, removed = strip(data, spec)
    if removed == 0:
        return Change(path, False, None, [], 0)
    restored = matching_backup(path, new)
    if restored is not None:
        write_atomic(path, restored, mode_of(path))
    elif not new and not backups(path):  # no backup: the file did not exist before Warden wrote it
        path.unlink()
        return Change(path, True, None, [], removed, deleted_file=True)
    else:
        write_atomic(path, dump(new), mode_of(path))
    return Change(path, True, None, [], removed)


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}{BACKUP_SUFFIX}*"), reverse=True)


def matching_backup(path: Path, content: dict[str, Any]) -> bytes | None:
    """Bytes of the newest backup whose JSON equals ``content`` (formatting preserved)."""
    for candidate in backups(path):
        try:
            raw = candidate.read_bytes()
            if (json.loads(raw.decode("utf-8")) if raw.strip() else {}) == content:
                return raw
        except (OSError, ValueError, UnicodeDecodeError):
            continue
    return None


def installed_entries(data: Mapping[str, Any], spec: HookSpec) -> dict[str, list[tuple[int, int, dict[str, Any]]]]:
    """event -> [(group index, handler index, handler)] for each of Warden's entries in ``data``."""
    found: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return found
    for event, entries in hooks.items():
        if not isinstance(entries, list):
            continue
        for gi, entry in enumerate(entries):
            inner = entry.get("hooks") if spec.grouped and isinstance(entry, dict) else [entry]
            if not isinstance(inner, list):
                continue
            for hi, handler in enumerate(inner):
                if spec.is_ours(handler):
                    found.setdefault(event, []).append((gi, hi if spec.grouped else 0, handler))
    return found

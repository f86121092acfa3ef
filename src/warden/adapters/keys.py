"""Secret keys kept outside any database: ``$WARDEN_HOME/keys/<name>.key`` (mode 0600).

A key file holds 32 random bytes as hex. Creation is race-free across processes: the key is
written to a private temporary file and hard-linked into place, so a reader sees either no file
or a complete one, and concurrent creators agree on the first key that landed.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

KEY_BYTES = 32


class KeyError_(Exception):
    """A key is missing, unreadable or malformed; the message says what to do."""


class MissingKeyError(KeyError_):
    pass


def warden_home(explicit: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    raw = explicit or env.get("WARDEN_HOME") or "~/.warden"
    return Path(os.path.expanduser(str(raw)))


def key_path(home: str | os.PathLike[str], name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"invalid key name {name!r}")
    return Path(home) / "keys" / f"{name}.key"


def load_key(home: str | os.PathLike[str], name: str) -> bytes:
    path = key_path(home, name)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise MissingKeyError(f"key file {path} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyError_(f"cannot read key file {path}: {exc}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise KeyError_(f"key file {path} is not a hex key; restore it from your backup") from None
    if len(key) < 16:
        raise KeyError_(f"key file {path} holds {len(key)} bytes; at least 16 are required")
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            os.chmod(path, 0o600)  # others must never read a MAC key; tighten rather than refuse
    except OSError:
        pass
    return key


def load_or_create_key(home: str | os.PathLike[str], name: str) -> bytes:
    """Return the key ``name``, creating it (0600, in a 0700 directory) on first use."""
    path = key_path(home, name)
    try:
        return load_key(home, name)
    except MissingKeyError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic and fails if another process won the race
        except FileExistsError:
            pass
        _fsync_dir(path.parent)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return load_key(home, name)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""Key store: named secret keys under ``$WARDEN_HOME/keys`` (fingerprints, MACs).

A key is 32 random bytes in ``<warden_home>/keys/<name>.key``, mode 0600, directory 0700,
created on first use. Creation is race-safe (O_EXCL): two processes starting at once end
up with the same key. A key file that is not 32 bytes, or readable by others, is refused
with a message saying how to fix it, instead of silently weakening every fingerprint.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

from warden.ports import KeyStore, KeyStoreError

__all__ = ["KEY_BYTES", "FileKeyStore", "KeyStoreError", "MemoryKeyStore", "default_warden_home",
           "load_or_create_key"]

KEY_BYTES = 32
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class FileKeyStore(KeyStore):
    """The :class:`~warden.ports.KeyStore` port over ``<warden_home>/keys`` (see the module doc)."""

    def __init__(self, warden_home: str | os.PathLike[str]) -> None:
        self.home = Path(warden_home)

    def get_key(self, name: str) -> bytes:
        return load_or_create_key(self.home, name)


class MemoryKeyStore(KeyStore):
    """Keys that live only as long as this object (tests, embedded guards that keep no state)."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}

    def get_key(self, name: str) -> bytes:
        _check_name(name)
        return self._keys.setdefault(name, secrets.token_bytes(KEY_BYTES))


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise KeyStoreError(f"invalid key name {name!r}: use lower-case letters, digits, '.', '_' or '-'")


def default_warden_home(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    return Path(env.get("WARDEN_HOME") or Path.home() / ".warden").expanduser()


def load_or_create_key(warden_home: str | os.PathLike[str], name: str) -> bytes:
    _check_name(name)
    directory = Path(warden_home) / "keys"
    path = directory / f"{name}.key"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return _read(path)
    except OSError as exc:
        raise KeyStoreError(f"cannot create key {path}: {exc.strerror}; set WARDEN_HOME to a writable directory") from None
    try:
        os.write(fd, secrets.token_bytes(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise KeyStoreError(f"cannot read key {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyStoreError(f"key {path} is accessible by other users; run: chmod 600 {path}")
        data = b""
        # A concurrent creator may not have written yet: read until the key is complete.
        for _ in range(50):
            data = os.pread(fd, KEY_BYTES + 1, 0)
            if len(data) >= KEY_BYTES:
                break
            import time

            time.sleep(0.01)
    finally:
        os.close(fd)
    if len(data) != KEY_BYTES:
        raise KeyStoreError(f"key {path} is {len(data)} bytes, expected {KEY_BYTES}; move it away to create a new one")
    return data

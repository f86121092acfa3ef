"""The server's side of signed policy bundles: the Ed25519 signing key under the server's $WARDEN_HOME,
its rotation, and the bundles it signs (format and checks: :mod:`warden.core.bundle`).

Files in the server home, shared by every replica (a secret mount: see docs/server.md):

  bundle-signing.key                    the current private key (PKCS#8 PEM, 0600), made on first start
  bundle-signing.key.retired-<key id>   keys rotated away from, kept so old hand-overs stay explainable
  bundle-key-chain.json                 the rotation statements, oldest first, each signed by the old key

A running server re-reads these when they change (one stat per request), so a rotation made on one
replica or with ``warden server rotate-bundle-key`` on the host is used by all of them at once.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from warden.core.bundle import bundle_body, canonical, key_id, policy_version, rotation_body

KEY_FILE = "bundle-signing.key"
RETIRED_PREFIX = f"{KEY_FILE}.retired-"
CHAIN_FILE = "bundle-key-chain.json"
LOCK_FILE = ".bundle-signing.lock"


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class BundleSigner:
    """The server's signing key and rotation chain; thread-safe; re-read when the files change."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._lock = threading.Lock()
        self._stamps: tuple[Any, Any] | None = None
        self._published: tuple[str, int] = ("", 0)  # (version, issued_at) of the policy text now served
        path = home / KEY_FILE
        if not path.exists():
            try:
                _write_new(path, _pem(Ed25519PrivateKey.generate()))
            except FileExistsError:  # another worker made it first: use theirs
                pass
        self._reload()

    # -- keys ------------------------------------------------------------------------------------
    def _reload(self) -> None:
        """Load the key, then the chain: a rotation writes the chain first, so whoever sees the new key
        also sees the statement that hands over to it."""
        key_path, chain_path = self.home / KEY_FILE, self.home / CHAIN_FILE
        stamps = (_stamp(key_path), _stamp(chain_path))
        if stamps == self._stamps:
            return
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{key_path} is not an Ed25519 private key; move it away and restart to make a new one")
        chain: list[dict[str, Any]] = []
        if chain_path.exists():
            raw = json.loads(chain_path.read_text(encoding="utf-8"))
            chain = list(raw.get("chain", [])) if isinstance(raw, dict) else []
        self._key, self.public_raw, self.key_id = loaded, _raw(loaded), key_id(_raw(loaded))
        self._chain = chain
        self._stamps = stamps

    def _current(self) -> tuple[Ed25519PrivateKey, str, list[dict[str, Any]]]:
        with self._lock:
            self._reload()
            return self._key, self.key_id, self._chain

    def public(self) -> dict[str, Any]:
        key, kid, chain = self._current()
        return {"alg": "Ed25519", "key_id": kid, "public_key": base64.b64encode(_raw(key)).decode(),
                "chain": chain}

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        fd = os.open(self.home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # one rotation at a time, across processes and replicas' hosts
            yield
        finally:
            os.close(fd)

    def rotate(self, now: float | None = None) -> dict[str, Any]:
        """Make a new key, keep the old one as retired, and publish "old hands over to new", signed by the
        old key. Returns the statement. Safe against a concurrent rotation (a file lock)."""
        at = int(now if now is not None else time.time())
        with self._exclusive(), self._lock:
            self._stamps = None
            self._reload()  # the key in force now, whoever rotated last
            old = self._key
            new = Ed25519PrivateKey.generate()
            old_b64, new_b64 = (base64.b64encode(_raw(k)).decode() for k in (old, new))
            body = rotation_body(old_b64, new_b64, at)
            statement = {"statement": body, "signature": base64.b64encode(old.sign(canonical(body))).decode()}
            retired = self.home / f"{RETIRED_PREFIX}{key_id(_raw(old))}"
            if not retired.exists():
                _write_new(retired, _pem(old))
            _replace(self.home / CHAIN_FILE, json.dumps({"chain": [*self._chain, statement]}, indent=1).encode())
            _replace(self.home / KEY_FILE, _pem(new))
            self._stamps = None
            self._reload()
            return statement

    def retired(self) -> list[str]:
        return sorted(p.name[len(RETIRED_PREFIX):] for p in self.home.glob(f"{RETIRED_PREFIX}*"))

    # -- bundles ---------------------------------------------------------------------------------
    def bundle(self, policy_file: str | None, issued_at: Callable[[str], int | None] | None = None) -> dict[str, Any]:
        """The central policy, signed. ``issued_at(version)``: when the policy store published that version
        (the same on every replica). Without one, it is when this process first served the current text. Either
        way the same version signs to the same bytes on every pull, and a change (or a revert to an older text)
        gets a newer time than anything served before: clients refuse a bundle older than theirs."""
        text = Path(policy_file).read_text(encoding="utf-8") if policy_file else ""
        key, kid, _ = self._current()
        version = policy_version(text)
        published = issued_at(version) if issued_at is not None else None
        with self._lock:
            if self._published[0] != version:
                self._published = (version, max(int(time.time()), self._published[1] + 1))
            when = published if published is not None else self._published[1]
        body = bundle_body(text, Path(policy_file).name if policy_file else "", when)
        return {"bundle": body, "signature": base64.b64encode(key.sign(canonical(body))).decode(), "key_id": kid}

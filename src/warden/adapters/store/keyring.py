"""The audit log's two keys, both outside the database.

* ``audit-mac``: HMAC-SHA256 key sealing every event. Symmetric and fast (an append pays one
  HMAC over a 64-byte hash), but whoever can verify with it could also forge.
* ``audit-signing``: Ed25519 seed that signs checkpoints of the chain head. Signing is rare
  (every N events, at rotation, in evidence packs), and its *public* key lets an auditor who
  receives an evidence pack check the chain up to a signed head without being able to forge
  anything. That is why checkpoints use Ed25519 and not the HMAC key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from warden.adapters.keys import KeyStoreError, load_or_create_key
from warden.core.audit import key_id

MAC_KEY = "audit-mac"
SIGNING_KEY = "audit-signing"


class AuditKeyError(Exception):
    """An audit key is unreadable or malformed; the message says what to do."""


class MissingKeyError(AuditKeyError):
    """The key file does not exist (and must not be created silently for an existing log)."""


def key_file(home: str | os.PathLike[str], name: str) -> Path:
    return Path(home) / "keys" / f"{name}.key"


def load_key(home: str | os.PathLike[str], name: str) -> bytes:
    """Load an existing key; never creates one."""
    if not key_file(home, name).exists():
        raise MissingKeyError(f"key file {key_file(home, name)} is missing")
    try:
        return load_or_create_key(home, name)
    except KeyStoreError as exc:
        raise AuditKeyError(str(exc)) from None


def create_key(home: str | os.PathLike[str], name: str) -> bytes:
    try:
        return load_or_create_key(home, name)
    except KeyStoreError as exc:
        raise AuditKeyError(str(exc)) from None


def _ed25519():  # imported lazily: ~40 ms, paid only when signing or checking a checkpoint
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519


def check_signature(public_key_hex: str, payload: bytes, signature: bytes) -> bool:
    ed = _ed25519()
    from cryptography.exceptions import InvalidSignature

    try:
        ed.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(signature, payload)
    except (InvalidSignature, ValueError):
        return False
    return True


RETIRED_PREFIX = f"{MAC_KEY}.retired-"


def _write_key_file(path: Path, key: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)


def rotate_mac_key(home: str | os.PathLike[str]) -> tuple[str, str]:
    """Retire the current MAC key (kept to verify old events) and switch to a fresh one.

    The retired copy is durable before the switch, and the switch is an atomic rename, so a
    concurrent hook sees either key, never none. Returns (old key id, new key id).
    """
    import secrets

    home = Path(home)
    old = load_key(home, MAC_KEY)
    retired = key_file(home, f"{RETIRED_PREFIX}{key_id(old)}")
    if not retired.exists():
        _write_key_file(retired, old)
    new = secrets.token_bytes(len(old))
    tmp = key_file(home, f".{MAC_KEY}.{os.getpid()}.tmp")
    _write_key_file(tmp, new)
    os.replace(tmp, key_file(home, MAC_KEY))
    dfd = os.open(key_file(home, MAC_KEY).parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return key_id(old), key_id(new)


@dataclass
class AuditKeys:
    home: Path
    mac_key: bytes
    retired: dict[str, bytes] | None = None  # key id -> retired MAC key (verifies older events)
    _seed: bytes | None = None
    _public: str | None = None

    @property
    def kid(self) -> str:
        cached = self.__dict__.get("_kid")
        if cached is None or cached[0] is not self.mac_key:  # computed once per key, not per append
            cached = (self.mac_key, key_id(self.mac_key))
            self.__dict__["_kid"] = cached
        return cached[1]

    @property
    def mac_keys(self) -> dict[str, bytes]:
        return {**(self.retired or {}), self.kid: self.mac_key}

    @classmethod
    def load(cls, home: str | os.PathLike[str], *, create: bool) -> AuditKeys:
        home = Path(home)
        mac = create_key(home, MAC_KEY) if create else load_key(home, MAC_KEY)
        retired: dict[str, bytes] = {}
        for path in sorted((home / "keys").glob(f"{RETIRED_PREFIX}*.key")):
            key = load_key(home, path.name[: -len(".key")])
            retired[key_id(key)] = key
        return cls(home, mac, retired)

    def _signing_seed(self) -> bytes:
        if self._seed is None:
            self._seed = create_key(self.home, SIGNING_KEY)[:32]
        return self._seed

    def _private(self):
        return _ed25519().Ed25519PrivateKey.from_private_bytes(self._signing_seed())

    @property
    def public_key(self) -> str:
        if self._public is None:
            from cryptography.hazmat.primitives import serialization

            raw = self._private().public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self._public = raw.hex()
            pub = self.home / "keys" / f"{SIGNING_KEY}.pub"
            if not pub.exists():
                try:
                    pub.write_text(self._public + "\n", encoding="ascii")
                except OSError:
                    pass  # the public key is a convenience copy; it is always derivable
        return self._public

    def sign(self, payload: bytes) -> bytes:
        return self._private().sign(payload)

    def trusted_public_keys(self) -> list[str] | None:
        """Public keys whose checkpoints we accept: ours; ``None`` (any, with a warning) without one."""
        try:
            load_key(self.home, SIGNING_KEY)
        except AuditKeyError:
            return None
        return [self.public_key]

"""Signed policy bundles: the server's central policy, versioned and signed with an Ed25519 key kept under the
server's $WARDEN_HOME, so a client can check that what it caches as its managed layer came from its server.

The signature covers the canonical JSON of the bundle (sorted keys, no spaces), which carries the policy
text, its version (SHA-256 of the text) and when it was issued. Clients pin the public key the first time
they log in (:mod:`warden.cli.server`); a bundle that does not verify against the pinned key is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "bundle-signing.key"


def canonical(bundle: dict[str, Any]) -> bytes:
    return json.dumps(bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


class BundleSigner:
    """The server's signing key: created (0600) on first start, reused after; replicas share it by sharing
    the file (see docs/server.md)."""

    def __init__(self, home: Path) -> None:
        path = home / KEY_FILE
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pem)
            except FileExistsError:  # another worker made it first: use theirs
                pass
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key; move it away and restart to make a new one")
        self._key = loaded
        self.public_raw = loaded.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = key_id(self.public_raw)

    def public(self) -> dict[str, str]:
        return {"alg": "Ed25519", "key_id": self.key_id, "public_key": base64.b64encode(self.public_raw).decode()}

    def bundle(self, policy_file: str | None) -> dict[str, Any]:
        text = Path(policy_file).read_text(encoding="utf-8") if policy_file else ""
        body = {"format": 1, "policy": text, "source": Path(policy_file).name if policy_file else "",
                "version": hashlib.sha256(text.encode()).hexdigest()[:16], "issued_at": int(time.time())}
        sig = self._key.sign(canonical(body))
        return {"bundle": body, "signature": base64.b64encode(sig).decode(), "key_id": self.key_id}


def verify(signed: Any, public_key_b64: str) -> dict[str, Any]:
    """The bundle inside ``signed`` when its signature verifies against the pinned key; ValueError otherwise."""
    from cryptography.exceptions import InvalidSignature

    if not isinstance(signed, dict) or not isinstance(signed.get("bundle"), dict):
        raise ValueError("the server's answer is not a policy bundle")
    body = signed["bundle"]
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64)).verify(
            base64.b64decode(str(signed.get("signature", ""))), canonical(body))
    except (InvalidSignature, ValueError) as exc:
        raise ValueError("the policy bundle's signature does not verify against the server key pinned at login "
                         f"({type(exc).__name__})") from None
    if not isinstance(body.get("policy"), str) or hashlib.sha256(body["policy"].encode()).hexdigest()[:16] != \
            body.get("version"):
        raise ValueError("the policy bundle's version does not match its text")
    return body

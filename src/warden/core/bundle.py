"""Signed policy bundles and signing-key rotation: the format, defined once, and how to check it.

Pure: the server signs with it (:mod:`warden.server.bundle`), the client checks what it pulls with it
(:mod:`warden.integrations.server_client.bundle`) and re-checks what it cached before every load
(:mod:`warden.adapters.server_bundle`). No I/O here; ``cryptography`` is imported only when a
signature is actually checked (~15-30 ms, which the load-time cache exists to avoid).

A **bundle** is ``{"bundle": body, "signature", "key_id"}``: Ed25519 over the canonical JSON of
``body = {"format", "policy", "source", "version", "issued_at"}``; ``version`` is the first 16 hex
digits of SHA-256 of the policy text, ``issued_at`` when the server first published that version.

A **rotation statement** is ``{"statement": {"format", "kind", "from_key_id", "from_public_key",
"to_key_id", "to_public_key", "at"}, "signature"}``, signed by the *old* key: "key K1 hands over to
K2 at T". A client pinned to K1 follows the chain K1 -> K2 -> ... statement by statement, each one
checked with the key before it, and only then trusts a bundle signed by the last key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FORMAT = 1
ROTATION_KIND = "warden-bundle-key-rotation"
NOT_PINNED = "the policy bundle's signature does not verify against the server key pinned at login"


class BundleInvalid(ValueError):
    """A bundle, statement or chain that must not be trusted; the message says why."""


class Downgrade(BundleInvalid):
    """A validly signed bundle that is older than what this machine already accepted."""


def canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def key_id_b64(public_b64: str) -> str:
    return key_id(_b64(public_b64, "public key"))


def policy_version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def bundle_body(text: str, source: str, issued_at: int) -> dict[str, Any]:
    return {"format": FORMAT, "policy": text, "source": source, "version": policy_version(text),
            "issued_at": int(issued_at)}


def rotation_body(from_public_b64: str, to_public_b64: str, at: int) -> dict[str, Any]:
    return {"format": FORMAT, "kind": ROTATION_KIND, "from_key_id": key_id_b64(from_public_b64),
            "from_public_key": from_public_b64, "to_key_id": key_id_b64(to_public_b64),
            "to_public_key": to_public_b64, "at": int(at)}


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise BundleInvalid(f"the {what} is not base64") from None


def signature_ok(public_b64: str, signature_b64: Any, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(_b64(public_b64, "public key")).verify(
            _b64(signature_b64, "signature"), message)
    except (InvalidSignature, BundleInvalid, ValueError):
        return False
    return True


def verify(signed: Any, public_key_b64: str) -> dict[str, Any]:
    """The bundle body inside ``signed`` when its signature verifies against ``public_key_b64``."""
    if not isinstance(signed, dict) or not isinstance(signed.get("bundle"), dict):
        raise BundleInvalid("the server's answer is not a policy bundle")
    body = signed["bundle"]
    if not signature_ok(public_key_b64, signed.get("signature", ""), canonical(body)):
        raise BundleInvalid(NOT_PINNED)
    if not isinstance(body.get("policy"), str) or policy_version(body["policy"]) != body.get("version"):
        raise BundleInvalid("the policy bundle's version does not match its text")
    if not isinstance(body.get("issued_at"), int) or isinstance(body.get("issued_at"), bool):
        raise BundleInvalid("the policy bundle has no issued_at time")
    return body


def follow_chain(pin_b64: str, chain: Sequence[Any], target_key_id: str) -> str:
    """The public key (base64) with id ``target_key_id``, reached from the pinned key through
    ``chain``, each statement verified with the key before it; BundleInvalid when there is no such path.

    A statement that does not verify is not skipped silently: the walk cannot pass it, so a forged
    hand-over ends the walk and the bundle signed by the forger's key is refused."""
    current, at = pin_b64, -1
    if key_id_b64(current) == target_key_id:
        return current
    by_from: dict[str, list[dict[str, Any]]] = {}
    for item in chain:
        stmt = item.get("statement") if isinstance(item, dict) else None
        if isinstance(stmt, dict) and isinstance(stmt.get("from_public_key"), str):
            by_from.setdefault(stmt["from_public_key"], []).append(item)
    for _ in range(len(chain)):
        step = None
        for item in by_from.get(current, []):
            stmt = item["statement"]
            if (stmt.get("kind") == ROTATION_KIND and isinstance(stmt.get("to_public_key"), str)
                    and isinstance(stmt.get("at"), int) and stmt["at"] >= at
                    and stmt.get("from_key_id") == key_id_b64(current)
                    and stmt.get("to_key_id") == key_id_b64(stmt["to_public_key"])
                    and signature_ok(current, item.get("signature", ""), canonical(stmt))):
                step = stmt
                break
        if step is None:
            break
        current, at = step["to_public_key"], step["at"]
        if key_id_b64(current) == target_key_id:
            return current
    raise BundleInvalid(f"{NOT_PINNED}, and no rotation statement signed by that key hands over to key "
                        f"{target_key_id}")


@dataclass(frozen=True)
class Accepted:
    """What this machine accepted last: the high-water mark a new bundle must not go below."""

    version: str = ""
    issued_at: int = 0


def judge(body: dict[str, Any], accepted: Accepted) -> bool:
    """True when ``body`` is a new version to take, False when it is the one already accepted;
    :class:`Downgrade` when it is a different version not newer than the accepted one (a replayed
    or rolled-back bundle: an old policy, signed then, served again)."""
    if body["version"] == accepted.version:
        return False
    if accepted.version and body["issued_at"] <= accepted.issued_at:
        raise Downgrade(f"the server offered policy version {body['version']} issued at {body['issued_at']}, "
                        f"which is not newer than version {accepted.version} issued at {accepted.issued_at} that "
                        "this machine already accepted (a replayed or rolled-back bundle)")
    return True

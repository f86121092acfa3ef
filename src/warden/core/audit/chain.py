"""Hash chain, per-event MAC, signed checkpoints, and the verifier.

Each stored record is::

    hash = SHA-256("warden.audit.v1\\n" seq "\\n" prev_hash "\\n" SHA-256(canonical_body))
    mac  = HMAC-SHA256(key, hash)

Hashing the body's digest (not the body) lets a proof *elide* events: an evidence pack for one
session carries the other sessions' records as digests only, and the chain still verifies.

``prev_hash`` links a record to the one before it (``GENESIS`` for the first), so editing,
deleting, inserting or reordering an event breaks the chain at that position. The hash alone
can be recomputed by anyone who edits the database; the MAC cannot without the key, which is
kept outside the database. Truncating the tail leaves a valid prefix, which is why the chain
head is periodically *checkpointed*: an Ed25519 signature over (seq, hash) kept both in the
store and in a file beside the key. Signature creation and checking are passed in as
callables so the core needs no crypto library and no key file.

Rotation never restarts the chain: a new segment's first record links to the previous
segment's last hash. Pruning old segments keeps their closing checkpoint as the *anchor* the
remaining chain is verified from.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from warden.core.audit.canonical import canonical_bytes, canonical_json

GENESIS = "0" * 64
_DOMAIN = b"warden.audit.v1\n"
_CHECKPOINT_DOMAIN = b"warden.audit.checkpoint.v1\n"


@dataclass(frozen=True, slots=True)
class Head:
    """The last record of the chain (``seq`` 0 and ``GENESIS`` for an empty log)."""

    seq: int = 0
    hash: str = GENESIS


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    prev_hash: str
    hash: str
    mac: str
    key_id: str
    body: str  # canonical JSON text of the event, stored verbatim ("" when elided)
    segment: int = 1
    body_sha256: str = ""  # set instead of body when the event is elided from a proof

    def body_digest(self) -> str:
        if self.body_sha256 and not self.body:
            return self.body_sha256
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()

    def elided(self) -> Record:
        return Record(self.seq, self.prev_hash, self.hash, self.mac, self.key_id, "", self.segment,
                      self.body_digest())

    def to_json(self) -> dict[str, Any]:
        out = {"seq": self.seq, "prev_hash": self.prev_hash, "hash": self.hash, "mac": self.mac,
               "key_id": self.key_id, "segment": self.segment}
        if self.body or not self.body_sha256:
            out["body"] = self.body
        else:
            out["body_sha256"] = self.body_sha256
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Record:
        return cls(seq=int(obj["seq"]), prev_hash=str(obj["prev_hash"]), hash=str(obj["hash"]),
                   mac=str(obj["mac"]), key_id=str(obj["key_id"]), body=str(obj.get("body", "")),
                   segment=int(obj.get("segment", 1)), body_sha256=str(obj.get("body_sha256", "")))


def key_id(key: bytes) -> str:
    """A public fingerprint of a MAC key, so a record names the key that sealed it."""
    return hashlib.sha256(b"warden.audit.key\n" + key).hexdigest()[:16]


def chain_hash(seq: int, prev_hash: str, body_digest: str) -> str:
    """Hash of one link; ``body_digest`` is the hex SHA-256 of the canonical body."""
    return hashlib.sha256(b"%s%d\n%s\n%s" % (_DOMAIN, seq, prev_hash.encode("ascii", "replace"),
                                              body_digest.encode("ascii", "replace"))).hexdigest()


def event_mac(key: bytes, hash_hex: str) -> str:
    return hmac.digest(key, hash_hex.encode("ascii", "replace"), "sha256").hex()


def seal(event: Mapping[str, Any], head: Head, key: bytes, *, segment: int = 1, kid: str | None = None) -> Record:
    """Turn an event into the next record after ``head``. Pure; the store supplies head and key."""
    body = canonical_json(event)
    seq = head.seq + 1
    digest = chain_hash(seq, head.hash, hashlib.sha256(body.encode("utf-8")).hexdigest())
    return Record(seq=seq, prev_hash=head.hash, hash=digest, mac=event_mac(key, digest),
                  key_id=kid or key_id(key), body=body, segment=segment)


# --- checkpoints -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement "the chain had ``seq`` records ending in ``hash``"."""

    seq: int
    hash: str
    segment: int
    created_at: str
    reason: str  # periodic | rotate | evidence | manual
    public_key: str  # hex Ed25519 public key
    signature: str  # hex

    def payload(self) -> bytes:
        return checkpoint_payload(self.seq, self.hash, self.segment, self.created_at, self.reason, self.public_key)

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "segment": self.segment, "created_at": self.created_at,
                "reason": self.reason, "public_key": self.public_key, "signature": self.signature}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Checkpoint:
        return cls(seq=int(obj["seq"]), hash=str(obj["hash"]), segment=int(obj.get("segment", 1)),
                   created_at=str(obj.get("created_at", "")), reason=str(obj.get("reason", "")),
                   public_key=str(obj["public_key"]), signature=str(obj["signature"]))


def checkpoint_payload(seq: int, hash_hex: str, segment: int, created_at: str, reason: str,
                       public_key: str) -> bytes:
    return _CHECKPOINT_DOMAIN + canonical_bytes(
        {"seq": seq, "hash": hash_hex, "segment": segment, "created_at": created_at, "reason": reason,
         "public_key": public_key})


def make_checkpoint(head: Head, *, segment: int, created_at: str, reason: str, public_key: str,
                    sign: Callable[[bytes], bytes]) -> Checkpoint:
    payload = checkpoint_payload(head.seq, head.hash, segment, created_at, reason, public_key)
    return Checkpoint(head.seq, head.hash, segment, created_at, reason, public_key, sign(payload).hex())


SignatureCheck = Callable[[str, bytes, bytes], bool]  # (public_key_hex, payload, signature) -> valid


# --- verification ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Break:
    """The first place the log stops being trustworthy."""

    seq: int  # the sequence number where verification failed
    index: int  # 0-based position in the iterated records
    kind: str  # edited | deleted | inserted | reordered | forged | truncated | unknown_key | checkpoint | corrupt
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "index": self.index, "kind": self.kind, "message": self.message}


@dataclass(slots=True)
class VerifyReport:
    ok: bool
    count: int
    first_seq: int
    last_seq: int
    head_hash: str
    checkpoints: int = 0  # signed checkpoints that were checked against the chain
    anchor: Head | None = None
    broken: Break | None = None
    warnings: list[str] = field(default_factory=list)
    pruned: tuple[int, int] | None = None  # the seq range archived away, when the log starts at an anchor

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.count,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "checkpoints_checked": self.checkpoints,
            "anchor": {"seq": self.anchor.seq, "hash": self.anchor.hash} if self.anchor else None,
            "broken": self.broken.to_json() if self.broken else None,
            "warnings": list(self.warnings),
            "pruned": list(self.pruned) if self.pruned else None,
        }


class ChainVerifier:
    """Streams records in ``seq`` order and stops at the first break.

    ``keys`` maps key ids to MAC keys. With ``keys=None`` only the keyless checks run (hash
    chain and signed checkpoints), which is what a third party holding an evidence pack and the
    public key can do.
    """

    def __init__(self, keys: Mapping[str, bytes] | None, anchor: Head | None = None,
                 want_hashes: Iterable[int] = ()) -> None:
        self._keys = keys
        self._anchor = anchor
        self._prev = anchor or Head()
        self._index = 0
        self._first_seq = 0
        self._want = set(want_hashes)
        self.seen_hashes: dict[int, str] = {}
        self.broken: Break | None = None

    def feed(self, r: Record) -> bool:
        """Check one record; returns False (and sets ``broken``) at the first problem."""
        if self.broken is not None:
            return False
        prev = self._prev
        expected = prev.seq + 1
        idx = self._index
        if r.seq != expected:
            if r.seq > expected:
                if idx == 0 and self._anchor is None:
                    msg = (f"the log starts at seq {r.seq}: events 1..{r.seq - 1} were deleted "
                           "(or pruned without keeping the signed anchor)")
                else:
                    msg = f"events {expected}..{r.seq - 1} are missing before seq {r.seq} (deleted, or moved later)"
                return self._fail(expected, idx, "deleted", msg)
            return self._fail(r.seq, idx, "reordered",
                              f"seq {r.seq} appears after seq {prev.seq}: events are out of order or duplicated")
        body = r.body_digest()
        if chain_hash(r.seq, r.prev_hash, body) != r.hash:
            moved = _original_seq(r, body)
            if moved is not None:
                return self._fail(r.seq, idx, "reordered",
                                  f"the event stored as seq {r.seq} was written as seq {moved}: "
                                  "events were reordered")
            return self._fail(r.seq, idx, "edited",
                              f"event {r.seq} does not match its hash: its content or header was edited")
        if r.prev_hash != prev.hash:
            return self._fail(r.seq, idx, "inserted",
                              f"event {r.seq} does not link to event {prev.seq}: an event was inserted, "
                              "deleted and renumbered, or replaced here")
        if self._keys is not None:
            key = self._keys.get(r.key_id)
            if key is None:
                return self._fail(r.seq, idx, "unknown_key",
                                  f"event {r.seq} is sealed with key id {r.key_id}, which is not available; "
                                  "restore that key file to verify")
            if not hmac.compare_digest(event_mac(key, r.hash), r.mac):
                return self._fail(r.seq, idx, "forged",
                                  f"event {r.seq} has a consistent hash but a wrong MAC: it was written or "
                                  "rewritten without the audit key")
        if idx == 0:
            self._first_seq = r.seq
        if r.seq in self._want:
            self.seen_hashes[r.seq] = r.hash
        self._prev = Head(r.seq, r.hash)
        self._index = idx + 1
        return True

    def feed_many(self, records: Iterable[Record]) -> bool:
        """:meth:`feed` for a stream: a tight loop for intact records (verification runs over
        whole logs), falling back to :meth:`feed` for the diagnosis at the first anomaly."""
        if self.broken is not None:
            return False
        sha256, hdigest, compare = hashlib.sha256, hmac.digest, hmac.compare_digest
        keys, want, seen = self._keys, self._want, self.seen_hashes
        prev_seq, prev_hash, idx = self._prev.seq, self._prev.hash, self._index
        kid, key = None, None
        try:
            for r in records:
                seq, body = r.seq, r.body
                digest = sha256(body.encode("utf-8")).hexdigest() if (body or not r.body_sha256) else r.body_sha256
                ok = seq == prev_seq + 1 and r.prev_hash == prev_hash and sha256(
                    b"%s%d\n%s\n%s" % (_DOMAIN, seq, prev_hash.encode("ascii", "replace"),
                                        digest.encode("ascii", "replace"))).hexdigest() == r.hash
                if ok and keys is not None:
                    if r.key_id != kid:
                        kid, key = r.key_id, keys.get(r.key_id)
                    ok = key is not None and compare(
                        hdigest(key, r.hash.encode("ascii", "replace"), "sha256").hex(), r.mac)
                if not ok:
                    self._prev, self._index = Head(prev_seq, prev_hash), idx
                    if not self.feed(r):
                        return False
                    prev_seq, prev_hash, idx = self._prev.seq, self._prev.hash, self._index
                    continue
                if idx == 0:
                    self._first_seq = seq
                if seq in want:
                    seen[seq] = r.hash
                prev_seq, prev_hash, idx = seq, r.hash, idx + 1
        finally:  # the source may raise mid-stream (a damaged page, an index mismatch): keep what verified
            if self.broken is None:
                self._prev, self._index = Head(prev_seq, prev_hash), idx
        return True

    def stop(self, kind: str, message: str) -> None:
        """Record a break right after the last good record (e.g. the store became unreadable)."""
        if self.broken is None:
            self.broken = Break(self._prev.seq + 1, self._index, kind, message)

    def stop_at(self, seq: int, kind: str, message: str) -> None:
        """Record a break at the last record fed (it passed the chain but failed a check outside it)."""
        if self.broken is None:
            self._index = max(0, self._index - 1)
            self.broken = Break(seq, self._index, kind, message)

    def _fail(self, seq: int, idx: int, kind: str, message: str) -> bool:
        self.broken = Break(seq, idx, kind, message)
        return False

    def finish(self, checkpoints: Iterable[Checkpoint] = (), check_signature: SignatureCheck | None = None,
               trusted_public_keys: Iterable[str] | None = None) -> VerifyReport:
        """Close the stream: check signed checkpoints (catches truncation and rewrites)."""
        head = self._prev
        report = VerifyReport(ok=False, count=self._index, first_seq=self._first_seq, last_seq=head.seq,
                              head_hash=head.hash, anchor=self._anchor)
        if self.broken is not None:
            report.broken = self.broken
            return report
        trusted = set(trusted_public_keys) if trusted_public_keys is not None else None
        low = self._anchor.seq if self._anchor else 0
        for cp in sorted(checkpoints, key=lambda c: c.seq):
            if check_signature is None:
                report.warnings.append("checkpoint signatures were not checked (no verifier available)")
                break
            if trusted is not None and cp.public_key not in trusted:
                report.broken = Break(cp.seq, self._index, "checkpoint",
                                      f"checkpoint at seq {cp.seq} is signed by an unknown key {cp.public_key[:16]}…")
                return report
            try:
                valid = check_signature(cp.public_key, cp.payload(), bytes.fromhex(cp.signature))
            except ValueError:
                valid = False
            if not valid:
                report.broken = Break(cp.seq, self._index, "checkpoint",
                                      f"checkpoint at seq {cp.seq} has an invalid signature (forged or edited)")
                return report
            if cp.seq > head.seq:
                report.broken = Break(head.seq + 1, self._index, "truncated",
                                      f"a signed checkpoint covers seq {cp.seq} but the log ends at seq "
                                      f"{head.seq}: events {head.seq + 1}..{cp.seq} were removed")
                return report
            if cp.seq < low:
                continue  # pruned with its segment
            actual = self._anchor.hash if (self._anchor and cp.seq == low) else self.seen_hashes.get(cp.seq)
            if cp.seq == 0:
                actual = GENESIS
            if actual is None:
                report.warnings.append(f"checkpoint at seq {cp.seq} was not checked (hash not collected)")
                continue
            if actual != cp.hash:
                report.broken = Break(cp.seq, self._index, "checkpoint",
                                      f"event {cp.seq} differs from the signed checkpoint: the chain was rewritten")
                return report
            report.checkpoints += 1
        report.ok = True
        return report


def _original_seq(r: Record, body: str, radius: int = 16) -> int | None:
    """On a broken link, find whether this record was sealed for a nearby position."""
    for d in range(1, radius + 1):
        for cand in (r.seq + d, r.seq - d):
            if cand > 0 and chain_hash(cand, r.prev_hash, body) == r.hash:
                return cand
    return None


def verify_records(records: Iterable[Record], keys: Mapping[str, bytes] | None, *, anchor: Head | None = None,
                   checkpoints: Iterable[Checkpoint] = (), check_signature: SignatureCheck | None = None,
                   trusted_public_keys: Iterable[str] | None = None) -> VerifyReport:
    cps = list(checkpoints)
    v = ChainVerifier(keys, anchor, want_hashes=(c.seq for c in cps))
    v.feed_many(records)
    return v.finish(cps, check_signature, trusted_public_keys)

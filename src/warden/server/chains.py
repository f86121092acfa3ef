"""Every machine's audit chain as the machine sent it: stored verbatim, checked on arrival, verifiable later.

A machine ships its local records (seq, prev_hash, hash, mac, key_id, body) with an Ed25519 checkpoint
over the batch's last record, signed by the machine's audit-signing key. Before anything is stored:

* each body's digest must recompute the record's hash (:func:`~warden.core.audit.chain_hash`), and the
  records must be consecutive and link to each other;
* the checkpoint must cover the last record and verify against the machine's public key, which is pinned
  on its first ingest (a different key later is refused until an admin resets the machine);
* the first new record must link to the last record the server holds for that machine: a gap is answered
  409 with the seq the server expects (the client resends from there); a different hash at a seq the server
  already holds is a *fork*, refused;
* records the server already holds with the same hash are replays, counted and not stored again.

The per-event HMAC cannot be checked here: it needs the machine's secret MAC key, which never leaves the
machine. The MAC is kept as sent, so the machine (or whoever holds its key) can check the central copy.

A machine's chain has *epochs*: an admin reset closes the current one (kept, still verifiable under its
key) and the next ingest opens a new one, pinning the key it is signed with.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from warden.core.audit import GENESIS, Checkpoint, Head, Record, chain_hash, validate_event
from warden.server.keys import connect, is_postgres

MAX_RECORDS = 5000

# Ordered, append-only, versioned apart from the key table's migrations (own version table).
MIGRATIONS: list[str] = [
    """CREATE TABLE IF NOT EXISTS machine_chains (
         machine TEXT NOT NULL, epoch INTEGER NOT NULL, owner TEXT NOT NULL, public_key TEXT NOT NULL,
         base_seq BIGINT NOT NULL, base_hash TEXT NOT NULL, head_seq BIGINT NOT NULL, head_hash TEXT NOT NULL,
         rechained_seq BIGINT NOT NULL, created DOUBLE PRECISION NOT NULL, closed DOUBLE PRECISION,
         note TEXT NOT NULL DEFAULT '', PRIMARY KEY (machine, epoch))""",
    """CREATE TABLE IF NOT EXISTS machine_records (
         machine TEXT NOT NULL, epoch INTEGER NOT NULL, seq BIGINT NOT NULL, prev_hash TEXT NOT NULL,
         hash TEXT NOT NULL, mac TEXT NOT NULL, key_id TEXT NOT NULL, body TEXT NOT NULL, segment BIGINT NOT NULL,
         shipped_by TEXT NOT NULL, received DOUBLE PRECISION NOT NULL, PRIMARY KEY (machine, epoch, seq))""",
    """CREATE TABLE IF NOT EXISTS machine_checkpoints (
         machine TEXT NOT NULL, epoch INTEGER NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL,
         segment BIGINT NOT NULL, created_at TEXT NOT NULL, reason TEXT NOT NULL, public_key TEXT NOT NULL,
         signature TEXT NOT NULL, received DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS machine_checkpoints_chain ON machine_checkpoints (machine, epoch, seq)",
]

_CHAIN_COLUMNS = ("machine, epoch, owner, public_key, base_seq, base_hash, head_seq, head_hash, rechained_seq, "
                  "created, closed, note")


class IngestRefused(Exception):
    """A batch was refused; ``code`` tells a client what to do (``gap``: resend from ``expected_seq``)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def to_json(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, **self.extra}


@dataclass(frozen=True)
class Chain:
    machine: str
    epoch: int
    owner: str
    public_key: str
    base_seq: int  # the chain as held starts after this (0, or the signed anchor of a pruned prefix)
    base_hash: str
    head_seq: int
    head_hash: str
    rechained_seq: int  # records up to here are also in the server's own audit log
    created: float
    closed: float | None
    note: str

    @property
    def records(self) -> int:
        return self.head_seq - self.base_seq

    def to_json(self) -> dict[str, Any]:
        return {"machine": self.machine, "epoch": self.epoch, "owner": self.owner, "public_key": self.public_key,
                "base": {"seq": self.base_seq, "hash": self.base_hash},
                "head": {"seq": self.head_seq, "hash": self.head_hash}, "records": self.records,
                "rechained_seq": self.rechained_seq, "created": self.created, "closed": self.closed,
                "note": self.note}


@dataclass(frozen=True)
class Batch:
    """A shipped batch that passed every check that needs no database."""

    records: list[Record]
    checkpoint: Checkpoint
    public_key: str
    anchor: Checkpoint | None  # the signed closing checkpoint of a pruned prefix, when the chain starts there
    events: list[dict[str, Any]]  # the records' bodies, parsed (in the same order)


@dataclass(frozen=True)
class Outcome:
    accepted: int
    replayed: int
    chain: Chain


def parse_batch(body: Mapping[str, Any]) -> Batch:
    """Check a batch on its own: records recompute and link, the checkpoint covers and signs the last one."""
    from warden.adapters.store.keyring import check_signature

    raw, pub = body.get("records"), body.get("audit_public_key")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_RECORDS:
        raise IngestRefused(400, "malformed", f"send 1..{MAX_RECORDS} records (Record.to_json() objects, in seq order)")
    if not isinstance(pub, str) or len(pub) != 64:
        raise IngestRefused(400, "malformed", "send audit_public_key: this machine's Ed25519 public key (64 hex digits)")
    try:
        records = [Record.from_json(r) for r in raw]
        cp = Checkpoint.from_json(body["checkpoint"])
        anchor = Checkpoint.from_json(body["anchor"]) if body.get("anchor") else None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IngestRefused(400, "malformed", f"a record or checkpoint is malformed ({exc!r}): send "
                                              "Record.to_json() and Checkpoint.to_json() objects") from None
    prev: Record | None = None
    events = []
    for r in records:
        if not r.body:
            raise IngestRefused(400, "malformed", f"record {r.seq} has no body: ship whole records, not elided ones")
        if prev is not None and r.seq != prev.seq + 1:
            raise IngestRefused(400, "malformed", f"records must be consecutive: seq {r.seq} follows {prev.seq}")
        if chain_hash(r.seq, r.prev_hash, r.body_digest()) != r.hash:
            raise IngestRefused(422, "tampered", f"record {r.seq} does not match its hash: its body or header was "
                                                 "edited after it was sealed; nothing of this batch was stored")
        if prev is not None and r.prev_hash != prev.hash:
            raise IngestRefused(422, "tampered", f"record {r.seq} does not link to record {prev.seq}: a record was "
                                                 "replaced, inserted or removed; nothing of this batch was stored")
        events.append(_check_body(r))
        prev = r
    last = records[-1]
    if cp.public_key != pub or not _signed(cp, check_signature):
        raise IngestRefused(422, "bad_checkpoint", "the batch's checkpoint signature does not verify against "
                                                   "audit_public_key: forged, edited or signed with another key")
    if (cp.seq, cp.hash) != (last.seq, last.hash):
        raise IngestRefused(422, "bad_checkpoint", f"the checkpoint covers seq {cp.seq}, not the batch's last record "
                                                   f"{last.seq} (or its hash differs)")
    if anchor is not None and (anchor.public_key != pub or anchor.reason != "rotate"
                               or not _signed(anchor, check_signature)):
        raise IngestRefused(422, "bad_checkpoint", "the anchor must be this machine's signed rotation checkpoint of "
                                                   "its pruned prefix")
    return Batch(records, cp, pub, anchor, events)


def _signed(cp: Checkpoint, check: Any) -> bool:
    try:
        return bool(check(cp.public_key, cp.payload(), bytes.fromhex(cp.signature)))
    except ValueError:
        return False


def _check_body(r: Record) -> dict[str, Any]:
    try:
        event = json.loads(r.body)
        validate_event(event)
    except (ValueError, TypeError) as exc:
        raise IngestRefused(422, "tampered", f"record {r.seq} does not hold a Warden audit event ({exc}); a local "
                                             "store never seals one, so it was written by something else") from None
    return dict(event)


class MachineChains:
    """The machine_* tables beside the key table (SQLite path or postgresql://...?schema=NAME); thread-safe."""

    def __init__(self, url: str) -> None:
        self.pg = is_postgres(url)
        self._db: Any = connect(url)
        self._lock = threading.Lock()
        self.migrate()

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(self._q(sql), args).fetchall())

    def migrate(self) -> int:
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS chain_schema_version (version INTEGER NOT NULL)")
            rows = self._db.execute("SELECT version FROM chain_schema_version").fetchall()
            if not rows:
                self._db.execute("INSERT INTO chain_schema_version (version) VALUES (0)")
            version = rows[0][0] if rows else 0
            for n, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                self._db.execute(sql)
                self._db.execute(self._q("UPDATE chain_schema_version SET version = ?"), (n,))
        return len(MIGRATIONS)

    @contextmanager
    def _txn(self, machine: str) -> Iterator[Any]:
        """One transaction that no other ingest of the same machine (on any replica) runs beside."""
        with self._lock:
            if self.pg:
                with self._db.transaction():
                    self._db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"warden.machine:{machine}",))
                    yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- reading ---------------------------------------------------------------------------------
    def chain(self, machine: str, epoch: int | None = None) -> Chain | None:
        """The machine's current chain (its latest epoch), or the given epoch."""
        if epoch is None:
            rows = self._rows(f"SELECT {_CHAIN_COLUMNS} FROM machine_chains WHERE machine = ? "
                              "ORDER BY epoch DESC LIMIT 1", (machine,))
        else:
            rows = self._rows(f"SELECT {_CHAIN_COLUMNS} FROM machine_chains WHERE machine = ? AND epoch = ?",
                              (machine, epoch))
        return _chain_row(rows[0]) if rows else None

    def chains(self) -> list[Chain]:
        return [_chain_row(r) for r in self._rows(f"SELECT {_CHAIN_COLUMNS} FROM machine_chains "
                                                  "ORDER BY machine, epoch")]

    def records(self, machine: str, epoch: int, after_seq: int = 0, limit: int = 1000) -> list[Record]:
        rows = self._rows("SELECT seq, prev_hash, hash, mac, key_id, body, segment FROM machine_records "
                          "WHERE machine = ? AND epoch = ? AND seq > ? ORDER BY seq LIMIT ?",
                          (machine, epoch, after_seq, limit))
        return [Record(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), int(r[6])) for r in rows]

    def iter_records(self, machine: str, epoch: int, after_seq: int = 0, page: int = 2000) -> Iterator[Record]:
        while True:
            recs = self.records(machine, epoch, after_seq, page)
            yield from recs
            if len(recs) < page:
                return
            after_seq = recs[-1].seq

    def shipped_by(self, machine: str, epoch: int, seqs: list[int]) -> dict[int, str]:
        if not seqs:
            return {}
        rows = self._rows("SELECT seq, shipped_by FROM machine_records WHERE machine = ? AND epoch = ? "
                          "AND seq >= ? AND seq <= ?", (machine, epoch, min(seqs), max(seqs)))
        return {int(r[0]): str(r[1]) for r in rows}

    def checkpoints(self, machine: str, epoch: int) -> list[Checkpoint]:
        rows = self._rows("SELECT seq, hash, segment, created_at, reason, public_key, signature FROM "
                          "machine_checkpoints WHERE machine = ? AND epoch = ? ORDER BY seq", (machine, epoch))
        return [Checkpoint(int(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4]), str(r[5]), str(r[6])) for r in rows]

    # -- writing ---------------------------------------------------------------------------------
    def ingest(self, machine: str, owner: str, key_id: str, batch: Batch) -> Outcome:
        """Store the batch's new records (all or none); raises :class:`IngestRefused` on a gap, fork or key change."""
        now = time.time()
        with self._txn(machine) as db:
            chain = self._current(db, machine)
            if chain is None or chain.closed is not None:
                chain = self._open(db, machine, owner, batch, chain, now)
            elif chain.owner != owner:
                raise IngestRefused(403, "wrong_owner", f"machine {machine!r} ships under {chain.owner}'s keys; this "
                                                        f"key belongs to {owner}. Use a key issued to {chain.owner}, or "
                                                        "give this machine its own name (warden login --machine NAME)")
            elif chain.public_key != batch.public_key:
                raise IngestRefused(409, "key_changed", (
                    f"machine {machine!r} signs with a different audit key than the one pinned on its first ingest "
                    f"({chain.public_key[:16]}…, now {batch.public_key[:16]}…); refused. If this machine was "
                    f"reinstalled or its keys were replaced on purpose, an admin resets it: POST "
                    f"/v1/evidence/machines/{machine}/reset with {{\"reason\": ...}}; what the server holds stays "
                    "verifiable under the old key"), pinned=chain.public_key)
            held = [r for r in batch.records if r.seq <= chain.head_seq]
            new = [r for r in batch.records if r.seq > chain.head_seq]
            self._check_held(db, chain, held)
            if new:
                chain = self._append(db, chain, new, batch.checkpoint, key_id, now)
        return Outcome(len(new), len(held), chain)

    def _current(self, db: Any, machine: str) -> Chain | None:
        row = db.execute(self._q(f"SELECT {_CHAIN_COLUMNS} FROM machine_chains WHERE machine = ? "
                                 "ORDER BY epoch DESC LIMIT 1"), (machine,)).fetchone()
        return _chain_row(row) if row else None

    def _open(self, db: Any, machine: str, owner: str, batch: Batch, previous: Chain | None, now: float) -> Chain:
        """A machine's first chain, or the next epoch after a reset: where may it start?"""
        first = batch.records[0]
        base = Head()
        if first.seq == 1:
            if first.prev_hash != GENESIS:
                raise IngestRefused(422, "tampered", "record 1 does not start from the genesis hash: it was not "
                                                     "sealed by a Warden audit store")
        elif batch.anchor is not None and (batch.anchor.seq, batch.anchor.hash) == (first.seq - 1, first.prev_hash):
            base = Head(batch.anchor.seq, batch.anchor.hash)  # the machine pruned this prefix before shipping
        elif previous is not None and (previous.head_seq + 1, previous.head_hash) == (first.seq, first.prev_hash):
            base = Head(previous.head_seq, previous.head_hash)  # same chain, new key: continue after the reset
        else:
            raise IngestRefused(409, "gap", f"the server holds no chain for machine {machine!r} yet: send from seq 1 "
                                            "(or with the signed anchor of a pruned prefix)", expected_seq=1,
                                head={"seq": 0, "hash": GENESIS})
        chain = Chain(machine, previous.epoch + 1 if previous else 1, owner, batch.public_key, base.seq, base.hash,
                      base.seq, base.hash, base.seq, now, None, "")
        db.execute(self._q(f"INSERT INTO machine_chains ({_CHAIN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                   (chain.machine, chain.epoch, owner, chain.public_key, base.seq, base.hash, base.seq, base.hash,
                    base.seq, now, None, ""))
        if base.seq and batch.anchor is not None and base.hash == batch.anchor.hash:
            self._insert_checkpoint(db, chain, batch.anchor, now)
        return chain

    def _check_held(self, db: Any, chain: Chain, held: list[Record]) -> None:
        if not held:
            return
        if held[0].seq <= chain.base_seq:
            raise IngestRefused(409, "gap", f"the server's chain for machine {chain.machine!r} starts after seq "
                                            f"{chain.base_seq}; send from seq {chain.head_seq + 1}",
                                expected_seq=chain.head_seq + 1, head=_head(chain))
        rows = db.execute(self._q("SELECT seq, hash FROM machine_records WHERE machine = ? AND epoch = ? AND seq >= ? "
                                  "AND seq <= ?"), (chain.machine, chain.epoch, held[0].seq, held[-1].seq)).fetchall()
        have = {int(s): str(h) for s, h in rows}
        for r in held:
            if have.get(r.seq) != r.hash:
                raise IngestRefused(409, "fork", (
                    f"machine {chain.machine!r} sent a different record at seq {r.seq} than the one the server holds "
                    "(same seq, another hash): its local log was rewritten, restored from an older copy, or started "
                    "anew. Refused and recorded as an alert. If the machine was reinstalled on purpose, an admin "
                    f"resets it: POST /v1/evidence/machines/{chain.machine}/reset"), seq=r.seq, head=_head(chain))

    def _append(self, db: Any, chain: Chain, new: list[Record], cp: Checkpoint, key_id: str, now: float) -> Chain:
        first = new[0]
        if first.seq != chain.head_seq + 1:
            raise IngestRefused(409, "gap", f"the server holds machine {chain.machine!r} up to seq {chain.head_seq}; "
                                            f"resend from seq {chain.head_seq + 1}",
                                expected_seq=chain.head_seq + 1, head=_head(chain))
        if first.prev_hash != chain.head_hash:
            raise IngestRefused(409, "fork", (
                f"record {first.seq} of machine {chain.machine!r} does not link to the record the server holds at seq "
                f"{chain.head_seq}: the local log was rewritten after it shipped. Refused and recorded as an alert"),
                seq=first.seq, head=_head(chain))
        sql = self._q("INSERT INTO machine_records (machine, epoch, seq, prev_hash, hash, mac, key_id, body, segment, "
                      "shipped_by, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        rows = [(chain.machine, chain.epoch, r.seq, r.prev_hash, r.hash, r.mac, r.key_id, r.body, r.segment, key_id,
                 now) for r in new]
        if self.pg:
            with db.cursor() as cur:
                cur.executemany(sql, rows)
        else:
            db.executemany(sql, rows)
        self._insert_checkpoint(db, chain, cp, now)
        last = new[-1]
        db.execute(self._q("UPDATE machine_chains SET head_seq = ?, head_hash = ? WHERE machine = ? AND epoch = ?"),
                   (last.seq, last.hash, chain.machine, chain.epoch))
        return replace(chain, head_seq=last.seq, head_hash=last.hash)

    def _insert_checkpoint(self, db: Any, chain: Chain, cp: Checkpoint, now: float) -> None:
        db.execute(self._q("INSERT INTO machine_checkpoints (machine, epoch, seq, hash, segment, created_at, reason, "
                           "public_key, signature, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                   (chain.machine, chain.epoch, cp.seq, cp.hash, cp.segment, cp.created_at, cp.reason, cp.public_key,
                    cp.signature, now))

    def mark_rechained(self, machine: str, epoch: int, seq: int) -> None:
        with self._txn(machine) as db:
            db.execute(self._q("UPDATE machine_chains SET rechained_seq = ? WHERE machine = ? AND epoch = ? "
                               "AND rechained_seq < ?"), (seq, machine, epoch, seq))

    def reset(self, machine: str, by: str, reason: str) -> Chain | None:
        """Close the machine's current chain; its next ingest opens a new epoch with the key it then signs with."""
        with self._txn(machine) as db:
            chain = self._current(db, machine)
            if chain is None or chain.closed is not None:
                return None
            db.execute(self._q("UPDATE machine_chains SET closed = ?, note = ? WHERE machine = ? AND epoch = ?"),
                       (time.time(), f"reset by {by}: {reason}"[:1000], machine, chain.epoch))
        return self.chain(machine, chain.epoch)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _head(chain: Chain) -> dict[str, Any]:
    return {"seq": chain.head_seq, "hash": chain.head_hash, "epoch": chain.epoch}


def _chain_row(r: tuple[Any, ...]) -> Chain:
    return Chain(str(r[0]), int(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5]), int(r[6]), str(r[7]), int(r[8]),
                 float(r[9]), None if r[10] is None else float(r[10]), str(r[11]))

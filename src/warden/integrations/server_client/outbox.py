"""Ship this machine's audit chain to the team server. The local audit log *is* the durable outbox.

Every event is recorded locally first, and the local chain stays as it is. :func:`ship` sends the records
after a durable cursor — the last seq the server acknowledged, kept in the local log's meta table under a
key naming the server and the machine — as ``POST /v1/events`` batches::

    {"machine": ..., "records": [Record.to_json(), ...], "audit_public_key": HEX,
     "checkpoint": Ed25519 checkpoint over the batch's last (seq, hash), by this machine's audit-signing key,
     "anchor": the signed rotation checkpoint of a pruned prefix (first batch only), "policies": {...}}

Nothing is lost: the cursor moves only after the server acknowledged a batch (which it does only once the
batch is durable), so a server that is down, a 5xx, a timeout or a SIGKILL between sending and moving the
cursor just means the batch is sent again; the server counts records it already holds (same seq, same hash)
as replays and stores each event once. A 409 ``gap`` names the seq the server expects: the cursor moves
there (after checking the server's head hash against the local record) and shipping goes on.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from warden.adapters.store import SqlAuditStore, StoreError, default_db_path, open_store, options_from_env
from warden.adapters.store.keyring import AuditKeys
from warden.core.audit import GENESIS, Checkpoint, Head, Record, make_checkpoint, rfc3339
from warden.integrations.server_client.config import ServerLink, load

CURSOR_PREFIX = "server_outbox:"
LOCK_NAME = "outbox.lock"
MAX_REQUEST_BYTES = 3 * 1024 * 1024  # the server refuses bodies over 4 MiB
TIMEOUT_S = 30.0

__all__ = ["ShipResult", "batch_body", "local_hash", "open_local", "pending", "ship"]


@dataclass
class ShipResult:
    sent: int = 0  # records sent (including resends)
    accepted: int = 0  # records the server stored for the first time
    replayed: int = 0  # records the server already held
    pending: int = 0  # local records the server has not acknowledged yet
    error: str = ""  # "" when fine; otherwise what happened and what to do next


class _Stop(Exception):
    pass


def ship(link: ServerLink, home: Path, environ: Mapping[str, str], *, batch: int = 1000,
         client: httpx.Client | None = None, max_batches: int | None = None) -> ShipResult:
    """Send every local record the server has not acknowledged yet (at most ``max_batches`` requests)."""
    result = ShipResult()
    try:
        store = open_local(home, environ)
    except StoreError as exc:
        result.error = f"the local audit log cannot be opened ({exc}); nothing was shipped"
        return result
    if store is None:
        return result
    http = client or httpx.Client(timeout=TIMEOUT_S)
    try:
        with _lock(home):
            _ship(store, link, http, max(1, batch), max_batches, result)
    except _Stop as stop:
        result.error = str(stop)
    except StoreError as exc:
        result.error = f"the local audit log failed while shipping ({exc}); what was not acknowledged stays queued"
    finally:
        try:
            result.pending = _pending(store, link)
        finally:
            store.close()
            if client is None:
                http.close()
    return result


def pending(home: Path, environ: Mapping[str, str]) -> int:
    """Local events the server has not acknowledged yet (0 when not logged in or nothing is recorded).

    Raises :class:`~warden.integrations.server_client.config.NotLoggedIn` when server.json is unusable and
    :class:`~warden.adapters.store.StoreError` when the local log cannot be opened: both are findings.
    """
    link = load(home)
    if link is None:
        return 0
    store = open_local(home, environ)
    if store is None:
        return 0
    try:
        return _pending(store, link)
    finally:
        store.close()


def open_local(home: Path, environ: Mapping[str, str]) -> SqlAuditStore | None:
    db = environ.get("WARDEN_AUDIT_DB") or None
    if db is None and not default_db_path(home).exists():
        return None  # nothing was ever recorded here
    return open_store(db, home, keys="optional", options=options_from_env(environ), create=False)


@contextmanager
def _lock(home: Path) -> Iterator[None]:
    """One shipper per home at a time (the daemon's link loop and a manual run must not interleave cursors)."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(home / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def cursor_key(link: ServerLink) -> str:
    return f"{CURSOR_PREFIX}{link.url}|{link.machine}"


def _cursor(store: SqlAuditStore, link: ServerLink) -> int:
    raw = store.get_meta(cursor_key(link)) or "0"
    try:
        return int(raw.split()[0])
    except (ValueError, IndexError):
        return 0  # a garbled cursor: resending everything is safe (the server counts replays)


def _save_cursor(store: SqlAuditStore, link: ServerLink, head: Head) -> None:
    store.set_meta(cursor_key(link), f"{head.seq} {head.hash}")


def _pending(store: SqlAuditStore, link: ServerLink) -> int:
    anchor = store.anchor()
    return max(0, store.head().seq - max(_cursor(store, link), anchor.seq if anchor else 0))


def _ship(store: SqlAuditStore, link: ServerLink, http: httpx.Client, batch: int, max_batches: int | None,
          result: ShipResult) -> None:
    keys = store.keys
    if store.head().seq == 0:
        return
    if keys is None:
        raise _Stop("the local audit keys are missing ($WARDEN_HOME/keys/audit-mac.key): batches cannot be signed. "
                    "Restore the key files from your backup")
    anchor = store.anchor()
    low = anchor.seq if anchor else 0
    cursor = _cursor(store, link)
    sent_policies: set[str] = set()
    requests = 0
    while max_batches is None or requests < max_batches:
        start = max(cursor, low)
        recs = _take(store, start, batch)
        if not recs:
            return
        last = recs[-1]
        body = batch_body(link.machine, keys, recs, anchor)
        policies = _policies(store, recs, sent_policies)
        if policies:
            body["policies"] = policies
        try:
            r = http.post(link.url + "/v1/events", json=body, headers=link.headers(), timeout=TIMEOUT_S)
        except httpx.HTTPError as exc:
            raise _Stop(f"cannot reach {link.url} ({type(exc).__name__}: {exc}); the events stay queued in the local "
                        "log and ship on the next try") from None
        requests += 1
        result.sent += len(recs)
        info = _json(r)
        if r.status_code == 200:
            result.accepted += int(info.get("accepted", 0))
            result.replayed += int(info.get("replayed", 0))
            cursor = _acknowledged(store, link, info.get("head") or {}, last)
            continue
        if r.status_code == 409 and info.get("code") == "gap":
            cursor = _rewind(store, link, info, start, low)
            continue
        where = f"records {recs[0].seq}..{last.seq}"
        if r.status_code >= 500 or r.status_code == 429:
            raise _Stop(f"the server could not take {where} now ({r.status_code}: {info.get('error', r.text[:200])}); "
                        "they stay queued and ship on the next try")
        raise _Stop(f"the server refused {where} ({r.status_code} {info.get('code', '')}: "
                    f"{info.get('error', r.text[:300])})")


def batch_body(machine: str, keys: AuditKeys, recs: list[Record], anchor: Checkpoint | None = None) -> dict[str, Any]:
    """The wire form of one batch: the records as stored, signed at their last (seq, hash) by this machine."""
    last = recs[-1]
    cp = make_checkpoint(Head(last.seq, last.hash), segment=last.segment, created_at=rfc3339(time.time()),
                         reason="ship", public_key=keys.public_key, sign=keys.sign)
    body: dict[str, Any] = {"machine": machine, "records": [r.to_json() for r in recs],
                            "audit_public_key": keys.public_key, "checkpoint": cp.to_json()}
    if anchor is not None and recs[0].seq == anchor.seq + 1:
        body["anchor"] = anchor.to_json()  # the chain starts after a pruned prefix: say where, signed
    return body


def _take(store: SqlAuditStore, after: int, batch: int) -> list[Record]:
    out: list[Record] = []
    size = 0
    for r in store.iter_records(after_seq=after, batch=batch):
        size += _wire_size(r.body)
        if out and size > MAX_REQUEST_BYTES:
            break
        out.append(r)
        if len(out) >= batch:
            break
    return out


def _wire_size(body: str) -> int:
    """An upper bound of a record's size in the request: its fields, and its body as an escaped JSON string."""
    wide = len(body.encode("utf-8")) - len(body)  # non-ASCII travels as \uXXXX escapes
    return 400 + len(body) + body.count('"') + body.count("\\") + 6 * wide


def _acknowledged(store: SqlAuditStore, link: ServerLink, head: Mapping[str, Any], last: Record) -> int:
    """Move the cursor to the server's head for this machine, once the local chain agrees with it there."""
    seq, hash_hex = int(head.get("seq", 0)), str(head.get("hash", ""))
    if seq == last.seq and hash_hex == last.hash:
        _save_cursor(store, link, Head(seq, hash_hex))
        return seq
    local = local_hash(store, seq)
    if local is None or local != hash_hex:
        raise _Stop(f"the server's copy of this machine ends at seq {seq} with another hash than the local log "
                    f"({hash_hex[:16]}… vs {str(local)[:16]}…): the chains forked. Nothing more is shipped; ask an "
                    f"admin to check the machine's chain (warden audit verify --server)")
    _save_cursor(store, link, Head(seq, hash_hex))
    return seq


def _rewind(store: SqlAuditStore, link: ServerLink, info: Mapping[str, Any], start: int, low: int) -> int:
    """A 409 gap: continue from the seq the server expects (earlier: resend; later: it already has those)."""
    expected = int(info.get("expected_seq", 1))
    cursor = expected - 1
    if cursor == start:
        raise _Stop(f"the server keeps asking for seq {expected}, which was just sent: {info.get('error', '')}")
    if cursor < low:
        raise _Stop(f"the server expects seq {expected}, but this machine pruned its log up to seq {low} before "
                    f"shipping it: events {expected}..{low} cannot reach the server (they are in the archives "
                    "`warden audit rotate --archive` wrote). An admin can reset the machine's chain on the server")
    if cursor > start:  # the server holds more than the cursor says (e.g. the cursor write was lost)
        head = info.get("head") or {}
        if local_hash(store, cursor) != str(head.get("hash", "")):
            raise _Stop(f"the server holds seq {cursor} of this machine with another hash than the local log: the "
                        "chains forked. Nothing more is shipped (warden audit verify --server)")
    _save_cursor(store, link, Head(cursor, str((info.get("head") or {}).get("hash", ""))))
    return cursor


def local_hash(store: SqlAuditStore, seq: int) -> str | None:
    if seq == 0:
        return GENESIS
    anchor = store.anchor()
    if anchor is not None and seq == anchor.seq:
        return anchor.hash
    for r in store.iter_records(after_seq=seq - 1, batch=1):
        return r.hash if r.seq == seq else None
    return None


def _policies(store: SqlAuditStore, recs: list[Record], sent: set[str]) -> dict[str, Any]:
    """Policy texts named by the batch's decisions (once per ship), so central evidence packs include them."""
    out: dict[str, Any] = {}
    for r in recs:
        # canonical JSON (sorted keys, no spaces): a decision's body holds "policy":{"digest":"...",...}
        for digest in _DIGEST.findall(r.body):
            if digest not in sent:
                sent.add(digest)
                pol = store.policy_texts(digest)
                if pol is not None:
                    out[digest] = {"sources": pol["sources"], "texts": pol["texts"]}
    return out


_DIGEST = re.compile(r'"policy":\{"digest":"([^"\\]+)"')


def _json(r: httpx.Response) -> dict[str, Any]:
    try:
        data = r.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}

"""Verifying what the server holds, and evidence packs from it (behind ``/v1/evidence``).

Both read the central log through a connection of their own (a full scan must not hold the recorder's
write path, and SQLite gives it a consistent snapshot), opened the way every other reader opens it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from warden.adapters.store import SqlAuditStore, StoreError, open_store, options_from_env
from warden.adapters.store.keyring import check_signature
from warden.core.audit import ChainVerifier, Checkpoint, Head, Record
from warden.server.chains import Chain, MachineChains
from warden.server.keys import Principal

Origins = dict[tuple[str, int, int], tuple[str, str]]  # (machine, epoch, seq) -> (event id, hash) in the log


def open_central(server: Any) -> SqlAuditStore:
    try:
        return open_store(server.env.get("WARDEN_AUDIT_DB") or None, server.config.home, keys="optional",
                          options=options_from_env(server.env), create=False)
    except StoreError as exc:
        raise HTTPException(503, f"the server's audit log cannot be opened: {exc}") from None


def visible(chains: list[Chain], who: Principal) -> list[Chain]:
    """Auditors and admins see every machine; an agent sees the machines its owner ships."""
    return chains if who.can("auditor") else [c for c in chains if c.owner == who.owner]


def verify_all(server: Any, evidence: Any, who: Principal, machine: str = "") -> dict[str, Any]:
    # Chains first, the log second: every record a chain says is re-chained is then in the snapshot read.
    chains = [c for c in visible(evidence.chains.chains(), who) if not machine or c.machine == machine]
    store = open_central(server)
    try:
        central = store.verify()
        signed = sign_head(store)
        ids, origins = central_index(store)
    finally:
        store.close()
    reports = [verify_chain(evidence.chains, c, ids, origins) for c in chains]
    return {"ok": central.ok and all(r["ok"] for r in reports), "central": central.to_json(),
            "checkpoint": signed.to_json() if signed else None, "machines": reports}


def sign_head(store: SqlAuditStore) -> Checkpoint | None:
    """The server's signed statement over everything it has: its newest checkpoint, made now if the head moved."""
    head = store.head()
    signed = [c for c in store.checkpoints() if not c.public_key.startswith("hmac:")]
    if signed and signed[-1].seq == head.seq:
        return signed[-1]
    if store.keys is None:
        return signed[-1] if signed else None
    return store.checkpoint("verify")


def central_index(store: SqlAuditStore) -> tuple[set[str], Origins]:
    ids: set[str] = set()
    origins: Origins = {}
    for ev in store.iter_events():
        origin = ev.get("origin")
        if isinstance(origin, dict) and "seq" in origin:
            ids.add(str(ev.get("id")))
            key = (str(origin.get("machine")), int(origin.get("epoch") or 1), int(origin["seq"]))
            origins.setdefault(key, (str(ev.get("id")), str(origin.get("hash"))))
    return ids, origins


def verify_chain(chains: MachineChains, chain: Chain, ids: set[str], origins: Origins) -> dict[str, Any]:
    """One machine chain: recompute and link every record, check its checkpoints against the pinned key,
    and find each re-chained record's event in the server's log with the same hash."""
    cps = [c for c in chains.checkpoints(chain.machine, chain.epoch) if c.seq <= chain.head_seq]
    anchor = Head(chain.base_seq, chain.base_hash) if chain.base_seq else None
    v = ChainVerifier(None, anchor, want_hashes=(c.seq for c in cps))
    missing: list[int] = []
    differs: list[int] = []

    def feed() -> Iterator[Record]:
        for r in chains.iter_records(chain.machine, chain.epoch, after_seq=chain.base_seq):
            if r.seq > chain.head_seq:
                return  # arrived after this check started
            if r.seq <= chain.rechained_seq:
                held = origins.get((chain.machine, chain.epoch, r.seq))
                if held is not None and held[1] != r.hash:
                    differs.append(r.seq)
                elif held is None and _event_id(r) not in ids:
                    missing.append(r.seq)
            yield r

    v.feed_many(feed())
    report = v.finish(cps, check_signature, [chain.public_key])
    problems: list[str] = []
    if report.ok and (report.last_seq, report.head_hash) != (chain.head_seq, chain.head_hash):
        problems.append(f"the records end at seq {report.last_seq} but the server acknowledged seq {chain.head_seq}: "
                        "records were removed from the server's copy")
    if differs:
        problems.append(f"{len(differs)} event(s) in the server's log carry another hash than the machine's record "
                        f"(first at seq {differs[0]}): the server's log or the machine copy was rewritten")
    if missing:
        problems.append(f"{len(missing)} record(s) held for this machine are missing from the server's log (first "
                        f"at seq {missing[0]})")
    warnings = ["per-event MACs are kept as sent, not checked: that needs the machine's secret MAC key"]
    if chain.rechained_seq < chain.head_seq:
        warnings.append(f"records {chain.rechained_seq + 1}..{chain.head_seq} are still being copied into the "
                        "server's log")
    if chain.base_seq:
        warnings.append(f"the chain starts after seq {chain.base_seq}: the machine pruned that prefix before it "
                        "shipped it (anchored by its signed rotation checkpoint)")
    ok = report.ok and not problems
    return {**chain.to_json(), "ok": ok, "verified": report.to_json(), "problems": problems,
            "warnings": warnings + report.warnings}


def _event_id(r: Record) -> str:
    try:
        return str(json.loads(r.body).get("id"))
    except (ValueError, AttributeError):
        return ""


def _owns(event: dict[str, Any], who: Principal) -> bool:
    origin = event.get("origin")
    if isinstance(origin, dict) and origin.get("owner"):
        return origin.get("owner") == who.owner
    return (event.get("actor") or {}).get("id") == who.owner


def central_pack(server: Any, who: Principal, session: str) -> bytes:
    """The zip `warden audit evidence` writes, built from the central log and signed by the server's key."""
    from warden.adapters.evidence import build_pack
    from warden.adapters.store import Filters

    if not session.strip():
        raise HTTPException(400, "name a session: ?session=ID (the audit explorer lists them)")
    store = open_central(server)
    try:
        events = store.query(Filters(session=session))
        if events and not who.can("auditor") and not all(_owns(e, who) for e in events):
            server.audit_refusal(who, f"evidence pack for session {session} refused: it holds others' events")
            events = []
        if not events:
            raise HTTPException(404, f"no session {session!r} among the events your key may read")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "pack.zip"
            try:
                build_pack(store, session, out)
            except StoreError as exc:
                raise HTTPException(503, f"the evidence pack could not be built: {exc}") from None
            return out.read_bytes()
    finally:
        store.close()

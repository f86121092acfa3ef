"""Central evidence: every machine's chain in (``POST /v1/events`` with ``records``), proofs out (``/v1/evidence``).

Ingest stores the records as sent (:mod:`warden.server.chains`), then *re-chains* their events into the
server's own audit log, each stamped with ``origin`` {machine, epoch, key, owner, seq, hash, recorded_at}
so the audit explorer, queries, dashboards and evidence packs see every machine. The two steps are not
one transaction (the tables live in different stores), so re-chaining is idempotent and resumable: the
server's log takes an event only if it does not hold its id yet (checked inside its write lock), and a
per-chain watermark (``rechained_seq``) says how far it got. A crash between the steps is repaired by the
next ingest of that machine, or at start-up. A batch is acknowledged only after both steps.

=====================================  ================  =============================================
endpoint                               roles             what
=====================================  ================  =============================================
``GET /v1/evidence/key``               any key           the server's audit-signing public key
``GET /v1/evidence/machines``          auditor, agent    chains held (an agent sees its own machines)
``GET /v1/evidence/verify``            auditor, agent    verify the central log and every machine chain
``GET /v1/evidence/pack?session=``     auditor; agent,   an evidence pack (zip) from the central log;
                                       developer (own)   others' sessions are refused
``POST /v1/evidence/machines/M/reset`` admin             close M's chain (new key, reinstalled machine)
=====================================  ================  =============================================
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from warden.core.audit import Record
from warden.server import api_schema as doc
from warden.server.chains import Chain, IngestRefused, MachineChains, parse_batch
from warden.server.keys import Principal

RECHAIN_PAGE = 1000


class Evidence:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.chains = MachineChains(server.config.keys_url or str(server.config.home / "server.db"))
        self.catch_up()

    # -- ingest ----------------------------------------------------------------------------------
    def ingest(self, body: Mapping[str, Any], who: Principal) -> dict[str, Any]:
        machine = str(body.get("machine") or who.owner)[:200]
        try:
            batch = parse_batch(body)
            out = self.chains.ingest(machine, who.owner, who.key_id, batch)
        except IngestRefused as exc:
            self.server.counters["refused_requests"] += 1
            self._audit_refusal(machine, who, exc)
            raise
        self._remember_policies(body.get("policies"))
        c = out.chain
        try:
            if out.accepted and c.rechained_seq == c.head_seq - out.accepted:  # the usual case: straight on
                fresh = batch.records[-out.accepted:]
                self._copy(c, fresh, batch.events[-out.accepted:], dict.fromkeys((r.seq for r in fresh), who.key_id))
            else:
                self.rechain(c)
        except Exception as exc:  # noqa: BLE001 — the records are held; the next ingest finishes the job
            raise IngestRefused(503, "unavailable", f"the records were stored but the server's audit log could not "
                                                    f"take their events ({exc}); resend later, nothing is lost") from None
        self.server.counters["events_ingested"] += out.accepted
        self.server.counters["events_replayed"] += out.replayed
        self.server.keys.seen(machine, who.owner)
        c = out.chain
        return {"accepted": out.accepted, "replayed": out.replayed, "refused": [],
                "head": {"seq": c.head_seq, "hash": c.head_hash, "epoch": c.epoch}}

    def rechain(self, chain: Chain) -> int:
        """Copy the chain's held records after its watermark into the server's log; returns events appended."""
        seq, appended = chain.rechained_seq, 0
        while seq < chain.head_seq:
            recs = self.chains.records(chain.machine, chain.epoch, after_seq=seq, limit=RECHAIN_PAGE)
            if not recs:
                break
            shipped = self.chains.shipped_by(chain.machine, chain.epoch, [r.seq for r in recs])
            appended += self._copy(chain, recs, [json.loads(r.body) for r in recs], shipped)
            seq = recs[-1].seq
        return appended

    def _copy(self, chain: Chain, recs: list[Record], events: list[dict[str, Any]], shipped: dict[int, str]) -> int:
        """Stamp each event with where it came from and append the ones the server's log lacks."""
        for r, ev in zip(recs, events, strict=True):
            ev["origin"] = {"machine": chain.machine, "epoch": chain.epoch, "key": shipped.get(r.seq, ""),
                            "owner": chain.owner, "seq": r.seq, "hash": r.hash,
                            "recorded_at": ev.pop("recorded_at", "")}
        appended = len(self.server.recorder.record_new(events))
        # the old {"events": [...]} path dedupes by this table: it must see these ids as replays
        self.server.keys.first_ingest_many([str(e["id"]) for e in events], chain.machine)
        self.chains.mark_rechained(chain.machine, chain.epoch, recs[-1].seq)
        return appended

    def catch_up(self) -> None:
        """After a crash between storing records and re-chaining them: finish the re-chaining."""
        for chain in self.chains.chains():
            if chain.rechained_seq < chain.head_seq:
                try:
                    self.rechain(chain)
                except Exception:  # noqa: BLE001 — the next ingest of that machine retries
                    pass

    def _remember_policies(self, policies: Any) -> None:
        """The policy texts the shipped decisions name by digest, so central evidence packs can include them."""
        if not isinstance(policies, dict):
            return
        for digest, pol in list(policies.items())[:50]:
            if isinstance(pol, dict) and isinstance(pol.get("texts"), dict):
                texts = {str(k): str(v) for k, v in pol["texts"].items()}
                self.server.recorder.remember_policy(str(digest), texts, [str(s) for s in pol.get("sources") or []])

    def _audit_refusal(self, machine: str, who: Principal, exc: IngestRefused) -> None:
        from warden.core.audit import error_event

        where = "server.evidence.fork" if exc.code == "fork" else "server.evidence.refused"
        prefix = "ALERT: " if exc.code in ("fork", "tampered", "bad_checkpoint", "key_changed") else ""
        try:
            self.server.recorder.record(error_event(
                where=where, error=f"{prefix}machine {machine}: {exc.code}: {exc.message}", started_at=time.time(),
                actor={"id": who.owner, "agent": "", "roles": [who.role]}))
        except Exception:  # noqa: BLE001 — the refusal stands even if it cannot be recorded
            pass

    def reset(self, machine: str, who: Principal, reason: str) -> dict[str, Any]:
        from warden.core.audit import control_event

        closed = self.chains.reset(machine, who.owner, reason)
        if closed is None:
            raise HTTPException(404, f"machine {machine!r} has no open chain on this server")
        self.server.recorder.record(control_event(
            op="evidence.reset", started_at=time.time(), actor={"id": who.owner, "agent": "", "roles": [who.role]},
            data={"machine": machine, "epoch": closed.epoch, "head_seq": closed.head_seq, "reason": reason}))
        return {"closed": closed.to_json(), "next_epoch": closed.epoch + 1}

    def close(self) -> None:
        self.chains.close()


def mount(app: FastAPI, server: Any) -> Evidence:
    from warden.server.evidence_verify import central_pack, verify_all, visible

    evidence = Evidence(server)
    server.evidence = evidence

    def who(request: Request) -> Principal:
        return server.principal(request)

    @app.exception_handler(IngestRefused)
    async def refused(request: Request, exc: IngestRefused) -> JSONResponse:
        return JSONResponse(exc.to_json(), status_code=exc.status)

    @app.get("/v1/evidence/key")
    def evidence_key(p: Principal = Depends(who)) -> dict[str, str]:
        """The Ed25519 key that signs the server's own checkpoints and its evidence packs (pin it)."""
        return {"public_key": server.recorder.store.keys.public_key}

    @app.get("/v1/evidence/machines")
    def machines(p: Principal = Depends(who)) -> list[dict[str, Any]]:
        server.require(p, "auditor", "agent")
        return [c.to_json() for c in visible(evidence.chains.chains(), p)]

    @app.get("/v1/evidence/verify")
    async def verify(machine: str = "", p: Principal = Depends(who)) -> dict[str, Any]:
        """Verify the server's own log (hashes, MACs, signed checkpoints) and every machine chain it holds
        (records recompute and link, checkpoint signatures against the pinned key, each event in the log)."""
        server.require(p, "auditor", "agent")
        return await asyncio.to_thread(verify_all, server, evidence, p, machine)

    @app.get("/v1/evidence/pack", response_class=Response, responses=doc.errors(404))
    async def pack(session: str = Query(min_length=1, description="The session whose pack to build"),
                   p: Principal = Depends(who)) -> Response:
        """One session's evidence pack from the central log, the format `warden audit evidence` writes."""
        server.require(p, "auditor", "agent", "developer")
        data = await asyncio.to_thread(central_pack, server, p, session)
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in session)[:80]
        return Response(data, media_type="application/zip",
                        headers={"content-disposition": f'attachment; filename="evidence-{safe}.zip"'})

    @app.post("/v1/evidence/machines/{machine}/reset", openapi_extra=doc.json_body(doc.schema_of(doc.ReasonBody)),
              responses=doc.errors(400, 404))
    async def reset(machine: str, request: Request, p: Principal = Depends(who)) -> dict[str, Any]:
        """Close a machine's chain (reinstalled, or its audit key replaced): its next ingest starts a new epoch."""
        server.require(p, "admin")
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or "reason" not in body:
            raise HTTPException(400, "say why: send {\"reason\": \"...\"} (it is recorded)")
        reason = doc.parse(doc.ReasonBody, body).reason.strip()
        return await asyncio.to_thread(evidence.reset, machine, p, reason[:1000])

    return evidence

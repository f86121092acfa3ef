"""The team server: one policy, one evidence trail and one approval queue, over HTTP (FastAPI).

Every endpoint is authorized here, by role, whatever the web page shows:

=========  =====================================================================================
agent      a machine's or agent's key: decide, ship events, open and wait on its approval requests
developer  a person: reads their own sessions' requests
approver   approves or denies requests (never their own: the state store refuses self-approval)
auditor    reads everything, changes nothing
admin      all of the above, plus keys and the kill switch
=========  =====================================================================================

State (approvals, grants, kill switches) is the control loop's StateStore; evidence is the audit store;
keys and machines are :mod:`warden.server.keys`. Any number of replicas can share one PostgreSQL: the
stores are the only state, and a vote or kill on one replica wakes waiters on the others through the
state store's notifications.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from warden.server import api_schema as doc
from warden.server.keys import KeyCache, KeyError_, KeyStore, Principal

MAX_BODY = 4 * 1024 * 1024
MAX_EVENTS = 5000
POLICY_RECHECK_S = 1.0  # how stale the server's view of its policy files may be


@dataclass
class ServerConfig:
    home: Path
    state_url: str | None = None  # None: SQLite under home
    audit_url: str | None = None
    keys_url: str | None = None
    policy_file: str | None = None
    workspace: str = ""  # whose policy layers the server decides with
    oidc: Any = None  # warden.server.oidc.OIDCConfig: people sign in with the organisation's provider
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))


class Server:
    def __init__(self, config: ServerConfig) -> None:
        from warden.adapters.audit import open_recorder
        from warden.adapters.state import open_state

        self.config = config
        config.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = dict(config.environ)
        if config.audit_url:
            env["WARDEN_AUDIT_DB"] = config.audit_url
        if config.state_url:  # the gateway's decisions queue into the same store the API votes in
            env["WARDEN_STATE_DB"] = config.state_url
        self.env = env
        self.state = open_state(config.home, config.state_url, environ=env)
        self.recorder = open_recorder(str(config.home), env)
        self.keys = KeyStore(config.keys_url or str(config.home / "server.db"))
        from warden.server.policy_store import PolicyStore

        # the central policy lives in the database; decisions and bundles read its current version from disk
        self.policies = PolicyStore(self.keys, config.home, config.policy_file)
        config.policy_file = self.policies.effective_file()
        self.counters = {"decisions": 0, "events_ingested": 0, "events_replayed": 0, "refused_requests": 0}
        self.started = time.time()
        from warden.server.bundle import BundleSigner

        self.signer = BundleSigner(config.home)
        self.oidc = None
        if config.oidc is not None:
            from warden.server.oidc import OIDC

            self.oidc = OIDC(config.oidc)
        self._local = threading.local()  # one warm gateway per thread (policy, recorder, state)
        self._retired: list[tuple[float, Any]] = []
        self._retired_lock = threading.Lock()
        self.evidence: Any = None  # machines' chains and central proofs: warden.server.evidence_api.mount
        self.hub: Any = None  # warden.server.sync_api.ChangeHub, set when the app is built
        self.on_start: list[Any] = []  # async callables run when the app starts serving

    # -- auth ----------------------------------------------------------------------------------
    def principal(self, request: Request, keys: KeyStore | KeyCache | None = None) -> Principal:
        """Who sends the request (bearer key, or the web sign-in cookie); ``keys`` may be a KeyCache."""
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get("warden_token", "")
        if not token:
            self.counters["refused_requests"] += 1
            raise HTTPException(401, "no key: send Authorization: Bearer wk_... (warden login prints how to get one)")
        try:
            return (keys or self.keys).check(token)
        except KeyError_ as exc:
            self.counters["refused_requests"] += 1
            raise HTTPException(401, f"key refused: {exc}") from None

    def require(self, who: Principal, *roles: str) -> None:
        if not who.can(*roles):
            self.counters["refused_requests"] += 1
            self.audit_refusal(who, f"role {who.role} may not do this (needs {' or '.join(roles)})")
            raise HTTPException(403, f"your role ({who.role}) may not do this; it needs {' or '.join(roles)}")

    def audit_refusal(self, who: Principal, why: str) -> None:
        from warden.core.audit import error_event

        try:
            self.recorder.record(error_event(where="server.auth", error=why, started_at=time.time(),
                                             actor={"id": who.owner, "agent": "", "roles": [who.role]}))
        except Exception:  # noqa: BLE001 — the refusal itself stands
            pass

    # -- decisions and events ------------------------------------------------------------------
    def gateway(self) -> Any:
        """This thread's warm gateway. Its policy files are re-read at most every POLICY_RECHECK_S
        seconds, and a fresh gateway is built when they changed (an edited policy applies within that)."""
        from warden.gateway import Gateway

        gw = getattr(self._local, "gateway", None)
        now = time.monotonic()
        # a first central policy stored since (policy_file None -> a path) also needs a fresh gateway
        if gw is not None and gw.policy_file == self.config.policy_file and (
                now - self._local.checked < POLICY_RECHECK_S or not gw.policy_changed()):
            if now - self._local.checked >= POLICY_RECHECK_S:
                self._local.checked = now
            return gw
        if gw is not None:
            self._retire(gw)
        gw = Gateway(cwd=self.config.workspace or str(self.config.home), policy_file=self.config.policy_file,
                     home=self.config.home, environ=self.env, audit=True, long_lived=True)
        gw._recorder = self.recorder  # one thread-safe recorder: concurrent decisions share a commit
        self._local.gateway, self._local.checked = gw, now
        return gw

    def _retire(self, gw: Any) -> None:
        """Close a replaced gateway later, not now: a decision may still be finishing with it."""
        with self._retired_lock:
            self._retired.append((time.monotonic(), gw))
            old = [g for t, g in self._retired if time.monotonic() - t > 10.0]
            self._retired = [(t, g) for t, g in self._retired if g not in old]
        for g in old:
            g._recorder = None  # shared: not this gateway's to close
            g.close()

    def prepare(self, payload: dict[str, Any], who: Principal) -> dict[str, Any]:
        payload = dict(payload)
        raw_actor = payload.get("actor")
        actor: dict[str, Any] = raw_actor if isinstance(raw_actor, dict) else {}
        # the key says who is asking; a payload cannot claim to be someone else
        payload["actor"] = {**actor, "id": who.owner if who.role == "agent" else actor.get("id", who.owner)}
        payload.setdefault("cwd", self.config.workspace or str(self.config.home))
        return payload

    def decide(self, payload: dict[str, Any], who: Principal) -> dict[str, Any]:
        """Decide and record here and now (the HTTP route drives :meth:`decide_steps` instead)."""
        verdict = self.gateway().decide_payload(self.prepare(payload, who))
        self.counters["decisions"] += 1
        return verdict.to_json()

    def decide_steps(self, payload: dict[str, Any], who: Principal) -> Any:
        """The decision as steps (warden.gateway.DecisionSteps) for a caller that records them itself."""
        return self.gateway().payload_steps(self.prepare(payload, who))

    def ingest(self, events: list[Any], who: Principal, machine: str) -> dict[str, Any]:
        from warden.core.audit import validate_event

        accepted, replayed, refused = 0, 0, []
        batch = []
        valid = []
        for i, ev in enumerate(events):
            try:
                validate_event(ev)
            except (TypeError, ValueError) as exc:
                refused.append({"index": i, "error": str(exc)})
                continue
            valid.append(ev)
        fresh = self.keys.first_ingest_many([str(ev["id"]) for ev in valid], machine)
        for ev in valid:
            if str(ev["id"]) not in fresh:
                replayed += 1
                continue
            fresh.discard(str(ev["id"]))  # the same id twice in one batch counts once
            stamped = dict(ev)
            stamped["origin"] = {"machine": machine, "key": who.key_id, "owner": who.owner}
            batch.append(stamped)
        if batch:
            self.recorder.record_many(batch)
            accepted = len(batch)
        self.counters["events_ingested"] += accepted
        self.counters["events_replayed"] += replayed
        self.keys.seen(machine, who.owner)
        return {"accepted": accepted, "replayed": replayed, "refused": refused}

    def refresh_policy(self, wait: bool = False) -> bool:
        """Pick up a central policy stored by another replica (or an edited --policy file)."""
        changed = self.policies.refresh(wait=wait)
        self.config.policy_file = self.policies.effective_file()
        return changed

    def close(self) -> None:
        if self.evidence is not None:
            self.evidence.close()
        if self.hub is not None:
            self.hub.close()
        self.state.close()
        self.recorder.close()
        self.keys.close()


def _request_json(req: Any) -> dict[str, Any]:
    return {"id": req.id, "status": req.status, "tool": req.tool, "actor": req.actor, "agent": req.agent,
            "session": req.session, "rule": req.rule_id, "created_at": req.created_at, "expires_at": req.expires_at,
            "quorum": req.quorum, "approvals": req.approvals, "card": req.card,
            "votes": [v.to_json() if hasattr(v, "to_json") else str(v) for v in req.votes]}


def create_app(config: ServerConfig) -> FastAPI:
    server = Server(config)
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        for start in server.on_start:  # e.g. the change hub, so replicas follow each other with no waiter
            await start()
        yield

    app = FastAPI(lifespan=lifespan, title="Warden team server", version="1", description="Central policy decisions, evidence, "
                  "approvals and kill switch for every Warden client. All endpoints need a key.",
                  responses=doc.errors(400, 401, 403))
    doc.document_bearer_keys(app)
    app.state.server = server

    def who(request: Request) -> Principal:
        return server.principal(request)

    async def body_of(request: Request) -> Any:
        if "json" not in request.headers.get("content-type", ""):
            raise HTTPException(415, "send application/json")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise HTTPException(413, f"the body is larger than {MAX_BODY} bytes")
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise HTTPException(400, f"the body is not valid JSON: {exc}") from None
        doc.refuse_lone_surrogates(raw, parsed)
        return parsed

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        try:
            server.state.kills()
            return JSONResponse({"status": "ready"})
        except Exception as exc:  # noqa: BLE001
            return JSONResponse({"status": "not ready", "error": str(exc)}, status_code=503)

    @app.get("/v1/policy/key", response_model=doc.PolicyKey)
    def policy_key(p: Principal = Depends(who)) -> dict[str, Any]:
        """The current bundle-signing key, and the rotation statements (each signed by the key before)
        that lead to it from any key a client pinned earlier."""
        return server.signer.public()

    @app.post("/v1/policy/key/rotate", response_model=doc.PolicyKeyRotated)
    def rotate_policy_key(p: Principal = Depends(who)) -> dict[str, Any]:
        """Admins: a new signing key, handed over to by the old one (as `warden server rotate-bundle-key`)."""
        server.require(p, "admin")
        statement = server.signer.rotate()
        return {**server.signer.public(), "statement": statement}

    @app.get("/v1/policy/bundle", response_model=doc.PolicyBundle, responses=doc.errors(503))
    async def policy_bundle(p: Principal = Depends(who)) -> dict[str, Any]:
        """The central policy as the managed layer, signed by the server's Ed25519 key (GET /v1/policy/key)."""
        try:
            await asyncio.to_thread(server.refresh_policy, True)  # an edited --policy file is served at once
            return await asyncio.to_thread(server.signer.bundle, server.config.policy_file, server.policies.issued_at)
        except OSError as exc:
            raise HTTPException(503, f"the server cannot read its central policy: {exc}") from None

    @app.get("/v1/whoami")
    def whoami(p: Principal = Depends(who)) -> dict[str, str]:
        return {"owner": p.owner, "role": p.role, "key": p.key_id}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics(p: Principal = Depends(who)) -> str:
        server.require(p, "auditor", "approver")
        pending = len(server.state.list_requests(status="pending", limit=10_000))
        lines = [f"warden_server_{k}_total {v}" for k, v in server.counters.items()]
        lines += [f"warden_server_pending_approvals {pending}", f"warden_server_active_kills {len(server.state.kills())}",
                  f"warden_server_uptime_seconds {time.time() - server.started:.0f}"]
        return "\n".join(lines) + "\n"

    from warden.server.decide_api import DecideHandler, DecideRoute

    decide_handler = DecideHandler(server, MAX_BODY)
    app.state.decide_handler = decide_handler
    app.add_middleware(DecideRoute, handler=decide_handler)  # answers POST /v1/decide ahead of routing

    @app.post("/v1/decide", response_model=None, openapi_extra=doc.json_body(doc.ACTION), responses=doc.BODY_ERRORS)
    async def decide(request: Request) -> Response:
        """An action (the Claude Code hook payload shape) -> its verdict, decided with the central policy and
        recorded in the central log before the answer; needs an agent key (Authorization: Bearer wk_...)."""
        status, body = await decide_handler.answer(request)
        return Response(body, status, media_type="application/json")

    @app.post("/v1/events", openapi_extra=doc.json_body(doc.EVENTS), responses=doc.BODY_ERRORS)
    async def events(request: Request, p: Principal = Depends(who)) -> dict[str, Any]:
        server.require(p, "agent")
        body = await body_of(request)
        if isinstance(body, dict) and "records" in body:  # a machine's chain: warden.server.evidence_api
            return await asyncio.to_thread(server.evidence.ingest, body, p)
        evs = body.get("events") if isinstance(body, dict) else None
        if not isinstance(evs, list) or len(evs) > MAX_EVENTS:
            raise HTTPException(400, f"send {{\"machine\": ..., \"events\": [...]}} with at most {MAX_EVENTS} events")
        machine = str(body.get("machine") or p.owner)[:200]
        return await asyncio.to_thread(server.ingest, evs, p, machine)

    @app.get("/v1/approvals")
    def approvals(status: str = "pending", limit: int = Query(100, ge=1, le=1000),
                  p: Principal = Depends(who)) -> list[dict[str, Any]]:
        server.require(p, "approver", "auditor", "developer")
        server.state.expire_requests(time.time())
        reqs = server.state.list_requests(status=None if status == "all" else status, limit=min(limit, 1000))
        if p.role == "developer":  # developers see their own sessions only
            reqs = [r for r in reqs if r.actor == p.owner]
        return [_request_json(r) for r in reqs]

    @app.get("/v1/approvals/{request_id}", responses=doc.errors(404))
    def approval(request_id: str, p: Principal = Depends(who)) -> dict[str, Any]:
        server.require(p, "approver", "auditor", "developer", "agent")
        req = server.state.get_request(request_id)
        if req is None or (p.role in ("developer", "agent") and req.actor != p.owner):
            raise HTTPException(404, "no such request")
        return _request_json(req)

    async def vote(request: Request, request_id: str, p: Principal, approve: bool) -> dict[str, Any]:
        from warden.core.control.approvals import ApprovalError, parse_grant
        from warden.core.control.approvals import Principal as Voter

        server.require(p, "approver")
        body = doc.parse(doc.VoteBody, await body_of(request) if request.headers.get("content-length", "0") != "0"
                         else {})
        reason = body.reason[:1000]
        raw = (body.grant or "").strip()  # "30m" as a rule writes it, or the canonical "duration:1800"
        grant = (raw if raw.startswith("duration:") else parse_grant(raw)) if raw else None
        current = await asyncio.to_thread(server.state.get_request, request_id)
        asked_by = dict((current.card or {}).get("requested_by") or {}) if current is not None else {}
        if p.owner and p.owner in (asked_by.get("local_actor"), asked_by.get("key_owner")):
            server.audit_refusal(p, f"vote on {request_id} refused: {p.owner} asked for it")
            raise HTTPException(409, f"refused: {p.owner} asked for request {request_id} (from machine "
                                     f"{asked_by.get('machine', '?')}) and cannot approve or deny it; ask another person")
        try:
            updated, made = await asyncio.to_thread(
                server.state.vote, request_id, Voter(p.owner, (p.role,), "server"), approve, reason, time.time(),
                grant=grant)
        except ApprovalError as exc:
            server.audit_refusal(p, f"vote on {request_id} refused: {exc}")
            raise HTTPException(409 if exc.code != "unknown" else 404, f"refused: {exc}") from None
        from warden.core.audit import approval_event

        if updated.status in ("approved", "denied"):
            server.recorder.record(approval_event(
                decision_id=str(updated.card.get("decision_id", "")), granted=updated.status == "approved",
                approver=p.owner, via="server", started_at=time.time(), session=updated.session, tool=updated.tool,
                tool_use_id=updated.tool_use_id, reason=reason, actor={"id": updated.actor, "agent": updated.agent}))
        return {"request": updated.id, "status": updated.status, "grant": made.to_json() if made else None}

    vote_doc: dict[str, Any] = {"openapi_extra": doc.json_body(doc.schema_of(doc.VoteBody), required=False),
                                "responses": {**doc.BODY_ERRORS, **doc.errors(404, 409)}}

    @app.post("/v1/approvals/{request_id}/approve", **vote_doc)
    async def approve(request: Request, request_id: str, p: Principal = Depends(who)) -> dict[str, Any]:
        return await vote(request, request_id, p, True)

    @app.post("/v1/approvals/{request_id}/deny", **vote_doc)
    async def deny(request: Request, request_id: str, p: Principal = Depends(who)) -> dict[str, Any]:
        return await vote(request, request_id, p, False)

    @app.get("/v1/approvals/{request_id}/wait", responses=doc.errors(404))
    async def wait(request_id: str, timeout: float = 25.0, p: Principal = Depends(who)) -> dict[str, Any]:
        from warden.server.sync_api import wait_for_request

        server.require(p, "agent")
        req = await wait_for_request(server, request_id, timeout)
        if req is None or (p.role == "agent" and req.actor != p.owner):
            raise HTTPException(404, "no such request")
        out = _request_json(req)
        if req.status == "approved":  # the scope the approver chose (never wider than the rule's)
            out["granted"] = req.grant
        return out

    @app.post("/v1/kill", openapi_extra=doc.json_body(doc.schema_of(doc.KillBody)), responses=doc.BODY_ERRORS)
    async def kill(request: Request, p: Principal = Depends(who)) -> dict[str, Any]:
        from warden.core.control.kill import KillSwitch

        server.require(p, "admin")
        body = doc.parse(doc.KillBody, await body_of(request))
        revoked = server.state.kill(KillSwitch(body.scope, body.value, body.reason, p.owner, time.time()))
        return {"killed": {"scope": body.scope, "value": body.value}, "revoked": revoked}

    @app.post("/v1/resume", openapi_extra=doc.json_body(doc.schema_of(doc.ResumeBody)), responses=doc.BODY_ERRORS)
    async def resume(request: Request, p: Principal = Depends(who)) -> dict[str, Any]:
        server.require(p, "admin")
        body = doc.parse(doc.ResumeBody, await body_of(request))
        return {"resumed": server.state.resume(body.scope, body.value)}

    @app.get("/v1/kills")
    def kills(p: Principal = Depends(who)) -> list[dict[str, Any]]:
        server.require(p, "auditor", "approver", "agent")
        return [k.to_json() for k in server.state.kills()]

    @app.post("/v1/keys", openapi_extra=doc.json_body(doc.schema_of(doc.NewKeyBody)), responses=doc.BODY_ERRORS)
    async def create_key(request: Request, p: Principal = Depends(who)) -> dict[str, Any]:
        server.require(p, "admin")
        body = doc.parse(doc.NewKeyBody, await body_of(request))
        try:
            key_id, key = server.keys.create(body.owner or "unnamed", body.role, ttl_s=body.ttl_s, label=body.label,
                                             team=body.team)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        return {"id": key_id, "key": key}

    @app.get("/v1/keys")
    def list_keys(p: Principal = Depends(who)) -> list[dict[str, Any]]:
        server.require(p, "admin")
        return server.keys.list()

    @app.delete("/v1/keys/{key_id}", responses=doc.errors(404))
    def revoke_key(key_id: str, p: Principal = Depends(who)) -> dict[str, Any]:
        server.require(p, "admin")
        if not server.keys.revoke(key_id):
            raise HTTPException(404, "no such active key")
        return {"revoked": key_id}

    @app.get("/v1/events")
    def query_events(session: str = "", kind: str = "", q: str = "", limit: int = Query(200, ge=1, le=1000),
                     p: Principal = Depends(who)) -> list[dict[str, Any]]:
        from warden.adapters.store.base import Filters

        server.require(p, "auditor", "approver")
        evs = server.recorder.store.query(Filters(session=session or None, kind=kind or None), limit=5000,
                                          newest_first=True)
        if q:
            evs = [e for e in evs if q.lower() in json.dumps(e).lower()]
        return evs[: min(limit, 1000)]

    @app.get("/v1/dashboard")
    def dashboard(p: Principal = Depends(who)) -> dict[str, Any]:
        server.require(p, "auditor", "approver")
        stats = server.recorder.store.stats()
        return {"stats": stats, "pending": len(server.state.list_requests(status="pending", limit=10_000)),
                "kills": [k.to_json() for k in server.state.kills()], "machines": server.keys.machines(),
                "counters": server.counters}

    from warden.server.evidence_api import mount as mount_evidence
    from warden.server.sync_api import mount_sync
    from warden.server.ui_api import mount_ui_api
    from warden.server.web import mount_web

    mount_evidence(app, server)
    mount_sync(app, server, who, body_of)
    mount_ui_api(app, server, who)
    from warden.server.policy_store import mount_policy

    mount_policy(app, server, who, body_of)

    mount_web(app, server)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    doc.answer_router_errors(app)
    app.add_middleware(doc.RefuseRepeatedQuery)

    return app


def served_app(config: ServerConfig) -> Any:
    """What uvicorn runs: the app, with ``POST /v1/decide`` answered before FastAPI's own middleware."""
    from warden.server.decide_api import DecideRoute

    app = create_app(config)
    return DecideRoute(app, app.state.decide_handler)


def app_from_env() -> Any:
    """The app for uvicorn worker processes (``--workers N``): the config comes in $WARDEN_SERVER_CONFIG."""
    raw = json.loads(os.environ["WARDEN_SERVER_CONFIG"])
    oidc = None
    if raw.get("oidc"):  # the client secret is not in the JSON: it stays in the variable that was named
        from warden.server.oidc import OIDCConfig

        o = dict(raw["oidc"])
        oidc = OIDCConfig(client_secret=os.environ.get(o.pop("secret_env"), ""), **o)
    return served_app(ServerConfig(home=Path(raw["home"]), state_url=raw.get("state_url"), audit_url=raw.get("audit_url"),
                                   keys_url=raw.get("keys_url"), policy_file=raw.get("policy_file"),
                                   workspace=raw.get("workspace", ""), oidc=oidc))

"""What local Warden clients need from the server to stay in step: kill switches within a second,
approval requests routed here and answered, machine health reports.

A client's link (:mod:`warden.integrations.server_client.link`) holds one long-poll on
``GET /v1/sync/watch`` open: it answers at once when the kill switches or the central policy differ
from what the client last saw, else when they change (or after ``timeout``). Waiting costs no thread
and no query per waiter: one :class:`ChangeHub` thread per worker process listens to the state store's
change notifications (PostgreSQL ``LISTEN/NOTIFY`` across replicas, datagram wake-ups for SQLite), reads
the kill switches once per change and wakes every waiting request on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from dataclasses import replace
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request

from warden.server.keys import Principal

Server = Any  # warden.server.app.Server (not imported: app imports this module)

MAX_WAIT_S = 55.0


def kills_version(kills: list[Any]) -> str:
    body = json.dumps(sorted((k.scope, k.value, k.reason, k.by, k.at) for k in kills))
    return hashlib.sha256(body.encode()).hexdigest()[:16]


class ChangeHub:
    """One listener thread per worker process; async waiters are woken on every state change."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.generation = 0
        self.kills: list[Any] = []
        self.version = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.error = ""

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            from warden.adapters.state import open_state

            cfg = self.server.config
            # its own connection: LISTEN must not share the request handlers' connection
            self._store = open_state(cfg.home, cfg.state_url, environ=self.server.env)
            self._store.listen()  # before the first read, so a change in between still wakes us
            self._refresh()
            self._thread = threading.Thread(target=self._run, name="warden-change-hub", daemon=True)
            self._thread.start()

    def _refresh(self) -> None:
        kills = self._store.kills()
        self.kills, self.version = kills, kills_version(kills)
        self.generation += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._store.wait_for_change(1.0)
                self._refresh()
                self.server.refresh_policy()  # a version stored by another replica is served here too
                self.error = ""
            except Exception as exc:  # noqa: BLE001 — a dead database: waiters time out, /readyz says why
                self.error = str(exc)
                self._stop.wait(1.0)
                continue
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        ev, self._event = self._event, asyncio.Event()
        if ev is not None:
            ev.set()

    async def wait(self, timeout: float) -> None:
        """Return at the next state change (or after ``timeout``)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        if self._thread is None:
            await asyncio.to_thread(self._start)
        if self._event is None:
            self._event = asyncio.Event()
        try:
            await asyncio.wait_for(self._event.wait(), max(0.0, timeout))
        except TimeoutError:
            pass

    async def current(self) -> tuple[str, list[Any]]:
        if self._thread is None:
            await asyncio.to_thread(self._start)
        return self.version, self.kills

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._store.close()


class PolicyVersion:
    """The central policy's bundle version, re-read when the file changes (so a waiting client learns of
    an edited policy within a second and pulls the new bundle)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._seen: tuple[Any, ...] = ()
        self.version = ""

    def get(self) -> str:
        import os

        self.server.refresh_policy()
        path = self.server.config.policy_file
        try:
            st = os.stat(path) if path else None
        except OSError:
            return ""  # GET /v1/policy/bundle says what is wrong
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino) if st else ()
        if stamp != self._seen or not self.version:
            try:
                self.version = str(self.server.signer.bundle(path)["bundle"]["version"])
            except OSError:
                return ""
            self._seen = stamp
        return self.version


def mount_sync(app: FastAPI, server: Server, who: Any, body_of: Any) -> None:
    hub = ChangeHub(server)
    policy = PolicyVersion(server)
    server.hub = hub

    async def start_hub() -> None:  # at start-up, so policy changes from other replicas arrive with no waiter
        hub._loop = asyncio.get_running_loop()
        await asyncio.to_thread(hub._start)

    server.on_start.append(start_hub)

    @app.get("/v1/sync/watch")
    async def watch(kills: str = "", policy_version: str = "", timeout: float = 25.0,
                    p: Principal = Depends(who)) -> dict[str, Any]:
        """Long-poll: answers when the kill switches or the policy version differ from what the client sends."""
        server.require(p, "agent", "auditor", "approver")
        deadline = time.monotonic() + max(0.0, min(timeout, MAX_WAIT_S))
        while True:
            version, switches = await hub.current()
            pv = await asyncio.to_thread(policy.get)
            left = deadline - time.monotonic()
            if version != kills or (policy_version and pv != policy_version) or left <= 0:
                return {"kills_version": version, "kills": [k.to_json() for k in switches], "policy_version": pv,
                        "server_time": time.time()}
            await hub.wait(min(left, 1.0))  # the policy file is re-checked at least every second

    from warden.server import api_schema as doc

    @app.post("/v1/approvals", openapi_extra=doc.json_body(doc.PUSHED_REQUEST),
              responses={**doc.BODY_ERRORS, **doc.errors(409, 422)})
    async def push_request(request: Request, p: Principal = Depends(who)) -> dict[str, Any]:
        """A local Warden routes a request its policy queued: the same id, card and constraints, asked by this key."""
        from warden.core.control.approvals import PENDING, ApprovalRequest, parse_grant

        server.require(p, "agent")
        body = await body_of(request)
        raw = body.get("request") if isinstance(body, dict) else None
        if not isinstance(raw, dict):
            raise HTTPException(400, 'send {"machine": ..., "request": {...}} (an approval request as the local '
                                     "state store holds it)")
        try:
            local = ApprovalRequest.from_json(raw)
            grant = local.grant
            parse_grant(f"{grant[9:]}s" if grant.startswith("duration:") else grant)  # one no vote could use: 500s
        except (KeyError, TypeError, ValueError) as exc:  # a bad grant would fail the approver's vote later
            raise HTTPException(422, f"not an approval request: {exc}") from None
        if not local.id.startswith("ap") or len(local.id) > 80 or not local.created_at < local.expires_at < 1e12:
            raise HTTPException(422, "the request needs an ap… id of at most 80 characters and an expiry after "
                                     "its creation")
        machine = str(body.get("machine") or p.owner)[:200]
        card = dict(local.card)
        # who asked, as far as the server can tell: the key (bound to a person or machine) and what the
        # machine says its local user is; neither may approve it (see vote in warden.server.app)
        card["requested_by"] = {"key_owner": p.owner, "key": p.key_id, "machine": machine,
                                "local_actor": local.actor}
        now = time.time()
        req = replace(local, actor=p.owner, status=PENDING, votes=(), decided_at=None, card=card,
                      created_at=min(local.created_at, now), expires_at=min(local.expires_at, now + 86400))
        existing = await asyncio.to_thread(server.state.get_request, req.id)
        if existing is not None:
            if existing.actor != p.owner:
                raise HTTPException(409, f"request {req.id} belongs to another key")
            return {"request": existing.id, "status": existing.status, "created": False}
        stored = await asyncio.to_thread(server.state.create_request, req)
        if stored.id != req.id:  # a pending request for the same action (another retry): that one answers
            return {"request": stored.id, "status": stored.status, "created": False, "same_as": stored.id}
        return {"request": stored.id, "status": stored.status, "created": True}

    @app.post("/v1/machines/report", openapi_extra=doc.json_body(doc.REPORT), responses=doc.BODY_ERRORS)
    async def machine_report(request: Request, p: Principal = Depends(who)) -> dict[str, Any]:
        """A machine's health (its `warden doctor` summary), so the dashboard shows stale clients and dead hooks."""
        server.require(p, "agent")
        body = await body_of(request)
        if not isinstance(body, dict):
            raise HTTPException(400, 'send {"machine": ..., "version": ..., "doctor": {...}}')
        machine = str(body.get("machine") or p.owner)[:200]
        raw = body.get("doctor")
        doctor: dict[str, Any] = raw if isinstance(raw, dict) else {}
        report = json.dumps({"at": time.time(), **doctor})[:64_000]
        await asyncio.to_thread(server.keys.seen, machine, p.owner, str(body.get("version", ""))[:40], report)
        return {"machine": machine, "recorded": True}


async def wait_for_request(server: Server, request_id: str, timeout: float) -> Any:
    """The request once it is no longer pending (or as it is after ``timeout``), without holding a thread."""
    hub: ChangeHub = server.hub
    deadline = time.monotonic() + max(0.0, min(timeout, MAX_WAIT_S))
    while True:
        req = await asyncio.to_thread(server.state.get_request, request_id)
        left = deadline - time.monotonic()
        if req is None or req.status != "pending" or left <= 0:
            return req
        if time.time() >= req.expires_at:
            await asyncio.to_thread(server.state.expire_requests, time.time())
            continue
        await hub.wait(min(left, 1.0))

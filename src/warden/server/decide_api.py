"""``POST /v1/decide`` on the hot path: the route every agent without a local Warden calls per tool call.

What it saves against a plain FastAPI route (measured in bench/bench_server_load.py, docs/server.md
"Capacity"):

* **No framework in the way.** :class:`DecideRoute` answers the route ahead of FastAPI's routing,
  dependency injection and response re-encoding; the FastAPI route of the same path stays for the
  OpenAPI document and calls the same :class:`DecideHandler`.
* **No thread hops.** Analysis and policy run in the event loop: they are CPU work under one
  interpreter lock either way, and a hop to a thread and back costs more than it overlaps.
* **Group commit.** :class:`GroupCommit` writes the decisions of one loop turn in one durable
  transaction; each request is answered after its own events are durable, and a decision whose events
  could not be written is denied (the gateway's steps fail closed).
* **Keys checked once a second**, not once a request (:class:`warden.server.keys.KeyCache`).

The verdict JSON, the audit events and the errors are the ones the FastAPI route gave.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from warden.server.keys import KeyCache

PATH = "/v1/decide"
KEY_CACHE_TTL_S = 1.0  # a key revoked elsewhere stops working here within this (docs/server.md)


class GroupCommit:
    """Group commit inside the event loop: the decisions made while the loop works through its ready
    requests are written in one durable transaction when it gets to the flush it scheduled, and each
    request is answered after that commit (or denied, when its events could not be written).

    Why in the loop and not in a writer thread: the decision itself is CPU work under the interpreter lock,
    so a writer thread has to win that lock back after every database call and waits milliseconds each
    time (measured: 2.6-5 ms a turn for 2 events, against 0.3 ms for the commit itself). Blocking the loop
    for the commit is cheaper, and the other worker processes keep the cores busy meanwhile. Measured
    in-process at 32 concurrent requests: 0.75 ms of CPU a decision in the loop against 0.93-0.98 ms with
    a writer thread on SQLite, 1.6 against 1.8-2.0 ms on PostgreSQL.
    """

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self._pending: dict[asyncio.AbstractEventLoop, list[tuple[list[dict[str, Any]], asyncio.Future[str | None]]]] = {}

    async def write(self, events: list[dict[str, Any]]) -> str | None:
        """None once the events are durable, else why not (the decision is then denied)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str | None] = loop.create_future()
        queued = self._pending.get(loop)
        if queued is None:
            queued = self._pending[loop] = []
            loop.call_soon(self._flush, loop)  # after the requests this loop turn is already working on
        queued.append((events, done))
        return await done

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        taken = self._pending.pop(loop, [])
        try:
            errors = self.recorder.record_groups([events for events, _ in taken])
            answers = [None if e is None else f"{type(e).__name__}: {e}" for e in errors]
        except Exception as exc:  # noqa: BLE001 — every waiter must hear, or it would wait forever
            answers = [f"AuditError: audit log write failed: {type(exc).__name__}: {exc}"] * len(taken)
        _settle(taken, answers)


def _settle(taken: list[tuple[list[dict[str, Any]], asyncio.Future[str | None]]], answers: list[str | None]) -> None:
    for (_, done), answer in zip(taken, answers, strict=True):
        if not done.done():  # a cancelled request no longer waits
            done.set_result(answer)


def _json(content: Any) -> bytes:
    """The bytes Starlette's JSONResponse would send."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


class DecideHandler:
    """Auth, body, decision and durable record of one ``POST /v1/decide``; answers (status, JSON bytes)."""

    def __init__(self, server: Any, max_body: int) -> None:
        self.server = server
        self.max_body = max_body
        self.keys = KeyCache(server.keys, KEY_CACHE_TTL_S)
        self.writer = GroupCommit(server.recorder)

    async def answer(self, request: Request) -> tuple[int, bytes]:
        try:
            return 200, _json(await self._decide(request))
        except HTTPException as exc:
            return exc.status_code, _json({"error": exc.detail})

    async def _decide(self, request: Request) -> dict[str, Any]:
        server = self.server
        who = server.principal(request, self.keys)
        server.require(who, "agent")
        payload = await self._body(request)
        if not isinstance(payload, dict):
            raise HTTPException(400, "the body must be an action object (Claude Code hook payload shape)")
        steps = server.decide_steps(payload, who)
        try:
            events = next(steps)
            while True:
                events = steps.send(await self.writer.write(events))
        except StopIteration as stop:
            verdict = stop.value
        server.counters["decisions"] += 1
        return verdict.to_json()

    async def _body(self, request: Request) -> Any:
        if "json" not in request.headers.get("content-type", ""):
            raise HTTPException(415, "send application/json")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():  # read it all (the client gets its answer), keep at most the limit
            size += len(chunk)
            if size <= self.max_body:
                chunks.append(chunk)
        if size > self.max_body:
            raise HTTPException(413, f"the body is larger than {self.max_body} bytes")
        try:
            return json.loads(b"".join(chunks))
        except (ValueError, RecursionError) as exc:
            raise HTTPException(400, f"the body is not valid JSON: {exc}") from None


class DecideRoute:
    """ASGI middleware: ``POST /v1/decide`` goes to the handler, everything else to the app unchanged."""

    def __init__(self, app: ASGIApp, handler: DecideHandler) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        status, body = await self.handler.answer(Request(scope, receive))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

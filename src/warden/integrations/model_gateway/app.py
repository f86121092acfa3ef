"""The model gateway: an ASGI app every model request of an agent passes through.

Per request, in order (each refusal is an error in the API's own shape, and an audit event):

1. route: ``/v1/messages`` (Anthropic), ``/v1/chat/completions`` and ``/v1/responses`` (OpenAI), or the
   same under ``/NAME/...`` to pick an upstream by name; nothing else is forwarded;
2. who: a gateway key (``x-api-key`` or ``Authorization: Bearer``) names the actor; with ``--dev`` a
   loopback client needs none. The agent's own key is never forwarded: the gateway adds the provider's;
3. the policy's ``models:`` section: approved model? budget left (tokens and cost, per actor, agent,
   session, day, month)? the same request again and again (a loop)?
4. redaction: every string of the body (system prompt, messages, tool results, tool definitions) goes
   through the secrets engine; secrets become keyed markers, nothing is restored on the way back;
5. forward and stream back byte for byte as chunks arrive, parsing SSE on the side for usage, the plan
   and the proposed tool calls (bounded), scanning the answer for secrets;
6. record: the usage row (budgets) and a ``model`` audit event linking the instruction, the plan and
   the tool_use ids the hook decisions carry.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import hashlib
import ipaddress
import json
import re
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from warden.core.model import wire
from warden.core.model.policy import ModelPolicy, Who, budget_states, compile_models, over_budget
from warden.core.model.redact import CleanCache, redact_body
from warden.integrations.model_gateway.config import GatewayConfig, Upstream

_FORWARD_HEADERS = ("anthropic-version", "anthropic-beta", "openai-beta", "openai-organization", "openai-project",
                    "accept", "user-agent", "x-stainless-lang", "x-stainless-package-version")
_SESSION_HEADERS = ("x-claude-code-session-id", "session_id", "session-id", "x-session-id", "conversation_id",
                    "x-warden-session")
_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"})
_AGENTS = (("claude-cli", "claude-code"), ("claude-code", "claude-code"), ("codex", "codex"),
           ("copilot", "copilot"), ("geminicli", "gemini"), ("gemini-cli", "gemini"), ("cursor", "cursor"))
_USER_SESSION = re.compile(r"session_([0-9a-fA-F-]{8,64})")
MAX_SUMMARY_BODY = 8 * 1024 * 1024  # a plain JSON answer larger than this is passed on but not summarised


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Call:
    """One request's state, from arrival to the audit event."""

    api: str
    upstream: Upstream
    who: Who
    started: float
    t0: float
    info: wire.RequestInfo | None = None
    redacted: list[dict[str, str]] | None = None


def _agent_of(user_agent: str, header: str) -> tuple[str, str]:
    if header:
        return header, ""
    ua = user_agent.lower()
    for needle, agent in _AGENTS:
        if needle in ua:
            version = ""
            m = re.search(re.escape(needle) + r"[^/\s]*/([0-9][\w.\-]*)", ua)
            if m:
                version = m.group(1)
            return agent, version
    return "", ""


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ModelGateway:
    """Holds the shared state (policy, ledger, recorder, upstream client); ``app`` is the ASGI app."""

    def __init__(self, config: GatewayConfig) -> None:
        from warden.adapters.audit import open_recorder
        from warden.adapters.redaction import fingerprint_key
        from warden.adapters.store.usage import UsageLedger
        from warden.core.secrets import default_ruleset

        self.config = config
        self.ruleset = default_ruleset()
        self.key = fingerprint_key(config.warden_home)
        self.ledger = UsageLedger.under(config.warden_home)
        self.clean = CleanCache()
        self.recorder = open_recorder(str(config.warden_home), config.environ)
        self._policy: ModelPolicy | None = None
        self._policy_error: str | None = None
        self._policy_at = 0.0
        self._pending: set[asyncio.Task[None]] = set()  # evidence writes still running
        self._last: dict[str, tuple[str, int]] = {}  # session -> (body digest, repeats in a row)
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.upstream_timeout, connect=config.connect_timeout),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64))
        self.whoami = config.environ.get("WARDEN_ACTOR") or _os_user()
        routes = [Route("/healthz", self.health, methods=["GET"])]
        for suffix in wire.ROUTES:
            routes.append(Route(suffix, self.handle, methods=["POST"]))
            routes.append(Route("/{upstream}" + suffix, self.handle, methods=["POST"]))
        routes.append(Route("/{path:path}", self.not_forwarded, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]))
        self.app = Starlette(routes=routes, lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        await self.aclose()

    # -- policy -------------------------------------------------------------------------------
    def policy(self) -> ModelPolicy:
        now = time.monotonic()
        if self._policy is None or now - self._policy_at > self.config.policy_ttl:
            from warden.gateway import Gateway

            try:
                gw = Gateway.from_env(cwd=self.config.cwd, policy_file=self.config.policy_file,
                                      warden_home=str(self.config.warden_home), audit=False,
                                      environ=self.config.environ)
                self._policy = compile_models(gw.policy.models)
                self._policy_error = None
            except Exception as exc:  # a broken policy refuses every request until fixed
                self._policy_error = f"{type(exc).__name__}: {exc}"
            self._policy_at = now
        if self._policy_error is not None:
            raise Refusal(503, f"Warden refused: the policy could not be loaded ({self._policy_error}); "
                               "fix it (`warden policy validate`) and retry")
        assert self._policy is not None
        return self._policy

    # -- endpoints ----------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "upstreams": [u.name for u in self.config.upstreams]})

    async def not_forwarded(self, request: Request) -> Response:
        return JSONResponse(wire.error_body("chat", 404, f"Warden's model gateway does not forward "
                                            f"{request.url.path}: it serves /v1/messages, /v1/chat/completions "
                                            "and /v1/responses"), status_code=404)

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        name = request.path_params.get("upstream")
        suffix = path[len(name) + 1:] if name else path
        api = wire.api_for_path(suffix) or wire.API_CHAT
        started, t0 = time.time(), time.perf_counter()
        kind = "anthropic" if api == wire.API_ANTHROPIC else "openai"
        upstream = self.config.upstream_for(kind, name)
        if upstream is None:
            return self._error(api, 404, f"Warden's model gateway has no {kind} upstream"
                               + (f" named {name!r}" if name else "") + "; start it with --upstream NAME=URL")
        call = Call(api, upstream, Who("", "", (), ""), started, t0)
        try:
            call.who = self._who(request)
            body = await self._body(request)
            call.who = Who(call.who.actor, call.who.agent, call.who.roles, self._session(request, body))
            call.info = wire.describe_request(api, body)
            if not suffix.endswith("/count_tokens"):
                self._check(call, request.state.raw)
            changed, found = redact_body(body, self.ruleset, self.key, self.clean)
            call.redacted = [{"path": r.path, "rule": r.rule} for r in found]
            raw = json.dumps(body, ensure_ascii=False).encode() if changed else request.state.raw
        except Refusal as refusal:
            await self._record(call, None, refusal.status, "deny", refusal.message)
            return self._error(api, refusal.status, refusal.message)
        return await self._forward(call, request, suffix, raw)

    # -- steps --------------------------------------------------------------------------------
    def _who(self, request: Request) -> Who:
        h = request.headers
        token = h.get("x-api-key") or ""
        auth = h.get("authorization") or ""
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        agent, _version = _agent_of(h.get("user-agent", ""), h.get("x-warden-agent", ""))
        entry = self.config.keys.lookup(token) if token else None
        if entry is not None:
            return Who(entry.actor, entry.agent or agent, entry.roles, "")
        client = request.client.host if request.client else None
        if self.config.dev and _loopback(client):
            return Who(self.whoami, agent, (), "")
        if token:
            raise Refusal(401, "Warden refused: this key is not a Warden gateway key. Agents get a gateway key "
                               "(`warden model-gateway keys add --actor NAME`), never the provider's key")
        raise Refusal(401, "Warden refused: no gateway key. Send one as x-api-key or Authorization: Bearer "
                           "(`warden model-gateway keys add --actor NAME`), or run the gateway with --dev for "
                           "loopback clients")

    async def _body(self, request: Request) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "")
        if "json" not in ctype:
            raise Refusal(415, f"Warden refused: the request body must be JSON (content-type {ctype or 'missing'})")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.config.max_body:
            raise Refusal(413, f"Warden refused: the request is larger than {self.config.max_body:,} bytes")
        buf = bytearray()
        async for chunk in request.stream():
            buf += chunk
            if len(buf) > self.config.max_body:
                raise Refusal(413, f"Warden refused: the request is larger than {self.config.max_body:,} bytes")
        request.state.raw = bytes(buf)
        try:
            body = json.loads(buf)
        except (ValueError, RecursionError) as exc:
            raise Refusal(400, f"Warden refused: the request body is not valid JSON ({exc})") from None
        if not isinstance(body, dict):
            raise Refusal(400, "Warden refused: the request body must be a JSON object")
        return body

    @staticmethod
    def _session(request: Request, body: dict[str, Any]) -> str:
        for header in _SESSION_HEADERS:
            value = request.headers.get(header)
            if value:
                return value[:200]
        meta = body.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("user_id"), str):
            m = _USER_SESSION.search(meta["user_id"])
            if m:
                return m.group(1)
            try:  # newer Claude Code sends a JSON object in user_id
                inner = json.loads(meta["user_id"])
                if isinstance(inner, dict) and inner.get("session_id"):
                    return str(inner["session_id"])[:200]
            except ValueError:
                pass
        key = body.get("prompt_cache_key")
        return key[:200] if isinstance(key, str) else ""

    def _check(self, call: Call, raw: bytes) -> None:
        policy = self.policy()
        info = call.info
        assert info is not None
        if not info.model:
            raise Refusal(400, "Warden refused: the request names no model")
        why = policy.approve(call.upstream.name, info.model, call.who)
        if why:
            raise Refusal(403, f"Warden refused: {why}")
        if policy.budgets:
            from warden.adapters.store.usage import UsageError

            try:
                states = budget_states(policy, call.who, time.time(), self.ledger.total)
            except UsageError as exc:
                raise Refusal(503, f"Warden refused: budgets cannot be checked ({exc})") from None
            planned = len(raw) // 4  # ~4 bytes a token: an estimate, before the upstream counts
            over = over_budget(states, planned_tokens=min(planned, 50_000))
            if over is not None:
                raise Refusal(429, f"Warden refused: {over.describe()}. Ask the policy owner to raise it, "
                                   "or wait for the window to reset")
        digest = hashlib.sha256(raw).hexdigest()
        session = call.who.session or call.who.actor
        last, repeats = self._last.get(session, ("", 0))
        repeats = repeats + 1 if last == digest else 1
        self._last[session] = (digest, repeats)
        if len(self._last) > 10_000:
            self._last.clear()
        if repeats > policy.loop_repeat:
            raise Refusal(429, f"Warden refused: the same request was sent {repeats} times in a row in this "
                               f"session (loop limit {policy.loop_repeat}); the agent looks stuck")

    async def _forward(self, call: Call, request: Request, suffix: str, raw: bytes) -> Response:
        up = call.upstream
        headers = {k: v for k in _FORWARD_HEADERS if (v := request.headers.get(k))}
        headers["content-type"] = "application/json"
        headers.update(up.auth_headers(self.config.environ))
        url = up.url + suffix + (f"?{request.url.query}" if request.url.query else "")
        try:
            upstream_req = self.client.build_request("POST", url, content=raw, headers=headers)
            resp = await self.client.send(upstream_req, stream=True)
        except httpx.TimeoutException as exc:
            msg = f"Warden: the upstream {up.name} did not answer in time ({type(exc).__name__})"
            await self._record(call, None, 504, "allow", msg, error=msg)
            return self._error(call.api, 504, msg)
        except httpx.HTTPError as exc:
            msg = f"Warden: the upstream {up.name} ({up.url}) cannot be reached: {type(exc).__name__}: {exc}"
            await self._record(call, None, 502, "allow", msg, error=msg)
            return self._error(call.api, 502, msg)
        summary = wire.ResponseSummary(call.api)
        streamed = "text/event-stream" in resp.headers.get("content-type", "")
        out_headers = {k: v for k, v in resp.headers.items() if k.lower() not in _HOP}
        return StreamingResponse(self._relay(call, resp, summary, streamed), status_code=resp.status_code,
                                 headers=out_headers)

    async def _relay(self, call: Call, resp: httpx.Response, summary: wire.ResponseSummary,
                     streamed: bool) -> AsyncIterator[bytes]:
        parser = wire.SSEParser() if streamed else None
        body = bytearray()
        first: float | None = None
        error = ""
        try:
            async for chunk in resp.aiter_raw():
                if first is None:
                    first = (time.perf_counter() - call.t0) * 1000
                yield chunk  # pass on at once; the summary is a side effect
                if parser is not None:
                    for event, data in parser.feed(chunk):
                        summary.feed_event(event, data)
                elif len(body) < MAX_SUMMARY_BODY:
                    body += chunk
        except (httpx.HTTPError, asyncio.CancelledError) as exc:
            error = f"the upstream stream broke off: {type(exc).__name__}: {exc}"
            if isinstance(exc, asyncio.CancelledError):
                error = "the client went away before the answer was complete"
            elif streamed:
                yield _stream_error(call.api, f"Warden: {error}")
        else:
            if streamed and resp.status_code < 400 and not summary.complete:
                # a close-delimited stream that stops early looks like a clean end at the HTTP level
                error = "the upstream stream ended before the answer was complete"
                yield _stream_error(call.api, f"Warden: {error}")
        finally:
            await resp.aclose()
            if not streamed and body:
                try:
                    summary.feed_json(json.loads(body))
                except ValueError:
                    error = error or "the upstream answered with a body that is not JSON"
            # recorded after the answer went out, so the agent never waits for the evidence write
            self._later(self._record(call, summary, resp.status_code, "allow", "", error=error or summary.error,
                                     first=first))

    # -- evidence -----------------------------------------------------------------------------
    def _later(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _record(self, call: Call, summary: wire.ResponseSummary | None, status: int, decision: str,
                      reason: str, *, error: str = "", first: float | None = None) -> None:
        try:
            await asyncio.to_thread(self._record_sync, call, summary, status, decision, reason, error, first)
        except Exception as exc:  # noqa: BLE001 — said loudly; the request itself already ran or was refused
            sys.stderr.write(f"warden model-gateway: could not record a model event: {exc}\n")

    def _record_sync(self, call: Call, summary: wire.ResponseSummary | None, status: int, decision: str,
                     reason: str, error: str, first: float | None) -> None:
        from warden.core.audit import model_event
        from warden.core.secrets import scan_text

        info = call.info
        try:
            policy = self.policy()
        except Refusal:
            policy = ModelPolicy()
        model = (summary.model if summary and summary.model else "") or (info.model if info else "")
        tin = summary.input_tokens if summary else 0
        tout = summary.output_tokens if summary else 0
        cost = policy.cost(model, tin, tout)
        if summary is not None and (tin or tout):
            self.ledger.add(actor=call.who.actor, agent=call.who.agent, session=call.who.session,
                            provider=call.upstream.name, model=model, input_tokens=tin, output_tokens=tout,
                            cost_usd=cost)
        plan = summary.plan if summary else ""
        calls = list(summary.tool_calls.values()) if summary else []
        answer = plan + "\n" + "\n".join(str(c.get("arguments", "")) for c in calls)
        response_findings = sorted({f.rule_id for f in scan_text(answer)}) if answer.strip() else []
        limit = policy.max_chars
        ev = model_event(
            started_at=call.started, session=call.who.session,
            actor={"id": call.who.actor, "agent": call.who.agent, "roles": list(call.who.roles)},
            api=call.api, provider=call.upstream.name, model=model, decision=decision, reason=reason,
            instruction=(info.instruction if info else "")[:limit],
            plan=plan[:limit] if policy.record_plan else "",
            reasoning=(summary.thinking[:limit] if summary and policy.record_plan else ""),
            tool_calls=calls, input_tokens=tin, output_tokens=tout, cost_usd=cost, status=status,
            latency_ms=(time.perf_counter() - call.t0) * 1000, first_byte_ms=first,
            redacted=call.redacted, response_findings=response_findings,
            streamed=bool(info and info.stream), error=error, redact=self.recorder.redact)
        self.recorder.record(ev)

    def _error(self, api: str, status: int, message: str) -> Response:
        # x-should-retry: the Anthropic and OpenAI SDKs retry 429/5xx unless told not to, and a
        # policy refusal does not go away by asking again
        return JSONResponse(wire.error_body(api, status, message), status_code=status,
                            headers={"x-warden-refused": "1", "x-should-retry": "false"})

    async def aclose(self) -> None:
        if self._pending:  # every answer that went out is recorded before the gateway stops
            await asyncio.wait(list(self._pending), timeout=30)
        await self.client.aclose()
        self.recorder.close()
        self.ledger.close()


def _stream_error(api: str, message: str) -> bytes:
    body = wire.error_body(api, 502, message)
    if api == wire.API_ANTHROPIC:
        return f"event: error\ndata: {json.dumps(body)}\n\n".encode()
    return f"data: {json.dumps(body)}\n\n".encode()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 — no passwd entry in some containers
        return "unknown"


def create_app(config: GatewayConfig) -> Starlette:
    """The ASGI app (for ``uvicorn``, or mounted inside the team server)."""
    return ModelGateway(config).app

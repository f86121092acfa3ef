"""``warden mcp gateway``: several upstream MCP servers behind one streamable-HTTP endpoint.

Config (YAML or JSON)::

    listen: {host: 127.0.0.1, port: 8930}
    servers:
      git:  {command: [python, -m, mcp_server_git, --repository, .], approve_first: true}
      docs: {url: http://127.0.0.1:9000/mcp}

Namespacing cannot collide: server names are ``[a-z0-9-]`` (never ``__`` or ``+``), tools and
prompts are offered as ``SERVER__NAME`` (split at the first ``__``), resource URIs and templates as
``SERVER+URI`` (split at the first ``+``, which a URI scheme may carry, so ``git+file:///x``).
Each upstream has its own :class:`~warden.integrations.mcp.guard.Guard`, so the policy sees
``mcp__SERVER__TOOL`` exactly as through the stdio proxy. Upstream pages are followed and merged
into one downstream page per list.

Downstream transport: POST /mcp with one JSON-RPC message, answered with ``application/json``, or
with an SSE stream when a tools/call asks for progress (``_meta.progressToken``): the upstream's
progress notifications for that call (under a token of the gateway's own, so clients cannot collide)
and then the answer. ``Mcp-Session-Id`` is issued on initialize and checked afterwards; GET
(server-initiated stream) is 405; DELETE ends the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warden.integrations.mcp import jsonrpc
from warden.integrations.mcp.guard import LISTS, Guard
from warden.integrations.mcp.upstream import HttpUpstream, StdioUpstream, UpstreamError

MAX_BODY = 4 * 1024 * 1024
MAX_SESSIONS = 10_000  # the oldest session is forgotten beyond this (a flood of initialize calls)
VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
_NS = {"tools/list": "__", "prompts/list": "__", "resources/list": "+", "resources/templates/list": "+"}
_KEY = {"tools/list": "name", "prompts/list": "name", "resources/list": "uri", "resources/templates/list": "uriTemplate"}


@dataclass
class ServerSpec:
    name: str
    command: list[str] | None = None
    url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    approve_first: bool = False
    timeout: float = 300.0
    relist_after: float = 60.0


@dataclass
class GatewayConfig:
    servers: list[ServerSpec]
    host: str = "127.0.0.1"
    port: int = 8930
    max_result_bytes: int = 1024 * 1024


def load_config(path: str) -> GatewayConfig:
    import yaml

    from warden.integrations.mcp import check_server_name

    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read gateway config {path}: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("servers"), dict) or not raw["servers"]:
        raise ValueError(f"{path}: needs a `servers:` mapping of name -> {{command: [...]}} or {{url: ...}}")
    unknown = set(raw) - {"listen", "servers", "max_result_bytes"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)} (allowed: listen, servers, max_result_bytes)")
    specs = []
    for name, s in raw["servers"].items():
        check_server_name(str(name))
        if not isinstance(s, dict) or bool(s.get("command")) == bool(s.get("url")):
            raise ValueError(f"{path}: server {name!r} needs exactly one of `command` (a list) or `url`")
        extra = set(s) - {"command", "url", "env", "headers", "approve_first", "timeout", "relist_after"}
        if extra:
            raise ValueError(f"{path}: server {name!r} has unknown keys {sorted(extra)}")
        cmd = s.get("command")
        if cmd is not None and (not isinstance(cmd, list) or not all(isinstance(c, str) for c in cmd)):
            raise ValueError(f"{path}: server {name!r}: command must be a list of strings")
        specs.append(ServerSpec(name=str(name), command=cmd, url=str(s.get("url") or ""),
                                env={str(k): str(v) for k, v in (s.get("env") or {}).items()},
                                headers={str(k): str(v) for k, v in (s.get("headers") or {}).items()},
                                approve_first=bool(s.get("approve_first")),
                                timeout=float(s.get("timeout", 300)),
                                relist_after=float(s.get("relist_after", 60))))
    listen = raw.get("listen") or {}
    return GatewayConfig(servers=specs, host=str(listen.get("host", "127.0.0.1")), port=int(listen.get("port", 8930)),
                         max_result_bytes=int(raw.get("max_result_bytes", 1024 * 1024)))


class McpGateway:
    """The aggregator: routes each downstream message to the right upstream and guard."""

    def __init__(self, cfg: GatewayConfig, environ: Mapping[str, str]) -> None:
        self.cfg = cfg
        self.environ = dict(environ)
        self.upstreams: dict[str, Any] = {}
        self.guards: dict[str, Guard] = {}
        self.sessions: dict[str, str] = {}  # session id -> client name
        self.session = f"mcp-gw-{uuid.uuid4().hex[:12]}"  # audit session of clients without a session id
        self.gateway: Any = None
        self.progress: dict[str, tuple[asyncio.Queue[dict[str, Any]], Any]] = {}  # our token -> (queue, theirs)
        self._tokens = itertools.count(1)

    def _notified(self, guard: Guard, msg: dict[str, Any]) -> None:
        guard.on_notification(msg)
        params = msg.get("params")
        if msg.get("method") == "notifications/progress" and isinstance(params, dict):
            route = self.progress.get(str(params.get("progressToken")))
            if route is not None:
                queue, theirs = route
                with contextlib.suppress(asyncio.QueueFull):  # a flood is dropped, not buffered
                    queue.put_nowait({**msg, "params": {**params, "progressToken": theirs}})

    def track_progress(self, msg: dict[str, Any]) -> tuple[dict[str, Any], str, asyncio.Queue[dict[str, Any]]] | None:
        """A tools/call asking for progress: the message with a token of ours, the token, its queue."""
        params = msg.get("params")
        if not isinstance(params, dict):
            return None
        meta = params.get("_meta")
        if msg.get("method") != "tools/call" or not isinstance(meta, dict) or meta.get("progressToken") is None:
            return None
        ours = f"warden-gw-{next(self._tokens)}"
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self.progress[ours] = (queue, meta["progressToken"])
        return {**msg, "params": {**params, "_meta": {**meta, "progressToken": ours}}}, ours, queue

    async def start(self) -> None:
        import os

        from warden.gateway import Gateway
        from warden.integrations.mcp import build_guard

        self.gateway = Gateway.from_env(environ=self.environ)
        for spec in self.cfg.servers:
            if spec.command:
                env = {**os.environ, **self.environ, **spec.env}
                up: Any = StdioUpstream(spec.name, spec.command, env)
                origin: list[str] | str = spec.command
            else:
                up = HttpUpstream(spec.name, spec.url, spec.headers)
                origin = spec.url
            up.timeout = spec.timeout
            guard = build_guard(spec.name, origin, environ=self.environ,
                                approve_first=spec.approve_first, max_result_bytes=self.cfg.max_result_bytes,
                                relist_after=spec.relist_after, gateway=self.gateway)
            up.on_notification = lambda msg, g=guard: self._notified(g, msg)
            try:
                await up.start()
            except (UpstreamError, OSError, TimeoutError) as exc:
                guard.record("upstream.error", f"not started: {exc}")
                print(f"warden mcp gateway: upstream {spec.name!r} not available: {exc}", file=sys.stderr, flush=True)
                await up.close()
                continue
            self.upstreams[spec.name] = up
            self.guards[spec.name] = guard

    async def close(self) -> None:
        for up in self.upstreams.values():
            await up.close()
        if self.gateway is not None:
            self.gateway.close()

    # -- one message ----------------------------------------------------------------------------------
    async def handle(self, msg: dict[str, Any], session: str) -> dict[str, Any] | None:
        kind = jsonrpc.kind(msg)
        if kind in ("notification", "response"):
            return None  # cancellations and answers have no upstream to go to in a shared session
        if kind != "request":
            return jsonrpc.error(msg.get("id") if isinstance(msg, dict) else None, jsonrpc.INVALID_REQUEST,
                                 "not a JSON-RPC 2.0 request (batches are not supported)")
        method, msg_id = msg["method"], msg["id"]
        raw_params = msg.get("params")
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        if method == "initialize":
            wanted = params.get("protocolVersion")
            return jsonrpc.result(msg_id, {
                "protocolVersion": wanted if wanted in VERSIONS else VERSIONS[0],
                "capabilities": {"tools": {}, "resources": {}, "prompts": {}},
                "serverInfo": {"name": "warden-mcp-gateway", "version": "1"},
                "instructions": "Tools of several MCP servers, as SERVER__TOOL, checked by Warden's policy."})
        if method == "ping":
            return jsonrpc.result(msg_id, {})
        if method in LISTS:
            return await self._list(method, msg_id)
        if method in ("tools/call", "prompts/get"):
            return await self._routed(msg, params, "name", "__")
        if method in ("resources/read", "resources/subscribe", "resources/unsubscribe"):
            return await self._routed(msg, params, "uri", "+")
        return jsonrpc.error(msg_id, jsonrpc.METHOD_NOT_FOUND, f"{method} is not available through the Warden gateway")

    async def _list(self, method: str, msg_id: Any) -> dict[str, Any]:
        field_name, sep, key = LISTS[method], _NS[method], _KEY[method]

        async def one(name: str) -> list[dict[str, Any]]:
            up, guard = self.upstreams[name], self.guards[name]
            items: list[dict[str, Any]] = []
            cursor = None
            for _ in range(100):
                params = {"cursor": cursor} if cursor else None
                response = await up.request(method, params)
                if "error" in response:
                    return items  # a server without this capability contributes nothing
                guard.filter_list(method, {"params": params}, response)
                result = response.get("result") or {}
                for item in result.get(field_name) or []:
                    items.append({**item, key: f"{name}{sep}{item[key]}"})
                cursor = result.get("nextCursor")
                if not cursor:
                    break
            return items

        pages = await asyncio.gather(*(one(n) for n in self.upstreams))
        return jsonrpc.result(msg_id, {field_name: [i for page in pages for i in page]})

    async def _routed(self, msg: dict[str, Any], params: dict[str, Any], key: str, sep: str) -> dict[str, Any]:
        value = params.get(key)
        server, _, inner = value.partition(sep) if isinstance(value, str) else ("", "", "")
        if server not in self.upstreams or not inner:
            why = f"{value!r} names no server of this gateway (expected SERVER{sep}{key.upper()})"
            if msg["method"] == "tools/call":
                return jsonrpc.tool_error(msg["id"], f"Warden refused the call: {why}")
            return jsonrpc.error(msg["id"], jsonrpc.INVALID_PARAMS, why)
        up, guard = self.upstreams[server], self.guards[server]
        inner_msg = {**msg, "params": {**params, key: inner}}
        reply = await guard.on_request(inner_msg, up)
        if reply is not None:
            return reply
        response = await up.forward(inner_msg)
        size = len(json.dumps(response.get("result", ""), separators=(",", ":")))
        guard.on_response(msg["method"], inner_msg, response, size)
        return response


def build_app(gw: McpGateway) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    async def mcp_endpoint(request: Request) -> Response:
        if request.method == "GET":
            return Response("this gateway has no server-initiated stream", status_code=405)
        session = request.headers.get("mcp-session-id", "")
        if request.method == "DELETE":
            gw.sessions.pop(session, None)
            return Response(status_code=200)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                gw_record(gw, f"a request body over {MAX_BODY} bytes was refused")
                return JSONResponse(jsonrpc.error(None, jsonrpc.INVALID_REQUEST, "request too large"), status_code=413)
        try:
            msg = json.loads(body)
        except ValueError as exc:
            gw_record(gw, f"malformed JSON from a client: {exc}")
            return JSONResponse(jsonrpc.error(None, jsonrpc.PARSE_ERROR, f"parse error: {exc}"), status_code=400)
        headers = {}
        if isinstance(msg, dict) and msg.get("method") == "initialize":
            session = uuid.uuid4().hex
            if len(gw.sessions) >= MAX_SESSIONS:
                gw.sessions.pop(next(iter(gw.sessions)))
            info = (msg.get("params") or {}).get("clientInfo") if isinstance(msg.get("params"), dict) else None
            gw.sessions[session] = str((info or {}).get("name", ""))[:100] if isinstance(info, dict) else ""
            headers["mcp-session-id"] = session
        elif session and session not in gw.sessions:
            return JSONResponse(jsonrpc.error(None, jsonrpc.INVALID_REQUEST, "unknown or ended session; initialize "
                                              "again"), status_code=404)
        from warden.integrations.mcp.guard import CLIENT

        CLIENT.set((f"mcp-gw-{session}" if session else gw.session, gw.sessions.get(session, "")))
        tracked = gw.track_progress(msg) if isinstance(msg, dict) else None
        if tracked is not None:
            return StreamingResponse(_progress_stream(gw, *tracked, session), media_type="text/event-stream",
                                     headers={**headers, "cache-control": "no-cache"})
        reply = await gw.handle(msg, session)
        if reply is None:
            return Response(status_code=202)
        return Response(jsonrpc.encode(reply), media_type="application/json", headers=headers)

    return Starlette(routes=[Route("/mcp", mcp_endpoint, methods=["GET", "POST", "DELETE"])])


async def _progress_stream(gw: McpGateway, msg: dict[str, Any], token: str, queue: asyncio.Queue[dict[str, Any]],
                           session: str) -> Any:
    """SSE: the call's progress notifications as they arrive, then its answer."""
    def event(m: dict[str, Any]) -> bytes:
        return b"event: message\ndata: " + jsonrpc.encode(m).rstrip(b"\n") + b"\n\n"

    call = asyncio.ensure_future(gw.handle(msg, session))
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({call, getter}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                yield event(getter.result())
                continue
            getter.cancel()
            while not queue.empty():
                yield event(queue.get_nowait())
            reply = call.result()
            if reply is not None:
                yield event(reply)
            return
    finally:
        gw.progress.pop(token, None)
        if not call.done():
            call.cancel()


def gw_record(gw: McpGateway, why: str) -> None:
    for guard in list(gw.guards.values())[:1]:
        guard.record("refused", why)


def serve(cfg: GatewayConfig, *, environ: Mapping[str, str], ready: Any = None) -> int:
    import uvicorn

    async def main() -> int:
        gw = McpGateway(cfg, environ)
        await gw.start()
        if not gw.upstreams:
            print("warden mcp gateway: no upstream server could be started; see the errors above", file=sys.stderr)
            await gw.close()
            return 1
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((cfg.host, cfg.port))
        sock.listen(128)  # connectable from the moment the address is printed
        host, port = sock.getsockname()[:2]
        print(f"warden mcp gateway: listening on http://{host}:{port}/mcp ({', '.join(gw.upstreams)})",
              file=sys.stderr, flush=True)
        server = uvicorn.Server(uvicorn.Config(build_app(gw), log_level="warning", lifespan="off"))
        try:
            await server.serve(sockets=[sock])
        finally:
            with contextlib.suppress(Exception):
                await gw.close()
        return 0

    return asyncio.run(main())

"""Upstream MCP connections for the HTTP gateway: a stdio child process or a streamable-HTTP server.

Both multiplex many downstream clients over one upstream session: each forwarded request gets an
id of the gateway's own, and the answer is mapped back. Server-to-client requests (sampling,
elicitation, roots) have no single client to go to here, so they are answered with an error; the
stdio proxy, which has exactly one client, passes them through.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from typing import Any

from warden.integrations.mcp import jsonrpc

PROTOCOL = "2025-11-25"
CLIENT_INFO = {"name": "warden-mcp-gateway", "version": "1"}


class UpstreamError(Exception):
    pass


class _Base:
    name: str
    on_notification: Callable[[dict[str, Any]], None] | None = None
    timeout: float = 300.0

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.initialize_result: dict[str, Any] = {}

    async def request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": f"gw-{next(self._ids)}", "method": method}
        if params is not None:
            msg["params"] = params
        return await self.send(msg)

    async def forward(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Send a client's request under an id of ours; the answer comes back under the client's id."""
        response = await self.request(msg["method"], msg.get("params"))
        response["id"] = msg.get("id")
        return response

    async def send(self, msg: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        raise NotImplementedError

    async def initialize(self) -> None:
        response = await self.request("initialize", {"protocolVersion": PROTOCOL, "capabilities": {},
                                                     "clientInfo": CLIENT_INFO})
        if "error" in response or not isinstance(response.get("result"), dict):
            raise UpstreamError(f"upstream {self.name!r} refused initialize: {json.dumps(response.get('error'))[:300]}")
        self.initialize_result = response["result"]
        await self.notify("notifications/initialized")


class StdioUpstream(_Base):
    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        super().__init__()
        self.name = name
        self.argv = argv
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.exited = ""

    async def start(self) -> None:
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=self.env)
        except OSError as exc:
            raise UpstreamError(f"cannot start upstream {self.name!r} ({self.argv[0]}): {exc.strerror or exc}") from None
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self.initialize(), 30)

    async def _read(self) -> None:
        assert self.proc and self.proc.stdout
        async for line in jsonrpc.lines(self.proc.stdout):
            if isinstance(line, jsonrpc.Oversized):
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            kind = jsonrpc.kind(msg)
            if kind == "response":
                fut = self.waiting.pop(jsonrpc.id_key(msg["id"]), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
            elif kind == "notification" and self.on_notification:
                self.on_notification(msg)
            elif kind == "request":  # sampling / elicitation / roots: no single client to ask
                with contextlib.suppress(Exception):
                    await self._write(jsonrpc.error(msg["id"], jsonrpc.METHOD_NOT_FOUND,
                                                    f"{msg['method']} is not available through the Warden gateway"))
        code = await self.proc.wait()
        self.exited = f"upstream {self.name!r} exited (code {code})"
        for fut in self.waiting.values():
            if not fut.done():
                fut.set_result(jsonrpc.error(None, jsonrpc.UPSTREAM_ERROR, self.exited))
        self.waiting.clear()

    async def _write(self, msg: dict[str, Any]) -> None:
        if self.exited or self.proc is None or self.proc.stdin is None:
            raise UpstreamError(self.exited or f"upstream {self.name!r} is not running")
        async with self._lock:
            self.proc.stdin.write(jsonrpc.encode(msg))
            await self.proc.stdin.drain()

    async def send(self, msg: dict[str, Any]) -> dict[str, Any]:
        key = jsonrpc.id_key(msg["id"])
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[key] = fut
        try:
            await self._write(msg)
            return await asyncio.wait_for(fut, self.timeout or None)  # 0: no limit
        except (UpstreamError, ConnectionError) as exc:
            return jsonrpc.error(msg["id"], jsonrpc.UPSTREAM_ERROR, str(exc))
        except TimeoutError:
            return jsonrpc.error(msg["id"], jsonrpc.REQUEST_TIMEOUT,
                                 f"upstream {self.name!r} did not answer {msg['method']} within {self.timeout:g} s")
        finally:
            self.waiting.pop(key, None)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        with contextlib.suppress(UpstreamError, ConnectionError):
            await self._write(msg)

    async def close(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(Exception):
            proc.stdin.close()  # type: ignore[union-attr]
        for stop in (None, proc.terminate, proc.kill):
            if stop is not None:
                with contextlib.suppress(ProcessLookupError):
                    stop()
            try:
                await asyncio.wait_for(proc.wait(), 2)
                return
            except TimeoutError:
                continue


class HttpUpstream(_Base):
    """A streamable-HTTP MCP server (2025-11-25 session protocol): JSON or SSE answers."""

    def __init__(self, name: str, url: str, headers: dict[str, str] | None = None) -> None:
        super().__init__()
        self.name = name
        self.url = url
        self.headers = dict(headers or {})
        self.session_id = ""
        self.client: Any = None

    async def start(self) -> None:
        if self.url.startswith("http://"):
            from warden.integrations.mcp.http1 import Http1Client

            self.raw: Any = Http1Client(self.url, limit=jsonrpc.MAX_MESSAGE_BYTES)
        else:
            import httpx2 as httpx  # the HTTP client the MCP SDK 2.x depends on (TLS upstreams)

            self.raw = None
            self.client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout or None, connect=10))
        await self.initialize()

    def _headers(self) -> dict[str, str]:
        h = {"accept": "application/json, text/event-stream", "content-type": "application/json",
             "mcp-protocol-version": PROTOCOL, **self.headers}
        if self.session_id:
            h["mcp-session-id"] = self.session_id
        return h

    def _event(self, msg_id: Any, found: list[dict[str, Any]]) -> Any:
        """An SSE event handler: notifications go on, the response to ``msg_id`` ends the exchange."""
        def on_event(message: Any) -> bool:
            kind = jsonrpc.kind(message)
            if kind == "response" and message.get("id") == msg_id:
                found.append(message)
                return True
            if kind == "notification" and self.on_notification:
                self.on_notification(message)
            return False

        return on_event

    async def _post(self, msg: dict[str, Any] | None, method: str = "POST") -> tuple[int, dict[str, str], bytes,
                                                                                      dict[str, Any] | None]:
        """(status, headers, body, the response when it came as an SSE event)."""
        body = jsonrpc.encode(msg) if msg is not None else b""
        found: list[dict[str, Any]] = []
        on_event = self._event(msg.get("id"), found) if msg is not None and "id" in msg else None
        if self.raw is not None:
            status, headers, data = await asyncio.wait_for(
                self.raw.request(method, body, self._headers(), on_event), self.timeout or None)
            return status, headers, data, (found[0] if found else None)
        async with self.client.stream(method, self.url, content=body, headers=self._headers()) as resp:
            data = bytearray()
            async for chunk in resp.aiter_bytes():
                data += chunk
                if len(data) > jsonrpc.MAX_MESSAGE_BYTES:  # read no further than the bound
                    raise UpstreamError(f"answered with more than {jsonrpc.MAX_MESSAGE_BYTES} bytes")
        headers = {k.lower(): v for k, v in resp.headers.items()}
        if on_event is not None and "text/event-stream" in headers.get("content-type", ""):
            for message in _sse_messages(data.decode("utf-8", "replace")):
                if on_event(message):
                    break
        return resp.status_code, headers, bytes(data), (found[0] if found else None)

    async def send(self, msg: dict[str, Any]) -> dict[str, Any]:
        try:
            status, headers, body, answer = await self._post(msg)
        except TimeoutError:
            return jsonrpc.error(msg["id"], jsonrpc.REQUEST_TIMEOUT,
                                 f"upstream {self.name!r} did not answer {msg['method']} within {self.timeout:g} s")
        except Exception as exc:
            return jsonrpc.error(msg["id"], jsonrpc.UPSTREAM_ERROR, f"upstream {self.name!r} failed: {exc}")
        if headers.get("mcp-session-id"):
            self.session_id = headers["mcp-session-id"]
        text = body.decode("utf-8", "replace")
        if status >= 400:
            return jsonrpc.error(msg["id"], jsonrpc.UPSTREAM_ERROR,
                                 f"upstream {self.name!r} answered HTTP {status}: {text[:300]}")
        if answer is not None:
            return answer
        if "text/event-stream" in headers.get("content-type", ""):
            return jsonrpc.error(msg["id"], jsonrpc.UPSTREAM_ERROR, f"upstream {self.name!r} sent no answer")
        try:
            return json.loads(text)
        except ValueError:
            return jsonrpc.error(msg["id"], jsonrpc.UPSTREAM_ERROR, f"upstream {self.name!r} sent non-JSON")

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        with contextlib.suppress(Exception):
            await self._post(msg)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.session_id:
                await self._post(None, "DELETE")
        if self.raw is not None:
            await self.raw.close()
        elif self.client is not None:
            await self.client.aclose()


def _sse_messages(body: str) -> list[Any]:
    out = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in block.split("\n") if line.startswith("data:"))
        if data:
            with contextlib.suppress(ValueError):
                out.append(json.loads(data))
    return out

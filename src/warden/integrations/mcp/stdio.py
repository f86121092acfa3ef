"""``warden mcp proxy``: one client on stdin/stdout, one upstream stdio server, the guard between.

The relay moves raw JSON-RPC lines. Each line is parsed once (to route it), but only the few
messages the policy cares about are re-encoded; everything else, including notifications,
progress, cancellation, logging, sampling and elicitation requests from the server, is written
back byte for byte. That keeps the added latency of a tools/call hop to a fraction of a
millisecond plus the policy decision.

Failure handling: an upstream that cannot start, dies or stops answering gets every pending
request an error naming the server and what to do; a client that goes away closes the upstream
(stdin first, then SIGTERM, then SIGKILL). Oversized or malformed lines from either side are
dropped with an error reply and an audit event, never buffered whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from warden.integrations.mcp import jsonrpc
from warden.integrations.mcp.guard import GUARDED_REQUESTS, LISTS, Guard

MAX_IN_FLIGHT = 4096


@dataclass
class _Pending:
    method: str
    msg: dict[str, Any]
    timer: asyncio.TimerHandle | None = None


@dataclass
class ProxyOptions:
    timeout: float = 300.0  # seconds an upstream may take to answer one request
    init_timeout: float = 30.0
    max_message_bytes: int = jsonrpc.MAX_MESSAGE_BYTES
    stderr: Any = None  # where the proxy's own diagnostics go (default sys.stderr)


@dataclass
class _Conn:
    """The upstream process as the guard sees it: something it can send its own requests to."""

    proxy: StdioProxy
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    ids: Any = field(default_factory=itertools.count)
    prefix: str = field(default_factory=lambda: f"warden-{uuid.uuid4().hex[:8]}-")

    async def request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        msg_id = f"{self.prefix}{next(self.ids)}"
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            msg["params"] = params
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[jsonrpc.id_key(msg_id)] = fut
        await self.proxy.to_upstream(jsonrpc.encode(msg))
        try:
            return await asyncio.wait_for(fut, self.proxy.opts.timeout or None)  # 0: no limit
        except TimeoutError:
            return jsonrpc.error(msg_id, jsonrpc.REQUEST_TIMEOUT, f"no answer within {self.proxy.opts.timeout:g} s")
        finally:
            self.waiting.pop(jsonrpc.id_key(msg_id), None)


class StdioProxy:
    def __init__(self, argv: list[str], guard: Guard, opts: ProxyOptions | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.guard = guard
        self.opts = opts or ProxyOptions()
        self.env = env
        self.pending: dict[str, _Pending] = {}
        self.cancelled: set[str] = set()
        self.conn = _Conn(self)
        self.proc: asyncio.subprocess.Process | None = None
        self.out: asyncio.StreamWriter | None = None
        self._write_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.start_error = ""

    @property
    def name(self) -> str:
        return self.guard.cfg.server

    def say(self, text: str) -> None:
        print(f"warden mcp proxy [{self.name}]: {text}", file=self.opts.stderr or sys.stderr, flush=True)

    # -- writing ------------------------------------------------------------------------------------
    async def to_client(self, data: bytes) -> None:
        assert self.out is not None
        async with self._write_lock:
            self.out.write(data if data.endswith(b"\n") else data + b"\n")
            await self.out.drain()

    async def to_upstream(self, data: bytes) -> None:
        if self.proc is None or self.proc.stdin is None or self.proc.stdin.is_closing():
            raise ConnectionError("the upstream server is not running")
        self.proc.stdin.write(data if data.endswith(b"\n") else data + b"\n")
        await self.proc.stdin.drain()

    # -- running ------------------------------------------------------------------------------------
    async def run(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> int:
        self.out = client_out
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=self.env,
                limit=1 << 16)
        except OSError as exc:
            self.start_error = (f"cannot start the MCP server {self.argv[0]!r}: {exc.strerror or exc}; "
                                "check the command in your MCP configuration")
            self.say(self.start_error)
            self.guard.record("upstream.error", self.start_error)
            await self._serve_errors(client_in)
            return 1
        upstream = asyncio.create_task(self._from_upstream())
        client = asyncio.create_task(self._from_client(client_in))
        done, _ = await asyncio.wait({upstream, client}, return_when=asyncio.FIRST_COMPLETED)
        if client in done:  # the client left: close the server politely, then firmly
            upstream.cancel()
            code = await self._stop_upstream()
        else:
            code = upstream.result()
            client.cancel()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            client_out.close()
        return code

    async def _serve_errors(self, client_in: asyncio.StreamReader) -> None:
        async for line in jsonrpc.lines(client_in, self.opts.max_message_bytes):
            if isinstance(line, jsonrpc.Oversized):
                continue
            with contextlib.suppress(ValueError):
                msg = json.loads(line)
                if jsonrpc.kind(msg) == "request":
                    await self.to_client(jsonrpc.encode(jsonrpc.error(msg["id"], jsonrpc.UPSTREAM_ERROR,
                                                                      self.start_error)))

    async def _stop_upstream(self) -> int:
        proc = self.proc
        assert proc is not None
        with contextlib.suppress(Exception):
            if proc.stdin:
                proc.stdin.close()
        for signal_it, wait in ((None, 2.0), (proc.terminate, 2.0), (proc.kill, 5.0)):
            if signal_it is not None:
                with contextlib.suppress(ProcessLookupError):
                    signal_it()
            try:
                await asyncio.wait_for(proc.wait(), wait)
                break
            except TimeoutError:
                continue
        return 0

    # -- client -> upstream -----------------------------------------------------------------------
    async def _from_client(self, client_in: asyncio.StreamReader) -> None:
        async for line in jsonrpc.lines(client_in, self.opts.max_message_bytes):
            if isinstance(line, jsonrpc.Oversized):
                self.guard.record("refused", f"a client message of {line.size} bytes was dropped (limit "
                                             f"{self.opts.max_message_bytes})")
                await self.to_client(jsonrpc.encode(jsonrpc.error(None, jsonrpc.INVALID_REQUEST,
                                                                  f"message too large ({line.size} bytes)")))
                continue
            await self._client_line(line)

    async def _client_line(self, line: bytes) -> None:
        try:
            msg = json.loads(line)
        except ValueError as exc:
            self.guard.record("refused", f"malformed JSON from the client: {exc}", once="client-json")
            await self.to_client(jsonrpc.encode(jsonrpc.error(None, jsonrpc.PARSE_ERROR, f"parse error: {exc}")))
            return
        kind = jsonrpc.kind(msg)
        if kind == "invalid":
            self.guard.record("refused", "an invalid JSON-RPC message from the client", once="client-invalid")
            msg_id = msg.get("id") if isinstance(msg, dict) else None
            await self.to_client(jsonrpc.encode(jsonrpc.error(msg_id, jsonrpc.INVALID_REQUEST,
                                                              "not a JSON-RPC 2.0 message (batches are not "
                                                              "supported by MCP 2025-06-18 and later)")))
            return
        if kind == "notification":
            if msg["method"] == "notifications/cancelled":
                params = msg.get("params")
                if isinstance(params, dict) and "requestId" in params:
                    self.cancelled.add(jsonrpc.id_key(params["requestId"]))
            await self._forward(line)
            return
        if kind == "response":
            await self._forward(line)  # answers to the server's sampling/elicitation/roots requests
            return
        method = msg["method"]
        key = jsonrpc.id_key(msg["id"])
        if len(self.pending) >= MAX_IN_FLIGHT:
            await self.to_client(jsonrpc.encode(jsonrpc.error(msg["id"], jsonrpc.INTERNAL_ERROR,
                                                              "too many requests in flight")))
            return
        if method == "initialize":
            params = msg.get("params")
            info = params.get("clientInfo") if isinstance(params, dict) else None
            if isinstance(info, dict) and isinstance(info.get("name"), str):
                self.guard.cfg.agent = info["name"][:100]
        if method in GUARDED_REQUESTS:
            task = asyncio.create_task(self._guarded(msg, key, line))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self._track(key, method, msg)
        await self._forward(line)

    async def _guarded(self, msg: dict[str, Any], key: str, line: bytes) -> None:
        try:
            reply = await self.guard.on_request(msg, self.conn)
        except Exception as exc:  # fail closed: the call does not reach the server
            reply = jsonrpc.tool_error(msg["id"], f"Warden could not decide this call: {type(exc).__name__}: {exc}")
        if key in self.cancelled:
            self.cancelled.discard(key)
            return
        if reply is not None:
            await self.to_client(jsonrpc.encode(reply))
            return
        self._track(key, msg["method"], msg)
        await self._forward(line)

    def _track(self, key: str, method: str, msg: dict[str, Any]) -> None:
        timeout = self.opts.init_timeout if method == "initialize" else self.opts.timeout
        pending = _Pending(method, msg)
        if timeout > 0:
            pending.timer = asyncio.get_running_loop().call_later(timeout, self._timed_out, key)
        self.pending[key] = pending

    def _timed_out(self, key: str) -> None:
        pending = self.pending.pop(key, None)
        if pending is None:
            return
        limit = self.opts.init_timeout if pending.method == "initialize" else self.opts.timeout
        why = (f"the MCP server {self.name!r} did not answer {pending.method} within {limit:g} s; "
               "it may be hung (raise the limit with --timeout)")
        self.say(why)
        self.guard.record("upstream.error", why)
        msg_id = pending.msg["id"]
        cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled",
                  "params": {"requestId": msg_id, "reason": "timed out in Warden's proxy"}}

        async def send() -> None:
            with contextlib.suppress(Exception):
                await self.to_upstream(jsonrpc.encode(cancel))
            await self.to_client(jsonrpc.encode(jsonrpc.error(msg_id, jsonrpc.REQUEST_TIMEOUT, why)))

        task = asyncio.ensure_future(send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _forward(self, line: bytes) -> None:
        try:
            await self.to_upstream(line)
        except (ConnectionError, BrokenPipeError, RuntimeError):
            pass  # the upstream reader reports the exit and answers what is pending

    # -- upstream -> client -----------------------------------------------------------------------
    async def _from_upstream(self) -> int:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        async for line in jsonrpc.lines(proc.stdout, self.opts.max_message_bytes):
            if isinstance(line, jsonrpc.Oversized):
                self.guard.record("refused", f"a server message of {line.size} bytes was dropped "
                                             f"(limit {self.opts.max_message_bytes})")
                self.say(f"dropped a message of {line.size} bytes from the server")
                continue
            await self._upstream_line(line)
        code = await proc.wait()
        why = (f"the MCP server {self.name!r} exited (code {code}) before answering; check its stderr above "
               "and the command in your MCP configuration")
        if self.pending or self.conn.waiting:
            self.guard.record("upstream.error", why)
            self.say(why)
        for key, pending in list(self.pending.items()):
            self.pending.pop(key, None)
            if pending.timer:
                pending.timer.cancel()
            with contextlib.suppress(Exception):
                await self.to_client(jsonrpc.encode(jsonrpc.error(pending.msg["id"], jsonrpc.UPSTREAM_ERROR, why)))
        for fut in self.conn.waiting.values():
            if not fut.done():
                fut.set_result(jsonrpc.error(None, jsonrpc.UPSTREAM_ERROR, why))
        # guarded calls still deciding get their answer from the failed futures; let them finish writing
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        return 0 if code == 0 else 1

    async def _upstream_line(self, line: bytes) -> None:
        try:
            msg = json.loads(line)
        except ValueError:
            self.guard.record("refused", "the server wrote a line that is not JSON (dropped)", once="server-json")
            self.say(f"dropped a non-JSON line from the server: {line[:120]!r}")
            return
        kind = jsonrpc.kind(msg)
        if kind == "response":
            key = jsonrpc.id_key(msg["id"])
            fut = self.conn.waiting.get(key)
            if fut is not None:
                if not fut.done():
                    fut.set_result(msg)
                return
            pending = self.pending.pop(key, None)
            if pending is None:
                return  # an answer nobody is waiting for (timed out, or made up): not the client's concern
            if pending.timer:
                pending.timer.cancel()
            if pending.method in LISTS or pending.method in ("tools/call", "resources/read", "prompts/get"):
                try:
                    changed = self.guard.on_response(pending.method, pending.msg, msg, len(line))
                except Exception as exc:  # fail closed: a result we could not check is not passed on
                    changed = True
                    msg = jsonrpc.error(msg["id"], jsonrpc.INTERNAL_ERROR,
                                        f"Warden could not check this result: {type(exc).__name__}: {exc}")
                if changed:
                    await self.to_client(jsonrpc.encode(msg))
                    return
            await self.to_client(line)
            return
        if kind == "notification":
            self.guard.on_notification(msg)
        elif kind == "invalid":
            self.guard.record("refused", "the server sent an invalid JSON-RPC message (dropped)", once="server-inv")
            return
        await self.to_client(line)


async def stdio_streams() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """This process's stdin/stdout as asyncio streams (pipes or files alike)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 16)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(0, "rb", 0, closefd=False))
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                        os.fdopen(1, "wb", 0, closefd=False))
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    return reader, writer

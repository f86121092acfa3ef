"""A minimal HTTP/1.1 client for plain-``http://`` MCP upstreams (keep-alive, chunked, SSE, bounded).

Why not the SDK's HTTP client: each request through it costs about 2 ms of client overhead on this
kind of machine, more than the whole gateway budget; this client costs a fraction of that because
it does only what a streamable-HTTP POST needs. ``https://`` upstreams use the SDK's client (TLS).

Bounds: header lines and count, and the body (``limit`` bytes) are capped; an SSE answer is parsed
as it streams, so the caller gets the response as soon as its event is complete (notifications
before it are handed to ``on_event``), and a stream left open after it is closed, not awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

MAX_HEADERS = 100


class HttpError(Exception):
    pass


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.reused = False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Http1Client:
    def __init__(self, url: str, *, limit: int, pool: int = 16) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"not a plain http URL: {url}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.limit = limit
        self.pool_size = pool
        self.idle: list[_Conn] = []

    async def _connect(self) -> _Conn:
        while self.idle:
            conn = self.idle.pop()
            if not conn.reader.at_eof():
                conn.reused = True
                return conn
            conn.close()
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=1 << 16)
        return _Conn(reader, writer)

    async def request(self, method: str, body: bytes, headers: dict[str, str],
                      on_event: Callable[[Any], bool] | None = None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body). With ``on_event``, SSE events are handed over as they arrive; it
        returns True for the event that ends the exchange (the response), and the body is then empty."""
        conn = await self._connect()
        try:
            try:
                return await self._exchange(conn, method, body, headers, on_event)
            except (ConnectionError, asyncio.IncompleteReadError, _Closed):
                if not conn.reused:
                    raise
                conn.close()  # a kept-alive connection the server had closed: once more on a fresh one
                conn = _Conn(*await asyncio.open_connection(self.host, self.port, limit=1 << 16))
                return await self._exchange(conn, method, body, headers, on_event)
        except BaseException:
            conn.close()
            raise

    async def _exchange(self, conn: _Conn, method: str, body: bytes, headers: dict[str, str],
                        on_event: Callable[[Any], bool] | None) -> tuple[int, dict[str, str], bytes]:
        head = [f"{method} {self.path} HTTP/1.1", f"host: {self.host}:{self.port}", f"content-length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        conn.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await conn.writer.drain()
        status_line = await conn.reader.readline()
        if not status_line:
            raise _Closed()
        try:
            status = int(status_line.split()[1])
        except (IndexError, ValueError):
            raise HttpError(f"not an HTTP response: {status_line[:80]!r}") from None
        resp: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = await conn.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            resp[k.strip().lower()] = v.strip()
        else:
            raise HttpError(f"more than {MAX_HEADERS} response headers")
        sse = on_event is not None and "text/event-stream" in resp.get("content-type", "")
        events = _SseParser(on_event) if sse and on_event else None
        data = bytearray()
        done = False
        async for piece in self._body(conn, resp):
            if events is not None:
                done = events.feed(piece)
                if done:
                    break
            else:
                data += piece
                if len(data) > self.limit:
                    raise HttpError(f"answer larger than {self.limit} bytes")
        reusable = not done and resp.get("connection", "").lower() != "close" and method != "DELETE"
        if reusable and len(self.idle) < self.pool_size:
            self.idle.append(conn)
        else:
            conn.close()
        return status, resp, bytes(data)

    async def _body(self, conn: _Conn, resp: dict[str, str]) -> Any:
        reader, total = conn.reader, 0
        if resp.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await reader.readline()
                    return
                total += size
                if total > self.limit:
                    raise HttpError(f"answer larger than {self.limit} bytes")
                yield await reader.readexactly(size)
                await reader.readline()
        elif "content-length" in resp:
            length = int(resp["content-length"])
            if length > self.limit:
                raise HttpError(f"answer larger than {self.limit} bytes")
            if length:
                yield await reader.readexactly(length)
        else:  # until the server closes
            resp["connection"] = "close"
            while chunk := await reader.read(1 << 16):
                total += len(chunk)
                if total > self.limit:
                    raise HttpError(f"answer larger than {self.limit} bytes")
                yield chunk

    async def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


class _Closed(Exception):
    """The server closed the connection before answering."""


class _SseParser:
    def __init__(self, on_event: Callable[[Any], bool]) -> None:
        self.on_event = on_event
        self.buf = b""

    def feed(self, piece: bytes) -> bool:
        self.buf += piece
        while True:
            self.buf = self.buf.replace(b"\r\n", b"\n")
            end = self.buf.find(b"\n\n")
            if end < 0:
                return False
            block, self.buf = self.buf[:end], self.buf[end + 2:]
            data = b"\n".join(line[5:].lstrip() for line in block.split(b"\n") if line.startswith(b"data:"))
            if data:
                try:
                    message = json.loads(data)
                except ValueError:
                    continue
                if self.on_event(message):
                    return True

"""JSON-RPC 2.0 framing for MCP: classify, build replies, read bounded lines.

Messages travel as raw bytes wherever Warden has nothing to say about them; only the methods the
policy cares about are parsed further. A line longer than the bound is discarded while it streams
in (never buffered whole), and the caller is told so it can answer with an error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

MAX_MESSAGE_BYTES = 16 * 1024 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UPSTREAM_ERROR = -32000  # the upstream server died, hung or spoke nonsense
REQUEST_TIMEOUT = -32001


def id_key(msg_id: Any) -> str:
    """A hashable, type-preserving key for a JSON-RPC id (1 and "1" are different requests)."""
    return json.dumps(msg_id, separators=(",", ":"))


def kind(msg: Any) -> str:
    """request | notification | response | invalid."""
    if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
        return "invalid"
    if "method" in msg:
        if not isinstance(msg["method"], str):
            return "invalid"
        return "request" if "id" in msg else "notification"
    if "id" in msg and ("result" in msg or "error" in msg):
        return "response"
    return "invalid"


def error(msg_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": msg_id, "error": err}


def result(msg_id: Any, value: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "result": value}


def tool_error(msg_id: Any, text: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """A refused tools/call: a normal result with ``isError`` so the model reads the reason."""
    value: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": True}
    if meta:
        value["_meta"] = meta
    return result(msg_id, value)


def encode(msg: Any) -> bytes:
    return json.dumps(msg, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


class Oversized(Exception):
    """A line exceeded the bound; ``size`` is how many bytes were discarded."""

    def __init__(self, size: int) -> None:
        super().__init__(f"message of more than {size} bytes discarded")
        self.size = size


class LineReader:
    """``await next_line()`` -> bytes without the newline, ``b""`` at EOF; raises :class:`Oversized`."""

    def __init__(self, reader: asyncio.StreamReader, limit: int = MAX_MESSAGE_BYTES) -> None:
        self.reader = reader
        self.limit = limit
        self.buf = bytearray()

    async def next_line(self) -> bytes | None:
        dropping = 0
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line = bytes(self.buf[:nl])
                del self.buf[: nl + 1]
                if dropping:
                    raise Oversized(dropping + len(line))
                if line.strip():
                    return line.rstrip(b"\r")
                continue
            if len(self.buf) > self.limit:
                dropping += len(self.buf)
                self.buf.clear()
            chunk = await self.reader.read(1 << 16)
            if not chunk:
                if dropping:
                    raise Oversized(dropping)
                rest = bytes(self.buf).strip()
                self.buf.clear()
                return rest or None
            self.buf += chunk


async def lines(stream: asyncio.StreamReader, limit: int = MAX_MESSAGE_BYTES) -> AsyncIterator[bytes | Oversized]:
    """Each line of ``stream`` until EOF; a line over ``limit`` comes as an :class:`Oversized` to report."""
    reader = LineReader(stream, limit)
    while True:
        try:
            line = await reader.next_line()
        except Oversized as exc:
            yield exc
            continue
        if line is None:
            return
        yield line

"""The plain-HTTP upstream client against a small asyncio server that answers in every framing."""

from __future__ import annotations

import asyncio
import json

import pytest

from warden.integrations.mcp.http1 import Http1Client, HttpError


async def _serve(answers: list[bytes], close_after: bool = False):
    """Answers each request with the next canned bytes; optionally closes the connection after each."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")))
            seen.append(await reader.readexactly(length))
            writer.write(answers.pop(0))
            await writer.drain()
            if close_after:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/mcp", seen


def run(coro):
    return asyncio.run(coro)


def test_json_chunked_and_sse_answers():
    body = b'{"jsonrpc":"2.0","id":1,"result":{}}'
    sse = b'event: message\r\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\r\n\r\n' \
          b'event: message\r\ndata: {"jsonrpc":"2.0","id":2,"result":{"ok":true}}\r\n\r\n'
    answers = [b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body) + body,
               b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
               + b"%x\r\n" % len(sse) + sse + b"\r\n0\r\n\r\n"]

    async def main():
        server, url, seen = await _serve(answers)
        client = Http1Client(url, limit=1 << 20)
        status, _, data = await client.request("POST", b'{"a":1}', {})
        events = []
        await client.request("POST", b'{"b":2}', {"accept": "text/event-stream"},
                             lambda m: events.append(m) or "id" in m)
        await client.close()
        server.close()
        return status, data, events, seen

    status, data, events, seen = run(main())
    assert status == 200 and json.loads(data)["id"] == 1
    assert [e.get("method", e.get("id")) for e in events] == ["notifications/progress", 2]
    assert seen == [b'{"a":1}', b'{"b":2}'], "both requests went over one kept-alive connection"


def test_oversized_answer_is_refused_without_reading_it():
    answers = [b"HTTP/1.1 200 OK\r\ncontent-length: 999999999\r\n\r\n"]

    async def main():
        server, url, _ = await _serve(answers)
        try:
            with pytest.raises(HttpError, match="larger than"):
                await Http1Client(url, limit=1024).request("POST", b"{}", {})
        finally:
            server.close()

    run(main())


def test_a_closed_kept_alive_connection_is_retried_once():
    ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"

    async def main():
        server, url, seen = await _serve([ok, ok], close_after=True)
        client = Http1Client(url, limit=1024)
        first = await client.request("POST", b"1", {})
        await asyncio.sleep(0.05)  # the server has closed the idle connection by now
        second = await client.request("POST", b"2", {})
        server.close()
        return first[0], second[0], seen

    assert run(main()) == (200, 200, [b"1", b"2"])

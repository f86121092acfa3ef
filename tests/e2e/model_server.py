"""A scripted stand-in for the Anthropic Messages API, for driving the real Claude Code CLI.

The real CLI talks to ``ANTHROPIC_BASE_URL``; this server answers with scripted turns and records
every request body, so a test can assert both what Claude Code *did* (files on disk, the audit log)
and what it *sent to the model* (no secret ever appears in a later request).

Which turn to play is derived from the conversation itself, not from a request counter: the
number of assistant messages already in ``messages`` is the step index. Retries, and the side
requests Claude Code makes (title generation, quota probes, token counting — recognised by having
no ``Bash`` tool), therefore never shift the script.

Run standalone for manual poking::

    python tests/e2e/model_server.py --script script.json --port 8765
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "claude-sonnet-4-5"


@dataclass
class ToolCall:
    name: str
    input: dict[str, Any]


@dataclass
class Turn:
    """One assistant turn: optional text, then zero or more tool calls (zero ends the session)."""

    text: str = ""
    tools: list[ToolCall] = field(default_factory=list)

    @classmethod
    def bash(cls, command: str, text: str = "") -> Turn:
        return cls(text=text, tools=[ToolCall("Bash", {"command": command, "description": "scripted"})])

    @classmethod
    def tool(cls, name: str, text: str = "", **tool_input: Any) -> Turn:
        return cls(text=text, tools=[ToolCall(name, dict(tool_input))])

    @classmethod
    def from_json(cls, obj: Any) -> Turn:
        if isinstance(obj, str):
            return cls(text=obj)
        return cls(text=obj.get("text", ""), tools=[ToolCall(t["name"], t["input"]) for t in obj.get("tools", [])])


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class ModelServer:
    """Threaded HTTP server; use as a context manager. ``requests`` holds every parsed body."""

    def __init__(self, script: list[Turn], final_text: str = "All scripted steps are done.") -> None:
        self.script = list(script)
        self.final_text = final_text
        self.requests: list[dict[str, Any]] = []
        self.raw_bodies: list[bytes] = []
        self.paths: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- what the tests inspect -------------------------------------------------------------
    def main_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if _is_main(r)]

    def all_request_text(self) -> str:
        """Every byte the CLI sent, decoded: the place a leaked secret would show up."""
        with self._lock:
            return "\n".join(b.decode("utf-8", "replace") for b in self.raw_bodies)

    def tool_results(self) -> list[str]:
        """Text of every tool_result block the CLI sent back, in order (deduplicated)."""
        seen: list[str] = []
        for req in self.main_requests():
            for msg in req.get("messages", []):
                content = msg.get("content")
                if not isinstance(content, list):
                    continue
                for block in content:
                    if isinstance(block, dict) and block.get("type") == "tool_result":
                        text = _block_text(block.get("content"))
                        if text not in seen:
                            seen.append(text)
        return seen

    # --- the protocol ---------------------------------------------------------------------
    def _turn_for(self, body: dict[str, Any]) -> Turn:
        if not _is_main(body):
            return Turn(text="Scripted side answer.")
        step = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")
        if step < len(self.script):
            return self.script[step]
        return Turn(text=self.final_text)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, fmt: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _send_json(self, status: int, obj: Any) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                with server._lock:
                    server.paths.append("GET " + self.path)
                self._send_json(200, {})

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                with server._lock:
                    server.paths.append("POST " + self.path)
                    server.raw_bodies.append(raw)
                    server.requests.append(body if isinstance(body, dict) else {})
                path = self.path.split("?")[0]
                if path.endswith("/count_tokens"):
                    self._send_json(200, {"input_tokens": 42})
                    return
                if not path.endswith("/v1/messages"):
                    self._send_json(200, {})
                    return
                turn = server._turn_for(body if isinstance(body, dict) else {})
                if body.get("stream"):
                    self._stream(turn, body)
                else:
                    self._send_json(200, server._message(turn, body))

            def _stream(self, turn: Turn, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                msg = server._message(turn, body)
                content = msg.pop("content")
                msg["content"] = []
                msg["stop_reason"] = None
                out = [_sse("message_start", {"type": "message_start", "message": msg})]
                for index, block in enumerate(content):
                    if block["type"] == "text":
                        out.append(_sse("content_block_start", {"type": "content_block_start", "index": index,
                                                                "content_block": {"type": "text", "text": ""}}))
                        out.append(_sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                                "delta": {"type": "text_delta",
                                                                          "text": block["text"]}}))
                    else:
                        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                        out.append(_sse("content_block_start", {"type": "content_block_start", "index": index,
                                                                "content_block": start}))
                        encoded = json.dumps(block["input"])
                        # Split the JSON like the real API does, so partial-JSON assembly is exercised.
                        for i in range(0, len(encoded), 40):
                            out.append(_sse("content_block_delta", {
                                "type": "content_block_delta", "index": index,
                                "delta": {"type": "input_json_delta", "partial_json": encoded[i:i + 40]}}))
                    out.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
                stop = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
                out.append(_sse("message_delta", {"type": "message_delta",
                                                  "delta": {"stop_reason": stop, "stop_sequence": None},
                                                  "usage": {"output_tokens": 12}}))
                out.append(_sse("message_stop", {"type": "message_stop"}))
                self.wfile.write(b"".join(out))
                self.wfile.flush()
                self.close_connection = True

        return Handler

    def _message(self, turn: Turn, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            n = next(self._ids)
        content: list[dict[str, Any]] = []
        if turn.text or not turn.tools:
            content.append({"type": "text", "text": turn.text or "ok"})
        for i, call in enumerate(turn.tools):
            content.append({"type": "tool_use", "id": f"toolu_{n:04d}_{i}", "name": call.name, "input": call.input})
        return {
            "id": f"msg_{n:04d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model") or MODEL,
            "content": content,
            "stop_reason": "tool_use" if turn.tools else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 12, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0},
        }


def _is_main(body: dict[str, Any]) -> bool:
    tools = body.get("tools") or []
    return any(isinstance(t, dict) and t.get("name") == "Bash" for t in tools)


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--script", help="JSON list of turns: strings or {text, tools:[{name,input}]}")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    turns = []
    if args.script:
        with open(args.script, encoding="utf-8") as fh:
            turns = [Turn.from_json(t) for t in json.load(fh)]
    srv = ModelServer(turns)
    srv._httpd.server_close()
    srv._httpd = ThreadingHTTPServer(("127.0.0.1", args.port), srv._handler())
    print(f"scripted model server on http://127.0.0.1:{args.port}", flush=True)
    try:
        srv._httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

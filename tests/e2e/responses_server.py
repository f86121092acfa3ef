"""A scripted stand-in for the OpenAI Responses streaming API, for the real Codex and Copilot CLIs.

Both CLIs take a custom base URL (Codex: ``model_providers.<name>.base_url`` with
``wire_api = "responses"``; Copilot: ``COPILOT_PROVIDER_BASE_URL`` with
``COPILOT_PROVIDER_WIRE_API=responses``) and ``POST {base}/responses`` with ``stream: true``.

The turn to play is derived from the conversation, not a request counter: the number of
``function_call_output`` items already in ``input`` is the step index, so retries and side
requests (titles, summaries) never shift the script. Every body is recorded, so a test can assert
what the CLI sent to the model (a redacted secret must never appear in a later request).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    """One scripted assistant step: a function call (``name`` + JSON ``arguments``) or, with no
    name, a final text answer."""

    name: str = ""
    arguments: dict[str, Any] | None = None
    text: str = ""


class ResponsesServer:
    def __init__(self, script: list[Call], final_text: str = "All scripted steps are done.") -> None:
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
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ResponsesServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- what tests inspect ------------------------------------------------------------------
    def all_request_text(self) -> str:
        with self._lock:
            return "\n".join(b.decode("utf-8", "replace") for b in self.raw_bodies)

    def tool_outputs(self) -> list[str]:
        """Every function_call_output the CLI sent back, in order, deduplicated."""
        seen: list[str] = []
        for body in list(self.requests):
            for item in body.get("input") or []:
                if isinstance(item, dict) and item.get("type") == "function_call_output":
                    out = item.get("output")
                    text = out if isinstance(out, str) else json.dumps(out)
                    if text not in seen:
                        seen.append(text)
        return seen

    # --- protocol ----------------------------------------------------------------------------
    def _step(self, body: dict[str, Any]) -> Call:
        step = sum(1 for item in body.get("input") or []
                   if isinstance(item, dict) and item.get("type") == "function_call_output")
        return self.script[step] if step < len(self.script) else Call(text=self.final_text)

    def _item(self, call: Call) -> dict[str, Any]:
        n = next(self._ids)
        if call.name:
            return {"type": "function_call", "id": f"fc_{n}", "call_id": f"call_{n}", "name": call.name,
                    "arguments": json.dumps(call.arguments or {}), "status": "completed"}
        return {"type": "message", "id": f"msg_{n}", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": call.text, "annotations": []}]}

    _USAGE = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 5,
              "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 15}

    def _response(self, body: dict[str, Any]) -> dict[str, Any]:
        """The whole response at once, for clients that do not stream (the OpenAI Agents SDK)."""
        return {"id": f"resp_{next(self._ids)}", "object": "response", "created_at": 0, "status": "completed",
                "model": str(body.get("model") or "gpt-5"), "output": [self._item(self._step(body))],
                "usage": self._USAGE, "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}

    def _events(self, body: dict[str, Any]) -> list[bytes]:
        item = self._item(self._step(body))
        rid = f"resp_{next(self._ids)}"
        model = str(body.get("model") or "gpt-5")
        base = {"id": rid, "object": "response", "model": model, "output": []}
        usage = self._USAGE
        events = [
            ("response.created", {"type": "response.created", "response": {**base, "status": "in_progress"}}),
            ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                            "item": {**item, "status": "in_progress"}}),
        ]
        if item["type"] == "message":
            events.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": item["id"],
                                                          "output_index": 0, "content_index": 0,
                                                          "delta": item["content"][0]["text"]}))
        events += [
            ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
            ("response.completed", {"type": "response.completed", "response": {
                **base, "status": "completed", "output": [item], "usage": usage}}),
        ]
        return [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:
                pass

            def _json(self, status: int, obj: Any) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                with server._lock:
                    server.paths.append("GET " + self.path)
                if self.path.split("?")[0].endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "gpt-5.4", "object": "model"}]})
                    return
                self._json(200, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                body = body if isinstance(body, dict) else {}
                with server._lock:
                    server.paths.append("POST " + self.path)
                    server.raw_bodies.append(raw)
                    server.requests.append(body)
                if not self.path.split("?")[0].endswith("/responses"):
                    self._json(404, {"error": {"message": f"not scripted: {self.path}"}})
                    return
                if not body.get("stream"):
                    self._json(200, server._response(body))
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                for chunk in server._events(body):
                    self.wfile.write(chunk)
                self.wfile.flush()
                self.close_connection = True

        return Handler

"""A scripted OpenAI-compatible server (Chat Completions and Responses, plain and streamed).

Records every request body; answers each request with the next scripted turn (text and optional
tool calls). Misbehaviour on demand: ``mode="drop"`` cuts a stream mid-way, ``mode="slow"`` waits
between events, ``mode="garbage"`` answers with a non-JSON body.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class OpenAIServer:
    def __init__(self, text: str = "Plan: list the files.", tool: tuple[str, dict[str, Any]] | None = None,
                 mode: str = "ok", usage: tuple[int, int] = (200, 30)) -> None:
        self.text = text
        self.tool = tool
        self.mode = mode
        self.usage = usage
        self.requests: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> OpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def all_text(self) -> str:
        with self._lock:
            return "\n".join(b.decode("utf-8", "replace") for b in self.raw)

    # -- answers ----------------------------------------------------------------------------
    def _chat(self) -> dict[str, Any]:
        msg: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool:
            msg["tool_calls"] = [{"id": "call_1", "type": "function",
                                  "function": {"name": self.tool[0], "arguments": json.dumps(self.tool[1])}}]
        return {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
                "choices": [{"index": 0, "message": msg, "finish_reason": "tool_calls" if self.tool else "stop"}],
                "usage": {"prompt_tokens": self.usage[0], "completion_tokens": self.usage[1]}}

    def _chat_events(self) -> list[bytes]:
        out = []
        for piece in (self.text[: len(self.text) // 2], self.text[len(self.text) // 2:]):
            out.append({"choices": [{"index": 0, "delta": {"content": piece}}], "model": "gpt-test"})
        if self.tool:
            args = json.dumps(self.tool[1])
            out.append({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "id": "call_1", "type": "function", "function": {"name": self.tool[0], "arguments": ""}}]}}]})
            for i in range(0, len(args), 7):
                out.append({"choices": [{"index": 0, "delta": {"tool_calls": [
                    {"index": 0, "function": {"arguments": args[i:i + 7]}}]}}]})
        out.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": self.usage[0], "completion_tokens": self.usage[1]}})
        return [f"data: {json.dumps(e)}\n\n".encode() for e in out] + [b"data: [DONE]\n\n"]

    def _responses_output(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                                        "content": [{"type": "output_text", "text": self.text}]}]
        if self.tool:
            items.append({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": self.tool[0],
                          "arguments": json.dumps(self.tool[1]), "status": "completed"})
        return items

    def _responses(self) -> dict[str, Any]:
        return {"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-test",
                "output": self._responses_output(),
                "usage": {"input_tokens": self.usage[0], "output_tokens": self.usage[1]}}

    def _responses_events(self) -> list[bytes]:
        ev: list[tuple[str, dict[str, Any]]] = [("response.created", {"type": "response.created", "response": {
            "id": "resp_1", "status": "in_progress", "model": "gpt-test"}})]
        ev.append(("response.output_text.delta", {"type": "response.output_text.delta", "delta": self.text}))
        for item in self._responses_output():
            ev.append(("response.output_item.added", {"type": "response.output_item.added", "item": item}))
            ev.append(("response.output_item.done", {"type": "response.output_item.done", "item": item}))
        ev.append(("response.completed", {"type": "response.completed", "response": self._responses()}))
        return [f"event: {n}\ndata: {json.dumps(d)}\n\n".encode() for n, d in ev]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, fmt: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(n)
                with server._lock:
                    server.raw.append(raw)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    try:
                        server.requests.append(json.loads(raw))
                    except ValueError:
                        server.requests.append({})
                body = server.requests[-1]
                path = self.path.split("?")[0]
                if server.mode == "garbage":
                    self._send(200, b"<html>not json", "application/json")
                    return
                if body.get("stream"):
                    events = server._responses_events() if path.endswith("/responses") else server._chat_events()
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("connection", "close")
                    self.end_headers()
                    for i, e in enumerate(events):
                        if server.mode == "drop" and i == len(events) // 2:
                            self.wfile.flush()
                            self.connection.shutdown(2)
                            return
                        self.wfile.write(e)
                        self.wfile.flush()
                        if server.mode == "slow":
                            time.sleep(0.05)
                    self.close_connection = True
                    return
                obj = server._responses() if path.endswith("/responses") else server._chat()
                self._send(200, json.dumps(obj).encode(), "application/json")

            def _send(self, status: int, data: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

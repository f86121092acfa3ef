"""A scripted stand-in for the Gemini API (``streamGenerateContent?alt=sse``), for the real Gemini CLI.

Gemini CLI posts to ``$GOOGLE_GEMINI_BASE_URL/v1beta/models/MODEL:streamGenerateContent?alt=sse``.
The step to play is the number of ``functionResponse`` parts already in ``contents``, so side
requests (the CLI's own routing/next-speaker checks, which carry no tools) never shift the script;
those get a plain text answer. Every body is recorded for the tests to inspect.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    """A function call (``name`` + ``args``) or, with no name, a final text answer."""

    name: str = ""
    args: dict[str, Any] | None = None
    text: str = ""


def _parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for c in body.get("contents") or [] if isinstance(c, dict) for p in c.get("parts") or []
            if isinstance(p, dict)]


class GeminiServer:
    def __init__(self, script: list[Call], final_text: str = "All scripted steps are done.") -> None:
        self.script = list(script)
        self.final_text = final_text
        self.requests: list[dict[str, Any]] = []
        self.raw_bodies: list[bytes] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> GeminiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def all_request_text(self) -> str:
        with self._lock:
            return "\n".join(b.decode("utf-8", "replace") for b in self.raw_bodies)

    def tool_outputs(self) -> list[str]:
        """The text of every functionResponse the CLI sent back, in order, deduplicated."""
        seen: list[str] = []
        for body in list(self.requests):
            for part in _parts(body):
                if "functionResponse" in part:
                    text = json.dumps(part["functionResponse"].get("response"), ensure_ascii=False)
                    if text not in seen:
                        seen.append(text)
        return seen

    def _reply(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("tools"):
            # the CLI's own side questions (e.g. "who speaks next"): answer as the model would
            return {"candidates": [{"content": {"role": "model", "parts": [{"text": '{"next_speaker": "user", '
                                                                                   '"reasoning": "done"}'}]},
                                    "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2}}
        step = sum(1 for p in _parts(body) if "functionResponse" in p)
        call = self.script[step] if step < len(self.script) else Call(text=self.final_text)
        part = ({"functionCall": {"name": call.name, "args": call.args or {}}} if call.name else {"text": call.text})
        return {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
                "modelVersion": "gemini-2.5-flash"}

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
                path = self.path.split("?")[0]
                if path.endswith(":countTokens"):
                    self._json(200, {"totalTokens": 10})
                    return
                reply = server._reply(body)
                if ":streamGenerateContent" not in path:
                    self._json(200, reply)
                    return
                data = f"data: {json.dumps(reply)}\r\n\r\n".encode()
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

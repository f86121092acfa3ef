"""A man in the middle on 127.0.0.1 for the bundle tests: forwards GETs to the real server, and lets a test
rewrite the JSON answer of any path (tamper with a bundle, replay an old one, forge a rotation chain)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

Rewrite = Callable[[Any], Any]


class MitmProxy:
    def __init__(self, upstream: str) -> None:
        self.rewrites: dict[str, Rewrite] = {}  # path -> function of the server's JSON answer
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                r = httpx.get(upstream + self.path, headers={"authorization": self.headers.get("authorization", "")})
                body = r.content
                rewrite = outer.rewrites.get(self.path)
                if rewrite is not None and r.status_code == 200:
                    body = json.dumps(rewrite(r.json())).encode()
                self.send_response(r.status_code)
                self.send_header("content-type", r.headers.get("content-type", "application/json"))
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

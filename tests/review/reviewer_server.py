"""A scripted OpenAI-compatible reviewer (stand-in for a local vLLM/Ollama model) for the auto-review tier.

``mode``: ``policy`` judges the card with a fixed, conservative rule set (the "scripted reviewer policy");
``approve-all`` approves everything (a compromised or sycophantic model: the guardrails must hold);
``timeout`` never answers in time; ``garbage`` answers non-JSON; ``refuse`` refuses; ``extra`` adds fields.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RISKY = ("fs.", "net.upload", "net.listen", "net.tunnel", "net.reverse_shell", "git.force", "git.push", "cloud.",
         "priv.", "persist.", "sys.", "exec.remote_package", "exec.script_outside", "db.", "container.", "pkg.publish",
         "secret.", "flow.", "guard.")
REGISTRIES = ("pypi.org", "files.pythonhosted.org", "registry.npmjs.org", "registry.yarnpkg.com", "crates.io",
              "proxy.golang.org", "github.com", "docs.python.org")


def scripted_judgement(card: dict[str, Any]) -> dict[str, str]:
    kinds = [f.get("kind", "") for f in card.get("facts", [])]
    if card.get("outside_workspace"):
        return {"decision": "escalate", "risk": "high", "reason": "touches paths outside the workspace"}
    if any(k.startswith(RISKY) for k in kinds):
        return {"decision": "escalate", "risk": "high", "reason": f"risky effect: {next(k for k in kinds if k.startswith(RISKY))}"}
    command = str(card.get("command") or "")
    words = command.split()
    if any(w in ("-g", "--global", "--user", "global") or "://" in w or w.startswith("git+") for w in words):
        return {"decision": "escalate", "risk": "medium", "reason": "installs globally or from a URL"}
    if words[:1] and words[0] in ("apt", "apt-get", "brew", "yum", "dnf", "pacman", "snap", "code"):
        return {"decision": "escalate", "risk": "medium", "reason": "changes the machine, not the project"}
    hosts = card.get("hosts") or []
    if any(not h.endswith(REGISTRIES) for h in hosts):
        return {"decision": "escalate", "risk": "medium", "reason": "an unfamiliar host"}
    return {"decision": "approve", "risk": "low", "reason": "routine, inside the project, reversible"}


class ReviewerServer:
    def __init__(self, mode: str = "policy") -> None:
        self.mode = mode
        self.requests: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReviewerServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                server.requests.append(body)
                card = json.loads(body["messages"][1]["content"].split("\n", 1)[1])
                mode = server.mode
                if mode == "timeout":
                    time.sleep(3)
                msg: dict[str, Any] = {"role": "assistant"}
                if mode == "garbage":
                    msg["content"] = "Sure! I think this is fine."
                elif mode == "refuse":
                    msg["content"], msg["refusal"] = None, "I can't help with that."
                elif mode == "approve-all":
                    msg["content"] = json.dumps({"decision": "approve", "risk": "low", "reason": "looks fine"})
                elif mode == "extra":
                    msg["content"] = json.dumps({"decision": "approve", "risk": "low", "reason": "x", "note": "y"})
                else:
                    msg["content"] = json.dumps(scripted_judgement(card))
                data = json.dumps({"id": "r1", "object": "chat.completion", "model": body.get("model"),
                                   "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}).encode()
                try:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        return Handler

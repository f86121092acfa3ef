"""A scripted stand-in for the Gemini API (``streamGenerateContent?alt=sse``), for the real Gemini CLI.

Gemini CLI posts to ``$GOOGLE_GEMINI_BASE_URL/v1beta/models/MODEL:streamGenerateContent?alt=sse``.
The step to play is the number of ``functionResponse`` parts already in ``contents``, so side
requests (the CLI's own routing/next-speaker checks, which carry no tools) never shift the script;
those get a plain text answer. Every body is recorded for the tests to inspect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from scripted_http import ScriptedServer


@dataclass
class Call:
    """A function call (``name`` + ``args``) or, with no name, a final text answer."""

    name: str = ""
    args: dict[str, Any] | None = None
    text: str = ""


def _parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for c in body.get("contents") or [] if isinstance(c, dict) for p in c.get("parts") or []
            if isinstance(p, dict)]


class GeminiServer(ScriptedServer):
    def __init__(self, script: list[Call], final_text: str = "All scripted steps are done.") -> None:
        self.script = list(script)
        self.final_text = final_text
        super().__init__()

    @property
    def url(self) -> str:
        return self.address

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

    def answer(self, handler: BaseHTTPRequestHandler, path: str, body: dict[str, Any]) -> None:
        if path.endswith(":countTokens"):
            self.send_json(handler, 200, {"totalTokens": 10})
            return
        reply = self._reply(body)
        if ":streamGenerateContent" not in path:
            self.send_json(handler, 200, reply)
            return
        data = f"data: {json.dumps(reply)}\r\n\r\n".encode()
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

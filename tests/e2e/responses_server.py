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
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from scripted_http import ScriptedServer


@dataclass
class Call:
    """One scripted assistant step: a function call (``name`` + JSON ``arguments``) or, with no
    name, a final text answer."""

    name: str = ""
    arguments: dict[str, Any] | None = None
    text: str = ""


class ResponsesServer(ScriptedServer):
    def __init__(self, script: list[Call], final_text: str = "All scripted steps are done.") -> None:
        self.script = list(script)
        self.final_text = final_text
        self._ids = itertools.count(1)
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.address}/v1"

    # --- what tests inspect ------------------------------------------------------------------
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

    def answer(self, handler: BaseHTTPRequestHandler, path: str, body: dict[str, Any]) -> None:
        if not path.endswith("/responses"):
            self.send_json(handler, 404, {"error": {"message": f"not scripted: {path}"}})
            return
        if not body.get("stream"):
            self.send_json(handler, 200, self._response(body))
            return
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.send_header("connection", "close")
        handler.end_headers()
        for chunk in self._events(body):
            handler.wfile.write(chunk)
        handler.wfile.flush()
        handler.close_connection = True

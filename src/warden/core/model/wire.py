"""The three model APIs an agent speaks, as far as the model gateway needs to understand them.

Pure: bytes and JSON in, plain values out. For each API (``anthropic`` = Messages, ``chat`` = OpenAI
Chat Completions, ``responses`` = OpenAI Responses) this module knows

* what a request asks for: the model, whether it streams, the user's instruction (the latest user
  text that is not a tool result), and which fields carry content (every string is redacted);
* what a response says, plain or streamed: text (the model's plan), reasoning, the tool calls it
  proposes (id, name) and the token usage — accumulated incrementally from SSE so the gateway can
  pass every byte through at once and still know the totals at the end;
* how to refuse in that API's own error format, so an agent shows the reason instead of crashing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

API_ANTHROPIC = "anthropic"
API_CHAT = "chat"
API_RESPONSES = "responses"

# Path suffix -> API. Anything else the gateway does not forward (it cannot vouch for it).
ROUTES = {
    "/v1/messages": API_ANTHROPIC,
    "/v1/messages/count_tokens": API_ANTHROPIC,
    "/v1/chat/completions": API_CHAT,
    "/v1/responses": API_RESPONSES,
    "/chat/completions": API_CHAT,
    "/responses": API_RESPONSES,
}

MAX_TEXT = 8000  # characters kept of an instruction or a plan (the audit log bounds again)
_REMINDER = "<system-reminder>"


def api_for_path(path: str) -> str | None:
    return ROUTES.get(path.rstrip("/") or "/")


@dataclass(slots=True)
class RequestInfo:
    api: str
    model: str
    stream: bool
    instruction: str  # the latest user text, not a tool result
    n_messages: int
    tool_results: list[str]  # tool_use ids whose results this request carries


def _text_of(content: Any) -> str:
    """Text of a content value: a string, or a list of blocks/parts with ``text``."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict) and block.get("type") in (None, "text", "input_text", "output_text"):
                text = block.get("text")
                if isinstance(text, str) and not text.lstrip().startswith(_REMINDER):
                    parts.append(text)
        return "\n".join(parts)
    return ""


def describe_request(api: str, body: dict[str, Any]) -> RequestInfo:
    raw_model = body.get("model")
    model = raw_model if isinstance(raw_model, str) else ""
    stream = body.get("stream") is True
    instruction = ""
    results: list[str] = []
    if api == API_RESPONSES:
        items = body.get("input")
        if isinstance(items, str):
            instruction, items = items, []
        items = items if isinstance(items, list) else []
        for item in items:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "function_call_output":
                results.append(str(item.get("call_id", "")))
            elif item.get("role") == "user":
                text = _text_of(item.get("content"))
                if text:
                    instruction = text
        n = len(items)
    else:
        messages = body.get("messages")
        messages = messages if isinstance(messages, list) else []
        for msg in messages:
            if not isinstance(msg, dict):
                continue
            role, content = msg.get("role"), msg.get("content")
            if role == "tool":  # chat: one message per tool result
                results.append(str(msg.get("tool_call_id", "")))
                continue
            if role != "user":
                continue
            if isinstance(content, list):
                ids = [str(b.get("tool_use_id", "")) for b in content
                       if isinstance(b, dict) and b.get("type") == "tool_result"]
                results.extend(ids)
            text = _text_of(content)
            if text:
                instruction = text
        n = len(messages)
    return RequestInfo(api, model, stream, instruction[:MAX_TEXT], n, results)


# --- responses ----------------------------------------------------------------------------------


@dataclass
class ResponseSummary:
    """What the model answered: filled from a JSON body or, event by event, from an SSE stream."""

    api: str
    model: str = ""
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {id, name, arguments}
    input_tokens: int = 0
    output_tokens: int = 0
    stop: str = ""
    error: str = ""
    complete: bool = False  # a stream saw its end marker (message_stop, [DONE], response.completed)
    _index: dict[Any, str] = field(default_factory=dict)  # stream index -> tool call id
    _chars: int = 0

    # -- helpers ----------------------------------------------------------------------------
    def _add(self, bucket: list[str], text: Any) -> None:
        if isinstance(text, str) and text and self._chars < 4 * MAX_TEXT:
            bucket.append(text)
            self._chars += len(text)

    def _call(self, call_id: str, name: Any, arguments: Any = "") -> None:
        entry = self.tool_calls.setdefault(call_id, {"id": call_id, "name": "", "arguments": ""})
        if isinstance(name, str) and name:
            entry["name"] = name
        if isinstance(arguments, str) and len(entry["arguments"]) < MAX_TEXT:
            entry["arguments"] += arguments
        elif isinstance(arguments, dict) and arguments:
            entry["arguments"] = json.dumps(arguments)[:MAX_TEXT]

    def _usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        inp = usage.get("input_tokens", usage.get("prompt_tokens"))
        out = usage.get("output_tokens", usage.get("completion_tokens"))
        cached = sum(int(usage.get(k) or 0) for k in ("cache_creation_input_tokens", "cache_read_input_tokens")
                     if isinstance(usage.get(k), int))
        if isinstance(inp, int) and inp >= 0:
            self.input_tokens = max(self.input_tokens, inp + cached)
        if isinstance(out, int) and out >= 0:
            self.output_tokens = max(self.output_tokens, out)

    @property
    def plan(self) -> str:
        return "".join(self.text)[:MAX_TEXT]

    @property
    def thinking(self) -> str:
        return "".join(self.reasoning)[:MAX_TEXT]

    # -- whole bodies -----------------------------------------------------------------------
    def feed_json(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        if isinstance(body.get("error"), dict):
            self.error = str(body["error"].get("message", ""))[:500]
        if isinstance(body.get("model"), str):
            self.model = body["model"]
        self._usage(body.get("usage"))
        if self.api == API_ANTHROPIC:
            self.stop = str(body.get("stop_reason") or "")
            for block in body.get("content") or []:
                self._anthropic_block(block)
        elif self.api == API_CHAT:
            for choice in body.get("choices") or []:
                if not isinstance(choice, dict):
                    continue
                msg = choice.get("message") or {}
                self.stop = str(choice.get("finish_reason") or self.stop)
                self._add(self.text, msg.get("content"))
                self._add(self.reasoning, msg.get("reasoning_content"))
                for call in msg.get("tool_calls") or []:
                    if isinstance(call, dict):
                        fn = call.get("function") or {}
                        self._call(str(call.get("id", "")), fn.get("name"), fn.get("arguments", ""))
        else:
            self.stop = str(body.get("status") or "")
            for item in body.get("output") or []:
                self._responses_item(item)

    def _anthropic_block(self, block: Any) -> None:
        if not isinstance(block, dict):
            return
        kind = block.get("type")
        if kind == "text":
            self._add(self.text, block.get("text"))
        elif kind == "thinking":
            self._add(self.reasoning, block.get("thinking"))
        elif kind in ("tool_use", "server_tool_use"):
            self._call(str(block.get("id", "")), block.get("name"), block.get("input") or "")

    def _responses_item(self, item: Any) -> None:
        if not isinstance(item, dict):
            return
        kind = item.get("type")
        if kind == "message":
            if not self.text:  # deltas already collected it when streamed
                self._add(self.text, _text_of(item.get("content")))
        elif kind == "reasoning":
            if not self.reasoning:
                for part in item.get("summary") or []:
                    if isinstance(part, dict):
                        self._add(self.reasoning, part.get("text"))
        elif kind in ("function_call", "custom_tool_call", "local_shell_call"):
            call_id = str(item.get("call_id") or item.get("id") or "")
            args = item.get("arguments", item.get("input", ""))
            entry = self.tool_calls.get(call_id)
            if entry is None or not entry["arguments"]:
                self._call(call_id, item.get("name") or kind, args)

    # -- streamed events --------------------------------------------------------------------
    def feed_event(self, event: str, data: Any) -> None:
        """One SSE event (its ``event:`` name, may be empty, and its decoded ``data:``)."""
        if data is None and event == "done":  # chat's `data: [DONE]`
            self.complete = True
            return
        if not isinstance(data, dict):
            return
        kind = data.get("type") or event
        if self.api == API_ANTHROPIC:
            if kind == "message_start":
                msg = data.get("message") or {}
                if isinstance(msg, dict):
                    self.model = str(msg.get("model") or self.model)
                    self._usage(msg.get("usage"))
            elif kind == "content_block_start":
                block = data.get("content_block") or {}
                if isinstance(block, dict) and block.get("type") in ("tool_use", "server_tool_use"):
                    self._index[data.get("index")] = str(block.get("id", ""))
                    self._call(str(block.get("id", "")), block.get("name"))
                else:
                    self._anthropic_block(block)
            elif kind == "content_block_delta":
                delta = data.get("delta") or {}
                if not isinstance(delta, dict):
                    return
                dtype = delta.get("type")
                if dtype == "text_delta":
                    self._add(self.text, delta.get("text"))
                elif dtype == "thinking_delta":
                    self._add(self.reasoning, delta.get("thinking"))
                elif dtype == "input_json_delta" and data.get("index") in self._index:
                    self._call(self._index[data.get("index")], None, delta.get("partial_json", ""))
            elif kind == "message_stop":
                self.complete = True
            elif kind == "message_delta":
                delta = data.get("delta") or {}
                if isinstance(delta, dict):
                    self.stop = str(delta.get("stop_reason") or self.stop)
                self._usage(data.get("usage"))
            elif kind == "error":
                err = data.get("error") or {}
                self.error = str(err.get("message", "") if isinstance(err, dict) else err)[:500]
        elif self.api == API_CHAT:
            self.model = str(data.get("model") or self.model)
            self._usage(data.get("usage"))
            for choice in data.get("choices") or []:
                if not isinstance(choice, dict):
                    continue
                self.stop = str(choice.get("finish_reason") or self.stop)
                delta = choice.get("delta") or {}
                if not isinstance(delta, dict):
                    continue
                self._add(self.text, delta.get("content"))
                self._add(self.reasoning, delta.get("reasoning_content"))
                for call in delta.get("tool_calls") or []:
                    if not isinstance(call, dict):
                        continue
                    idx = call.get("index", 0)
                    if call.get("id"):
                        self._index[idx] = str(call["id"])
                    call_id = self._index.get(idx, f"call_{idx}")
                    fn = call.get("function") or {}
                    self._call(call_id, fn.get("name"), fn.get("arguments", ""))
        else:
            if kind == "response.output_text.delta":
                self._add(self.text, data.get("delta"))
            elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
                self._add(self.reasoning, data.get("delta"))
            elif kind in ("response.output_item.done", "response.output_item.added"):
                self._responses_item(data.get("item"))
            elif kind in ("response.completed", "response.incomplete", "response.failed", "response.created"):
                resp = data.get("response") or {}
                self.complete = self.complete or kind != "response.created"
                if isinstance(resp, dict):
                    self.model = str(resp.get("model") or self.model)
                    self.stop = str(resp.get("status") or self.stop)
                    self._usage(resp.get("usage"))
                    err = resp.get("error")
                    if isinstance(err, dict) and err.get("message"):
                        self.error = str(err["message"])[:500]
            elif kind == "error":
                self.error = str(data.get("message") or data.get("error") or "")[:500]


class SSEParser:
    """Incremental Server-Sent Events parser: bytes in any chunking -> (event, data) pairs.

    Bounded: a single event larger than ``max_event`` bytes is dropped (counted in ``dropped``)
    rather than buffered without end; the bytes themselves were already passed on untouched.
    """

    def __init__(self, max_event: int = 4 * 1024 * 1024) -> None:
        self._buf = bytearray()
        self.max_event = max_event
        self.dropped = 0
        self.malformed = 0

    def feed(self, chunk: bytes) -> list[tuple[str, Any]]:
        self._buf += chunk
        out: list[tuple[str, Any]] = []
        while True:
            cut, width = _boundary(self._buf)
            if cut < 0:
                if len(self._buf) > self.max_event:
                    self._buf.clear()
                    self.dropped += 1
                return out
            raw = bytes(self._buf[:cut])
            del self._buf[:cut + width]
            parsed = self._event(raw)
            if parsed is not None:
                out.append(parsed)

    def _event(self, raw: bytes) -> tuple[str, Any] | None:
        name, data = "", []
        for line in raw.decode("utf-8", "replace").splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if not data:
            return None
        text = "\n".join(data)
        if text.strip() == "[DONE]":
            return (name or "done", None)
        try:
            return (name, json.loads(text))
        except ValueError:
            self.malformed += 1
            return None


def _boundary(buf: bytearray) -> tuple[int, int]:
    """Index and width of the first blank line (``\\n\\n`` or ``\\r\\n\\r\\n``) in ``buf``."""
    a = buf.find(b"\n\n")
    b = buf.find(b"\r\n\r\n")
    if a < 0:
        return (b, 4) if b >= 0 else (-1, 0)
    if 0 <= b < a:
        return b, 4
    return a, 2


# --- refusals in each API's own shape ------------------------------------------------------------


def error_body(api: str, status: int, message: str) -> dict[str, Any]:
    """An error the agent's SDK understands (and shows): Anthropic's or OpenAI's shape."""
    if api == API_ANTHROPIC:
        kind = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    code = {401: "invalid_api_key", 403: "model_not_allowed", 429: "insufficient_quota",
            413: "request_too_large"}.get(status, "warden_error")
    kind = {429: "insufficient_quota", 401: "invalid_request_error"}.get(status, "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}

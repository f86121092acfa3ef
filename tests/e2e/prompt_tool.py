"""A stand-in for the human at Claude Code's permission prompt: a tiny MCP stdio server.

Headless ``claude -p`` sends every ask to ``--permission-prompt-tool mcp__prompt__approve``. This
server answers by rule (approve when the tool input contains one of the words given on the command
line, refuse otherwise) and appends each call to a log, so a test knows what the "human" saw.
Newline-delimited JSON-RPC 2.0, the MCP stdio transport; only what Claude Code needs.

    python prompt_tool.py LOGFILE WORD [WORD...]
"""

from __future__ import annotations

import json
import sys


def answer(args: dict, approve_words: list[str]) -> dict:
    shown = json.dumps(args.get("input", {}))
    if any(w in shown for w in approve_words):
        return {"behavior": "allow", "updatedInput": args.get("input", {})}
    return {"behavior": "deny", "message": "The reviewer refused this command."}


def main() -> None:
    log, words = sys.argv[1], sys.argv[2:]
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        method, mid = msg.get("method"), msg.get("id")
        if mid is None:
            continue  # notifications (initialized, cancelled) need no answer
        if method == "initialize":
            result = {"protocolVersion": msg["params"].get("protocolVersion", "2025-06-18"),
                      "capabilities": {"tools": {}}, "serverInfo": {"name": "prompt", "version": "1"}}
        elif method == "tools/list":
            result = {"tools": [{"name": "approve", "description": "Ask the reviewer",
                                 "inputSchema": {"type": "object", "properties": {
                                     "tool_name": {"type": "string"}, "input": {"type": "object"},
                                     "tool_use_id": {"type": "string"}}}}]}
        elif method == "tools/call":
            args = msg["params"].get("arguments", {})
            decision = answer(args, words)
            with open(log, "a") as fh:
                fh.write(json.dumps({"args": args, "decision": decision}) + "\n")
            result = {"content": [{"type": "text", "text": json.dumps(decision)}]}
        elif method == "ping":
            result = {}
        else:
            sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": mid,
                                         "error": {"code": -32601, "message": f"no method {method}"}}) + "\n")
            sys.stdout.flush()
            continue
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": mid, "result": result}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

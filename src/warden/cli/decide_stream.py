"""The `warden decide` loop without click, so per-action callers pay only for deciding.

Shared by the click command (``warden.cli.decide``) and the fast dispatch in
``warden.cli.main``; both honour exactly the same contract.
"""

from __future__ import annotations

import json
import sys
from typing import Any, BinaryIO

from warden.core.limits import MAX_PAYLOAD_BYTES


def parse_payload(raw: bytes) -> tuple[Any, str | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"input is not valid UTF-8 (byte {exc.start}); send JSON encoded as UTF-8"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    except RecursionError:
        return None, "JSON nested too deeply"


def bad_input(error: str) -> dict[str, Any]:
    from warden.core.decision import Verdict

    return Verdict.fail_closed(error, reason=f"denied: {error}").to_json()


def read_line(stream: BinaryIO, limit: int) -> tuple[bytes | None, bool]:
    """One line, at most ``limit`` bytes; an over-long line is drained and flagged."""
    line = stream.readline(limit + 1)
    if not line:
        return None, False
    if len(line) > limit and not line.endswith(b"\n"):
        while True:  # drain the rest of the oversized line without keeping it
            chunk = stream.readline(1 << 20)
            if not chunk or chunk.endswith(b"\n"):
                break
        return b"", True
    return line, False


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _via_daemon(payload: Any, policy_file: str | None, cwd: str | None, audit: bool) -> dict[str, Any] | None:
    """One verdict from the warm daemon (same Gateway code, engine already loaded), or None."""
    import os

    from warden.integrations.daemon import decide as daemon_decide

    if not isinstance(payload, dict) or not daemon_decide.enabled(os.environ):
        return None
    if not audit:
        os.environ["WARDEN_AUDIT"] = "0"  # the daemon decides with this process's environment
    answer = daemon_decide.ask(payload, os.environ, cwd or os.getcwd(), policy_file)
    if answer is None:
        return None
    if "error" in answer:
        return bad_input(answer["error"])
    return answer["verdict"]


def run_decide(policy_file: str | None, cwd: str | None, jsonl: bool, audit: bool) -> int:
    stdin = sys.stdin.buffer
    if not jsonl:  # one action per process: the daemon spares it the engine's start-up
        raw = stdin.read(MAX_PAYLOAD_BYTES + 1)
        if len(raw) > MAX_PAYLOAD_BYTES:
            _emit(bad_input(f"input larger than {MAX_PAYLOAD_BYTES} bytes"))
            return 0
        payload, error = parse_payload(raw)
        if error:
            _emit(bad_input(error))
            return 0
        answer = _via_daemon(payload, policy_file, cwd, audit)
        if answer is not None:
            _emit(answer)
            return 0
    from warden.gateway import Gateway

    gw = Gateway.from_env(cwd=cwd, policy_file=policy_file, audit=audit)
    try:
        if not jsonl:
            _emit(gw.decide_payload(payload).to_json())
            return 0
        while True:
            line, oversized = read_line(stdin, MAX_PAYLOAD_BYTES)
            if line is None:
                return 0
            if oversized:
                _emit(bad_input(f"line larger than {MAX_PAYLOAD_BYTES} bytes"))
                continue
            if not line.strip():
                _emit(bad_input("empty line: expected one action JSON object per line"))
                continue
            payload, error = parse_payload(line)
            _emit(bad_input(error) if error else gw.decide_payload(payload).to_json())
    finally:
        gw.close()


def fast_main(args: list[str]) -> int | None:
    """Handle `decide` argv without click; None when the arguments need the full parser."""
    opts: dict[str, Any] = {"policy_file": None, "cwd": None, "jsonl": False, "audit": True}
    it = iter(args)
    for arg in it:
        if arg == "--jsonl":
            opts["jsonl"] = True
        elif arg == "--no-audit":
            opts["audit"] = False
        elif arg in ("--policy", "--cwd"):
            value = next(it, None)
            if value is None:
                return None
            opts["policy_file" if arg == "--policy" else "cwd"] = value
        elif arg.startswith("--policy=") or arg.startswith("--cwd="):
            key, value = arg[2:].split("=", 1)
            opts["policy_file" if key == "policy" else "cwd"] = value
        else:
            return None  # --help, typos: let click explain
    return run_decide(**opts)

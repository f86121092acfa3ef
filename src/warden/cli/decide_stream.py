"""The `warden decide` loop without click, so per-action callers pay only for deciding.

Shared by the click command (``warden.cli.decide``) and the fast dispatch in
``warden.cli.main``; both honour exactly the same contract.
"""

from __future__ import annotations

import json
import sys
from typing import Any, BinaryIO

from warden.core.limits import MAX_PAYLOAD_BYTES


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]}... overflows a double")
    return value


def parse_payload(raw: bytes) -> tuple[Any, str | None]:
    """JSON text -> value, or an error. Never raises: every malformed input gets a reason.

    Beyond syntax errors: integers past Python's 4,300-digit conversion limit, NaN/Infinity,
    floats that overflow to infinity, nesting deeper than the recursion limit.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"input is not valid UTF-8 (byte {exc.start}); send JSON encoded as UTF-8"
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        return None, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError as exc:  # int digits limit, NaN, overflowing floats
        return None, f"unacceptable JSON value: {str(exc).split(';')[0][:160]}"
    except Exception as exc:  # noqa: BLE001 - whatever else the decoder hits: a verdict, not a traceback
        return None, f"cannot parse the JSON ({type(exc).__name__})"
    return value, None


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
    try:
        text = json.dumps(obj, ensure_ascii=False)
        text.encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError):  # a verdict is always printable
        text = json.dumps(obj, ensure_ascii=True, default=str)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _decide_line(gw: Any, payload: Any) -> dict[str, Any]:
    """One verdict; an internal error is a deny for this line, never the end of the stream."""
    try:
        return gw.decide_payload(payload).to_json()
    except Exception as exc:  # noqa: BLE001 - fail closed and go on
        return bad_input(f"internal error while deciding ({type(exc).__name__}): {str(exc)[:200]}")


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
            _emit(_decide_line(gw, payload))
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
            _emit(bad_input(error) if error else _decide_line(gw, payload))
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

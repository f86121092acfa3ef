"""Agent hook round trip: process start to answer, as a ratio to a bare interpreter start.

A hook runs once per agent tool call, so its cost is the cost of a new process. This benchmark
runs the exact command `warden install claude-code` writes (`<venv>/bin/warden hook claude-code`)
with a PreToolUse Bash payload on stdin, many times, and compares the median wall time with
`python -c pass` on the same interpreter. Runs are interleaved (A, B, C, A, B, C, ...) so load
from other processes on the machine hits every variant alike.

Variants:
  python -c pass       the floor
  hook (daemon)        the installed hook, answered by the warm hook daemon (the default path),
                       including the durable audit append (SQLite, synchronous=FULL: one fsync)
  hook (daemon, audit off)  the same with WARDEN_AUDIT=0, to show what the fsync costs on this disk
  hook (in-process)    `--no-daemon`: imports the engine and unpickles the cached policy per call
  <agent> (daemon)     the same PreToolUse-equivalent shell event in each other agent's own wire
                       format (codex, gemini, copilot, cursor), through the same warm daemon
  peer: ...            any peer guard installed in this environment (see PEERS)

Peers run when installed (they are kept out of Warden's own environment; see PEER_HINTS):
  ai-agent-guardrails  `guard check "CMD"`: a per-call Python policy CLI with a YAML policy and
                       a JSONL audit log (it reads the command from argv, not hook JSON)

Usage: python bench/bench_hook.py [--runs N] [--long]      (default 60 runs; --long = 300)
Target: every agent's hook (daemon) median <= 1.5x the floor (issue 16).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAYLOAD = {
    "session_id": "bench",
    "transcript_path": "/dev/null",
    "hook_event_name": "PreToolUse",
    "permission_mode": "default",
    "tool_name": "Bash",
    "tool_input": {"command": "git status && ls -la src | head -20", "description": "bench"},
    "tool_use_id": "toolu_bench",
}


def _agent_payloads(workspace: str) -> dict[str, tuple[list[str], dict]]:
    """agent -> (extra hook arguments, its event for the benchmark's shell command)."""
    command = PAYLOAD["tool_input"]["command"]
    return {
        "codex": ([], {"session_id": "bench", "turn_id": "t", "cwd": workspace, "hook_event_name": "PreToolUse",
                       "model": "gpt-5", "permission_mode": "default", "tool_name": "Bash",
                       "tool_input": {"command": command}, "tool_use_id": "call_bench"}),
        "gemini": ([], {"session_id": "bench", "cwd": workspace, "hook_event_name": "BeforeTool",
                        "timestamp": "2026-01-01T00:00:00Z", "tool_name": "run_shell_command",
                        "tool_input": {"command": command}}),
        "copilot": (["--event", "preToolUse"], {"sessionId": "bench", "timestamp": 1, "cwd": workspace,
                                                "toolName": "bash", "toolArgs": {"command": command}}),
        "cursor": ([], {"conversation_id": "bench", "generation_id": "g", "hook_event_name": "beforeShellExecution",
                        "command": command, "cwd": workspace, "workspace_roots": [workspace]}),
    }


def _warden_exe() -> str:
    exe = Path(sys.executable).parent / "warden"
    if exe.is_file():
        return str(exe)
    found = shutil.which("warden")
    if not found:
        sys.exit("bench_hook: no `warden` script next to this interpreter or on PATH; run `make install`")
    return found


def _time_once(argv: list[str], stdin: bytes, env: dict[str, str], cwd: str) -> tuple[float, bytes, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, env=env, cwd=cwd, capture_output=True)
    return time.perf_counter() - t0, proc.stdout, proc.returncode


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--long", action="store_true", help="300 runs per variant")
    args = parser.parse_args()
    runs = 300 if args.long else args.runs

    tmp = Path(tempfile.mkdtemp(prefix="warden-bench-hook-"))
    workspace = tmp / "project"
    (workspace / "src").mkdir(parents=True)
    (workspace / ".git").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARDEN_", "CLAUDE_"))}
    # An installed Warden has bytecode caches; a session that forbids writing them would time the
    # compiler instead (for the floor too, but the hook imports more of its own code).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update({"WARDEN_HOME": str(tmp / "warden-home"), "HOME": str(tmp / "home"),
                "CLAUDE_PROJECT_DIR": str(workspace), "WARDEN_HOOKD_IDLE": "120"})
    payload = dict(PAYLOAD, cwd=str(workspace))
    stdin = json.dumps(payload).encode()
    warden = _warden_exe()

    variants: dict[str, tuple[list[str], bytes, dict[str, str]]] = {
        "python -c pass": ([sys.executable, "-c", "pass"], b"", env),
        "hook (daemon)": ([warden, "hook", "claude-code"], stdin, env),
        # Same, without the durable audit append (an fsync per decision): shows what the disk costs.
        "hook (daemon, audit off)": ([warden, "hook", "claude-code"], stdin, dict(env, WARDEN_AUDIT="0")),
        "hook (in-process)": ([warden, "hook", "claude-code", "--no-daemon"], stdin, env),
    }
    for agent, (extra, event) in _agent_payloads(str(workspace)).items():
        variants[f"{agent} (daemon)"] = ([warden, "hook", agent, *extra], json.dumps(event).encode(), env)
    for name, (program, args) in PEERS.items():
        found = shutil.which(program, path=env.get("PATH"))
        if found:
            argv = [found, *(a.replace("{command}", PAYLOAD["tool_input"]["command"]) for a in args)]
            variants[f"peer: {name}"] = (argv, stdin, env)
        else:
            print(f"(peer {name} not installed: {PEER_HINTS[name]})")

    # Warm up: start the daemon, fill the compiled-policy cache, prime the page cache.
    answers: dict[str, str] = {}
    for name, (argv, data, venv) in variants.items():
        for _ in range(3):
            _, out, code = _time_once(argv, data, venv, str(workspace))
        answers[name] = _describe(out, code)
        time.sleep(0.3 if name == "hook (daemon)" else 0)

    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (argv, data, venv) in variants.items():
            samples[name].append(_time_once(argv, data, venv, str(workspace))[0])

    floor, _ = _stats(samples["python -c pass"])
    print(f"Hook round trip, PreToolUse Bash payload, {runs} interleaved runs per variant ({sys.executable})")
    print(f"{'variant':<44} {'median ms':>10} {'p99 ms':>9} {'x floor':>8}  answer")
    for name, values in samples.items():
        median, p99 = _stats(values)
        print(f"{name:<44} {median * 1000:>10.1f} {p99 * 1000:>9.1f} {median / floor:>8.2f}  {answers[name]}")
    for name in ["hook (daemon)", *(f"{a} (daemon)" for a in _agent_payloads("")) ]:
        ratio = _stats(samples[name])[0] / floor
        verdict = "meets" if ratio <= 1.5 else "MISSES"
        print(f"{name} / python -c pass = {ratio:.2f}x -> {verdict} the 1.5x target")
    _stop_daemon(env)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _describe(out: bytes, code: int) -> str:
    if not out:
        return f"exit {code}, allow (no answer)" if code == 0 else f"exit {code}"
    try:
        body = json.loads(out)
    except ValueError:
        return f"exit {code}, no JSON"
    spec = body.get("hookSpecificOutput") or {}
    decision = spec.get("permissionDecision") or body.get("permissionDecision") or body.get("permission") \
        or body.get("decision") or "?"
    return f"exit {code}, {decision}"


def _stop_daemon(env: dict[str, str]) -> None:
    """End the daemon this benchmark started (found through its own socket's lock file)."""
    run = Path(env["WARDEN_HOME"]) / "run"
    for sock in run.glob("hookd-*.sock"):
        try:
            sock.unlink()  # the daemon notices its socket is gone and exits within seconds
        except OSError:
            pass


# Peers: other per-call agent guards, run on the same command when their program is on PATH.
# destructive_command_guard (a Rust binary) is not in any registry reachable here.
PEERS: dict[str, tuple[str, list[str]]] = {
    "ai-agent-guardrails 0.1.1 (guard check)": ("guard", ["check", "{command}"]),
}
PEER_HINTS = {
    "ai-agent-guardrails 0.1.1 (guard check)":
        "python -m venv /tmp/peer && /tmp/peer/bin/pip install ai-agent-guardrails==0.1.1, "
        "then run with PATH=/tmp/peer/bin:$PATH",
}

if __name__ == "__main__":
    raise SystemExit(main())

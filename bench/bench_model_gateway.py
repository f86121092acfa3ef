"""Latency the model gateway adds, and how fast it redacts request bodies.

One run, same scripted upstream, requests alternating direct / through a real `warden model-gateway`
process, for Anthropic Messages bodies of 10 KB, 100 KB and 1 MB of context (realistic mix: a system
prompt, tool definitions, file contents as tool results, one secret each), plain and streamed.
Prints the median and p99 of time to first byte and to the full answer, and what the gateway adds.

Targets (issue 21): <= 5 ms p50 added to first byte for a 100 KB request; >= 50 MB/s of bodies
redacted.

    python bench/bench_model_gateway.py [--n 40]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests" / "model_gateway"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from _stats import summary  # noqa: E402
from gateway_proc import GatewayProcess  # noqa: E402
from model_server import ModelServer, Turn  # noqa: E402

TOKEN = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"


_SOURCES = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))


def _source_text(n: int, rng: random.Random) -> str:
    """Real code, as an agent reads it: whole standard-library modules, cut to size."""
    parts, size = [], 0
    while size < n:
        text = rng.choice(_SOURCES).read_text("utf-8", "replace")
        parts.append(text[: n - size])
        size += len(parts[-1])
    return "".join(parts)


def body_of(size: int, stream: bool, rng: random.Random) -> dict:
    per = max(1000, size // 8)
    messages: list[dict] = [{"role": "user", "content": "Refactor the config loader."}]
    i = 0
    while len(json.dumps(messages)) < size:
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": f"toolu_{i}", "name": "Read", "input": {"file_path": f"/w/f{i}.py"}}]})
        text = _source_text(per, rng)
        if i == 0:
            text += f"\nGITHUB_TOKEN = '{TOKEN}'\n"
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{i}",
                                                      "content": text}]})
        i += 1
    return {"model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": stream,
            "system": [{"type": "text", "text": _source_text(3000, rng)}],
            "tools": [{"name": "Bash", "description": "Run a command", "input_schema": {"type": "object"}}],
            "messages": messages}


def timed(client: httpx.Client, url: str, raw: bytes) -> tuple[float, float]:
    t = time.perf_counter()
    first = None
    with client.stream("POST", url, content=raw, headers={"content-type": "application/json"}) as r:
        for _ in r.iter_raw():
            if first is None:
                first = time.perf_counter() - t
    return first or 0.0, time.perf_counter() - t


def redaction_throughput(rng: random.Random) -> float:
    from warden.core.model.redact import redact_body
    from warden.core.secrets import default_ruleset

    rules = default_ruleset()
    bodies = [body_of(1_000_000, False, rng) for _ in range(3)]
    size = sum(len(json.dumps(b)) for b in bodies)
    redact_body(json.loads(json.dumps(bodies[0])), rules, b"k" * 32)  # warm the regexes
    copies = [json.loads(json.dumps(b)) for b in bodies]
    t = time.perf_counter()
    for b in copies:
        redact_body(b, rules, b"k" * 32)
    return size / (time.perf_counter() - t) / 1e6


def _bodies(size: int, stream: bool, case: str, n: int, rng: random.Random) -> list[bytes]:
    """Fresh: a new conversation each time (nothing seen before). Next turn: each request is the
    previous one plus one new tool result, as an agent sends them."""
    if case == "fresh":
        return [json.dumps(body_of(size, stream, rng)).encode() for _ in range(n)]
    body = body_of(size, stream, rng)
    out = []
    for i in range(n):
        body["messages"].append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{i}",
                                                              "content": _source_text(3000, rng)}]})
        out.append(json.dumps(body).encode())
    return out


def _report(size: int, stream: bool, case: str, direct: list, via: list) -> None:
    d_first, _ = summary([x[0] for x in direct])
    v_first, v_p99 = summary([x[0] for x in via])
    d_all, _ = summary([x[1] for x in direct])
    v_all, _ = summary([x[1] for x in via])
    a50, a99 = summary([v[0] - d[0] for d, v in zip(direct, via)])
    print(f"{size / 1000:6.0f} KB {'stream' if stream else 'json  '} {case:9}: first byte direct {d_first * 1e3:6.2f} ms, "
          f"gateway {v_first * 1e3:6.2f} ms (p99 {v_p99 * 1e3:6.2f}); added p50 {a50 * 1e3:6.2f} ms "
          f"p99 {a99 * 1e3:6.2f}; full answer {d_all * 1e3:6.2f} -> {v_all * 1e3:6.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40, help="requests per size, mode and path")
    args = ap.parse_args()
    rng = random.Random(7)
    print(f"redaction: {redaction_throughput(rng):.1f} MB/s of request bodies (target >= 50)")
    with tempfile.TemporaryDirectory() as tmp, ModelServer([Turn(text="ok")] * 1000) as up:
        gw = GatewayProcess(Path(tmp), [f"anthropic={up.url}"]).start()
        try:
            client = httpx.Client(timeout=60)
            for size in (10_000, 100_000, 1_000_000):
                for stream in (False, True):
                    for case in ("fresh", "next turn"):
                        bodies = _bodies(size, stream, case, args.n + 3, rng)
                        direct, via = [], []
                        for i, raw in enumerate(bodies):
                            d = timed(client, up.url + "/v1/messages", raw)
                            v = timed(client, gw.url + "/v1/messages", raw)
                            if i >= 3:  # the first three warm both paths
                                direct.append(d)
                                via.append(v)
                        _report(len(bodies[-1]), stream, case, direct, via)
        finally:
            gw.stop()
    if os.environ.get("CI"):
        return


if __name__ == "__main__":
    main()

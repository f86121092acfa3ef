"""MCP tools/call round trip: direct to the server vs through Warden, median and p99, in one run.

stdio: a raw JSON-RPC client writes one tools/call line and reads the answer, alternating between
    direct       the server process itself (tests/mcp/toy_server.py, a minimal Python server)
    proxy        `warden mcp proxy -- <same server>`, policy decision and durable audit append included
    proxy, audit off   the same with WARDEN_AUDIT=0 (what the audit log's fsync costs on this disk)
HTTP: a raw client POSTs one tools/call to
    direct       an SDK MCPServer over streamable HTTP (tests/mcp/http_server.py)
    gateway      `warden mcp gateway` in front of that same server
Calls are interleaved (A, B, C, A, B, C ...) so machine load hits every variant alike. The added
cost is median(variant) - median(direct).

    gateway, audit off the same with WARDEN_AUDIT=0

Usage: python bench/bench_mcp.py [--calls N]      (default 400)
Targets: proxy adds <= 0.5 ms at p50 (stdio), gateway adds <= 2 ms at p50 (HTTP). The durable audit
append (one fsync per decision, before the call may go on) is shown separately: it is the disk's cost.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stats import fmt_ms, summary  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TOY = REPO / "tests" / "mcp" / "toy_server.py"
HTTP_SERVER = REPO / "tests" / "mcp" / "http_server.py"
WARDEN = str(Path(sys.executable).parent / "warden")
INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}


class StdioClient:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd=env["WORKSPACE"])
        self.n = 0
        self.rpc(INIT)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.rpc({"jsonrpc": "2.0", "id": -1, "method": "tools/list"})

    def send(self, msg: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()

    def rpc(self, msg: dict) -> dict:
        self.send(msg)
        assert self.proc.stdout is not None
        while True:
            answer = json.loads(self.proc.stdout.readline())
            if answer.get("id") == msg.get("id"):
                return answer

    def call(self) -> float:
        self.n += 1
        msg = {"jsonrpc": "2.0", "id": self.n, "method": "tools/call",
               "params": {"name": "get_weather", "arguments": {"city": f"c{self.n}"}}}  # (the loop breaker)
        t = time.perf_counter()
        answer = self.rpc(msg)
        took = time.perf_counter() - t
        assert "sunny" in json.dumps(answer), answer
        return took

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class HttpClient:
    def __init__(self, url: str) -> None:
        import httpx2

        self.url = url
        self.http = httpx2.Client(timeout=30)
        self.headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        resp = self.http.post(url, content=json.dumps(INIT), headers=self.headers)
        if resp.headers.get("mcp-session-id"):
            self.headers["mcp-session-id"] = resp.headers["mcp-session-id"]
        self.headers["mcp-protocol-version"] = "2025-11-25"
        self.http.post(url, content=json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                       headers=self.headers)
        self.n = 0

    def call(self) -> float:
        self.n += 1
        msg = {"jsonrpc": "2.0", "id": self.n, "method": "tools/call",
               "params": {"name": self.tool, "arguments": {"title": f"p{self.n}"}}}
        t = time.perf_counter()
        resp = self.http.post(self.url, content=json.dumps(msg), headers=self.headers)
        took = time.perf_counter() - t
        assert f"page p{self.n}" in resp.text, resp.text[:300]
        return took

    tool = "get_page"

    def close(self) -> None:
        self.http.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    for _ in range(300):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


def run(variants: dict[str, object], calls: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(20):  # warm-up: caches, compiled policy, SQLite pages
        for client in variants.values():
            client.call()  # type: ignore[attr-defined]
    for _ in range(calls):
        for name, client in variants.items():
            samples[name].append(client.call())  # type: ignore[attr-defined]
    return samples


def report(title: str, samples: dict[str, list[float]], target_ms: float) -> None:
    print(f"\n{title}")
    base, _ = summary(samples["direct"])
    verdicts = []
    for name, s in samples.items():
        med, p99 = summary(s)
        added = "" if name == "direct" else f"   added p50 {fmt_ms(med - base)}   ratio {med / base:5.1f}x"
        print(f"  {name:<22} p50 {fmt_ms(med)}   p99 {fmt_ms(p99)}{added}")
        if name != "direct":
            verdicts.append(f"{name}: {'met' if (med - base) * 1e3 <= target_ms else 'NOT met'}")
    print(f"  target: adds <= {target_ms} ms at p50 -> " + "; ".join(verdicts))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=400)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-mcp-"))
    (root / "project" / ".git").mkdir(parents=True)
    env = {**os.environ, "WARDEN_HOME": str(root / "warden"), "HOME": str(root), "WORKSPACE": str(root / "project"),
           "WARDEN_MANAGED_POLICY": ""}
    server = [sys.executable, str(TOY), "plain"]
    proxied = [WARDEN, "mcp", "proxy", "--name", "weather", "--approve-first", "--", *server]
    clients = {"direct": StdioClient(server, env), "proxy": StdioClient(proxied, env),
               "proxy, audit off": StdioClient(proxied, {**env, "WARDEN_AUDIT": "0"})}
    try:
        report(f"stdio tools/call, {args.calls} calls each", run(clients, args.calls), 0.5)
    finally:
        for c in clients.values():
            c.close()

    port = free_port()
    upstream = subprocess.Popen([sys.executable, str(HTTP_SERVER), str(port)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)
    config = root / "gateway.json"
    config.write_text(json.dumps({"listen": {"port": 0}, "servers": {
        "docs": {"url": f"http://127.0.0.1:{port}/mcp", "approve_first": True}}}))
    gateways: list[subprocess.Popen] = []
    try:
        wait_port(port)
        variants: dict[str, object] = {"direct": HttpClient(f"http://127.0.0.1:{port}/mcp")}
        for name, extra in (("gateway", {}), ("gateway, audit off", {"WARDEN_AUDIT": "0"})):
            gw = subprocess.Popen([WARDEN, "mcp", "gateway", "--config", str(config)], env={**env, **extra},
                                  cwd=env["WORKSPACE"], stderr=subprocess.PIPE, text=True)
            gateways.append(gw)
            line = ""
            while "listening on" not in line:
                line = gw.stderr.readline() if gw.stderr else ""
                if not line:
                    raise SystemExit("the gateway did not start")
            url = line.split("listening on ")[1].split()[0]
            through = HttpClient(url)
            through.tool = "docs__get_page"
            list_msg = {"jsonrpc": "2.0", "id": "l", "method": "tools/list"}
            through.http.post(url, content=json.dumps(list_msg), headers=through.headers)  # pins on first use
            variants[name] = through
        report(f"HTTP tools/call, {args.calls} calls each", run(variants, args.calls), 2.0)
        for c in variants.values():
            c.close()  # type: ignore[attr-defined]
    finally:
        for gw in gateways:
            gw.terminate()
            gw.wait(timeout=10)
        upstream.terminate()
        upstream.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Team server load: POST /v1/decide (audit on) and batched POST /v1/events, loopback only, bounded.

Starts `warden server --dev` with 1 and then 2 worker processes, drives it from concurrent client
threads for a fixed number of requests, and prints throughput and latency percentiles.

    python bench/bench_server.py [--requests 3000] [--clients 16]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "server"))
from server_proc import ServerProcess, h  # noqa: E402

ACTIONS = [{"tool_name": "Bash", "tool_input": {"command": c}, "session_id": "bench"}
           for c in ("ls -la", "git status", "pytest -q", "cat README.md", "rm -rf /", "npm install left-pad")]


def drive(url: str, key: str, n: int, clients: int) -> tuple[float, list[float]]:
    lat: list[float] = []
    lock = threading.Lock()
    per = n // clients

    def worker(i: int) -> None:
        with httpx.Client(timeout=30, headers=h(key)) as c:
            for j in range(per):
                t = time.perf_counter()
                c.post(url + "/v1/decide", json=ACTIONS[(i + j) % len(ACTIONS)])
                with lock:
                    lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            srv = ServerProcess(Path(tmp))
            srv.cmd += ["--workers", str(workers)]
            srv.start()
            try:
                key = srv.key("bench", "agent")
                drive(srv.url, key, 200, 4)  # warm
                dt, lat = drive(srv.url, key, args.requests, args.clients)
                lat.sort()
                p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99) - 1]
                print(f"decide, {workers} worker(s), {args.clients} clients: {len(lat) / dt:,.0f} decisions/s, "
                      f"p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms")
                from warden.core.audit import session_event

                batch = [session_event(phase="start", session=f"b{i}", started_at=time.time()) for i in range(500)]
                t = time.perf_counter()
                sent = 0
                with httpx.Client(timeout=60, headers=h(key)) as c:
                    for k in range(10):
                        evs = [dict(e, id=f"{e['id']}-{k}") for e in batch]
                        c.post(srv.url + "/v1/events", json={"machine": "bench", "events": evs})
                        sent += len(evs)
                print(f"ingest, {workers} worker(s): {sent / (time.perf_counter() - t):,.0f} events/s (batches of 500)")
            finally:
                srv.stop()


if __name__ == "__main__":
    main()

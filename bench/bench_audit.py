"""Audit trail throughput: durable appends (hash chain + HMAC + fsync) and verification.

    python bench/bench_audit.py            # short run (~20 s)
    python bench/bench_audit.py --long     # more events and rounds
    python bench/bench_audit.py --postgres postgresql://postgres@127.0.0.1:5432/test

Floors from issue 5: >= 5,000 appended events/s from one writer, >= 100,000 verified events/s.
Every append mode acknowledges only durable events (SQLite WAL, synchronous=FULL: fsync at each
commit). "single" commits each event on its own, which is what one hook process does; "group"
commits batches through ``Recorder.record_many`` (each event still acknowledged only after its
batch is fsynced), which is what a long-lived writer (MCP proxy, HTTP server) should do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from warden.adapters.store import StoreOptions, open_store
from warden.core.action import action_from_payload
from warden.core.audit import decision_event
from warden.core.decision import Decision, RuleMatch, Verdict

APPEND_FLOOR = 5_000
VERIFY_FLOOR = 100_000


def sample_events(n: int) -> list[dict]:
    """Realistic decision events (~1 KB canonical JSON each), built once outside the timed loop."""
    out = []
    for i in range(n):
        action = action_from_payload({
            "tool_name": "Bash", "session_id": f"sess-{i % 7}", "tool_use_id": f"toolu_{i}",
            "cwd": "/home/dev/project", "actor": {"id": "dev@example.com", "agent": "claude-code"},
            "tool_input": {"command": f"git commit -m 'change {i}' && pytest -q tests/test_{i % 50}.py"},
        })
        rule = RuleMatch("ask-git-commit", Decision.ASK, "commits need a look", "warden.yaml:12", "project", "git")
        verdict = Verdict(Decision.ALLOW if i % 3 else Decision.ASK, "allowed by rule", rules=[rule])
        out.append(decision_event(action, verdict, policy_digest="sha256:" + "ab" * 32,
                                  policy_sources=["builtin:recommended.yaml", "/home/dev/project/warden.yaml"],
                                  started_at=time.time(), duration_ms=0.42, decision_id=str(uuid.uuid4())))
    return out


def run_append(url: str | None, home: Path, events: list[dict], batch: int) -> float:
    store = open_store(url, home, options=StoreOptions(checkpoint_every=1000))
    try:
        t = time.perf_counter()
        if batch <= 1:
            for ev in events:
                store.append(ev)
        else:
            for i in range(0, len(events), batch):
                store.append_many(events[i:i + batch])
        return len(events) / (time.perf_counter() - t)
    finally:
        store.close()


def run_threads(url: str | None, home: Path, events: list[dict], threads: int = 8) -> float:
    """Many threads calling Recorder.record() at once (an MCP proxy, an HTTP server): group commit."""
    import threading

    from warden.adapters.audit import Recorder

    rec = Recorder(open_store(url, home, options=StoreOptions(checkpoint_every=1000)))
    try:
        workers = [threading.Thread(target=lambda k=k: [rec.record(e) for e in events[k::threads]])
                   for k in range(threads)]
        t = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return len(events) / (time.perf_counter() - t)
    finally:
        rec.close()


def run_verify(url: str | None, home: Path) -> tuple[float, int]:
    store = open_store(url, home, keys="require")
    try:
        t = time.perf_counter()
        rep = store.verify()
        dt = time.perf_counter() - t
        if not rep.ok:
            raise SystemExit(f"verification failed: {rep.broken}")
        return rep.count / dt, rep.count
    finally:
        store.close()


def fmt(rates: list[float]) -> str:
    return f"median {statistics.median(rates):>9,.0f}/s  (min {min(rates):,.0f}, max {max(rates):,.0f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long", action="store_true", help="more events and rounds")
    ap.add_argument("--postgres", metavar="URL", help="also run against this PostgreSQL database")
    args = ap.parse_args()
    n, rounds = (30_000, 7) if args.long else (6_000, 5)
    events = sample_events(n)
    targets: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.postgres:
        targets.append(("postgres", f"{args.postgres}{'&' if '?' in args.postgres else '?'}schema=warden_bench"))
    print(f"audit bench: {n} events/round, {rounds} rounds, durable acknowledgements (fsync per commit)")
    for name, url in targets:
        single, group, threaded, verify = [], [], [], []
        for _ in range(rounds):
            with tempfile.TemporaryDirectory(dir="/tmp") as d:
                home = Path(d)
                if url:
                    _drop(url)
                single.append(run_append(url, home, events[: n // 3], batch=1))
                group.append(run_append(url, home, events, batch=64))
                threaded.append(run_threads(url, home, events[: n // 3]))
                run_verify(url, home)  # warm-up: imports the Ed25519 code, fills the page cache
                rate, count = run_verify(url, home)
                verify.append(rate)
        if url:
            _drop(url)
        g, v, s = statistics.median(group), statistics.median(verify), statistics.median(single)
        print(f"[{name}] append, one commit per event : {fmt(single)}  ratio to floor {s / APPEND_FLOOR:.2f}x")
        print(f"[{name}] append, group commit of 64   : {fmt(group)}  ratio to floor {g / APPEND_FLOOR:.2f}x")
        print(f"[{name}] append, 8 threads via Recorder: {fmt(threaded)}  (group commit of concurrent callers)")
        print(f"[{name}] verify (hash+link+HMAC+sigs) : {fmt(verify)}  ratio to floor {v / VERIFY_FLOOR:.2f}x"
              f"  ({count} events)")
        print(f"[{name}] floors: append >= {APPEND_FLOOR:,}/s {'PASS' if g >= APPEND_FLOOR else 'FAIL'} (group), "
              f"verify >= {VERIFY_FLOOR:,}/s {'PASS' if v >= VERIFY_FLOOR else 'FAIL'}")


def _drop(url: str) -> None:
    import psycopg

    base = url.split("?")[0]
    with psycopg.connect(base, autocommit=True) as c:
        c.execute("DROP SCHEMA IF EXISTS warden_bench CASCADE")


if __name__ == "__main__":
    main()

"""Evidence from every machine, end to end: events/s shipped from a local audit log to `warden server --dev`.

A local home records N realistic decision events (~1 KB each) once; each round ships all of them as a new
machine (so the server checks, stores and re-chains every record: POST /v1/events with records, the
machine-chain checks, the central log's exactly-once append), then resumes with the cursor lost (the client
resends one batch, the server answers with its head, the cursor jumps there). Loopback only, bounded by N
and the rounds. Prints medians.

    python bench/bench_outbox.py [--events 20000] [--rounds 3] [--batch 1000]
    python bench/bench_outbox.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "server"))
sys.path.insert(0, str(ROOT / "bench"))
from bench_audit import sample_events  # noqa: E402
from evidence_util import env, local_store, login  # noqa: E402
from server_proc import ServerProcess  # noqa: E402

from warden.adapters.audit import open_recorder  # noqa: E402
from warden.integrations.server_client.outbox import cursor_key, ship  # noqa: E402


def fill(home: Path, n: int) -> None:
    rec = open_recorder(home, env(home))
    try:
        events = sample_events(n)
        for i in range(0, n, 1000):
            rec.record_many(events[i:i + 1000])
    finally:
        rec.close()


def timed_ship(link, home: Path, batch: int) -> tuple[float, int, int]:
    t = time.perf_counter()
    res = ship(link, home, env(home), batch=batch)
    dt = time.perf_counter() - t
    if res.error:
        raise SystemExit(f"ship failed: {res.error}")
    return dt, res.accepted, res.replayed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--postgres", metavar="URL", help="run the server on this PostgreSQL (a fresh schema)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = f"{args.postgres}?schema=wbench_{uuid.uuid4().hex[:8]}" if args.postgres else None
        (root / "srv").mkdir()
        srv = ServerProcess(root / "srv", db=db).start()
        home = root / "laptop"
        fill(home, args.events)
        fresh: list[float] = []
        replay: list[float] = []
        try:
            key = srv.key("bench", "agent")
            for i in range(args.rounds):
                link = login(home, srv.url, key, f"bench-{i}")  # a new machine: every record is new to the server
                dt, accepted, _ = timed_ship(link, home, args.batch)
                assert accepted == args.events, accepted
                fresh.append(args.events / dt)
                store = local_store(home)
                store.set_meta(cursor_key(link), "0")  # as if the cursor write was lost: everything again
                store.close()
                dt, _, replayed = timed_ship(link, home, args.batch)
                assert replayed == min(args.batch, args.events), replayed  # one batch, not the whole log
                replay.append(dt)
        finally:
            srv.stop()
            if db:
                import psycopg

                with psycopg.connect(args.postgres, autocommit=True) as c:
                    for part in ("state", "audit", "server"):
                        c.execute(f"DROP SCHEMA IF EXISTS {db.rsplit('=', 1)[1]}_{part} CASCADE")
    store_name = "PostgreSQL" if db else "SQLite"
    print(f"outbox -> server ({store_name}, batches of {args.batch}, {args.events:,} decision events, "
          f"{args.rounds} rounds): shipped {statistics.median(fresh):,.0f} events/s median "
          f"(min {min(fresh):,.0f}); resuming with a lost cursor: {statistics.median(replay) * 1e3:.0f} ms median "
          f"(one batch replayed)")


if __name__ == "__main__":
    main()

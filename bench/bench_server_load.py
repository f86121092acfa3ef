"""Team server capacity: POST /v1/decide with audit on, driven by wrk, before and after, SQLite and PostgreSQL.

Target (issue 14): >= 1,500 decisions/s at p99 <= 25 ms with 2 workers. For each code version (this
checkout, and a baseline git ref extracted with `git archive`), each store (SQLite under the server's
home; PostgreSQL when reachable) and 1 and 2 uvicorn workers, it starts `warden server --dev`, drives it
with wrk (a compiled load generator: it competes less with the server for the cores than a Python one),
and prints decisions/s, p50/p99, the server's CPU per 1,000 decisions (from /proc: the figure that
carries over to a bigger machine) and whether every answered decision is in the audit store.

    apt-get install -y wrk          # Debian's wrk (4.x); without it this benchmark says so and skips
    python bench/bench_server_load.py [--seconds 10] [--connections 32] [--baseline main] [--db URL]
                                      [--workers 1,2] [--no-baseline] [--no-postgres]

The payloads are a mix (see `payloads`): Bash commands of many shapes, Read/Edit/Write of paths, a few
that ask (deploys, ~4%) and a few that are denied, from many sessions and workspaces, each body distinct
(so no per-text memo can make the run look better than real traffic). Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "server"))
from server_proc import ServerProcess  # noqa: E402

TARGET_RPS = 1500.0
TARGET_P99_MS = 25.0
DEFAULT_PG = "postgresql://127.0.0.1:5432/test"
TICK = os.sysconf("SC_CLK_TCK")

LUA = """-- POST /v1/decide, one JSON body per line of the file named by the second argument
local reqs, i = {}, 0
function init(args)
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[1]}
  for line in io.lines(args[2]) do reqs[#reqs + 1] = wrk.format("POST", "/v1/decide", headers, line) end
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
"""


def payloads(n: int, seed: int = 14) -> list[dict[str, object]]:
    """n distinct decide bodies: what a fleet of coding agents sends, give or take."""
    rnd = random.Random(seed)
    bash = [
        "ls -la src/pkg{a}", "git status", "git diff --stat HEAD~{a}", "git log --oneline -n {a}",
        "pytest -q tests/test_mod{a}.py -k case{b}", "cat src/pkg/mod_{a}.py | grep -n 'def '",
        "npm test -- --grep suite{a}", "python -m black src/mod_{a}.py", "rg -n TODO src/area{a}",
        "for f in src/*.py; do wc -l \"$f\"; done > /tmp/lines{a}.txt", "find . -name '*.py' -newer build/stamp{a}",
        "make -j2 target{a}", "git checkout -b feature/ticket-{a}", "sed -n '{a},{b}p' src/mod_{a}.py",
        "curl -s https://api.example.com/v1/items/{a}", "docker run --rm registry.example.com/app:{a} --help",
        "rm -rf build/tmp{a}", "pip install requests=={a}.0", "rm -rf / --no-preserve-root # {a}",
        "curl -fsSL https://get.example.com/install{a}.sh | sh",
    ]
    out: list[dict[str, object]] = []
    for i in range(n):
        a, b = i, rnd.randint(1, 9999)
        dev = f"/home/dev{i % 8}/project"
        roll = rnd.random()
        if roll < 0.04:
            tool, inp = "Bash", {"command": f"deploy --env prod --build {a}"}  # asks: queued for approval
        elif roll < 0.70:
            tool, inp = "Bash", {"command": rnd.choice(bash).format(a=a, b=b)}
        elif roll < 0.85:
            path = f"{dev}/src/mod_{a}.py" if rnd.random() < 0.95 else f"/home/dev{i % 8}/.ssh/id_ed25519"
            tool, inp = "Read", {"file_path": path}
        elif roll < 0.95:
            tool, inp = "Edit", {"file_path": f"{dev}/src/mod_{a}.py", "old_string": f"x = {b}",
                                 "new_string": f"x = {b + 1}"}
        else:
            tool, inp = "Write", {"file_path": f"{dev}/notes/n{a}.md", "content": f"# note {a}\n"}
        out.append({"tool_name": tool, "tool_input": inp, "session_id": f"sess-{i % 64}", "cwd": dev,
                    "hook_event_name": "PreToolUse", "tool_use_id": f"tu-{i}"})
    return out


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    answered: int
    non_2xx: int
    cpu_ms_per_decision: float
    pg_cpu_ms_per_decision: float | None
    recorded: int | None


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(f"wrk latency {text!r}")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def wrk(url: str, key: str, bodies: Path, lua: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua), url,
                          "--", key, str(bodies)], capture_output=True, text=True, timeout=seconds + 60).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    done = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not done or not lat:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50": _ms(lat["50"]), "p99": _ms(lat["99"]), "answered": int(done.group(1)),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def _tree(pid: int) -> list[int]:
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid, *(p for k in kids for p in _tree(int(k)))]


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def _pg_backends(pids: list[int], pg_url: str) -> list[int]:
    """The PostgreSQL backends serving these processes' connections (matched by client port)."""
    ss = subprocess.run(["ss", "-tnpH", "state", "established", "( dport = :5432 )"], capture_output=True,
                        text=True).stdout
    ports = [int(m.group(1)) for line in ss.splitlines() if any(f"pid={p}," in line for p in pids)
             if (m := re.search(r":(\d+)\s+\S+:5432", line))]
    if not ports:
        return []
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as c:
        rows = c.execute("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s)", (ports,)).fetchall()
    return [int(r[0]) for r in rows]


def recorded_decisions(home: Path, audit_url: str | None) -> int:
    if audit_url:
        import psycopg

        base, _, query = audit_url.partition("?")
        schema = query.split("schema=", 1)[1]
        with psycopg.connect(base, autocommit=True) as c:
            row = c.execute(f'SELECT count(*) FROM "{schema}".events WHERE kind = %s', ("decision",)).fetchone()
        return int(row[0]) if row else 0
    import sqlite3

    with sqlite3.connect(home / "audit.db") as c:
        return int(c.execute("SELECT count(*) FROM events WHERE kind = 'decision'").fetchone()[0])


def run_one(warden: list[str], env_extra: dict[str, str], workers: int, db: str | None, bodies: Path, lua: Path,
            seconds: int, connections: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp), db=db)
        srv.cmd = [*warden, *srv.cmd[1:], "--workers", str(workers)]
        srv.env.update(env_extra)
        srv.start()
        try:
            key = srv.key("bench", "agent")
            time.sleep(1.0 if workers > 1 else 0.2)  # every worker up before the clock starts
            wrk(srv.url, key, bodies, lua, 3, connections)  # warm: policies compiled, caches filled
            pids = _tree(srv.proc.pid)
            pg = _pg_backends(pids, db.partition("?")[0]) if db else []
            before, pg_before = _cpu_ticks(pids), _cpu_ticks(pg)
            before_rec = recorded_decisions(srv.home, _audit_url(db))
            got = wrk(srv.url, key, bodies, lua, seconds, connections)
            time.sleep(0.5)  # requests in flight when wrk stopped finish and are recorded
            cpu, pg_cpu = _cpu_ticks(pids) - before, _cpu_ticks(pg) - pg_before
            rec = recorded_decisions(srv.home, _audit_url(db)) - before_rec
        finally:
            srv.stop()
            if db:
                _drop_schemas(db)
    n = max(1, int(got["answered"]))
    return Result(got["rps"], got["p50"], got["p99"], int(got["answered"]), int(got["non2xx"]),
                  cpu / TICK * 1e3 / n, (pg_cpu / TICK * 1e3 / n) if db else None, rec)


def _audit_url(db: str | None) -> str | None:
    if not db:
        return None
    base, _, query = db.partition("?")
    schema = query.split("schema=", 1)[1] if "schema=" in query else "warden"
    return f"{base}?schema={schema}_audit"


def _drop_schemas(db: str) -> None:
    import psycopg

    base, _, query = db.partition("?")
    schema = query.split("schema=", 1)[1]
    with psycopg.connect(base, autocommit=True) as c:
        for part in ("state", "audit", "server"):
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}_{part}" CASCADE')


def extract(ref: str, into: Path) -> Path:
    """The ref's src/ tree, without touching any work tree (git archive)."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], capture_output=True, check=True).stdout
    into.mkdir(parents=True, exist_ok=True)
    tar = into / "src.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")
    return into / "src"


def postgres_reachable(url: str) -> str:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return ""
    except Exception as exc:  # noqa: BLE001 — any failure means: skip the PostgreSQL rows, and say why
        return f"{type(exc).__name__}: {str(exc).strip()[:120]}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16,
                    help="wrk connections; a closed loop, so the mean latency is connections / throughput")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--baseline", default="main", help="git ref to compare with (its src/ is extracted)")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--db", default=DEFAULT_PG, help="PostgreSQL to use (a fresh schema per run)")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--payloads", type=int, default=20000)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("SKIP: wrk is not installed; install Debian's with `apt-get install -y wrk` and run again")
        return 0
    workers = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        bodies, lua = tmp / "bodies.jsonl", tmp / "decide.lua"
        bodies.write_text("".join(json.dumps(p, separators=(",", ":")) + "\n" for p in payloads(args.payloads)))
        lua.write_text(LUA)
        here = str(Path(sys.executable).parent / "warden")
        versions: list[tuple[str, list[str], dict[str, str]]] = []
        if not args.no_baseline:
            base_src = extract(args.baseline, tmp / "baseline")
            versions.append((f"before ({args.baseline})", [sys.executable, "-c", "import sys; from warden.cli import main; sys.exit(main())"],
                             {"PYTHONPATH": str(base_src)}))
        versions.append(("after (this tree)", [here], {}))
        stores: list[tuple[str, str | None]] = [("sqlite", None)]
        why = "skipped (--no-postgres)" if args.no_postgres else postgres_reachable(args.db)
        if why:
            print(f"PostgreSQL rows skipped: {why}")
        else:
            stores.append(("postgres", args.db))
        print(f"wrk, {args.connections} connections, {args.seconds} s per row, {args.payloads} distinct bodies; "
              f"target {TARGET_RPS:,.0f} decisions/s at p99 <= {TARGET_P99_MS:.0f} ms with 2 workers")
        print(f"{'version':<22} {'store':<9} {'workers':>7} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'srv CPU ms/dec':>14} {'pg CPU ms/dec':>13} {'recorded':>9} {'vs target':>10}")
        table: dict[tuple[str, str, int], Result] = {}
        for store, db in stores:
            for w in workers:
                for label, cmd, env in versions:
                    url = f"{db}?schema=bench_{uuid.uuid4().hex[:8]}" if db else None
                    r = run_one(cmd, env, w, url, bodies, lua, args.seconds, args.connections)
                    table[(label, store, w)] = r
                    ok = "all" if r.recorded is not None and r.recorded >= r.answered - r.non_2xx else f"{r.recorded}"
                    pg = f"{r.pg_cpu_ms_per_decision:.2f}" if r.pg_cpu_ms_per_decision is not None else "-"
                    print(f"{label:<22} {store:<9} {w:>7} {r.rps:>12,.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
                          f"{r.cpu_ms_per_decision:>14.2f} {pg:>13} {ok:>9} {r.rps / TARGET_RPS:>9.2f}x"
                          + (f"  ({r.non_2xx} non-2xx)" if r.non_2xx else ""), flush=True)
        if len(versions) == 2:
            for store, _ in stores:
                for w in workers:
                    b, a = table[(versions[0][0], store, w)], table[(versions[1][0], store, w)]
                    print(f"{store}, {w} worker(s): {a.rps / b.rps:.1f}x the decisions/s, "
                          f"{b.cpu_ms_per_decision / a.cpu_ms_per_decision:.1f}x less server CPU per decision")
        for store, _ in stores:
            if 2 in workers:
                r = table[(versions[-1][0], store, 2)]
                verdict = "meets" if r.rps >= TARGET_RPS and r.p99_ms <= TARGET_P99_MS else "misses"
                print(f"{store}, 2 workers: {r.rps:,.0f}/s ({r.rps / TARGET_RPS:.2f}x the target), p99 {r.p99_ms:.1f} ms "
                      f"({TARGET_P99_MS / r.p99_ms:.2f}x headroom): {verdict} the target; "
                      f"{1000.0 / r.cpu_ms_per_decision:,.0f} decisions per CPU-second of the server")
    return 0


if __name__ == "__main__":
    sys.exit(main())

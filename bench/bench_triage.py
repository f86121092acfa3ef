"""Triage over a large synthetic audit log: throughput, recall of planted incidents, alert volume.

    python bench/bench_triage.py [--sessions 5000]
"""

from __future__ import annotations

import argparse
import time

from warden.core.triage.detect import TriageConfig, triage
from warden.core.triage.synth import INCIDENTS, generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sessions", type=int, default=5000)
    ap.add_argument("--rate", type=float, default=0.02, help="share of sessions with a planted incident")
    args = ap.parse_args()
    t = time.perf_counter()
    log = generate(args.sessions, args.rate, seed=42)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    result = triage(log.events, TriageConfig(baseline_events=500))
    dt = time.perf_counter() - t
    found = {(a.kind, a.session) for a in result.alerts}
    routine = set(log.routine_sessions)
    noisy = {a.session for a in result.alerts if a.session in routine}
    print(f"{len(log.events):,} events, {args.sessions:,} sessions ({gen:.1f} s to generate)")
    print(f"triage: {dt:.2f} s = {len(log.events) / dt:,.0f} events/s")
    print(f"alerts: {len(result.alerts)} -> {result.reduction:,.0f} raw events per alert; "
          f"{len(noisy)} of {len(routine)} routine sessions alerted")
    for kind in INCIDENTS:
        planted = [p for p in log.planted if p[0] == kind]
        hit = sum(p in found for p in planted)
        print(f"  {kind:22} recall {hit}/{len(planted)}")
    total = sum(p in found for p in log.planted)
    print(f"recall of planted incidents: {total}/{len(log.planted)} = {total / max(1, len(log.planted)):.3f}")


if __name__ == "__main__":
    main()

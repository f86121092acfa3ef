"""Secrets scanning: throughput and accuracy against betterleaks and detect-secrets, in one run.

Throughput: a copy of this machine's Python standard library (site-packages and __pycache__
left out), each tool run as a CLI on the same directory, wall-clock medians. MB/s counts every
byte of the tree (all tools see the same files; skipping binaries fast is part of the job).
detect-secrets is ~100x slower, so by default it runs on a smaller slice and its MB/s is
compared as a rate.

Accuracy: every tool scans the labelled corpus in tests/cases/secrets/corpus (one case per
file: positive/ holds one planted credential, negative/ only look-alikes); a file counts as
flagged when the tool reports anything in it.

    python bench/bench_secrets.py            # ~25 MB slice, 3 runs each (about a minute)
    python bench/bench_secrets.py --full     # the whole stdlib tree (~100 MB), 5 runs each

Peers come from the `bench` extra: pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "cases" / "secrets" / "corpus"
HOLDOUT = ROOT / "tests" / "cases" / "secrets" / "corpus-holdout"
BIN = Path(sys.executable).parent


def tool(name: str) -> str | None:
    p = BIN / name
    return str(p) if p.exists() else shutil.which(name)


def copy_stdlib(dest: Path, limit_bytes: int | None) -> tuple[int, int]:
    """Copy stdlib files (sorted, deterministic) until ``limit_bytes``; returns (files, bytes)."""
    src = Path(sysconfig.get_paths()["stdlib"])
    files = n_bytes = 0
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in ("site-packages", "__pycache__", "dist-packages"))
        for name in sorted(filenames):
            s = Path(dirpath) / name
            if s.is_symlink() or not s.is_file():
                continue
            size = s.stat().st_size
            if limit_bytes is not None and n_bytes + size > limit_bytes:
                continue  # too big for what is left of the slice; smaller files may still fit
            d = dest / s.relative_to(src)
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(s, d)
            files += 1
            n_bytes += size
    return files, n_bytes


def timed(argv: list[str], runs: int, env: dict[str, str], cwd: Path) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False, cwd=cwd)
        out.append(time.perf_counter() - t)
    return out


def commands(target: Path, out: Path) -> dict[str, list[str] | None]:
    w, b, d = tool("warden"), tool("betterleaks"), tool("detect-secrets")
    return {
        "warden": [w, "scan", str(target), "--format", "json", "--output", str(out / "warden.json")] if w else None,
        "betterleaks": [b, str(target), "--no-banner", "--no-color", "-l", "error", "-o", str(out / "bl.json")]
        if b else None,
        # detect-secrets only reports files under its working directory: run it from the parent.
        "detect-secrets": [d, "scan", "--all-files", target.name] if d else None,
    }


def flagged_files(name: str, target: Path, out: Path, env: dict[str, str]) -> set[str] | None:
    argv = commands(target, out)[name]
    if argv is None:
        return None
    # Run outside any git repository: detect-secrets would otherwise list files through git.
    proc = subprocess.run(argv, capture_output=True, env=env, check=False, cwd=target.parent)
    if name == "warden":
        doc = json.loads((out / "warden.json").read_text())
        return {Path(f["path"]).name for f in doc["findings"]}
    if name == "betterleaks":
        doc = json.loads((out / "bl.json").read_text())
        found = doc["findings"] if isinstance(doc, dict) else doc
        return {Path((f.get("location") or {}).get("path") or f.get("File", "")).name for f in found}
    doc = json.loads(proc.stdout)
    return {Path(p).name for p in doc["results"]}


def scores(flagged: set[str], positives: set[str], negatives: set[str]) -> tuple[float, float]:
    tp = len(flagged & positives)
    fp = len(flagged & negatives)
    return tp / len(positives), (tp / (tp + fp) if tp + fp else 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="whole stdlib tree, 5 runs")
    ap.add_argument("--mb", type=float, default=25.0, help="slice size in MB for the default run")
    ap.add_argument("--runs", type=int, default=0, help="timed runs per tool (default 3, or 5 with --full)")
    args = ap.parse_args()
    runs = args.runs or (5 if args.full else 3)

    work = Path(tempfile.mkdtemp(prefix="warden-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
    env["WARDEN_HOME"] = str(work / "home")
    env["WARDEN_FINGERPRINT_KEY"] = "bench"
    try:
        tree, ds_tree, out = work / "stdlib", work / "stdlib-ds", work / "out"
        out.mkdir()
        files, n_bytes = copy_stdlib(tree, None if args.full else int(args.mb * 1e6))
        ds_files, ds_bytes = copy_stdlib(ds_tree, int(min(n_bytes, 3e6 if not args.full else 10e6)))
        print(f"tree: {files} files, {n_bytes / 1e6:.1f} MB (Python {sys.version.split()[0]} stdlib"
              f"{'' if args.full else ' slice'}); {runs} runs each; cores: {os.cpu_count()}")

        results: dict[str, tuple[float, float, float]] = {}
        fast = {n: commands(tree, out)[n] for n in ("warden", "betterleaks")}
        times: dict[str, list[float]] = {n: [] for n, a in fast.items() if a}
        for _ in range(runs):  # interleaved, so load from other processes hits both alike
            for name in times:
                times[name] += timed(fast[name], 1, env, tree.parent)  # type: ignore[arg-type]
        ds = commands(ds_tree, out)["detect-secrets"]
        if ds:
            times["detect-secrets"] = timed(ds, 1, env, ds_tree.parent)
        for name in ("warden", "betterleaks", "detect-secrets"):
            if name not in times:
                print(f"{name:15s} not installed (pip install -e '.[bench]')")
                continue
            slow = name == "detect-secrets"
            nb, nf = (ds_bytes, ds_files) if slow else (n_bytes, files)
            med = statistics.median(times[name])
            results[name] = (nb / 1e6 / med, nf / med, med)
            note = f"  [{nb / 1e6:.1f} MB slice, 1 run]" if slow else ""
            print(f"{name:15s} median {med:7.2f} s  min {min(times[name]):6.2f} s  {nb / 1e6 / med:8.1f} MB/s  "
                  f"{nf / med:8.0f} files/s{note}")

        if "warden" in results:
            w = results["warden"][0]
            for peer, floor in (("betterleaks", 1.0), ("detect-secrets", 20.0)):
                if peer in results:
                    ratio = w / results[peer][0]
                    verdict = "ok" if ratio >= floor else "BELOW TARGET"
                    print(f"ratio warden/{peer:15s} {ratio:6.2f}x throughput (target >= {floor:g}x) {verdict}")

        for label, source in (("corpus", CORPUS), ("held-out corpus", HOLDOUT)):
            positives = {p.name for p in (source / "positive").iterdir()}
            negatives = {p.name for p in (source / "negative").iterdir()}
            corpus = work / source.name
            shutil.copytree(source, corpus)  # outside the repo: no .gitignore or git history effects
            print(f"\naccuracy on the {label}: {len(positives)} planted secrets + {len(negatives)} decoys"
                  " (file level)")
            for name in ("warden", "betterleaks", "detect-secrets"):
                flagged = flagged_files(name, corpus, out, env)
                if flagged is None:
                    continue
                recall, precision = scores(flagged, positives, negatives)
                ok = "ok" if recall >= 0.97 and precision >= 0.95 else "below 0.97/0.95"
                print(f"{name:15s} recall {recall:.3f}  precision {precision:.3f}  ({ok})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

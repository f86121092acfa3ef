"""Secrets scanning: throughput and accuracy against betterleaks and detect-secrets, in one run.

Throughput: a copy of this machine's Python standard library (site-packages and __pycache__
left out), each tool run as a CLI on the same directory, wall-clock medians. MB/s counts every
byte of the tree (all tools see the same files; skipping binaries fast is part of the job).
detect-secrets is ~100x slower, so by default it runs on a smaller slice and its MB/s is
compared as a rate.

History: `warden scan --git` against `betterleaks git` on the same repository and the same
commits (everything reachable from HEAD), wall-clock medians of interleaved runs. MB/s counts
the bytes of `git log -p HEAD` (the history's size, the same figure for both tools), commits/s
the commits `git rev-list HEAD` lists. With --git-repo a real repository is used (e.g. a public
project's full clone); without it a history is generated from the stdlib copy with
git fast-import (files added in batches and edited over many commits).

Accuracy: every tool scans the labelled corpus in tests/cases/secrets/corpus (one case per
file: positive/ holds one planted credential, negative/ only look-alikes); a file counts as
flagged when the tool reports anything in it. History cases (tests/cases/secrets/history_cases.py,
one repository each) are scored for the two tools that scan history.

    python bench/bench_secrets.py            # ~25 MB slice, 3 runs each (about a minute)
    python bench/bench_secrets.py --full     # the whole stdlib tree (~100 MB), 5 runs each
    python bench/bench_secrets.py --git-repo ~/src/pip   # history throughput on a real repository

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
sys.path.insert(0, str(ROOT / "tests" / "cases" / "secrets"))
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


def timed_cpu(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU is user+sys of the tool and every child it waited for (git)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False, cwd=cwd)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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


def make_history(tree: Path, repo: Path, commits: int) -> None:
    """A synthetic but realistic history: the tree's files arrive in batches and keep being edited."""
    files = sorted(p for p in tree.rglob("*") if p.is_file())
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    proc = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    w = proc.stdin.write
    batch = max(1, -(-len(files) // max(1, commits // 2)))  # every file arrives within the first half
    added: list[Path] = []
    for n in range(commits):
        w(f"commit refs/heads/main\ncommitter Bench <b@example.org> {1_600_000_000 + n * 3600} +0000\n".encode())
        w(b"data 7\nchange\n")  # later commits on the same branch chain onto the previous one
        new = files[len(added): len(added) + batch] if n % 2 == 0 else []
        edits = [added[(n * 7 + k) % len(added)] for k in range(3)] if added and not new else []
        for f in new + edits:
            data = f.read_bytes()
            if f in edits:  # an edit: a line in the middle changes
                cut = len(data) // 2
                data = data[:cut] + f"\n# edited in commit {n}\n".encode() + data[cut:]
            w(f"M 100644 inline {f.relative_to(tree).as_posix()}\ndata {len(data)}\n".encode() + data + b"\n")
        added += new
    proc.stdin.close()
    proc.wait()
    subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard"], check=True)


def history_bench(repo: Path, runs: int, env: dict[str, str], out: Path) -> None:
    w, b = tool("warden"), tool("betterleaks")
    if not (w and b):
        print("history: warden or betterleaks not installed (pip install -e '.[bench]')")
        return
    size = 0
    with subprocess.Popen(["git", "-C", str(repo), "log", "-p", "HEAD"], stdout=subprocess.PIPE) as p:
        assert p.stdout is not None
        while chunk := p.stdout.read(1 << 20):
            size += len(chunk)
    n_commits = int(subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "HEAD"], capture_output=True,
                                   check=True).stdout)
    argvs = {
        "warden": [w, "scan", "--git", "HEAD", str(repo), "--format", "json", "-o", str(out / "wh.json")],
        "warden --include-vendored": [w, "scan", "--git", "HEAD", str(repo), "--include-vendored", "--format",
                                      "json", "-o", str(out / "whv.json")],
        "betterleaks git": [b, "git", str(repo), "--log-opts=HEAD", "--no-banner", "--no-color", "-l", "error",
                            "-o", str(out / "bh.json")],
    }
    times: dict[str, list[float]] = {k: [] for k in argvs}
    cpu: dict[str, list[float]] = {k: [] for k in argvs}
    for _ in range(runs):  # interleaved: load from other jobs hits every tool alike
        for name, argv in argvs.items():
            wall, used = timed_cpu(argv, env, out)
            times[name].append(wall)
            cpu[name].append(used)
    print(f"\nhistory: {repo.name}, {n_commits} commits, git log -p HEAD = {size / 1e6:.1f} MB; {runs} runs each; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, t in med.items():
        p99 = sorted(times[name])[-1]
        print(f"{name:27s} median {t:7.2f} s  max {p99:6.2f} s  {size / 1e6 / t:7.1f} MB/s  {n_commits / t:8.0f} commits/s"
              f"  CPU {statistics.median(cpu[name]):6.2f} s")
    found = {name: len(json.loads((out / f).read_text())["findings"]) for name, f in
             (("warden", "wh.json"), ("warden --include-vendored", "whv.json"))}
    bl = json.loads((out / "bh.json").read_text())
    found["betterleaks git"] = len(bl["findings"] if isinstance(bl, dict) else bl)
    print("findings: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    for name in ("warden", "warden --include-vendored"):
        ratio = med["betterleaks git"] / med[name]
        cpu_ratio = statistics.median(cpu["betterleaks git"]) / statistics.median(cpu[name])
        print(f"ratio {name}/betterleaks git {ratio:5.2f}x throughput (target >= 1x) "
              f"{'ok' if ratio >= 1 else 'BELOW TARGET'}; {cpu_ratio:5.2f}x less CPU")


def history_accuracy(work: Path, env: dict[str, str], out: Path) -> None:
    from history_cases import build_all

    dest = work / "history-cases"
    positives, negatives = build_all(dest)
    w, b = tool("warden"), tool("betterleaks")
    print(f"\naccuracy on the history cases: {len(positives)} repositories with a secret in history + "
          f"{len(negatives)} with look-alikes only (repository level; detect-secrets has no history mode)")
    for name in ("warden", "betterleaks"):
        flagged = set()
        for label, names in (("positive", positives), ("negative", negatives)):
            for case in names:
                repo = dest / label / case
                if name == "warden" and w:
                    subprocess.run([w, "scan", "--git", str(repo), "--format", "json", "-o", str(out / "c.json")],
                                   capture_output=True, env=env, check=False)
                    n = len(json.loads((out / "c.json").read_text())["findings"])
                elif name == "betterleaks" and b:
                    subprocess.run([b, "git", str(repo), "--log-opts=HEAD", "--no-banner", "-l", "error", "-o",
                                    str(out / "c.json")], capture_output=True, env=env, check=False)
                    doc = json.loads((out / "c.json").read_text())
                    n = len(doc["findings"] if isinstance(doc, dict) else doc)
                else:
                    continue
                if n:
                    flagged.add(case)
        recall, precision = scores(flagged, positives, negatives)
        print(f"{name:15s} recall {recall:.3f}  precision {precision:.3f}")


def scores(flagged: set[str], positives: set[str], negatives: set[str]) -> tuple[float, float]:
    tp = len(flagged & positives)
    fp = len(flagged & negatives)
    return tp / len(positives), (tp / (tp + fp) if tp + fp else 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="whole stdlib tree, 5 runs")
    ap.add_argument("--mb", type=float, default=25.0, help="slice size in MB for the default run")
    ap.add_argument("--runs", type=int, default=0, help="timed runs per tool (default 3, or 5 with --full)")
    ap.add_argument("--git-repo", type=Path, help="history throughput on this repository (default: a generated one)")
    ap.add_argument("--history-commits", type=int, default=1500, help="commits in the generated history")
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

        repo = args.git_repo
        if repo is None:
            repo = work / "history"
            make_history(tree, repo, args.history_commits)
        history_bench(repo.resolve(), runs, env, out)

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
        history_accuracy(work, env, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

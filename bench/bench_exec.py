"""Start-up cost of `warden exec -- true` against bare bubblewrap and a bare interpreter start.

    python bench/bench_exec.py            # ~20 runs of each, a few seconds (+ srt install once)
    python bench/bench_exec.py --runs 200 # longer, steadier medians
    python bench/bench_exec.py --no-srt   # skip Anthropic's sandbox-runtime

All commands run round-robin in one process so machine noise hits them alike. Reported:
  python -c pass          the interpreter start every Python CLI pays
  bwrap ... true          bare bubblewrap with the same namespace flags Warden uses
  warden exec --json-explain -- true   decision + sandbox plan, nothing started
  warden exec -- true     the whole thing: decide, plan, seccomp, limits, bwrap, run (with network: none
                          this includes the refusing egress proxy that explains a blocked connection)
  ... EXPLAIN_NETWORK=0   the same without that proxy (bare --unshare-net): its cost is the difference
  srt true                @anthropic-ai/sandbox-runtime, installed into a temp dir (needs rg, socat)
Target: warden exec adds under 30 ms beyond (interpreter start + bare bwrap).
The audit log is off (WARDEN_AUDIT=0) so the figure is the sandbox path, not storage.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = "version: 1\ndefault: allow\nrules: []\n"
BWRAP_FLAGS = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run",
               "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--die-with-parent"]


def _install_srt(dest: Path) -> tuple[list[str] | None, str]:
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm not installed"
    missing = [tool for tool in ("rg", "socat") if shutil.which(tool) is None]
    if missing:
        return None, f"srt needs {', '.join(missing)} (apt-get install ripgrep socat)"
    try:
        subprocess.run([npm, "install", "--prefix", str(dest), "--no-audit", "--no-fund", "--loglevel=error",
                        "@anthropic-ai/sandbox-runtime"], check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"npm install failed: {exc}"
    srt = dest / "node_modules" / ".bin" / "srt"
    if subprocess.run([str(srt), "true"], capture_output=True, timeout=60).returncode != 0:
        return None, "srt installed but cannot run here"
    return [str(srt), "true"], ""


def _time(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - t) * 1000
    if r.returncode != 0:
        raise SystemExit(f"benchmark command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode()}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20, help="runs of each command (default 20)")
    ap.add_argument("--no-srt", action="store_true", help="do not install or run @anthropic-ai/sandbox-runtime")
    args = ap.parse_args()

    bwrap = shutil.which("bwrap")
    if bwrap is None:
        print("bench_exec: bubblewrap is not installed (apt-get install bubblewrap); nothing to measure")
        return 1
    # PYTHONDONTWRITEBYTECODE is common in CI images; without byte code every run would recompile
    # Warden's sources and the figure would measure the compiler, not Warden.
    compileall.compile_dir(str(ROOT / "src" / "warden"), quiet=1)

    tmp = Path(tempfile.mkdtemp(prefix="warden-bench-", dir="/var/tmp"))
    try:
        ws = tmp / "ws"
        ws.mkdir()
        subprocess.run(["git", "init", "-q", str(ws)], check=True)
        policy = tmp / "policy.yaml"
        policy.write_text(POLICY)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(WARDEN_POLICY=str(policy), WARDEN_AUDIT="0", WARDEN_HOME=str(tmp / "home"),
                   WARDEN_MANAGED_POLICY="")
        warden = [sys.executable, "-m", "warden"]
        cases: dict[str, list[str]] = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "bwrap ... true": [bwrap, *BWRAP_FLAGS, "--", "true"],
            "warden exec --json-explain": [*warden, "exec", "--json-explain", "--", "true"],
            "warden exec -- true": [*warden, "exec", "--", "true"],
            "... EXPLAIN_NETWORK=0": [*warden, "exec", "--", "true"],
        }
        envs = {name: env for name in cases}
        envs["... EXPLAIN_NETWORK=0"] = {**env, "WARDEN_SANDBOX_EXPLAIN_NETWORK": "0"}
        srt_note = "skipped (--no-srt)"
        if not args.no_srt:
            srt_cmd, srt_note = _install_srt(tmp / "srt")
            if srt_cmd:
                cases["srt true"] = srt_cmd
        for name, cmd in cases.items():  # warm caches (policy cache, page cache) once
            _time(cmd, envs.get(name, env), str(ws))
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, cmd in cases.items():
                samples[name].append(_time(cmd, envs.get(name, env), str(ws)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"warden exec start-up, {args.runs} runs each, round-robin (ms)")
    print(f"{'command':30s} {'median':>8s} {'p90':>8s} {'min':>8s}")
    med = {}
    for name, xs in samples.items():
        xs.sort()
        med[name] = statistics.median(xs)
        p90 = xs[min(len(xs) - 1, int(0.9 * len(xs)))]
        print(f"{name:30s} {med[name]:8.1f} {p90:8.1f} {xs[0]:8.1f}")
    if "srt true" not in samples:
        print(f"{'srt true':30s} {srt_note}")
    floor = med["python -c pass"] + med["bwrap ... true"]
    added = med["warden exec -- true"] - floor
    print(f"\nWarden adds {added:.1f} ms beyond interpreter start + bare bwrap ({floor:.1f} ms); target < 30 ms: "
          f"{'MET' if added < 30 else 'NOT MET'}")
    decide = med["warden exec --json-explain"] - med["python -c pass"]
    print(f"  of which decision + plan (imports, policy, analysis): {decide:.1f} ms;"
          f" sandbox start-up beyond bare bwrap: {added - decide:.1f} ms")
    explain = med["warden exec -- true"] - med["... EXPLAIN_NETWORK=0"]
    print(f"  of which the closed network's explaining proxy: {explain:.1f} ms "
          f"({med['warden exec -- true'] / med['... EXPLAIN_NETWORK=0']:.2f}x the bare closed network)")
    if "srt true" in med:
        print(f"  srt true / warden exec -- true = {med['srt true'] / med['warden exec -- true']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Inventory throughput: `warden inventory --recursive` over 100 generated repositories.

    python bench/bench_inventory.py             # 100 repositories, 5 rounds
    python bench/bench_inventory.py --repos 300 --rounds 3

Target from issue 17: 100 repositories in under 10 s. Each generated repository mixes the shapes of the
test fixtures (agent workflows, deploy/publish workflows, MCP configs, Claude/Codex/Cursor settings,
instruction files, package manifests) with ~60 ordinary source files, so the walk does real work.
The floor is the same walk done by a bare os.walk that reads every config file the detectors read:
the ratio says what parsing, the graph and the policy engine cost on top of the I/O.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import percentile  # noqa: E402

from warden.adapters.inventory.scan import find_repos, inventory  # noqa: E402
from warden.gateway import Gateway  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "inventory" / "fixtures"
CONFIG_NAMES = {".mcp.json", "settings.json", "settings.local.json", "config.toml", "hooks.json", "package.json",
                "CLAUDE.md", "AGENTS.md", "GEMINI.md", ".cursorrules", "CODEOWNERS", "pyproject.toml", "Cargo.toml",
                "mcp.json", "warden.yaml", ".gitlab-ci.yml"}


def generate(top: Path, n: int) -> None:
    shapes = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    for i in range(n):
        repo = top / f"repo-{i:03d}"
        shutil.copytree(FIXTURES / shapes[i % len(shapes)], repo)
        (repo / ".git").mkdir()
        for j in range(60):
            f = repo / "src" / f"mod{j // 10}" / f"file{j}.py"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(f"def f{j}():\n    return {i * j}\n")
        # vary the shapes so no two repositories are identical
        (repo / "package.json").write_text(json.dumps({"name": f"pkg-{i}", "private": i % 3 == 0,
                                                       "scripts": {"postinstall": "node x.js"} if i % 4 == 0 else {}}))
        if i % 5 == 0:
            (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {f"srv{i}": {"command": "npx", "args": ["x"],
                                                                                    "env": {"API_TOKEN": "${T}"}}}}))


def floor(top: Path) -> None:
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in (".git", "node_modules")]
        for name in files:
            if name in CONFIG_NAMES or name.endswith((".yml", ".yaml")):
                Path(root, name).read_bytes()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="warden-bench-inventory-"))
    try:
        top = tmp / "src"
        top.mkdir()
        generate(top, args.repos)
        home = tmp / "warden-home"
        environ = {"HOME": str(tmp), "WARDEN_MANAGED_POLICY": ""}
        runs, floors, result = [], [], None
        for _ in range(args.rounds):
            t = time.perf_counter()
            floor(top)
            floors.append(time.perf_counter() - t)
            gw = Gateway(cwd=str(top), policy_file=None, home=home, environ=environ, audit=False)
            t = time.perf_counter()
            result = inventory([str(top)], recursive=True, gateway=gw, managed_roots={})
            runs.append(time.perf_counter() - t)
            gw.close()
        assert result is not None and len(result.repos) == args.repos == len(find_repos(str(top)))
        cold, warm = runs[0], runs[1:] or runs
        med, p99, fl = statistics.median(warm), percentile(warm, 99), statistics.median(floors)
        print(f"inventory of {args.repos} repositories ({len(result.nodes)} nodes, {len(result.edges)} paths, "
              f"{len(result.findings)} findings, {len(result.problems)} file problems), {args.rounds} rounds")
        print(f"  cold       {cold:6.2f} s   (first run: empty compiled-policy cache, every policy compiled)")
        print(f"  warm       median {med:6.2f} s   p99 {p99:6.2f} s   per repository median {med / args.repos * 1e3:6.1f} ms")
        print(f"  I/O floor  median {fl:6.2f} s   (os.walk + read of the same config files)   ratio {med / fl:5.1f}x")
        budget = 10.0 * args.repos / 100
        worst = max(cold, p99)
        print(f"  budget {budget:.1f} s for {args.repos} repositories: {'OK' if worst < budget else 'OVER'} "
              f"(cold run is {cold / budget:.0%} of it, warm p99 {p99 / budget:.0%})")
        return 0 if worst < budget else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

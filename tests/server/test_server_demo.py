"""`warden demo --server` is the team server's one-command demo path: every step of it must really pass."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from warden_cli import run_warden  # noqa: E402


def test_the_server_demo_runs_every_step(tmp_path: Path):
    r = run_warden("demo", "--server", "--json", env={"HOME": str(tmp_path), "WARDEN_HOME": str(tmp_path / "h")},
                   timeout=240)
    out = json.loads(r.stdout)
    failed = [s for s in out["steps"] if not s["ok"]]
    assert r.returncode == 0 and out["ok"] and not failed, failed
    titles = " ".join(s["title"] for s in out["steps"])
    for what in ("login", "denies", "routed", "refused", "approves", "kill switch", "evidence"):
        assert what in titles
    kill = next(s for s in out["steps"] if "kill switch" in s["title"])
    assert "ms after the admin's click" in kill["detail"]

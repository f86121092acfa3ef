"""`warden demo` is the first thing a new user runs: it must show all three decisions and a verified log."""

from __future__ import annotations

import json

from warden_cli import run_warden


def test_demo_tour_shows_every_decision_and_a_verified_log(warden_home):
    proc = run_warden("demo", timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    text = proc.stdout.decode()
    assert "Summary:" in text and "`warden audit verify` on it says: OK:" in text
    rows = [json.loads(line) for line in run_warden("demo", "--json", timeout=120).stdout.decode().splitlines()]
    by_title = {r["title"]: r["verdict"]["decision"] for r in rows}
    assert by_title["Run the tests"] == "allow"
    assert by_title["Force-push over main"] == "deny"
    assert by_title["Obfuscated payload"] == "deny"
    assert by_title["Install a new dependency"] == "ask"
    assert not warden_home.exists()  # the tour never touches the user's Warden home

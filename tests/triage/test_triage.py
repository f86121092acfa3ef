"""Triage: recall of planted incidents and alert volume on a synthetic log, the same over a real
audit log written by the real gateway, malformed and gapped logs, and the HTML report in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from warden_cli import run_warden  # noqa: E402

from warden.core.triage.detect import TriageConfig, triage
from warden.core.triage.synth import INCIDENTS, generate

ARTIFACTS = Path(os.environ.get("WARDEN_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")


@pytest.fixture(scope="module")
def synthetic():
    log = generate(sessions=600, incident_rate=0.12, seed=11)
    return log, triage(log.events, TriageConfig(baseline_events=300))


def test_planted_incidents_are_found_and_routine_sessions_stay_quiet(synthetic):
    log, result = synthetic
    found = {(a.kind, a.session) for a in result.alerts}
    recall = sum(p in found for p in log.planted) / len(log.planted)
    routine = set(log.routine_sessions)
    noisy = {a.session for a in result.alerts if a.session in routine}
    print(f"triage: {len(log.events)} events, {len(log.planted)} planted incidents, recall {recall:.3f}, "
          f"{len(result.alerts)} alerts, {result.reduction:.0f} events per alert, "
          f"{len(noisy)} of {len(routine)} routine sessions alerted")
    assert recall >= 0.95
    assert {k for k, _ in log.planted} == set(INCIDENTS)  # every detector is exercised
    assert len(noisy) <= 0.03 * len(routine)
    assert result.reduction >= 100


def test_alerts_say_why_and_point_at_events(synthetic):
    _, result = synthetic
    egress = next(a for a in result.alerts if a.kind == "sensitive-read-egress")
    assert len(egress.events) >= 2 and "exfiltration" in egress.why and egress.severity in ("high", "critical")
    unreviewed = next(a for a in result.alerts if a.kind == "unapproved-sensitive")
    assert "without a review approval" in unreviewed.why and "main" in unreviewed.title


def test_an_approved_sensitive_edit_is_not_an_alert():
    from warden.core.audit.events import approval_event, decision_event

    action = {"tool_name": "Edit", "tool_input": {"file_path": "/w/src/auth/x.py"}, "session_id": "s1",
              "context": {"branch": "main"}}
    verdict = {"decision": "ask", "rules": [{"id": "ask-sensitive-change"}], "facts": [{"kind": "change.auth"}]}
    d = decision_event(action, verdict, policy_digest="", policy_sources=[], started_at=1_793_700_000,
                       duration_ms=1, decision_id="d1")
    a = approval_event(decision_id="d1", granted=True, approver="lead", via="queue", started_at=1_793_700_030,
                       session="s1")
    result = triage([d, a], TriageConfig(weekend_off=False, work_start_hour=0, work_end_hour=24))
    assert [x.kind for x in result.alerts] == []
    assert result.approval_latency_s == [30.0]
    alone = triage([d], TriageConfig(weekend_off=False, work_start_hour=0, work_end_hour=24))
    assert [x.kind for x in alone.alerts] == ["unapproved-sensitive"]


def test_gaps_old_formats_and_garbage_are_reported_not_fatal():
    events = [{"kind": "decision", "seq": 1, "result": {"decision": "allow"}}, {"seq": 2}, "not an event",
              {"kind": "decision", "seq": 7, "timestamp": "bad", "result": "weird"},
              {"kind": "decision", "seq": 8, "v": 0, "input": {"command": "ls"}}]
    result = triage(events)  # type: ignore[arg-type]
    assert result.unreadable == 2 and any("events 3..6 are missing" in p for p in result.problems)
    assert result.decisions == 3


def test_triage_cli_over_a_real_audit_log(tmp_path: Path):
    home, ws = tmp_path / "wh", tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    env = {"WARDEN_HOME": str(home), "HOME": str(tmp_path / "home"), "WARDEN_MANAGED_POLICY": "",
           "WARDEN_HOOK_DAEMON": "0"}
    for _ in range(4):  # the same boundary, again and again
        payload = {"tool_name": "Bash", "tool_input": {"command": "cat ~/.aws/credentials"}, "session_id": "probe-1",
                   "cwd": str(ws)}
        out = run_warden("decide", input=json.dumps(payload), env=env, cwd=ws)
        assert json.loads(out.stdout)["decision"] == "deny"
    out = run_warden("triage", "--format", "json", "--work-hours", "0-24", env=env, cwd=ws)
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    assert rep["events"] == 4
    (alert,) = [a for a in rep["alerts"] if a["kind"] == "repeated-denials"]
    assert alert["session"] == "probe-1" and alert["event_count"] == 4
    text = run_warden("triage", env=env, cwd=ws).stdout.decode()
    assert "Repeated denials" in text


def test_html_report_renders_in_chromium(synthetic, tmp_path: Path):
    from warden.adapters.triage_report import render_html

    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.skip("chromium is not installed (.ci/run installs it with apt-get)")
    _, result = synthetic
    page_file = tmp_path / "triage.html"
    page_file.write_text(render_html(result))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(page_file.as_uri())
            imgs = page.locator("section.plots img")
            assert imgs.count() == 4
            for i in range(4):  # each plot decoded and laid out, not a broken image
                assert page.evaluate("(el) => el.naturalWidth", imgs.nth(i).element_handle()) > 300
            rows = page.locator("tbody tr")
            assert rows.count() == min(200, len(result.alerts))
            assert "critical" in rows.first.inner_text() or "high" in rows.first.inner_text()
            page.screenshot(path=str(ARTIFACTS / "triage-report.png"), full_page=True)
        finally:
            browser.close()

"""The web interface in a real browser (Debian's Chromium via Playwright) against a real `warden server --dev`.

One server and one browser for the module; each test signs in in its own browser context. Requests are
made by real clients (``POST /v1/decide`` with agent keys), events are shipped through ``POST /v1/events``,
machine health through ``POST /v1/machines/report``. Screenshots are kept in tests/artifacts/ (or
$WARDEN_TEST_ARTIFACTS).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_proc import UI_POLICY, ServerProcess, h  # noqa: E402

from warden.core.audit import decision_event, outcome_event  # noqa: E402

ARTIFACTS = Path(os.environ.get("WARDEN_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 860}  # a laptop screen

class Scene:
    """The module's server and the people, machines and requests the tests look at."""

    def __init__(self, srv: ServerProcess) -> None:
        self.srv = srv
        self.url = srv.url
        self.ann_agent = srv.key("ann@example.com", "agent", team="payments")
        self.bob_agent = srv.key("bob@example.com", "agent", team="platform")
        self.lead = srv.key("lead@example.com", "approver", team="platform")
        self.ann_approver = srv.key("ann@example.com", "approver", team="payments")
        self.ann_dev = srv.key("ann@example.com", "developer", team="payments")
        self.auditor = srv.key("audit@example.com", "auditor")
        self.requests: dict[str, str] = {}

    def decide(self, key: str, session: str, agent: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = {"session_id": session, "actor": {"agent": agent}, "tool_use_id": f"tu-{uuid.uuid4().hex[:10]}",
                **payload}
        r = httpx.post(self.url + "/v1/decide", headers=h(key), json=body, timeout=30)
        assert r.status_code == 200, r.text
        out = r.json()
        out["tool_use_id"] = body["tool_use_id"]
        return out

    def bash(self, key: str, session: str, agent: str, command: str) -> dict[str, Any]:
        return self.decide(key, session, agent, {"tool_name": "Bash", "tool_input": {"command": command}})

    def prompt(self, key: str, session: str, agent: str, text: str) -> None:
        self.decide(key, session, agent, {"hook_event_name": "UserPromptSubmit", "prompt": text})

    def ingest(self, key: str, machine: str, events: list[dict[str, Any]]) -> None:
        r = httpx.post(self.url + "/v1/events", headers=h(key), json={"machine": machine, "events": events}, timeout=30)
        assert r.status_code == 200 and r.json()["accepted"] == len(events), r.text

    def report(self, key: str, machine: str, doctor: dict[str, Any]) -> None:
        r = httpx.post(self.url + "/v1/machines/report", headers=h(key), timeout=10,
                       json={"machine": machine, "version": "0.9.0", "doctor": doctor})
        assert r.status_code == 200, r.text

    def seed(self) -> None:
        ann, bob = self.ann_agent, self.bob_agent
        self.prompt(ann, "s-ann-1", "claude-code", "Ship the payments retry fix to production")
        self.bash(ann, "s-ann-1", "claude-code", "pytest -q tests/payments")
        self.bash(ann, "s-ann-1", "claude-code", "git push --force origin main")  # denied by the built-in policy
        self.requests["push"] = self.bash(ann, "s-ann-1", "claude-code", "git push origin main")["approval"]["id"]
        self.requests["deploy"] = self.bash(ann, "s-ann-1", "claude-code",
                                            "deploy payments --env prod")["approval"]["id"]
        self.prompt(bob, "s-bob-1", "codex", "Add HTTP retries to the web client and update CI")
        self.requests["install"] = self.bash(bob, "s-bob-1", "codex", "pip install requests==2.32.3")["approval"]["id"]
        repo = self.srv.root / "web-client"  # Bob's checkout (the server reads the file the Write replaces)
        (repo / ".github/workflows").mkdir(parents=True, exist_ok=True)
        (repo / ".github/workflows/release.yml").write_text("name: release\non: [tag]\njobs:\n  build:\n"
                                                            "    runs-on: ubuntu-latest\n")
        ci = self.decide(bob, "s-bob-1", "codex", {"cwd": str(repo), "tool_name": "Write", "tool_input": {
            "file_path": str(repo / ".github/workflows/release.yml"),
            "content": "name: release\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
                       "    steps:\n      - run: make release\n"}})
        self.requests["ci"] = ci["approval"]["id"]
        # a day of decisions shipped by Ann's laptop, so the chart has a shape
        now = time.time()
        history = []
        for i in range(48):
            verdict = "deny" if i % 11 == 0 else "ask" if i % 5 == 0 else "allow"
            rule = {"deny": "deny-protected-branch-rewrite", "ask": "ask-push", "allow": "allow-read-and-inspect"}[verdict]
            history.append(decision_event(
                {"tool_name": "Bash", "tool_input": {"command": f"make check-{i}"}, "session_id": f"s-ann-0{i % 3}",
                 "tool_use_id": f"old-{i}", "actor": {"id": "ann@example.com", "agent": "claude-code"}},
                {"decision": verdict, "reason": f"history {verdict}", "rules": [{"id": rule, "effect": verdict}]},
                policy_digest="d", policy_sources=[], started_at=now - 23 * 3600 + i * 1700, duration_ms=1.0))
        self.ingest(ann, "ann-laptop", history)
        # machines: one healthy, one whose hooks are off, one that went quiet two hours ago
        self.report(ann, "ann-laptop", {"healthy": True, "hooks_live": True, "findings": [], "outbox_pending": 0})
        self.report(bob, "bob-laptop", {"healthy": False, "hooks_live": False, "outbox_pending": 12, "findings": [
            {"check": "claude-code.hooks", "status": "fail", "fix": "warden install claude-code",  # as warden sync sends
             "summary": "Claude Code hooks are not installed in ~/.claude/settings.json"}]})
        self.report(bob, "ci-runner-7", {"healthy": True, "hooks_live": True, "findings": [], "outbox_pending": 0})
        db = sqlite3.connect(self.srv.home / "server.db")  # as if ci-runner-7 went quiet two hours ago
        db.execute("UPDATE machines SET last_seen = ? WHERE id = 'ci-runner-7'", (time.time() - 7200,))
        db.commit()
        db.close()


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("webui")
    srv = ServerProcess(root)
    srv.policy.write_text(UI_POLICY)
    srv.start()
    try:
        s = Scene(srv)
        s.seed()
        yield s
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser():
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (.ci/run installs it with apt-get)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def sign_in(browser: Any, scene: Scene, key: str) -> Any:
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(scene.url + "/")
    assert "/ui/login" in page.url
    page.fill("#token", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/approvals**")
    return page


def shot(page: Any, name: str) -> None:
    """Keep a screenshot, and check the page with axe-core (contrast, labels, landmarks, ARIA, headings)."""
    page.screenshot(path=str(ARTIFACTS / f"server-{name}.png"), full_page=True)
    axe = pytest.importorskip("axe_playwright_python.sync_playwright",
                              reason="axe-playwright-python is a dev dependency: pip install -e '.[dev]'")
    found = axe.Axe().run(page)
    assert found.violations_count == 0, found.generate_report()


def item(page: Any, request_id: str) -> Any:
    return page.locator(f"#queue li[data-id='{request_id}']")


def test_queue_filters_by_team_agent_and_risk_and_opens_the_full_card(browser, scene):
    page = sign_in(browser, scene, scene.lead)
    r = scene.requests
    for rid in r.values():
        item(page, rid).wait_for(timeout=5000)
    assert item(page, r["push"]).get_attribute("data-risk") == "high"  # a push to main
    assert item(page, r["deploy"]).get_attribute("data-risk") == "low"
    shot(page, "approvals-queue")

    page.select_option("#f-risk", "high")  # filters apply without a reload
    item(page, r["deploy"]).wait_for(state="detached", timeout=5000)
    risks = page.locator("#queue li").evaluate_all("els => els.map(e => e.dataset.risk)")
    assert risks and set(risks) == {"high"} and item(page, r["push"]).count() == 1
    page.select_option("#f-risk", "")
    page.select_option("#f-team", "platform")
    item(page, r["push"]).wait_for(state="detached", timeout=5000)
    assert item(page, r["install"]).count() == 1 and item(page, r["ci"]).count() == 1
    page.select_option("#f-team", "")
    page.select_option("#f-agent", "claude-code")
    item(page, r["install"]).wait_for(state="detached", timeout=5000)
    assert item(page, r["deploy"]).count() == 1
    assert "agent=claude-code" in page.url  # the filtered view is a link that can be shared
    page.select_option("#f-agent", "")

    item(page, r["push"]).locator("a").click()  # the full card, without a reload
    card = page.locator(f"article.card[data-id='{r['push']}']")
    card.wait_for(timeout=5000)
    text = card.inner_text()
    for part in ("git push origin main",                       # command and parsed structure
                 "git push to origin main",                    # touched branches (git facts)
                 "ask-push", "Pushes to shared branches",      # rule and reason
                 "Ship the payments retry fix",                # the session's prompt
                 "git push --force origin main",               # recent actions (the denied force push)
                 "pytest -q tests/payments",
                 "no untrusted content",                       # taint origin
                 "git revert",                                 # rollback hint
                 "ann@example.com", "payments", "claude-code", "s-ann-1"):  # who asked, team, agent, session
        assert part in text, part
    assert page.evaluate("document.activeElement.id") == "card-title"  # focus moves to the opened card
    shot(page, "approvals")

    item(page, r["ci"]).locator("a").click()
    ci = page.locator(f"article.card[data-id='{r['ci']}']")
    ci.wait_for(timeout=5000)
    diff = ci.locator("section[aria-labelledby^=h-diff] pre").inner_text()
    assert "-on: [tag]" in diff and "+on: [push]" in diff and "+      - run: make release" in diff  # diff preview
    assert "previous content sha256:" in ci.inner_text()  # rollback hint of a Write
    grants = ci.locator("select[name=grant] option").evaluate_all("os => os.map(o => o.value)")
    assert grants == ["once"]  # never wider than the rule allows
    page.context.close()


def test_approve_and_deny_with_reasons_while_the_client_waits(browser, scene):
    page = sign_in(browser, scene, scene.lead)
    deploy = scene.bash(scene.ann_agent, "s-ann-2", "claude-code", "deploy payments --env staging")["approval"]["id"]
    waited: dict[str, Any] = {}
    t = threading.Thread(target=lambda: waited.update(r=httpx.get(
        f"{scene.url}/v1/approvals/{deploy}/wait?timeout=40", headers=h(scene.ann_agent), timeout=50).json()))
    t.start()
    item(page, deploy).locator("a").click()
    card = page.locator(f"article.card[data-id='{deploy}']")
    card.wait_for(timeout=5000)
    assert card.locator("select[name=grant] option").count() >= 3  # once, durations, session
    card.locator("textarea[name=reason]").fill("release window, watched by on-call")
    card.locator("select[name=grant]").select_option("duration:3600")
    card.locator("button.approve").click()
    page.locator("#announce").get_by_text("approved").wait_for(timeout=5000)
    t.join(20)
    assert waited["r"]["status"] == "approved"  # the waiting client unblocked
    page.locator(f"article.card[data-id='{deploy}'][data-status='approved']").wait_for(timeout=5000)
    item(page, deploy).wait_for(state="detached", timeout=5000)  # and left the pending queue by itself
    got = httpx.get(f"{scene.url}/v1/approvals/{deploy}", headers=h(scene.lead)).json()
    assert got["votes"][0]["reason"] == "release window, watched by on-call"

    second = scene.bash(scene.bob_agent, "s-bob-2", "codex", "pip install left-pad")["approval"]["id"]
    item(page, second).wait_for(timeout=5000)  # a new request appears without a reload
    item(page, second).locator("a").focus()  # this one by keyboard alone
    page.keyboard.press("Enter")
    other = page.locator(f"article.card[data-id='{second}']")
    other.wait_for(timeout=5000)
    assert page.evaluate("document.activeElement.id") == "card-title"
    other.locator("textarea[name=reason]").focus()
    page.keyboard.type("use the internal mirror")
    for expected in ("grant", "approve", "deny"):  # tab order: scope, Approve, Deny
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name || document.activeElement.dataset.verb") == expected
    page.keyboard.press("Enter")
    page.locator("#announce").get_by_text("denied").wait_for(timeout=5000)
    item(page, second).wait_for(state="detached", timeout=5000)
    got = httpx.get(f"{scene.url}/v1/approvals/{second}", headers=h(scene.lead)).json()
    assert got["status"] == "denied" and got["votes"][0]["reason"] == "use the internal mirror"
    shot(page, "approvals-decided")
    page.context.close()


def test_a_refused_self_approval_shows_the_servers_reason(browser, scene):
    page = sign_in(browser, scene, scene.ann_approver)  # Ann approves for others, but this one her agent asked
    rid = scene.bash(scene.ann_agent, "s-ann-3", "claude-code", "git push origin release/2.4")["approval"]["id"]
    item(page, rid).locator("a").click()
    card = page.locator(f"article.card[data-id='{rid}']")
    card.wait_for(timeout=5000)
    card.locator("textarea[name=reason]").fill("it is fine")
    card.locator("button.approve").click()
    alert = card.locator("[role=alert]")
    alert.get_by_text("refused").wait_for(timeout=5000)
    assert "ann@example.com asked for request" in alert.inner_text()
    assert "separation of duties" in alert.inner_text() or "ask another person" in alert.inner_text()
    shot(page, "approvals-refused")
    assert httpx.get(f"{scene.url}/v1/approvals/{rid}", headers=h(scene.lead)).json()["status"] == "pending"
    page.context.close()


def test_a_session_is_a_timeline_from_prompt_to_outcome(browser, scene):
    s = f"s-timeline-{uuid.uuid4().hex[:6]}"
    ann = scene.ann_agent
    scene.prompt(ann, s, "claude-code", "Roll out the payments fix behind a flag")
    ok = scene.bash(ann, s, "claude-code", "pytest -q tests/payments/test_retry.py")
    asked = scene.bash(ann, s, "claude-code", "deploy payments --env prod --flag retry")
    rid = asked["approval"]["id"]
    r = httpx.post(f"{scene.url}/v1/approvals/{rid}/approve", headers=h(scene.lead), timeout=10,
                   json={"reason": "flagged rollout"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    now = time.time()
    scene.ingest(ann, "ann-laptop", [
        outcome_event(tool="Bash", started_at=now, status="ok", exit_code=0, session=s, tool_use_id=ok["tool_use_id"],
                      output="12 passed in 0.41s", actor={"id": "ann@example.com", "agent": "claude-code"}),
        outcome_event(tool="Bash", started_at=now + 1, status="ok", exit_code=0, session=s,
                      tool_use_id=asked["tool_use_id"], output="deployed payments@4f2c1 to prod (flag retry)",
                      actor={"id": "ann@example.com", "agent": "claude-code"})])

    page = sign_in(browser, scene, scene.auditor)
    page.goto(scene.url + "/ui/audit?q=flag+retry")  # full text over the redacted subjects
    row = page.locator("table").first.locator("tr", has_text=s)
    row.wait_for(timeout=5000)
    assert page.locator(f"a[href^='/v1/evidence/pack?session={s}']").count() >= 1
    assert "s-bob-1" not in page.locator("table").first.inner_text()  # the search narrowed the sessions
    page.goto(scene.url + "/ui/audit?verdict=deny&agent=claude-code")
    assert "git push --force origin main" in page.inner_text("main")
    assert "Ship the payments retry fix" in page.locator("table").first.inner_text()  # its prompt, though not a deny
    shot(page, "audit")

    page.goto(scene.url + f"/ui/audit/sessions/{s}")
    steps = page.locator("ol.timeline > li")
    texts = steps.all_inner_texts()
    assert "Roll out the payments fix" in texts[0]  # the prompt comes first
    i_test = next(i for i, t in enumerate(texts) if "test_retry.py" in t)
    i_deploy = next(i for i, t in enumerate(texts) if "deploy payments --env prod" in t)
    assert 0 < i_test < i_deploy
    deploy_step = texts[i_deploy]
    for part in ("ASK", "ask-deploy", "approval.request", "approved by lead@example.com", "flagged rollout",
                 "exit code 0", "deployed payments@4f2c1"):  # verdict -> approval -> outcome, under the call
        assert part in deploy_step, (part, deploy_step)
    assert deploy_step.index("approved by") < deploy_step.index("deployed payments@4f2c1")
    assert "12 passed" in texts[i_test] and "ALLOW" in texts[i_test]
    href = page.locator("a[download]").first.get_attribute("href")
    assert href == f"/v1/evidence/pack?session={s}"
    shot(page, "audit-timeline")
    page.context.close()


def test_dashboard_shows_decisions_rules_latency_and_machines_that_need_a_person(browser, scene):
    rid = scene.bash(scene.bob_agent, "s-bob-3", "codex", "deploy web --env prod")["approval"]["id"]
    assert httpx.post(f"{scene.url}/v1/approvals/{rid}/deny", headers=h(scene.lead), json={"reason": "freeze"},
                      timeout=10).status_code == 200
    page = sign_in(browser, scene, scene.lead)
    page.goto(scene.url + "/ui/dashboard")
    main = page.inner_text("main")
    assert page.locator("figure.chart svg rect").count() >= 10  # the day of history, drawn server-side
    assert "Decisions over time" in (page.locator("svg title").first.text_content() or "")
    denied = page.locator("section[aria-labelledby=h-denied]").inner_text()
    asked = page.locator("section[aria-labelledby=h-asked]").inner_text()
    assert "deny-protected-branch-rewrite" in denied and "ask-push" in asked and "ask-push" not in denied
    assert "approval latency, median" in main and "approval latency, p90" in main
    lat = httpx.get(scene.url + "/v1/ui/dashboard", headers=h(scene.lead)).json()["latency"]
    assert lat["decided"] >= 1 and lat["median_s"] is not None and lat["p90_s"] >= lat["median_s"]
    attention = page.locator("#attention").inner_text()
    assert "ci-runner-7" in attention and "stale" in attention.lower() and "no contact for 2 h" in attention
    assert "bob-laptop" in attention and "hooks not live" in attention
    assert "Claude Code hooks are not installed" in attention  # the doctor's own reason
    assert "ann-laptop" not in attention
    shot(page, "dashboard")
    # the stale threshold is a setting: with three hours, ci-runner-7 is fine again
    page.goto(scene.url + "/ui/dashboard?stale_minutes=180")
    assert "ci-runner-7" not in page.locator("#attention").inner_text()
    page.context.close()


def test_roles_developers_see_their_own_auditors_only_read_agents_cannot_sign_in(browser, scene):
    r = scene.requests
    dev = sign_in(browser, scene, scene.ann_dev)
    item(dev, r["push"]).wait_for(timeout=5000)
    owners = dev.locator("#queue li .meta").all_inner_texts()
    assert owners and all("ann@example.com" in o for o in owners)
    assert item(dev, r["install"]).count() == 0 and item(dev, r["ci"]).count() == 0  # Bob's are not shown
    item(dev, r["push"]).locator("a").click()
    dev.locator(f"article.card[data-id='{r['push']}']").wait_for(timeout=5000)
    assert dev.locator("button.approve").count() == 0 and "needs the approver role" in dev.inner_text("main")
    dev.goto(scene.url + f"/ui/approvals?open={r['install']}")  # not even by its link
    assert "No request" in dev.inner_text("main") and "pip install" not in dev.inner_text("main")
    dev.goto(scene.url + "/ui/audit")
    sessions = dev.locator("table").first.inner_text()
    assert "s-ann-1" in sessions and "s-bob-1" not in sessions
    assert dev.goto(scene.url + "/ui/audit/sessions/s-bob-1").status == 404
    dev.goto(scene.url + "/ui/audit/sessions/s-ann-1")  # her own session's evidence pack downloads
    href = dev.locator("#evidence-pack").get_attribute("href")
    pack = dev.request.get(scene.url + str(href))
    assert pack.status == 200 and pack.headers["content-type"] == "application/zip", pack.text()[:200]
    dev.goto(scene.url + "/ui/dashboard")
    assert "bob-laptop" not in dev.inner_text("main") and "ci-runner-7" not in dev.inner_text("main")
    shot(dev, "developer")
    dev.context.close()
    api = httpx.get(scene.url + "/v1/ui/sessions", headers=h(scene.ann_dev)).json()["sessions"]
    assert {s["session"] for s in api} >= {"s-ann-1"} and not any(s["session"].startswith("s-bob") for s in api)

    aud = sign_in(browser, scene, scene.auditor)
    item(aud, r["install"]).wait_for(timeout=5000)  # an auditor reads everything
    item(aud, r["install"]).locator("a").click()
    aud.locator(f"article.card[data-id='{r['install']}']").wait_for(timeout=5000)
    assert aud.locator("button.approve, button.deny").count() == 0
    aud.context.close()
    lead = sign_in(browser, scene, scene.lead)  # approvers read sessions, but the pack endpoint does not serve them
    lead.goto(scene.url + "/ui/audit/sessions/s-ann-1")
    assert lead.locator("#evidence-pack").count() == 0 and "Evidence packs are for auditors" in lead.inner_text("main")
    lead.context.close()

    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(scene.url + "/ui/login")
    page.fill("#token", scene.ann_agent)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/login**")
    assert "agent keys are for machines" in page.locator("[role=alert]").inner_text()
    ctx.add_cookies([{"name": "warden_token", "value": scene.ann_agent, "url": scene.url}])  # a planted cookie
    page.goto(scene.url + "/ui/dashboard")
    assert "/ui/login" in page.url
    ctx.close()
    assert httpx.get(scene.url + "/v1/ui/queue", headers=h(scene.ann_agent)).status_code == 403

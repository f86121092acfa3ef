"""The approval page in a real browser (Debian's Chromium via Playwright): sign in, see a request a real
client queued, approve it while the client waits, deny another; screenshots kept as test artifacts."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_proc import ServerProcess, h  # noqa: E402

ARTIFACTS = Path(os.environ.get("WARDEN_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def test_approve_and_deny_from_the_browser(tmp_path: Path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (.ci/run installs it with apt-get)")
    srv = ServerProcess(tmp_path).start()
    try:
        agent = srv.key("laptop-1", "agent")
        approver = srv.key("lead@example.com", "approver")

        def ask(session: str) -> str:
            r = httpx.post(srv.url + "/v1/decide", headers=h(agent), timeout=30, json={
                "tool_name": "Bash", "tool_input": {"command": f"deploy prod --build {session}"}, "session_id": session})
            return r.json()["approval"]["id"]

        first = ask("s-browser-1")
        waited: dict = {}
        t = threading.Thread(target=lambda: waited.update(r=httpx.get(
            f"{srv.url}/v1/approvals/{first}/wait?timeout=40", headers=h(agent), timeout=50).json()))
        t.start()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(srv.url + "/")
                assert "/ui/login" in page.url
                page.fill("#token", approver)
                page.click("button[type=submit]")
                card = page.locator(f"article[data-id='{first}']")
                card.wait_for(timeout=10_000)
                assert "deploy prod --build s-browser-1" in card.inner_text()
                assert "Deploys need another person" in card.inner_text()
                page.screenshot(path=str(ARTIFACTS / "server-approvals.png"), full_page=True)
                card.locator("input[name=reason]").fill("release window")
                card.locator("button.approve").click()
                t.join(20)
                assert waited["r"]["status"] == "approved"  # the waiting client unblocked
                card.wait_for(state="detached", timeout=5000)  # and the queue updated itself
                second = ask("s-browser-2")  # a new request appears without a reload
                other = page.locator(f"article[data-id='{second}']")
                other.wait_for(timeout=5000)
                other.locator("button.deny").click()
                other.wait_for(state="detached", timeout=5000)
                status = httpx.get(f"{srv.url}/v1/approvals/{second}", headers=h(approver)).json()["status"]
                assert status == "denied"
                page.goto(srv.url + "/ui/dashboard")
                assert "pending approvals" in page.inner_text("main")
                page.screenshot(path=str(ARTIFACTS / "server-dashboard.png"), full_page=True)
                page.goto(srv.url + "/ui/audit?session=s-browser-1")
                assert "deploy prod" in page.inner_text("main")
                page.screenshot(path=str(ARTIFACTS / "server-audit.png"), full_page=True)
            finally:
                browser.close()
    finally:
        srv.stop()

"""The HTML report as a person sees it: Debian's Chromium renders it headless, the drawn graph is on the
page and visible, and screenshots are written to tests/artifacts/ (the reviewed ones are checked in there
and copied to docs/images/)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.inventory.helpers import FIXTURES, scan
from warden.adapters.inventory.graphviz import render_svg
from warden.core.inventory.report.dot import dot
from warden.core.inventory.report.html import html

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("WARDEN_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    for name in ("monorepo", "library", "mcp-app"):
        shutil.copytree(FIXTURES / name, root / name)
    inv = scan(root / "monorepo", root / "library", root / "mcp-app")
    svg, error = render_svg(dot(inv))
    assert error == ""
    page = root / "report.html"
    page.write_text(html(inv, svg=svg))
    return inv, page


def test_report_renders_in_chromium(report):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (.ci/run installs it with apt-get)")
    inv, page_file = report
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            box = page.locator("#graph svg").bounding_box()
            assert box and box["width"] > 800 and box["height"] > 400  # drawn, not an empty box
            assert page.locator("#graph svg g.node").count() >= 40
            assert page.locator("#graph svg g.edge").count() == len(inv.edges)
            cards = page.locator("#summary .card").all_inner_texts()
            assert any("UNGOVERNED" in c and str(inv.counts()["edges"]["ungoverned"]) in c for c in cards)
            first = page.locator("#findings tr").nth(1).inner_text()
            assert "critical" in first
            page.screenshot(path=str(ARTIFACTS / "inventory-report.png"), full_page=False)
            page.locator("#graph").screenshot(path=str(ARTIFACTS / "inventory-graph.png"))
            assert errors == []
        finally:
            browser.close()
    assert (ARTIFACTS / "inventory-report.png").stat().st_size > 20_000


def test_report_without_graphviz_says_why(report):
    inv, _ = report
    page = html(inv, svg="", svg_error="Graphviz `dot` is not installed (apt-get install graphviz)")
    assert 'id="graph-missing"' in page and "apt-get install graphviz" in page and "<svg" not in page

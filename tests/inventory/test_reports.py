"""Every output format of the same realistic inventory: CycloneDX validates, SARIF points at files,
Markdown and DOT carry the paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.inventory.helpers import FIXTURES, scan
from warden.adapters.inventory.bom import BomError, cyclonedx_json, validate
from warden.adapters.inventory.graphviz import render_svg
from warden.core.inventory.report.cyclonedx import ref
from warden.core.inventory.report.dot import dot
from warden.core.inventory.report.markdown import markdown, text_summary
from warden.core.inventory.report.sarif import sarif


@pytest.fixture(scope="module")
def inv(tmp_path_factory):
    root = tmp_path_factory.mktemp("fixtures")
    for name in ("monorepo", "library", "mcp-app"):
        shutil.copytree(FIXTURES / name, root / name)
    return scan(root / "monorepo", root / "library", root / "mcp-app")


def test_cyclonedx_validates_and_carries_the_paths(inv):
    bom = json.loads(cyclonedx_json(inv))
    assert bom["specVersion"] == "1.6"
    services = {p["value"]: s for s in bom["services"] for p in s["properties"] if p["name"] == "warden:id"}
    refs = {s["bom-ref"] for s in bom["services"]}
    agent = services["agent:monorepo:.github/workflows/claude.yml#claude:claude-code"]
    flows = {f["classification"] for f in agent["data"]}
    assert {"push", "deploy", "use-credential"} <= flows
    deploy = next(f for f in agent["data"] if f["classification"] == "deploy")
    assert "VERCEL_TOKEN (standing)" in deploy["description"] and "ungoverned" in deploy["description"]
    assert deploy["destination"][0] == f"urn:cdx:{bom['serialNumber'][9:]}/1#{ref('target:cloud:paas')}"
    creds = {c["name"] for c in bom["components"] if c["type"] == "cryptographic-asset"}
    assert {"VERCEL_TOKEN", "NPM_TOKEN", "GITHUB_PERSONAL_ACCESS_TOKEN"} <= creds
    mcp = services["tool:mcp-app:mcp:filesystem"]
    assert mcp["x-trust-boundary"] is False and services["tool:mcp-app:mcp:github"]["x-trust-boundary"] is True
    vulns = {v["id"] for v in bom["vulnerabilities"]}
    assert "agent-untrusted-trigger" in vulns
    assert all(a["ref"] in refs for v in bom["vulnerabilities"] for a in v.get("affects", []))


def test_an_invalid_bom_is_refused():
    with pytest.raises(BomError, match="does not validate"):
        validate(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                             "services": [{"name": "x", "data": [{"flow": "sideways", "classification": "x"}]}]}))


def test_sarif_results_point_at_files(inv):
    doc = sarif(inv)
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "warden-inventory"
    ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run["results"]} == ids
    crit = next(r for r in run["results"] if r["ruleId"] == "agent-untrusted-trigger" and r["properties"]["repo"] == "monorepo")
    loc = crit["locations"][0]["physicalLocation"]
    assert crit["level"] == "error" and loc["artifactLocation"] == {"uri": ".github/workflows/claude.yml", "uriBaseId": "monorepo"}
    assert loc["region"]["startLine"] == 19
    assert run["originalUriBaseIds"]["monorepo"]["uri"].endswith("/monorepo/")
    assert len({r["partialFingerprints"]["wardenInventory/v1"] for r in run["results"]}) == len(run["results"])


def test_markdown_and_text(inv):
    md = markdown(inv)
    assert md.startswith("# Agent Action BOM")
    assert "| claude-code (claude.yml/claude) | deploy | PaaS deploy (Vercel/Netlify/Fly) | VERCEL_TOKEN (standing) |" in md
    assert "| MCP filesystem | claude-code | stdio |" in md and "| yes |" in md
    text = text_summary(inv)
    assert "CRITICAL" in text.splitlines()[2] and "UNGOVERNED" in text


def test_dot_draws_every_path_and_graphviz_renders_it(inv):
    source = dot(inv)
    assert source.count(" -> ") == len(inv.edges)
    svg, error = render_svg(source)
    assert error == "" and svg.startswith("<svg") and "(claude.yml/claude)" in svg


def test_missing_graphviz_is_said_not_hidden():
    svg, error = render_svg("digraph {}", binary="no-such-dot-binary")
    assert svg == "" and "apt-get install graphviz" in error


def test_json_report_matches_its_published_schema(inv, tmp_path):
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[2] / "src/warden/core/inventory/schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = inv.to_json()
    jsonschema.Draft202012Validator(schema).validate(doc)
    broken = json.loads(json.dumps(doc))
    broken["edges"][0]["classification"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)

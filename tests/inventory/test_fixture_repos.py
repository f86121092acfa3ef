"""Realistic fixture repositories against their expected graphs (tests/inventory/expected/*.json).

The expected files list every path as "SOURCE -action-> TARGET [classification, Warden verdict]" and every
finding as "severity rule file": a change in what the inventory sees shows up as a readable diff.
Regenerate after a deliberate change with WARDEN_UPDATE_EXPECTED=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.inventory.helpers import FIXTURES, scan

EXPECTED = FIXTURES.parent / "expected"


def summary(inv) -> dict:
    edges = sorted(f"{inv.nodes[e.source].name} -{e.action}-> {inv.nodes[e.target].name} "
                   f"[{e.classification}, {(e.verdict or {}).get('decision', '-')}]"
                   + (f" using {inv.nodes[e.credential].name} ({e.authority})" if e.credential else "")
                   for e in inv.edges.values())
    findings = sorted(f"{f.severity} {f.rule} {f.where.path if f.where else '-'}" for f in inv.findings)
    return {"edges": edges, "findings": findings, "problems": sorted(f"{p.kind} {p.path}" for p in inv.problems)}


@pytest.mark.parametrize("name", ["monorepo", "library", "mcp-app"])
def test_fixture_graph(tmp_path, name):
    repo = tmp_path / name
    shutil.copytree(FIXTURES / name, repo)
    (repo / ".git").mkdir()
    got = summary(scan(repo))
    path = EXPECTED / f"{name}.json"
    if os.environ.get("WARDEN_UPDATE_EXPECTED"):
        path.write_text(json.dumps(got, indent=1) + "\n")
    expected = json.loads(path.read_text())
    diff = {k: {"unexpected": sorted(set(got[k]) - set(expected[k])), "missing": sorted(set(expected[k]) - set(got[k]))}
            for k in expected if got.get(k) != expected[k]}
    assert not diff, json.dumps(diff, indent=1)


def test_monorepo_headline_finding(tmp_path):
    """The issue's example: an agent workflow any commenter can trigger that holds contents: write and a deploy secret."""
    repo = tmp_path / "monorepo"
    shutil.copytree(FIXTURES / "monorepo", repo)
    inv = scan(repo)
    f = next(f for f in inv.findings if f.rule == "agent-untrusted-trigger")
    assert f.severity == "critical"
    assert "any commenter" in f.title and "contents: write" in f.title and "VERCEL_TOKEN" not in f.title
    assert "AWS_DEPLOY_KEY" in f.title and "PaaS deploy" in f.title
    assert f.where.path == ".github/workflows/claude.yml" and f.where.line > 0

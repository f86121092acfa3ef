"""Package manifests: install-time scripts, publish paths with ambient credentials, script wrappers."""

from __future__ import annotations

import json

import pytest

from tests.inventory.helpers import edge, make_repo, rules, scan, triples

CASES = [
    ("publishable npm package", {"package.json": json.dumps({"name": "lib", "version": "1.0.0"})},
     {"claude-code -publish-> npm registry"}, set()),
    ("private package is not published", {"package.json": json.dumps({"name": "app", "private": True})}, set(),
     {"claude-code -publish-> npm registry"}),
    ("install scripts", {"package.json": json.dumps({"name": "a", "private": True, "scripts": {"postinstall": "node x.js"}})},
     {"claude-code -install-deps-> a lifecycle scripts"}, set()),
    ("pyproject", {"pyproject.toml": '[project]\nname = "p"\n'}, {"claude-code -publish-> PyPI"}, set()),
    ("cargo publish = false", {"Cargo.toml": '[package]\nname = "c"\npublish = false\n'}, set(), {"claude-code -publish-> crates.io"}),
    ("cargo", {"Cargo.toml": '[package]\nname = "c"\n'}, {"claude-code -publish-> crates.io"}, set()),
]


@pytest.mark.parametrize("name,files,present,absent", CASES, ids=[c[0] for c in CASES])
def test_packages(tmp_path, name, files, present, absent):
    inv = scan(make_repo(tmp_path / "repo", {"CLAUDE.md": "x", **files}))
    t = triples(inv)
    assert present <= t
    assert not (absent & t)


def test_install_script_finding_and_ambient_credential(tmp_path):
    inv = scan(make_repo(tmp_path / "repo", {"CLAUDE.md": "x", "package.json": json.dumps(
        {"name": "lib", "scripts": {"preinstall": "curl x | sh", "release": "npm publish"}})}))
    assert "install-scripts" in rules(inv)
    pub = edge(inv, "claude-code", "publish", "npm registry")
    assert inv.nodes[pub.credential].name == "npm token (~/.npmrc)" and pub.authority == "standing"


def test_a_script_wrapper_weaker_than_what_it_runs_is_found(tmp_path):
    policy = ("version: 1\nrules:\n  - id: no-agent-deploys\n    effect: deny\n    reason: deploys are for CI\n"
              "    command: [\"vercel deploy\"]\n")
    inv = scan(make_repo(tmp_path / "repo", {"CLAUDE.md": "x", "warden.yaml": policy,
                                            "package.json": json.dumps({"name": "w", "private": True,
                                                                        "scripts": {"deploy": "vercel deploy --prod"}})}))
    dep = edge(inv, "claude-code", "deploy")
    assert dep.verdict["decision"] == "allow" and dep.verdict["direct"]["decision"] == "deny"
    assert "no-agent-deploys" in dep.verdict["direct"]["rules"]
    assert "policy-wrapper-gap" in rules(inv)

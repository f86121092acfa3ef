"""Branch protection as declared, and the honest note about what needs the hosting API."""

from __future__ import annotations

import json

from tests.inventory.helpers import make_repo, rules, scan


def test_no_codeowners_and_nothing_declared(tmp_path):
    inv = scan(make_repo(tmp_path / "repo", {"README.md": "x"}))
    assert {"no-codeowners", "protection-not-visible"} <= rules(inv)
    branch = inv.nodes["target:repo:branch"].detail
    assert branch["declared_protection"] == [] and "hosting API" in branch["visibility"]


def test_declared_rulesets_and_probot_settings(tmp_path):
    inv = scan(make_repo(tmp_path / "repo", {
        "CODEOWNERS": "* @org/all\n",
        ".github/rulesets/main.json": json.dumps({"name": "main", "enforcement": "active",
                                                  "rules": [{"type": "pull_request"}, {"type": "non_fast_forward"}]}),
        ".github/settings.yml": "branches:\n  - name: main\n    protection:\n      required_pull_request_reviews: {}\n",
    }))
    declared = inv.nodes["target:repo:branch"].detail["declared_protection"]
    assert declared[0] == {"file": ".github/rulesets/main.json", "name": "main", "enforcement": "active",
                           "rules": ["non_fast_forward", "pull_request"]}
    assert declared[1]["enforcement"] == "probot-settings"
    assert "no-codeowners" not in rules(inv)
    note = next(f for f in inv.findings if f.rule == "protection-not-visible")
    assert ".github/rulesets/main.json" in note.message

"""Codex: approval policy and sandbox -> native permissions; hooks.json and whether Codex trusts it."""

from __future__ import annotations

import json

import pytest

from tests.inventory.helpers import edge, make_repo, rules, scan

HOOKS = json.dumps({"hooks": {"PreToolUse": [{"matcher": "", "hooks": [{"type": "command", "command": "warden hook codex"}]}]}})
TRUSTED = '\n[hooks.state.warden]\ntrusted_hash = "sha256:abc"\n'

CASES = [
    ("full auto", {".codex/config.toml": 'approval_policy = "never"\nsandbox_mode = "danger-full-access"\n'},
     {"push": ("ungoverned", "allow")}, {"codex-full-auto"}),
    ("read-only sandbox refuses writes", {".codex/config.toml": 'approval_policy = "never"\nsandbox_mode = "read-only"\n'},
     {"write-code": ("ungoverned", "deny"), "read-code": ("ungoverned", "allow")}, set()),
    ("on-request asks", {".codex/config.toml": 'approval_policy = "on-request"\n'}, {"run-shell": ("ungoverned", "ask")}, set()),
    ("untrusted hook is skipped by Codex", {".codex/config.toml": "", ".codex/hooks.json": HOOKS},
     {"push": ("ungoverned", "ask")}, {"codex-hook-untrusted", "ungoverned-agent"}),
    ("trusted hook governs", {".codex/config.toml": TRUSTED, ".codex/hooks.json": HOOKS},
     {"push": ("approval-required", "ask"), "read-code": ("allowed", "allow")}, set()),
    ("AGENTS.md alone", {"AGENTS.md": "# guide\n"}, {"run-shell": ("ungoverned", "ask")}, {"ungoverned-agent"}),
]


@pytest.mark.parametrize("name,files,paths,present", CASES, ids=[c[0] for c in CASES])
def test_codex(tmp_path, name, files, paths, present):
    inv = scan(make_repo(tmp_path / "repo", files))
    for action, (classification, native) in paths.items():
        e = edge(inv, "codex", action)
        assert (e.classification, e.native) == (classification, native), (action, e.to_json())
    assert present <= rules(inv)
    if "trusted" in name and "untrusted" not in name:
        assert "codex-hook-untrusted" not in rules(inv)


def test_malformed_toml_is_a_problem_not_a_crash(tmp_path):
    inv = scan(make_repo(tmp_path / "repo", {".codex/config.toml": "approval_policy = [never\n"}))
    assert any(p.kind == "malformed" and "TOML" in p.detail for p in inv.problems)
    assert edge(inv, "codex", "run-shell")


def test_managed_requirements_hooks_need_no_trust(tmp_path):
    from tests.inventory.helpers import shared_warden_home
    from warden.adapters.inventory.scan import inventory
    from warden.gateway import Gateway

    managed = make_repo(tmp_path / "etc-codex", {"requirements.toml": (
        '[[hooks.PreToolUse]]\nmatcher = ""\n[[hooks.PreToolUse.hooks]]\ntype = "command"\ncommand = "warden hook codex"\n')},
        git=False)
    repo = make_repo(tmp_path / "repo", {"AGENTS.md": "x"})
    home = make_repo(tmp_path / "home", {}, git=False)
    gw = Gateway(cwd=str(repo), policy_file=None, home=shared_warden_home(), environ={"HOME": str(home)}, audit=False)
    inv = inventory([str(repo)], user_home=str(home), gateway=gw, managed_roots={"codex": str(managed)})
    push = next(e for e in inv.edges.values() if e.source == "agent:repo:codex" and e.action == "push")
    assert push.classification == "approval-required" and push.controls == ["warden-hook:codex (managed settings)"]
    assert "codex-hook-untrusted" not in rules(inv)

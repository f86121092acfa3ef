"""The scan's own guarantees (detector isolation, policy layers, managed settings, repository discovery)
and the pure join of the map with audit events."""

from __future__ import annotations

import json

import pytest

from tests.inventory.helpers import edge, make_repo, rules, scan, shared_warden_home
from warden.adapters.inventory import scan as scan_module
from warden.adapters.inventory.scan import find_repos, inventory
from warden.core.inventory.evidence import action_class, join
from warden.core.inventory.model import Edge, Inventory
from warden.core.inventory.report import dot as dot_module
from warden.gateway import Gateway


def test_a_crashing_detector_costs_only_itself(tmp_path, monkeypatch):
    def broken(scope):
        raise KeyError("boom")

    monkeypatch.setattr(scan_module, "DETECTORS", [("broken", broken), *scan_module.DETECTORS])
    inv = scan(make_repo(tmp_path / "repo", {"CLAUDE.md": "x"}))
    assert [(p.kind, p.detail) for p in inv.problems] == [("detector-error", "broken: KeyError: 'boom'")]
    assert edge(inv, "claude-code", "push")


def test_a_broken_project_policy_is_high_and_every_probe_denied(tmp_path):
    inv = scan(make_repo(tmp_path / "repo", {"warden.yaml": "version: 1\nrules: [{id: x, effect: maybe}]\n",
                                            ".claude/settings.json": json.dumps({"hooks": {"PreToolUse": [
                                                {"matcher": "", "hooks": [{"command": "warden hook claude-code"}]}]}})}))
    assert "warden-policy-broken" in rules(inv)
    assert {e.classification for e in inv.edges.values() if e.agent} == {"blocked"}
    assert inv.repos[0]["policy"]["error"]


def test_policy_option_classifies_with_that_file(tmp_path):
    repo = make_repo(tmp_path / "repo", {".claude/settings.json": json.dumps({"hooks": {"PreToolUse": [
        {"matcher": "", "hooks": [{"command": "warden hook claude-code"}]}]}})})
    strict = tmp_path / "strict.yaml"
    strict.write_text("version: 1\nrules:\n  - id: no-push\n    effect: deny\n    reason: no pushes\n    command: [\"git push\"]\n")
    gw = Gateway(cwd=str(repo), policy_file=str(strict), home=shared_warden_home(), environ={"HOME": str(tmp_path)},
                 audit=False)
    inv = inventory([str(repo)], gateway=gw, policy_file=str(strict), managed_roots={})
    push = edge(inv, "claude-code", "push")
    assert push.classification == "blocked" and "no-push" in push.verdict["rules"]
    assert [x["layer"] for x in inv.repos[0]["policy"]["layers"]] == ["builtin", "project"]


def test_managed_settings_govern_every_checkout(tmp_path):
    managed = make_repo(tmp_path / "etc-claude", {"managed-settings.json": json.dumps(
        {"hooks": {"PreToolUse": [{"matcher": "", "hooks": [{"command": "warden hook claude-code"}]}]}})}, git=False)
    repo = make_repo(tmp_path / "repo", {"CLAUDE.md": "x"})
    home = make_repo(tmp_path / "home", {}, git=False)
    gw = Gateway(cwd=str(repo), policy_file=None, home=shared_warden_home(), environ={"HOME": str(home)}, audit=False)
    inv = inventory([str(repo)], user_home=str(home), gateway=gw, managed_roots={"claude-code": str(managed)})
    push = next(e for e in inv.edges.values() if e.repo == "repo" and e.action == "push")
    assert push.classification == "approval-required"


def test_find_repos_stops_at_checkouts(tmp_path):
    for rel in ("a", "b/c", "b/c/nested", "d/e/f/g/too-deep"):
        (tmp_path / rel / ".git").mkdir(parents=True)
    (tmp_path / "plain" / "dir").mkdir(parents=True)
    assert find_repos(str(tmp_path)) == [str(tmp_path / "a"), str(tmp_path / "b" / "c")]


def test_big_graphs_keep_what_matters_in_the_picture(monkeypatch):
    inv = Inventory()
    a = inv.node("agent:r:x", "agent", "x", "r")
    for i in range(30):
        t = inv.node(f"target:r:{i}", "target", f"t{i}", "r")
        inv.edge(Edge(a, "read-code", t, "r", classification="allowed"))
        inv.edge(Edge(a, "push", t, "r", classification="ungoverned"))
    monkeypatch.setattr(dot_module, "MAX_EDGES", 30)
    kept = dot_module._keep(inv)
    assert len(kept) == 30 and {e.classification for e in kept} == {"ungoverned"}


@pytest.mark.parametrize("tool,inp,expected", [
    ("Bash", {"command": "git push origin main"}, ("push", "branch")),
    ("Bash", {"command": "npm publish"}, ("publish", "registry:npm")),
    ("Bash", {"command": "npm ci"}, ("install-deps", "")),
    ("Bash", {"command": "ls -la"}, ("run-shell", "")),
    ("Write", {"file_path": "/r/.github/workflows/x.yml"}, ("modify-workflow", "ci")),
    ("Edit", {"file_path": "/r/src/a.py"}, ("write-code", "code")),
    ("Read", {"file_path": "/r/a"}, ("read-code", "code")),
    ("mcp__github__create_issue", {}, ("call-tool", "mcp:github")),
    ("WebFetch", {"url": "https://x"}, ("fetch-network", "network")),
])
def test_action_class(tool, inp, expected):
    assert action_class(tool, inp, "/r") == expected


def _event(kind, **kw):
    return {"kind": kind, "timestamp": kw.pop("ts", "2026-01-01T00:00:00.000000Z"), **kw}


def test_join_counts_decisions_approvals_outcomes_and_unmapped():
    inv = Inventory()
    agent = inv.node("agent:r:claude-code", "agent", "claude-code", "r", scope="project")
    branch = inv.node("target:r:branch", "target", "default branch", "r")
    shell = inv.node("target:r:shell", "target", "shell", "r")
    server = inv.node("tool:r:mcp:gh", "tool", "MCP gh", "r")
    push = inv.edge(Edge(agent, "push", branch, "r", classification="approval-required"))
    run = inv.edge(Edge(agent, "run-shell", shell, "r", classification="allowed"))
    call = inv.edge(Edge(agent, "call-tool", server, "r", classification="ungoverned"))
    ev = [
        _event("decision", id="d1", session="s", agent="claude-code", tool="Bash", workspace="/src/r",
               input={"command": "git push origin main"}, result={"decision": "ask", "rules": [{"id": "ask-push"}]}),
        _event("approval", decision_id="d1", granted=True, approver={"id": "alice", "via": "cli"}),
        _event("decision", id="d2", session="s", agent="claude-code", tool="Bash", cwd="/src/r/sub",
               input={"command": "pytest -q"}, result={"decision": "allow"}, ts="2026-01-02T00:00:00.000000Z"),
        _event("outcome", decision_id="d2", outcome={"status": "ok"}),
        _event("decision", id="d3", agent="claude-code", tool="mcp__gh__list", workspace="/src/r", input={},
               result={"decision": "ask"}),
        _event("decision", id="d4", agent="claude-code", tool="mcp__other__x", workspace="/src/r", input={},
               result={"decision": "ask"}),
        _event("decision", id="d5", agent="claude-code", tool="Bash", workspace="/elsewhere", input={"command": "ls"},
               result={"decision": "allow"}),
    ]
    out = join(inv, {"r": "/src/r"}, ev)
    rows = {r["edge"]: r for r in out["paths"]}
    assert rows[push.id]["approvals"] == [{"approver": "alice", "via": "cli", "granted": True, "at": "2026-01-01T00:00:00.000000Z"}]
    assert rows[push.id]["decisions"] == {"allow": 0, "ask": 1, "deny": 0} and rows[push.id]["rules"] == ["ask-push"]
    assert rows[push.id]["validation"] == [{"command": "pytest -q", "decision": "allow", "id": "d2"}]
    assert rows[run.id]["outcomes"] == {"ok": 1} and rows[run.id]["last"] == "2026-01-02T00:00:00.000000Z"
    assert "outside the scanned files" in rows[call.id]["note"]
    assert [u["tool"] for u in out["unmapped"]] == ["mcp__other__x"]
    assert push.observed["events"] == 1


def test_join_follows_the_command_a_path_was_probed_with():
    inv = Inventory()
    agent = inv.node("agent:r:claude-code", "agent", "claude-code", "r", scope="project")
    shell = inv.node("target:r:shell", "target", "shell", "r")
    paas = inv.node("target:cloud:paas", "target", "PaaS", "*")
    infra = inv.node("target:cloud:terraform", "target", "infra", "*")
    branch = inv.node("target:r:branch", "target", "default branch", "r")
    bash = lambda c: {"tool_name": "Bash", "tool_input": {"command": c}}  # noqa: E731
    run = inv.edge(Edge(agent, "run-shell", shell, "r", probe=bash("make test")))
    wrapper = inv.edge(Edge(agent, "deploy", paas, "r", probe=bash("npm run deploy"), direct=bash("vercel deploy --prod")))
    push = inv.edge(Edge(agent, "push", branch, "r", probe=bash("git push origin main")))
    via_push = inv.edge(Edge(agent, "deploy", infra, "r", probe=bash("git push origin main")))
    events = [{"kind": "decision", "id": str(i), "agent": "claude-code", "tool": "Bash", "workspace": "/r",
               "input": {"command": c}, "result": {"decision": "allow"}}
              for i, c in enumerate(["npm run deploy", "git push origin main", "terraform apply -auto-approve"])]
    rows = {r["edge"]: r["events"] for r in join(inv, {"r": "/r"}, events)["paths"]}
    assert rows == {wrapper.id: 1, push.id: 1, run.id: 1}  # terraform run directly is a shell action here
    assert via_push.id not in rows


def test_probes_never_touch_runtime_state(tmp_path):
    """Classifying many paths must not use up `limit:` budgets (npm publish is limited per session)."""
    repos = [make_repo(tmp_path / f"r{i}", {"CLAUDE.md": "x", "package.json": json.dumps({"name": f"p{i}"})})
             for i in range(12)]
    home = tmp_path / "wh"
    gw = Gateway(cwd=str(repos[0]), policy_file=None, home=home, environ={"HOME": str(tmp_path)}, audit=False)
    for _ in range(2):
        inv = inventory([str(r) for r in repos], gateway=gw, managed_roots={})
        assert {e.verdict["decision"] for e in inv.edges.values() if e.action == "publish"} == {"ask"}
    gw.close()
    assert not (home / "audit.db").exists()


def test_project_policy_loosening_counts_only_once_trusted(tmp_path):
    """The map classifies with the policy the gateway really applies: an untrusted warden.yaml may tighten,
    not loosen (`warden trust` decides), exactly as for live actions."""
    from tests.warden_cli import run_warden

    hooks = {"hooks": {"PreToolUse": [{"matcher": "", "hooks": [{"command": "warden hook claude-code"}]}]}}
    loosen = "version: 1\nrules:\n  - id: let-pushes\n    effect: allow\n    reason: we push\n    command: [\"git push\"]\n" \
             "disable: [ask-git-history-and-publish]\n"
    repo = make_repo(tmp_path / "repo", {".claude/settings.json": json.dumps(hooks), "warden.yaml": loosen})
    home = tmp_path / "wh"

    def push():
        gw = Gateway(cwd=str(repo), policy_file=None, home=home, environ={"HOME": str(tmp_path)}, audit=False)
        inv = inventory([str(repo)], gateway=gw, managed_roots={})
        gw.close()
        return edge(inv, "claude-code", "push"), inv.repos[0]["policy"]["layers"][-1]

    e, layer = push()
    assert e.classification == "approval-required" and layer == {"layer": "project", "path": "warden.yaml", "trusted": False}
    out = run_warden("trust", str(repo / "warden.yaml"), env={"WARDEN_HOME": str(home), "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    e, layer = push()
    assert e.classification == "allowed" and layer["trusted"] is True

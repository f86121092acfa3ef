"""Hostile or broken checkouts: every bad file is reported per file; the run neither crashes nor hangs."""

from __future__ import annotations

import json
import os

from tests.inventory.helpers import make_repo, rules, scan
from warden.adapters.inventory.files import MAX_FILE_BYTES, RepoFiles, strip_jsonc
from warden.core.inventory.model import Inventory


def _kinds(inv, path):
    return [p.kind for p in inv.problems if p.path == path]


def test_binary_huge_fifo_and_deep_files(tmp_path):
    repo = make_repo(tmp_path / "repo", {
        ".mcp.json": b"\x00\x01binary\x00",
        "package.json": '{"name": "x", "pad": "' + "a" * (MAX_FILE_BYTES + 10) + '"}',
        ".gemini/settings.json": "[" * 100_000 + "]" * 100_000,
        "CLAUDE.md": b"\xff\xfe not utf-8 \xff",
    })
    (repo / ".claude").mkdir()
    os.mkfifo(repo / ".claude" / "settings.json")  # reading it would block forever
    inv = scan(repo)
    assert _kinds(inv, ".mcp.json") == ["binary"]
    assert _kinds(inv, "package.json") == ["too-large"]
    assert _kinds(inv, ".gemini/settings.json") == ["malformed"]
    assert _kinds(inv, "CLAUDE.md") == ["binary"]
    assert _kinds(inv, ".claude/settings.json") == ["unreadable"]
    assert {"file-binary", "file-too-large", "file-malformed", "file-unreadable"} <= rules(inv)
    json.dumps(inv.to_json())  # the report itself is still whole


def test_symlink_loops_and_links_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text(json.dumps({"mcpServers": {"leak": {"command": "x"}}}))
    repo = make_repo(tmp_path / "repo", {"README.md": "x"})
    (repo / "loop").symlink_to(repo)  # a directory that contains itself
    (repo / "a").mkdir()
    (repo / "a" / "up").symlink_to("..")
    (repo / ".mcp.json").symlink_to(outside / "secret.json")  # must not be read into the report
    (repo / "CLAUDE.md").symlink_to(repo / "CLAUDE.md")  # ELOOP
    (repo / "ext").symlink_to(outside)
    inv = scan(repo)
    kinds = {p.path: p.kind for p in inv.problems}
    assert kinds[".mcp.json"] == "outside-repo"
    assert kinds["ext"] == "outside-repo"
    assert "symlink-loop" in {kinds.get("loop"), kinds.get("a/up")}
    assert kinds["CLAUDE.md"] in ("symlink-loop", "outside-repo")
    assert not any(n.name == "MCP leak" for n in inv.nodes.values())


def test_walk_stops_at_its_entry_bound_and_says_so(tmp_path):
    repo = make_repo(tmp_path / "repo", {f"d{i}/f{j}.txt": "x" for i in range(20) for j in range(10)})
    inv = Inventory()
    files = RepoFiles(repo, "repo", inv, max_entries=50)
    assert len(files.all_files()) < 50
    assert [p.kind for p in inv.problems] == ["truncated"]


def test_skipped_directories_are_not_walked(tmp_path):
    repo = make_repo(tmp_path / "repo", {"node_modules/pkg/package.json": "{}", ".git/config": "", "src/CLAUDE.md": "x"})
    files = RepoFiles(repo, "repo", Inventory())
    assert files.all_files() == ["src/CLAUDE.md"]


def test_jsonc():
    assert json.loads(strip_jsonc('{\n // c\n "a": "//not a comment", /* b */ "b": [1, 2,],\n}')) == {"a": "//not a comment", "b": [1, 2]}


CONFIG_PATHS = [".claude/settings.json", ".mcp.json", ".codex/config.toml", ".github/workflows/a.yml", "package.json",
                ".gemini/settings.json", ".cursor/hooks.json", ".gitlab-ci.yml", ".github/CODEOWNERS", ".vscode/mcp.json"]


def test_arbitrary_config_content_never_crashes_the_run(tmp_path_factory):
    """Random bytes, random JSON-ish and YAML-ish text in every config file: a report, never an exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    json_like = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                             lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4),
                             max_leaves=20).map(json.dumps)
    content = st.one_of(st.binary(max_size=200), st.text(max_size=200), json_like,
                        st.sampled_from(["on: {", "jobs: [1, 2]", "jobs: {a: {steps: [{uses: 3, run: [x]}]}}",
                                         "mcpServers = 1", '{"mcpServers": {"x": []}}', '{"hooks": {"PreToolUse": 7}}',
                                         '{"permissions": {"allow": "Bash"}}', "[mcp_servers.x]\nargs = 5\n"]))

    @settings(max_examples=int(os.environ.get("WARDEN_FUZZ_EXAMPLES", "40")), deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(CONFIG_PATHS), content, min_size=1, max_size=5))
    def run(files):
        repo = make_repo(tmp_path_factory.mktemp("fuzz") / "repo", files)
        inv = scan(repo)
        json.dumps(inv.to_json())
        assert not [p for p in inv.problems if p.kind == "detector-error"], inv.problems

    run()

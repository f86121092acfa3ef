"""Policy discovery, the compiled-policy cache, and the gateway's fail-closed paths."""

from __future__ import annotations

import pytest

from warden.adapters.policy_files import PolicyFileError, discover, find_workspace, load_compiled
from warden.core.decision import Decision
from warden.gateway import Gateway

RULE = "rules:\n  - {{id: {id}, effect: deny, reason: r, tool: [WebSearch]}}\n"


def layers(found):
    return [(layer, path) for layer, path, _ in found]


def test_discovery_order_and_sources(tmp_path, workspace):
    home = tmp_path / "wh"
    home.mkdir()
    (home / "policy.yaml").write_text(RULE.format(id="user-rule"))
    (workspace / ".warden").mkdir()
    (workspace / ".warden" / "policy.yaml").write_text(RULE.format(id="project-rule"))
    managed = tmp_path / "managed.yaml"
    managed.write_text(RULE.format(id="managed-rule"))
    env = {"WARDEN_HOME": str(home), "WARDEN_MANAGED_POLICY": str(managed)}
    found = discover(str(workspace), environ=env)
    assert layers(found) == [("builtin", "builtin:recommended.yaml"), ("user", str(home / "policy.yaml")),
                             ("project", str(workspace / ".warden" / "policy.yaml")), ("managed", str(managed))]
    # warden.yaml wins over .warden/policy.yaml; $WARDEN_POLICY wins over both; --policy over all
    (workspace / "warden.yaml").write_text(RULE.format(id="top"))
    assert discover(str(workspace), environ=env)[2][1] == str(workspace / "warden.yaml")
    other = tmp_path / "other.yaml"
    other.write_text(RULE.format(id="other"))
    assert discover(str(workspace), environ={**env, "WARDEN_POLICY": str(other)})[2][1] == str(other)
    cli = tmp_path / "cli.yaml"
    cli.write_text(RULE.format(id="cli"))
    found = discover(str(workspace), policy_file=str(cli), environ={**env, "WARDEN_POLICY": str(other)})
    assert found[2][1] == str(cli)


def test_missing_named_files_are_errors(tmp_path):
    with pytest.raises(PolicyFileError, match=r"\$WARDEN_POLICY names"):
        discover(str(tmp_path), environ={"WARDEN_HOME": str(tmp_path), "WARDEN_POLICY": str(tmp_path / "nope")})
    with pytest.raises(PolicyFileError, match="--policy names"):
        discover(str(tmp_path), policy_file=str(tmp_path / "nope"), environ={"WARDEN_HOME": str(tmp_path)})


def test_non_utf8_policy_is_a_clear_error(tmp_path, workspace):
    (workspace / "warden.yaml").write_bytes(b"rules: []\n\xff\xfe")
    with pytest.raises(PolicyFileError, match="not UTF-8"):
        discover(str(workspace), environ={"WARDEN_HOME": str(tmp_path)})


def test_workspace_is_nearest_marker(workspace):
    deep = workspace / "a" / "b"
    deep.mkdir(parents=True)
    assert find_workspace(str(deep)) == str(workspace)


def test_cache_hits_and_survives_corruption(tmp_path, workspace):
    home = tmp_path / "wh"
    found = discover(str(workspace), environ={"WARDEN_HOME": str(home)})
    first = load_compiled(found, home)
    cached = list((home / "cache").glob("policy-*.pickle"))
    assert len(cached) == 1
    assert load_compiled(found, home).digest == first.digest
    cached[0].write_bytes(b"\x80\x05garbage")
    assert load_compiled(found, home).digest == first.digest  # recompiled, not crashed


def _gw(tmp_path, workspace, **kw):
    env = {"WARDEN_HOME": str(tmp_path / "wh"), "HOME": str(tmp_path), "WARDEN_MANAGED_POLICY": ""}
    return Gateway.from_env(cwd=str(workspace), environ=env, audit=False, **kw)


def test_gateway_fails_closed_on_internal_error(tmp_path, workspace, monkeypatch):
    from warden.core.policy import compiled

    def boom(*a, **k):
        raise RuntimeError("matcher exploded")

    monkeypatch.setattr(compiled.Matcher, "matches", boom)
    v = _gw(tmp_path, workspace).decide_payload({"tool_name": "Read", "tool_input": {"file_path": "a"}})
    assert v.decision is Decision.DENY and "matcher exploded" in v.error


def test_gateway_fails_closed_when_audit_cannot_be_written(tmp_path, workspace, monkeypatch):
    gw = Gateway.from_env(cwd=str(workspace), environ={"WARDEN_HOME": str(tmp_path / "wh"), "HOME": str(tmp_path)},
                          audit=True)

    def broken_record(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gw._open_recorder(), "record_many", broken_record)  # the durable append fails
    v = gw.decide_payload({"tool_name": "Read", "tool_input": {"file_path": str(workspace / "a")}, "cwd": str(workspace)})
    assert v.decision is Decision.DENY
    assert "audit event could not be written" in v.reason and "No space left" in v.reason


def test_analyzer_failure_is_opaque_not_allowed(tmp_path, workspace, monkeypatch):
    import warden.core.analyze.tools as tools

    def boom(*a, **k):
        raise ValueError("bad parse")

    gw = _gw(tmp_path, workspace)
    assert gw.policy_for(str(workspace)).rules  # compiled (and examples checked) before the analyzer breaks
    monkeypatch.setattr(tools, "analyze_tool", boom)
    v = gw.decide_payload(
        {"tool_name": "Read", "tool_input": {"file_path": str(workspace / "a")}, "cwd": str(workspace)})
    assert v.decision is not Decision.ALLOW
    assert any(f.kind == "exec.opaque" and "bad parse" in f.detail for f in v.facts)


def test_cache_format_is_part_of_the_key(tmp_path, workspace, monkeypatch):
    """A compiled policy pickled by code of another shape is never loaded: it is recompiled."""
    import warden.core.policy.compiled as compiled
    from warden.adapters.policy_files import cache_key

    found = discover(str(workspace), environ={"WARDEN_HOME": str(tmp_path)})
    before = cache_key(found)
    monkeypatch.setattr(compiled, "FORMAT", compiled.FORMAT + 1)
    assert cache_key(found) != before

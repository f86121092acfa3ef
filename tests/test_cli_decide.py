"""`warden decide` contract: one verdict per input, bad input denied with an error, stream goes on."""

from __future__ import annotations

import json

from warden_cli import run_warden


def _lines(proc):
    assert proc.returncode == 0, proc.stderr.decode()
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def test_single_action(warden_home, workspace):
    payload = {"tool_name": "Read", "tool_input": {"file_path": str(workspace / "README.md")}, "cwd": str(workspace)}
    out = _lines(run_warden("decide", input=json.dumps(payload)))
    assert len(out) == 1
    assert out[0]["decision"] == "allow"
    assert set(out[0]) >= {"decision", "reason", "rules", "facts"}
    assert out[0]["rules"][0]["source"].startswith("builtin:recommended.yaml:")


def test_jsonl_keeps_order_and_survives_garbage(warden_home, workspace):
    good = json.dumps({"tool_name": "Read", "tool_input": {"file_path": "README.md"}, "cwd": str(workspace)})
    lines = [
        good.encode(),
        b"{not json",
        b"\xff\xfe\x00binary",
        json.dumps({"tool_name": "Teleport", "tool_input": {}}).encode(),
        json.dumps({"tool_name": "Bash", "tool_input": {}}).encode(),
        json.dumps([1, 2, 3]).encode(),
        b"",
        json.dumps({"tool_name": "Read", "tool_input": {"file_path": "x"}, "actor": "bob"}).encode(),
        good.encode(),
    ]
    out = _lines(run_warden("decide", "--jsonl", input=b"\n".join(lines) + b"\n"))
    assert len(out) == len(lines)
    assert out[0]["decision"] == "allow" and out[-1]["decision"] == "allow"
    for verdict, needle in zip(out[1:-1], ["malformed JSON", "UTF-8", "unknown tool", "needs a string tool_input.command",
                                          "must be a JSON object", "empty line", "actor must be an object"]):
        assert verdict["decision"] == "deny"
        assert needle in verdict["error"], verdict


def test_huge_inputs_are_denied_not_hung(warden_home, workspace):
    big_command = "echo " + "a" * (10 * 1024 * 1024)
    payload = json.dumps({"tool_name": "Bash", "tool_input": {"command": big_command}, "cwd": str(workspace)})
    out = _lines(run_warden("decide", input=payload, timeout=60))
    assert out[0]["decision"] == "deny" and "limit" in out[0]["error"]
    oversized = b"x" * (17 * 1024 * 1024)
    follow = json.dumps({"tool_name": "Read", "tool_input": {"file_path": "a"}, "cwd": str(workspace)}).encode()
    out = _lines(run_warden("decide", "--jsonl", input=oversized + b"\n" + follow + b"\n", timeout=60))
    assert [v["decision"] for v in out] == ["deny", "allow"]
    assert "larger than" in out[0]["error"]


def test_broken_policy_denies_everything_with_the_parse_error(warden_home, workspace, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    effect: maybe\n    reason: r\n    tool: [Read]\n")
    payload = json.dumps({"tool_name": "Read", "tool_input": {"file_path": "README.md"}, "cwd": str(workspace)})
    out = _lines(run_warden("decide", "--jsonl", "--policy", str(bad), input=payload + "\n" + payload + "\n"))
    assert [v["decision"] for v in out] == ["deny", "deny"]
    assert f"{bad}:3" in out[0]["reason"] and "rules.0.effect" in out[0]["error"]


def test_project_policy_in_workspace_is_discovered(warden_home, workspace):
    (workspace / "warden.yaml").write_text(
        "rules:\n  - {id: no-readme, effect: deny, reason: not this file, tool: [Read], path: [README.md]}\n")
    payload = {"tool_name": "Read", "tool_input": {"file_path": str(workspace / "README.md")}, "cwd": str(workspace / "sub")}
    (workspace / "sub").mkdir()
    out = _lines(run_warden("decide", input=json.dumps(payload)))
    assert out[0]["decision"] == "deny" and out[0]["rules"][0]["id"] == "no-readme"
    assert out[0]["rules"][0]["source"] == f"{workspace / 'warden.yaml'}:2"


def test_missing_explicit_policy_file_fails_closed(warden_home, workspace):
    payload = json.dumps({"tool_name": "Read", "tool_input": {"file_path": "a"}, "cwd": str(workspace)})
    out = _lines(run_warden("decide", input=payload, env={"WARDEN_POLICY": "/nonexistent/policy.yaml"}))
    assert out[0]["decision"] == "deny" and "does not exist" in out[0]["error"]


def test_policy_validate_reports_file_line(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("rules:\n  - id: x\n    effect: deny\n    reason: r\n    tol: [Bash]\n")
    proc = run_warden("policy", "validate", str(bad))
    assert proc.returncode == 1
    assert f"{bad}:5: rules.0.tol: unknown field" in proc.stdout.decode()
    good = tmp_path / "g.yaml"
    good.write_text("rules:\n  - {id: x, effect: deny, reason: r, tool: [Bash]}\n")
    proc = run_warden("policy", "validate", "--json", str(good))
    assert proc.returncode == 0 and json.loads(proc.stdout)["ok"] is True


def test_policy_test_suite_reports_failures_and_unhit_rules(warden_home, tmp_path):
    pol = tmp_path / "p.yaml"
    pol.write_text("disable: ['*']\ndefault: ask\nrules:\n"
                   "  - {id: r-read, effect: allow, reason: reads, tool: [Read]}\n"
                   "  - {id: r-never, effect: deny, reason: never used, tool: [WebSearch]}\n")
    suite = tmp_path / "t.yaml"
    suite.write_text("cases:\n"
                     "  - {action: {tool_name: Read, tool_input: {file_path: a}}, expect: allow, rule: r-read}\n"
                     "  - {action: {tool_name: Write, tool_input: {file_path: a}}, expect: allow}\n")
    proc = run_warden("policy", "test", "--policy", str(pol), "--json", str(suite))
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["passed"] == 1 and report["failed"] == 1
    assert report["never_hit"] == ["r-never"]


def test_policy_show_and_schema(warden_home, workspace):
    proc = run_warden("policy", "show", "--json", cwd=str(workspace))
    data = json.loads(proc.stdout)
    assert data["sources"][0]["layer"] == "builtin" and data["rules"]
    schema = json.loads(run_warden("policy", "schema").stdout)
    assert "rules" in schema["properties"]


def test_explain_json_has_the_trace(warden_home, workspace):
    proc = run_warden("explain", "--json", '{"tool_name": "Read", "tool_input": {"file_path": "~/.ssh/id_rsa"}}',
                      cwd=str(workspace))
    data = json.loads(proc.stdout)
    assert data["verdict"]["decision"] in ("ask", "deny")
    assert data["action"]["tool_name"] == "Read"


def test_every_decision_lands_in_the_audit_log_including_refused_payloads(warden_home, workspace):
    lines = [json.dumps({"tool_name": "Teleport", "tool_input": {}, "session_id": "s-audit"}),
             json.dumps({"tool_name": "Read", "tool_input": {"file_path": "README.md"}, "cwd": str(workspace),
                         "session_id": "s-audit"})]
    out = _lines(run_warden("decide", "--jsonl", input="\n".join(lines) + "\n"))
    assert [v["decision"] for v in out] == ["deny", "allow"]
    tail = run_warden("audit", "tail", "-n", "10", "--json")
    events = [json.loads(line) for line in tail.stdout.decode().splitlines()]
    decisions = [e for e in events if e["kind"] == "decision"]
    assert [e["result"]["decision"] for e in decisions] == ["deny", "allow"]
    assert "unknown tool" in decisions[0]["result"]["reason"]
    assert run_warden("audit", "verify").returncode == 0


def test_verdicts_never_echo_a_secret_the_action_carried(warden_home, workspace):
    import secrets
    import string

    token = "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))
    command = f"curl -H 'Authorization: token {token}' https://api.example.com/user"
    payload = {"tool_name": "Bash", "tool_input": {"command": command}, "cwd": str(workspace)}
    proc = run_warden("decide", input=json.dumps(payload))
    verdict = json.loads(proc.stdout)
    assert verdict["decision"] in ("ask", "deny")
    assert any(f["kind"] == "secret.content" for f in verdict["facts"])
    assert token not in proc.stdout.decode()
    assert "[REDACTED:github" in json.dumps(verdict)  # the subject is still recognisable, the secret is not

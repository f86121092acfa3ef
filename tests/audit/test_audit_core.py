"""Core audit model: events, redaction, canonical JSON, chain sealing and the verifier."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from audit_helpers import make_decision

from warden.core.action import action_from_payload
from warden.core.audit import (
    GENESIS,
    CanonicalError,
    Head,
    Record,
    approval_event,
    canonical_json,
    chain_hash,
    decision_event,
    error_event,
    make_checkpoint,
    outcome_event,
    seal,
    session_event,
    validate_event,
    verify_records,
)
from warden.core.audit.events import MAX_FIELD_CHARS
from warden.core.decision import Decision, Verdict

KEY = b"k" * 32


def chain(n: int) -> list[Record]:
    head, out = Head(), []
    for i in range(n):
        r = seal({"kind": "session", "id": f"e{i}", "n": i}, head, KEY)
        out.append(r)
        head = Head(r.seq, r.hash)
    return out


def test_rfc3339_matches_datetime() -> None:
    import random
    from datetime import UTC, datetime

    from warden.core.audit import rfc3339

    rng = random.Random(5)
    samples = [0, 0.5, 951782400, 951868799.999999, 4102444800, 1763740000.123456]
    samples += [rng.uniform(0, 8e9) for _ in range(2000)]
    for t in samples:
        t = round(t, 6)
        want = datetime.fromtimestamp(round(t * 1_000_000) / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert rfc3339(t) == want, t


def test_canonical_json_is_sorted_compact_and_rejects_nan() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'
    with pytest.raises(CanonicalError):
        canonical_json({"x": float("nan")})
    with pytest.raises(CanonicalError):
        canonical_json({"x": object()})


def test_decision_event_shape_and_redaction() -> None:
    action = action_from_payload({
        "tool_name": "Bash", "session_id": "sess", "tool_use_id": "toolu_1",
        "tool_input": {"command": "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123' https://x"},
        "actor": {"id": "bob", "agent": "cursor"},
    })
    seen: list[str] = []

    def redact(text: str) -> str:
        seen.append(text)
        return text.replace("abcdefghijklmnopqrstuvwxyz0123", "[REDACTED]")

    ev = decision_event(action, Verdict(Decision.DENY, "no", error="boom"), policy_digest="sha256:1",
                        policy_sources=["a.yaml", "b.yaml"], started_at=0.25, duration_ms=1.23456, redact=redact,
                        decision_id="d-1")
    assert ev["kind"] == "decision" and ev["id"] == "d-1"
    assert ev["timestamp"] == "1970-01-01T00:00:00.250000Z"
    assert ev["input"]["command"].count("[REDACTED]") == 1
    assert "abcdefghijklmnopqrstuvwxyz0123" not in json.dumps(ev)
    assert ev["masked"] == ["/input/command"]
    assert ev["result"] == {"decision": "deny", "reason": "no", "rules": [], "facts": [], "error": "boom"}
    assert ev["policy"] == {"digest": "sha256:1", "sources": ["a.yaml", "b.yaml"]}
    assert ev["agent"] == "cursor" and ev["actor"]["id"] == "bob" and ev["session"] == "sess"
    assert ev["tool_use_id"] == "toolu_1" and ev["duration_ms"] == 1.235
    validate_event(ev)


def test_default_redactor_masks_common_credentials() -> None:
    ev = decision_event({"tool_name": "Bash", "tool_input": {"command": "export K=AKIAABCDEFGHIJKLMNOP",
                                                             "env": {"PASSWORD": "password=hunter2hunter2"}}},
                        {"decision": "allow", "reason": ""}, policy_digest="", policy_sources=[],
                        started_at=0, duration_ms=0)
    text = json.dumps(ev)
    assert "AKIAABCDEFGHIJKLMNOP" not in text and "hunter2hunter2" not in text
    assert sorted(ev["masked"]) == ["/input/command", "/input/env/PASSWORD"]


def test_callers_redactor_is_backed_by_the_builtin_one() -> None:
    ev = decision_event({"tool_name": "Bash", "tool_input": {"command": "export K=AKIAABCDEFGHIJKLMNOP; echo sk"}},
                        {"decision": "allow", "reason": ""}, policy_digest="", policy_sources=[], started_at=0,
                        duration_ms=0, redact=lambda t: t.replace("echo sk", "echo [REDACTED:x:1]"))
    assert ev["input"]["command"] == "export K=[REDACTED:aws-access-key]; echo [REDACTED:x:1]"


def test_default_redactor_keeps_upstream_markers() -> None:
    from warden.core.audit import basic_redact

    text = "token=[REDACTED:github-token:ab12] deploy --password=s3cretvalue"
    assert basic_redact(text) == "token=[REDACTED:github-token:ab12] deploy --password=[REDACTED:assignment]"
    assert basic_redact("ls -la /tmp") == "ls -la /tmp"


def test_huge_and_deep_input_is_bounded() -> None:
    deep: dict = {}
    cur = deep
    for _ in range(100):
        cur["x"] = {}
        cur = cur["x"]
    ev = decision_event({"tool_name": "Write", "tool_input": {"file_path": "/a", "content": "a" * 1_000_000,
                                                              "deep": deep}},
                        {"decision": "allow", "reason": ""}, policy_digest="", policy_sources=[], started_at=0,
                        duration_ms=0)
    assert len(ev["input"]["content"]) < MAX_FIELD_CHARS + 100
    assert "/input/content" in ev["truncated"]
    assert len(canonical_json(ev)) < 20_000


def test_invalid_payload_still_yields_an_event() -> None:
    ev = decision_event(["not", "an", "object"], Verdict.fail_closed("bad payload"), policy_digest="",
                        policy_sources=[], started_at=0, duration_ms=0)
    assert ev["result"]["decision"] == "deny" and ev["result"]["error"] == "bad payload"


def test_other_kinds_validate() -> None:
    for ev in (
        approval_event(decision_id="d", granted=True, approver="alice", via="cli", started_at=0),
        outcome_event(tool="Bash", started_at=0, status="ok", exit_code=0, output="token=abcdefghijklmnop"),
        session_event(phase="start", session="s", started_at=0),
        error_event(where="hook", error="boom", started_at=0),
    ):
        validate_event(ev)
    out = outcome_event(tool="Bash", started_at=0, status="ok", output="token=abcdefghijklmnop")
    assert "abcdefghijklmnop" not in out["outcome"]["summary"] and out["masked"] == ["/outcome/summary"]
    with pytest.raises(ValueError):
        session_event(phase="pause", session="s", started_at=0)
    with pytest.raises(ValueError):
        validate_event({"kind": "nope", "id": "x"})


def test_seal_links_records() -> None:
    rs = chain(3)
    assert rs[0].prev_hash == GENESIS and rs[1].prev_hash == rs[0].hash and rs[2].seq == 3
    assert rs[1].hash == chain_hash(2, rs[0].hash, rs[1].body_digest())
    # a proof may elide bodies: the chain still verifies from digests
    assert verify_records([r.elided() for r in rs], {rs[0].key_id: KEY}).ok
    rep = verify_records(rs, {rs[0].key_id: KEY})
    assert rep.ok and rep.count == 3 and rep.last_seq == 3


def _edit(r: Record, **kw) -> Record:
    d = r.to_json()
    d.update(kw)
    return Record.from_json(d)


def test_verifier_names_each_kind_of_tampering() -> None:
    keys = {chain(1)[0].key_id: KEY}
    rs = chain(8)
    # edited body
    bad = list(rs)
    bad[3] = _edit(rs[3], body=rs[3].body.replace('"n":3', '"n":33'))
    b = verify_records(bad, keys).broken
    assert b and (b.seq, b.kind) == (4, "edited")
    # edited and re-hashed without the key -> MAC catches it
    body = rs[3].body.replace('"n":3', '"n":33')
    bad[3] = _edit(rs[3], body=body, hash=chain_hash(4, rs[3].prev_hash, Record.from_json(
        {**rs[3].to_json(), "body": body}).body_digest()))
    b = verify_records(bad[:4], keys).broken
    assert b and (b.seq, b.kind) == (4, "forged")
    # deleted
    b = verify_records(rs[:2] + rs[3:], keys).broken
    assert b and (b.seq, b.kind) == (3, "deleted")
    # reordered rows in a file (seq goes backwards)
    b = verify_records([rs[0], rs[2], rs[1]], keys).broken
    assert b and b.kind == "deleted" and b.seq == 2
    b = verify_records([rs[0], rs[1], rs[0]], keys).broken
    assert b and b.kind == "reordered"
    # reordered in place: bodies swapped, seq numbers kept
    swapped = [rs[0], _edit(rs[2], seq=2), _edit(rs[1], seq=3), *rs[3:]]
    b = verify_records(swapped, keys).broken
    assert b and (b.seq, b.kind) == (2, "reordered")
    # inserted: a self-consistent record that does not link
    fake = seal({"kind": "session", "id": "evil"}, Head(2, "f" * 64), KEY)
    b = verify_records([*rs[:2], fake], keys).broken
    assert b and (b.seq, b.kind) == (3, "inserted")
    # unknown key
    b = verify_records(rs, {}).broken
    assert b and b.kind == "unknown_key"
    # keyless verification checks the chain only
    assert verify_records(rs, None).ok


def test_make_decision_fixture_is_valid() -> None:
    validate_event(make_decision(1))


# -- property: any single tampering is caught, at or before the place it happened --------------


def _sig(payload: bytes) -> bytes:
    return b"sig:" + payload[-16:]


def _check(pub: str, payload: bytes, sig: bytes) -> bool:
    return sig == b"sig:" + payload[-16:]


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=2, max_value=12), op=st.sampled_from(
    ["edit", "delete", "swap_rows", "swap_bodies", "insert", "truncate", "duplicate"]), data=st.data())
def test_any_single_tampering_is_detected(n: int, op: str, data) -> None:
    rs = chain(n)
    keys = {rs[0].key_id: KEY}
    cp = make_checkpoint(Head(rs[-1].seq, rs[-1].hash), segment=1, created_at="t", reason="periodic",
                         public_key="pk", sign=_sig)
    i = data.draw(st.integers(min_value=0, max_value=n - 2))
    bad = list(rs)
    if op == "edit":
        bad[i] = _edit(rs[i], body=rs[i].body.replace('"n":', '"n": '))
    elif op == "delete":
        del bad[i]
    elif op == "swap_rows":
        bad[i], bad[i + 1] = bad[i + 1], bad[i]
    elif op == "swap_bodies":
        bad[i], bad[i + 1] = _edit(rs[i + 1], seq=rs[i].seq), _edit(rs[i], seq=rs[i + 1].seq)
    elif op == "insert":
        bad.insert(i + 1, seal({"kind": "session", "id": "evil"}, Head(rs[i].seq, rs[i].hash), b"x" * 32))
    elif op == "truncate":
        bad = bad[: i + 1]
    elif op == "duplicate":
        bad.insert(i + 1, rs[i])
    rep = verify_records(bad, keys, checkpoints=[cp], check_signature=_check)
    assert not rep.ok, (op, i)
    assert rep.broken is not None and rep.broken.seq <= i + 2, (op, i, rep.broken)
    assert verify_records(rs, keys, checkpoints=[cp], check_signature=_check).ok

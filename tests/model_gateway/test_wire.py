"""The pure parts of the model gateway: API shapes, SSE assembly, redaction, the `models:` policy."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warden.core.model import wire
from warden.core.model.policy import ModelPolicy, Who, budget_states, compile_models, merge_sections, over_budget
from warden.core.model.redact import redact_body
from warden.core.policy.load import LayerSource, PolicyLoadError, compile_policy
from warden.core.secrets import default_ruleset

KEY = b"k" * 32
TOKEN = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"
PEM = "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEowIBAAKCAQEA" * 20 + "\n-----END RSA PRIVATE KEY-----"


def _sse(events: list[tuple[str, dict]]) -> bytes:
    return b"".join(f"event: {n}\ndata: {json.dumps(d)}\n\n".encode() for n, d in events)


ANTHROPIC_STREAM = _sse([
    ("message_start", {"type": "message_start", "message": {"model": "claude-x", "usage": {"input_tokens": 50,
                                                                                            "cache_read_input_tokens": 7}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "thinking_delta", "thinking": "The user wants files."}}),
    ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "I'll "}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "look."}}),
    ("content_block_start", {"type": "content_block_start", "index": 2,
                             "content_block": {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 2,
                             "delta": {"type": "input_json_delta", "partial_json": '{"comm'}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 2,
                             "delta": {"type": "input_json_delta", "partial_json": 'and": "ls"}'}}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
    ("message_stop", {"type": "message_stop"}),
])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(ANTHROPIC_STREAM) - 1), max_size=12))
def test_sse_assembly_does_not_depend_on_chunking(cuts):
    points = sorted(set(cuts))
    chunks = [ANTHROPIC_STREAM[a:b] for a, b in zip([0, *points], [*points, len(ANTHROPIC_STREAM)])]
    parser, summary = wire.SSEParser(), wire.ResponseSummary(wire.API_ANTHROPIC)
    for c in chunks:
        for event, data in parser.feed(c):
            summary.feed_event(event, data)
    assert summary.plan == "I'll look." and summary.thinking == "The user wants files."
    assert summary.tool_calls["toolu_1"] == {"id": "toolu_1", "name": "Bash", "arguments": '{"command": "ls"}'}
    assert (summary.input_tokens, summary.output_tokens, summary.complete) == (57, 9, True)


def test_sse_parser_bounds_an_event_that_never_ends():
    parser = wire.SSEParser(max_event=1000)
    assert parser.feed(b"data: " + b"x" * 5000) == []
    assert parser.dropped == 1
    assert parser.feed(b'\n\ndata: {"a": 1}\r\n\r\n') == [("", {"a": 1})]


def test_a_stream_cut_short_is_not_complete():
    cut = ANTHROPIC_STREAM[: ANTHROPIC_STREAM.index(b"event: message_stop")]
    parser, summary = wire.SSEParser(), wire.ResponseSummary(wire.API_ANTHROPIC)
    for e, d in parser.feed(cut):
        summary.feed_event(e, d)
    assert not summary.complete


def test_instruction_is_the_latest_user_text_not_a_tool_result_or_reminder():
    body = {"model": "m", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                                     {"type": "text", "text": "fix the bug"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "output"}]},
    ]}
    info = wire.describe_request(wire.API_ANTHROPIC, body)
    assert info.instruction == "fix the bug" and info.tool_results == ["t1"] and info.model == "m"
    chat = wire.describe_request(wire.API_CHAT, {"model": "g", "messages": [
        {"role": "user", "content": "a"}, {"role": "tool", "tool_call_id": "c1", "content": "r"}]})
    assert chat.instruction == "a" and chat.tool_results == ["c1"]
    resp = wire.describe_request(wire.API_RESPONSES, {"model": "g", "input": "just a string"})
    assert resp.instruction == "just a string"


def test_redaction_covers_every_field_and_leaves_signatures_alone():
    sig = "EqQBCkYIBxgCKkD" + TOKEN  # opaque to the model; changing it breaks the request
    body = {"model": "m", "system": f"token {TOKEN}", "tools": [{"name": "t", "description": f"use {TOKEN}"}],
            "messages": [{"role": "user", "content": [
                {"type": "thinking", "thinking": "hm", "signature": sig},
                {"type": "tool_result", "tool_use_id": "x", "content": [{"type": "text", "text": PEM}]}]}]}
    changed, found = redact_body(body, default_ruleset(), KEY)
    assert changed
    text = json.dumps(body)
    assert TOKEN not in text.replace(sig, "") and "BEGIN RSA PRIVATE KEY" not in text
    assert body["messages"][0]["content"][0]["signature"] == sig
    assert {f.path for f in found} >= {"system", "tools[0].description", "messages[0].content[1].content[0].text"}


def test_a_clean_body_is_not_rewritten():
    body = {"model": "m", "messages": [{"role": "user", "content": "hello " * 1000}]}
    before = json.dumps(body)
    assert redact_body(body, default_ruleset(), KEY) == (False, [])
    assert json.dumps(body) == before


def test_deeply_nested_content_is_replaced_not_passed_unscanned():
    deep: dict = {"v": TOKEN}
    for _ in range(80):
        deep = {"n": deep}
    body = {"model": "m", "messages": [{"role": "user", "content": "x", "extra": deep}]}
    changed, found = redact_body(body, default_ruleset(), KEY)
    assert changed and TOKEN not in json.dumps(body) and any(f.rule == "too-deep" for f in found)


def test_error_shapes_are_the_apis_own():
    a = wire.error_body(wire.API_ANTHROPIC, 429, "over")
    assert a == {"type": "error", "error": {"type": "rate_limit_error", "message": "over"}}
    o = wire.error_body(wire.API_RESPONSES, 403, "no")
    assert o["error"]["message"] == "no" and o["error"]["code"] == "model_not_allowed"


POLICY = """version: 1
models:
  allow:
    - provider: anthropic
      model: claude-*
      actor: {agent: claude-code}
  budgets:
    - {id: monthly, per: actor, window: month, tokens: 1000}
  prices:
    "claude-*": {input: 3, output: 15}
"""


def load_policy_text(text: str):
    return compile_policy([LayerSource("project", "warden.yaml", text)])


def test_the_models_section_validates_and_compiles():
    policy = load_policy_text(POLICY)
    mp = compile_models(policy.models)
    who = Who("alice", "claude-code", (), "s1")
    assert mp.approve("anthropic", "claude-sonnet-4", who) is None
    assert "not approved" in (mp.approve("anthropic", "claude-sonnet-4", Who("alice", "codex", (), "s")) or "")
    assert "not approved" in (mp.approve("openai", "gpt-5", who) or "")
    assert mp.cost("claude-sonnet-4", 1_000_000, 0) == pytest.approx(3.0)
    with pytest.raises(PolicyLoadError):
        load_policy_text("version: 1\nmodels:\n  budgets: [{id: x, per: actor}]\n")  # no limit given
    with pytest.raises(PolicyLoadError):
        load_policy_text("version: 1\nmodels:\n  alow: []\n")  # a typo is an error, not a silent no-op


def test_layers_only_tighten_model_approval_and_budgets_accumulate():
    merged = merge_sections([
        ("managed", {"allow": [{"provider": ["*"], "model": ["claude-*", "gpt-5*"]}],
                     "budgets": [{"id": "org", "per": "actor", "window": "month", "tokens": 5_000_000}],
                     "loop": {"repeat": 10}}),
        ("project", {"allow": [{"provider": ["*"], "model": ["*"]}],
                     "budgets": [{"id": "mine", "per": "session", "window": "session", "tokens": 100}],
                     "loop": {"repeat": 50}}),
    ])
    mp = compile_models(merged)
    who = Who("a", "x", (), "s")
    assert mp.approve("openai", "o3", who) is not None  # the project layer cannot widen the managed list
    assert [b.id for b in mp.budgets] == ["org", "mine"] and mp.loop_repeat == 10

    used = {("actor", "a"): (10, 0.0), ("session", "s"): (100, 0.0)}
    states = budget_states(mp, who, 1_700_000_000, lambda per, value, since: used.get((per, value), (0, 0.0)))
    over = over_budget(states)
    assert over is not None and over.budget.id == "mine"


def test_monthly_windows_start_on_the_first():
    from warden.core.model.policy import window_start

    # 2024-02-29 12:00 UTC -> 2024-02-01
    assert window_start("month", 1709208000) == 1706745600
    assert window_start("day", 1709208000) == 1709164800
    assert ModelPolicy().approve("any", "model", Who("", "", (), "")) is None  # no list: not restricted


def test_the_clean_cache_skips_repeated_context_but_never_a_secret():
    from warden.core.model.redact import CleanCache

    cache = CleanCache()
    long_clean = "def f():\n    return 1\n" * 40
    turn1 = {"model": "m", "messages": [{"role": "user", "content": long_clean},
                                       {"role": "user", "content": long_clean + f"\n{TOKEN}"}]}
    changed, _ = redact_body(turn1, default_ruleset(), KEY, cache)
    assert changed and TOKEN not in json.dumps(turn1)
    hits = cache.hits
    turn2 = {"model": "m", "messages": [{"role": "user", "content": long_clean},
                                       {"role": "user", "content": long_clean + f"\n{TOKEN}"}]}
    changed, found = redact_body(turn2, default_ruleset(), KEY, cache)
    assert cache.hits == hits + 1  # the clean string was not scanned again...
    assert changed and TOKEN not in json.dumps(turn2)  # ...the one with a secret was
    assert [f.path for f in found] == ["messages[1].content"]


def test_personal_data_is_redacted_from_requests_too():
    body = {"model": "m", "messages": [{"role": "user", "content": "refund card 4539 1488 0343 6467 for ssn 536-90-4399"}]}
    changed, found = redact_body(body, default_ruleset(), KEY)
    text = json.dumps(body)
    assert changed and "4539 1488" not in text and "536-90-4399" not in text
    assert {f.rule for f in found} == {"pii-card", "pii-ssn"}
    assert "[REDACTED:pii-card:" in text

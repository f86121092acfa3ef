"""Fail closed on every input: hostile JSON values each get a verdict, and a --jsonl stream never ends early."""

from __future__ import annotations

import json

import pytest
from warden_cli import run_warden
from hypothesis import given, settings
from hypothesis import strategies as st

from warden.cli.decide_stream import parse_payload

OK = b'{"tool_name": "Read", "tool_input": {"file_path": "README.md"}}'
HOSTILE = [
    (b'{"tool_name": "Bash", "tool_input": {"command": "ls", "n": ' + b"1" * 4301 + b"}}", "4300 digits"),
    (b'{"tool_name": "Bash", "tool_input": {"command": "ls"}, "n": -' + b"9" * 50_000 + b"}", "4300 digits"),
    (b'{"tool_name": "Bash", "tool_input": {"command": "ls"}, "x": 1e999999}', "overflows"),
    (b'{"tool_name": "Bash", "tool_input": {"command": "ls"}, "x": -1e400}', "overflows"),
    (b'{"tool_name": "Bash", "tool_input": {"command": "ls"}, "x": NaN}', "NaN is not JSON"),
    (b'{"tool_name": "Bash", "tool_input": {"command": "ls"}, "x": Infinity}', "Infinity is not JSON"),
    (b'{"tool_name": "Bash", "tool_input": {"command": "ls"}, "x": -Infinity}', "Infinity is not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
]


@pytest.mark.parametrize("raw,needle", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_parse_payload_names_the_problem(raw, needle):
    value, error = parse_payload(raw)
    assert value is None and error and needle in error


def test_every_hostile_line_gets_a_deny_and_the_stream_goes_on(warden_home, workspace):
    stream = [OK]
    for raw, _ in HOSTILE:  # each hostile line is followed by a good one, which must still be decided
        stream += [raw, OK]
    proc = run_warden("decide", "--jsonl", "--no-audit", input=b"\n".join(stream) + b"\n", cwd=workspace, timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr.decode()[-2000:]
    out = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert len(out) == len(stream)
    assert [v["decision"] for v in out] == ["allow"] + ["deny", "allow"] * len(HOSTILE)
    for verdict, (_, needle) in zip(out[1::2], HOSTILE):
        assert needle in verdict["error"]


@pytest.mark.parametrize("raw,needle", HOSTILE[:3], ids=["digits", "digits-neg", "overflow"])
def test_single_decide_denies_without_a_traceback(warden_home, workspace, raw, needle):
    proc = run_warden("decide", "--no-audit", input=raw, cwd=workspace)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    verdict = json.loads(proc.stdout)
    assert verdict["decision"] == "deny" and needle in verdict["error"]


_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                          st.text(max_size=30))
_json = st.recursive(_json_scalars, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                          st.dictionaries(st.text(max_size=8), kids, max_size=4)),
                     max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_parse_payload_never_raises_on_bytes(raw):
    value, error = parse_payload(raw)
    assert error is None or value is None


@settings(max_examples=200, deadline=None)
@given(_json, st.sampled_from([b"", b"1" * 4400, b"NaN", b"1e400", b"[" * 3000]))
def test_decide_gives_a_verdict_for_any_payload_with_hostile_tails(value, tail):
    from warden.cli.decide_stream import _decide_line

    class Boom:  # a gateway whose decide raises still yields a verdict
        def decide_payload(self, payload):
            raise RuntimeError("boom")

    text = json.dumps({"tool_name": "Bash", "tool_input": {"command": "ls", "v": value}}).encode()
    raw = text[:-1] + (b', "t": ' + tail + b"}" if tail else b"}")
    payload, error = parse_payload(raw)
    if error is None:
        assert _decide_line(Boom(), payload)["decision"] == "deny"

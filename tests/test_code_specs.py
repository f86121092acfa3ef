"""The interpreter API table (specs/code_apis.yaml): its shape, its own examples, and bounds.

The table is data a newcomer edits, so a schema keeps it honest: every effect is one the
engine knows and takes the right number of argument positions. Each example is run through
the shell analyzer as the one-liner it would be (`python3 -c`, `node -e` ...).
"""

from __future__ import annotations

import shlex
from importlib import resources

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import validate
from shell_util import an, kinds

ARITY = {"delete": 1, "delete_tree": 1, "read": 1, "write": 1, "copy": 2, "move": 2, "shell": 1, "argv": 1,
         "prog_args": 2, "argv_rest": 1, "request": 1, "upload": 1, "connect": 1, "listen": 0, "eval": 1,
         "dup": 0, "decode": 0, "env_dump": 0, "opaque": 0}
PROGRAM = {"python": "python3", "javascript": "node", "ruby": "ruby", "php": "php", "lua": "lua", "perl": "perl"}
RAW = yaml.safe_load(resources.files("warden.core.analyze.specs").joinpath("code_apis.yaml").read_text())
SCHEMA = {
    "type": "object",
    "required": ["python", "javascript", "ruby", "php", "lua", "perl", "examples"],
    "properties": {
        "examples": {"type": "array", "minItems": 6, "items": {
            "type": "object", "required": ["lang", "code"], "additionalProperties": False,
            "properties": {"lang": {"enum": list(PROGRAM)}, "code": {"type": "string"},
                           "has": {"type": "string"}, "lacks": {"type": "string"}}}},
    },
    "additionalProperties": {"type": "object", "minProperties": 5,
                             "additionalProperties": {"type": "string", "pattern": r"^[a-z_]+( (\d+|-))*$"}},
}


def test_table_matches_schema_and_arities():
    validate(RAW, SCHEMA)
    for lang, table in RAW.items():
        if lang == "examples":
            continue
        for name, spec in table.items():
            effect, *args = spec.split()
            assert effect in ARITY, f"{lang}.{name}: unknown effect {effect}"
            assert len(args) == ARITY[effect], f"{lang}.{name}: {effect} takes {ARITY[effect]} positions"


def _run(lang: str, code: str) -> set[str]:
    return kinds(f"{PROGRAM[lang]} {'-r' if lang == 'php' else '-c' if lang == 'python' else '-e'} {shlex.quote(code)}")


@pytest.mark.parametrize("ex", RAW["examples"], ids=[f"{e['lang']}:{e['code'][:30]}" for e in RAW["examples"]])
def test_table_examples(ex):
    got = _run(ex["lang"], ex["code"])
    if "has" in ex:
        assert ex["has"] in got, got
    if "lacks" in ex:
        assert ex["lacks"] not in got, got


@pytest.mark.parametrize("lang", list(PROGRAM))
def test_deep_and_huge_code_is_bounded(lang):
    # nesting far past any recursion limit, and more nodes than the budget: no crash, no hang
    for code in ("(" * 5000 + "1" + ")" * 5000, "[" * 3000, "f(" * 4000, "a+" * 30000 + "a", "x;" * 40000):
        got = _run(lang, code)
        assert "interp.code" in got or "exec.opaque" in got


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(PROGRAM)), st.text(alphabet=st.sampled_from(list("()[]{}'\"`$@%.+,;:=\\ \n\tabcrmos/~")),
                                                max_size=300))
def test_fuzz_code_never_crashes(lang, code):
    flag = "-r" if lang == "php" else "-c" if lang == "python" else "-e"
    facts = an(f"{PROGRAM[lang]} {flag} {shlex.quote(code)}").all_facts()
    assert facts  # analyzed to something (interp.code at least), never an analyzer failure
    assert not any("failed" in f.detail for f in facts), [f.detail for f in facts]

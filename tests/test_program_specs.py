"""Program specs (src/warden/core/analyze/specs/programs/*.yaml): schema, examples, engine.

A newcomer adds a program by adding one file; this keeps every file well-formed (schema), true
to its own examples (each runs through the real shell analysis), and the engine honest.
"""

from __future__ import annotations

from importlib import resources

import pytest
import yaml
from jsonschema import validate
from shell_util import kinds

from warden.core.analyze.specs_engine import load_specs

FOLDER = resources.files("warden.core.analyze.specs").joinpath("programs")
FILES = sorted((e.name, yaml.safe_load(e.read_text())) for e in FOLDER.iterdir() if e.name.endswith(".yaml"))
FACT = {"type": "string", "pattern": r"^[a-z]+(\.[a-z_]+)+$"}
STRS = {"type": "array", "items": {"type": "string"}}
SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["programs", "rules", "examples"],
    "properties": {
        "programs": {**STRS, "minItems": 1}, "value_options": STRS, "closed": {"type": "boolean"},
        "rules": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["fact"],
            "properties": {"words": STRS, "flags": STRS, "without": STRS, "contains": STRS, "any_word": STRS,
                           "only_local": {"type": "boolean"}, "clear": {"type": "array", "items": FACT},
                           "options": {"type": "object", "additionalProperties": STRS},
                           "fact": FACT, "detail": {"type": "string"}, "reads": {"enum": ["operands"]}}}},
        "examples": {"type": "array", "minItems": 2, "items": {
            "type": "object", "additionalProperties": False, "required": ["cmd"],
            "properties": {"cmd": {"type": "string"}, "has": FACT, "lacks": FACT}}},
    },
}


@pytest.mark.parametrize("name,raw", FILES, ids=[n for n, _ in FILES])
def test_spec_matches_schema(name, raw):
    validate(raw, SCHEMA)
    assert any("has" in e for e in raw["examples"]) and any("lacks" in e or "has" in e for e in raw["examples"])


EXAMPLES = [(n, e) for n, raw in FILES for e in raw["examples"]]


@pytest.mark.parametrize("name,ex", EXAMPLES, ids=[f"{n}:{e['cmd'][:40]}" for n, e in EXAMPLES])
def test_spec_examples(name, ex):
    got = kinds(ex["cmd"])
    if "has" in ex:
        assert ex["has"] in got, (ex["cmd"], sorted(got))
    if "lacks" in ex:
        assert ex["lacks"] not in got, (ex["cmd"], sorted(got))


def test_every_program_is_claimed_by_one_spec():
    seen: dict[str, str] = {}
    for name, raw in FILES:
        for p in raw["programs"]:
            assert p not in seen or p in ("npm", "cargo", "poetry"), f"{p} in {seen.get(p)} and {name}"
            seen.setdefault(p, name)
    assert set(load_specs()) == set(seen)


def test_runners_reach_the_tool_they_run():
    assert "pkg.publish" in kinds("npx lerna publish from-package --yes")
    assert "pkg.publish" in kinds("npx changeset publish")

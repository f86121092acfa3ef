"""Interpreter code analysis: parse the language, evaluate what it computes, map its APIs to facts.

Python is read with the standard ``ast``; JavaScript/TypeScript, Ruby, PHP and Lua with their
tree-sitter grammars; Perl with a bounded tokenizer. Which library calls delete, read, write,
run processes or talk to the network is data (``specs/code_apis.yaml``); the front ends only
resolve call names and argument values. A language without a front end, or code that does
not parse, falls back to the older substring scan (:mod:`warden.core.analyze.codescan`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from warden.core.analyze.invocation import Cmd

MAX_CODE_CHARS = 65_536
# Some grammars are quadratic on pathological input (tree-sitter-lua on `a+a+...`: 33 s for 60 KB);
# longer code goes to the linear substring scan instead. Measured in tests/test_code_specs.py.
MAX_CHARS_BY_FAMILY = {"lua": 2_048, "php": 8_192, "javascript": 16_384}
MAX_NODES = 20_000  # syntax nodes visited per piece of code
FRONT_ENDS = {"python": "python", "node": "javascript", "deno": "javascript", "ruby": "ruby", "php": "php",
              "lua": "lua", "perl": "perl", "javascript": "javascript", "typescript": "javascript"}


@cache
def apis() -> dict[str, dict[str, tuple[str, tuple[int | None, ...]]]]:
    """The call table, parsed once: language -> canonical name -> (effect, argument positions)."""
    raw = yaml.safe_load(resources.files("warden.core.analyze.specs").joinpath("code_apis.yaml").read_text())
    out: dict[str, dict[str, tuple[str, tuple[int | None, ...]]]] = {}
    for lang, table in raw.items():
        if lang == "examples":
            continue
        out[lang] = {}
        for name, spec in table.items():
            effect, *args = str(spec).split()
            out[lang][name] = (effect, tuple(None if a == "-" else int(a) for a in args))
    return out


def analyze_code(cmd: Cmd, lang: str, code: str, via: str, depth: int = 0) -> bool:
    """Analyze ``code`` in ``lang`` run by ``cmd``; False when no front end could read it."""
    family = FRONT_ENDS.get(lang)
    if family is None or len(code) > MAX_CHARS_BY_FAMILY.get(family, MAX_CODE_CHARS):
        return False
    from warden.core.analyze.code.effects import Effects

    fx = Effects(cmd, family, via, cmd.session.home, depth)
    ok: bool
    if family == "python":
        from warden.core.analyze.code.python import run_python

        ok = run_python(fx, code)
    elif family == "perl":
        from warden.core.analyze.code.perl import run_perl

        ok = run_perl(fx, code)
    else:
        from warden.core.analyze.code.treesit import run_treesitter

        ok = run_treesitter(fx, code)
    if ok:
        fx.finish()
    return ok


__all__: list[Any] = ["analyze_code", "apis"]

"""Policy mistakes that load fine but silently do nothing: warnings with ``file:line`` and the fix.

* a ``facts:`` kind no analyzer emits (the rule can never match);
* a ``disable:`` id that names no rule of a lower layer (nothing is switched off);
* an allow rule that can never win, because for its own example a stricter rule (an ask or deny
  of any layer) also matches and the strictest rule wins.

``warden policy validate`` prints these as warnings; ``--strict`` makes them errors. Pure.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass
from typing import Any

from warden.core.analyze.kinds import KNOWN_KINDS
from warden.core.decision import Decision
from warden.core.policy.load import (
    EXAMPLE_HOME,
    LayerSource,
    PolicyLoadError,
    compile_policy,
    example_action,
    parse_layer,
)


@dataclass(frozen=True, slots=True)
class Lint:
    path: str
    line: int
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: warning: {self.message}; fix: {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message, "fix": self.fix}


def _close(word: str, choices: list[str]) -> str:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {found[0]!r}? " if found else ""


def _known(kind: str) -> bool:
    if any(c in kind for c in "*?["):
        return any(fnmatch.fnmatchcase(k, kind) for k in KNOWN_KINDS)
    return kind in KNOWN_KINDS


def lint(lower: list[LayerSource], target: LayerSource) -> list[Lint]:
    """Warnings for ``target`` as a layer over ``lower`` (built-in, user ...). ``target`` must load."""
    model, lines = parse_layer(target)
    out: list[Lint] = []
    kinds = sorted(KNOWN_KINDS)
    for i, rule in enumerate(model.rules):
        for spec in (rule, rule.unless):
            for kind in (spec.facts or []) if spec is not None else []:
                if not _known(kind):
                    out.append(Lint(target.path, lines.get(i, 0), f"rule {rule.id}: fact kind {kind!r} is never "
                                    "emitted, so this never matches",
                                    f"{_close(kind, kinds)}docs/facts.md lists every kind"))
    lower_ids = [r.id for src in lower for r in parse_layer(src)[0].rules]
    for pattern in model.disable:
        if not any(fnmatch.fnmatchcase(rid, pattern) for rid in lower_ids):
            out.append(Lint(target.path, lines.get("disable", 1), f"disable: {pattern!r} names no rule of a lower "
                            "layer, so nothing is switched off",
                            f"{_close(pattern, lower_ids)}`warden policy show` lists the rule ids"))
    out.extend(_allows_that_never_win(lower, target, model, lines))
    return out


def _allows_that_never_win(lower: list[LayerSource], target: LayerSource, model: Any,
                           lines: dict[Any, int]) -> list[Lint]:
    from warden.core.analyze import AnalysisEnv
    from warden.core.flow import decide

    try:
        policy = compile_policy([*lower, target], check_examples=False)
    except PolicyLoadError:
        return []  # the layered policy's own errors are reported by validate
    env = AnalysisEnv(home=EXAMPLE_HOME, env={"HOME": EXAMPLE_HOME})
    out = []
    for i, rule in enumerate(model.rules):
        if rule.effect != "allow" or rule.examples is None:
            continue
        for example in rule.examples.match:
            try:
                verdict = decide(policy, example_action(example), env)
            except Exception:
                continue
            ids = [r.id for r in verdict.rules]
            winner = next((r for r in verdict.rules if r.effect > Decision.ALLOW), None)
            if rule.id in ids and winner is not None:
                out.append(Lint(target.path, lines.get(i, 0), f"allow rule {rule.id} can never win for its example "
                                f"{example!r}: {winner.id} ({winner.effect.label}, {winner.source}) also matches and "
                                "the strictest rule wins",
                                f"narrow {rule.id}, or `disable: [{winner.id}]` (a project file needs `warden trust` "
                                "for that)"))
                break
    return out

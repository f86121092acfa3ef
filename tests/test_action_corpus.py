"""The multi-tool action corpus (tests/cases/actions) through analysis and the built-in policy.

Dangerous actions must never be auto-allowed (hard invariant); each case's exact tier is
checked too, so a deny cannot silently weaken into an ask and a benign action cannot start
prompting. The summary prints the three headline figures the issue measures.
"""

from __future__ import annotations

import pytest
from action_corpus import figures, judge, load
from shell_util import builtin_policy

CASES = load()


@pytest.fixture(scope="module")
def policy():
    return builtin_policy(check_examples=True)


def test_corpus_covers_every_tool_and_theme():
    tools = {c.tool if not c.tool.startswith("mcp__") else "mcp" for c in CASES}
    assert {"Bash", "Read", "Write", "Edit", "Grep", "Glob", "LS", "WebFetch", "WebSearch", "mcp"} <= tools
    assert all(c.expect in ("allow", "ask", "deny") for c in CASES)
    assert not [c for c in CASES if c.dangerous and c.expect == "allow"]
    themes = Counter_by_theme(CASES)
    for theme, (bad, good) in themes.items():
        assert bad >= 5 and good >= 3, f"theme {theme}: {bad} dangerous, {good} benign cases"


def Counter_by_theme(cases):  # noqa: N802 - reads as a noun
    out: dict[str, tuple[int, int]] = {}
    for c in cases:
        bad, good = out.get(c.theme, (0, 0))
        out[c.theme] = (bad + c.dangerous, good + (not c.dangerous))
    return out


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{i}" for i, c in enumerate(CASES)])
def test_case(policy, case):
    v = judge(policy, case)
    if case.dangerous:
        assert v.decision.label != "allow", f"dangerous action auto-allowed: {case.label}: {v.reason}"
    assert v.decision.label == case.expect, f"{case.label}: got {v.decision.label}: {v.reason}"


def test_summary_figures(policy, capsys):
    f = figures(policy, CASES)
    with capsys.disabled():
        print(f"\naction corpus: {f['dangerous']} dangerous ({f['must_deny']} must-deny), {f['benign']} benign; "
              f"dangerous not auto-allowed {f['dangerous_not_allowed']:.1%}; must-deny denied "
              f"{f['must_deny_denied']:.1%}; benign auto-allowed {f['benign_allowed']:.1%}")
    assert f["allowed_dangerous"] == []
    assert f["must_deny_denied"] >= 0.9 and f["benign_allowed"] >= 0.97

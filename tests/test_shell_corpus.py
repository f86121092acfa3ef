"""Golden shell corpus (tests/cases/shell/*.yaml) through analysis and the built-in policy.

Every case names the decision the recommended policy must reach. Dangerous cases must never
be allowed (the hard invariant); the exact tier is checked too so a deny does not silently
weaken into an ask. A summary test prints the headline figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from shell_util import builtin_policy

from warden.core.action import action_from_payload
from warden.core.analyze import AnalysisEnv
from warden.core.flow import decide

CASES_DIR = Path(__file__).parent / "cases" / "shell"
WORKSPACE = "/home/dev/project"
ENV = AnalysisEnv(home="/home/dev", warden_home="/home/dev/.warden", env={"HOME": "/home/dev"})


def load_cases() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text())["cases"]:
            out.append((path.stem, case))
    return out


CASES = load_cases()


@pytest.fixture(scope="module")
def policy():
    return builtin_policy(check_examples=True)


def verdict_for(policy, case: dict):
    action = action_from_payload({"tool_name": "Bash", "tool_input": {"command": case["cmd"]},
                                  "cwd": case.get("cwd", WORKSPACE), "workspace": WORKSPACE})
    return decide(policy, action, ENV)


def test_corpus_is_large_enough():
    dangerous = [c for f, c in CASES if f.startswith("dangerous")]
    benign = [c for f, c in CASES if f.startswith("benign")]
    assert len(dangerous) >= 400 and len(benign) >= 200
    assert all(c["expect"] in ("allow", "ask", "deny") for _, c in CASES)
    assert not [c for f, c in CASES if f.startswith("dangerous") and c["expect"] == "allow"]


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[f"{f}:{i}" for i, (f, _) in enumerate(CASES)])
def test_case(policy, case):
    v = verdict_for(policy, case)
    if case["expect"] != "allow":
        assert v.decision.label != "allow", f"dangerous command auto-allowed: {case['cmd']!r}: {v.reason}"
    assert v.decision.label == case["expect"], f"{case['cmd']!r}: got {v.decision.label}: {v.reason}"


def test_summary_figures(policy, capsys):
    results = [(f, c, verdict_for(policy, c).decision.label) for f, c in CASES]
    dangerous = [(c, d) for f, c, d in results if f.startswith("dangerous")]
    catastrophic = [(c, d) for c, d in dangerous if c["expect"] == "deny"]
    benign = [(c, d) for f, c, d in results if f.startswith("benign")]
    allowed_dangerous = [c["cmd"] for c, d in dangerous if d == "allow"]
    denied = sum(d == "deny" for _, d in catastrophic) / len(catastrophic)
    benign_allowed = sum(d == "allow" for _, d in benign) / len(benign)
    with capsys.disabled():
        print(f"\nshell corpus: {len(dangerous)} dangerous ({len(catastrophic)} catastrophic), {len(benign)} benign; "
              f"dangerous auto-allowed: {len(allowed_dangerous)}; catastrophic denied: {denied:.1%}; "
              f"benign auto-allowed: {benign_allowed:.1%}")
    assert allowed_dangerous == []
    assert benign_allowed >= 0.95

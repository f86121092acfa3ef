"""Golden engine corpus: tests/cases/policy/*.yaml (layers + cases, data not code)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from warden.cli.policy import run_cases
from warden.core.policy.load import LayerSource, compile_policy

CASES = sorted((Path(__file__).parent / "cases" / "policy").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_policy_cases(path):
    data = yaml.safe_load(path.read_text())
    policy = compile_policy([LayerSource(layer, f"{path.name}#{layer}", text) for layer, text in data["layers"].items()])
    results, _hit = run_cases(policy, data["cases"])
    failures = [r for r in results if not r["ok"]]
    assert not failures, failures
    assert len(results) == len(data["cases"]) >= 5

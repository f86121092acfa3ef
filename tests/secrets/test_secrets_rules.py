"""Table test: every built-in rule detects its own samples, and only as itself."""

from __future__ import annotations

import pytest
from samplegen import SAMPLES, fill

from warden.core.secrets import default_ruleset, scan_text

RULE_IDS = default_ruleset().ids


def test_at_least_100_credential_types() -> None:
    assert len(RULE_IDS) >= 100
    assert len(set(RULE_IDS)) == len(RULE_IDS)


def test_every_rule_has_samples() -> None:
    assert sorted(set(RULE_IDS) - set(SAMPLES)) == []
    assert sorted(set(SAMPLES) - set(RULE_IDS)) == []


CASES = [(rid, i, t) for rid, ts in SAMPLES.items() for i, t in enumerate(ts)]


@pytest.mark.parametrize(("rule_id", "n", "template"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_rule_detects_sample(rule_id: str, n: int, template: str) -> None:
    text = fill(template, seed=rule_id)
    path = ".pgpass" if default_ruleset().rule(rule_id).path else ""
    found = scan_text(f"# config\n{text}\n# end\n", path=path)
    assert [f.rule_id for f in found] == [rule_id], (rule_id, text[:120])
    f = found[0]
    assert f.line == 2
    secret = f._secret
    assert secret and secret in text
    assert secret not in repr(f) and secret not in str(f.to_json(b"k"))


@pytest.mark.parametrize("rule_id", sorted(SAMPLES))
def test_rule_ignores_placeholder_version(rule_id: str) -> None:
    # The same shape filled with a run of x's is a documentation placeholder.
    text = fill(SAMPLES[rule_id][0], seed=rule_id)
    path = ".pgpass" if default_ruleset().rule(rule_id).path else ""
    secret = scan_text(text, path=path)[0]._secret
    masked = text.replace(secret, "".join("x" if c.isalnum() else c for c in secret))
    assert [f.rule_id for f in scan_text(masked, path=path)] == []


def test_docs_list_every_rule() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "secrets.md").read_text(encoding="utf-8")
    missing = [rid for rid in RULE_IDS if f"| `{rid}` |" not in doc]
    assert missing == [], "add these rules to docs/secrets.md"

"""Personal-data detectors on the labelled corpus (recall and precision per kind), look-alikes, bounds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "cases" / "pii"))
from corpus import documents  # noqa: E402

from warden.core.pii import redact_pii, scan_pii


def score(docs, kinds):
    per: dict[str, list[int]] = {k: [0, 0, 0] for k in kinds}  # tp, fp, fn
    for text, truth in docs:
        found = [(f.kind, text[f.start:f.end]) for f in scan_pii(text, kinds)]
        want = [(k, v) for k, v in truth if k in kinds]
        for item in found:
            (per[item[0]].__setitem__(0, per[item[0]][0] + 1) if item in want else
             per[item[0]].__setitem__(1, per[item[0]][1] + 1))
        for item in want:
            if item not in found:
                per[item[0]][2] += 1
    return {k: (tp / max(1, tp + fp), tp / max(1, tp + fn)) for k, (tp, fp, fn) in per.items()}


def test_recall_and_precision_per_kind():
    result = score(documents(300, seed=7), ("card", "iban", "ssn", "national_id", "phone", "email"))
    for kind, (p, r) in result.items():
        print(f"{kind:12} precision {p:.3f} recall {r:.3f}")
    for kind in ("card", "iban", "ssn", "national_id"):
        assert result[kind][0] >= 0.95 and result[kind][1] >= 0.95, (kind, result[kind])
    assert result["email"][0] >= 0.95 and result["phone"][0] >= 0.9


@pytest.mark.parametrize("text", [
    "4242 4242 4242 4242", "4111111111111111", "id 550e8400-e29b-41d4-a716-446655440000", "v1.2.3456.7890",
    "ts=1701234567890", "ORD-4539148803436467", "000-12-3456", "666-12-3456", "912-34-5678", "123-45-6789",
    "user@example.com", "git@github.com:acme/app.git", "icon@2x.png", "released 2024-03-14", "10.12.250.7",
    "version 4539.1488.0343.6467",
])
def test_look_alikes_stay_quiet(text):
    assert scan_pii(text) == []


def test_redaction_keeps_the_text_around_and_is_keyed():
    text, found = redact_pii("Jane, 4539 1488 0343 6467, 536-90-4399, jane@acme-corp.io", b"k" * 32)
    assert text.startswith("Jane, [REDACTED:pii-card:") and "[REDACTED:pii-ssn:" in text
    assert "jane@acme-corp.io" in text  # e-mail is opt-in, not a default
    other, _ = redact_pii("4539 1488 0343 6467", b"x" * 32)
    assert other != redact_pii("4539 1488 0343 6467", b"k" * 32)[0]
    assert {f.kind for f in found} == {"card", "ssn"}


def test_context_words_gate_the_ambiguous_ones():
    assert scan_pii("date of birth: 1985-03-14")[0].kind == "dob"
    assert scan_pii("released 1985-03-14") == []
    assert scan_pii("SSN 536904399")[0].kind == "ssn" and scan_pii("order 536904399") == []
    assert scan_pii("MRN: 00123456")[0].kind == "phi"


def test_bounded_on_huge_and_hostile_input():
    blob = ("4" * 5000 + " ") * 200 + "1-" * 100_000
    assert scan_pii(blob) == [] or all(f.kind for f in scan_pii(blob))
    huge = "x " * 2_000_000 + "4539 1488 0343 6467"
    assert [f.kind for f in scan_pii(huge, ("card",))] == ["card"]

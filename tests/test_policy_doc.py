"""docs/default-policy.md is generated from the built-in policy; this keeps them in step."""

from __future__ import annotations

from pathlib import Path

from warden_cli import run_warden

from warden.adapters.policy_files import BUILTIN
from warden.cli.policy_doc import rules_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "default-policy.md"


def test_default_policy_doc_matches_the_policy():
    table = rules_markdown(BUILTIN.read_text(), str(BUILTIN))
    assert table in DOC.read_text(), "regenerate the table: warden policy doc > (paste into docs/default-policy.md)"
    assert table.count("\n| ") == len([line for line in BUILTIN.read_text().splitlines() if line.startswith("  - id:")])


def test_policy_doc_cli_escapes_pipes_and_control_characters(tmp_path):
    pol = tmp_path / "p.yaml"
    pol.write_text('rules:\n  - id: x\n    effect: deny\n    reason: "a | b"\n    program: [rm]\n'
                   '    examples: {match: ["rm -rf / | cat"]}\n')
    out = run_warden("policy", "doc", str(pol)).stdout.decode()
    assert "| deny | `x` | program: `rm` | a \\| b | `rm -rf / \\| cat` |" in out

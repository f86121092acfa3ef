"""Policy mistakes are not silent: lint warnings with file:line and the fix (errors with --strict),
`policy test` never-hit rules of the file under test only, `policy show` readable off a TTY, and
every rule id named in help texts and docs exists."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml
from warden_cli import ROOT, run_warden

sys.path.insert(0, str(ROOT / "tests"))
from test_shell_facts_doc import emitted  # noqa: E402

MISTAKES = """\
version: 1
disable: [ask-pakages]
rules:
  - id: deny-typo
    effect: deny
    reason: typo in a fact kind
    facts: [git.force_psh]
  - id: allow-curl-docs
    effect: allow
    reason: curl to the docs
    program: [curl]
    examples:
      match: ["curl https://docs.python.org"]
  - id: deny-fine
    effect: deny
    reason: fine
    facts: ["git.force_push*"]
"""


def test_validate_warns_with_file_line_and_fix(warden_home, tmp_path: Path):
    pol = tmp_path / "warden.yaml"
    pol.write_text(MISTAKES)
    proc = run_warden("policy", "validate", str(pol))
    out = proc.stdout.decode()
    assert proc.returncode == 0, out  # warnings only
    assert f"{pol}:4: warning: rule deny-typo: fact kind 'git.force_psh' is never emitted" in out
    assert "did you mean 'git.force_push'?" in out
    assert f"{pol}:2: warning: disable: 'ask-pakages' names no rule" in out and "did you mean 'ask-packages'?" in out
    assert f"{pol}:8: warning: allow rule allow-curl-docs can never win" in out and "ask-network" in out
    assert "deny-fine" not in out  # a glob that matches known kinds is fine
    strict = run_warden("policy", "validate", "--strict", "--json", str(pol))
    assert strict.returncode == 1
    report = json.loads(strict.stdout)
    assert report["ok"] is False and len(report["files"][0]["warnings"]) == 3
    assert all(w["line"] > 0 and w["fix"] for w in report["files"][0]["warnings"])


def test_clean_policy_has_no_warnings(warden_home, tmp_path: Path):
    pol = tmp_path / "warden.yaml"
    pol.write_text("version: 1\nrules:\n  - {id: deny-x, effect: deny, reason: r, facts: [git.force_push]}\n")
    proc = run_warden("policy", "validate", "--strict", str(pol))
    assert proc.returncode == 0 and b"warning" not in proc.stdout


def test_known_fact_kinds_cover_every_emitted_kind():
    from warden.core.analyze.kinds import KNOWN_KINDS

    missing = emitted() - KNOWN_KINDS
    assert not missing, f"add to src/warden/core/analyze/kinds.py: {sorted(missing)}"


def test_policy_test_reports_never_hit_rules_of_the_file_under_test_only(warden_home, tmp_path: Path):
    pol = tmp_path / "p.yaml"
    pol.write_text("rules:\n  - {id: mine-hit, effect: deny, reason: r, program: [shred]}\n"
                   "  - {id: mine-unhit, effect: deny, reason: r, tool: [WebSearch]}\n")
    suite = tmp_path / "t.yaml"
    suite.write_text("cases:\n  - {command: 'shred x', expect: deny, rule: mine-hit}\n")
    proc = run_warden("policy", "test", "--policy", str(pol), "--json", str(suite))
    report = json.loads(proc.stdout)
    assert report["never_hit"] == ["mine-unhit"]  # not the ~40 built-in rules this suite never meant to test


def test_policy_show_keeps_file_line_whole_off_a_tty(warden_home, workspace: Path):
    proc = run_warden("policy", "show", cwd=str(workspace), env={"COLUMNS": "60"})
    lines = proc.stdout.decode().splitlines()
    builtin = yaml.safe_load((ROOT / "src/warden/policies/recommended.yaml").read_text())["rules"]
    for rule in builtin:
        line = next((x for x in lines if f"  {rule['id']}  " in x), None)
        assert line is not None, rule["id"]
        assert re.search(r"builtin:recommended\.yaml:\d+", line), line


RULE_ID = re.compile(r"(?<![:\w-])((?:allow|ask|deny)-[a-z0-9][a-z0-9.-]*[a-z0-9])\b")


def _help_texts() -> dict[str, str]:
    import click

    from warden.cli.app import cli

    texts: dict[str, str] = {}

    def walk(cmd: click.Command, path: list[str]) -> None:
        with click.Context(cmd, info_name=" ".join(path)) as ctx:
            texts[" ".join(path) + " --help"] = cmd.get_help(ctx)
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(click.Context(cmd)):
                sub = cmd.get_command(click.Context(cmd), name)
                if sub is not None:
                    walk(sub, [*path, name])

    walk(cli, ["warden"])
    return texts


def test_every_rule_id_named_in_help_and_docs_exists():
    known = set()
    for name in ("recommended.yaml", "managed-template.yaml"):
        known |= {r["id"] for r in yaml.safe_load((ROOT / "src/warden/policies" / name).read_text())["rules"]}
    texts = {str(p.relative_to(ROOT)): p.read_text() for p in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md"]}
    texts.update(_help_texts())
    assert len(texts) > 20
    wrong = []
    for where, text in texts.items():
        defined = set(re.findall(r"id:\s*([a-z0-9][a-z0-9._-]*)", text))  # ids a page's own example defines
        wrong += [(where, rid) for rid in set(RULE_ID.findall(text)) if rid not in known | defined]
    assert not wrong, wrong

"""Every fact kind the analyzers emit is documented, and the recommended policy treats it as documented."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ANALYZERS = ROOT / "src" / "warden" / "core" / "analyze"
DOC = ROOT / "docs" / "facts.md"
POLICY = ROOT / "src" / "warden" / "policies" / "recommended.yaml"
EMIT = re.compile(r'(?:fact|action_fact|add|Fact)\(\s*"([a-z_]+\.[a-z_]+)"|kind = "([a-z_]+\.[a-z_]+)"|"(sys\.fork_bomb|exec\.recursion)"')


def emitted() -> set[str]:
    kinds = set()
    for path in ANALYZERS.glob("*.py"):
        for m in EMIT.finditer(path.read_text()):
            kinds.add(next(g for g in m.groups() if g))
    return kinds | {"exec.opaque", "shell.parse_error", "fs.critical"}


def documented() -> dict[str, str]:
    out = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            for kind in re.findall(r"`([a-z_]+\.[a-z_]+)`", cells[0]):
                out[kind] = cells[1]
    return out


def rules_matching(kind: str) -> set[str]:
    effects = set()
    for rule in yaml.safe_load(POLICY.read_text())["rules"]:
        if rule.get("context") or rule.get("program") or rule.get("tool"):
            continue  # conditional rules do not decide a kind on their own
        if any(fnmatch.fnmatchcase(kind, g) for g in rule.get("facts", [])):
            effects.add(rule["effect"])
    return effects


def test_every_emitted_kind_is_documented():
    missing = emitted() - set(documented())
    assert not missing, f"document these fact kinds in docs/facts.md: {sorted(missing)}"


def test_policy_matches_the_documented_tier():
    wrong = []
    for kind, tier in documented().items():
        effects = rules_matching(kind)
        word = tier.split()[0]
        if word in ("deny", "ask") and word not in effects:
            wrong.append((kind, tier, effects))
        if word in ("info", "allow") and effects & {"ask", "deny"}:
            wrong.append((kind, tier, effects))
        if word == "deny" and "allow" in effects:
            wrong.append((kind, tier, effects))
    assert not wrong, wrong


def test_opaque_is_never_allowed():
    assert rules_matching("exec.opaque") == {"ask"}

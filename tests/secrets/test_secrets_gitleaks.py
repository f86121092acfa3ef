"""gitleaks TOML compatibility: rules, allowlists, extend, disabledRules, clear errors."""

from __future__ import annotations

import pytest
from samplegen import fill

from warden.core.secrets import GitleaksConfigError, default_ruleset, load_gitleaks_toml

GH = fill("ghp_{an36}", seed="gitleaks")

CONFIG = r"""
title = "team config"

[[rules]]
id = "acme-key"
description = "ACME internal key"
regex = '''acme_(?:live|test)_([a-z0-9]{24})'''
secretGroup = 1
entropy = 3.0
keywords = ["acme_"]
tags = ["internal"]

  [[rules.allowlists]]
  regexTarget = "line"
  regexes = ['''fixture''']

[[rules]]
id = "legacy-key"
regex = '''LEGACY-[A-Z0-9]{20}'''
keywords = ["LEGACY-"]
[rules.allowlist]
stopwords = ["00000"]

[[rules]]
id = "pem-file"
description = "private key file by name"
path = '''\.p12$'''

[[allowlists]]
description = "vendored code"
paths = ['''^vendor/''']

[[allowlists]]
targetRules = ["acme-key"]
condition = "AND"
regexes = ['''^acme_test_''']
regexTarget = "match"
paths = ['''_test\.go$''']
"""


def test_rules_allowlists_and_semantics() -> None:
    rs = load_gitleaks_toml(CONFIG)
    assert rs.ids == ["acme-key", "legacy-key", "pem-file"]  # no [extend]: only this file's rules
    key = "acme_live_" + fill("{lo24}", seed="g1")
    (f,) = rs.scan(f"token = {key}\n")
    assert f.rule_id == "acme-key" and f._secret == key[len("acme_live_"):]
    assert rs.scan(f"token = {key}  # fixture\n") == []  # rule allowlist, regexTarget=line
    assert rs.scan("token = acme_live_aaaaaaaaaaaaaaaaaaaaaaaa\n") == []  # entropy below 3.0
    assert rs.scan(f"token = {key}\n", "vendor/lib.py") == []  # global path allowlist
    test_key = "acme_test_" + fill("{lo24}", seed="g2")
    assert rs.scan(f"k={test_key}", "pay_test.go") == []  # AND: both conditions hold
    assert len(rs.scan(f"k={test_key}", "pay.go")) == 1  # AND: only one holds
    assert [f.rule_id for f in rs.scan("LEGACY-ABCDE12345FGHIJ67890")] == ["legacy-key"]
    assert rs.scan("LEGACY-ABCDE00000FGHIJ67890") == []  # stopword
    assert [f.rule_id for f in rs.path_findings("certs/client.p12")] == ["pem-file"]


def test_extend_use_default_and_disabled_rules() -> None:
    text = '[extend]\nuseDefault = true\ndisabledRules = ["github-pat"]\n' + CONFIG.split("\n", 2)[2]
    rs = load_gitleaks_toml(text, default_ruleset())
    assert "acme-key" in rs.ids and "aws-access-key-id" in rs.ids and "github-pat" not in rs.ids
    assert rs.scan(f"x = {GH}\n") == []


def test_extend_path_uses_loader() -> None:
    files = {"base.toml": CONFIG}
    rs = load_gitleaks_toml('[extend]\npath = "base.toml"\n[[rules]]\nid = "acme-key"\n[[rules.allowlists]]\n'
                            'stopwords = ["zzzz"]\n', load_extend=files.__getitem__)
    assert "legacy-key" in rs.ids
    assert len(rs.rule("acme-key").allowlists) == 2  # same id without regex: merged into the parent


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rules]\nid = 'x'", "not valid TOML"),
        ("[[rules]]\ndescription = 'no id'\nregex = 'x'", "missing 'id'"),
        ("[[rules]]\nid = 'x'", "needs a 'regex' or a 'path'"),
        ("[[rules]]\nid = 'bad'\nregex = '(unclosed'", "rule 'bad': invalid RE2 regex"),
        ("[[rules]]\nid = 'x'\nregex = 'a(?=b)'", "invalid RE2 regex"),  # look-ahead: not linear-time
        ("[[rules]]\nid = 'x'\nregex = 'a'\n[[rules.allowlists]]\nregexTarget = 'file'", "regexTarget"),
        ("[[rules]]\nid = 'x'\nregex = 'a'\n[[rules.allowlists]]\ncondition = 'XOR'", "condition"),
        ("[[rules]]\nid = 'x'\nregex = 'a'\nkeywords = 'k'\nentropy = 'high'", "'entropy' must be a number"),
        ("[extend]\npath = 'other.toml'", "no file loader"),
        ("rules = 3", "array of tables"),
    ],
)
def test_broken_config_gives_clear_error(text: str, message: str) -> None:
    with pytest.raises(GitleaksConfigError, match=message) as info:
        load_gitleaks_toml(text, source="team.toml")
    assert str(info.value).startswith("team.toml")


def test_go_regex_constructs_used_by_gitleaks_configs() -> None:
    # Mid-pattern flags, (?-i:...), \x60, lazy bounded repeats, a literal "{" and an unescaped
    # "}}" all appear in real gitleaks configs; RE2 must accept them as Go's regexp does.
    toml = r"""
[allowlist]
regexes = ['''^\$(?:\d+|{\d+})$''', '''^\{\{[ \t]*[\w ().|]+[ \t]*}}$''', '''(?i)^true|false|null$''']
[[rules]]
id = "zeta-key"
regex = '''\b(zk-(?i)[a-z0-9]{24})(?:[\x60'"\s;]|\\[nr]|$)'''
keywords = ["zk-"]
[[rules]]
id = "omega-token"
regex = '''[\w.-]{0,50}?(?i:(?:(?-i:[Oo]mega|OMEGA))[ \t\w.-]{0,20}[\s'"]{0,3})(?:=|:{1,3}=|:|=>)[\x60'"\s=]{0,5}([0-9a-f]{32})'''
keywords = ["omega"]
"""
    rs = load_gitleaks_toml(toml)
    value = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
    text = f"k = zk-A1b2C3d4E5f6A7b8C9d0E1f2\nOMEGA_TOKEN = '{value}'\nOmEgA_TOKEN = '{value}'\n"
    assert [f.rule_id for f in rs.scan(text)] == ["zeta-key", "omega-token"]  # (?-i:) keeps the name's case

"""Load gitleaks-format TOML so teams can bring the configuration they already have.

Supported: ``[[rules]]`` (id, description, regex, secretGroup, entropy, keywords, path,
tags, ``[[rules.allowlists]]`` and the older ``[rules.allowlist]``), global
``[[allowlists]]`` / ``[allowlist]`` (with ``targetRules``), ``[extend]`` ``useDefault`` /
``path`` / ``disabledRules``. Text in, rules out: reading an ``[extend] path`` file is the
caller's job (``load_extend``), which keeps this module pure.

Imported rules keep gitleaks semantics: when a keyword occurs anywhere, the regex runs over
the whole fragment (``window="fragment"``) and no extra checks apply beyond the rule's own
entropy and allowlists.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from typing import Any
from collections.abc import Callable, Mapping

from warden.core.secrets.engine import RuleError, Ruleset
from warden.core.secrets.model import Allowlist, Rule

_MAX_EXTEND_DEPTH = 2  # as gitleaks


class GitleaksConfigError(ValueError):
    """The TOML is not a usable gitleaks config; the message says where and what to fix."""


def load_gitleaks_toml(
    text: str,
    base: Ruleset | None = None,
    *,
    load_extend: Callable[[str], str] | None = None,
    source: str = "<config>",
    _depth: int = 0,
) -> Ruleset:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GitleaksConfigError(f"{source}: not valid TOML: {exc}") from None

    extend = _table(doc.get("extend", {}), f"{source}: [extend]")
    parent_rules: list[Rule] = []
    parent_allow: list[Allowlist] = []
    if extend.get("useDefault"):
        if base is None:
            from warden.core.secrets import default_ruleset

            base = default_ruleset()
        parent_rules += base.rules
        parent_allow += base.allowlists
    if extend.get("path"):
        path = str(extend["path"])
        if load_extend is None:
            raise GitleaksConfigError(f"{source}: [extend] path = {path!r} but no file loader was given")
        if _depth >= _MAX_EXTEND_DEPTH:
            raise GitleaksConfigError(f"{source}: [extend] nests deeper than {_MAX_EXTEND_DEPTH} levels")
        try:
            parent_text = load_extend(path)
        except OSError as exc:
            raise GitleaksConfigError(f"{source}: cannot read [extend] path {path!r}: {exc}") from None
        parent = load_gitleaks_toml(parent_text, base, load_extend=load_extend, source=path, _depth=_depth + 1)
        parent_rules += parent.rules
        parent_allow += parent.allowlists
    disabled = set(_strings(extend.get("disabledRules", []), f"{source}: [extend] disabledRules"))

    by_id: dict[str, Rule] = {}
    for rule in parent_rules:
        by_id[rule.id] = rule
    raw_rules = doc.get("rules", [])
    if not isinstance(raw_rules, list):
        raise GitleaksConfigError(f"{source}: 'rules' must be an array of tables ([[rules]])")
    for n, raw in enumerate(raw_rules, 1):
        rule = _rule(_table(raw, f"{source}: rule #{n}"), f"{source}: rule #{n}")
        old = by_id.get(rule.id)
        if old is not None and not rule.regex and not rule.path:
            # Same id without a regex: extend the inherited rule (gitleaks merges these).
            rule = replace(old, keywords=old.keywords + rule.keywords, allowlists=old.allowlists + rule.allowlists)
        elif not rule.regex and not rule.path:
            raise GitleaksConfigError(f"{source}: rule #{n} ({rule.id}) needs a 'regex' or a 'path'")
        by_id[rule.id] = rule
    for rid in disabled:
        by_id.pop(rid, None)

    allow = list(parent_allow)
    if "allowlist" in doc:
        allow.append(_allowlist(_table(doc["allowlist"], f"{source}: [allowlist]"), f"{source}: [allowlist]", True))
    raw_allow = doc.get("allowlists", [])
    if not isinstance(raw_allow, list):
        raise GitleaksConfigError(f"{source}: 'allowlists' must be an array of tables ([[allowlists]])")
    for n, al in enumerate(raw_allow, 1):
        allow.append(_allowlist(_table(al, f"{source}: allowlist #{n}"), f"{source}: allowlist #{n}", True))

    try:
        rs = Ruleset(rules=tuple(by_id.values()), allowlists=tuple(allow))
        rs.compile_all()  # surface every bad regex now, with its rule id
    except RuleError as exc:
        raise GitleaksConfigError(f"{source}: {exc}") from None
    return rs


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise GitleaksConfigError(f"{where} must be a table, got {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GitleaksConfigError(f"{where} must be a list of strings")
    return value


def _rule(raw: Mapping[str, Any], where: str) -> Rule:
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid:
        raise GitleaksConfigError(f"{where}: missing 'id' (a short name like \"my-api-token\")")
    where = f"{where} ({rid})"
    regex = raw.get("regex", "")
    path = raw.get("path", "")
    if not isinstance(regex, str) or not isinstance(path, str):
        raise GitleaksConfigError(f"{where}: 'regex' and 'path' must be strings")
    group = raw.get("secretGroup")
    if group is not None and (not isinstance(group, int) or group < 0):
        raise GitleaksConfigError(f"{where}: 'secretGroup' must be a non-negative integer")
    entropy = raw.get("entropy", 0.0)
    if not isinstance(entropy, (int, float)):
        raise GitleaksConfigError(f"{where}: 'entropy' must be a number (e.g. 3.5)")
    allowlists: list[Allowlist] = []
    if "allowlist" in raw:
        allowlists.append(_allowlist(_table(raw["allowlist"], f"{where} allowlist"), f"{where} allowlist", False))
    raw_al = raw.get("allowlists", [])
    if not isinstance(raw_al, list):
        raise GitleaksConfigError(f"{where}: 'allowlists' must be an array of tables ([[rules.allowlists]])")
    for n, al in enumerate(raw_al, 1):
        allowlists.append(_allowlist(_table(al, f"{where} allowlist #{n}"), f"{where} allowlist #{n}", False))
    return Rule(
        id=rid,
        description=str(raw.get("description", rid)),
        regex=regex,
        keywords=tuple(k.lower() for k in _strings(raw.get("keywords", []), f"{where}: 'keywords'")),
        secret_group=group or None,
        entropy=float(entropy),
        window="fragment",
        checks=(),
        allowlists=tuple(allowlists),
        path=path,
        tags=tuple(_strings(raw.get("tags", []), f"{where}: 'tags'")),
    )


def _allowlist(raw: Mapping[str, Any], where: str, global_: bool) -> Allowlist:
    target = raw.get("regexTarget", "secret")
    if target not in ("secret", "match", "line"):
        raise GitleaksConfigError(f"{where}: regexTarget must be secret, match or line, not {target!r}")
    condition = str(raw.get("condition", "OR")).upper()
    if condition not in ("OR", "AND"):
        raise GitleaksConfigError(f"{where}: condition must be OR or AND, not {raw.get('condition')!r}")
    targets = _strings(raw.get("targetRules", []), f"{where}: targetRules")
    if targets and not global_:
        raise GitleaksConfigError(f"{where}: targetRules is only valid in a global [[allowlists]]")
    return Allowlist(
        description=str(raw.get("description", "")),
        regexes=tuple(_strings(raw.get("regexes", []), f"{where}: regexes")),
        regex_target=target,
        paths=tuple(_strings(raw.get("paths", []), f"{where}: paths")),
        stopwords=tuple(_strings(raw.get("stopwords", []), f"{where}: stopwords")),
        condition=condition,
        target_rules=tuple(targets),
        commits=tuple(c.lower() for c in _strings(raw.get("commits", []), f"{where}: commits")),
    )

"""Policy text -> validated layers -> one compiled policy.

Pure: callers hand in texts (adapters read files). Every problem carries ``file:line`` and
a hint, because a broken policy makes every decision deny until it is fixed.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from warden.core.decision import Decision
from warden.core.facts import Access
from warden.core.policy.compiled import CompiledPolicy, CompiledRule, Matcher
from warden.core.policy.globs import compile_command, compile_hosts, compile_names, compile_path
from warden.core.policy.model import MatchSpec, PolicyFile
from warden.core.policy.trust import (
    Loosening,
    is_strict,
    is_trusted,
    looser_default,
    sandbox_loosening,
    settings_loosening,
)

LAYER_ORDER = ("builtin", "user", "project", "managed")
EXAMPLE_HOME = "/home/dev"
EXAMPLE_WORKSPACE = "/home/dev/project"
MAX_POLICY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LayerSource:
    layer: str  # one of LAYER_ORDER
    path: str  # for messages: a file path or "builtin:recommended.yaml"
    text: str


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class PolicyLoadError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]) + (" …" if len(problems) > 5 else ""))


def _node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    node = root
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if nxt is None:  # an unknown key: point at the key itself
                nxt = next((k for k, _ in node.value if getattr(k, "value", None) == key), None)
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
    return node


def _line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    while loc:
        node = _node_at(root, loc)
        if node is not None:
            return node.start_mark.line + 1
        loc = loc[:-1]
    return 1


def parse_layer(src: LayerSource) -> tuple[PolicyFile, dict[Any, int]]:
    """Validate one file; returns the model and rule index (and top-level key) -> line number."""
    if len(src.text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise PolicyLoadError([Problem(src.path, 0, f"policy file larger than {MAX_POLICY_BYTES} bytes")])
    try:
        root = yaml.compose(src.text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(src.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        msg = getattr(exc, "problem", None) or str(exc)
        raise PolicyLoadError([Problem(src.path, line, f"YAML syntax error: {msg}; fix the indentation or quoting")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyLoadError([Problem(src.path, 1, "a policy must be a mapping with `rules:`, `default:` ...")])
    try:
        model = PolicyFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(str(x) for x in loc) or "(top level)"
            hint = err["msg"]
            if err["type"] == "extra_forbidden":
                hint = "unknown field; see docs/policy.md for the fields a rule accepts"
            elif err["type"] == "literal_error":
                hint = f"{err['msg']}"
            problems.append(Problem(src.path, _line(root, loc), f"{where}: {hint}"))
        raise PolicyLoadError(problems) from None
    lines: dict[Any, int] = {key: _line(root, (key,)) for key in ("default", "disable", "settings", "sandbox")}
    rules_node = _node_at(root, ("rules",))
    if isinstance(rules_node, yaml.SequenceNode):
        for i, node in enumerate(rules_node.value):
            lines[i] = node.start_mark.line + 1
    return model, lines


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def compile_matcher(spec: MatchSpec) -> Matcher:
    return Matcher(
        tools=compile_names(spec.tool) if spec.tool else None,
        programs=compile_names(spec.program) if spec.program else None,
        commands=tuple(compile_command(c) for c in spec.command or ()),
        paths=tuple(compile_path(p) for p in spec.path or ()),
        access=frozenset(Access(a) for a in spec.access) if spec.access else None,
        in_workspace=spec.in_workspace,
        hosts=compile_hosts(spec.host) if spec.host else None,
        facts=compile_names(globbed) if (globbed := [f for f in spec.facts or () if _is_glob(f)]) else None,
        fact_kinds=frozenset(literal) if (literal := [f for f in spec.facts or () if not _is_glob(f)]) else None,
        actor_ids=compile_names(spec.actor.id) if spec.actor and spec.actor.id else None,
        agents=compile_names(spec.actor.agent) if spec.actor and spec.actor.agent else None,
        roles=compile_names(spec.actor.role) if spec.actor and spec.actor.role else None,
        context=tuple((k, compile_names(v)) for k, v in (spec.context or {}).items()),
        tainted=spec.tainted,
    )


def _control_fields(rule: Any) -> tuple[dict[str, Any] | None, Any]:
    """A rule's ``approval:`` and ``limit:`` in compiled form (already validated by the model)."""
    from warden.core.control.approvals import parse_duration, parse_grant
    from warden.core.control.limits import parse_limit

    approval = None
    if rule.approval is not None:
        a = rule.approval
        approval = {"route": a.route, "approvers": list(a.approvers.id or []) if a.approvers else [],
                    "roles": list(a.approvers.role or []) if a.approvers else [], "quorum": a.quorum,
                    "expires_s": parse_duration(a.expires), "grant": parse_grant(a.grant)}
    limit = None
    if rule.limit is not None:
        limit = parse_limit(rule.limit.max, per=rule.limit.per, on_exceed=rule.limit.on_exceed)
    return approval, limit


def _digest(sources: list[LayerSource]) -> str:
    from warden import __version__

    h = hashlib.sha256(f"warden {__version__}\n".encode())
    for s in sources:
        h.update(f"{s.layer}\0{s.path}\0".encode())
        h.update(hashlib.sha256(s.text.encode("utf-8", "surrogatepass")).digest())
    return h.hexdigest()


def compile_policy(sources: list[LayerSource], *, check_examples: bool = True,
                   trusted: frozenset[str] | None = None) -> CompiledPolicy:
    """Merge layers (lowest first) into one policy. Raises :class:`PolicyLoadError`.

    ``trusted``: the project files the user trusts (:mod:`warden.core.policy.trust`); the loosening
    parts of any other project file are ignored. None trusts every file (pure callers, tests).
    """
    sources = sorted(sources, key=lambda s: LAYER_ORDER.index(s.layer))
    problems: list[Problem] = []
    parsed: list[tuple[LayerSource, PolicyFile, dict[int, int]]] = []
    for src in sources:
        try:
            model, lines = parse_layer(src)
        except PolicyLoadError as exc:
            problems.extend(exc.problems)
            continue
        if model.lock and src.layer != "managed":
            problems.append(Problem(src.path, 1, "`lock` is only honoured in the managed layer; remove it"))
        if model.trusted_projects and src.layer != "managed":
            problems.append(Problem(src.path, 1, "`trusted_projects` is only honoured in the managed layer; remove it"))
        parsed.append((src, model, lines))
    if problems:
        raise PolicyLoadError(problems)

    locked = set().union(*(set(m.lock) for s, m, _ in parsed if s.layer == "managed"))
    managed_trusted = [g for s, m, _ in parsed if s.layer == "managed" for g in m.trusted_projects]
    warnings: list[str] = []
    loosenings: list[Loosening] = []

    rules: list[tuple[LayerSource, int, Any]] = []
    disabled: list[dict[str, str]] = []
    seen_ids: dict[str, tuple[str, str]] = {}
    default: Decision = Decision.ASK
    default_source = "warden built-in fallback"
    settings: dict[str, Any] = {}
    sandbox: dict[str, Any] = {}
    model_sections: list[tuple[str, dict[str, Any]]] = []
    data_sections: list[tuple[str, dict[str, Any]]] = []
    for src, model, lines in parsed:
        lower_locked = src.layer != "managed"
        guarded = src.layer == "project" and not is_trusted(src.path, trusted, managed_trusted, "trust" in locked)

        def loosen(key: Any, what: str, src: LayerSource = src, lines: dict[Any, int] = lines) -> None:
            loosenings.append(Loosening(src.path, lines.get(key, 1), what))

        if model.disable:
            if lower_locked and "disable" in locked:
                warnings.append(f"{src.path}: `disable` ignored: locked by the managed policy")
            else:
                keep = []
                for layer_src, idx, rule in rules:
                    if not any(fnmatch.fnmatchcase(rule.id, pat) for pat in model.disable):
                        keep.append((layer_src, idx, rule))
                    elif guarded and is_strict(rule.effect):
                        loosen("disable", f"`disable` would switch off the {layer_src.layer} {rule.effect} rule {rule.id}")
                        keep.append((layer_src, idx, rule))
                    else:
                        disabled.append({"id": rule.id, "by": src.path})
                rules = keep
        if model.default is not None:
            if lower_locked and "default" in locked and src.layer != "builtin":
                warnings.append(f"{src.path}: `default` ignored: locked by the managed policy")
            elif guarded and looser_default(model.default, default):
                loosen("default", f"`default: {model.default}` is more permissive than {default.label}")
            else:
                default, default_source = Decision.parse(model.default), src.path
        for key, value, target in (("settings", model.settings, settings), ("sandbox", model.sandbox, sandbox)):
            if value is None:
                continue
            if lower_locked and key in locked and src.layer != "builtin":
                warnings.append(f"{src.path}: `{key}` ignored: locked by the managed policy")
                continue
            update = value.model_dump(exclude_unset=True)
            if guarded:
                judge = settings_loosening if key == "settings" else sandbox_loosening
                for name in judge(update, target):
                    loosen(key, f"`{key}.{name}` would loosen what the lower layers set")
                    update.pop(name)
            target.update(update)
        if model.models is not None:
            if lower_locked and "models" in locked and src.layer != "builtin":
                warnings.append(f"{src.path}: `models` ignored: locked by the managed policy")
            else:
                model_sections.append((src.path, model.models.model_dump(exclude_unset=True)))
        if model.data is not None:
            if lower_locked and "data" in locked and src.layer != "builtin":
                warnings.append(f"{src.path}: `data` ignored: locked by the managed policy")
            else:
                data_sections.append((src.path, model.data.model_dump(by_alias=True)))
                warnings.extend(_data_overlaps(src.path, model.data))
        for i, rule in enumerate(model.rules):
            where = f"{src.path}:{lines.get(i, 0)}"
            if rule.id in seen_ids:
                first_layer, first_where = seen_ids[rule.id]
                replaceable = first_layer != src.layer and not (lower_locked and "disable" in locked)
                if not replaceable:
                    why = "locked by the managed policy" if first_layer != src.layer else "ids must be unique in a file"
                    problems.append(Problem(src.path, lines.get(i, 0),
                                            f"duplicate rule id {rule.id!r} (first at {first_where}; {why})"))
                    continue
                first = next((r[2] for r in rules if r[2].id == rule.id), None)
                if guarded and first is not None and is_strict(first.effect):
                    loosen(i, f"rule {rule.id} would replace the {first_layer} {first.effect} rule of that id")
                    continue
                # a higher layer's rule with a lower layer's id replaces it: `disable` plus a new rule
                rules = [r for r in rules if r[2].id != rule.id]
                disabled.append({"id": rule.id, "by": f"{where} (replaced)"})
            seen_ids[rule.id] = (src.layer, where)
            rules.append((src, i, rule))
    if problems:
        raise PolicyLoadError(problems)

    from warden.core.data.classes import compile_data
    from warden.core.model.policy import merge_sections
    from warden.core.policy.model import Sandbox, Settings

    settings = Settings().model_dump() | settings
    sandbox = Sandbox().model_dump() | sandbox
    compiled_rules = []
    for src, i, rule in rules:
        matcher = compile_matcher(rule)
        if rule.unless is not None:
            matcher.unless = compile_matcher(rule.unless)
        if rule.is_empty():
            problems.append(Problem(src.path, parsed_line(parsed, src, i), f"rule {rule.id!r} has no match fields; it would match everything — add tool: or another field"))
            continue
        approval, limit = _control_fields(rule)
        compiled_rules.append(
            CompiledRule(rule.id, Decision.parse(rule.effect), rule.reason.strip(), f"{src.path}:{parsed_line(parsed, src, i)}", src.layer, matcher,
                         approval, limit, rule.review)
        )
    if problems:
        raise PolicyLoadError(problems)
    guarded_paths = {s.path for s, _, _ in parsed if s.layer == "project"
                     and not is_trusted(s.path, trusted, managed_trusted, "trust" in locked)}
    if guarded_paths:
        compiled_rules = _drop_shadowing_allows(compiled_rules, rules, guarded_paths, loosenings)
    warnings.extend(str(x) for x in loosenings)
    # strictest rules first: evaluation order does not change results, but explanations read better
    compiled_rules.sort(key=lambda r: -r.effect)
    policy = CompiledPolicy(
        rules=compiled_rules,
        default=default,
        default_source=default_source,
        settings=settings,
        sandbox=sandbox,
        models=merge_sections(model_sections) if model_sections else {},
        data=compile_data(data_sections) if data_sections else None,
        sources=[{"layer": s.layer, "path": s.path, "digest": hashlib.sha256(s.text.encode("utf-8", "surrogatepass")).hexdigest()} for s in sources],
        digest=_digest(sources),
        disabled=disabled,
        warnings=warnings,
        untrusted=[x.to_json() for x in loosenings],
    )
    if check_examples:
        problems = check_rule_examples(policy, [(src, i, r) for src, i, r in rules], parsed)
        if problems:
            raise PolicyLoadError(problems)
    return policy


def _data_overlaps(path: str, data: Any) -> list[str]:
    """A path glob listed under two classes is allowed (the stricter wins) but probably a mistake."""
    seen: dict[str, str] = {}
    out = []
    for cls in data.classes:
        for glob in data.paths.get(cls, []):
            if glob in seen and seen[glob] != cls:
                out.append(f"{path}: data path {glob!r} is in both {seen[glob]!r} and {cls!r}; {cls!r} (the stricter) "
                           "applies — keep it in one class")
            seen[glob] = cls
    return out


def parsed_line(parsed: list[tuple[LayerSource, PolicyFile, dict[int, int]]], src: LayerSource, i: int) -> int:
    for s, _, lines in parsed:
        if s is src:
            return lines.get(i, 0)
    return 0


def example_action(example: str | dict[str, Any]):
    from warden.core.action import action_from_payload

    if isinstance(example, str):
        payload: dict[str, Any] = {"tool_name": "Bash", "tool_input": {"command": example}}
    else:
        payload = dict(example)
    payload.setdefault("cwd", EXAMPLE_WORKSPACE)
    return action_from_payload(payload)


def check_rule_examples(policy: CompiledPolicy, rules: list[tuple[LayerSource, int, Any]], parsed) -> list[Problem]:
    from warden.core.analyze import AnalysisEnv, analyze
    from warden.core.policy.compiled import build_subjects

    env = AnalysisEnv(home=EXAMPLE_HOME, env={"HOME": EXAMPLE_HOME})
    by_id = {r.id: r for r in policy.rules}
    problems: list[Problem] = []
    for src, i, rule in rules:
        if rule.examples is None or rule.id not in by_id:
            continue
        compiled = by_id[rule.id]
        line = parsed_line(parsed, src, i)
        for expected, examples in ((True, rule.examples.match), (False, rule.examples.not_match)):
            for ex in examples:
                try:
                    action = example_action(ex)
                except Exception as exc:
                    problems.append(Problem(src.path, line, f"rule {rule.id!r}: example {ex!r} is not a valid action: {exc}"))
                    continue
                analysis = analyze(action, env)
                every = compiled.effect is Decision.ALLOW
                hit = any(compiled.matcher.matches(s, every, EXAMPLE_HOME) for s in build_subjects(action, analysis))
                if hit != expected:
                    verb = "should match but does not" if expected else "should not match but does"
                    problems.append(Problem(src.path, line, f"rule {rule.id!r}: example {ex!r} {verb}"))
    return problems


def _drop_shadowing_allows(compiled: list[CompiledRule], rules: list[tuple[LayerSource, int, Any]],
                           guarded: set[str], loosenings: list[Loosening]) -> list[CompiledRule]:
    """Untrusted allow rules that match an example of a lower ask/deny rule are dropped: they were
    written to wave through what that rule stops."""
    from warden.core.analyze import AnalysisEnv, analyze
    from warden.core.policy.compiled import build_subjects

    env = AnalysisEnv(home=EXAMPLE_HOME, env={"HOME": EXAMPLE_HOME})
    strict = [(r, ex) for s, _, r in rules if s.layer in ("builtin", "user") and is_strict(r.effect) and r.examples
              for ex in r.examples.match]
    subjects: dict[int, list[Any]] = {}
    keep = []
    for rule in compiled:
        path, _, line = rule.source.rpartition(":")
        if rule.effect is not Decision.ALLOW or rule.layer != "project" or path not in guarded:
            keep.append(rule)
            continue
        shadowed = None
        for n, (lower, ex) in enumerate(strict):
            if n not in subjects:
                try:
                    action = example_action(ex)
                    subjects[n] = build_subjects(action, analyze(action, env))
                except Exception:
                    subjects[n] = []
            if any(rule.matcher.matches(sub, True, EXAMPLE_HOME) for sub in subjects[n]):
                shadowed = (lower, ex)
                break
        if shadowed is None:
            keep.append(rule)
        else:
            lower, ex = shadowed
            loosenings.append(Loosening(path, int(line or 0), f"allow rule {rule.id} shadows the {lower.effect} rule "
                                        f"{lower.id} (it matches that rule's example {ex!r})"))
    return keep

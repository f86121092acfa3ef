"""`warden policy validate | test | show | schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from warden.cli.common import cwd_option, emit_json, fail, gateway, json_option, policy_option, styled


@click.group()
def policy() -> None:
    """Check, test and inspect policies.

    \b
      warden policy validate warden.yaml      schema, globs and rule examples, with file:line
      warden policy test tests.yaml           run a suite of action -> expected decision cases
      warden policy show                      the effective merged policy and each rule's origin
      warden policy doc [FILE]                the rules as a Markdown table
      warden policy template managed          a documented managed-policy template
      warden policy schema > warden.schema.json   JSON Schema for editor completion
    """


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path} does not exist", "check the path")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text", "save it as UTF-8")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    raise AssertionError


@policy.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Treat warnings (policy mistakes that load but do nothing) as errors.")
@json_option
def validate(files: tuple[str, ...], strict: bool, as_json: bool) -> None:
    """Validate policy FILES: YAML syntax, schema, globs, duplicate ids, rule examples — and lint.

    Each file is checked on its own (as a project layer over nothing else), then linted as a layer
    over the built-in and your user policy. Errors and warnings are printed as FILE:LINE: message,
    each warning with its fix:

    \b
      unknown fact kinds in `facts:`      the rule can never match
      unknown ids in `disable:`           nothing is switched off
      an allow rule that can never win    a stricter rule matches its own example (strictest wins)

    Exit status 1 when any file has errors, or (with --strict) warnings.
    """
    from warden.core.policy.lint import lint
    from warden.core.policy.load import LayerSource, PolicyLoadError, compile_policy

    lower = _lower_layers()
    results: list[dict[str, Any]] = []
    for path in files:
        src = LayerSource("project", path, _read_text(path))
        try:
            compiled = compile_policy([src])
        except PolicyLoadError as exc:
            results.append({"file": path, "ok": False, "problems": [str(p) for p in exc.problems], "warnings": []})
            continue
        warnings = [w.to_json() for w in lint(lower, src)]
        results.append({"file": path, "ok": not (strict and warnings), "rules": len(compiled.rules), "problems": [],
                        "warnings": warnings})
    if as_json:
        emit_json({"ok": all(r["ok"] for r in results), "strict": strict, "files": results})
    else:
        for r in results:
            for p in r["problems"]:
                click.echo(p)
            for w in r["warnings"]:
                kind = "error" if strict else "warning"
                click.echo(f"{w['path']}:{w['line']}: {kind}: {w['message']}\n  fix: {w['fix']}")
            if not r["problems"]:
                note = f", {len(r['warnings'])} warning(s)" if r["warnings"] else ""
                click.echo(f"{r['file']}: {'ok' if r['ok'] else 'not ok'} ({r['rules']} rules, examples checked{note})")
    if not all(r["ok"] for r in results):
        raise SystemExit(1)


def _lower_layers() -> list[Any]:
    """The built-in and the user layer: what a project file sits on."""
    from warden.adapters.policy_files import BUILTIN, warden_home
    from warden.core.policy.load import LayerSource

    layers = [LayerSource("builtin", "builtin:recommended.yaml", BUILTIN.read_text(encoding="utf-8"))]
    user = warden_home() / "policy.yaml"
    if user.is_file():
        layers.append(LayerSource("user", str(user), user.read_text(encoding="utf-8")))
    return layers


def _load_cases(path: str) -> list[dict[str, Any]]:
    import yaml

    try:
        data = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        fail(f"{path}: YAML syntax error: {exc}")
    cases = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(cases, list):
        fail(f"{path}: expected a list of cases (or a mapping with `cases:`)",
             "each case: {command: '...', expect: deny} or {action: {...}, expect: allow}")
    return cases


def run_cases(policy_obj: Any, cases: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[str]]:
    """Evaluate test cases; returns per-case results and the ids of rules that were hit."""
    from warden.core.analyze import AnalysisEnv
    from warden.core.flow import decide
    from warden.core.policy.load import EXAMPLE_HOME, EXAMPLE_WORKSPACE, example_action

    env = AnalysisEnv(home=EXAMPLE_HOME, env={"HOME": EXAMPLE_HOME})
    hit: set[str] = set()
    results = []
    for i, case in enumerate(cases):
        name = case.get("name") or case.get("command") or case.get("cmd") or f"case {i + 1}"
        expect = str(case.get("expect", "")).lower()
        try:
            source = case.get("action") or case.get("command") or case.get("cmd")
            if isinstance(source, dict):
                source = {"cwd": case.get("cwd", EXAMPLE_WORKSPACE), **source}
            elif case.get("cwd"):
                source = {"tool_name": "Bash", "tool_input": {"command": source}, "cwd": case["cwd"]}
            action = example_action(source)
            if not action.workspace or action.workspace == action.cwd:
                from dataclasses import replace

                action = replace(action, workspace=case.get("workspace", EXAMPLE_WORKSPACE))
        except Exception as exc:
            results.append({"name": str(name), "ok": False, "error": f"bad case: {exc}"})
            continue
        verdict = decide(policy_obj, action, env)
        ids = [r.id for r in verdict.rules]
        hit.update(ids)
        ok = verdict.decision.label == expect
        if ok and case.get("rule"):
            ok = case["rule"] in ids
        results.append({"name": str(name), "ok": ok, "expect": expect, "got": verdict.decision.label,
                        "rules": ids, "reason": verdict.reason, "want_rule": case.get("rule")})
    return results, hit


@policy.command("test")
@click.argument("suites", nargs=-1, required=True, type=click.Path(dir_okay=False))
@policy_option
@cwd_option
@json_option
def test_cmd(suites: tuple[str, ...], policy_file: str | None, cwd: str | None, as_json: bool) -> None:
    """Run test SUITES (YAML lists of cases) against the effective policy, like `opa test`.

    \b
    A case:   - name: force push is blocked          (optional)
                command: git push --force origin main  (or action: {tool_name: Read, ...})
                expect: deny                           (allow | ask | deny)
                rule: deny-protected-branch-rewrite         (optional: this rule must match)
    Cases run in a fixed world: home /home/dev, workspace and cwd /home/dev/project (override
    per case with cwd:). Reports failures and the rules of the file under test (the project
    layer, else your user policy) that no case hit. Exit 1 on failure.
    """
    gw = gateway(policy_file, cwd, audit=False)
    try:
        policy_obj = gw.policy
    except Exception as exc:
        fail(f"the policy does not load: {exc}", "run `warden policy validate FILE`")
    results, hit = [], set()
    for suite in suites:
        r, h = run_cases(policy_obj, _load_cases(suite))
        results += [dict(x, suite=suite) for x in r]
        hit |= h
    # the file under test: the project layer (--policy, $WARDEN_POLICY or the workspace's), else the user's
    layer = "project" if any(r.layer == "project" for r in policy_obj.rules) else "user"
    never = [r.id for r in policy_obj.rules if r.id not in hit and r.layer == layer]
    failed = [r for r in results if not r["ok"]]
    if as_json:
        emit_json({"passed": len(results) - len(failed), "failed": len(failed), "results": results, "never_hit": never})
    else:
        for r in failed:
            detail = r.get("error") or f"expected {r['expect']}, got {r['got']} ({r['reason']})"
            if not r.get("error") and r["expect"] == r["got"]:
                detail = f"rule {r['want_rule']} did not match (matched: {', '.join(r['rules']) or 'none'})"
            click.echo(f"FAIL {r['suite']}: {r['name']}: {detail}")
        click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
        if never:
            click.echo(f"rules never hit ({len(never)}): {', '.join(never)}")
    if failed:
        raise SystemExit(1)


@policy.command()
@policy_option
@cwd_option
@json_option
def show(policy_file: str | None, cwd: str | None, as_json: bool) -> None:
    """Show the effective policy: layers, default, settings, and every rule with its origin."""
    gw = gateway(policy_file, cwd, audit=False)
    try:
        p = gw.policy
    except Exception as exc:
        fail(f"the policy does not load, so every decision is a deny: {exc}", "run `warden policy validate FILE`")
    data = {
        "digest": p.digest,
        "sources": p.sources,
        "default": {"effect": p.default.label, "source": p.default_source},
        "settings": p.settings,
        "sandbox": p.sandbox,
        "rules": [{"id": r.id, "effect": r.effect.label, "layer": r.layer, "source": r.source, "reason": r.reason}
                  for r in p.rules],
        "disabled": p.disabled,
        "warnings": p.warnings,
        "untrusted": getattr(p, "untrusted", []),
    }
    if as_json:
        emit_json(data)
        return
    from rich.markup import escape
    from rich.table import Table

    from warden.cli.common import console

    out = console()
    out.print(f"[bold]Policy[/] {p.digest[:16]}  default {styled(p.default.label)} (from {escape(p.default_source)})")
    for s in p.sources:
        out.print(f"  layer {s['layer']:<8} {escape(s['path'])}")
    if sys.stdout.isatty():
        table = Table("effect", "id", "layer", "source", "reason", show_lines=False)
        for r in data["rules"]:
            table.add_row(styled(r["effect"]), r["id"], r["layer"], escape(r["source"]), escape(r["reason"]))
        out.print(table)
    else:  # a pipe or a file: one unwrapped line per rule, so file:line stays whole and greppable
        for r in data["rules"]:
            click.echo(f"{r['effect']:<5}  {r['id']}  {r['layer']}  {r['source']}  {' '.join(r['reason'].split())}")
    for d in p.disabled:
        out.print(f"[dim]disabled {escape(d['id'])} by {escape(d['by'])}[/]")
    for w in p.warnings:
        out.print(f"[yellow]warning:[/] {escape(w)}")
    out.print(f"settings: {escape(json.dumps(p.settings))}")


@policy.command()
@click.argument("file", type=click.Path(dir_okay=False), required=False)
def doc(file: str | None) -> None:
    """Print a policy FILE (default: the built-in policy) as a Markdown table of its rules.

    \b
      warden policy doc warden.yaml > docs/our-policy.md
    docs/default-policy.md is generated this way, so the table always matches the rules.
    """
    from warden.adapters.policy_files import BUILTIN
    from warden.cli.policy_doc import rules_markdown
    from warden.core.policy.load import PolicyLoadError

    path = file or str(BUILTIN)
    try:
        click.echo(rules_markdown(_read_text(path), path), nl=False)
    except PolicyLoadError as exc:
        fail(f"the policy does not load: {exc}", "run `warden policy validate FILE`")


@policy.command()
@click.argument("kind", type=click.Choice(["managed"]), default="managed")
def template(kind: str) -> None:
    """Print a documented policy template: `managed` (lock, trusted projects, required rules).

    \b
      warden policy template managed | sudo tee /etc/warden/managed.yaml
    docs/managed-policy.md explains each field.
    """
    from warden.adapters.policy_files import BUILTIN

    click.echo((BUILTIN.parent / f"{kind}-template.yaml").read_text(encoding="utf-8"), nl=False)


@policy.command()
def schema() -> None:
    """Print the policy file JSON Schema (for editor validation and completion)."""
    from warden.core.policy.model import PolicyFile

    schema_obj = PolicyFile.model_json_schema()
    schema_obj["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema_obj["title"] = "Warden policy"
    click.echo(json.dumps(schema_obj, indent=2))

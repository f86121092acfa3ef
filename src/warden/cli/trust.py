"""`warden trust`: let a project policy file loosen the rules, for its current text only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from warden.cli.common import cwd_option, emit_json, fail, json_option


def _project_file(file: str | None, cwd: str | None) -> Path:
    if file:
        path = Path(file).absolute()
        if not path.is_file():
            fail(f"{file} does not exist", "name a project policy file (warden.yaml or .warden/policy.yaml)")
        return path
    from warden.adapters.policy_files import PROJECT_NAMES, find_workspace

    workspace = Path(find_workspace(cwd or "."))
    for name in PROJECT_NAMES:
        if (workspace / name).is_file():
            return workspace / name
    fail(f"no project policy in {workspace}", f"looked for {', '.join(PROJECT_NAMES)}; name the file to trust")
    raise AssertionError


def loosenings(path: Path, text: str) -> list[dict[str, Any]]:
    """What the file would loosen over the built-in and user layers (empty: it only tightens)."""
    from warden.adapters.policy_files import BUILTIN, warden_home
    from warden.core.policy.load import LayerSource, PolicyLoadError, compile_policy

    layers = [LayerSource("builtin", "builtin:recommended.yaml", BUILTIN.read_text(encoding="utf-8"))]
    user = warden_home() / "policy.yaml"
    if user.is_file():
        layers.append(LayerSource("user", str(user), user.read_text(encoding="utf-8")))
    try:
        policy = compile_policy([*layers, LayerSource("project", str(path), text)], trusted=frozenset())
    except PolicyLoadError as exc:
        fail(f"{path} does not load, so there is nothing to trust: {exc}", f"run `warden policy validate {path}`")
        raise AssertionError from None
    return list(policy.untrusted)


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--revoke", is_flag=True, help="Forget the trust in FILE: its loosening is ignored again.")
@click.option("--list", "list_", is_flag=True, help="List trusted files and whether they changed since.")
@cwd_option
@json_option
def trust(file: str | None, revoke: bool, list_: bool, cwd: str | None, as_json: bool) -> None:
    """Trust a project policy FILE (default: the workspace's warden.yaml) as it is now.

    A project's own policy is untrusted input: until you trust it, Warden ignores every part of it
    that loosens the rules (disabling or replacing a built-in ask/deny, a more permissive
    default, allow rules that shadow built-in asks, loosening settings or sandbox profiles) and
    says so in `warden policy show`, `warden doctor` and at session start. Trust is recorded by
    content digest in $WARDEN_HOME/trust.json: when the file changes, run this again.

    \b
      warden trust                    review and trust ./warden.yaml
      warden trust --list             trusted files; "changed" ones are inert again
      warden trust --revoke warden.yaml
    The managed policy can trust paths itself (`trusted_projects:`) or forbid this (`lock: [trust]`).
    """
    from warden.adapters import trust as store
    from warden.adapters.policy_files import warden_home

    home = warden_home()
    if list_:
        rows = []
        for path, entry in sorted(store.load(home).items()):
            try:
                state = store.status(home, path, Path(path).read_text(encoding="utf-8"))
            except OSError:
                state = "missing"
            rows.append({"path": path, "status": state, "trusted_at": entry.get("trusted_at", "")})
        if as_json:
            emit_json({"files": rows})
        for r in [] if as_json else rows:
            click.echo(f"{r['status']:<9} {r['path']}  (trusted {r['trusted_at']})")
        if not rows and not as_json:
            click.echo("no trusted project policies")
        return
    target = _project_file(file, cwd)
    if revoke:
        removed = store.revoke(home, str(target))
        if as_json:
            emit_json({"path": str(target), "revoked": removed})
        else:
            click.echo(f"{'revoked trust in' if removed else 'was not trusted:'} {target}")
        return
    text = target.read_text(encoding="utf-8")
    items = loosenings(target, text)
    entry = store.trust(home, str(target), text)
    if as_json:
        emit_json({**entry, "loosening": items})
        return
    if items:
        click.echo(f"Trusting {target} lets it loosen the rules:")
        for item in items:
            click.echo(f"  {target}:{item['line']}: {item['what']}")
    else:
        click.echo(f"{target} only tightens the rules; trusted anyway")
    click.echo(f"trusted sha256:{entry['sha256'][:16]} — any change to the file needs `warden trust` again")

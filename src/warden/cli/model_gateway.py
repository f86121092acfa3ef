"""``warden model-gateway``: run the model gateway, hand out gateway keys, show usage and intent."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import click

from warden.cli.common import emit_json, fail, json_option, policy_option


def _home() -> Path:
    from warden.adapters.policy_files import warden_home

    return warden_home(os.environ)


@click.group("model-gateway", invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--listen", default="127.0.0.1:8790", show_default=True, metavar="HOST:PORT",
              help="Where agents connect (point ANTHROPIC_BASE_URL / OPENAI_BASE_URL here).")
@click.option("--upstream", "upstreams", multiple=True, metavar="NAME[:KIND]=URL[,key_env=VAR]",
              help="A provider to forward to (repeatable). KIND is anthropic or openai (guessed from NAME); "
                   "key_env names the environment variable with the provider key, held by the gateway only.")
@click.option("--dev", is_flag=True, help="Loopback clients need no gateway key (for one developer's machine).")
@policy_option
@click.option("--cwd", type=click.Path(file_okay=False), default=None,
              help="Workspace whose policy layers apply (default: the current directory).")
@click.option("--max-body-mb", type=int, default=32, show_default=True, help="Largest request accepted.")
@click.option("--upstream-timeout", type=float, default=600.0, show_default=True,
              help="Seconds an upstream may stay silent mid-answer before the request fails.")
@click.option("--policy-reload", type=float, default=5.0, show_default=True,
              help="Seconds between re-reads of the policy (an edit takes effect within this time).")
@click.pass_context
def model_gateway(ctx: click.Context, listen: str, upstreams: tuple[str, ...], dev: bool, policy_file: str | None,
                  cwd: str | None, max_body_mb: int, upstream_timeout: float, policy_reload: float) -> None:
    """Every request an agent sends to a model passes Warden: approved models, redaction, budgets, intent.

    \b
    One developer, Claude Code:
      warden model-gateway --dev --upstream anthropic=https://api.anthropic.com,key_env=ANTHROPIC_API_KEY
      ANTHROPIC_BASE_URL=http://127.0.0.1:8790 claude
    \b
    Codex (Responses API):
      warden model-gateway --dev --upstream openai=https://api.openai.com,key_env=OPENAI_API_KEY
      # ~/.codex/config.toml: [model_providers.warden] base_url = "http://127.0.0.1:8790/v1"
    \b
    A team: give each agent a gateway key instead of the provider key, without --dev:
      warden model-gateway keys add --actor alice@example.com --agent claude-code
    \b
    The policy's `models:` section approves models, sets budgets and prices (docs/model-gateway.md).
    Every request is an audit event of kind `model`: `warden audit tail --kind model`,
    `warden model-gateway trace TOOL_USE_ID` shows the instruction that led to a tool call.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not upstreams:
        fail("no --upstream given", "e.g. --upstream anthropic=https://api.anthropic.com,key_env=ANTHROPIC_API_KEY")
    from warden.integrations.model_gateway.config import ConfigError, GatewayConfig, KeyTable, keys_path, parse_upstream

    home = _home()
    try:
        ups = [parse_upstream(s) for s in upstreams]
        keys = KeyTable.load(keys_path(home))
    except ConfigError as exc:
        fail(str(exc))
    for up in ups:
        if up.key_env and not os.environ.get(up.key_env):
            click.echo(f"warden: warning: ${up.key_env} is empty; requests to {up.name} go without a provider key",
                       err=True)
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--listen {listen!r}: write HOST:PORT, e.g. 127.0.0.1:8790")
    if not dev and not keys.entries:
        fail("no gateway keys and no --dev: no agent could connect",
             "add one with `warden model-gateway keys add --actor NAME`, or use --dev on a single machine")
    config = GatewayConfig(upstreams=ups, warden_home=home, environ=dict(os.environ), cwd=cwd or os.getcwd(),
                           policy_file=policy_file, dev=dev, keys=keys, max_body=max_body_mb * 1024 * 1024,
                           upstream_timeout=upstream_timeout, policy_ttl=policy_reload)
    from warden.integrations.model_gateway.app import ModelGateway

    try:
        gw = ModelGateway(config)
        policy = gw.policy()
    except Exception as exc:  # noqa: BLE001 — start-up must say why it cannot serve
        fail(f"cannot start the model gateway: {exc}")
    if not policy.restricts_models:
        click.echo("warden: note: the policy approves no model list (`models.allow`), so every model is "
                   "allowed; requests are still redacted, budgeted and recorded", err=True)
    import uvicorn

    click.echo(f"warden model-gateway on http://{host}:{port} -> "
               + ", ".join(f"{u.name} ({u.kind}) {u.url}" for u in ups), err=True)
    uvicorn.run(gw.app, host=host, port=int(port), log_level="warning", access_log=False)


@model_gateway.group("keys")
def keys_group() -> None:
    """Gateway keys: what agents send instead of a provider key (stored as digests only)."""


@keys_group.command("add")
@click.option("--actor", required=True, help="Who uses this key (a person or a service).")
@click.option("--agent", default="", help="Which agent it is for (claude-code, codex, ...).")
@click.option("--role", "roles", multiple=True, help="Roles the policy may match (repeatable).")
@json_option
def keys_add(actor: str, agent: str, roles: tuple[str, ...], as_json: bool) -> None:
    """Create a key and print it once (it cannot be shown again)."""
    from warden.integrations.model_gateway.config import ClientKey, KeyTable, keys_path

    path = keys_path(_home())
    table = KeyTable.load(path)
    key = "wgw-" + secrets.token_urlsafe(32)
    table.entries[KeyTable.digest(key)] = ClientKey(actor, agent, tuple(roles))
    table.save(path)
    if as_json:
        emit_json({"key": key, "actor": actor, "agent": agent, "roles": list(roles)})
    else:
        click.echo(key)
        click.echo(f"(for {actor}{' / ' + agent if agent else ''}; stored as a digest in {path})", err=True)


@keys_group.command("list")
@json_option
def keys_list(as_json: bool) -> None:
    """The keys' owners (digest prefixes, never the keys)."""
    from warden.integrations.model_gateway.config import KeyTable, keys_path

    table = KeyTable.load(keys_path(_home()))
    rows = [{"digest": d[:12], "actor": k.actor, "agent": k.agent, "roles": list(k.roles)}
            for d, k in table.entries.items()]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['digest']}  {r['actor']}  {r['agent']}  {','.join(r['roles'])}")


@keys_group.command("revoke")
@click.argument("digest_prefix")
def keys_revoke(digest_prefix: str) -> None:
    """Revoke the key whose digest starts with DIGEST_PREFIX (see `keys list`)."""
    from warden.integrations.model_gateway.config import KeyTable, keys_path

    path = keys_path(_home())
    table = KeyTable.load(path)
    hits = [d for d in table.entries if d.startswith(digest_prefix)]
    if len(hits) != 1:
        fail(f"{len(hits)} keys match {digest_prefix!r}; give a longer prefix from `keys list`")
    del table.entries[hits[0]]
    table.save(path)
    click.echo(f"revoked {hits[0][:12]}")


@model_gateway.command("usage")
@click.option("--by", type=click.Choice(["actor", "agent", "session", "model"]), default="actor", show_default=True)
@click.option("--days", type=float, default=31.0, show_default=True, help="How far back.")
@policy_option
@json_option
def usage(by: str, days: float, policy_file: str | None, as_json: bool) -> None:
    """Tokens and cost used, and how much of each budget is left."""
    from warden.adapters.store.usage import UsageLedger
    from warden.core.model.policy import compile_models, window_start
    from warden.gateway import Gateway

    home = _home()
    ledger = UsageLedger.under(home)
    rows = ledger.summary(time.time() - days * 86400, by)
    budgets: list[dict[str, Any]] = []
    try:
        policy = compile_models(Gateway.from_env(policy_file=policy_file, audit=False).policy.models)
        for b in policy.budgets:
            entry: dict[str, Any] = {"id": b.id, "per": b.per, "window": b.window, "tokens": b.tokens,
                                     "cost_usd": b.cost_usd}
            if b.per == "all":
                used = ledger.total("all", "*", window_start(b.window, time.time()))
                entry["used"] = {"tokens": used[0], "cost_usd": round(used[1], 6)}
            budgets.append(entry)
    except Exception as exc:  # noqa: BLE001 — usage is still worth showing
        click.echo(f"warden: the policy's budgets are unavailable: {exc}", err=True)
    if as_json:
        emit_json({"usage": rows, "budgets": budgets})
        return
    if not rows:
        click.echo("no model requests recorded yet")
    for r in rows:
        click.echo(f"{r[by] or '(none)':40} {r['requests']:6} req  {r['input_tokens']:>10,} in  "
                   f"{r['output_tokens']:>9,} out  ${r['cost_usd']:.4f}")
    for entry in budgets:
        limit = " / ".join(x for x in (f"{entry['tokens']:,} tokens" if entry["tokens"] else "",
                                          f"${entry['cost_usd']}" if entry["cost_usd"] else "") if x)
        shown = f" — used {entry['used']['tokens']:,} tokens" if "used" in entry else ""
        click.echo(f"budget {entry['id']}: {limit} per {entry['per']} per {entry['window']}{shown}")


@model_gateway.command("trace")
@click.argument("tool_use_id")
@json_option
def trace(tool_use_id: str, as_json: bool) -> None:
    """From a tool call back to intent: the instruction, the model's plan, the hook decision, the outcome."""
    from warden.adapters.model_intent import trace_tool_use

    try:
        found = trace_tool_use(_home(), os.environ, tool_use_id)
    except Exception as exc:  # noqa: BLE001
        fail(f"cannot read the audit log: {exc}")
    if as_json:
        emit_json(found)
        return
    if not found["model"] and not found["decisions"]:
        fail(f"no event mentions tool call {tool_use_id!r}", code=1)
    m = found["model"]
    if m:
        click.echo(f"instruction: {m.get('instruction', '')[:400]}")
        click.echo(f"model:       {m.get('provider')}/{m.get('model')} at {m.get('timestamp')}")
        click.echo(f"plan:        {m.get('plan', '')[:400]}")
        call: dict[str, Any] = next((c for c in m.get("tool_calls", []) if c.get("id") == tool_use_id), {})
        click.echo(f"tool call:   {call.get('name', '')} {call.get('arguments', '')[:300]}")
    for d in found["decisions"]:
        res = d.get("result", {})
        click.echo(f"decision:    {res.get('decision', '').upper()} — {res.get('reason', '')[:300]}")
    for o in found["outcomes"]:
        click.echo(f"outcome:     {o.get('outcome', {}).get('status', '')}")
    sys.stdout.flush()


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2)

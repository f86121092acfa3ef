"""``warden mcp``: put MCP servers behind Warden's policy (proxy, gateway, pins, wrap/unwrap)."""

from __future__ import annotations

import json
import os
import sys
import time

import click


@click.group("mcp")
def mcp() -> None:
    """Guard MCP servers: every tool call decided by the policy, definitions pinned, results redacted.

    \b
    One command per client (rewrites its config so every server runs behind the proxy):
      warden mcp wrap                       .mcp.json of this project (Claude Code)
      warden mcp wrap --client claude-desktop | cursor | vscode
      warden mcp unwrap                     restore the original file byte for byte
    \b
    Tools start quarantined until you approve their definitions:
      warden mcp pins list                  what is pinned and what waits, with diffs
      warden mcp pins approve NAME --all    approve every pending tool of server NAME
    See docs/mcp.md.
    """


@mcp.command("proxy", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--name", help="Server name in tool names (mcp__NAME__tool); default: from the command.")
@click.option("--approve-first", is_flag=True,
              help="Pin the tools of a never-seen server on first listing (trust on first use) instead of "
                   "quarantining them until `warden mcp pins approve`.")
@click.option("--timeout", type=float, default=300.0, show_default=True,
              help="Seconds the server may take to answer one request (0: no limit).")
@click.option("--max-result-bytes", type=int, default=1024 * 1024, show_default=True,
              help="Larger tool results are withheld (the model gets an error saying so).")
@click.option("--relist-after", type=float, default=60.0, show_default=True,
              help="A call more than this many seconds after the last listing re-lists the tools first, "
                   "so a server that swaps a definition without telling is caught (0: only on list_changed).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def proxy(name: str | None, approve_first: bool, timeout: float, max_result_bytes: int,
          relist_after: float, command: tuple[str, ...]) -> None:
    """Run the stdio MCP server COMMAND behind Warden (speak MCP on stdin/stdout).

    \b
      warden mcp proxy --name fs -- npx -y @modelcontextprotocol/server-filesystem ~/project
    Every tools/call, resources/read and prompts/get is decided by the policy as the action
    mcp__NAME__TOOL with its arguments; denied calls come back as tool errors with the reason.
    """
    import asyncio

    from warden.integrations.mcp import build_guard, check_server_name, default_name
    from warden.integrations.mcp.stdio import ProxyOptions, StdioProxy, stdio_streams

    argv = list(command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise click.UsageError("give the server command after --: warden mcp proxy -- COMMAND ARGS...")
    server = name or default_name(argv)
    try:
        check_server_name(server)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    guard = build_guard(server, argv, environ=os.environ, approve_first=approve_first,
                        max_result_bytes=max_result_bytes, relist_after=relist_after)

    async def main() -> int:
        reader, writer = await stdio_streams()
        return await StdioProxy(argv, guard, ProxyOptions(timeout=timeout)).run(reader, writer)

    try:
        code = asyncio.run(main())
    except KeyboardInterrupt:
        code = 130
    finally:
        guard.gateway.close()
    sys.exit(code)


@mcp.command("gateway")
@click.option("--config", "config_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="YAML/JSON file: listen address and the upstream servers (see docs/mcp.md).")
@click.option("--host", default=None, help="Override the listen host (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Override the listen port (0: any free port).")
def gateway(config_file: str, host: str | None, port: int | None) -> None:
    """Serve several upstream MCP servers (stdio and streamable HTTP) on one streamable-HTTP endpoint.

    \b
    Tools are namespaced SERVER__TOOL, prompts SERVER__PROMPT, resource URIs SERVER+URI,
    so two servers can never collide; the policy sees mcp__SERVER__TOOL.
    """
    from warden.integrations.mcp.http import load_config, serve

    try:
        cfg = load_config(config_file)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if host is not None:
        cfg.host = host
    if port is not None:
        cfg.port = port
    sys.exit(serve(cfg, environ=os.environ))


# -- pins -------------------------------------------------------------------------------------------
@mcp.group("pins")
def pins() -> None:
    """Pinned tool definitions: list, approve (after reading the diff), reset."""


def _pinfile():
    from warden.adapters.policy_files import warden_home
    from warden.integrations.mcp.pins import PinFile

    return PinFile(warden_home(os.environ))


def _rows(servers: dict, server: str | None) -> list[dict]:
    """Pinned and pending tools per server identity, each pending one with its diff."""
    from warden.integrations.mcp.pins import readable_diff

    rows = []
    for ident, entry in sorted(servers.items()):
        if server and server not in (ident, entry.get("name")):
            continue
        pending = []
        for name, p in sorted(entry.get("pending", {}).items()):
            previous = entry["tools"].get(p.get("renamed_from") or name, {}).get("definition")
            pending.append({"tool": name, "state": p.get("state", "new"), "digest": p["digest"],
                            "renamed_from": p.get("renamed_from", ""),
                            "diff": readable_diff(previous, p["definition"])})
        rows.append({"server": entry.get("name", ""), "identity": ident,
                     "pinned": [{"tool": n, "digest": t["digest"], "approved_by": t.get("approved_by", "")}
                                for n, t in sorted(entry.get("tools", {}).items())],
                     "pending": pending})
    return rows


@pins.command("list")
@click.argument("server", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def pins_list(server: str | None, as_json: bool) -> None:
    """Pinned and pending (quarantined) tools per server, with what changed."""
    store = _pinfile()
    try:
        servers = store.servers()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    rows = _rows(servers, server)
    if as_json:
        click.echo(json.dumps({"servers": rows}, indent=2))
        return
    if not rows:
        click.echo("No MCP server has been seen yet. Run your client once with the server wrapped "
                   "(warden mcp wrap), then come back.")
        return
    for row in rows:
        click.echo(f"{row['server']}  ({row['identity']}): {len(row['pinned'])} pinned, {len(row['pending'])} pending")
        for t in row["pinned"]:
            click.echo(f"  pinned   {t['tool']}  {t['digest'][:12]}  by {t['approved_by']}")
        for p in row["pending"]:
            extra = f" (renamed from {p['renamed_from']})" if p["renamed_from"] else ""
            click.echo(f"  PENDING  {p['tool']}  {p['state']}{extra}")
            for line in p["diff"].splitlines():
                click.echo(f"           {line}")
        if row["pending"]:
            click.echo(f"  approve: warden mcp pins approve {row['server']} --all   (or name the tools)")


@pins.command("approve")
@click.argument("server")
@click.argument("tools", nargs=-1)
@click.option("--all", "approve_all", is_flag=True, help="Approve every pending tool of SERVER.")
@click.option("--by", default=None, help="Who approves (default: $USER).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation on a terminal.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def pins_approve(server: str, tools: tuple[str, ...], approve_all: bool, by: str | None, yes: bool,
                 as_json: bool) -> None:
    """Approve pending tool definitions of SERVER, recorded in the audit log.

    On a terminal the diff of every definition is shown first and you confirm; --yes skips that.
    """
    if not tools and not approve_all:
        raise click.UsageError("name the tools to approve, or pass --all (see `warden mcp pins list SERVER`)")
    store = _pinfile()
    if not yes and not as_json and sys.stdin.isatty():
        try:
            rows = _rows(store.servers(), server)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        shown = [p for r in rows for p in r["pending"] if approve_all or p["tool"] in tools]
        for p in shown:
            click.echo(f"{p['tool']} ({p['state']}):")
            for line in p["diff"].splitlines():
                click.echo(f"    {line}")
        if shown and not click.confirm(f"Approve {len(shown)} definition(s) of {server}?", default=False):
            raise click.ClickException("nothing approved")
    who = by or os.environ.get("USER") or "unknown"
    try:
        approved = store.approve(server, None if approve_all else list(tools), by=who)
    except (KeyError, RuntimeError) as exc:
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from None
    _audit_pins("pin.approved", server, approved, who)
    if as_json:
        click.echo(json.dumps({"approved": approved}, indent=2))
        return
    if not approved:
        click.echo(f"Nothing pending for {server}.")
    for a in approved:
        click.echo(f"approved {a['tool']} ({a['state']}) {a['digest'][:12]}")
        for line in a["diff"].splitlines():
            click.echo(f"    {line}")


@pins.command("reset")
@click.argument("server")
def pins_reset(server: str) -> None:
    """Forget every pin of SERVER: its tools are quarantined again until approved."""
    store = _pinfile()
    idents = store.reset(server)
    if not idents:
        raise click.ClickException(f"no MCP server {server!r} in {store.path}")
    _audit_pins("pin.reset", server, [{"identity": i} for i in idents], os.environ.get("USER") or "unknown")
    click.echo(f"reset {', '.join(idents)}")


def _audit_pins(what: str, server: str, items: list[dict], who: str) -> None:
    from warden.core.audit import mcp_event
    from warden.gateway import Gateway

    gw = Gateway.from_env()
    if not gw.audit:
        return
    try:
        for item in items:
            tool = f"mcp__{server}__{item['tool']}" if item.get("tool") else ""
            gw.record(mcp_event(what=what, server=server, identity=item.get("identity", ""), started_at=time.time(),
                                detail=f"{what} by {who}", data={**item, "by": who}, tool=tool,
                                redact=gw.redactor()))
    except Exception as exc:
        click.echo(f"warning: the audit event could not be written: {exc}", err=True)
    finally:
        gw.close()


# -- client configurations ---------------------------------------------------------------------------
@mcp.command("wrap")
@click.option("--client", type=click.Choice(["claude-code", "claude-desktop", "cursor", "vscode"]),
              default="claude-code", show_default=True)
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None,
              help="The config file (default: the client's usual place; .mcp.json in this directory for Claude Code).")
@click.option("--approve-first", is_flag=True, help="Pass --approve-first to every proxy (trust on first use).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def wrap(client: str, path: str | None, approve_first: bool, as_json: bool) -> None:
    """Rewrite a client's MCP config so every stdio server runs behind `warden mcp proxy` (idempotent)."""
    from warden.integrations.mcp.clients import ConfigError, config_path, wrap_file

    target = path or str(config_path(client, os.getcwd(), os.environ))
    try:
        report = wrap_file(target, warden=_warden_argv(), approve_first=approve_first)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    _report(report, as_json)


@mcp.command("unwrap")
@click.option("--client", type=click.Choice(["claude-code", "claude-desktop", "cursor", "vscode"]),
              default="claude-code", show_default=True)
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def unwrap(client: str, path: str | None, as_json: bool) -> None:
    """Restore a config file wrapped by `warden mcp wrap` to its original bytes."""
    from warden.integrations.mcp.clients import ConfigError, config_path, unwrap_file

    target = path or str(config_path(client, os.getcwd(), os.environ))
    try:
        report = unwrap_file(target)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    _report(report, as_json)


def _warden_argv() -> list[str]:
    """How the client should start Warden: this installation's own executable, by absolute path."""
    exe = os.path.join(os.path.dirname(sys.executable), "warden")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "warden"]


def _report(report: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(report["message"])
    for name in report.get("servers", []):
        click.echo(f"  {name}")

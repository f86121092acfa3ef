"""``warden sync``: bring this machine in step with its team server (once, or as a service)."""

from __future__ import annotations

import json
import os
import signal
import time

import click

from warden.cli.common import emit_json, fail, json_option


@click.command("sync")
@click.option("--follow", is_flag=True, help="Keep the link open (a service): kills within a second, approvals "
              "routed as they queue, events shipped as they are recorded. Ctrl-C stops it.")
@click.option("--status", "show_status", is_flag=True, help="Show the running link's state and exit.")
@json_option
def sync(follow: bool, show_status: bool, as_json: bool) -> None:
    """Mirror the server's kill switches, pull the signed policy bundle, route queued approvals to the
    server, ship the audit outbox and send this machine's health report.

    \b
      warden sync                 # one pass (cron, CI, a laptop that was offline)
      warden sync --follow        # the link as a service (systemd, launchd)
      warden sync --status --json # what the running link last saw
    \b
    The warm hook daemon runs the same link by itself while agents are active, so after `warden login`
    nothing else is needed on a developer machine; only one link runs per $WARDEN_HOME. Offline,
    nothing is lost or loosened: kills stay in force, events wait in the local audit store, queued
    requests wait to be routed. WARDEN_SERVER_LINK=0 keeps the daemon from starting a link.
    See docs/server.md ("Clients").
    """
    from warden.adapters.policy_files import warden_home
    from warden.integrations.server_client import config
    from warden.integrations.server_client.link import Link, link_alive, read_status

    home = warden_home(os.environ)
    if show_status:
        status = read_status(home) or {}
        status["running"] = link_alive(home)
        if as_json:
            emit_json(status)
            return
        if not status.get("server"):
            fail("no link has run for this $WARDEN_HOME yet", "warden login URL --key wk_..., then warden sync")
        age = time.time() - float(status.get("last_contact") or 0)
        click.echo(f"server {status['server']} as machine {status.get('machine')}: "
                   f"{'running' if status['running'] else 'not running'}, "
                   f"{'online' if status.get('online') else 'offline'} (last contact {age:.0f}s ago)")
        click.echo(f"  kills mirrored: {status.get('kills', 0)}; policy {status.get('policy_version') or '?'}; "
                   f"requests routed {status.get('routed', 0)}, answered {status.get('answered', 0)}; "
                   f"outbox pending {(status.get('outbox') or {}).get('pending', '?')}")
        if status.get("error"):
            click.echo(f"  last error: {status['error']}")
        return
    try:
        link = Link(home, os.environ)
    except config.NotLoggedIn as exc:
        fail(str(exc), "warden login URL --key wk_...")
    if not link.acquire():
        fail("another link already runs for this $WARDEN_HOME (the warm daemon or another warden sync)",
             "warden sync --status shows what it sees")
    if not follow:
        try:
            status = link.sync_once()
        except Exception as exc:  # noqa: BLE001
            fail(f"cannot sync with {link.link.url}: {type(exc).__name__}: {exc}",
                 "check the URL and that the server runs; kills, policy and events stay cached locally")
        finally:
            link.close()
        if as_json:
            emit_json(status)
        else:
            box = status.get("outbox") or {}
            click.echo(f"synced with {link.link.url}: {status.get('kills', 0)} kill switch(es) in force, policy "
                       f"{status.get('policy_version') or '?'}, {status.get('routed', 0)} request(s) routed, "
                       f"{box.get('accepted', 0)} event(s) shipped ({box.get('pending', 0)} pending)")
        return
    signal.signal(signal.SIGTERM, lambda *_: link.stop.set())
    link.start()
    click.echo(f"warden sync: linked to {link.link.url} as {link.link.machine}; Ctrl-C stops", err=True)
    try:
        while not link.stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        link.close()
    if as_json:
        emit_json(json.loads(json.dumps(link.status, default=str)))

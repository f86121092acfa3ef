"""``warden server`` (run the team server) and ``warden login`` (point this machine at one)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from warden.cli.common import emit_json, fail, json_option


def _home() -> Path:
    from warden.adapters.policy_files import warden_home

    return warden_home(os.environ)


@click.command("server")
@click.option("--dev", is_flag=True, help="Try it: SQLite under $WARDEN_HOME, print a one-time admin key and the URL.")
@click.option("--db", default=None, metavar="URL", help="postgresql://... for production (state, evidence and keys); "
              "default SQLite under $WARDEN_HOME.")
@click.option("--listen", default="127.0.0.1:8780", show_default=True, metavar="HOST:PORT")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False), default=None,
              help="The central policy the server decides with (besides the managed and built-in layers).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes (uvicorn).")
def server(dev: bool, db: str | None, listen: str, policy_file: str | None, workers: int) -> None:
    """One policy, one evidence trail and one approval queue for every developer and agent.

    \b
      warden server --dev                      # prints an admin key and http://127.0.0.1:8780/
      warden server --db postgresql://warden@db/warden --listen 0.0.0.0:8780 --workers 2
    \b
    Run N replicas against one PostgreSQL behind any load balancer: all state is in the database.
    API: /docs (OpenAPI), /v1/decide, /v1/events, /v1/approvals, /v1/kill, /v1/keys, /metrics.
    See docs/server.md.
    """
    from warden.server.app import ServerConfig, create_app
    from warden.server.keys import KeyStore

    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--listen {listen!r}: write HOST:PORT")
    home = _home()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    state_url = audit_url = keys_url = None
    if db:
        if not db.startswith(("postgresql://", "postgres://")):
            fail("--db takes a postgresql:// URL; without it the server uses SQLite under $WARDEN_HOME")
        base, _, query = db.partition("?")
        schema = next((kv[7:] for kv in query.split("&") if kv.startswith("schema=")), "warden")
        # one database, three schemas: control state, evidence, keys (?schema=NAME picks the prefix)
        state_url, audit_url, keys_url = (f"{base}?schema={schema}_{part}" for part in ("state", "audit", "server"))
    config = ServerConfig(home=home, state_url=state_url, audit_url=audit_url, keys_url=keys_url,
                          policy_file=policy_file, workspace=str(home))
    if dev:
        keys = KeyStore(keys_url or str(home / "server.db"))
        _, key = keys.create("admin", "admin", ttl_s=7 * 86400, label="dev admin")
        keys.close()
        click.echo(f"Warden server (dev): http://{host}:{port}/  — sign in with this admin key (shown once, 7 days):\n"
                   f"  {key}\nGive a machine an agent key:  curl -H 'authorization: Bearer {key[:12]}…' "
                   f"-d '{{\"owner\":\"laptop-1\",\"role\":\"agent\"}}' -H 'content-type: application/json' "
                   f"http://{host}:{port}/v1/keys", err=True)
    import uvicorn

    if workers > 1:  # separate processes: each builds the app from the same config
        os.environ["WARDEN_SERVER_CONFIG"] = json.dumps({
            "home": str(home), "state_url": state_url, "audit_url": audit_url, "keys_url": keys_url,
            "policy_file": policy_file, "workspace": str(home)})
        uvicorn.run("warden.server.app:app_from_env", factory=True, workers=workers, host=host, port=int(port),
                    log_level="warning", access_log=False)
        return
    app = create_app(config)
    uvicorn.run(app, host=host, port=int(port), log_level="warning", access_log=False)


@click.command("login")
@click.argument("server_url")
@click.option("--key", required=True, envvar="WARDEN_SERVER_KEY", help="This machine's key (wk_...).")
@json_option
def login(server_url: str, key: str, as_json: bool) -> None:
    """Point this machine at a team server: checks the key, stores it under $WARDEN_HOME (0600)."""
    import httpx

    url = server_url.rstrip("/")
    try:
        r = httpx.get(url + "/v1/kills", headers={"authorization": f"Bearer {key}"}, timeout=10)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {url}: {exc}", "check the URL and that the server runs")
    if r.status_code != 200:
        fail(f"the server refused the key ({r.status_code}): {r.text[:200]}", "ask an admin for an agent key")
    path = _home() / "server.json"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": url, "key": key}, fh)
    if as_json:
        emit_json({"ok": True, "server": url})
    else:
        click.echo(f"logged in to {url}; kills in force there: {len(r.json())}")

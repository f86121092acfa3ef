"""``warden server`` (run the team server) and ``warden login`` (point this machine at one)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from warden.cli.common import emit_json, fail, json_option

if TYPE_CHECKING:
    import httpx

    from warden.server.oidc import OIDCConfig


def _home() -> Path:
    from warden.adapters.policy_files import warden_home

    return warden_home(os.environ)


@click.group("server", invoke_without_command=True)
@click.option("--dev", is_flag=True, help="Try it: SQLite under $WARDEN_HOME, print a one-time admin key and the URL.")
@click.option("--db", default=None, metavar="URL", help="postgresql://... for production (state, evidence and keys); "
              "default SQLite under $WARDEN_HOME.")
@click.option("--listen", default="127.0.0.1:8780", show_default=True, metavar="HOST:PORT")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False), default=None,
              help="The central policy the server decides with (besides the managed and built-in layers).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes (uvicorn).")
@click.option("--oidc-issuer", default=None, metavar="URL", help="People sign in with this OIDC provider "
              "(its discovery document is URL/.well-known/openid-configuration).")
@click.option("--oidc-client-id", default=None, metavar="ID", help="This server's client id at the provider.")
@click.option("--oidc-client-secret-env", default=None, metavar="VAR",
              help="The environment variable holding the client secret (never the secret on the command line).")
@click.option("--oidc-role-claim", default="groups", show_default=True, metavar="CLAIM",
              help="The id-token claim that carries a person's groups or role.")
@click.option("--oidc-role-map", default="", metavar="VALUE=ROLE,...",
              help="Claim value to Warden role, e.g. approvers=approver,sec=auditor,platform=admin. Without it the "
                   "claim must name the role itself. A person whose claim maps to no role is refused.")
@click.option("--public-url", default="", metavar="URL", help="How browsers reach this server (for the OIDC "
              "redirect URI behind a load balancer); default: the URL of the request.")
@click.pass_context
def server(ctx: click.Context, dev: bool, db: str | None, listen: str, policy_file: str | None, workers: int,
           oidc_issuer: str | None, oidc_client_id: str | None, oidc_client_secret_env: str | None,
           oidc_role_claim: str, oidc_role_map: str, public_url: str) -> None:
    """One policy, one evidence trail and one approval queue for every developer and agent.

    \b
      warden server --dev                      # prints an admin key and http://127.0.0.1:8780/
      warden server --db postgresql://warden@db/warden --listen 0.0.0.0:8780 --workers 2
    \b
    Run N replicas against one PostgreSQL behind any load balancer: all state is in the database.
    \b
    People sign in with SSO (OIDC authorization code + PKCE):
      OIDC_SECRET=... warden server --oidc-issuer https://login.example.com --oidc-client-id warden \\
        --oidc-client-secret-env OIDC_SECRET --oidc-role-map approvers=approver,platform=admin
    API: /docs (OpenAPI), /v1/decide, /v1/events, /v1/approvals, /v1/kill, /v1/keys, /metrics.
    Rotate the policy-bundle signing key: warden server rotate-bundle-key. See docs/server.md.
    """
    if ctx.invoked_subcommand is not None:
        return
    from warden.server.app import ServerConfig, served_app
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
    oidc = _oidc_config(oidc_issuer, oidc_client_id, oidc_client_secret_env, oidc_role_claim, oidc_role_map,
                        public_url)
    config = ServerConfig(home=home, state_url=state_url, audit_url=audit_url, keys_url=keys_url,
                          policy_file=policy_file, workspace=str(home), oidc=oidc)
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
            "policy_file": policy_file, "workspace": str(home),
            "oidc": {**oidc.to_json(), "secret_env": oidc_client_secret_env} if oidc else None})
        uvicorn.run("warden.server.app:app_from_env", factory=True, workers=workers, host=host, port=int(port),
                    log_level="warning", access_log=False)
        return
    uvicorn.run(served_app(config), host=host, port=int(port), log_level="warning", access_log=False)


@server.command("rotate-bundle-key")
@json_option
def rotate_bundle_key(as_json: bool) -> None:
    """Replace the key that signs policy bundles; clients follow the hand-over by themselves.

    \b
      WARDEN_HOME=/srv/warden warden server rotate-bundle-key     # on the server host, its $WARDEN_HOME
    \b
    Makes a new Ed25519 key, keeps the old one as bundle-signing.key.retired-<key id>, and appends to
    bundle-key-chain.json a statement signed by the OLD key: "key K1 hands over to K2 at T". Running
    servers pick the new key up at their next request (no restart). GET /v1/policy/key publishes the
    current key and the whole chain; a client pinned to K1 that gets a bundle signed by K2 verifies
    each statement from its pin onwards and re-pins to K2 (server.json). A bundle signed by a key
    with no verified chain from the pin is refused, so replacing the key file by hand strands every
    client: rotate with this command instead. Replicas must share these files (a secret mount).
    Admins can do the same over HTTP: POST /v1/policy/key/rotate.
    """
    from warden.server.bundle import KEY_FILE, BundleSigner

    home = _home()
    if not (home / KEY_FILE).exists():
        fail(f"there is no {KEY_FILE} in {home}, so there is nothing to rotate",
             "run this on the server host with the server's $WARDEN_HOME (the key is made when the server first starts)")
    signer = BundleSigner(home)
    old = signer.key_id
    statement = signer.rotate()
    if as_json:
        emit_json({"rotated": {"from": old, "to": signer.key_id}, "statement": statement,
                   "retired": signer.retired()})
    else:
        click.echo(f"bundle-signing key rotated: {old} hands over to {signer.key_id} "
                   f"(statement signed by {old}, chain of {len(signer.public()['chain'])} in "
                   f"{home / 'bundle-key-chain.json'}); the old key is kept as retired")


def _oidc_config(issuer: str | None, client_id: str | None, secret_env: str | None, role_claim: str, role_map: str,
                 public_url: str) -> OIDCConfig | None:
    from warden.server.oidc import OIDCConfig, parse_role_map

    if not (issuer or client_id or secret_env):
        return None
    if not (issuer and client_id and secret_env):
        fail("OIDC needs all three: --oidc-issuer, --oidc-client-id and --oidc-client-secret-env")
    secret = os.environ.get(secret_env or "", "")
    if not secret:
        fail(f"--oidc-client-secret-env {secret_env}: that variable is empty or unset",
             f"export {secret_env}=<the client secret the provider issued>")
    try:
        return OIDCConfig(issuer=issuer or "", client_id=client_id or "", client_secret=secret, role_claim=role_claim,
                          role_map=parse_role_map(role_map), public_url=public_url)
    except ValueError as exc:
        fail(str(exc))
    return None


@click.command("login")
@click.argument("server_url", required=False)
@click.option("--key", envvar="WARDEN_SERVER_KEY", help="This machine's key (wk_...).")
@click.option("--refresh", is_flag=True, help="Pull the policy bundle again from the server logged in to.")
@click.option("--machine", default=None, metavar="NAME", help="This machine's name in the central evidence store "
              "(default: the host name; kept across logins).")
@json_option
def login(server_url: str | None, key: str | None, refresh: bool, machine: str | None, as_json: bool) -> None:
    """Point this machine at a team server and pull its signed policy bundle.

    \b
      warden login https://warden.example.com --key wk_...   # check the key, pin the server's signing key
      warden login --refresh                                # pull the bundle again (e.g. from cron)
    \b
    The key and the server's bundle-signing key are stored in $WARDEN_HOME/server.json (0600); the
    signing key is pinned on the first login to a server. The bundle is verified against that pin
    (or against a key the pin hands over to through the server's signed rotation chain, which then
    becomes the pin), refused if it is older than the one accepted before, and cached as
    $WARDEN_HOME/server-bundle.json plus $WARDEN_HOME/server-managed.yaml, the managed policy layer,
    which keeps working offline. Every policy load re-checks the three files against each other: a
    hand-edited or swapped managed policy denies everything until `warden login --refresh`.
    A bundle that does not verify is refused and the cached one kept.
    """
    from dataclasses import asdict

    from warden.integrations.server_client.bundle import BundleError, pull
    from warden.integrations.server_client.config import NotLoggedIn, ServerLink, default_machine, load

    home = _home()
    try:
        saved = load(home)
    except NotLoggedIn as exc:
        if refresh:
            fail(str(exc))
        saved = None
    if refresh:
        if saved is None:
            fail("not logged in to a server", "warden login URL --key wk_...")
            return
        link = saved
    else:
        if not server_url or not key:
            fail("name the server and this machine's key", "warden login URL --key wk_... (or warden login --refresh)")
        url = (server_url or "").rstrip("/")
        same = saved if saved is not None and saved.url == url else None
        link = ServerLink(url=url, key=key or "", bundle_key=same.bundle_key if same else "",
                          machine=(saved.machine if saved else "") or default_machine(),
                          bundle_version=same.bundle_version if same else "",
                          bundle_issued_at=same.bundle_issued_at if same else 0)
    if machine:
        link.machine = machine
    kills = len(_get(link.url, "/v1/kills", link.key).json())
    if not link.bundle_key:  # first login to this server: pin its signing key (trust on first use)
        link.bundle_key = str(_get(link.url, "/v1/policy/key", link.key).json().get("public_key", ""))
    try:
        bundle = pull(link, home)
    except BundleError as exc:
        fail(exc.message, exc.hint)
    if as_json:
        emit_json({"ok": True, "server": link.url, "kills": kills, "bundle": asdict(bundle)})
    else:
        rotated = f"; the server's signing key was rotated: now pinned to {bundle.key_id}" if bundle.repinned else ""
        click.echo(f"logged in to {link.url}; kills in force there: {kills}; managed policy version {bundle.version} "
                   f"({'changed' if bundle.changed else 'unchanged'}) in {bundle.path}{rotated}")
        click.echo("the link to the server (kill switches, approvals, evidence) starts with the warm hook daemon on "
                   "the next agent action; on a machine without agents run `warden sync --follow` as a service")


def _get(url: str, route: str, key: str) -> httpx.Response:
    import httpx

    try:
        r = httpx.get(url + route, headers={"authorization": f"Bearer {key}"}, timeout=10)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {url}: {exc}", "check the URL and that the server runs; the cached policy stays in use")
    if r.status_code != 200:
        fail(f"the server refused the key ({r.status_code}): {r.text[:200]}", "ask an admin for an agent key")
    return r

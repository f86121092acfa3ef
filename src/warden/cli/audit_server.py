"""The team server's side of ``warden audit``: ``verify --server`` and ``evidence --server`` (uses server.json)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import httpx

from warden.integrations.server_client.config import ServerLink, load, write_private

PIN_FILE = "server-audit-key.json"  # the server's audit-signing key, pinned on first use (TOFU)


class ServerEvidenceError(click.ClickException):
    exit_code = 2


def _link(home: Path) -> ServerLink:
    from warden.integrations.server_client.config import NotLoggedIn

    try:
        link = load(home)
    except NotLoggedIn as exc:
        raise ServerEvidenceError(str(exc)) from None
    if link is None:
        raise ServerEvidenceError(f"this machine is not logged in to a team server ({home / 'server.json'} is "
                                  "missing): warden login URL --key wk_...")
    return link


def _get(link: ServerLink, route: str, timeout: float = 300.0) -> httpx.Response:
    try:
        r = httpx.get(link.url + route, headers=link.headers(), timeout=timeout)
    except httpx.HTTPError as exc:
        raise ServerEvidenceError(f"cannot reach {link.url} ({type(exc).__name__}: {exc}); check that the server "
                                  "runs and the URL in server.json") from None
    if r.status_code != 200:
        try:
            why = r.json().get("error", r.text[:300])
        except ValueError:
            why = r.text[:300]
        raise ServerEvidenceError(f"the server answered {r.status_code}: {why}")
    return r


def pinned_server_key(home: Path, link: ServerLink) -> str:
    """The server's audit-signing public key: pinned on first use; a different one later is refused."""
    current = str(_get(link, "/v1/evidence/key", timeout=30).json().get("public_key", ""))
    path = home / PIN_FILE
    try:
        pins = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pins = {}
    pinned = pins.get(link.url) if isinstance(pins, dict) else None
    if pinned and pinned != current:
        raise ServerEvidenceError(f"{link.url} now signs its evidence with another key ({current[:16]}…) than the one "
                                  f"pinned in {path} ({pinned[:16]}…); refused. If the server's audit key was "
                                  f"replaced on purpose, remove its entry from {path}")
    if not pinned:
        write_private(path, json.dumps({**(pins if isinstance(pins, dict) else {}), link.url: current}))
    return current


def pinned_keys(home: Path) -> list[str]:
    try:
        pins = json.loads((home / PIN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(v) for v in pins.values()] if isinstance(pins, dict) else []


def verify_server(home: Path, environ: Mapping[str, str], as_json: bool) -> int:
    """Ask the server to verify everything it holds, then compare this machine's chain with the server's copy."""
    from warden.integrations.server_client.outbox import local_hash, open_local, pending

    link = _link(home)
    report = _get(link, "/v1/evidence/verify?" + str(httpx.QueryParams({"machine": link.machine}))).json()
    mine = [m for m in report.get("machines", []) if m.get("machine") == link.machine]
    current = max(mine, key=lambda m: int(m.get("epoch", 0)), default=None)
    local: dict[str, Any] = {"machine": link.machine, "pending": pending(home, environ)}
    match: bool | None = None
    if current is not None:
        head = current["head"]
        store = open_local(home, environ)
        try:
            have = local_hash(store, int(head["seq"])) if store is not None else None
        finally:
            if store is not None:
                store.close()
        match = have == head["hash"]
        local.update(server_head={**head, "epoch": current["epoch"]}, local_hash=have, match=match)
    ok = bool(report.get("ok")) and match is not False
    if as_json:
        click.echo(json.dumps({"ok": ok, "server": report, "local": local}, indent=2))
        return 0 if ok else 1
    _print(link, report, local, match)
    return 0 if ok else 1


def _print(link: ServerLink, report: dict[str, Any], local: dict[str, Any], match: bool | None) -> None:
    central = report.get("central") or {}
    cp = report.get("checkpoint") or {}
    state = "OK" if central.get("ok") else f"BROKEN ({(central.get('broken') or {}).get('message', '')})"
    click.echo(f"{link.url} central log: {state}: {central.get('events', 0)} events (seq {central.get('first_seq')}.."
               f"{central.get('last_seq')}), {central.get('checkpoints_checked', 0)} checkpoints; signed head seq "
               f"{cp.get('seq')} by key {str(cp.get('public_key', ''))[:16]}…")
    for m in report.get("machines", []):
        v = m.get("verified") or {}
        state = "OK" if m.get("ok") else "BROKEN: " + "; ".join(
            [*(m.get("problems") or []), *([v["broken"]["message"]] if v.get("broken") else [])])
        click.echo(f"machine {m['machine']} (epoch {m['epoch']}{', closed' if m.get('closed') else ''}): {state}: "
                   f"{m['records']} records, {v.get('checkpoints_checked', 0)} signed checkpoints")
    if match is None:
        click.echo(f"this machine ({link.machine}): the server holds no chain for it yet; "
                   f"{local['pending']} event(s) wait to ship")
    elif match:
        click.echo(f"this machine ({link.machine}): the server's copy matches the local log at seq "
                   f"{local['server_head']['seq']}; {local['pending']} event(s) wait to ship")
    else:
        click.echo(f"this machine ({link.machine}): MISMATCH: the server holds seq {local['server_head']['seq']} with "
                   f"hash {local['server_head']['hash'][:16]}…, the local log "
                   f"{str(local.get('local_hash') or 'has no such record')[:16]}", err=True)


def download_pack(home: Path, session: str, out: Path) -> str:
    """Fetch one session's central evidence pack into ``out``; returns the pinned key that must have signed it."""
    link = _link(home)
    key = pinned_server_key(home, link)
    r = _get(link, "/v1/evidence/pack?" + str(httpx.QueryParams({"session": session})))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(r.content)
    tmp.replace(out)
    return key

"""Pull the team server's signed policy bundle, check it, and cache it as this machine's managed layer.

``warden login`` calls :func:`pull` once; the link loop calls it every minute and whenever the server
says its policy version changed. A bundle is taken only when

* its signature verifies against the key pinned in server.json, or against a key the pin hands over to
  through the server's chain of rotation statements (each checked with the key before it); the pin then
  moves to the new key;
* it is not older than what this machine accepted last (a replayed or rolled-back bundle is refused).

Anything else raises :class:`BundleError` and leaves the cached files as they were, so the machine keeps
deciding with the last good policy. The files are written under the lock the load-time check waits on
(:mod:`warden.adapters.server_bundle`), which re-verifies them before every policy load.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from warden.adapters.server_bundle import BUNDLE, MANAGED, exclusive
from warden.core.bundle import Accepted, BundleInvalid, Downgrade, follow_chain, judge, key_id_b64, verify
from warden.integrations.server_client.config import ServerLink, load, save, write_private

__all__ = ["BundleError", "BundleResult", "pull"]


@dataclass(frozen=True)
class BundleResult:
    version: str
    issued_at: int
    changed: bool  # a new policy version was written
    path: str  # the managed layer ($WARDEN_HOME/server-managed.yaml)
    key_id: str = ""  # the key that signed it
    repinned: bool = False  # the pin followed the server's key rotation to key_id


class BundleError(Exception):
    """The bundle was not taken (server unreachable, or the bundle refused); the cached one is kept."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def pull(link: ServerLink, home: Path, *, client: httpx.Client | None = None) -> BundleResult:
    """Fetch, verify and cache the server's bundle; ``link`` is updated in place (pin, accepted version)
    and saved to server.json."""
    http = client or httpx.Client(timeout=10)
    try:
        return _pull(link, home, http)
    finally:
        if client is None:
            http.close()


def _get(http: httpx.Client, link: ServerLink, route: str) -> Any:
    try:
        r = http.get(link.url + route, headers=link.headers())
    except httpx.HTTPError as exc:
        raise BundleError(f"cannot reach {link.url}: {exc}",
                          "check the URL and that the server runs; the cached policy stays in use") from None
    if r.status_code != 200:
        hint = ("ask an admin for an agent key: warden login URL --key wk_..." if r.status_code in (401, 403)
                else "the cached policy stays in use; try again later")
        raise BundleError(f"the server answered {route} with {r.status_code}: {r.text[:200]}", hint)
    try:
        return r.json()
    except ValueError:
        raise BundleError(f"the server's answer to {route} is not JSON", "check that the URL is a Warden server") \
            from None


def _pull(link: ServerLink, home: Path, http: httpx.Client) -> BundleResult:
    saved = _saved(home)
    if saved is not None and saved.url == link.url:
        # what the load-time check compares against: the pin and high-water mark on disk win
        link.bundle_key = saved.bundle_key or link.bundle_key
        link.bundle_version, link.bundle_issued_at = saved.bundle_version, saved.bundle_issued_at
    if not link.bundle_key:
        raise BundleError(f"no signing key of {link.url} is pinned on this machine",
                          f"log in: warden login {link.url} --key wk_...")
    cached = home / MANAGED
    kept = f"the cached policy ({cached}) is kept" if cached.exists() else "no managed policy is cached"
    signed = _get(http, link, "/v1/policy/bundle")
    try:
        signer = str(signed.get("key_id", "")) if isinstance(signed, dict) else ""
        key = link.bundle_key
        if signer and signer != key_id_b64(key):  # a rotation: follow the chain from the pin, or refuse
            published = _get(http, link, "/v1/policy/key")
            chain = published.get("chain") if isinstance(published, dict) else None
            key = follow_chain(key, chain if isinstance(chain, list) else [], signer)
        body = verify(signed, key)
        changed = judge(body, Accepted(link.bundle_version, link.bundle_issued_at))
    except Downgrade as exc:
        raise BundleError(f"refused the server's policy bundle: {exc}; {kept}",
                          "if the server was restored from an old backup or its clock was set back, publish the "
                          "policy again there (any edit gives it a new time)") from None
    except BundleInvalid as exc:
        raise BundleError(f"refused the server's policy bundle: {exc}; {kept}",
                          "if the server's signing key was replaced on purpose without `warden server "
                          "rotate-bundle-key`, remove bundle_key from $WARDEN_HOME/server.json and log in again") \
            from None
    repinned = key != link.bundle_key
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with exclusive(home):
        _write_if_different(cached, body["policy"] if body["policy"].strip() else None)
        if changed or not _cached_bundle_ok(home / BUNDLE, key, body["version"]):
            write_private(home / BUNDLE, json.dumps(signed))
        link.bundle_key = key
        link.bundle_version = body["version"]
        link.bundle_issued_at = max(link.bundle_issued_at, body["issued_at"])
        save(home, link)
    return BundleResult(version=body["version"], issued_at=body["issued_at"], changed=changed, path=str(cached),
                        key_id=key_id_b64(key), repinned=repinned)


def _saved(home: Path) -> ServerLink | None:
    try:
        return load(home)
    except Exception:  # noqa: BLE001 — an unreadable server.json is rewritten by this pull
        return None


def _write_if_different(path: Path, text: str | None) -> None:
    """Only real changes touch the file: a rewrite would change its ctime and cost every reader one
    signature check. None: the server publishes no policy, so there is no managed file."""
    try:
        current: str | None = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        current = None
    if text is None:
        if os.path.lexists(path):
            path.unlink()
    elif current != text:
        write_private(path, text)


def _cached_bundle_ok(path: Path, key: str, version: str) -> bool:
    try:
        return verify(json.loads(path.read_text(encoding="utf-8")), key)["version"] == version
    except (OSError, ValueError):
        return False

"""Tool-definition pinning: a keyed digest per tool, per server identity, approved by a human.

A server identity is its name plus a digest of where it comes from (the command line of a stdio
server, the URL of an HTTP one), so a different program under a familiar name starts from nothing.
A pin is HMAC-SHA256 (key ``$WARDEN_HOME/keys/mcp-pins.key``) over the canonical JSON of the fields
that reach the model or steer the client: name, title, description, inputSchema, outputSchema,
annotations. Anything else (icons, ``_meta``, execution hints) may change freely.

Tools that are new, changed or renamed (same definition, new name) are *pending*: hidden from lists
and refused on call until ``warden mcp pins approve``. The store is one JSON file, updated under an
exclusive lock so several proxies and the CLI can share it.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PINNED_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
FIRST_USE = "first-use"


def canonical(definition: Mapping[str, Any], *, without_name: bool = False) -> str:
    picked = {k: definition[k] for k in PINNED_FIELDS if k in definition and not (without_name and k == "name")}
    return json.dumps(picked, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(key: bytes, definition: Mapping[str, Any], *, without_name: bool = False) -> str:
    return hmac.new(key, canonical(definition, without_name=without_name).encode(), hashlib.sha256).hexdigest()


def server_identity(name: str, origin: list[str] | str) -> str:
    """``name@<12 hex>``: the same name from a different command or URL is another server."""
    blob = json.dumps(origin if isinstance(origin, str) else list(origin), separators=(",", ":"))
    return f"{name}@{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def readable_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str:
    """A unified diff of the pinned fields, pretty-printed, for a human deciding on approval."""
    def lines(d: Mapping[str, Any] | None) -> list[str]:
        if d is None:
            return []
        picked = {k: d[k] for k in PINNED_FIELDS if k in d}
        return json.dumps(picked, indent=2, sort_keys=True, ensure_ascii=True).splitlines()

    out = difflib.unified_diff(lines(old), lines(new), "pinned", "offered", lineterm="", n=2)
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class PinStatus:
    state: str  # pinned | new | changed | renamed
    digest: str
    previous: Mapping[str, Any] | None = None  # the pinned definition it replaces (changed/renamed)
    renamed_from: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "pinned"


class PinFile:
    """The pins of every server, in ``$WARDEN_HOME/mcp/pins.json``."""

    def __init__(self, warden_home: str | os.PathLike[str], key: bytes | None = None) -> None:
        self.home = Path(warden_home)
        self.path = self.home / "mcp" / "pins.json"
        self._key = key

    @property
    def key(self) -> bytes:
        if self._key is None:
            from warden.adapters.keys import load_or_create_key

            self._key = load_or_create_key(self.home, "mcp-pins")
        return self._key

    # -- storage ---------------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"version": 1, "servers": {}}
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"the pin file {self.path} is unreadable ({exc}); move it away and approve again") from None
        if not isinstance(data, dict) or not isinstance(data.get("servers"), dict):
            raise RuntimeError(f"the pin file {self.path} is not a pin file; move it away and approve again")
        return data

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.read()
            before = json.dumps(data, sort_keys=True)
            yield data
            if json.dumps(data, sort_keys=True) != before:
                tmp = self.path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
                os.replace(tmp, self.path)

    # -- the proxy's side -------------------------------------------------------------------
    def check(self, identity: str, server: str, tools: Sequence[Mapping[str, Any]], *, approve_first: bool = False,
              session: str = "", now: float | None = None) -> tuple[dict[str, PinStatus], list[dict[str, Any]]]:
        """Status per tool name, and the audit-worthy changes this listing caused (new pending, first-use pins)."""
        now = time.time() if now is None else now
        key = self.key
        statuses: dict[str, PinStatus] = {}
        changes: list[dict[str, Any]] = []
        with self._locked() as data:
            entry = data["servers"].get(identity)
            if entry is None:
                entry = data["servers"][identity] = {"name": server, "tools": {}, "pending": {},
                                                     "first_session": session}
            # trust on first use covers the pages of the first listing in the session that first saw the
            # server, and only names never pinned: a changed definition is never approved by itself
            first = approve_first and bool(session) and entry.get("first_session") == session
            pinned: dict[str, Any] = entry["tools"]
            pending: dict[str, Any] = entry["pending"]
            by_body = {p.get("body", ""): n for n, p in pinned.items()}
            offered = {str(t["name"]) for t in tools}
            for tool in tools:
                name = str(tool["name"])
                d = digest(key, tool)
                pin = pinned.get(name)
                if pin is not None and hmac.compare_digest(pin["digest"], d):
                    statuses[name] = PinStatus("pinned", d)
                    continue
                if first and pin is None:
                    pinned[name] = _pin(tool, d, digest(key, tool, without_name=True), FIRST_USE, now)
                    statuses[name] = PinStatus("pinned", d)
                    changes.append({"what": "pin.approved", "tool": name, "digest": d, "by": FIRST_USE})
                    continue
                body = digest(key, tool, without_name=True)
                old_name = by_body.get(body, "") if pin is None else ""
                if old_name and old_name in offered:
                    old_name = ""  # a copy under a new name, not a rename
                state = "changed" if pin is not None else ("renamed" if old_name else "new")
                previous = (pin or pinned.get(old_name) or {}).get("definition")
                status = PinStatus(state, d, previous, old_name)
                statuses[name] = status
                if pending.get(name, {}).get("digest") != d:
                    pending[name] = {"digest": d, "state": state, "definition": dict(tool), "seen_at": now,
                                     "renamed_from": old_name}
                    changes.append({"what": "pin.quarantined", "tool": name, "state": state, "digest": d,
                                    "renamed_from": old_name, "diff": readable_diff(previous, tool)})
        return statuses, changes

    # -- the CLI's side ---------------------------------------------------------------------
    def servers(self) -> dict[str, Any]:
        return self.read()["servers"]

    def resolve(self, server: str) -> list[str]:
        """Identities matching a server name or identity (a name may have several origins)."""
        servers = self.servers()
        if server in servers:
            return [server]
        return [ident for ident, e in servers.items() if e.get("name") == server]

    def approve(self, server: str, tools: list[str] | None, *, by: str, now: float | None = None
                ) -> list[dict[str, Any]]:
        """Move pending definitions to pins; ``tools=None`` approves every pending one."""
        now = time.time() if now is None else now
        approved: list[dict[str, Any]] = []
        idents = self.resolve(server)
        if not idents:
            raise KeyError(f"no MCP server {server!r} has been seen yet; run the client once so its tools are listed")
        key = self.key
        with self._locked() as data:
            for ident in idents:
                entry = data["servers"][ident]
                for name in list(entry["pending"]):
                    if tools is not None and name not in tools:
                        continue
                    p = entry["pending"].pop(name)
                    tool = p["definition"]
                    previous = entry["tools"].get(name, {}).get("definition")
                    if p.get("renamed_from"):
                        previous = entry["tools"].pop(p["renamed_from"], {}).get("definition")
                    entry["tools"][name] = _pin(tool, p["digest"], digest(key, tool, without_name=True), by, now)
                    approved.append({"identity": ident, "tool": name, "state": p.get("state", "new"),
                                     "digest": p["digest"], "diff": readable_diff(previous, tool),
                                     "renamed_from": p.get("renamed_from", "")})
        if tools is not None:
            missing = set(tools) - {a["tool"] for a in approved}
            if missing:
                raise KeyError(f"nothing pending for {sorted(missing)} on {server!r}; see `warden mcp pins list`")
        return approved

    def reset(self, server: str) -> list[str]:
        idents = self.resolve(server)
        with self._locked() as data:
            for ident in idents:
                data["servers"].pop(ident, None)
        return idents


def _pin(tool: Mapping[str, Any], d: str, body: str, by: str, now: float) -> dict[str, Any]:
    return {"digest": d, "body": body, "definition": dict(tool), "approved_by": by, "approved_at": now}

"""``$WARDEN_HOME/server.json``: which team server this machine belongs to (written 0600 by ``warden login``)."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

FILE = "server.json"


class NotLoggedIn(Exception):
    """No server.json, or one that cannot be used."""


@dataclass
class ServerLink:
    url: str  # no trailing slash
    key: str  # this machine's agent key (wk_...)
    bundle_key: str = ""  # the server's bundle-signing public key (base64), pinned at first login
    machine: str = ""  # this machine's name in the central store (default: the host name)
    # the bundle accepted last: an older one is refused (downgrade), and the cached one must be this one
    bundle_version: str = ""
    bundle_issued_at: int = 0

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key}"}


def path(home: Path) -> Path:
    return home / FILE


def load(home: Path) -> ServerLink | None:
    """The saved link, None when this machine never logged in; NotLoggedIn when the file is unusable."""
    p = path(home)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise NotLoggedIn(f"{p} cannot be read ({exc}); log in again: warden login URL --key wk_...") from None
    if not isinstance(raw, dict) or not raw.get("url") or not raw.get("key"):
        raise NotLoggedIn(f"{p} has no server URL or key; log in again: warden login URL --key wk_...")
    issued = raw.get("bundle_issued_at")
    return ServerLink(url=str(raw["url"]).rstrip("/"), key=str(raw["key"]), bundle_key=str(raw.get("bundle_key", "")),
                      machine=str(raw.get("machine") or default_machine()),
                      bundle_version=str(raw.get("bundle_version") or ""),
                      bundle_issued_at=issued if isinstance(issued, int) and not isinstance(issued, bool) else 0)


def save(home: Path, link: ServerLink) -> None:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path(home), json.dumps(asdict(link)))


def default_machine() -> str:
    return socket.gethostname() or "unnamed"


def write_private(p: Path, text: str) -> None:
    """Atomically, 0600: a reader never sees half a file."""
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, p)

"""One-time grants: a command the hook already judged ``ask`` runs under ``warden exec`` once approved.

In Claude Code sandbox mode the hook rewrites a Bash command to run under ``warden exec``, which
decides again. An ``ask`` there would be refused (no human at a terminal), although the human has
just approved it in Claude Code's own prompt. So the hook leaves a grant for that exact command
text: a random token naming a file under ``$WARDEN_HOME/grants`` (hidden from the sandbox and
guarded by the policy), valid for :data:`TTL` seconds, used at most once, and only for a command
whose SHA-256 matches. A ``deny`` never gets a grant.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from pathlib import Path

TTL = 900.0  # seconds: how long a Claude Code permission prompt may reasonably stay open


def _dir(home: Path) -> Path:
    return home / "grants"


def _digest(command: str) -> str:
    return hashlib.sha256(command.encode("utf-8", "surrogatepass")).hexdigest()


def issue(home: Path, command: str, decision_id: str = "", now: float | None = None) -> str:
    where = _dir(home)
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_hex(16)
    body = {"sha256": _digest(command), "decision_id": decision_id,
            "expires": (time.time() if now is None else now) + TTL}
    fd = os.open(where / f"{token}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(body, fh)
    return token


def redeem(home: Path, token: str, command: str, now: float | None = None) -> str | None:
    """The decision id the grant was issued for, or None (unknown, used, expired, other command).

    The file is renamed away before it is read, so two runs cannot both use one grant."""
    if not token or not all(c in "0123456789abcdef" for c in token) or len(token) != 32:
        return None
    path = _dir(home) / f"{token}.json"
    claimed = path.with_suffix(".used")
    try:
        os.rename(path, claimed)
    except OSError:
        return None
    try:
        body = json.loads(claimed.read_text())
    except (OSError, ValueError):
        return None
    finally:
        claimed.unlink(missing_ok=True)
    if body.get("sha256") != _digest(command):
        return None
    if float(body.get("expires", 0)) < (time.time() if now is None else now):
        return None
    return str(body.get("decision_id", ""))

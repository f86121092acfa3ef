"""The user's trust in project policy files, by content digest (like direnv's ``allow``).

``$WARDEN_HOME/trust.json`` maps a policy file's real path to the SHA-256 of the text the user
reviewed. A file is trusted only while its text still has that digest: any edit (a ``git pull``
that changes ``warden.yaml``) makes its loosening inert again until ``warden trust`` is re-run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STORE = "trust.json"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _store(home: Path) -> Path:
    return home / STORE


def load(home: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(_store(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no store, or a broken one: nothing is trusted (fail closed)
    files = data.get("files") if isinstance(data, dict) else None
    return {k: v for k, v in (files or {}).items() if isinstance(v, dict)} if isinstance(files, dict) else {}


def _save(home: Path, files: dict[str, dict[str, Any]]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=home, prefix=".trust-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"version": 1, "files": files}, fh, indent=2, sort_keys=True)
    os.replace(tmp, _store(home))


def key(path: str) -> str:
    return os.path.realpath(path)


def status(home: Path, path: str, text: str) -> str:
    """``trusted``, ``changed`` (trusted once, edited since) or ``untrusted``."""
    entry = load(home).get(key(path))
    if entry is None:
        return "untrusted"
    return "trusted" if entry.get("sha256") == digest(text) else "changed"


def trust(home: Path, path: str, text: str) -> dict[str, Any]:
    files = load(home)
    entry = {"sha256": digest(text), "trusted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    files[key(path)] = entry
    _save(home, files)
    return {"path": key(path), **entry}


def revoke(home: Path, path: str) -> bool:
    files = load(home)
    if files.pop(key(path), None) is None:
        return False
    _save(home, files)
    return True


def trusted_paths(sources: Iterable[tuple[str, str, str]], home: Path, explicit: str | None) -> frozenset[str]:
    """Project sources the user trusts: one named explicitly (``--policy``, ``$WARDEN_POLICY``) or one
    whose current text is the text they trusted."""
    files = load(home)
    out = set()
    for layer, path, text in sources:
        if layer != "project":
            continue
        if (explicit and path == str(Path(explicit))) or (files.get(key(path)) or {}).get("sha256") == digest(text):
            out.add(path)
    return frozenset(out)

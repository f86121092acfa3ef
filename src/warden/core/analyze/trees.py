"""Grep, Glob and LS judged by the tree they cover, not the path string they name.

A search over ``~`` or ``/`` reaches every credential store below it (the one catalogue in
``warden.core.credentials`` says which). Grep reads file contents: over such a tree it is
``secret.bulk_read`` (ask), and it is ``secret.read`` (deny) when it hunts for credentials — a
pattern naming passwords, tokens, keys or private-key headers, or a ``glob`` that selects
credential files (``.env*``, ``*.pem``, ``id_*``). Glob and LS only list names: over a
credential tree, or inside a credential location, that is ``secret.tree_list`` (ask).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warden.core.analyze import AnalysisEnv
from warden.core.analyze.paths import bulk_read_facts, credentials_under, has_glob, secret_kind
from warden.core.facts import Fact, PathRef

HUNT_WORDS = ("password", "passwd", "secret", "token", "api_key", "apikey", "api-key", "private key", "private_key",
              "credential", "bearer", "aws_access_key", "aws_secret", "ghp_", "github_pat", "akia", "xox", "sk-",
              "-----begin", "begin rsa", "begin openssh", "begin ec", "begin pgp", "client_secret", "auth_token")


def hunts_credentials(pattern: str) -> bool:
    p = pattern.lower().replace("\\", "")
    return any(w in p for w in HUNT_WORDS)


def selects_credential_files(glob: str, env: AnalysisEnv) -> bool:
    base = glob.rstrip("/").rsplit("/", 1)[-1]
    if not base:
        return False
    return any(secret_kind("/x/" + base.replace("*", fill).replace("?", "a"), env)
               for fill in ("", "rsa", "x"))


def _head(pattern: str) -> str:
    """The literal directory a glob pattern starts from."""
    parts = []
    for part in pattern.split("/"):
        if has_glob(part):
            break
        parts.append(part)
    return "/".join(parts) or ("/" if pattern.startswith("/") else ".")


def search_facts(tool: str, data: Mapping[str, Any], ref: PathRef, env: AnalysisEnv) -> list[Fact]:
    facts: list[Fact] = []
    tree = credentials_under(ref.path, env)
    in_store = bool(secret_kind(ref.path, env))
    if tool == "Grep":
        bulk = bulk_read_facts(ref, env)
        facts.extend(bulk)
        glob = str(data.get("glob") or "")
        if (bulk or in_store) and hunts_credentials(str(data.get("pattern") or "")):
            facts.append(Fact("secret.read", f"searches {ref.path}, which holds credential locations"
                              f"{' (' + tree + ')' if tree else ''}, for credentials", {"path": ref.path}))
        elif bulk and glob and selects_credential_files(glob, env):
            facts.append(Fact("secret.read", f"reads the credential files `{glob}` selects under {ref.path}",
                              {"path": ref.path}))
    elif tool in ("Glob", "LS"):
        if tree or in_store:
            what = tree or ref.path
            facts.append(Fact("secret.tree_list", f"lists the names under {ref.path}, which holds credential "
                              f"locations ({what})", {"path": ref.path}))
    return facts


def glob_root(data: Mapping[str, Any], cwd: str) -> str:
    """The directory a Glob call really starts from: ``path`` joined with the pattern's literal head."""
    pattern = str(data.get("pattern") or "")
    base = str(data.get("path") or cwd or ".")
    head = _head(pattern)
    if pattern.startswith(("/", "~")):
        return head
    if head in (".", ""):
        return base
    return base.rstrip("/") + "/" + head

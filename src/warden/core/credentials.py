"""The one credential-location catalogue (``credentials.json``) and the questions asked of it.

Four controls used to keep their own lists and drifted apart (the sandbox showed 25 of 37 common
credential files that the policy denied): the policy's ``secret.read`` facts
(:mod:`warden.core.analyze.paths`), the Read/Grep/Glob/LS checks, the sandbox masks
(:mod:`warden.adapters.exec.mounts`) and the environment scrub (:mod:`warden.adapters.exec.env`).
All four now read this catalogue, so adding a location is one line of data.

The data file ships inside the package and is read through the module's own loader: no ``os``
and no user file is touched, so ``core`` stays free of I/O. JSON rather than YAML because the
lean hook and ``warden exec`` clients load it and cannot afford PyYAML's import (~50 ms).

Questions answered here are lexical (no file system): paths must already be absolute and
normalised; ``home`` is the user's home directory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = ["Catalogue", "EnvFile", "Location", "catalogue", "credential_env_files", "credential_locations_under",
           "credential_variables",
           "tree_holds_credentials"]

# Where other users' home directories live: a tree at or above one holds their credentials too.
HOME_PARENTS = ("/home", "/Users")


# NamedTuples, not dataclasses: ten times cheaper to define, and `warden exec` imports this module.
class Location(NamedTuple):
    path: str  # relative to $HOME for home entries, absolute (may hold one ``*`` component) for system ones
    what: str
    is_dir: bool = False  # a directory (masked as an empty tmpfs) rather than one file
    public: tuple[str, ...] = ()  # basenames (or suffixes starting with '.') inside that are not secret


class EnvFile(NamedTuple):
    var: str  # an environment variable that names a credential file or directory
    what: str
    is_list: bool = False  # a ':'-separated list (KUBECONFIG)
    within: tuple[str, ...] = ()  # when the variable names a directory: the credential files in it


class EnvNames(NamedTuple):
    parts: tuple[str, ...]
    suffixes: tuple[str, ...]
    prefixes: tuple[str, ...]
    exact: frozenset[str]
    ok: frozenset[str]


class Catalogue(NamedTuple):
    home: tuple[Location, ...]
    system: tuple[Location, ...]
    names: frozenset[str]  # basenames that hold credentials wherever they are
    env_prefix: str  # ``.env``: ``.env.<anything>`` is a credential file unless it ends with a template suffix
    env_templates: tuple[str, ...]
    suffixes: tuple[str, ...]
    public_hints: tuple[str, ...]
    env_files: tuple[EnvFile, ...]
    env_names: EnvNames

    @property
    def home_paths(self) -> tuple[str, ...]:
        return tuple(loc.path for loc in self.home)

    @property
    def system_paths(self) -> tuple[str, ...]:
        """The literal (wildcard-free) system locations."""
        return tuple(loc.path for loc in self.system if "*" not in loc.path)

    @property
    def system_patterns(self) -> tuple[str, ...]:
        return tuple(loc.path for loc in self.system if "*" in loc.path)

    def is_env_file_name(self, base: str) -> bool:
        """``.env``, ``.env.local``, ``.env.production``...; not ``.env.example`` and friends."""
        if base == self.env_prefix:
            return True
        return base.startswith(self.env_prefix + ".") and not base.endswith(self.env_templates)


def _parse(raw: Mapping[str, Any]) -> Catalogue:
    def loc(e: Mapping[str, Any]) -> Location:
        return Location(path=str(e["path"]), what=str(e["what"]), is_dir=bool(e.get("dir", False)),
                        public=tuple(e.get("public", ())))

    names = raw["env_names"]
    return Catalogue(
        home=tuple(loc(e) for e in raw["home"]),
        system=tuple(loc(e) for e in raw["system"]),
        names=frozenset(raw["names"]),
        env_prefix=str(raw["env_prefix_names"]),
        env_templates=tuple(raw["env_templates"]),
        suffixes=tuple(raw["suffixes"]),
        public_hints=tuple(raw["public_hints"]),
        env_files=tuple(EnvFile(var=str(e["var"]), what=str(e["what"]), is_list=bool(e.get("list", False)),
                                within=tuple(e.get("within", ()))) for e in raw["env_files"]),
        env_names=EnvNames(parts=tuple(names["parts"]), suffixes=tuple(names["suffixes"]),
                           prefixes=tuple(names["prefixes"]), exact=frozenset(names["exact"]),
                           ok=frozenset(names["ok"])),
    )


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The packaged catalogue, parsed once per process."""
    loader = __spec__.loader  # type: ignore[name-defined]
    data = loader.get_data(__file__.rpartition("/")[0] + "/credentials.json")  # type: ignore[union-attr]
    return _parse(json.loads(data))


def _under(path: str, root: str) -> bool:
    root = root.rstrip("/") or "/"
    return root == "/" or path == root or path.startswith(root + "/")


def _pattern_head(pattern: str) -> str:
    """The literal directory a wildcard pattern starts from (``/proc/*/environ`` -> ``/proc``)."""
    return pattern.split("*", 1)[0].rstrip("/") or "/"


def _homes_in(tree: str, home: str) -> tuple[list[str], list[str]]:
    """(home directories the tree reaches or lies in, parents whose every home the tree reaches)."""
    literal = []
    for h in (home.rstrip("/"), "/root"):
        if h and (_under(h, tree) or _under(tree, h)):
            literal.append(h)
    everyone = []
    for parent in HOME_PARENTS:
        if _under(parent, tree):
            everyone.append(parent)  # `/` or `/home`: every user's home
        elif _under(tree, parent):
            literal.append("/".join(tree.split("/")[:3]))  # /home/bob/x -> bob's home
    return list(dict.fromkeys(literal)), everyone


def credential_locations_under(tree: str, home: str, env: Mapping[str, str] | None = None) -> list[str]:
    """The catalogued credential locations a recursive read of ``tree`` would reach.

    ``tree`` is absolute and normalised. A location counts when it lies inside the tree, or when the
    tree lies inside it (searching ``~/.ssh/keys`` is reading ssh keys). Other users' homes come back
    as patterns (``/home/*/.ssh``); system patterns as written (``/proc/*/environ``). Files named by
    credential variables in ``env`` count too. Basename-only entries (``.env``, ``*.pem``) are not
    reported: every tree may hold them, and the per-file checks catch them when they are named.

    This is the question for Grep/Glob/LS and for ``rg``/``find``/``grep -r``/``tar`` over a root:
    it is non-empty for ``/``, ``~`` and ``~/.config`` and empty for a project directory.
    """
    tree = tree.rstrip("/") or "/"
    cat = catalogue()
    found: list[str] = []
    literal, everyone = _homes_in(tree, home)
    for h in literal:
        for rel in cat.home_paths:
            loc = f"{h}/{rel}"
            if _under(loc, tree) or _under(tree, loc):
                found.append(loc)
    for parent in everyone:
        found.extend(f"{parent}/*/{rel}" for rel in cat.home_paths)
    for loc in cat.system_paths:
        if _under(loc, tree) or _under(tree, loc):
            found.append(loc)
    for pattern in cat.system_patterns:
        if _under(_pattern_head(pattern), tree):
            found.append(pattern)
    for path in credential_env_files(env or {}):
        if _under(path, tree) or _under(tree, path):
            found.append(path)
    return list(dict.fromkeys(found))


def tree_holds_credentials(tree: str, home: str, env: Mapping[str, str] | None = None) -> bool:
    """Does a recursive read of ``tree`` reach a catalogued credential location? (see above)"""
    return bool(credential_locations_under(tree, home, env))


def credential_env_files(env: Mapping[str, str]) -> list[str]:
    """Absolute paths that credential variables in ``env`` name (GOOGLE_APPLICATION_CREDENTIALS, KUBECONFIG...).

    Relative values are ignored: they cannot be placed without a working directory, and a tool that
    resolves them does so against the workspace, which is the project's own.
    """
    out: list[str] = []
    for ef in catalogue().env_files:
        value = env.get(ef.var, "")
        if not value:
            continue
        for item in value.split(":") if ef.is_list else [value]:
            if not item.startswith("/"):
                continue
            item = item.rstrip("/") or "/"
            if ef.within:
                out.extend(f"{item}/{name}" for name in ef.within)
            else:
                out.append(item)
    return list(dict.fromkeys(out))


def credential_variables(env: Mapping[str, str]) -> dict[str, str]:
    """The catalogued variables that name credential files, picked out of a full environment
    (the analysis sees these, not the whole environment)."""
    return {ef.var: env[ef.var] for ef in catalogue().env_files if env.get(ef.var)}

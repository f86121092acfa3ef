"""Bounded, loop-safe read access to one repository checkout (or the user's home directory).

A repository is untrusted input: it may be huge, hold symlink loops or links to files outside it,
binary or unreadable files, or configs that do not parse. Every such case becomes a
:class:`~warden.core.inventory.model.Problem` on the inventory, never an exception or a hang.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from warden.core.inventory.model import Inventory

MAX_FILE_BYTES = 2 * 1024 * 1024  # configs are small; a bigger "config" is reported, not parsed
MAX_USER_FILE_BYTES = 64 * 1024 * 1024  # ~/.claude.json keeps per-project history and grows to many MiB
MAX_ENTRIES = 200_000  # directory entries visited per repository before the walk stops
MAX_DEPTH = 32
WALK_SECONDS = 20.0
MAX_YAML_ALIASES = 200  # "billion laughs": aliases are cheap to write, expensive to walk
SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache",
                       ".pytest_cache", ".ruff_cache", "target", ".terraform", ".next", "bower_components"})


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob (``**/`` any directories, ``**`` anything, ``*`` and ``?`` within one name), anchored."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] in "*?":
            out.append("[^/]*" if pattern[i] == "*" else "[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


_ALIAS_LIKE = re.compile(r"(?:^|[\s\[{,:-])\*[^\s,\]}]")
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def load_yaml(text: str) -> Any:
    """libyaml's parser when the text cannot hold many aliases (the common case); otherwise the
    pure-Python loader that counts every alias and refuses a bomb before anything walks it."""
    if _FAST_LOADER is not None and len(_ALIAS_LIKE.findall(text)) <= MAX_YAML_ALIASES:
        return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - libyaml's SafeLoader
    return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses documents with too many aliases."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_YAML_ALIASES} aliases (an alias bomb?)")
        return super().compose_node(parent, index)


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas (VS Code's mcp.json, Zed) -> plain JSON."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


class RepoFiles:
    """Files of one root. ``walk=True`` indexes the tree once (repositories); ``walk=False`` only
    looks at named paths (the home directory, which is never walked)."""

    def __init__(self, root: str | Path, name: str, inv: Inventory, *, walk: bool = True,
                 max_entries: int = MAX_ENTRIES, walk_seconds: float = WALK_SECONDS,
                 max_file_bytes: int | None = None) -> None:
        self.root = Path(root).resolve()
        self.max_file_bytes = max_file_bytes or (MAX_FILE_BYTES if walk else MAX_USER_FILE_BYTES)
        self.name = name
        self.inv = inv
        self.walked = walk
        self._index: list[str] = []
        self._cache: dict[Any, Any] = {}
        if walk:
            self._walk(max_entries, walk_seconds)

    # -- indexing -------------------------------------------------------------------------------
    def _walk(self, max_entries: int, walk_seconds: float) -> None:
        seen: set[tuple[int, int]] = set()
        stack: list[tuple[Path, str, int]] = [(self.root, "", 0)]
        entries = 0
        deadline = time.monotonic() + walk_seconds
        while stack:
            path, rel, depth = stack.pop()
            try:
                st = path.stat()
            except OSError as exc:
                self.inv.problem(self.name, rel or ".", "unreadable", f"cannot stat: {exc.strerror or exc}")
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                self.inv.problem(self.name, rel, "symlink-loop", "directory reached twice through a symlink; not walked again")
                continue
            seen.add(key)
            try:
                with os.scandir(path) as it:
                    children = sorted(it, key=lambda d: d.name)
            except OSError as exc:
                self.inv.problem(self.name, rel or ".", "unreadable", f"cannot list directory: {exc.strerror or exc}")
                continue
            for d in children:
                entries += 1
                if entries > max_entries or time.monotonic() > deadline:
                    self.inv.problem(self.name, rel or ".", "truncated",
                                     f"stopped after {entries - 1} entries / {walk_seconds:.0f} s; files past "
                                     "this point were not inventoried (scan sub-directories separately)")
                    return
                child_rel = f"{rel}/{d.name}" if rel else d.name
                try:
                    is_dir = d.is_dir(follow_symlinks=True)
                except OSError:
                    is_dir = False
                if is_dir:
                    if d.name in SKIP_DIRS or depth + 1 > MAX_DEPTH:
                        continue
                    if d.is_symlink() and not self._inside(Path(d.path)):
                        self.inv.problem(self.name, child_rel, "outside-repo", "directory symlink leads outside the repository; not followed")
                        continue
                    stack.append((Path(d.path), child_rel, depth + 1))
                else:
                    self._index.append(child_rel)
        self._index.sort()

    def _inside(self, path: Path) -> bool:
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return False
        return real == self.root or self.root in real.parents

    def find(self, *patterns: str) -> list[str]:
        """Relative paths matching any glob, in a stable order."""
        if self.walked:
            regexes = [glob_regex(p) for p in patterns]
            return [p for p in self._index if any(r.match(p) for r in regexes)]
        found: list[str] = []
        for pattern in patterns:
            for p in sorted(self.root.glob(pattern)):
                rel = p.relative_to(self.root).as_posix()
                if rel not in found and (p.is_file() or p.is_symlink()):
                    found.append(rel)
        return found

    def exists(self, rel: str) -> bool:
        if self.walked:
            return rel in self._index_set
        return (self.root / rel).is_file()

    @property
    def _index_set(self) -> set[str]:
        s = self._cache.get("__index_set__")
        if s is None:
            s = self._cache["__index_set__"] = set(self._index)
        return s

    def all_files(self) -> list[str]:
        return list(self._index)

    # -- reading --------------------------------------------------------------------------------
    def text(self, rel: str) -> str | None:
        """The file's text, or None with a problem recorded (missing files are just None)."""
        if ("text", rel) in self._cache:
            return self._cache[("text", rel)]
        result = self._read_text(rel)
        self._cache[("text", rel)] = result
        return result

    def _read_text(self, rel: str) -> str | None:
        path = self.root / rel
        try:
            lst = path.lstat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.inv.problem(self.name, rel, "unreadable", str(exc.strerror or exc))
            return None
        if stat.S_ISLNK(lst.st_mode):
            if self.walked and not self._inside(path):
                self.inv.problem(self.name, rel, "outside-repo", "symlink leads outside the repository (or loops); not read")
                return None
        try:
            st = path.stat()
        except OSError as exc:
            kind = "symlink-loop" if getattr(exc, "errno", 0) == 40 else "unreadable"
            self.inv.problem(self.name, rel, kind, str(exc.strerror or exc))
            return None
        if not stat.S_ISREG(st.st_mode):
            self.inv.problem(self.name, rel, "unreadable", "not a regular file")
            return None
        if st.st_size > self.max_file_bytes:
            self.inv.problem(self.name, rel, "too-large", f"{st.st_size} bytes; configs over {self.max_file_bytes} bytes are not parsed")
            return None
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.inv.problem(self.name, rel, "unreadable", str(exc.strerror or exc))
            return None
        if b"\0" in data[:8192]:
            self.inv.problem(self.name, rel, "binary", "binary content where a text config was expected")
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.inv.problem(self.name, rel, "binary", f"not UTF-8 text (byte {exc.start})")
            return None

    def parsed(self, rel: str, fmt: str) -> Any:
        """json | jsonc | yaml | toml -> the data, or None with a 'malformed' problem recorded."""
        key = (fmt, rel)
        if key in self._cache:
            return self._cache[key]
        text = self.text(rel)
        value: Any = None
        if text is not None:
            try:
                if fmt == "json":
                    value = json.loads(text)
                elif fmt == "jsonc":
                    value = json.loads(strip_jsonc(text))
                elif fmt == "yaml":
                    value = load_yaml(text)
                elif fmt == "toml":
                    value = tomllib.loads(text)
                else:
                    raise ValueError(fmt)
            except (ValueError, yaml.YAMLError, RecursionError) as exc:
                self.inv.problem(self.name, rel, "malformed", f"{fmt.upper()} does not parse: {_short(exc)}")
                value = None
        self._cache[key] = value
        return value

    def mapping(self, rel: str, fmt: str) -> dict[str, Any]:
        """The file's top-level object; {} when missing or unparsable, and a 'malformed' problem when it
        parses to something else (a list, a number) where the tool that reads it expects an object."""
        value = self.parsed(rel, fmt)
        if value is not None and not isinstance(value, dict) and ("shape", rel) not in self._cache:
            self._cache[("shape", rel)] = True
            self.inv.problem(self.name, rel, "malformed", f"top level is a {type(value).__name__}, not an object")
        return as_dict(value)

    def line_of(self, rel: str, needle: str) -> int:
        """1-based line of the first occurrence of needle (0 when absent): evidence points at a line."""
        text = self.text(rel) or ""
        i = text.find(needle)
        return text.count("\n", 0, i) + 1 if i >= 0 else 0


def as_dict(value: Any) -> dict[str, Any]:
    """A parsed config value where a mapping is expected; anything else reads as empty."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A parsed config value where a list is expected (a lone string counts as one item)."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, str) else []


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]

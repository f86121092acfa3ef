"""Policy discovery and the compiled-policy cache (file-system side of policy loading).

Discovery, lowest layer first:
  builtin   warden/policies/recommended.yaml (shipped)
  user      $WARDEN_HOME/policy.yaml (default ~/.warden)
  project   --policy FILE, else $WARDEN_POLICY, else warden.yaml or .warden/policy.yaml in the workspace
  managed   after `warden login`: $WARDEN_HOME/server-managed.yaml, only once it matches the team server's
            signed bundle (warden.adapters.server_bundle re-checks it on every load; no variable replaces it);
            otherwise $WARDEN_MANAGED_POLICY, else /etc/warden/managed.yaml

The compiled policy is pickled under $WARDEN_HOME/cache keyed by the digest of every source
text, so a hook process skips YAML and pydantic unless a policy file changed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from typing import Any
from collections.abc import Mapping
from pathlib import Path

from warden import __version__
from warden.adapters.environment import WORKSPACE_MARKERS, find_workspace  # noqa: F401 - re-exported
from warden.adapters.server_bundle import ManagedBundleError, checked_managed

BUILTIN = Path(__file__).resolve().parent.parent / "policies" / "recommended.yaml"
PROJECT_NAMES = ("warden.yaml", ".warden/policy.yaml")
DEFAULT_MANAGED = "/etc/warden/managed.yaml"


class PolicyFileError(Exception):
    pass


def warden_home(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("WARDEN_HOME") or Path(environ.get("HOME") or Path.home()) / ".warden")





def _read(path: Path) -> str:
    """The policy text. Opened non-blocking and checked on the open descriptor, so a FIFO swapped in
    after the check cannot hang the hook, and anything but a regular file is an error."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise PolicyFileError(f"cannot read policy {path}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PolicyFileError(_not_a_file(path))
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = fh.read()
    except OSError as exc:
        raise PolicyFileError(f"cannot read policy {path}: {exc.strerror or exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyFileError(f"policy {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def _not_a_file(path: Path) -> str:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return (f"policy {path} is a symlink to {os.readlink(path)!r}, which does not exist: its rules cannot be "
                "loaded, so everything is denied; fix the link or remove it")
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file")
    return f"policy {path} is {kind}: its rules cannot be loaded, so everything is denied; replace it with a YAML file"


def _present(path: Path) -> bool:
    """Is there a policy at ``path``? Absent: no. A regular file: yes. Anything else that exists (a
    directory, FIFO, dangling symlink...) is an error: silently skipping it would drop its deny rules."""
    if not os.path.lexists(path):
        return False
    try:
        if stat.S_ISREG(os.stat(path).st_mode):
            return True
    except OSError:
        pass
    raise PolicyFileError(_not_a_file(path))


def discover(
    workspace: str, *, policy_file: str | None = None, environ: Mapping[str, str] | None = None
) -> list[tuple[str, str, str]]:
    """[(layer, path, text)] lowest first. An explicitly named file that is missing is an error."""
    environ = os.environ if environ is None else environ
    found = [("builtin", "builtin:recommended.yaml", _read(BUILTIN))]
    user = warden_home(environ) / "policy.yaml"
    if _present(user):
        found.append(("user", str(user), _read(user)))
    explicit = policy_file or environ.get("WARDEN_POLICY")
    if explicit:
        p = Path(explicit)
        if not _present(p):
            origin = "--policy" if policy_file else "$WARDEN_POLICY"
            raise PolicyFileError(f"{origin} names {explicit}, which does not exist; fix the path or unset it")
        found.append(("project", str(p), _read(p)))
    elif workspace:
        for name in PROJECT_NAMES:
            p = Path(workspace) / name
            if _present(p):
                found.append(("project", str(p), _read(p)))
                break
    managed_env = environ.get("WARDEN_MANAGED_POLICY")
    home = warden_home(environ)
    try:  # after `warden login`, the team server's bundle is the managed layer, once re-verified
        server = checked_managed(home)
    except ManagedBundleError as exc:
        raise PolicyFileError(str(exc)) from None
    if server is not None:
        if managed_env and os.path.abspath(managed_env) != os.path.abspath(server.path):
            raise PolicyFileError(
                f"$WARDEN_MANAGED_POLICY names {managed_env}, but this machine is logged in to a team server whose "
                f"signed policy ({server.path}) is the managed layer and cannot be replaced: unset "
                "$WARDEN_MANAGED_POLICY (or log out by removing server.json)")
        found.append(("managed", server.path, server.text))
        return found
    managed = Path(managed_env or DEFAULT_MANAGED)
    if _present(managed):
        found.append(("managed", str(managed), _read(managed)))
    elif managed_env:
        raise PolicyFileError(f"$WARDEN_MANAGED_POLICY names {managed_env}, which does not exist")
    return found


def cache_key(sources: list[tuple[str, str, str]], trusted: frozenset[str] | None = None) -> str:
    from warden.core.policy.compiled import FORMAT

    h = hashlib.sha256(f"warden-cache {__version__} format {FORMAT}\n".encode())
    for layer, path, text in sources:
        h.update(f"{layer}\0{path}\0".encode())
        h.update(text.encode("utf-8", "surrogatepass"))
    h.update(("trusted\0" + "\0".join(sorted(trusted)) if trusted is not None else "all-trusted").encode())
    return h.hexdigest()


_IN_MEMORY: dict[tuple[str, str], Any] = {}  # (cache key, home) -> compiled policy, for the warm daemon
_IN_MEMORY_MAX = 16


def load_compiled(sources: list[tuple[str, str, str]], home: Path | None, trusted: frozenset[str] | None = None):
    """Compiled policy from memory, the on-disk cache, or compile (raising PolicyLoadError) and cache it.

    ``trusted``: the project files whose loosening may take effect (see warden.adapters.trust). The key
    digests every source text, the trusted set and Warden's version, so a policy kept in memory is exactly
    the one the files describe now; the daemon saves the unpickling on every event."""
    key = cache_key(sources, trusted)
    memo = (key, str(home))
    if memo in _IN_MEMORY:
        return _IN_MEMORY[memo]
    policy = _load_or_compile(key, sources, home, trusted)
    if len(_IN_MEMORY) >= _IN_MEMORY_MAX:
        _IN_MEMORY.pop(next(iter(_IN_MEMORY)))
    _IN_MEMORY[memo] = policy
    return policy


def _load_or_compile(key: str, sources: list[tuple[str, str, str]], home: Path | None,
                     trusted: frozenset[str] | None):
    cache_file = home / "cache" / f"policy-{key[:32]}.pickle" if home is not None else None
    if cache_file is not None:
        try:
            with open(cache_file, "rb") as fh:
                return pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # missing or stale cache: compile below
    from warden.core.policy.load import LayerSource, compile_policy

    policy = compile_policy([LayerSource(*s) for s in sources], trusted=trusted)
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache_file.parent, prefix=".policy-")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(policy, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache_file)
        except OSError:
            pass  # a read-only home only costs speed
    return policy

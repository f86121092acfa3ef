"""The team server's policy bundle as cached on this machine, re-checked before every policy load.

Under ``$WARDEN_HOME``, written by ``warden login`` and the link loop
(:mod:`warden.integrations.server_client.bundle`), always under :func:`exclusive`:

  server.json          the link: URL, key, the pinned signing key, the version accepted last
                       (``bundle_version``) and the newest ``issued_at`` seen (the high-water mark)
  server-bundle.json   that bundle, exactly as the server signed it
  server-managed.yaml  its policy text: the managed layer

``server-managed.yaml`` is never trusted on its own. Before it becomes the managed layer, the three
files must agree: the bundle verifies against the pinned key, it is the version server.json accepted
last (an older bundle put back is refused), and the managed file's text is the bundle's policy. Any
disagreement is a :class:`ManagedBundleError` and the policy does not load, so every decision denies
with the reason: a hand edit, a deleted file or a swapped-in old bundle can only stop the agent,
never weaken what the organisation locks.

Ed25519 is not paid on every load: the result is cached, keyed on the pin, the accepted version and
(device, inode, size, mtime, ctime) of the bundle and the managed file: in memory (the warm daemon)
and in ``$WARDEN_HOME/cache/bundle-check.json`` (short-lived hook processes, which would otherwise
import ``cryptography`` each time). ctime is in the key because nobody but the kernel can set it:
an edit that restores size and mtime still misses the cache. bench/bench_bundle.py measures it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LINK = "server.json"
BUNDLE = "server-bundle.json"
MANAGED = "server-managed.yaml"
LOCK = ".server-bundle.lock"
CHECK_CACHE = "bundle-check.json"  # under $WARDEN_HOME/cache
REFRESH = "run `warden login --refresh` to pull the signed bundle again"
_MEMORY: dict[tuple[Any, ...], bytes] = {}  # cache key -> the managed file's bytes that verified
_MEMORY_MAX = 8


class ManagedBundleError(Exception):
    """The cached server policy cannot be trusted; the message says what happened and what to do."""


@dataclass(frozen=True)
class Managed:
    path: str
    text: str


@contextmanager
def exclusive(home: Path) -> Iterator[None]:
    """Held while the three files are written, so a reader that sees them disagree can wait and look again."""
    fd = os.open(home / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def _shared(home: Path, wait_s: float = 1.0) -> Iterator[None]:
    try:
        fd = os.open(home / LOCK, os.O_RDONLY | os.O_CREAT, 0o600)
    except OSError:  # a read-only home: nobody is writing there either
        yield
        return
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:  # a writer stuck mid-write: judge what is there
                    break
                time.sleep(0.002)
        yield
    finally:
        os.close(fd)


def _open(path: Path, read: bool = True) -> tuple[os.stat_result, bytes] | None:
    """(fstat, bytes) of a regular file, None when absent; the stat and the bytes come from one descriptor
    (``read=False``: the stat only, bytes empty)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if os.path.lexists(path):
            raise ManagedBundleError(f"{path} is a dangling symlink; {REFRESH}") from None
        return None
    except OSError as exc:
        raise ManagedBundleError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ManagedBundleError(f"{path} is not a regular file; remove it and {REFRESH}")
        chunks = []
        while read and (chunk := os.read(fd, 1 << 20)):
            chunks.append(chunk)
        return st, b"".join(chunks)
    finally:
        os.close(fd)


def _stamp(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _owned_privately(st: os.stat_result) -> bool:
    return st.st_uid in (os.geteuid(), 0) and not st.st_mode & 0o022


def _link(home: Path, raw: tuple[os.stat_result, bytes]) -> tuple[str, str, str]:
    """(url, pin, accepted version) from server.json, which only its owner may write:
    whoever can rewrite the pin can vouch for any bundle."""
    st, data = raw
    path = home / LINK
    if not _owned_privately(st):
        raise ManagedBundleError(f"{path} (the pinned server key) is writable by another user (mode "
                                 f"{stat.S_IMODE(st.st_mode):04o}, owner uid {st.st_uid}), so the managed policy "
                                 f"cannot be trusted: chmod 600 {path} and make it yours, then {REFRESH}")
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not doc.get("url"):
        raise ManagedBundleError(f"{path} is not a server link; log in again: warden login URL --key wk_...")
    pin, version = doc.get("bundle_key"), doc.get("bundle_version")
    if not isinstance(pin, str) or not pin:
        raise ManagedBundleError(f"{path} pins no server signing key; log in again: warden login {doc['url']} "
                                 "--key wk_...")
    if not isinstance(version, str) or not version:
        raise ManagedBundleError(f"{path} records no accepted policy bundle (written by an older Warden, or the "
                                 f"first pull failed): {REFRESH}")
    return str(doc["url"]), pin, version


def checked_managed(home: Path) -> Managed | None:
    """The team server's managed layer once verified; None when this machine is not logged in to a
    server, or the server publishes no central policy. :class:`ManagedBundleError` otherwise."""
    try:
        return _check(home)
    except ManagedBundleError:
        # perhaps a pull was replacing the files at that very moment: wait for it and look again
        with _shared(home):
            return _check(home)


def logged_in(home: Path) -> bool:
    return os.path.lexists(home / LINK)


def _check(home: Path) -> Managed | None:
    managed_path = home / MANAGED
    link_raw = _open(home / LINK)
    if link_raw is None:
        if os.path.lexists(managed_path):
            raise ManagedBundleError(
                f"{managed_path} is present but this machine is not logged in to a team server (no {LINK}), so "
                "nothing vouches for it and everything is denied: log in (`warden login URL --key wk_...`) or "
                "remove the file")
        return None
    url, pin, version = _link(home, link_raw)
    try:
        home_st = os.stat(home)
    except OSError as exc:
        raise ManagedBundleError(f"cannot stat {home}: {exc}") from None
    if home_st.st_mode & 0o022 and not home_st.st_mode & stat.S_ISVTX:
        raise ManagedBundleError(f"{home} is writable by other users, who could swap the server policy files: "
                                 f"chmod 700 {home}")
    bundle_raw = _open(home / BUNDLE, read=False)  # read only when the cache cannot vouch for it
    if bundle_raw is None:
        raise ManagedBundleError(f"this machine is logged in to {url} but its signed policy bundle "
                                 f"({home / BUNDLE}) is missing, so the managed policy cannot be checked and "
                                 f"everything is denied: {REFRESH}")
    managed_raw = _open(managed_path)
    text = None
    if managed_raw is not None:
        try:
            text = managed_raw[1].decode("utf-8")
        except UnicodeDecodeError:
            raise _altered(managed_path, url, version) from None
    key = ("v1", pin, version, _stamp(bundle_raw[0]), _stamp(managed_raw[0]) if managed_raw else None)
    content = managed_raw[1] if managed_raw else b""
    if _MEMORY.get(key) == content or _disk_cache_says(home, key, _digest(content)):
        _remember(key, content)
        return Managed(str(managed_path), text) if text is not None and text.strip() else None
    bundle_raw = _open(home / BUNDLE)
    if bundle_raw is None:
        raise ManagedBundleError(f"{home / BUNDLE} disappeared while it was checked; {REFRESH}")
    key = (*key[:3], _stamp(bundle_raw[0]), key[4])  # the stamp of the bytes actually verified
    policy = _verify(home, bundle_raw[1], pin, version, url)
    if policy.strip():
        if text is None:
            raise ManagedBundleError(f"the cached managed policy {managed_path} is missing although the signed "
                                     f"bundle from {url} carries a policy (version {version}), so everything is "
                                     f"denied: {REFRESH}")
        if text != policy:
            raise _altered(managed_path, url, version)
    elif text is not None and text != policy:  # the server publishes no policy: nothing may stand in for it
        raise _altered(managed_path, url, version)
    _remember(key, content)
    _write_disk_cache(home, key, _digest(content))
    return Managed(str(managed_path), text) if text is not None and policy.strip() else None


def _altered(path: Path, url: str, version: str) -> ManagedBundleError:
    return ManagedBundleError(
        f"the cached managed policy {path} was altered: it does not match the policy bundle signed by {url} "
        f"(version {version}), so everything is denied until it is restored: {REFRESH}")


def _verify(home: Path, data: bytes, pin: str, version: str, url: str) -> str:
    """The bundle's policy text once its signature, version and high-water mark check out."""
    from warden.core.bundle import BundleInvalid, verify

    path = home / BUNDLE
    try:
        body = verify(json.loads(data), pin)
    except (ValueError, RecursionError) as exc:
        why = str(exc) if isinstance(exc, BundleInvalid) else "it is not valid JSON"
        raise ManagedBundleError(f"the cached policy bundle {path} cannot be trusted ({why}): it was altered, "
                                 f"so everything is denied: {REFRESH}") from None
    if body["version"] != version:  # the same version is the same text, whichever signing of it is cached
        raise ManagedBundleError(
            f"the cached policy bundle {path} is version {body['version']} issued at {body['issued_at']}, but this "
            f"machine last accepted version {version} from {url}: another bundle was put in its place, so "
            f"everything is denied: {REFRESH}")
    return str(body["policy"])


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest() if content else ""


def _remember(key: tuple[Any, ...], content: bytes) -> None:
    if key not in _MEMORY and len(_MEMORY) >= _MEMORY_MAX:
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[key] = content


def _disk_cache_says(home: Path, key: tuple[Any, ...], digest: str) -> bool:
    try:
        raw = _open(home / "cache" / CHECK_CACHE)
    except ManagedBundleError:
        return False
    if raw is None or not _owned_privately(raw[0]):  # a cache someone else could write proves nothing
        return False
    try:
        doc = json.loads(raw[1])
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("key") == json.loads(json.dumps(key)) and doc.get("managed") == digest


def _write_disk_cache(home: Path, key: tuple[Any, ...], digest: str) -> None:
    path = home / "cache" / CHECK_CACHE
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{CHECK_CACHE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"key": key, "managed": digest}, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs a signature check per load

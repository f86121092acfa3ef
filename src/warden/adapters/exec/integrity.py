"""After the run: is every protected path still the same inode with the same content?

The mounts already make protected paths read-only and pin their parents, so this should never
fire; it is the check that proves it (and the repair if a kernel or bubblewrap quirk let a change
through): a changed file is restored from the copy taken before the run, a replaced path is
moved aside to ``<path>.warden-rejected`` and the original content put back.
"""

from __future__ import annotations

import os
import stat

_MAX_COPY = 1024 * 1024  # files up to this size are kept (and compared byte for byte) for a restore
_MAX_ENTRIES = 2000

# (device, inode, what the content is): compared for equality. No hashes (hashlib costs `warden exec`
# more than the check itself): small files are kept whole; larger ones and directory entries are
# described by size, mtime and *ctime*, which no unprivileged process can set back.
Fingerprint = tuple[int, int, object]


def _digest(path: str) -> tuple[object, bytes | None]:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path)), None
    if stat.S_ISREG(st.st_mode):
        if st.st_size <= _MAX_COPY:
            with open(path, "rb") as f:
                data = f.read(_MAX_COPY + 1)
            return ("file", data), data
        return ("big", st.st_size, st.st_mtime_ns, st.st_ctime_ns), None
    if stat.S_ISDIR(st.st_mode):
        entries: list[tuple[object, ...]] = []
        for top, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files) + dirs:
                if len(entries) >= _MAX_ENTRIES:
                    return ("dir", tuple(entries), "truncated"), None
                full = os.path.join(top, name)
                try:
                    est = os.lstat(full)
                except OSError:
                    continue
                entries.append((full, est.st_mode, est.st_size, est.st_mtime_ns, est.st_ctime_ns, est.st_ino))
        return ("dir", tuple(entries)), None
    return ("other", st.st_mode), None


class Snapshot:
    """Fingerprints of protected paths, and copies of the small files among them."""

    __slots__ = ("copies", "prints")

    def __init__(self) -> None:
        self.prints: dict[str, Fingerprint] = {}
        self.copies: dict[str, bytes] = {}

    def __bool__(self) -> bool:
        return bool(self.prints)


def fingerprint_all(paths: list[str], identity_only: tuple[str, ...] | list[str] = ()) -> Snapshot:
    """``paths`` are checked for identity and content; ``identity_only`` (pinned parents such as
    ``.git``, whose other contents change legitimately) for identity alone."""
    snap = Snapshot()
    for path in dict.fromkeys([*paths, *identity_only]):
        try:
            st = os.lstat(path)
            digest, copy = ("identity", None) if path in identity_only and path not in paths else _digest(path)
        except OSError:
            continue
        snap.prints[path] = (st.st_dev, st.st_ino, digest)
        if copy is not None:
            snap.copies[path] = copy
    return snap


def verify_and_restore(snap: Snapshot) -> list[str]:
    """Violations found (each repaired when it can be); empty when everything is as it was."""
    problems: list[str] = []
    for path, (dev, ino, digest) in snap.prints.items():
        try:
            st = os.lstat(path)
            now = "identity" if digest == "identity" else _digest(path)[0]
        except OSError:
            st, now = None, "missing"
        if st is not None and (st.st_dev, st.st_ino) == (dev, ino) and now == digest:
            continue
        what = "removed" if st is None else ("replaced" if (st.st_dev, st.st_ino) != (dev, ino) else "changed")
        problems.append(f"protected path {path} was {what} inside the sandbox{_restore(path, snap, st is not None)}")
    return problems


def _restore(path: str, snap: Snapshot, exists: bool) -> str:
    data = snap.copies.get(path)
    if data is None:
        return " (could not be restored: inspect it before running git or the agent again)"
    try:
        if exists and (os.path.islink(path) or not os.path.isfile(path)):
            os.rename(path, path + ".warden-rejected")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".warden-restore"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        return f" (restore failed: {exc.strerror})"
    return " (restored)"

"""Resource limits for the sandboxed process tree.

CPU seconds and address space are rlimits set in the child between fork and exec (inherited by
bubblewrap and everything it starts; the sandbox drops CAP_SYS_RESOURCE, so it cannot raise them).

The process count is the exception. RLIMIT_NPROC is counted per real user across the whole machine
and the kernel does not enforce it at all for root, which is how Warden usually runs in CI and
containers. So when a writable pids cgroup exists (cgroup v2 with the pids controller, or v1
``/sys/fs/cgroup/pids``), the child joins a fresh cgroup with ``pids.max`` instead; RLIMIT_NPROC is
still set as a second line for non-root users. ``Limiter.describe()`` says which applied.
"""

from __future__ import annotations

import os
import resource
import time

from warden.adapters.exec.profile import Limits

_CGROUP_ROOTS = ("/sys/fs/cgroup", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified")


def _pids_cgroup_parent() -> str | None:
    for root in _CGROUP_ROOTS:
        procs = os.path.join(root, "cgroup.procs")
        if not os.path.exists(procs):
            continue
        controllers = os.path.join(root, "cgroup.controllers")
        if os.path.exists(controllers):  # v2: the pids controller must be enabled for children
            try:
                with open(controllers) as f:
                    if "pids" not in f.read().split():
                        continue
                with open(os.path.join(root, "cgroup.subtree_control")) as f:
                    if "pids" not in f.read().split():
                        continue
            except OSError:
                continue
        elif not root.endswith("/pids"):
            continue
        if os.access(root, os.W_OK):
            return root
    return None


def _write(path: str, value: str, optional: bool = False) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError:
        if not optional:
            raise


def _rmdir(path: str) -> bool:
    try:
        os.rmdir(path)
        return True
    except OSError:
        return False


def _v1_memory_parent() -> str | None:
    """Our own memory cgroup on a v1 hierarchy (a child of it never loosens the host's own limit)."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            parent = "/sys/fs/cgroup/memory" + path.rstrip("/")
            if os.path.exists(os.path.join(parent, "memory.limit_in_bytes")) and os.access(parent, os.W_OK):
                return parent
    return None


class Limiter:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cgroup: str | None = None
        self.memory_cgroup: str | None = None  # a separate one on cgroup v1; the same as cgroup on v2

    memory_by = "RLIMIT_AS (address space; tmpfs bounded by its size)"

    def prepare(self) -> None:
        """Create the pids and memory cgroups (best effort: when they cannot, the rlimits remain)."""
        self._prepare_pids()
        self._prepare_memory()

    def _prepare_pids(self) -> None:
        parent = _pids_cgroup_parent()
        if parent is None:
            return
        path = os.path.join(parent, f"warden-exec-{os.getpid()}-{time.monotonic_ns()}")
        try:
            os.mkdir(path)
            with open(os.path.join(path, "pids.max"), "w") as f:
                f.write(str(self.limits.processes))
            self.cgroup = path
        except OSError:
            try:
                os.rmdir(path)
            except OSError:
                pass

    def preexec(self) -> None:
        """Runs in the child after fork, before exec: only async-signal-tolerant work."""
        cpu = self.limits.cpu_seconds
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU first, SIGKILL 5 s later
        mem = self.limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        fsize = self.limits.file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))  # SIGXFSZ / EFBIG beyond it
        nproc = self.limits.processes
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        except (ValueError, OSError):
            pass
        for group in (self.cgroup, self.memory_cgroup):
            if group:
                with open(os.path.join(group, "cgroup.procs"), "w") as f:
                    f.write("0")  # "0" = the writing process itself

    def _prepare_memory(self) -> None:
        """A memory cgroup capped at memory_mb: it also counts the sandbox's tmpfs pages and page cache."""
        limit = str(self.limits.memory_mb * 1024 * 1024)
        if self.cgroup and os.path.exists(os.path.join(self.cgroup, "memory.max")):  # v2, memory enabled
            try:
                _write(os.path.join(self.cgroup, "memory.max"), limit)
                _write(os.path.join(self.cgroup, "memory.swap.max"), "0", optional=True)
                self.memory_cgroup = ""  # the pids cgroup carries it
                self.memory_by = "memory cgroup (v2)"
            except OSError:
                pass
            return
        parent = _v1_memory_parent()
        if parent is None:
            return
        path = os.path.join(parent, f"warden-exec-{os.getpid()}-{time.monotonic_ns()}")
        try:
            os.mkdir(path)
            _write(os.path.join(path, "memory.limit_in_bytes"), limit)
            _write(os.path.join(path, "memory.memsw.limit_in_bytes"), limit, optional=True)  # no swap escape
            self.memory_cgroup = path
            self.memory_by = "memory cgroup (v1)"
        except OSError:
            _rmdir(path)

    def cleanup(self) -> None:
        for group in (self.cgroup, self.memory_cgroup):
            if not group:
                continue
            for _ in range(50):  # the last sandbox processes may still be exiting
                if _rmdir(group):
                    break
                time.sleep(0.01)

    def describe(self) -> dict[str, object]:
        return {
            "cpu_seconds": self.limits.cpu_seconds,
            "memory_mb": self.limits.memory_mb,
            "processes": self.limits.processes,
            "processes_enforced_by": "pids cgroup" if self.cgroup else (
                "RLIMIT_NPROC (not enforced for root)" if os.geteuid() == 0 else "RLIMIT_NPROC"),
            "wall_seconds": self.limits.wall_seconds,
            "memory_enforced_by": self.memory_by,
            "tmpfs_mb": self.limits.tmpfs_bytes // (1024 * 1024),
            "file_mb": self.limits.file_mb,
        }

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


class Limiter:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cgroup: str | None = None

    def prepare(self) -> None:
        """Create the pids cgroup (best effort: when it cannot, RLIMIT_NPROC is what remains)."""
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
        nproc = self.limits.processes
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        except (ValueError, OSError):
            pass
        if self.cgroup:
            with open(os.path.join(self.cgroup, "cgroup.procs"), "w") as f:
                f.write("0")  # "0" = the writing process itself

    def cleanup(self) -> None:
        if not self.cgroup:
            return
        for _ in range(50):  # the last sandbox processes may still be exiting
            try:
                os.rmdir(self.cgroup)
                return
            except OSError:
                time.sleep(0.01)

    def describe(self) -> dict[str, object]:
        return {
            "cpu_seconds": self.limits.cpu_seconds,
            "memory_mb": self.limits.memory_mb,
            "processes": self.limits.processes,
            "processes_enforced_by": "pids cgroup" if self.cgroup else (
                "RLIMIT_NPROC (not enforced for root)" if os.geteuid() == 0 else "RLIMIT_NPROC"),
            "wall_seconds": self.limits.wall_seconds,
        }

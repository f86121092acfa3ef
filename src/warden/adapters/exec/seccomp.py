"""A seccomp filter for the obviously dangerous syscalls, assembled as classic BPF in pure Python.

bubblewrap's ``--seccomp FD`` loads a compiled cBPF program (``struct sock_filter[]``), the same
bytes ``seccomp_export_bpf`` would produce. Writing the ~60 instructions by hand avoids a
libseccomp dependency and costs microseconds.

What is refused (EPERM unless noted), and why:
- mounting and namespace games (mount, umount2, pivot_root, the new mount API, unshare, setns,
  clone with CLONE_NEW* flags, clone3 -> ENOSYS so libc falls back to clone whose flags we can
  inspect): the sandbox's file-system view must not be rearranged from inside;
- tracing and reading other processes' memory (ptrace, process_vm_readv/writev, pidfd_getfd, kcmp);
- kernel keyrings (keyctl, add_key, request_key): they are not namespaced and can hold host secrets;
- kernel attack surface rarely needed by builds (bpf, perf_event_open, userfaultfd, io_uring_*,
  open_by_handle_at, module loading, kexec, reboot, swap, acct, quotactl, syslog, clock setting,
  iopl/ioperm, uselib, vhangup, nfsservctl, lookup_dcookie);
- terminal injection: ioctl TIOCSTI / TIOCLINUX (pushing keystrokes into the user's terminal);
- any syscall of a foreign ABI (i386 ``int 0x80`` or x32 on x86_64) -> ENOSYS, because the numbers
  above would not apply to it.
"""

from __future__ import annotations

import errno
import os
import struct

# struct seccomp_data: nr (u32) at 0, arch (u32) at 4, instruction_pointer (u64) at 8, args[6] (u64) from 16.
_OFF_NR = 0
_OFF_ARCH = 4


def _off_arg_low(i: int) -> int:
    # Little-endian on both supported architectures: the low 32 bits come first.
    return 16 + 8 * i


# cBPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_X32_SYSCALL_BIT = 0x40000000

# Syscall numbers from <asm/unistd_64.h> (x86_64) and <asm-generic/unistd.h> (aarch64);
# tests cross-check them against the headers when those are installed.
_DENY: dict[str, dict[str, int]] = {
    "x86_64": {
        "mount": 165, "umount2": 166, "pivot_root": 155, "ptrace": 101, "process_vm_readv": 310,
        "process_vm_writev": 311, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
        "finit_module": 313, "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168,
        "acct": 163, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321,
        "perf_event_open": 298, "userfaultfd": 323, "open_by_handle_at": 304, "syslog": 103,
        "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305,
        "setns": 308, "unshare": 272, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
        "move_mount": 429, "open_tree": 428, "fspick": 433, "mount_setattr": 442,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "quotactl": 179,
        "lookup_dcookie": 212, "uselib": 134, "iopl": 172, "ioperm": 173, "pidfd_getfd": 438,
        "kcmp": 312, "nfsservctl": 180, "vhangup": 153,
    },
    "aarch64": {
        "mount": 40, "umount2": 39, "pivot_root": 41, "ptrace": 117, "process_vm_readv": 270,
        "process_vm_writev": 271, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105,
        "finit_module": 273, "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225,
        "acct": 89, "keyctl": 219, "add_key": 217, "request_key": 218, "bpf": 280,
        "perf_event_open": 241, "userfaultfd": 282, "open_by_handle_at": 265, "syslog": 116,
        "settimeofday": 170, "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266,
        "setns": 268, "unshare": 97, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
        "move_mount": 429, "open_tree": 428, "fspick": 433, "mount_setattr": 442,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "quotactl": 60,
        "lookup_dcookie": 18, "pidfd_getfd": 438, "kcmp": 272, "nfsservctl": 42, "vhangup": 58,
    },
}
_CLONE = {"x86_64": 56, "aarch64": 220}
_CLONE3 = {"x86_64": 435, "aarch64": 435}
_IOCTL = {"x86_64": 16, "aarch64": 29}

# CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
_CLONE_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
_TIOCSTI = 0x5412
_TIOCLINUX = 0x541C


class UnsupportedArch(RuntimeError):
    pass


def denied_syscalls(arch: str | None = None) -> dict[str, int]:
    arch = arch or os.uname().machine
    if arch not in _DENY:
        raise UnsupportedArch(f"no seccomp syscall table for {arch!r} (supported: {sorted(_DENY)})")
    return dict(_DENY[arch])


def build_filter(arch: str | None = None) -> bytes:
    """Return the cBPF program (native ``struct sock_filter`` array) for ``arch``."""
    arch = arch or os.uname().machine
    deny = denied_syscalls(arch)
    # Symbolic program: (op, k, jt_label, jf_label) with labels resolved below; None = fall through.
    prog: list[tuple[int, int, str | None, str | None]] = []
    labels: dict[str, int] = {}

    def emit(op: int, k: int, jt: str | None = None, jf: str | None = None) -> None:
        prog.append((op, k, jt, jf))

    def label(name: str) -> None:
        labels[name] = len(prog)

    emit(_LD_W_ABS, _OFF_ARCH)
    emit(_JEQ_K, AUDIT_ARCH[arch], None, "enosys")
    emit(_LD_W_ABS, _OFF_NR)
    if arch == "x86_64":
        emit(_JGE_K, _X32_SYSCALL_BIT, "enosys", None)
    for nr in sorted(set(deny.values())):
        emit(_JEQ_K, nr, "eperm", None)
    emit(_JEQ_K, _CLONE3[arch], "enosys", None)
    emit(_JEQ_K, _CLONE[arch], "clone", None)
    emit(_JEQ_K, _IOCTL[arch], "ioctl", None)
    emit(_RET_K, _RET_ALLOW)
    label("clone")
    emit(_LD_W_ABS, _off_arg_low(0))
    emit(_JSET_K, _CLONE_NS_FLAGS, "eperm", None)
    emit(_RET_K, _RET_ALLOW)
    label("ioctl")
    # Compare the low 32 bits of the request: the kernel truncates it to an unsigned int.
    emit(_LD_W_ABS, _off_arg_low(1))
    emit(_JEQ_K, _TIOCSTI, "eperm", None)
    emit(_JEQ_K, _TIOCLINUX, "eperm", None)
    emit(_RET_K, _RET_ALLOW)
    label("eperm")
    emit(_RET_K, _RET_ERRNO | errno.EPERM)
    label("enosys")
    emit(_RET_K, _RET_ERRNO | errno.ENOSYS)

    def rel(pc: int, target: str | None) -> int:
        if target is None:
            return 0
        off = labels[target] - pc - 1
        if not 0 <= off <= 255:  # cBPF conditional jumps are 8-bit and forward only
            raise AssertionError(f"seccomp jump to {target} out of range ({off})")
        return off

    out = bytearray()
    for pc, (op, k, jt, jf) in enumerate(prog):
        out += struct.pack("=HBBI", op, rel(pc, jt), rel(pc, jf), k)
    return bytes(out)

"""One simple command -> CommandInfo: resolve the program, apply redirections, dispatch.

Program analyzers live one concern per module (wrappers, interpreters, fsops, git, netflow,
cloud, system, escapes, packages); each exports ``HANDLERS: {program: fn(cmd)}``. A program
with no handler gets no facts of its own: the policy decides on its name (and the default
policy asks for names it does not know).
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING

from warden.core.analyze import implicit
from warden.core.analyze.guards import KILLERS, SERVERS, file_server, guard_facts
from warden.core.analyze.specs_engine import apply_specs, runner_target
from warden.core.analyze.fsops import OPTION_FILES, OPTION_FILES_2, option_files
from warden.core.analyze.invocation import DECODE, NET, SECRET, Cmd, Flow, Invocation, show
from warden.core.analyze.paths import has_glob, secret_kind
from warden.core.analyze.words import UNKNOWN
from warden.core.facts import Access, CommandInfo

if TYPE_CHECKING:
    from warden.core.analyze.shell import Session

STD_BIN_DIRS = frozenset({"/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin",
                          "/opt/homebrew/bin", "/snap/bin", "/usr/libexec", "/usr/lib/git-core", "/usr/games",
                          "/bin/busybox"})
# Names a wildcard program (`/???/?m`, `/bin/r?`) is checked against.
GLOB_CANDIDATES = ("rm", "sh", "bash", "dash", "zsh", "ksh", "dd", "mkfs", "curl", "wget", "nc", "ncat", "python",
                   "python3", "perl", "ruby", "php", "node", "chmod", "chown", "shred", "mv", "cp", "cat", "base64",
                   "socat", "telnet", "ssh", "scp", "eval", "find", "xargs", "tar", "kill", "reboot", "shutdown",
                   "crontab", "sudo", "su", "git", "awk", "sed", "tee", "truncate", "wipefs", "mkfs.ext4", "ls",
                   "echo", "env", "busybox", "openssl", "head", "less", "vi", "vim")

_handlers: dict[str, Callable[[Cmd], None]] | None = None


def handlers() -> dict[str, Callable[[Cmd], None]]:
    global _handlers
    if _handlers is None:
        from warden.core.analyze import (
            cloud,
            devtools,
            escapes,
            fsops,
            git,
            interpreters,
            netflow,
            packages,
            system,
            wrappers,
        )

        table: dict[str, Callable[[Cmd], None]] = {}
        for mod in (fsops, escapes, devtools, netflow, cloud, packages, system, git, interpreters, wrappers):
            table.update(mod.HANDLERS)
        _handlers = table
    return _handlers


def resolve_program(cmd: Cmd, raw: str) -> str:
    """The program's name for policy matching; a local script keeps its resolved path."""
    if "/" not in raw:
        return raw
    refs = cmd.session.resolve(raw, Access.EXEC)
    if not refs:
        return raw
    path = refs[0].path
    if posixpath.dirname(path) in STD_BIN_DIRS:
        return posixpath.basename(path)
    return path


def analyze_invocation(inv: Invocation, session: Session) -> list[Cmd]:
    argv = inv.argv or [""]
    info = CommandInfo(program="", argv=tuple(show(a) for a in argv), raw=inv.raw[:1000], via=inv.via)
    cmd = Cmd(session=session, inv=inv, argv=list(argv), taints=list(inv.taints), via=inv.via, info=info)
    session.commands.append(info)
    _apply_redirects(cmd)
    raw_prog = argv[0]
    results = [cmd]
    if UNKNOWN in raw_prog or not raw_prog.strip():
        cmd.opaque(f"the program name `{show(raw_prog)}` is computed at run time")
        head = cmd.taint_of(0)
        if NET in head:
            session.action_fact("flow.remote_exec", "runs a command whose name was fetched from the network")
        if DECODE in head:
            session.action_fact("flow.decoded_exec", "runs a command whose name was decoded at run time")
        # `$SHELL -c '...'`: whatever the program is, a -c string is most likely shell code
        args = cmd.argv[1:]
        if "-c" in args and args.index("-c") + 1 < len(args):
            cmd.shell(args[args.index("-c") + 1], "unknown program -c")
        _default_out(cmd)
        return results
    if has_glob(posixpath.basename(raw_prog)):
        pattern = posixpath.basename(raw_prog)[:64]
        cmd.opaque(f"the program name `{raw_prog}` is a wildcard")
        for name in GLOB_CANDIDATES:
            if fnmatch.fnmatchcase(name, pattern):
                results += cmd.nested([name, *cmd.argv[1:]], cmd.taints, via=f"glob {raw_prog}")
        _default_out(cmd)
        return results
    program = resolve_program(cmd, raw_prog)
    info.program = program
    if "/" in program:
        _local_program(cmd, program)
    handler = handlers().get(program)
    if handler is not None:
        handler(cmd)
    if program in OPTION_FILES or program in OPTION_FILES_2:
        option_files(cmd)
    if program not in NAMES_ONLY:
        credential_arguments(cmd)
    tool, tool_args = runner_target(cmd)
    apply_specs(cmd, tool, tool_args)  # program knowledge kept as data (specs/programs/*.yaml)
    if program in KILLERS:
        guard_facts(cmd)
    if tool in SERVERS:
        file_server(cmd, tool, tool_args)
    if program == "npm":
        implicit.npm_pkg_set(cmd)
    elif program in ("pip", "pip3"):
        implicit.pip_config_set(cmd)
    if program in implicit.RUNNER_OF:
        implicit.runner_facts(cmd)
    if session.foreign:
        implicit.foreign_facts(cmd)
    if program in implicit.FOREIGN_SOURCES:
        implicit.note_foreign(cmd)
    if program in ("echo", "printf", "print"):
        from warden.core.analyze.system import echo_secret

        echo_secret(cmd)
    if cmd.out.taint == frozenset() and cmd.out.text is None and cmd.inv.stdin is not None:
        _default_out(cmd)
    if session.implicit:
        implicit.note_content(cmd)
    return results


# Programs that only name, test, move or use a file without printing it (ssh -i KEY, test -f KEY,
# ls KEY); their handlers record the exact access where there is one.
NAMES_ONLY = frozenset({"ssh", "scp", "sftp", "ssh-add", "ssh-keygen", "ssh-copy-id", "autossh", "mosh", "rsync",
                        "git", "test", "[", "[[", "ls", "stat", "echo", "printf", "which", "type", "realpath",
                        "readlink", "basename", "dirname", "namei", "du", "touch", "mkdir", "chmod", "chown", "rm",
                        "mv", "cp", "ln", "find", "fd", "docker", "podman", "kubectl", "gpg", "age", "sops", "exa", "eza", "tree", "lsattr", "getfacl", "unlink", "shred", "install", "trash", "file"})


def credential_arguments(cmd: Cmd) -> None:
    """Any other argument that names a credential location is a read of it.

    ``nm ~/.ssh/id_rsa``, ``dig -f ~/.aws/credentials``, ``readelf -a @~/.netrc``, ``aws ... file://~/.netrc``,
    ``--input=~/.pgpass``: programs print or parse the files they are given, whatever their tables say.
    """
    seen = {p.raw for p in cmd.info.paths}
    for a in cmd.args[:64]:
        raw = a.split("=", 1)[1] if a.startswith("-") and "=" in a else a
        raw = raw[1:] if raw.startswith("@") else raw[7:] if raw.startswith("file://") else raw
        if not raw.startswith(("/", "~", ".")) or raw in seen or UNKNOWN in raw or len(raw) > 4096:
            continue
        refs = cmd.session.resolve(raw, Access.READ) or []
        if any(secret_kind(r.path, cmd.session.env) for r in refs):
            cmd.path(raw, Access.READ)


def _default_out(cmd: Cmd) -> None:
    """A filter passes its input's taint on (``curl x | tee f | sh`` still runs network data)."""
    if cmd.inv.stdin is not None and cmd.out.text is None:
        cmd.out = Flow(cmd.out.taint | cmd.inv.stdin.taint)


def _local_program(cmd: Cmd, path: str) -> None:
    refs = cmd.path(path, Access.EXEC)
    if not refs:
        return
    ref = refs[0]
    if ref.path in cmd.session.downloads:
        cmd.session.action_fact("flow.remote_exec", f"runs {ref.path}, which this command downloaded", path=ref.path)
    if ref.in_workspace:
        cmd.fact("exec.script", f"runs a program from the workspace: {ref.path}", path=ref.path)
    else:
        cmd.fact("exec.script_outside", f"runs a program from outside the workspace: {ref.path}", path=ref.path)


def _apply_redirects(cmd: Cmd) -> None:
    if not cmd.inv.redirects:
        return
    from warden.core.analyze.netflow import devtcp

    for op, target, _taint in cmd.inv.redirects:
        if target.startswith(("/dev/tcp/", "/dev/udp/")):
            devtcp(cmd, target, op)
            continue
        if op in ("<",):
            refs = cmd.path(target, Access.READ)
            if any(secret_kind(r.path, cmd.session.env) for r in refs):
                cmd.inv.stdin = Flow((cmd.inv.stdin.taint if cmd.inv.stdin else frozenset()) | {SECRET},
                                     None, target)
        elif op == "<>":
            cmd.path(target, Access.READ)
            cmd.path(target, Access.WRITE)
        else:
            cmd.path(target, Access.WRITE)


__all__ = ["STD_BIN_DIRS", "analyze_invocation", "handlers", "resolve_program"]

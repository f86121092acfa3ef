"""Wrappers: programs that run another program (sudo, env, timeout, xargs, find -exec ...).

Each wrapper's own options are skipped by a small table (which short/long options take a
value, how many positionals precede the command), and the inner command is analyzed as if
it stood alone, with the wrapper recorded in ``via``. Privilege wrappers add
``priv.escalate``; wrappers that take a shell string (``su -c``, ``watch``, ``env -S``) hand
it to the shell analyzer.
"""

from __future__ import annotations

from dataclasses import dataclass

from warden.core.analyze.invocation import Cmd, Flow
from warden.core.analyze.words import UNKNOWN
from warden.core.facts import Access


@dataclass(frozen=True)
class Spec:
    short_arg: str = ""  # short options that take a value
    long_arg: tuple[str, ...] = ()  # long options that take a value (without =)
    positionals: int = 0  # positionals before the command (timeout DURATION, chroot DIR)
    shell_opt: str = ""  # option whose value is a shell string (su -c)
    priv: bool = False
    assignments: bool = False  # VAR=value words before the command (env)


SPECS: dict[str, Spec] = {
    "sudo": Spec("ughpCDrtUT", ("--user", "--group", "--host", "--prompt", "--close-from", "--chdir",
                                "--role", "--type", "--other-user", "--command-timeout"), priv=True, assignments=True),
    "doas": Spec("uC", priv=True),
    "pkexec": Spec("", ("--user",), priv=True),
    "runuser": Spec("ugGsw", ("--user", "--group", "--shell", "--supp-group", "--whitelist-environment"),
                    shell_opt="c", priv=True),
    "su": Spec("sgGw", ("--shell", "--group", "--supp-group", "--whitelist-environment"), shell_opt="c", priv=True),
    "sg": Spec("", (), positionals=1, shell_opt="c"),
    "env": Spec("uCPS", ("--unset", "--chdir", "--split-string", "--block-signal", "--default-signal",
                         "--ignore-signal"), assignments=True),
    "nice": Spec("n", ("--adjustment",)),
    "ionice": Spec("cnpPtu", ("--class", "--classdata", "--pid", "--pgid", "--uid")),
    "nohup": Spec(),
    "timeout": Spec("sk", ("--signal", "--kill-after"), positionals=1),
    "time": Spec("fo", ("--format", "--output")),
    "stdbuf": Spec("ioe", ("--input", "--output", "--error")),
    "command": Spec(),
    "builtin": Spec(),
    "exec": Spec("a"),
    "chroot": Spec("", ("--userspec", "--groups"), positionals=1, priv=True),
    "setsid": Spec(),
    "unbuffer": Spec(),
    "taskset": Spec("", ("--cpu-list",), positionals=1),
    "chrt": Spec("T", ("--sched-runtime", "--sched-period", "--sched-deadline"), positionals=1),
    "flock": Spec("wEo", ("--timeout", "--conflict-exit-code"), positionals=1, shell_opt="c"),
    "strace": Spec("oepsSuEIbaPXU", ("--output", "--trace", "--attach", "--string-limit", "--user")),
    "ltrace": Spec("oepsSuEnaAD", ("--output",)),
    "proxychains": Spec("f"),
    "proxychains4": Spec("f"),
    "torsocks": Spec("uapP"),
    "torify": Spec(),
    "caffeinate": Spec("tw"),
    "fakeroot": Spec("sil"),
    "catchsegv": Spec(),
    "valgrind": Spec(),
    "xvfb-run": Spec("nsferpwe", ("--server-num", "--server-args", "--error-file", "--auth-file")),
    "dbus-run-session": Spec("", ("--config-file", "--dbus-daemon")),
    "nsenter": Spec("tSGrwmuinpUCTN", ("--target", "--setuid", "--setgid", "--root", "--wd"), priv=True),
    "unshare": Spec("", ("--propagation", "--setgroups", "--map-user", "--map-group", "--wd", "--root")),
    "systemd-run": Spec("pEMu", ("--property", "--setenv", "--machine", "--unit", "--description", "--slice",
                                 "--working-directory", "--on-calendar", "--on-active", "--uid", "--gid")),
    "sshpass": Spec("pfde"),
    "firejail": Spec(),
    "ssh-agent": Spec("aEPt"),
    "script": Spec("", ("--timing", "--log-in", "--log-out", "--log-io"), shell_opt="c"),
    "entr": Spec(),
    "dotenv": Spec("fvce"),
    "choom": Spec("np"),
    "prlimit": Spec("p"),
    "cpulimit": Spec("plz"),
    "trickle": Spec("udwtlnL"),
    "faketime": Spec("f"),
    "ccache": Spec(),
    "distcc": Spec(),
    "grc": Spec(),
    "rlwrap": Spec("aAbcCfHlmnNopPrRsSt"),
    "expect_unbuffer": Spec(),
    "coproc": Spec(),
}
# "X run CMD": project-tool runners that execute a command in the project's environment.
RUNNERS = {"uv": "run", "poetry": "run", "pipenv": "run", "pdm": "run", "hatch": "run", "rye": "run",
           "bundle": "exec", "conda": "run", "mamba": "run", "micromamba": "run", "pixi": "run", "direnv": "exec"}


def skip_options(args: list[str], spec: Spec) -> tuple[int, str | None, list[str]]:
    """Index of the command in ``args``, a shell string if the wrapper took one, assignments seen."""
    i, shell, assigns = 0, None, []
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a.startswith("--") and len(a) > 2:
            name = a.split("=", 1)[0]
            if spec.shell_opt and name == "--command":
                shell = a.split("=", 1)[1] if "=" in a else (args[i + 1] if i + 1 < len(args) else "")
                i += 1 if "=" in a else 2
                continue
            i += 2 if ("=" not in a and name in spec.long_arg) else 1
            continue
        if a.startswith("-") and len(a) > 1 and a != "-":
            j = 1
            consumed = 1
            while j < len(a):
                ch = a[j]
                if spec.shell_opt and ch == spec.shell_opt:
                    rest = a[j + 1:]
                    shell = rest if rest else (args[i + 1] if i + 1 < len(args) else "")
                    consumed = 1 if rest else 2
                    break
                if ch in spec.short_arg:
                    consumed = 1 if j + 1 < len(a) else 2
                    break
                j += 1
            i += consumed
            continue
        if spec.assignments and "=" in a and not a.startswith("=") and a.split("=", 1)[0].replace("_", "a").isalnum():
            assigns.append(a)
            i += 1
            continue
        break
    return i, shell, assigns


def _wrapper(cmd: Cmd) -> None:
    name = cmd.program
    spec = SPECS[name]
    args = cmd.args
    if name == "command" and args and args[0] in ("-v", "-V"):
        return  # `command -v x` looks a name up; it runs nothing
    if name == "env" and any(a in ("-S", "--split-string") or a.startswith(("-S", "--split-string=")) for a in args):
        _env_split(cmd)
        return
    start, shell, assigns = skip_options(args, spec)
    if spec.positionals:
        start += spec.positionals
        more, shell2, assigns2 = skip_options(args[start:], spec)
        start += more
        shell = shell if shell is not None else shell2
        assigns += assigns2
    if name in ("su", "runuser", "sg") and shell is None:
        # `su root -c CMD`: the user comes first, options may follow it
        for k, a in enumerate(args):
            if a in ("-c", "--command") and k + 1 < len(args):
                shell = args[k + 1]
            elif a.startswith("--command="):
                shell = a.split("=", 1)[1]
    if spec.priv:
        cmd.fact("priv.escalate", f"runs as another user via {name}", wrapper=name)
    for a in assigns:
        from warden.core.analyze.envvars import assignment_facts

        var, _, value = a.partition("=")
        for kind, detail in assignment_facts(var, [value]):
            cmd.fact(kind, detail, variable=var)
    if name == "script":
        _script(cmd, args, start, shell)
        return
    if shell is not None:
        if UNKNOWN in shell:
            cmd.opaque(f"{name} runs a shell string computed at run time")
        cmd.shell(shell, f"{name} -c")
        return
    inner = args[start:]
    if name == "sudo" and any(a in ("-e", "--edit") for a in args[:start]):
        for f in inner:
            cmd.path(f, Access.WRITE)
        return
    if not inner:
        if name == "env":
            from warden.core.analyze.invocation import SECRET

            cmd.fact("secret.env_dump", "env prints every environment variable, including secrets")
            cmd.out = Flow(frozenset({SECRET}))  # the dump sent anywhere else is exfiltration
            return
        if name in ("sudo", "su", "doas", "runuser", "pkexec", "sg", "nsenter", "chroot", "script"):
            cmd.fact("priv.shell" if spec.priv else "exec.interactive", f"{name} starts an interactive shell")
        return
    if name == "sudo" and any(a in ("-s", "--shell", "-i", "--login") for a in args[:start]):
        # sudo -s/-i CMD runs CMD through the target user's shell.
        cmd.shell(" ".join(inner), "sudo -s")
        return
    if name in ("strace", "ltrace", "time"):
        for k, a in enumerate(args[:start]):
            if a in ("-o", "--output") and k + 1 < len(args):
                cmd.path(args[k + 1], Access.WRITE)
    offset = 1 + start
    workdir = _workdir(name, args[:start])
    if workdir is not None:
        nested_in_dir(cmd, workdir, inner, cmd.taints[offset:offset + len(inner)], via=name)
        return
    cmd.nested(inner, cmd.taints[offset:offset + len(inner)], via=name)


# Wrapper options that run the command in another directory (`env -C / rm -rf *` deletes /*).
WORKDIR_OPTS = {"env": ("-C", "--chdir"), "sudo": ("-D", "--chdir"), "unshare": ("--wd",),
                "nsenter": ("-w", "--wd"), "systemd-run": ("--working-directory",)}


def _workdir(name: str, opts: list[str]) -> str | None:
    names = WORKDIR_OPTS.get(name, ())
    for i, a in enumerate(opts):
        if a in names and i + 1 < len(opts):
            return opts[i + 1]
        if a.startswith("--") and "=" in a and a.split("=", 1)[0] in names:
            return a.split("=", 1)[1]
        if len(a) > 2 and not a.startswith("--") and a[:2] in names:
            return a[2:]
    return None


def nested_in_dir(cmd: Cmd, workdir: str, argv: list[str], taints: list[frozenset[str]], via: str) -> None:
    """Analyze ``argv`` as run from ``workdir`` (if changing there fails, the command does not run)."""
    session = cmd.session
    saved = session.cwds
    session.change_dir(workdir)
    moved = session.cwds[len(saved):]
    session.cwds = moved or session.cwds
    try:
        cmd.nested(argv, taints, via=via)
    finally:
        session.cwds = saved


def _script(cmd: Cmd, args: list[str], start: int, shell: str | None) -> None:
    """`script [-c CMD] [FILE]`: FILE is the typescript it writes, not a program to run."""
    for k, a in enumerate(args[:start]):
        if a in ("--timing", "--log-in", "--log-out", "--log-io", "-O", "-I", "-B", "-T") and k + 1 < len(args):
            cmd.path(args[k + 1], Access.WRITE)
    for f in args[start:start + 1]:
        cmd.path(f, Access.WRITE)
    if shell is None:
        cmd.fact("exec.interactive", "script starts an interactive shell")
        return
    if UNKNOWN in shell:
        cmd.opaque("script runs a shell string computed at run time")
    cmd.shell(shell, "script -c")


def _env_split(cmd: Cmd) -> None:
    args = cmd.args
    for i, a in enumerate(args):
        if a in ("-S", "--split-string") and i + 1 < len(args):
            cmd.shell(" ".join(args[i + 1:]), "env -S")
            return
        if a.startswith("--split-string="):
            cmd.shell(a.split("=", 1)[1] + " " + " ".join(args[i + 1:]), "env -S")
            return
        if a.startswith("-S") and len(a) > 2:
            cmd.shell(a[2:] + " " + " ".join(args[i + 1:]), "env -S")
            return


def _runner(cmd: Cmd) -> None:
    args = cmd.args
    verb = RUNNERS[cmd.program]
    if not args or args[0] != verb:
        from warden.core.analyze.packages import HANDLERS as PKG

        other = PKG.get(cmd.program)
        if other is not None:
            other(cmd)
        return
    rest = args[1:]
    i = 0
    while i < len(rest) and rest[i].startswith("-"):
        if rest[i] == "--":
            i += 1
            break
        # options with values used by these runners
        i += 2 if rest[i] in ("-n", "--name", "-p", "--prefix", "--with", "-e", "--env", "--python", "--group",
                              "--extra", "--package", "--directory", "--env-file") else 1
    if cmd.program == "direnv" and i < len(rest):
        i += 1  # direnv exec DIR CMD
    inner = rest[i:]
    if inner:
        cmd.nested(inner, via=f"{cmd.program} {verb}")


def _watch(cmd: Cmd) -> None:
    args = cmd.args
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-n", "--interval", "-q", "--equexit") else 1
    inner = args[i:]
    if not inner:
        return
    if "-x" in args[:i] or "--exec" in args[:i]:
        cmd.nested(inner, via="watch")
    else:
        cmd.shell(" ".join(inner), "watch")


def _parallel(cmd: Cmd) -> None:
    args = cmd.args
    try:
        end = next(i for i, a in enumerate(args) if a in (":::", "::::", ":::+"))
    except StopIteration:
        end = len(args)
    i = 0
    while i < end and args[i].startswith("-"):
        i += 2 if args[i] in ("-j", "--jobs", "-S", "--sshlogin", "--joblog", "-a", "--arg-file") else 1
    inner = args[i:end]
    values = [a for a in args[end + 1:] if a not in (":::", "::::", ":::+")]
    if inner:
        text = " ".join(inner)
        for v in values[:8] or [UNKNOWN]:
            cmd.shell(text.replace("{}", v) if "{}" in text else f"{text} {v}", "parallel")
    elif values:
        for v in values[:16]:
            cmd.shell(v, "parallel")


def _brace_group(cmd: Cmd) -> None:
    """tree-sitter reads `time { ...; }` and `! { ...; }` as a command named `{`: run what is inside."""
    inner = [a for a in cmd.args if a != "}"]
    if inner:
        cmd.nested(inner, cmd.taints[1:1 + len(inner)], via="{ }")


def _coproc(cmd: Cmd) -> None:
    args = cmd.args
    start = 1 if len(args) >= 2 and args[1] in ("{", "(") else 0  # `coproc NAME { ...; }`
    if args[start:]:
        cmd.nested(args[start:], cmd.taints[1 + start:], via="coproc")


def _busybox(cmd: Cmd) -> None:
    if len(cmd.argv) > 1 and not cmd.argv[1].startswith("-"):
        cmd.nested(cmd.argv[1:], cmd.taints[1:], via="busybox")


XARGS_ARG = "aEdILlnPs"
XARGS_LONG = ("--arg-file", "--delimiter", "--eof", "--max-lines", "--max-args", "--max-procs", "--max-chars",
              "--process-slot-var", "--replace")


def _fd(cmd: Cmd) -> None:
    """`fd PATTERN [PATH] -x CMD...` / `-X CMD...` runs CMD on every match (`{}` is the match)."""
    args = cmd.args
    for i, a in enumerate(args):
        if a in ("-x", "--exec", "-X", "--exec-batch") and i + 1 < len(args):
            inner = args[i + 1:]
            if ";" in inner:
                inner = inner[:inner.index(";")]
            opts = args[:i]
            positional = [p for k, p in enumerate(opts) if not p.startswith("-") and (k == 0 or opts[k - 1] not in (
                "-e", "--extension", "-t", "--type", "-g", "--glob", "-d", "--max-depth", "-E", "--exclude",
                "-S", "--size", "--changed-within", "--changed-before", "-j", "--threads", "-o", "--owner"))]
            pattern, searched = (positional[0] if positional else ""), (positional[1:] or ["."])
            # like find: a real pattern or filter narrows the matches to files below the roots
            filtered = pattern not in ("", ".", "^", ".*") or any(
                o in ("-e", "--extension", "-g", "--glob") or o.startswith(("--extension=", "--glob=")) for o in opts)
            targets = [(r.rstrip("/") + "/{}") if filtered else r for r in searched]
            if not filtered:
                from warden.core.analyze.paths import bulk_read_facts

                for r in searched:  # `fd . ~ -x cat`: every file under the root, credentials included
                    for ref in cmd.session.resolve(r, Access.READ) or []:
                        for f in bulk_read_facts(ref, cmd.session.env):
                            cmd.fact(f.kind, f.detail, **f.data)
            many = targets if len(targets) <= 4 else [UNKNOWN]
            argv: list[str] = []
            for w in inner:
                if w == "{}" and len(many) > 1:
                    argv += many
                elif "{" in w:
                    argv.append(w.replace("{}", many[0]).replace("{//}", searched[0]).replace("{.}", many[0]))
                else:
                    argv.append(w)
            if not any("{" in w for w in inner):
                argv += many
            cmd.nested(argv, via=f"fd {a}")
            return


def _xargs_arg_file(flags: list[str]) -> str | None:
    for j, f in enumerate(flags):
        if f in ("-a", "--arg-file") and j + 1 < len(flags):
            return flags[j + 1]
        if f.startswith("--arg-file="):
            return f.split("=", 1)[1]
        if f.startswith("-a") and len(f) > 2:
            return f[2:]
    return None


def _xargs(cmd: Cmd) -> None:
    args = cmd.args
    i, replace = 0, None
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("-") or a == "-":
            break
        if a == "-I" and i + 1 < len(args):
            replace = args[i + 1]
            i += 2
            continue
        if a.startswith("-I") and len(a) > 2:
            replace = a[2:]
        elif a.startswith("-i") or a.startswith("--replace"):
            replace = a.split("=", 1)[1] if "=" in a else (a[2:] or "{}")
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            i += 2 if ("=" not in a and name in XARGS_LONG and name != "--replace") else 1
            continue
        i += 2 if (len(a) == 2 and a[1] in XARGS_ARG) else 1
    inner = args[i:] or ["echo"]
    stdin = cmd.inv.stdin
    taint = stdin.taint if stdin else frozenset()
    flags = args[:i]
    arg_file = _xargs_arg_file(flags)
    if arg_file is not None:
        # `-a FILE`: the items come from FILE, not from stdin (the file is read like `cat FILE`)
        cmd.path(arg_file, Access.READ)
        items = [] if arg_file == "/dev/null" else [UNKNOWN]
    elif stdin is not None and stdin.text is not None and UNKNOWN not in stdin.text:
        text = stdin.text
        if any(f in ("-0", "--null") or (f.startswith("-") and not f.startswith("--") and "0" in f) for f in flags):
            items = [p for p in text.rstrip("\n").split("\0") if p][:64]  # NUL-delimited: one item per NUL
        elif any(f in ("-d", "--delimiter") or f.startswith(("-d", "--delimiter=")) for f in flags) or replace or \
                any(f.startswith(("-L", "--max-lines", "-l")) for f in flags):
            items = [line for line in text.split("\n") if line][:64]  # line-delimited
        else:
            items = text.split()[:64]
    elif stdin is not None and stdin.items:
        items = list(stdin.items[:16])  # what find would list: classified like the real paths
    else:
        items = [UNKNOWN]
    if replace:
        argv = [a.replace(replace, items[0] if len(items) == 1 else UNKNOWN) for a in inner]
    else:
        argv = inner + items
    cmd.nested(argv, [frozenset()] * len(inner) + [taint] * (len(argv) - len(inner)), via="xargs", stdin=Flow())


# find: tests that select files (a find with one of these does not hit everything under its root).
FIND_FILTERS = frozenset({"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex",
                          "-newer", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-size", "-user",
                          "-group", "-perm", "-empty", "-links", "-inum", "-samefile", "-uid", "-gid", "-lname",
                          "-ilname", "-newermt", "-used", "-nouser", "-nogroup", "-prune", "-readable",
                          "-writable", "-executable"})
FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


def _find(cmd: Cmd) -> None:
    args = cmd.args
    i = 0
    while i < len(args) and (args[i] in ("-H", "-L", "-P") or args[i].startswith("-O")):
        i += 1
    roots: list[str] = []
    while i < len(args) and not args[i].startswith(("-", "(", "!")) and args[i] not in (")", ","):
        roots.append(args[i])
        i += 1
    roots = roots or ["."]
    expr = args[i:]
    names = [expr[k + 1] for k, a in enumerate(expr[:-1]) if a in ("-name", "-iname")]
    # -name '*' matches everything: it narrows nothing
    filtered = any(a in FIND_FILTERS and not (a in ("-name", "-iname") and expr[k + 1:k + 2] in (["*"], [".*"]))
                   for k, a in enumerate(expr))
    wheres = [expr[k + 1] for k, a in enumerate(expr[:-1]) if a in ("-path", "-ipath", "-wholename")]
    for r in roots:
        cmd.path(r, Access.READ)
    # What find visits: everything under a root, or (filtered) files whose names match.
    leaf = "/{}/" + names[0] if len(names) == 1 and "/" not in names[0] else "/{}"
    if wheres:
        where = wheres[0]
        while where.startswith(("*/", "./", "/")):
            where = where[1:] if where.startswith("/") else where[2:]
        leaf = "/{}/" + where
    targets = [r if not filtered else (r.rstrip("/") + leaf) for r in roots]
    from warden.core.analyze.invocation import DYNAMIC

    cmd.out = Flow(frozenset({DYNAMIC}), items=tuple(targets))
    if any(a in FIND_EXEC for a in expr) and not filtered:
        from warden.core.analyze.paths import bulk_read_facts

        for r in roots:
            for ref in cmd.session.resolve(r, Access.READ) or []:
                for f in bulk_read_facts(ref, cmd.session.env):
                    cmd.fact(f.kind, f.detail, **f.data)
    j = 0
    while j < len(expr):
        a = expr[j]
        if a == "-delete":
            for t in targets:
                cmd.path(t, Access.DELETE, op="delete")
        elif a in ("-fprint", "-fprint0", "-fls", "-fprintf") and j + 1 < len(expr):
            cmd.path(expr[j + 1], Access.WRITE)
        elif a in FIND_EXEC:
            k = j + 1
            while k < len(expr) and expr[k] not in (";", "+"):
                k += 1
            inner = expr[j + 1:k]
            if inner:
                many = targets if len(targets) <= 4 else [UNKNOWN]
                argv: list[str] = []
                for part in inner:
                    if "{}" in part:
                        if part == "{}" and len(many) > 1:
                            argv += many
                        else:
                            argv.append(part.replace("{}", many[0] if len(many) == 1 else UNKNOWN))
                    else:
                        argv.append(part)
                cmd.nested(argv, via=f"find {a}", stdin=Flow())
            j = k
        j += 1


HANDLERS = {name: _wrapper for name in SPECS}
HANDLERS.update({name: _runner for name in RUNNERS})
HANDLERS.update({"fd": _fd, "fdfind": _fd})
HANDLERS.update({"watch": _watch, "parallel": _parallel, "busybox": _busybox, "toybox": _busybox, "xargs": _xargs,
                 "find": _find, "{": _brace_group, "coproc": _coproc})

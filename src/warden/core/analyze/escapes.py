"""Code-execution escapes hidden in ordinary tools' arguments.

``vim -c '!rm -rf ~'``, ``awk 'BEGIN{system("sh")}'``, ``tar --checkpoint-action=exec=sh``,
``zip -TT cmd``, ``ssh -o ProxyCommand=cmd``, ``rsync -e cmd``, ``rg --pre cmd``, sed's ``e``,
``gdb -ex 'shell ...'``, ``make --eval``, ``sqlite3 '.shell ...'``: each yields
``exec.escape`` (the policy asks) and, when the escaped command is literal, that command is
analyzed like any other (so a catastrophic one is still denied).
"""

from __future__ import annotations

from warden.core.analyze.invocation import Cmd
from warden.core.facts import Access


def escape(cmd: Cmd, how: str, shell_text: str | None = None) -> None:
    cmd.fact("exec.escape", f"{cmd.program} runs other commands via {how}", how=how)
    if shell_text is not None and shell_text.strip():
        cmd.shell(shell_text, f"{cmd.program} {how}")


def _value(args: list[str], i: int, names: tuple[str, ...]) -> str | None:
    """Value of option args[i] if it is one of ``names`` (``--x=v``, ``--x v``, ``-Xv``)."""
    a = args[i]
    for n in names:
        if a == n:
            return args[i + 1] if i + 1 < len(args) else ""
        if n.startswith("--") and a.startswith(n + "="):
            return a[len(n) + 1:]
        if not n.startswith("--") and len(n) == 2 and a.startswith(n) and len(a) > 2:
            return a[2:]
    return None


def _vim_command(cmd: Cmd, text: str) -> None:
    t = text.lstrip(": \t")
    if t.startswith("!"):
        escape(cmd, "a :! command", t[1:])
    elif t.startswith(("sh", "terminal", "term ")) or t in ("shell",):
        escape(cmd, ":shell")
    elif any(k in t for k in ("system(", "systemlist(", "py3 ", "py ", "python", "lua ", "perl ", "ruby ",
                              "call ", "execute", "exe ", "!", "job_start", "jobstart", "termopen")):
        escape(cmd, "vim script")
    elif t.startswith(("w ", "w!", "wq", "x", "sav")):
        target = t.split(None, 1)[1] if " " in t else ""
        if target:
            cmd.path(target.strip(), Access.WRITE)


def _vim(cmd: Cmd) -> None:
    args = cmd.args
    i = 0
    files = []
    while i < len(args):
        a = args[i]
        if a in ("-c", "--cmd") and i + 1 < len(args):
            _vim_command(cmd, args[i + 1])
            i += 2
            continue
        if a.startswith("+") and len(a) > 1:
            _vim_command(cmd, a[1:])
        elif a in ("-S", "-u", "-U", "-s", "-w", "-W", "-i", "-T", "-t", "-q", "-r", "-V"):
            if a in ("-S", "-u", "-s") and i + 1 < len(args):
                escape(cmd, f"{a} (runs a vim script)")
            i += 2
            continue
        elif not a.startswith("-"):
            files.append(a)
        i += 1
    for f in files:
        cmd.path(f, Access.WRITE)


def _awk_program(cmd: Cmd, prog: str) -> None:
    # system("...") and "cmd" | getline and print | "cmd" run shell commands.
    start = 0
    while True:
        k = prog.find("system(", start)
        if k < 0:
            break
        start = k + 7
        rest = prog[start:start + 4096].lstrip()
        if rest.startswith('"'):
            end = rest.find('"', 1)
            escape(cmd, "awk system()", rest[1:end] if end > 0 else None)
            if end < 0 or not rest[end + 1:].lstrip().startswith(")"):
                cmd.opaque("awk system() with a command built at run time")
        else:
            escape(cmd, "awk system()")
            cmd.opaque("awk system() with a command built at run time")
    if "getline" in prog or "|&" in prog:
        for part in prog.split('"')[1::2]:
            if part and ("|" in prog[prog.find(part) + len(part):prog.find(part) + len(part) + 4] or
                         "|" in prog[max(0, prog.find(part) - 4):prog.find(part)]):
                escape(cmd, "awk pipes", part)
    if "/inet/" in prog:
        cmd.fact("net.connect", "awk opens a network connection (/inet/)", program=cmd.program)
        if "|&" in prog and ("sh" in prog or "getline" in prog):
            cmd.fact("net.reverse_shell", "awk connects a network socket to commands: a reverse shell")
    idx = 0
    while True:
        k = prog.find("| \"", idx)
        if k < 0:
            k2 = prog.find('|"', idx)
            if k2 < 0:
                break
            k = k2 - 1
        end = prog.find('"', k + 3)
        if end < 0:
            break
        escape(cmd, "awk print | command", prog[k + 3:end])
        idx = end + 1
    for marker in ('> "', '>> "', '>"'):
        pos = prog.find(marker)
        if pos >= 0:
            start = pos + len(marker)
            end = prog.find('"', start)
            if end > start:
                cmd.path(prog[start:end], Access.WRITE)


def _awk(cmd: Cmd) -> None:
    args = cmd.args
    i, prog, has_f = 0, None, False
    files = []
    while i < len(args):
        a = args[i]
        if a in ("-F", "-v", "--assign", "--field-separator") and i + 1 < len(args):
            i += 2
            continue
        if a in ("-f", "--file") and i + 1 < len(args):
            from warden.core.analyze.implicit import code_from_descriptor

            has_f = True
            if not code_from_descriptor(cmd, args[i + 1]):
                refs = cmd.path(args[i + 1], Access.READ)
                if refs and all(r.in_workspace for r in refs):
                    # the project's own awk program, trusted like its other scripts
                    cmd.fact("exec.script", f"awk runs a program from the workspace: {refs[0].path}")
                else:
                    escape(cmd, "an awk script file")
            i += 2
            continue
        if a in ("-e", "--source") and i + 1 < len(args):
            _awk_program(cmd, args[i + 1])
            has_f = True
            i += 2
            continue
        if a.startswith("-") and len(a) > 1 and prog is None:
            i += 1
            continue
        if prog is None and not has_f:
            prog = a
        elif "=" not in a:
            files.append(a)
        i += 1
    if prog:
        _awk_program(cmd, prog)
    for f in files:
        cmd.path(f, Access.READ)
    from warden.core.analyze.invocation import DYNAMIC, Flow

    cmd.out = Flow((cmd.inv.stdin.taint if cmd.inv.stdin else frozenset()) | {DYNAMIC})


def _sed_script(cmd: Cmd, script: str) -> None:
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if c in " \t\n;{}!0123456789$,+~" or c == "\\":
            i += 1
            continue
        if c == "/":  # address regex
            j = i + 1
            while j < n and script[j] != "/":
                j += 2 if script[j] == "\\" else 1
            i = j + 1
            continue
        if c in "sy":
            if i + 1 >= n:
                break
            delim = script[i + 1]
            j, parts = i + 2, 0
            while j < n and parts < 2:
                if script[j] == "\\":
                    j += 2
                    continue
                if script[j] == delim:
                    parts += 1
                j += 1
            k = j
            while k < n and script[k] not in ";\n}":
                k += 1
            flags = script[j:k]
            if c == "s" and "e" in flags.split("w")[0]:
                escape(cmd, "sed s///e")
                cmd.opaque("sed's e flag runs the pattern space as a command")
            if c == "s" and "w" in flags:
                target = flags.split("w", 1)[1].strip()
                if target:
                    cmd.path(target, Access.WRITE)
            i = k
            continue
        if c in "ewWrR":
            k = script.find("\n", i)
            k = n if k < 0 else k
            arg = script[i + 1:k].strip()
            if c == "e":
                escape(cmd, "sed e", arg or None)
                if not arg:
                    cmd.opaque("sed's e command runs the pattern space as a command")
            elif arg:
                cmd.path(arg, Access.WRITE if c in "wW" else Access.READ)
            i = k
            continue
        if c in "aic":
            k = script.find("\n", i)
            i = n if k < 0 else k
            continue
        i += 1


def _sed(cmd: Cmd) -> None:
    args = cmd.args
    i, script, in_place, scripts = 0, None, False, []
    files = []
    while i < len(args):
        a = args[i]
        if a in ("-e", "--expression") and i + 1 < len(args):
            scripts.append(args[i + 1])
            i += 2
            continue
        if a.startswith("--expression="):
            scripts.append(a.split("=", 1)[1])
        elif a in ("-f", "--file") and i + 1 < len(args):
            from warden.core.analyze.implicit import code_from_descriptor

            if not code_from_descriptor(cmd, args[i + 1]):
                cmd.path(args[i + 1], Access.READ)
            scripts.append("")
            i += 2
            continue
        elif a.startswith("-i") or a.startswith("--in-place") or (a.startswith("-") and not a.startswith("--")
                                                                 and "i" in a[1:]):
            in_place = True
        elif a in ("-l", "--line-length") and i + 1 < len(args):
            i += 2
            continue
        elif a.startswith("-") and len(a) > 1:
            pass
        elif not scripts and script is None:
            script = a
        else:
            files.append(a)
        i += 1
    for s in scripts + ([script] if script else []):
        _sed_script(cmd, s)
    for f in files:
        cmd.path(f, Access.WRITE if in_place else Access.READ)
    from warden.core.analyze.invocation import DYNAMIC, Flow

    cmd.out = Flow((cmd.inv.stdin.taint if cmd.inv.stdin else frozenset()) | {DYNAMIC})


def _pager(cmd: Cmd) -> None:
    args = cmd.args
    files = []
    for i, a in enumerate(args):
        v = _value(args, i, ("-P", "--pager", "-H", "--html"))
        if v is not None and cmd.program in ("man",):
            escape(cmd, "a custom pager", v)
        elif cmd.program == "less" and a in ("-o", "-O", "--log-file", "--LOG-FILE") and i + 1 < len(args):
            cmd.path(args[i + 1], Access.WRITE)
        elif a.startswith("+") and any(ch in a for ch in "!|"):
            escape(cmd, "a start-up command", a[1:].lstrip("!|") or None)
        elif not a.startswith(("-", "+")):
            files.append(a)
    for f in files:
        # `man ./page.1` or `man /any/file` formats and shows that file (a page name has no slash)
        if cmd.program != "man" or "/" in f:
            cmd.path(f, Access.READ)


def tar_escapes(cmd: Cmd) -> None:
    args = cmd.args
    for i, a in enumerate(args):
        v = _value(args, i, ("--to-command", "--use-compress-program", "-I", "--rsh-command", "--info-script",
                             "--new-volume-script", "-F"))
        if v is not None:
            escape(cmd, a.split("=", 1)[0], v)
        if a.startswith("--checkpoint-action"):
            action = a.split("=", 1)[1] if "=" in a else (args[i + 1] if i + 1 < len(args) else "")
            if action.startswith(("exec=", "exec:")):
                escape(cmd, "--checkpoint-action=exec", action[5:])
            elif action.startswith("exec"):
                escape(cmd, "--checkpoint-action=exec")


def zip_escapes(cmd: Cmd) -> None:
    args = cmd.args
    for i, _a in enumerate(args):
        v = _value(args, i, ("-TT", "--unzip-command"))
        if v is not None:
            escape(cmd, "--unzip-command", v)


def ssh_escapes(cmd: Cmd) -> None:
    args = cmd.args
    for i, a in enumerate(args):
        opt = None
        if a == "-o" and i + 1 < len(args):
            opt = args[i + 1]
        elif a.startswith("-o") and len(a) > 2:
            opt = a[2:]
        if opt is not None:
            key, _, value = opt.replace("=", " ", 1).partition(" ")
            if key.lower() in ("proxycommand", "localcommand", "knownhostscommand", "remotecommand"):
                escape(cmd, key, value.strip() or None)
            elif key.lower() == "permitlocalcommand" and value.strip().lower() == "yes":
                escape(cmd, "PermitLocalCommand")
        if a == "-F" and i + 1 < len(args):
            cmd.path(args[i + 1], Access.READ)
            escape(cmd, "-F (an ssh config file may run commands)")


def rsync_escapes(cmd: Cmd) -> None:
    args = cmd.args
    for i, _a in enumerate(args):
        v = _value(args, i, ("-e", "--rsh"))
        if v is not None:
            prog = v.split()[0].rsplit("/", 1)[-1] if v.split() else ""
            if prog != "ssh":
                escape(cmd, "-e", v)
            elif any(k in v.lower() for k in ("proxycommand", "localcommand", "knownhostscommand")):
                escape(cmd, "-e 'ssh -o ...Command'")
                cmd.opaque("rsync -e passes ssh an option that runs a command")
        v = _value(args, i, ("--rsync-path",))
        if v is not None:
            cmd.fact("net.remote_exec", f"rsync --rsync-path runs {v} on the remote host")
            escape(cmd, "--rsync-path", v)


def _rg(cmd: Cmd) -> None:
    from warden.core.analyze.fsops import _grep

    _grep(cmd)
    args = cmd.args
    for i, _a in enumerate(args):
        v = _value(args, i, ("--pre",))
        if v is not None:
            escape(cmd, "--pre", v)


GDB_DUMP_WORDS = frozenset({"binary", "ihex", "srec", "tekhex", "verilog", "value", "memory"})


def _gdb_dump(cmd: Cmd, words: list[str]) -> None:
    """`dump [FORMAT] value|memory FILE ...` and `append ...` write FILE."""
    target = next((w for w in words[1:] if w not in GDB_DUMP_WORDS), None)
    if target is not None:
        cmd.path(target, Access.WRITE)


def _gdb(cmd: Cmd) -> None:
    args = cmd.args
    for i, a in enumerate(args):
        v = _value(args, i, ("-ex", "--eval-command", "-iex", "--init-eval-command"))
        if v is not None:
            t = v.strip()
            if t.startswith(("shell ", "!")):
                escape(cmd, "gdb shell", t.split(" ", 1)[1] if t.startswith("shell ") else t[1:])
            elif t.startswith(("python", "py ", "pi", "call ", "source", "pipe", "|", "define")):
                escape(cmd, "gdb script")
                cmd.opaque("gdb runs script code")
            elif t.startswith(("dump ", "append ")):
                _gdb_dump(cmd, t.split())
        if a in ("-x", "--command", "-ix") and i + 1 < len(args):
            escape(cmd, "a gdb command file")
        if a in ("-p", "--pid") or a.startswith("--pid="):
            cmd.fact("sys.ptrace", "gdb attaches to a running process")


def _expect(cmd: Cmd) -> None:
    args = cmd.args
    for i, a in enumerate(args):
        if a == "-c" and i + 1 < len(args):
            code = args[i + 1]
            escape(cmd, "expect -c")
            for line in code.replace(";", "\n").split("\n"):
                line = line.strip()
                if line.startswith("spawn "):
                    cmd.shell(line[6:], "expect spawn")
                elif line.startswith("exec "):
                    cmd.shell(line[5:], "expect exec")
            return
    positional = [a for a in args if not a.startswith("-")]
    if positional:
        cmd.path(positional[0], Access.EXEC)
        escape(cmd, "an expect script")
    elif cmd.inv.stdin is not None:
        escape(cmd, "an expect script on stdin")
        cmd.opaque("expect runs a script from stdin")


def _make(cmd: Cmd) -> None:
    args = cmd.args
    for i, a in enumerate(args):
        v = _value(args, i, ("--eval", "-E"))
        if v is not None:
            escape(cmd, "--eval")
            if "$(shell" in v:
                cmd.opaque("make --eval runs $(shell ...)")
        v = _value(args, i, ("-f", "--file", "--makefile"))
        from warden.core.analyze.implicit import code_from_descriptor

        if v is not None and code_from_descriptor(cmd, v):
            continue
        if v is not None:
            for ref in cmd.path(v, Access.EXEC):
                if not ref.in_workspace:
                    cmd.fact("exec.script_outside", f"make runs a makefile from outside the workspace: {ref.path}")
        if a.startswith(("SHELL=", ".SHELLFLAGS=", "MAKESHELL=")):
            escape(cmd, a.split("=", 1)[0])
        v = _value(args, i, ("-C", "--directory"))
        if v is not None:
            for ref in cmd.path(v, Access.READ):
                if not ref.in_workspace:
                    cmd.fact("exec.script_outside", f"make builds a directory outside the workspace: {ref.path}")


SQLITE_WRITES = (".output", ".once", ".excel", ".open", ".save", ".backup", ".dump")
SQLITE_READS = (".import", ".read", ".restore")


def _sqlite_dots(cmd: Cmd, text: str) -> None:
    """Dot commands, given as arguments or on stdin, that run programs or touch files."""
    for line in text.split("\n"):
        s = line.strip()
        for dot in (".shell", ".system", ".load", *SQLITE_WRITES, *SQLITE_READS):
            if dot not in s:
                continue
            rest = s.split(dot, 1)[1]
            if dot in (".shell", ".system"):
                escape(cmd, dot, rest)
            elif dot == ".load":
                escape(cmd, ".load (loads a native extension)")
            elif dot != ".dump":
                words = [w for w in rest.split() if not w.startswith("-")]
                if words:
                    cmd.path(words[0].strip("'\""), Access.READ if dot in SQLITE_READS else Access.WRITE)


def _sqlite(cmd: Cmd) -> None:
    args = [a for a in cmd.args if not a.startswith("-")]
    if args:
        cmd.path(args[0], Access.WRITE)
    for sql in args[1:]:
        _sqlite_dots(cmd, sql)
    from warden.core.analyze.cloud import sql_facts

    for sql in args[1:]:
        sql_facts(cmd, sql)
    if cmd.inv.stdin is not None and cmd.inv.stdin.text:
        sql_facts(cmd, cmd.inv.stdin.text)
        _sqlite_dots(cmd, cmd.inv.stdin.text)


def _exiftool(cmd: Cmd) -> None:
    args = cmd.args
    # any `-TAG=...` or `-TAG<=...` assignment rewrites the operands in place
    writes = any(a.startswith("-") and ("=" in a) and not a.startswith("--") for a in args)
    for i, a in enumerate(args):
        low = a.lower()
        if low in ("-if", "-if2", "-if3", "-if4", "-if5") and i + 1 < len(args):
            escape(cmd, "-if (a Perl expression)")
        elif low.startswith(("-filename=", "-directory=", "-testname=", "-hardlink=", "-symlink=")):
            cmd.path(a.split("=", 1)[1], Access.WRITE)  # the file is moved, renamed or linked there
        elif "<=" in a and a.startswith("-"):
            cmd.path(a.split("<=", 1)[1], Access.READ)  # `-TAG<=FILE` copies FILE into a tag
        elif low in ("-o", "-out", "-w", "-textout", "-w!", "-w+") and i + 1 < len(args):
            cmd.path(args[i + 1], Access.WRITE)
        elif not a.startswith("-") and not (i > 0 and args[i - 1].lower() in (
                "-if", "-p", "-d", "-api", "-charset", "-lang", "-sep", "-ext", "-o", "-out", "-w", "-@",
                "-tagsfromfile", "-userparam", "-x", "-fileorder", "-srcfile")):
            cmd.path(a, Access.WRITE if writes else Access.READ)


def _editor_eval(cmd: Cmd) -> None:
    args = cmd.args
    for _i, a in enumerate(args):
        if a in ("--eval", "-eval", "-l", "--load", "-batch", "--batch", "--script", "-x"):
            escape(cmd, a)
            return
    for a in args:
        if not a.startswith(("-", "+")):
            cmd.path(a, Access.WRITE)


def _tmux(cmd: Cmd) -> None:
    args = cmd.args
    if not args:
        cmd.fact("exec.interactive", "tmux starts an interactive terminal")
        return
    if "send-keys" in args or "send" in args:
        keys = [a for a in args[args.index("send-keys" if "send-keys" in args else "send") + 1:]
                if not a.startswith("-") and a not in ("Enter", "C-m", "KPEnter")]
        escape(cmd, "send-keys", " ".join(keys[1:] if keys and ":" in keys[0] else keys))
        return
    for verb in ("new-session", "new", "new-window", "neww", "split-window", "splitw", "run-shell", "run",
                 "respawn-pane", "pipe-pane"):
        if verb in args:
            rest = args[args.index(verb) + 1:]
            i = 0
            while i < len(rest) and rest[i].startswith("-"):
                i += 2 if rest[i] in ("-s", "-n", "-t", "-c", "-x", "-y", "-e", "-F", "-l") else 1
            if rest[i:]:
                escape(cmd, f"tmux {verb}", " ".join(rest[i:]))
            return


def _screen(cmd: Cmd) -> None:
    args = cmd.args
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-S", "-c", "-e", "-L", "-Logfile", "-p", "-r", "-x", "-X", "-s", "-t") else 1
    if args[i:]:
        cmd.nested(args[i:], via="screen")


def _filters(cmd: Cmd) -> None:
    """split --filter / sort --compress-program: a program run on data."""
    args = cmd.args
    for i, a in enumerate(args):
        v = _value(args, i, ("--filter", "--compress-program"))
        if v is not None:
            escape(cmd, a.split("=", 1)[0], v)
    from warden.core.analyze.fsops import HANDLERS as FS

    base = FS.get(cmd.program)
    if base is not None:
        base(cmd)


def _rpm(cmd: Cmd) -> None:
    for i, _a in enumerate(cmd.args):
        v = _value(cmd.args, i, ("--eval", "-E"))
        if v is not None and "%(" in v:
            escape(cmd, "rpm --eval %(...)", v.split("%(", 1)[1].rsplit(")", 1)[0])


HANDLERS = {name: _vim for name in ("vim", "vi", "nvim", "ex", "view", "vimdiff", "rvim", "gvim", "nvi", "elvis")}
HANDLERS.update({name: _awk for name in ("awk", "gawk", "mawk", "nawk", "busybox-awk")})
HANDLERS.update({name: _sed for name in ("sed", "gsed")})
HANDLERS.update({name: _pager for name in ("less", "more", "man", "most", "pg")})
HANDLERS.update({"rg": _rg, "gdb": _gdb, "lldb": _gdb, "expect": _expect, "make": _make, "gmake": _make,
                 "sqlite3": _sqlite, "exiftool": _exiftool, "emacs": _editor_eval, "nano": _editor_eval, "tmux": _tmux, "screen": _screen,
                 "split": _filters, "sort": _filters, "rpm": _rpm})

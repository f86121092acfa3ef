"""Developer tools with effects beyond their name: runners that take a command (perf, hyperfine,
version managers), deploy CLIs, migration tools that drop databases, compilers and in-place
editors that write where ``-o``/``-i`` says, and network configuration.
"""

from __future__ import annotations

from warden.core.analyze.invocation import Cmd
from warden.core.facts import Access

# `TOOL [sub] [opts] [--] CMD...`: the command runs. value: subcommands that take a command.
COMMAND_RUNNERS = {
    "perf": ("stat", "record", "trace", "top", "sched", "mem", "lock", "kvm", "c2c"),
    "asdf": ("exec",), "mise": ("exec", "x"), "rtx": ("exec", "x"), "pyenv": ("exec",), "rbenv": ("exec",),
    "nodenv": ("exec",), "goenv": ("exec",), "nvm": ("exec", "run"), "fnm": ("exec",), "volta": ("run",),
    "dotenvx": ("run",), "op": ("run",), "doppler": ("run",), "infisical": ("run",), "aws-vault": ("exec",),
    "chamber": ("exec",), "sops": ("exec-env", "exec-file"), "nx": ("exec",), "lerna": ("exec",),
}
# Watchers and runners that take a shell string as an option value.
SHELL_OPTS = {"nodemon": ("-x", "--exec"), "cargo-watch": ("-s", "--shell"), "firebase": ("emulators:exec",)}
RUNNER_VALUE_OPTS = ("-e", "--event", "-o", "--output", "-p", "--pid", "-r", "--repeat", "-c", "--count", "-F",
                     "--freq", "--profile", "--env-file", "-f")


def _command_runner(cmd: Cmd) -> None:
    args = cmd.args
    subs = COMMAND_RUNNERS.get(cmd.program, ())
    if not args or (subs and args[0] not in subs):
        return
    i = 1 if subs else 0
    if "--" in args[i:]:
        inner = args[args.index("--", i) + 1:]
    else:
        while i < len(args) and args[i].startswith("-"):
            i += 2 if args[i] in RUNNER_VALUE_OPTS else 1
        if cmd.program in ("nvm",) and i < len(args):
            i += 1  # nvm exec VERSION CMD
        inner = args[i:]
    if inner:
        cmd.nested(inner, via=f"{cmd.program} {args[0] if subs else ''}".strip())


def _shell_opts(cmd: Cmd) -> None:
    args = cmd.args
    program = cmd.program
    if program in DEPLOY_VERBS:
        _deploy(cmd)
    if program == "cargo":
        if args[:1] != ["watch"]:
            return
        program, args = "cargo-watch", args[1:]
    names = SHELL_OPTS[program]
    for i, a in enumerate(args):
        if a in names and i + 1 < len(args):
            cmd.shell(args[i + 1], f"{program} {a}")
        elif a.startswith("--") and a.split("=", 1)[0] in names and "=" in a:
            cmd.shell(a.split("=", 1)[1], f"{program} {a.split('=', 1)[0]}")


PYTEST_VALUE_OPTS = ("-k", "-m", "-p", "-c", "-o", "--rootdir", "--basetemp", "--junitxml", "--cov",
                     "--cov-report", "--tb", "-n", "--maxfail", "--durations", "--log-level", "--ignore", "--deselect",
                     "-W", "--confcutdir", "--override-ini", "--import-mode", "--capture", "--dist", "-r")


def _pytest(cmd: Cmd) -> None:
    """Test files and directories given to pytest are imported and run: outside the workspace they are not
    the project's code."""
    args = cmd.args
    for i, a in enumerate(args):
        if a.startswith("-") or (i > 0 and args[i - 1] in PYTEST_VALUE_OPTS):
            continue
        target = a.split("::", 1)[0]
        if "/" in target or target.endswith(".py"):
            refs = cmd.path(target, Access.READ)
            if refs and not any(r.in_workspace for r in refs):
                cmd.fact("exec.script_outside", f"pytest runs tests from outside the workspace: {refs[0].path}",
                         path=refs[0].path)


def _pre_commit(cmd: Cmd) -> None:
    """`pre-commit try-repo REPO` runs the hooks of another repository."""
    args = [a for a in cmd.args if not a.startswith("-")]
    if args[:1] != ["try-repo"] or len(args) < 2:
        return
    repo = args[1]
    if "://" in repo or repo.startswith("git@"):
        cmd.fact("exec.remote_package", f"pre-commit try-repo fetches and runs hooks from {repo}", package=repo)
        return
    from warden.core.analyze.interpreters import script_file

    script_file(cmd, repo)


def _hyperfine(cmd: Cmd) -> None:
    """hyperfine runs each positional (and --prepare/--setup/--cleanup value) as shell code."""
    args = cmd.args
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-p", "--prepare", "-s", "--setup", "-c", "--conclude", "--cleanup") and i + 1 < len(args):
            cmd.shell(args[i + 1], f"hyperfine {a}")
            i += 2
            continue
        if a in ("-r", "--runs", "-w", "--warmup", "-m", "--min-runs", "-M", "--max-runs", "-L", "--parameter-list",
                 "-P", "--parameter-scan", "-S", "--shell", "--export-json", "--export-markdown", "--export-csv",
                 "-n", "--command-name", "-u", "--time-unit", "--style", "--sort", "--output", "-D",
                 "--parameter-step-size"):
            if a in ("--export-json", "--export-markdown", "--export-csv") and i + 1 < len(args):
                cmd.path(args[i + 1], Access.WRITE)
            i += 2 if a not in ("-L", "--parameter-list", "-P", "--parameter-scan") else 3
            continue
        if not a.startswith("-"):
            cmd.shell(a, "hyperfine")
        i += 1


DEPLOY_VERBS = {"vercel": ("deploy", "--prod", "promote", "rollback", "remove", "rm"),
                "netlify": ("deploy",), "firebase": ("deploy", "hosting:disable", "projects:delete"),
                "wrangler": ("deploy", "publish", "delete", "secret"), "flyctl": ("deploy", "destroy", "apps"),
                "fly": ("deploy", "destroy"), "heroku": ("releases:rollback", "apps:destroy", "pg:reset"),
                "serverless": ("deploy", "remove"), "sls": ("deploy", "remove"), "amplify": ("publish", "push"),
                "railway": ("up", "down"), "fastlane": ("deliver", "pilot", "supply", "release", "beta"),
                "eas": ("submit", "update", "build"), "cdk": ("deploy", "destroy"), "sam": ("deploy", "delete"),
                "expo": ("publish",), "supabase": ("db", "functions")}


def _deploy(cmd: Cmd) -> None:
    args = cmd.args
    verbs = DEPLOY_VERBS.get(cmd.program, ())
    if cmd.program == "vercel" and (not args or all(a.startswith("-") for a in args)):
        cmd.fact("pkg.publish", "vercel deploys the project")
        return
    hit = next((a for a in args if a in verbs), None)
    if hit is None:
        return
    if any(w in hit for w in ("destroy", "delete", "remove", "rm", "reset", "down")) or (
            hit == "apps" and "destroy" in args):
        cmd.fact("cloud.delete", f"{cmd.program} {hit} removes a deployment or its data")
    elif cmd.program == "supabase" and "reset" in args:
        cmd.fact("db.destroy", "supabase db reset drops the database")
    else:
        cmd.fact("pkg.publish", f"{cmd.program} {hit} deploys or publishes")


# migration tools: verbs that drop or wipe the database
DB_WIPES = {"prisma": (("migrate", "reset"), ("db", "push", "--force-reset")), "rails": (("db:drop",), ("db:reset",),
            ("db:schema:load",), ("db:purge",)), "rake": (("db:drop",), ("db:reset",), ("db:purge",)),
            "flyway": (("clean",),), "liquibase": (("dropAll",), ("drop-all",)), "sqlx": (("database", "drop"),
            ("database", "reset")), "diesel": (("database", "reset"),), "migrate": (("drop",),),
            "django-admin": (("flush",), ("reset_db",)), "alembic": (("downgrade", "base"),),
            "dbmate": (("drop",),), "goose": (("reset",),), "knex": (("migrate:rollback", "--all"),),
            "sequelize": (("db:drop",), ("db:migrate:undo:all",)), "typeorm": (("schema:drop",),)}


def _migrations(cmd: Cmd) -> None:
    args = cmd.args
    if cmd.program == "rake":
        _rake(cmd)
    for pattern in DB_WIPES.get(cmd.program, ()):
        if all(p in args for p in pattern):
            cmd.fact("db.destroy", f"{cmd.program} {' '.join(pattern)} drops or wipes the database")
            return


def _rake_sh(code: str) -> list[str]:
    """The literal commands of Rake's `sh "CMD"` / `sh('CMD')` calls (a plain scan, no regex)."""
    out, i = [], code.find("sh")
    while i >= 0 and len(out) < 8:
        j = i + 2
        if (i == 0 or not (code[i - 1].isalnum() or code[i - 1] == "_")) and j < len(code) and code[j] in " (":
            j += 1
            while j < len(code) and code[j] == " ":
                j += 1
            if j < len(code) and code[j] in "'\"":
                end = code.find(code[j], j + 1)
                if end > j:
                    out.append(code[j + 1:end])
        i = code.find("sh", i + 2)
    return out


def _rake(cmd: Cmd) -> None:
    """rake -e/-p/-E run Ruby code; -f/-r/-R load Ruby files (the Rakefile is code)."""
    from warden.core.analyze.interpreters import run_code, script_file

    args = cmd.args
    for i, a in enumerate(args):
        if a in ("-e", "--execute", "-p", "--execute-print", "-E", "--execute-continue") and i + 1 < len(args):
            run_code(cmd, "ruby", args[i + 1], cmd.taint_of(i + 2), f"rake {a}")
            for text in _rake_sh(args[i + 1]):  # Rake's own `sh "CMD"` runs a shell command
                cmd.shell(text, f"rake {a} sh")
        elif a in ("-f", "--rakefile", "-r", "--require", "-R", "--rakelibdir") and i + 1 < len(args):
            script_file(cmd, args[i + 1])


COMPILERS = ("gcc", "g++", "cc", "c++", "clang", "clang++", "ld", "rustc", "nasm", "yasm", "gfortran", "zig", "tcc",
             "emcc", "swiftc", "kotlinc", "ghc", "nim", "crystal", "odin", "v")


def _compiler(cmd: Cmd) -> None:
    args = cmd.args
    for i, a in enumerate(args):
        if a == "-o" and i + 1 < len(args):
            cmd.path(args[i + 1], Access.WRITE)
        elif a.startswith("-o") and len(a) > 2 and cmd.program not in ("zig",):
            cmd.path(a[2:], Access.WRITE)
        elif a.startswith("-femit-bin="):
            cmd.path(a.split("=", 1)[1], Access.WRITE)
        elif a == "-e" and cmd.program == "ghc" and i + 1 < len(args):
            from warden.core.analyze.escapes import escape

            escape(cmd, "-e (evaluates a Haskell expression)")
        elif a == "-wrapper" or a.startswith(("-fplugin=", "-specs=", "--specs=")):
            # -wrapper runs every subprogram through a command; a plugin is a shared object it loads
            from warden.core.analyze.escapes import escape

            escape(cmd, a.split("=", 1)[0])
        elif a.startswith("@") and len(a) > 1:
            cmd.path(a[1:], Access.READ)  # a response file: its lines are read as arguments
        elif not a.startswith("-") and args[i - 1:i] != ["-o"] and "/" in a:
            cmd.path(a, Access.READ)  # an input: a secret given as a source file is still read


# `cmake -E MODE ...`: portable stand-ins for coreutils; analyzed as the command they stand for
CMAKE_TOOLS = {
    "rm": ["rm"], "remove": ["rm", "-f"], "remove_directory": ["rm", "-rf"], "copy": ["cp"],
    "copy_if_different": ["cp"], "copy_directory": ["cp", "-r"], "copy_directory_if_different": ["cp", "-r"],
    "rename": ["mv"], "make_directory": ["mkdir", "-p"], "touch": ["touch"], "touch_nocreate": ["touch", "-c"],
    "cat": ["cat"], "create_symlink": ["ln", "-s"], "create_hardlink": ["ln"], "tar": ["tar"], "env": ["env"],
    "time": [], "echo": ["echo"], "echo_append": ["echo"], "md5sum": ["md5sum"], "sha1sum": ["sha1sum"],
    "sha256sum": ["sha256sum"], "sha512sum": ["sha512sum"], "compare_files": ["cmp"], "sleep": ["sleep"],
    "true": ["true"], "false": ["false"], "capabilities": ["true"], "environment": ["env"], "chdir": [],
}


def _cmake(cmd: Cmd) -> None:
    args = cmd.args
    if args[:1] == ["-E"] and len(args) > 1:
        mode, rest = args[1], args[2:]
        if mode == "chdir" and len(rest) > 1:
            from warden.core.analyze.wrappers import nested_in_dir

            nested_in_dir(cmd, rest[0], rest[1:], [frozenset()] * (len(rest) - 1), via="cmake -E chdir")
            return
        if mode not in CMAKE_TOOLS:
            cmd.opaque(f"cmake -E {mode} is not modeled")
            return
        argv = CMAKE_TOOLS[mode] + rest
        if argv:
            cmd.nested(argv, via="cmake -E")
        return
    for i, a in enumerate(args):
        # a script (-P) or a source tree (-S, or the first operand) runs CMake code: it is code to trust
        if a in ("-P", "-S", "-C") and i + 1 < len(args):
            _cmake_code(cmd, args[i + 1])
        elif a.startswith("-S") and len(a) > 2:
            _cmake_code(cmd, a[2:])
        elif a.startswith(("-D", "-U", "-G", "-T", "-A", "-B", "-W", "--")) or args[i - 1:i] in (
                ["-P"], ["-S"], ["-C"], ["-B"], ["-G"], ["-T"], ["-A"], ["-D"], ["-U"], ["--build"], ["--install"],
                ["--preset"], ["--target"], ["--config"], ["-j"], ["--parallel"], ["--prefix"], ["--component"]):
            continue
        elif not a.startswith("-"):
            _cmake_code(cmd, a)
            break


def _cmake_code(cmd: Cmd, raw: str) -> None:
    refs = cmd.path(raw, Access.READ)
    # `mkdir -p build && cd build && cmake ..`: one of the possible cwds puts `..` at the workspace root
    if refs and not any(r.in_workspace for r in refs):
        cmd.fact("exec.script_outside", f"cmake runs CMake code from outside the workspace: {refs[0].path}",
                 path=refs[0].path)


def _in_place(cmd: Cmd) -> None:
    """yq -i, mlr -I, dos2unix, xxd/uniq/iconv output operands: files written in place."""
    args = cmd.args
    p = cmd.program
    operands = [a for a in args if not a.startswith("-")]
    if p in ("yq", "mlr"):
        if any(a in ("-i", "--inplace", "-I", "--in-place") for a in args):
            for f in operands[1:] if p == "yq" else operands:
                cmd.path(f, Access.WRITE)
        else:
            for f in operands[1:]:
                cmd.path(f, Access.READ)
    elif p in ("dos2unix", "unix2dos"):
        for f in operands:
            cmd.path(f, Access.WRITE)
    elif p in ("xxd", "uniq"):
        from warden.core.analyze.fsops import _reader_out

        # `-` stands for stdin as the first operand: `xxd -r - out.bin` still writes out.bin
        operands = [a for a in args if not a.startswith("-") or a == "-"]
        _reader_out(cmd, [f for f in operands[:1] if f != "-"])
        if len(operands) >= 2 and operands[1] != "-":
            cmd.path(operands[1], Access.WRITE)
    else:  # iconv, shuf, pandoc: inputs are read, -o is written
        if p == "pandoc":
            _pandoc_filters(cmd)
        values = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-o", "--output", "-f", "-t", "--from", "--to",
                                                                       "-L", "--lua-filter", "-F", "--filter")]
        for i, a in enumerate(args):
            if a in ("-o", "--output") and i + 1 < len(args):
                cmd.path(args[i + 1], Access.WRITE)
            elif not a.startswith("-") and a not in values:
                cmd.path(a, Access.READ)
    if p in ("xxd",) and any(a.startswith("-r") for a in args):
        from warden.core.analyze.fsops import _decoder

        _decoder(cmd)


def _pandoc_filters(cmd: Cmd) -> None:
    """-L/--lua-filter runs a Lua script, -F/--filter runs a program, on the document."""
    from warden.core.analyze.interpreters import script_file

    args = cmd.args
    for i, a in enumerate(args):
        value = args[i + 1] if a in ("-L", "--lua-filter", "-F", "--filter") and i + 1 < len(args) else (
            a.split("=", 1)[1] if a.startswith(("--lua-filter=", "--filter=")) else None)
        if value is None:
            continue
        if "/" in value or a.startswith(("-L", "--lua")):
            script_file(cmd, value)
        else:
            cmd.nested([value], via="pandoc --filter")  # a filter found on PATH


def _netconf(cmd: Cmd) -> None:
    args = cmd.args
    p = cmd.program
    mutating = {"ip": ("add", "del", "delete", "flush", "set", "change", "replace", "append"),
                "ifconfig": ("down", "up", "netmask", "hw", "mtu", "add", "del"),
                "route": ("add", "del", "flush"), "arp": ("-d", "-s", "--delete", "--set")}[p]
    if any(a in mutating for a in args):
        cmd.fact("sys.network", f"{p} {' '.join(args[:4])} changes network configuration")


def _dc(cmd: Cmd) -> None:
    script = " ".join(a for a in cmd.args if not a.startswith("-") or a in ("-e",))
    if "!" in script:
        from warden.core.analyze.escapes import escape

        escape(cmd, "dc ! (runs a shell command)", script.split("!", 1)[1].split("\n")[0] or None)


def _hash(cmd: Cmd) -> None:
    if "-p" in cmd.args:
        cmd.fact("exec.env_inject", "hash -p makes a command name run another file")


def _code(cmd: Cmd) -> None:
    args = cmd.args
    for i, a in enumerate(args):
        if a in ("--install-extension",) and i + 1 < len(args):
            cmd.fact("pkg.install", f"{cmd.program} installs extension {args[i + 1]}", packages=[args[i + 1]])


def _ssh_keygen(cmd: Cmd) -> None:
    args = cmd.args
    generating = not any(a in ("-l", "-y", "-F", "-R", "-lf", "-yf") or a.startswith(("-l", "-y")) for a in args)
    for i, a in enumerate(args):
        if (a == "-f" or a.endswith("f")) and a.startswith("-") and i + 1 < len(args):
            cmd.path(args[i + 1], Access.WRITE if generating else Access.READ)
        if a == "-R" and i + 1 < len(args):
            cmd.path("~/.ssh/known_hosts", Access.WRITE)
        if a == "-D" and i + 1 < len(args):
            from warden.core.analyze.escapes import escape

            escape(cmd, "-D (loads a PKCS#11 shared library)")


def _java(cmd: Cmd) -> None:
    args = cmd.args
    for i, a in enumerate(args):
        if a == "-jar" and i + 1 < len(args):
            from warden.core.analyze.interpreters import script_file

            script_file(cmd, args[i + 1])
            return


HANDLERS = {name: _command_runner for name in COMMAND_RUNNERS}
HANDLERS.update({name: _deploy for name in DEPLOY_VERBS})
HANDLERS.update({name: _migrations for name in DB_WIPES})
HANDLERS.update({name: _compiler for name in COMPILERS})
HANDLERS.update({name: _shell_opts for name in ("nodemon", "cargo-watch", "firebase")})
HANDLERS["pre-commit"] = _pre_commit
HANDLERS.update({"pytest": _pytest, "py.test": _pytest})
HANDLERS.update({name: _in_place for name in ("yq", "mlr", "dos2unix", "unix2dos", "xxd", "uniq", "iconv", "shuf",
                                              "pandoc")})
HANDLERS.update({name: _netconf for name in ("ip", "ifconfig", "route", "arp")})
HANDLERS.update({"hyperfine": _hyperfine, "dc": _dc, "hash": _hash, "code": _code, "codium": _code,
                 "cursor": _code, "java": _java, "ssh-keygen": _ssh_keygen, "cmake": _cmake})

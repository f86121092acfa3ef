"""Code runners: shells (``bash -c``, stdin scripts), ``eval``, ``source``, and language one-liners.

Shell code in a string is parsed and analyzed like the outer command. Code for python, perl,
ruby, node, php ... is scanned (plain substring search, bounded, no regexes) for shell-outs —
whose literal command strings are analyzed as shell — and for deletes, file access with
literal paths, sockets and dynamic evaluation. Code that arrives on stdin is judged by where
it came from: the network (``flow.remote_exec``), a decoder (``flow.decoded_exec``), a literal
we can read (analyzed), or something we cannot see (``exec.opaque``).
"""

from __future__ import annotations

from warden.core.analyze.invocation import DECODE, DYNAMIC, NET, Cmd, Flow, show
from warden.core.analyze.words import UNKNOWN
from warden.core.facts import Access

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "rbash", "fish", "tcsh", "csh", "yash",
                    "posh", "lksh", "pdksh", "oksh", "loksh", "ksh93", "elvish", "nu", "xonsh"})
SHELL_ARG_OPTS = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
MAX_CODE = 65_536


def _flow_facts(cmd: Cmd, taint: frozenset[str], what: str) -> bool:
    """Facts for code whose text came from somewhere; True when the code is not visible."""
    if NET in taint:
        cmd.session.action_fact("flow.remote_exec", f"{what} runs code fetched from the network")
    if DECODE in taint:
        cmd.session.action_fact("flow.decoded_exec", f"{what} runs decoded or obfuscated data as code")
    return bool(taint & {NET, DECODE, DYNAMIC})


def run_code(cmd: Cmd, lang: str, code: str, taint: frozenset[str], via: str) -> None:
    """Analyze code text in ``lang`` ("shell" or a language name) that this command runs."""
    hidden = _flow_facts(cmd, taint, via)
    if UNKNOWN in code:
        cmd.opaque(f"{via} runs code built at run time: `{show(code)[:80]}`")
        if lang == "shell":
            known = code.replace(UNKNOWN, " ")
            if known.strip():
                cmd.shell(known, via)
        return
    if hidden and not code:
        return
    if lang == "shell":
        cmd.shell(code, via)
    else:
        from warden.core.analyze.code import analyze_code
        from warden.core.analyze.codescan import scan, scan_literals

        if analyze_code(cmd, lang, code[:MAX_CODE], via):
            cmd.fact("interp.code", f"{via}: {len(code)} characters of {lang}, parsed", lang=lang)
            scan_literals(cmd, code[:MAX_CODE])
        else:
            scan(cmd, lang, code[:MAX_CODE], via)


def stdin_code(cmd: Cmd, lang: str) -> None:
    """The program reads its code from stdin."""
    flow = cmd.inv.stdin
    name = f"{cmd.program} <stdin>"
    if flow is None:
        cmd.fact("exec.interactive", f"{cmd.program} starts an interactive session")
        return
    if flow.path is not None:
        script_file(cmd, flow.path)
        return
    hidden = _flow_facts(cmd, flow.taint, name)
    if flow.text is not None:
        run_code(cmd, lang, flow.text, frozenset(), name)
    elif not (hidden and (NET in flow.taint or DECODE in flow.taint)):
        cmd.opaque(f"{cmd.program} runs a script from stdin that the analyzer cannot see")
    else:
        cmd.opaque(f"{cmd.program} runs data from a pipe as code")


def script_file(cmd: Cmd, raw: str, index: int | None = None) -> None:
    """The program runs a script file (or a process substitution standing for one)."""
    if index is not None and index in cmd.inv.procsubs:
        taint, code = cmd.inv.procsubs[index]
        lang = "shell" if cmd.program in SHELLS or cmd.program in (".", "source") else lang_of(cmd.program)
        if code is not None:
            run_code(cmd, lang, code, taint, f"{cmd.program} <(...)")  # `bash <(echo 'rm -rf ~')`
        else:
            _flow_facts(cmd, taint, f"{cmd.program} <(...)")
            cmd.opaque(f"{cmd.program} runs the output of a process substitution as code")
        return
    if "://" in raw:
        # deno run https://..., bun https://...: the script is fetched from the network and run
        cmd.host(raw.split("://", 1)[1].split("/", 1)[0])
        cmd.session.action_fact("flow.remote_exec", f"{cmd.program} runs a script straight from {raw}")
        return
    if raw in ("/dev/stdin", "-", "/proc/self/fd/0", "/dev/fd/0"):
        stdin_code(cmd, "shell" if cmd.program in SHELLS or cmd.program in (".", "source") else cmd.program)
        return
    if raw.startswith(("/dev/fd/", "/proc/self/fd/")):
        from warden.core.analyze.implicit import code_from_descriptor

        code_from_descriptor(cmd, raw)  # `bash /dev/fd/3 3< <(curl ...)`
        return
    refs = cmd.path(raw, Access.EXEC)
    if not refs:
        cmd.opaque(f"{cmd.program} runs a script whose path is computed at run time")
        return
    for ref in refs:
        if ref.path in cmd.session.downloads:
            cmd.session.action_fact("flow.remote_exec", f"runs {ref.path}, which this command downloaded",
                                    path=ref.path)
        if ref.in_workspace:
            cmd.fact("exec.script", f"runs a script from the workspace: {ref.path}", path=ref.path)
        else:
            cmd.fact("exec.script_outside", f"runs a script from outside the workspace: {ref.path}", path=ref.path)


def _shell(cmd: Cmd) -> None:
    args = cmd.args
    i, has_c, interactive = 0, False, False
    while i < len(args):
        a = args[i]
        if a == "--" or a == "-":
            i += 1
            break
        if a in SHELL_ARG_OPTS:
            if a in ("--rcfile", "--init-file") and i + 1 < len(args):
                script_file(cmd, args[i + 1])
            i += 2
            continue
        if a.startswith("--"):
            i += 1
            continue
        if a.startswith(("-", "+")) and len(a) > 1:
            if "c" in a[1:] and a[0] == "-":
                has_c = True
            if "i" in a[1:]:
                interactive = True
            if "s" in a[1:] and a[0] == "-":
                i = len(args)
            i += 1
            continue
        break
    rest = args[i:]
    if has_c:
        if not rest:
            return
        run_code(cmd, "shell", rest[0], cmd.taint_of(i + 1), f"{cmd.program} -c")
        return
    if rest:
        script_file(cmd, rest[0], i + 1)
        return
    if interactive and cmd.inv.stdin is None:
        cmd.fact("exec.interactive", f"{cmd.program} -i starts an interactive shell")
        return
    stdin_code(cmd, "shell")


def _eval(cmd: Cmd) -> None:
    code = " ".join(cmd.args)
    run_code(cmd, "shell", code, cmd.all_taint(), "eval")


def _source(cmd: Cmd) -> None:
    if not cmd.args:
        return
    script_file(cmd, cmd.args[0], 1)


# Per language: option that takes code, options that take a value, option running a module.
LANGS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "python": (("-c",), ("-W", "-X", "-Q"), "-m"),
    "perl": (("-e", "-E"), ("-I", "-M", "-m", "-F", "-x", "-C", "-d"), ""),
    "ruby": (("-e",), ("-I", "-r", "-C", "-E", "-F", "-x", "-K", "-T"), ""),
    "node": (("-e", "--eval", "-p", "--print"), ("-r", "--require", "--import", "--loader", "--input-type",
                                                 "--experimental-loader", "-C", "--conditions", "--env-file"), ""),
    "php": (("-r", "-B", "-R", "-E"), ("-d", "-c", "-z", "-t"), ""),
    "lua": (("-e",), ("-l",), ""),
    "Rscript": (("-e",), (), ""),
    "julia": (("-e", "-E", "--eval", "--print"), ("-L", "--load", "-J", "-t", "--project"), ""),
    "osascript": (("-e",), ("-l",), ""),
    "pwsh": (("-c", "-command", "-Command", "-EncodedCommand", "-e", "-ec", "-enc"), ("-ExecutionPolicy", "-ep",
                                                                                        "-File", "-f"), ""),
    "tclsh": ((), (), ""),
    "deno": (("eval",), (), ""),
}
ALIASES = {"python2": "python", "python3": "python", "pypy": "python", "pypy3": "python", "nodejs": "node",
           "bun": "node", "powershell": "pwsh", "wish": "tclsh", "jruby": "ruby", "php-cli": "php",
           "tsx": "node", "ts-node": "node"}
for _v in ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "2.7"):
    ALIASES[f"python{_v}"] = "python"


def lang_of(program: str) -> str:
    return ALIASES.get(program, program)


def _interpreter(cmd: Cmd) -> None:
    lang = lang_of(cmd.program)
    code_opts, arg_opts, module_opt = LANGS[lang]
    args = cmd.args
    i, ran_code = 0, False
    in_place = False
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a == "-":
            stdin_code(cmd, lang)
            return
        if lang in ("perl", "ruby") and a.startswith("-") and not a.startswith("--") and "i" in a[1:].split(".")[0] \
                and set(a[1:].split(".")[0]) <= set("lnpaiwsWtTU0e"):
            in_place = True
        if a in code_opts or (lang in ("perl", "ruby") and a.startswith("-") and not a.startswith("--")
                              and a[-1] in "eE" and len(a) > 2 and all(ch in "lnpaiwsWtTU0e" for ch in a[1:-1])):
            if i + 1 < len(args):
                code = args[i + 1]
                if lang == "pwsh" and a.lower() in ("-encodedcommand", "-e", "-ec", "-enc"):
                    cmd.session.action_fact("flow.decoded_exec", "powershell runs a base64-encoded command")
                    code = UNKNOWN
                run_code(cmd, lang, code, cmd.taint_of(i + 2), f"{cmd.program} {a}")
                ran_code = True
            i += 2
            continue
        attached = next((o for o in code_opts if len(o) == 2 and a.startswith(o) and len(a) > 2), None)
        if attached is not None:
            run_code(cmd, lang, a[2:], cmd.taint_of(i + 1), f"{cmd.program} {attached}")
            ran_code = True
            i += 1
            continue
        if module_opt and (a == module_opt or (a.startswith(module_opt) and len(a) > 2)):
            module = a[2:] if len(a) > 2 else (args[i + 1] if i + 1 < len(args) else "")
            rest = args[i + 1:] if len(a) > 2 else args[i + 2:]
            _python_module(cmd, module, rest)
            return
        if lang in ("perl", "ruby") and a.startswith("-i"):
            in_place = True
        if a in arg_opts:
            if lang == "node" and a in ("-r", "--require", "--import", "--loader", "--experimental-loader") and \
                    i + 1 < len(args) and args[i + 1].startswith(("/", "./", "../", "~")):
                script_file(cmd, args[i + 1])  # a preloaded file is code that runs first
            i += 2
            continue
        if a.startswith("-") and len(a) > 1:
            if lang == "deno" or (lang == "node" and a in ("run", "test")):
                pass
            i += 1
            continue
        break
    rest = args[i:]
    if lang == "deno" and rest and rest[0] in ("run", "test", "task", "fmt", "lint", "check", "bench", "compile"):
        if rest[0] == "run" and "-" in rest[1:]:
            stdin_code(cmd, "javascript")  # `deno run -`: the program comes from stdin
            return
        rest = [a for a in rest[1:] if not a.startswith("-")]
        if not rest:
            return
    if cmd.program == "bun" and rest and rest[0] == "exec":
        # `bun exec 'CMD'` runs CMD with Bun's shell
        if rest[1:]:
            cmd.shell(" ".join(rest[1:]), "bun exec")
        return
    if cmd.program == "bun" and rest and rest[0] in ("run", "test", "build", "install", "i", "x", "add", "remove",
                                                     "publish", "pm", "update", "create", "init", "link"):
        from warden.core.analyze.packages import _manager, _remote_run

        if rest[0] == "x":
            _remote_run(cmd, rest[1:], "bun x")
        elif rest[0] not in ("run", "test", "build"):
            _manager(cmd)
        return
    if ran_code:
        if in_place:
            for f in rest:
                cmd.path(f, Access.WRITE)
        else:
            for f in rest:
                cmd.path(f, Access.READ)
        return
    if rest:
        script_file(cmd, rest[0], i + 1)
        return
    if args and cmd.inv.stdin is None and not any(a in ("-i", "--interactive", "-") for a in args):
        return  # only flags: --version, --help, -V
    stdin_code(cmd, lang)


SAFE_MODULES = frozenset({"pytest", "unittest", "doctest", "mypy", "ruff", "black", "isort", "flake8", "pylint",
                          "coverage", "venv", "virtualenv", "json.tool", "compileall", "py_compile", "pydoc",
                          "timeit", "cProfile", "profile", "pdb", "tox", "nox", "build", "hatch", "pyright",
                          "bandit", "pip_audit", "site", "sysconfig", "platform", "tabnanny", "calendar",
                          "tokenize", "ast", "dis", "this", "pstats", "trace", "zipfile", "tarfile", "gzip",
                          "base64", "uuid", "mkdocs", "sphinx", "pre_commit", "ensurepip", "wheel", "twine",
                          "setuptools", "poetry", "uv", "django", "flask", "uvicorn", "gunicorn", "alembic",
                          "pytest_benchmark", "hypothesis", "nose2", "IPython", "jupyter", "notebook",
                          "http.server", "pip"})


def _python_module(cmd: Cmd, module: str, rest: list[str]) -> None:
    cmd.fact("exec.module", f"runs python module {module}", module=module)
    if module == "pip":
        cmd.nested(["pip", *rest], via="python -m")
    elif module in ("pytest", "py.test"):
        cmd.nested(["pytest", *rest], via="python -m")
    elif module in ("http.server", "SimpleHTTPServer", "smtpd", "pyftpdlib", "uploadserver"):
        from warden.core.analyze.guards import serve_root

        bind = next((rest[i + 1] for i, a in enumerate(rest[:-1]) if a in ("-b", "--bind")), "")
        if bind in ("127.0.0.1", "localhost", "::1"):
            cmd.fact("net.local", f"python -m {module} serves files to this machine only")
        else:
            cmd.fact("net.listen", f"python -m {module} serves files over the network")
        root = next((rest[i + 1] for i, a in enumerate(rest[:-1]) if a in ("-d", "--directory")), None)
        serve_root(cmd, root)
    elif module == "twine":
        cmd.nested(["twine", *rest], via="python -m")
    elif module == "base64" and ("-d" in rest or "--decode" in rest):
        cmd.out = Flow(frozenset({DECODE}))
    elif module not in SAFE_MODULES and module.split(".")[0] not in SAFE_MODULES:
        cmd.fact("exec.module_other", f"runs python module {module}", module=module)


HANDLERS = {name: _shell for name in SHELLS}
HANDLERS.update({"eval": _eval, "source": _source, ".": _source})
HANDLERS.update({name: _interpreter for name in list(LANGS) + list(ALIASES)})

"""Code that programs read from elsewhere, and files other tools run without being asked.

Two kinds, tracked across the steps of one command (the session memory across actions belongs
to the control loop, which can match the facts below):

- **Code from stdin or a descriptor**: ``make -f -``, ``awk -f -``, ``sed -f -``, ``bash
  /dev/fd/3 3< <(curl ...)``. Network or decoded data there is ``flow.remote_exec`` /
  ``flow.decoded_exec``; a literal makefile is read for its recipes, which are shell.
- **Implicitly run files**: a ``Makefile``, ``conftest.py``, ``setup.py``, ``package.json``,
  ``.envrc`` or a registry redirect (``.npmrc``, ``.yarnrc.yml``, ``pip.conf``,
  ``.cargo/config.toml``) written earlier in the same command and then picked up by the program
  that runs it (make, pytest, pip install, npm, direnv allow, cargo). Downloaded content is
  ``flow.remote_exec``; literal content is analyzed as what it is (recipes and scripts as shell,
  Python as Python, a registry line as ``pkg.index``); anything else is ``exec.implicit_run``.
  ``npm pkg set scripts.X=...`` is analyzed as the shell it will become.

Every write of such a file also carries ``exec.implicit_write`` (info, ``data: {path, runner}``):
the hook for cross-action memory (a Write of ``conftest.py`` now, ``pytest`` next turn).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

from warden.core.analyze.invocation import DECODE, NET, Cmd, Flow
from warden.core.facts import Access

# file name -> (the programs that run it implicitly, how its content is code)
IMPLICIT = {
    "Makefile": ("make", "make"), "makefile": ("make", "make"), "GNUmakefile": ("make", "make"),
    "conftest.py": ("pytest", "python"), "setup.py": ("pip", "python"), "noxfile.py": ("nox", "python"),
    "package.json": ("npm", "package.json"), ".envrc": ("direnv", "shell"), "Justfile": ("just", "make"),
    "justfile": ("just", "make"), "Rakefile": ("rake", "ruby"), "build.rs": ("cargo", "rust"),
    ".npmrc": ("npm", "registry"), ".yarnrc.yml": ("npm", "registry"), ".yarnrc": ("npm", "registry"),
    "pip.conf": ("pip", "registry"), "pip.ini": ("pip", "registry"), "config.toml": ("cargo", "registry"),
    "sitecustomize.py": ("python", "python"), "usercustomize.py": ("python", "python"),
    "Gemfile": ("bundle", "ruby"), "composer.json": ("composer", "package.json"),
}
RUNNER_OF = {"make": "make", "gmake": "make", "pytest": "pytest", "py.test": "pytest", "pip": "pip", "pip3": "pip",
             "uv": "pip", "npm": "npm", "yarn": "npm", "pnpm": "npm", "bun": "npm", "direnv": "direnv",
             "cargo": "cargo", "just": "just", "rake": "rake", "nox": "nox", "python": "python", "python3": "python",
             "bundle": "bundle", "bundler": "bundle", "composer": "composer"}
RUNS_IMPLICITLY = {  # the subcommands that run the implicit files (empty: any use)
    "npm": frozenset({"install", "i", "ci", "test", "t", "run", "run-script", "start", "restart", "stop", "rebuild",
                      "pack", "publish", "add", "exec", "x", ""}),
    "pip": frozenset({"install", "wheel", "download"}), "direnv": frozenset({"allow", "permit", "grant", "exec"}),
    "bundle": frozenset({"install", "exec", "update", ""}),
    "composer": frozenset({"install", "update", "run-script", "run", "require", "dump-autoload", ""}),
    "cargo": frozenset({"build", "b", "test", "t", "run", "r", "check", "c", "install", "bench", "doc", "fetch",
                        "update", "publish", "clippy"}),
}
REGISTRY_WORDS = ("registry", "index-url", "extra-index-url", "replace-with", "npmRegistryServer", "index =",
                  "trusted-host", "@", "_authToken")


@dataclass
class Written:
    path: str
    runner: str
    lang: str
    flow: Flow | None = None


def implicit_kind(path: str) -> tuple[str, str] | None:
    base = posixpath.basename(path)
    if base == "config.toml" and not path.endswith("/.cargo/config.toml"):
        return None
    if base.endswith(".mk"):
        return ("make", "make")
    return IMPLICIT.get(base)


def note_write(cmd: Cmd, path: str) -> None:
    """A file written by this command: remember it when some tool runs it implicitly."""
    kind = implicit_kind(path)
    if kind is None:
        return
    runner, lang = kind
    cmd.session.implicit.setdefault(path, Written(path, runner, lang))
    cmd.fact("exec.implicit_write", f"writes {posixpath.basename(path)}, which {runner} runs implicitly",
             path=path, runner=runner)


def note_content(cmd: Cmd) -> None:
    """After a command ran: what it wrote through redirections is its output."""
    for op, target, _ in cmd.inv.redirects:
        if op in ("<", "<>") or target.startswith("/dev/"):
            continue
        for ref in cmd.session.resolve(target, Access.WRITE) or []:
            w = cmd.session.implicit.get(ref.path)
            if w is not None and w.flow is None:
                w.flow = cmd.out


def _makefile_recipes(text: str) -> str:
    """The shell in a makefile: tab-indented recipe lines and `target: ; cmd` forms."""
    out = []
    for line in text.splitlines()[:2000]:
        if line.startswith("\t"):
            out.append(line.strip().lstrip("@-+"))
        elif ":" in line and ";" in line.split(":", 1)[1] and not line.lstrip().startswith("#"):
            out.append(line.split(":", 1)[1].split(";", 1)[1].strip())
    return "\n".join(o for o in out if o and "$(" not in o)


def _run_content(cmd: Cmd, w: Written) -> None:
    from warden.core.analyze.interpreters import run_code

    name = posixpath.basename(w.path)
    via = f"{cmd.program} runs {name}, written by this command"
    flow = w.flow
    downloaded = w.path in cmd.session.downloads or (flow is not None and NET in flow.taint)
    if downloaded:
        cmd.session.action_fact("flow.remote_exec", f"{cmd.program} runs {name}, which this command downloaded",
                                path=w.path)
        return
    if flow is not None and DECODE in flow.taint:
        cmd.session.action_fact("flow.decoded_exec", f"{cmd.program} runs {name}, written from decoded data")
        return
    text = flow.text if flow is not None else None
    if text is None:
        cmd.fact("exec.implicit_run", f"{via}; its content is not known", path=w.path)
        return
    if w.lang == "make":
        run_code(cmd, "shell", _makefile_recipes(text), frozenset(), via)
    elif w.lang in ("python", "shell", "ruby"):
        run_code(cmd, w.lang, text, frozenset(), via)
    elif w.lang == "package.json":
        try:
            scripts = json.loads(text).get("scripts") or {}
        except (ValueError, AttributeError):
            scripts = {}
        for body in list(scripts.values())[:32] if isinstance(scripts, dict) else []:
            if isinstance(body, str):
                run_code(cmd, "shell", body, frozenset(), via)
    elif w.lang == "registry":
        if any(word in text for word in REGISTRY_WORDS):
            cmd.fact("pkg.index", f"{cmd.program} installs from the registry {name} (written by this command) names",
                     path=w.path)
    else:
        cmd.fact("exec.implicit_run", f"{via}", path=w.path)


RUNNER_FILES = {runner: sorted(name for name, (r, _) in IMPLICIT.items() if r == runner)
                for runner in set(RUNNER_OF.values())}


def runner_facts(cmd: Cmd) -> None:
    """This program runs implicit files: any written earlier in this command are judged now.

    ``exec.implicit_runner`` (info, ``data: {runner, files}``) is the other half of the session hook:
    a control loop that remembers ``exec.implicit_write`` of a Makefile can match ``make`` later.
    """
    runner = RUNNER_OF.get(posixpath.basename(cmd.program))
    if runner is None:
        return
    cmd.fact("exec.implicit_runner", f"{cmd.program} runs files it finds ({', '.join(RUNNER_FILES[runner])})",
             runner=runner, files=RUNNER_FILES[runner])
    if not cmd.session.implicit:
        return
    words, skip = [], False
    for a in cmd.args:  # positional words, past the values of -C/--prefix/--cwd (npm -C . i)
        if skip:
            skip = False
        elif a in ("-C", "--prefix", "--cwd", "-w", "--workspace", "--dir", "-d", "--working-dir"):
            skip = True
        elif not a.startswith("-"):
            words.append(a)
    if cmd.program == "uv" and words[:1] == ["pip"]:
        words = words[1:]
    sub = words[0] if words else ""
    allowed = RUNS_IMPLICITLY.get(runner)
    if cmd.program in ("yarn", "pnpm", "bun") and sub not in ("add", "remove", "info", "why", "list", "outdated"):
        allowed = None  # `yarn NAME` runs the package.json script NAME
    if allowed is not None and sub not in allowed:
        return
    if runner == "python" and not cmd.args:
        return
    for w in list(cmd.session.implicit.values()):
        if w.runner == runner or (runner == "pip" and w.lang == "registry" and w.runner == "pip"):
            _run_content(cmd, w)


def npm_pkg_set(cmd: Cmd) -> None:
    """`npm pkg set scripts.test="..."` writes a script npm will run: analyze it now."""
    args = cmd.args
    if len(args) < 3 or args[0] != "pkg" or args[1] != "set":
        return
    for a in args[2:]:
        key, eq, value = a.partition("=")
        if eq and key.startswith("scripts."):
            cmd.fact("exec.implicit_write", f"npm pkg set {key}: a script npm runs", path="package.json",
                     runner="npm")
            from warden.core.analyze.interpreters import run_code

            run_code(cmd, "shell", value, cmd.all_taint(), f"npm pkg set {key}")


def pip_config_set(cmd: Cmd) -> None:
    if any(a == "--editor" or a.startswith("--editor=") for a in cmd.args) and "config" in cmd.args:
        from warden.core.analyze.escapes import escape

        escape(cmd, "pip config --editor runs the editor it names")
    args = [a for a in cmd.args if not a.startswith("-")]
    if len(args) >= 3 and args[0] == "config" and args[1] == "set" and any(
            k in args[2] for k in ("index-url", "extra-index-url", "trusted-host", "find-links")):
        cmd.fact("pkg.index", f"pip config set {args[2]}: later installs come from another index")


def code_from_descriptor(cmd: Cmd, target: str) -> bool:
    """`-f -`, `/dev/stdin`, `/dev/fd/N`: code read from a pipe or descriptor. True when handled."""
    from warden.core.analyze.interpreters import _flow_facts

    if target in ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"):
        flow = cmd.inv.stdin
        if flow is None:
            return True
        hidden = _flow_facts(cmd, flow.taint, f"{cmd.program} -f -")
        if flow.text is not None and cmd.program in ("make", "gmake"):
            from warden.core.analyze.interpreters import run_code

            run_code(cmd, "shell", _makefile_recipes(flow.text), frozenset(), f"{cmd.program} -f - (stdin)")
        elif flow.text is None and not hidden:
            cmd.opaque(f"{cmd.program} reads its program from stdin, which the analyzer cannot see")
        return True
    if target.startswith(("/dev/fd/", "/proc/self/fd/")):
        taint = frozenset().union(*(t for op, _, t in cmd.inv.redirects if "<" in op)) if cmd.inv.redirects \
            else frozenset()
        for t, _code in cmd.inv.procsubs.values():
            taint |= t
        if not _flow_facts(cmd, taint, f"{cmd.program} {target}"):
            cmd.opaque(f"{cmd.program} runs code from descriptor {target}, which the analyzer cannot see")
        return True
    return False


# --- foreign code: a fresh clone or download is a stranger's code, not the project's -------------
BUILDERS = frozenset({"make", "gmake", "npm", "yarn", "pnpm", "bun", "pip", "pip3", "uv", "pytest", "cargo", "go",
                      "python", "python3", "bash", "sh", "zsh", "just", "rake", "gradle", "mvn", "tox", "nox",
                      "poetry", "composer", "bundle", "cmake", "meson", "ninja", "docker", "./configure"})


FOREIGN_SOURCES = frozenset({"git", "gh", "tar", "bsdtar", "unzip", "7z"})


def note_foreign(cmd: Cmd) -> None:
    """git clone / gh repo clone / extracting downloaded archives: where foreign code now lives."""
    words = [a for a in cmd.args if not a.startswith("-")]
    target = ""
    if cmd.program == "git" and "clone" in words:
        rest = words[words.index("clone") + 1:]
        if rest:
            target = rest[1] if len(rest) > 1 else rest[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    elif cmd.program == "gh" and words[:2] == ["repo", "clone"] and len(words) > 2:
        target = words[3] if len(words) > 3 else words[2].rsplit("/", 1)[-1]
    elif cmd.program in ("tar", "bsdtar", "unzip", "7z") and _from_download(cmd):
        args = cmd.args
        for opt in ("-C", "--directory", "-d", "-o"):
            if opt in args and args.index(opt) + 1 < len(args):
                target = args[args.index(opt) + 1]
        if not target:
            target = "."
    if target:
        for ref in cmd.session.resolve(target, Access.WRITE) or []:
            cmd.session.foreign.add(ref.path)
            cmd.fact("exec.foreign_source", f"{ref.path} now holds code from outside the project", path=ref.path)


def _from_download(cmd: Cmd) -> bool:
    stdin = cmd.inv.stdin
    if stdin is not None and NET in stdin.taint:
        return True
    for a in cmd.args:
        for ref in cmd.session.resolve(a, Access.READ) or [] if not a.startswith("-") else []:
            if ref.path in cmd.session.downloads:
                return True
    return False


def _in_foreign(cmd: Cmd, path: str) -> str:
    for f in cmd.session.foreign:
        if path == f or path.startswith(f.rstrip("/") + "/"):
            return f
    return ""


def foreign_facts(cmd: Cmd) -> None:
    """Running scripts or builds inside freshly cloned or downloaded code."""
    if not cmd.session.foreign:
        return
    places: list[str] = []
    if "/" in cmd.program:
        places.append(cmd.program)
    if posixpath.basename(cmd.program) in BUILDERS or "/" in cmd.program:
        places.extend(c for c in cmd.session.cwds if c)
        args = cmd.args
        for i, a in enumerate(args):
            if a in ("-C", "--directory", "--prefix", "--cwd", "--manifest-path") and i + 1 < len(args):
                places.append(args[i + 1])
            elif not a.startswith("-") and ("/" in a or a == "."):
                places.append(a)
    for p in places:
        refs = cmd.session.resolve(p, Access.READ) if not p.startswith("/") or "/" in p else None
        for ref in refs or []:
            where = _in_foreign(cmd, ref.path)
            if where:
                cmd.fact("exec.foreign_code", f"{posixpath.basename(cmd.program)} runs code from {where}, which "
                         "this command just cloned or downloaded (not the project's own code)", path=where)
                return

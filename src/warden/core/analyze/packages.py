"""Package managers: project installs (allowed), named or global installs, publishing, and
running packages straight from a registry.

``pkg.install_project`` — installs what the project's manifest or lockfile pins (``npm ci``,
``pip install -r requirements.txt``, ``uv sync``): part of building. ``pkg.install`` — adds
named packages or installs system-wide (typosquats and install scripts: ask).
``pkg.uninstall``, ``pkg.system_update``, ``pkg.publish``, and ``exec.remote_package``
(``npx -y pkg``, ``uvx pkg``, ``pnpm dlx``) for code fetched and run in one step; well-known
project tools run via npx/uvx (``npx tsc``, ``uvx ruff``) are ``exec.package_bin``.
"""

from __future__ import annotations

from warden.core.analyze.invocation import Cmd
from warden.core.facts import Access

KNOWN_TOOLS = frozenset({
    "tsc", "jest", "vitest", "eslint", "prettier", "playwright", "next", "vite", "tsx", "ts-node", "webpack", "rollup",
    "esbuild", "mocha", "nx", "turbo", "lerna", "prisma", "drizzle-kit", "storybook", "cypress", "biome", "stylelint",
    "lint-staged", "knip", "depcheck", "vue-tsc", "astro", "nuxt", "nuxi", "svelte-check", "c8", "nyc", "ava", "tap",
    "standard", "xo", "husky", "changeset", "semantic-release", "typedoc", "tailwindcss", "postcss", "babel",
    "swc", "tsup", "unbuild", "wrangler", "serve", "http-server", "concurrently", "cross-env", "npm-check-updates",
    "ncu", "madge", "ts-prune", "jscodeshift", "sort-package-json", "markdownlint", "markdownlint-cli2", "cspell",
    "commitlint", "pyright", "ruff", "black", "isort", "mypy", "pytest", "flake8", "pylint", "pre-commit", "tox",
    "nox", "hatch", "build", "twine-check", "cookiecutter", "copier", "pip-audit", "pipdeptree", "coverage",
    "bandit", "vulture", "codespell", "yamllint", "sqlfluff", "mkdocs", "sphinx-build", "pyupgrade", "autoflake",
    "docformatter", "pydocstyle", "ty", "basedpyright", "create-vite", "degit", "only-allow", "patch-package",
})
MANAGERS_INSTALL_VERBS = {
    "pip": ("install", "wheel", "download"), "pip3": ("install", "wheel", "download"), "npm": ("install", "i", "add", "isntall", "in", "ins"),
    "pnpm": ("install", "i", "add"), "yarn": ("add", "install"), "gem": ("install",), "cargo": ("install", "add"),
    "go": ("get", "install"), "composer": ("require", "install", "global"), "poetry": ("add", "install"),
    "pdm": ("add", "install"), "conda": ("install", "create"), "mamba": ("install", "create"),
    "pipx": ("install", "inject"), "bundle": ("add", "install"), "cpan": ("install",), "cpanm": (),
    "luarocks": ("install",), "dotnet": ("add",), "deno": ("install", "add"), "bun": ("add", "install", "i"),
}
SYSTEM_MANAGERS = frozenset({"apt", "apt-get", "aptitude", "yum", "dnf", "apk", "pacman", "zypper", "brew", "snap",
                             "flatpak", "port", "nix-env", "emerge", "pkg", "choco", "winget", "scoop", "dpkg",
                             "rpm-install", "xbps-install", "opkg", "mas"})
PUBLISH = {("npm", "publish"), ("yarn", "publish"), ("pnpm", "publish"), ("twine", "upload"), ("poetry", "publish"),
           ("cargo", "publish"), ("gem", "push"), ("flit", "publish"), ("hatch", "publish"), ("uv", "publish"),
           ("pdm", "publish"), ("dotnet", "nuget"), ("mvn", "deploy"), ("gradle", "publish"), ("bun", "publish"),
           ("npm", "unpublish"), ("npm", "deprecate"), ("cargo", "yank"), ("gem", "yank"), ("jsr", "publish"),
           ("deno", "publish"), ("vsce", "publish"), ("ovsx", "publish"), ("npm", "dist-tag")}


def _pkgs(args: list[str], value_opts: tuple[str, ...] = ()) -> list[str]:
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("-"):
            i += 2 if a in value_opts else 1
            continue
        out.append(a)
        i += 1
    return out


# Programs `yarn NAME` / `pnpm NAME` reach as binaries rather than as package scripts.
BIN_PASSTHROUGH = frozenset({"node", "sh", "bash", "zsh", "dash", "rm", "python", "python3", "perl", "ruby", "curl",
                             "wget", "env", "sudo", "dd", "mv", "cp", "chmod", "chown", "git", "tsx", "ts-node",
                             "deno", "bun", "npx", "eval", "exec"})


def _toolchain_escapes(cmd: Cmd, args: list[str]) -> None:
    """`go test -exec CMD`, `go build -toolexec CMD`, `cargo --config KEY=VALUE` run other programs."""
    from warden.core.analyze.escapes import escape

    for i, a in enumerate(args):
        name, eq, value = a.partition("=")
        if cmd.program == "go" and name in ("-exec", "--exec", "-toolexec", "--toolexec"):
            value = value if eq else (args[i + 1] if i + 1 < len(args) else "")
            escape(cmd, name.lstrip("-"), value or None)
        elif cmd.program == "cargo" and name == "--config":
            value = value if eq else (args[i + 1] if i + 1 < len(args) else "")
            if any(k in value for k in ("runner", "linker", "rustc", "rustc-wrapper", "alias", "build.", "env.")):
                escape(cmd, "--config (sets a program cargo runs)")


def _remote_run(cmd: Cmd, pkg_args: list[str], runner: str) -> None:
    names = _pkgs(pkg_args, ("-p", "--package", "--from", "--with", "-c", "--call", "--python"))
    name = names[0] if names else ""
    bare = name.split("@")[0] if not name.startswith("@") else "@" + name[1:].split("@")[0]
    own = pkg_args[:pkg_args.index(name)] if name in pkg_args else pkg_args  # the runner's own options
    explicit = any(a in ("-y", "--yes", "-p", "--package", "--from") for a in own) or "@" in name[1:]
    if bare in KNOWN_TOOLS and not explicit:
        cmd.fact("exec.package_bin", f"{runner} runs the project tool {bare}", package=bare)
    else:
        cmd.fact("exec.remote_package", f"{runner} downloads and runs package {name or '?'} from the registry",
                 package=name)


def _manager(cmd: Cmd) -> None:
    p = cmd.program
    args = cmd.args
    pos = _pkgs(args, ("-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
                       "-e", "--editable", "-t", "--target", "--prefix", "-C", "--cwd", "--registry", "-w",
                       "--workspace", "--filter", "-F", "--python", "-p", "--features", "--manifest-path",
                       "--root", "-n", "--name", "--path", "--git", "--branch", "--tag", "--rev", "--source",
                       "-G", "--group", "--dir", "--prefix"))
    if p in ("npx", "bunx") or (p == "npm" and args[:1] in (["exec"], ["x"])):
        # `npx -c 'CMD'` / `npm exec --call CMD` run a shell string with the package bins on PATH
        for i, a in enumerate(args):
            if a in ("-c", "--call") and i + 1 < len(args):
                cmd.shell(args[i + 1], f"{p} -c")
                return
            if a.startswith("--call="):
                cmd.shell(a.split("=", 1)[1], f"{p} --call")
                return
    if not pos:
        if p in ("yarn", "bun", "pnpm"):
            cmd.fact("pkg.install_project", f"{p} installs the project's dependencies")
        return
    verb = pos[0]
    if p in ("go", "cargo"):
        _toolchain_escapes(cmd, args)
    if p == "cargo" and verb == "watch":
        from warden.core.analyze.devtools import _shell_opts

        _shell_opts(cmd)  # `cargo watch -s CMD` runs a shell string on every change
        return
    if len(pos) >= 2 and (verb == "create" or (verb == "init" and p in ("npm", "bun"))) and p in (
            "npm", "yarn", "pnpm", "bun"):
        # `npm init react-app`, `yarn create vite`: runs create-<name> from the registry
        cmd.fact("exec.remote_package", f"{p} {verb} {pos[1]} runs a project generator from the registry",
                 package=pos[1])
        return
    if (p, verb) in PUBLISH:
        cmd.fact("pkg.publish", f"{p} {verb} publishes a package")
        return
    if p in ("npx", "bunx"):
        _remote_run(cmd, args, p)
        return
    if (p == "npm" and verb == "exec") or (p in ("pnpm", "yarn") and verb == "dlx"):
        _remote_run(cmd, args[args.index(verb) + 1:], f"{p} {verb}")
        return
    if p in ("pnpm", "yarn") and (verb == "exec" or (verb == "run" and len(pos) > 1 and pos[1] in BIN_PASSTHROUGH)
                                  or verb in BIN_PASSTHROUGH):
        # `yarn exec CMD`, `pnpm exec CMD`, `yarn node ...`: CMD runs with node_modules/.bin on PATH
        rest = args[args.index(verb) + 1:] if verb in ("exec", "run") else args[args.index(verb):]
        while rest and rest[0].startswith("-") and rest[0] != "--":
            rest = rest[1:]
        rest = rest[1:] if rest[:1] == ["--"] else rest
        if rest:
            cmd.nested(rest, via=f"{p} {verb}")
        return
    if p == "bun" and verb == "exec" and len(pos) > 1:
        cmd.shell(" ".join(args[args.index("exec") + 1:]), "bun exec")
        return
    if p == "pipx" and verb == "run":
        _remote_run(cmd, args[args.index("run") + 1:], "pipx run")
        return
    if p == "uv" and verb == "tool" and len(pos) > 1:
        if pos[1] == "run":
            _remote_run(cmd, args[args.index("run") + 1:], "uv tool run")
        elif pos[1] == "install":
            cmd.fact("pkg.install", f"uv tool install {' '.join(pos[2:])}", packages=pos[2:], scope="user")
        return
    if p == "uv" and verb == "pip" and len(pos) > 1:
        cmd.nested(["pip", *args[args.index("pip") + 1:]], via="uv")
        return
    if p == "uv" and verb in ("add",):
        cmd.fact("pkg.install", f"uv add {' '.join(pos[1:])}", packages=pos[1:], scope="project")
        return
    if p in ("npm", "pnpm", "yarn", "bun") and verb in ("uninstall", "remove", "rm", "un", "r"):
        if any(a in ("-g", "--global") for a in args):
            cmd.fact("pkg.uninstall", f"{p} removes a global package")
        return
    if p in ("pip", "pip3") and verb == "uninstall":
        cmd.fact("pkg.uninstall", f"pip uninstall {' '.join(pos[1:])}", packages=pos[1:])
        return
    if p in ("npm",) and verb in ("link",):
        cmd.fact("pkg.install", "npm link installs a package globally", scope="global")
        return
    if p in ("npm", "pnpm") and verb == "config" and len(pos) > 1 and pos[1] in ("set", "delete"):
        cmd.fact("pkg.config", f"{p} config {pos[1]} changes registry settings")
        return
    if p == "go" and verb == "run" and len(pos) > 1 and "@" in pos[1]:
        cmd.fact("exec.remote_package", f"go run {pos[1]} downloads and runs a module", package=pos[1])
        return
    if (p == "go" and verb == "run" and len(pos) > 1) or (p == "dotnet" and verb == "fsi"):
        from warden.core.analyze.interpreters import script_file, stdin_code

        # `go run FILE.go|DIR`, `dotnet fsi [SCRIPT]`: source code compiled and run on the spot
        target = next((a for a in pos[1:] if a.endswith((".go", ".fsx")) or "/" in a or a == "."), None)
        if target is not None:
            script_file(cmd, target)
        elif p == "dotnet":
            stdin_code(cmd, "fsharp")
        return
    verbs = MANAGERS_INSTALL_VERBS.get(p, ())
    yarn_global = p == "yarn" and verb == "global"
    if yarn_global and len(pos) > 1 and pos[1] in ("add", "upgrade"):
        pos = pos[1:]  # `yarn global add PKG` installs PKG for the user
        verb = pos[0]
    if verb not in verbs:
        return
    names = pos[1:]
    glob = any(a in ("-g", "--global", "--user", "--system") for a in args) or yarn_global \
        or p in ("gem", "cpan", "cpanm", "luarocks", "pipx") or (p == "cargo" and verb == "install") or (
            p == "go" and verb == "install")
    if p in ("pip", "pip3"):
        for i, a in enumerate(args):
            if a in ("-r", "--requirement", "-c", "--constraint") and i + 1 < len(args):
                cmd.path(args[i + 1], Access.READ)
            if a in ("-i", "--index-url", "--extra-index-url") and i + 1 < len(args):
                cmd.fact("pkg.index", f"pip uses package index {args[i + 1]}")
        editable = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-e", "--editable")]
        names = [n for n in names if n not in editable]
        names += [e for e in editable if "://" in e or e.startswith(("git+", "hg+", "svn+", "bzr+"))]
        local = [n for n in names if n.startswith((".", "/", "~")) or ("/" in n and "://" not in n and "+" not in
                                                                         n.split("/", 1)[0])]
        local += [e for e in editable if e not in local and "://" not in e and not e.startswith(("git+", "hg+",
                                                                                               "svn+", "bzr+"))]
        for n in local:
            # a source tree's build script runs: one outside the workspace is not the project's code
            if any(not r.in_workspace for r in cmd.path(n, Access.READ)) and not n.endswith((".whl",)):
                cmd.fact("exec.script_outside", f"pip builds and installs {n}, outside the workspace", path=n)
        names = [n for n in names if n not in local]
        if not names:
            cmd.fact("pkg.install_project", "pip installs the project or its pinned requirements")
            if any(a in ("--user", "--break-system-packages") for a in args):
                cmd.fact("pkg.install", "pip installs into the user or system site", scope="user")
            return
    if p in ("npm", "pnpm", "bun") and verb in ("install", "i", "ci") and not names and not glob:
        cmd.fact("pkg.install_project", f"{p} installs the project's locked dependencies")
        return
    if p in ("poetry", "pdm", "bundle", "composer", "cargo", "deno") and verb == "install" and not names:
        cmd.fact("pkg.install_project", f"{p} installs the project's locked dependencies")
        return
    if p == "yarn" and verb == "install":
        cmd.fact("pkg.install_project", "yarn installs the project's locked dependencies")
        return
    if p == "go" and verb == "get" and not names:
        return
    scope = "global" if glob else "project"
    shown = " ".join(names) or "(from arguments)"
    cmd.fact("pkg.install", f"{p} {verb} {shown}", packages=names, scope=scope, manager=p)


def _npm_ci(cmd: Cmd) -> None:
    if cmd.args and cmd.args[0] == "ci":
        cmd.fact("pkg.install_project", "npm ci installs the project's locked dependencies")
        return
    _manager(cmd)


def _system(cmd: Cmd) -> None:
    pos = _pkgs(cmd.args, ("-o", "-c", "-t", "--target-release", "-y"))
    if not pos:
        return
    verb = pos[0]
    if verb in ("install", "add", "reinstall", "-S", "localinstall", "i", "in", "cask"):
        cmd.fact("pkg.install", f"{cmd.program} {verb} {' '.join(pos[1:])}", packages=pos[1:], scope="system",
                 manager=cmd.program)
    elif verb in ("remove", "purge", "autoremove", "erase", "uninstall", "del", "rm", "-R", "zap"):
        cmd.fact("pkg.uninstall", f"{cmd.program} {verb} {' '.join(pos[1:])}", packages=pos[1:], scope="system")
    elif verb in ("upgrade", "dist-upgrade", "full-upgrade", "update", "-Syu", "refresh", "tap"):
        cmd.fact("pkg.system_update", f"{cmd.program} {verb} changes system packages")
    if cmd.program == "pacman":
        for a in cmd.args:
            if a.startswith("-S"):
                cmd.fact("pkg.install", f"pacman {a} {' '.join(pos)}", scope="system", packages=pos)
            elif a.startswith("-R"):
                cmd.fact("pkg.uninstall", f"pacman {a}", scope="system")
    if cmd.program == "dpkg" and any(a in ("-i", "--install", "-r", "--remove", "-P", "--purge") for a in cmd.args):
        cmd.fact("pkg.install", "dpkg installs or removes system packages", scope="system")


def _publisher(cmd: Cmd) -> None:
    pos = _pkgs(cmd.args)
    if pos and (cmd.program, pos[0]) in PUBLISH:
        cmd.fact("pkg.publish", f"{cmd.program} {pos[0]} publishes a package")
    if cmd.program == "mvn" and any(a.startswith(("exec:exec", "org.codehaus.mojo:exec-maven-plugin")) for a in cmd.args):
        _mvn_exec(cmd)


def _mvn_exec(cmd: Cmd) -> None:
    """`mvn exec:exec -Dexec.executable=PROG -Dexec.args=ARGS` runs PROG (exec:java runs project code)."""
    props = {a[2:].split("=", 1)[0]: a.split("=", 1)[1] for a in cmd.args if a.startswith("-D") and "=" in a}
    prog = props.get("exec.executable")
    if prog is None:
        return  # the program is configured in the project's pom: project code, like `npm run`
    cmd.nested([prog, *props.get("exec.args", "").split()], via="mvn exec:exec")


def _uvx(cmd: Cmd) -> None:
    _remote_run(cmd, cmd.args, cmd.program)


def _gem(cmd: Cmd) -> None:
    from warden.core.analyze.escapes import escape

    _manager(cmd)
    args = cmd.args
    if args[:1] == ["open"]:
        for i, a in enumerate(args):
            if a in ("-e", "--editor") and i + 1 < len(args):
                escape(cmd, "gem open -e", args[i + 1])
                return
        cmd.fact("exec.interactive", "gem open starts an editor")
    elif args[:1] == ["build"]:
        from warden.core.analyze.interpreters import script_file

        for a in args[1:]:
            if not a.startswith("-"):
                script_file(cmd, a)  # a gemspec is Ruby code
                break


HANDLERS = {name: _manager for name in MANAGERS_INSTALL_VERBS}
HANDLERS.update({"npm": _npm_ci, "npx": _manager, "bunx": _manager, "uv": _manager, "uvx": _uvx, "pipx": _manager,
                 "pnpx": _uvx})
HANDLERS.update({name: _system for name in SYSTEM_MANAGERS})
HANDLERS["gem"] = _gem
HANDLERS.update({name: _publisher for name in ("twine", "flit", "mvn", "gradle", "vsce", "ovsx", "jsr")})

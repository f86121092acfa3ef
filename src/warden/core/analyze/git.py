"""git semantics: pushes (force, protected branches, deletions), history and work-tree loss,
configuration that runs programs, and remotes.

Protected branches: the analyzer is pure and does not see the policy, so every push carries
``data.branches`` and ``data.force`` (rules may match them), and the facts
``git.push_protected`` / ``git.force_push_protected`` / ``git.delete_protected`` are emitted
against :data:`DEFAULT_PROTECTED` (main, master, trunk, production, release/*) — the same
default as the policy setting ``protected_branches``.
"""

from __future__ import annotations

import posixpath

import fnmatch

from warden.core.analyze.escapes import escape
from warden.core.analyze.invocation import Cmd
from warden.core.analyze.netflow import host_of
from warden.core.analyze.words import UNKNOWN
from warden.core.facts import Access

DEFAULT_PROTECTED = ("main", "master", "trunk", "production", "prod", "release/*", "develop")
# Config keys whose value is a command git will run (lower-case; * matches one name segment).
EXEC_KEYS = ("core.pager", "core.sshcommand", "core.editor", "core.hookspath", "core.fsmonitor", "core.askpass",
             "core.gitproxy", "core.alternaterefscommand", "pager.*", "alias.*", "diff.external", "diff.*.textconv",
             "diff.*.command", "filter.*.clean", "filter.*.smudge", "filter.*.process", "merge.*.driver",
             "credential.helper", "credential.*.helper", "gpg.program", "gpg.*.program", "sequence.editor",
             "uploadpack.packobjectshook", "protocol.ext.allow", "remote.*.uploadpack", "remote.*.receivepack",
             "difftool.*.cmd", "mergetool.*.cmd", "sendemail.smtpserver", "url.*.insteadof", "url.*.pushinsteadof",
             "include.path", "includeif.*.path", "core.worktree", "http.proxy", "receive.procreceiverefs")
GLOBAL_VALUE_OPTS = ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--super-prefix",
                     "--config-env", "--list-cmds")


def is_protected(branch: str) -> bool:
    b = branch.removeprefix("refs/heads/")
    return any(fnmatch.fnmatchcase(b, p) for p in DEFAULT_PROTECTED)


def _exec_key(key: str) -> bool:
    k = key.lower()
    for pattern in EXEC_KEYS:
        if fnmatch.fnmatchcase(k, pattern):
            return True
    return False


def _config_pair(cmd: Cmd, key: str, value: str, how: str) -> None:
    if not _exec_key(key):
        return
    lk = key.lower()
    if lk.startswith("alias.") and not value.startswith("!"):
        return
    if lk in ("core.pager", "core.editor", "sequence.editor") or lk.startswith("pager."):
        from warden.core.analyze.envvars import SAFE_PROGRAM_VALUES

        if value.strip() in SAFE_PROGRAM_VALUES:
            return
    cmd.fact("git.config_exec", f"{how} sets {key}, which makes git run a program", key=key)
    text = value[1:] if value.startswith("!") else value
    if lk in ("core.hookspath", "include.path") or lk.startswith(("includeif.", "url.", "http.")):
        if lk == "core.hookspath":
            cmd.fact("guard.tamper", f"{how} redirects git hooks to {value}", path=value)
        return
    if lk.startswith("credential."):
        cmd.fact("secret.helper", f"{how} changes how git stores credentials ({value})")
    escape(cmd, f"git {key}", text if text and lk != "protocol.ext.allow" else None)


def _push(cmd: Cmd, args: list[str]) -> None:
    force = delete = mirror = every = False
    positional: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-f", "--force", "--force-if-includes") or a.startswith("--force-with-lease"):
            force = True
        elif a in ("-d", "--delete"):
            delete = True
        elif a == "--mirror":
            mirror = force = True
        elif a in ("--all", "--branches"):
            every = True
        elif a in ("--no-verify",):
            cmd.fact("git.no_verify", "git push --no-verify skips the pre-push hook")
        elif a in ("--repo", "--receive-pack", "--exec", "-o", "--push-option") and i + 1 < len(args):
            if a in ("--receive-pack", "--exec"):
                escape(cmd, a)
            i += 2
            continue
        elif a.startswith(("--receive-pack=", "--exec=")):
            escape(cmd, a.split("=", 1)[0])
        elif a.startswith("-") and not a.startswith("--") and "f" in a[1:]:
            force = True
        elif not a.startswith("-"):
            positional.append(a)
        i += 1
    remote = positional[0] if positional else ""
    branches: list[str] = []
    deleted: list[str] = []
    # A push without a refspec goes to the current branch (push.default simple/current), unless it
    # runs in another repository (-C, --git-dir), whose branch Warden does not know.
    current = "" if getattr(cmd, "other_repo", False) else cmd.session.env.branch
    implicit = len(positional) <= 1 and bool(current) and not (delete or mirror or every)
    if implicit:
        branches.append(current)
    for ref in positional[1:]:
        if ref.startswith("+"):
            force = True
            ref = ref[1:]
        src, colon, dst = ref.partition(":")
        target = dst if colon else src
        if colon and not src:
            deleted.append(dst)
        elif delete:
            deleted.append(target)
        else:
            branches.append(target.removeprefix("refs/heads/"))
    if remote and ("://" in remote or "@" in remote):
        h = host_of(remote) or remote.split("@", 1)[-1].split(":", 1)[0]
        cmd.host(h)
    cmd.fact("git.push", f"git push to {remote or 'the default remote'} {' '.join(branches)}".strip(),
             remote=remote, branches=branches, force=force)
    shown = ", ".join(branches) or "the current branch"
    if force:
        cmd.fact("git.force_push", f"force-pushes {shown}: rewrites remote history", remote=remote,
                 branches=branches, branch=branches[0] if branches else "")
        if implicit:
            cmd.fact("git.force_push_current", f"force-pushes the current branch {current} (no refspec)",
                     branch=current)
        if mirror or every or any(is_protected(b) for b in branches):
            cmd.fact("git.force_push_protected", f"force-pushes protected branch {shown}", branches=branches)
    elif any(is_protected(b) for b in branches):
        cmd.fact("git.push_protected", f"pushes directly to protected branch {shown}", branches=branches)
    if deleted:
        cmd.fact("git.branch_delete_remote", f"deletes remote branch(es) {', '.join(deleted)}", branches=deleted)
        if any(is_protected(b) for b in deleted):
            cmd.fact("git.delete_protected", f"deletes protected remote branch {', '.join(deleted)}",
                     branches=deleted)


def _branch(cmd: Cmd, args: list[str]) -> None:
    force_delete = any(a in ("-D",) or (a.startswith("-") and not a.startswith("--") and "D" in a) for a in args) or (
        ("--delete" in args or "-d" in args) and ("--force" in args or "-f" in args))
    names = [a for a in args if not a.startswith("-")]
    if any(a.startswith(UNKNOWN) for a in args):
        # a word computed at run time may split into options (`-D main`): what it does is unknown
        cmd.opaque("a git branch argument is computed at run time")
    if force_delete:
        cmd.fact("git.branch_delete", f"force-deletes branch(es) {', '.join(names)} (unmerged work is lost)",
                 branches=names)
    if "-r" in args and ("-d" in args or "-D" in args):
        cmd.fact("git.branch_delete", "deletes remote-tracking branches", branches=names)
    if any(a in ("-M", "-C") for a in args) or (any(a in ("-m", "-c", "--move", "--copy") for a in args) and any(
            a in ("-f", "--force") for a in args)):
        # a forced rename or copy replaces an existing branch of the target name
        cmd.fact("git.branch_delete", f"overwrites branch {names[-1] if names else '?'} (force rename or copy)",
                 branches=names[-1:])
    if any(a in ("-m", "-M", "--move") for a in args) and any(is_protected(n) for n in names):
        cmd.fact("git.branch_delete", f"renames protected branch {names[0]}", branches=names)


# Subcommands that change files in the work tree (or the repository) they act on.
WORK_TREE_WRITERS = frozenset({"rm", "clean", "reset", "checkout", "restore", "mv", "apply", "am", "stash", "merge",
                               "rebase", "pull", "switch", "cherry-pick", "revert", "read-tree", "checkout-index",
                               "commit", "init", "worktree", "submodule", "gc", "prune", "update-ref", "filter-branch"})


def _git_environment(cmd: Cmd) -> None:
    """GIT_CONFIG_COUNT/KEY_n/VALUE_n are `git -c` in the environment; GIT_DIR/GIT_WORK_TREE move git."""
    env = {**{k: v[0] for k, v in cmd.session.vars.items() if v}, **cmd.inv.assigns}
    count = env.get("GIT_CONFIG_COUNT", "")
    if count:
        n = int(count) if count.isdigit() else 16
        for k in range(min(n, 16)):
            key = env.get(f"GIT_CONFIG_KEY_{k}", "")
            if key:
                _config_pair(cmd, key, env.get(f"GIT_CONFIG_VALUE_{k}", ""), "GIT_CONFIG_KEY/VALUE")
    for var in ("GIT_DIR", "GIT_WORK_TREE"):
        if env.get(var):
            cmd.path(env[var], Access.READ)
            cmd.git_dir = env[var]  # type: ignore[attr-defined]


def _git(cmd: Cmd) -> None:
    args = cmd.args
    i = 0
    _git_environment(cmd)
    while i < len(args):
        a = args[i]
        if a == "-c" and i + 1 < len(args):
            key, _, value = args[i + 1].partition("=")
            _config_pair(cmd, key, value, "git -c")
            i += 2
            continue
        if a.startswith("--config-env"):
            escape(cmd, "--config-env (a config value from the environment)")
        git_dir = args[i + 1] if a == "--git-dir" and i + 1 < len(args) else (
            a.split("=", 1)[1] if a.startswith("--git-dir=") else "")
        if git_dir and posixpath.basename(git_dir.rstrip("/")) != ".git":
            # git runs the hooks and config-named programs (fsmonitor, pager) of that directory
            escape(cmd, f"--git-dir {git_dir} (git runs that directory's hooks and config commands)")
        if a in ("-C", "--git-dir", "--work-tree") or a.startswith(("--git-dir=", "--work-tree=")):
            cmd.other_repo = True  # type: ignore[attr-defined]  # its current branch is not the one we know
        if a in ("-C", "--git-dir", "--work-tree") and i + 1 < len(args):
            cmd.path(args[i + 1], Access.READ)
            if a in ("-C", "--work-tree"):
                cmd.git_dir = args[i + 1]  # type: ignore[attr-defined]  # where reset/clean act
            i += 2
            continue
        if a.startswith(("--git-dir=", "--work-tree=")):
            cmd.path(a.split("=", 1)[1], Access.READ)
            cmd.git_dir = a.split("=", 1)[1]  # type: ignore[attr-defined]
        if a.startswith("--exec-path="):
            escape(cmd, "--exec-path")
        if a in GLOBAL_VALUE_OPTS and i + 1 < len(args):
            i += 2
            continue
        if not a.startswith("-"):
            break
        i += 1
    if i >= len(args):
        return
    sub, rest = args[i], args[i + 1:]
    if UNKNOWN in sub:
        cmd.opaque("the git subcommand is computed at run time")
        return
    cmd.fact("git.subcommand", f"git {sub}", subcommand=sub)
    moved = getattr(cmd, "git_dir", None)
    if moved and sub in WORK_TREE_WRITERS:
        cmd.path(moved, Access.WRITE)  # -C / --work-tree / GIT_DIR elsewhere: git changes files there
    handler = SUBCOMMANDS.get(sub)
    if handler is not None:
        handler(cmd, rest)


def _reset(cmd: Cmd, args: list[str]) -> None:
    if "--hard" in args or "--merge" in args or "--keep" in args:
        cmd.fact("git.reset_hard", "git reset --hard discards uncommitted changes")
        cmd.path(getattr(cmd, "git_dir", "."), Access.WRITE)


def _clean(cmd: Cmd, args: list[str]) -> None:
    dry = any(a in ("-n", "--dry-run") or (a.startswith("-") and not a.startswith("--") and "n" in a) for a in args)
    forced = any(a in ("-f", "--force") or (a.startswith("-") and not a.startswith("--") and "f" in a) for a in args)
    if forced and not dry:
        ignored = any(a.startswith("-") and not a.startswith("--") and ("x" in a or "X" in a) for a in args)
        cmd.fact("git.clean", "git clean deletes untracked files" + (" including ignored ones" if ignored else ""))
        cmd.path(getattr(cmd, "git_dir", "."), Access.WRITE)


def _checkout(cmd: Cmd, args: list[str]) -> None:
    if ("--" in args and args.index("--") < len(args) - 1) or any(a in (".", "-f", "--force") for a in args) or (
            "--" in args and args[-1] == "--"):
        cmd.fact("git.discard", "git checkout overwrites uncommitted changes in the work tree")
    if "--" in args:
        _restored(cmd, args[args.index("--") + 1:])


def _restored(cmd: Cmd, paths: list[str]) -> None:
    """Files git overwrites from history are written: an old warden.yaml restored is a guard change."""
    for p in paths[:64]:
        if p and not p.startswith("-") and p != ".":
            cmd.path(p, Access.WRITE)


def _switch(cmd: Cmd, args: list[str]) -> None:
    if any(a in ("--discard-changes", "-f", "--force") for a in args):
        cmd.fact("git.discard", "git switch --discard-changes throws away uncommitted changes")


def _read_tree(cmd: Cmd, args: list[str]) -> None:
    # `read-tree --reset -u` is the plumbing spelling of `reset --hard`
    if "-u" in args and ("--reset" in args or "-m" in args):
        cmd.fact("git.discard", "git read-tree -u overwrites uncommitted changes in the work tree")


def _diff(cmd: Cmd, args: list[str]) -> None:
    # `git diff /dev/null FILE` (or --no-index) prints any file, in or out of the repository
    for a in args[args.index("--") + 1:] if "--" in args else args:
        if not a.startswith("-") and ("/" in a or a.startswith(".")) and ".." not in a and ":" not in a:
            cmd.path(a, Access.READ)


def _show(cmd: Cmd, args: list[str]) -> None:
    # `git show REV:PATH`, `git cat-file -p REV:PATH`: the file's committed content is printed
    for a in args:
        if not a.startswith("-") and ":" in a and "://" not in a:
            rel = a.split(":", 1)[1]
            if rel and not rel.startswith(("/", "~")):
                cmd.path(rel, Access.READ)


def _grep(cmd: Cmd, args: list[str]) -> None:
    # `git grep -O CMD` / `--open-files-in-pager=CMD` runs CMD on the matching files
    for i, a in enumerate(args):
        if a in ("-O", "--open-files-in-pager") and i + 1 < len(args) and not args[i + 1].startswith("-"):
            escape(cmd, "grep -O", args[i + 1])
        elif a.startswith("--open-files-in-pager=") or (a.startswith("-O") and len(a) > 2):
            escape(cmd, "grep -O", a.split("=", 1)[1] if a.startswith("--") else a[2:])


def _file_args(cmd: Cmd, args: list[str]) -> None:
    """Options naming a file git reads (blame --contents, commit -F, hash-object) or writes (-o)."""
    for i, a in enumerate(args):
        value = args[i + 1] if i + 1 < len(args) else None
        if a in ("--contents", "-F", "--file") and value is not None:
            cmd.path(value, Access.READ)
        elif a.startswith(("--contents=", "--file=")):
            cmd.path(a.split("=", 1)[1], Access.READ)
        elif a in ("-o", "--output", "--output-directory") and value is not None:
            cmd.path(value, Access.WRITE)
        elif a.startswith(("--output=", "--output-directory=")):
            cmd.path(a.split("=", 1)[1], Access.WRITE)


def _hash_object(cmd: Cmd, args: list[str]) -> None:
    for a in args:
        if not a.startswith("-"):
            cmd.path(a, Access.READ)


def _bundle(cmd: Cmd, args: list[str]) -> None:
    if len(args) > 1 and args[0] == "create" and not args[1].startswith("-"):
        cmd.path(args[1], Access.WRITE)


def _apply(cmd: Cmd, args: list[str]) -> None:
    if "--unsafe-paths" in args:
        cmd.fact("fs.unresolved_target", "git apply --unsafe-paths writes wherever the patch says")
    for i, a in enumerate(args):
        if a == "--directory" and i + 1 < len(args):
            cmd.path(args[i + 1], Access.WRITE)
        elif a.startswith("--directory="):
            cmd.path(a.split("=", 1)[1], Access.WRITE)


def _restore(cmd: Cmd, args: list[str]) -> None:
    staged_only = ("--staged" in args or "-S" in args) and not ("--worktree" in args or "-W" in args)
    if not staged_only and any(not a.startswith("-") for a in args):
        cmd.fact("git.discard", "git restore overwrites uncommitted changes in the work tree")
    if not staged_only:
        skip = {"-s", "--source"}
        paths = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in skip)]
        _restored(cmd, paths)


def _stash(cmd: Cmd, args: list[str]) -> None:
    if args and args[0] in ("drop", "clear"):
        cmd.fact("git.stash_drop", f"git stash {args[0]} deletes stashed work")


def _rewrite(cmd: Cmd, args: list[str]) -> None:
    cmd.fact("git.history_rewrite", "rewrites or prunes git history")
    for i, a in enumerate(args):
        if a in ("--tree-filter", "--index-filter", "--msg-filter", "--commit-filter", "--env-filter",
                 "--parent-filter", "--tag-name-filter") and i + 1 < len(args):
            escape(cmd, a, args[i + 1])


def _reflog(cmd: Cmd, args: list[str]) -> None:
    if args and args[0] in ("expire", "delete"):
        _rewrite(cmd, args)


def _gc(cmd: Cmd, args: list[str]) -> None:
    if any(a.startswith("--prune=now") or a == "--prune=all" for a in args):
        _rewrite(cmd, args)


def _update_ref(cmd: Cmd, args: list[str]) -> None:
    if "-d" in args:
        _rewrite(cmd, args)


def _config(cmd: Cmd, args: list[str]) -> None:
    reading = any(a in ("--get", "--get-all", "--list", "-l", "--get-regexp", "--show-origin", "--get-urlmatch")
                  for a in args)
    scope_global = any(a in ("--global", "--system") for a in args)
    positional = [a for a in args if not a.startswith("-")]
    if positional and positional[0] in ("get", "list"):
        reading = True
    if positional and positional[0] in ("set", "unset", "add", "rename-section", "remove-section"):
        positional = positional[1:]
    if reading or (len(positional) < 2 and not any(a in ("--unset", "--unset-all", "--add") for a in args)):
        return
    if scope_global:
        cmd.fact("git.config_global", "changes the user's or system's git configuration")
    if len(positional) >= 2:
        _config_pair(cmd, positional[0], positional[1], "git config")


def _remote(cmd: Cmd, args: list[str]) -> None:
    if args and args[0] in ("add", "set-url", "remove", "rm", "rename"):
        cmd.fact("git.remote_change", f"git remote {args[0]} changes where code is pushed")
        for a in args[1:]:
            if "://" in a or "@" in a:
                cmd.host(host_of(a) or a.split("@", 1)[-1].split(":", 1)[0])


def _fetch_like(cmd: Cmd, args: list[str]) -> None:
    for i, a in enumerate(args):
        if "://" in a or (("@" in a) and ":" in a):
            cmd.host(host_of(a) or a.split("@", 1)[-1].split(":", 1)[0])
        if a in ("-c", "--config") and i + 1 < len(args):
            key, _, value = args[i + 1].partition("=")
            _config_pair(cmd, key, value, "git clone -c")
        if a in ("--upload-pack", "-u") and i + 1 < len(args):
            escape(cmd, "--upload-pack", args[i + 1])
        elif a.startswith(("--upload-pack=", "--exec=")):
            escape(cmd, "--upload-pack", a.split("=", 1)[1])
        if a.startswith("--template"):
            escape(cmd, "--template (installs hooks from a directory)")
        if a.startswith("ext::") or ("::" in a and a.split("::", 1)[0] in ("ext", "fd")):
            escape(cmd, "the ext:: transport", a.split("::", 1)[1].replace("%20", " ") if a.startswith("ext::")
                   else None)
    cmd.fact("git.fetch", "downloads from a git remote")
    if cmd.info.argv and "clone" in cmd.info.argv:
        positional = [a for a in args if not a.startswith("-")]
        if len(positional) >= 2:
            cmd.path(positional[1], Access.WRITE)


def _commit(cmd: Cmd, args: list[str]) -> None:
    _file_args(cmd, args)
    if "--no-verify" in args or any(a.startswith("-") and not a.startswith("--") and "n" in a and "m" not in a[
            :a.index("n")] for a in args if len(a) < 6):
        cmd.fact("git.no_verify", "skips the pre-commit and commit-msg hooks")


def _rebase(cmd: Cmd, args: list[str]) -> None:
    for i, a in enumerate(args):
        if a in ("-x", "--exec") and i + 1 < len(args):
            escape(cmd, "rebase --exec", args[i + 1])
        elif a.startswith("--exec="):
            escape(cmd, "rebase --exec", a.split("=", 1)[1])
    if "-i" in args or "--interactive" in args:
        cmd.fact("exec.interactive", "git rebase -i opens an editor")


def _bisect(cmd: Cmd, args: list[str]) -> None:
    if args and args[0] == "run" and len(args) > 1:
        cmd.nested(args[1:], via="git bisect run")


def _submodule(cmd: Cmd, args: list[str]) -> None:
    if "foreach" in args:
        rest = args[args.index("foreach") + 1:]
        rest = [a for a in rest if a not in ("--recursive", "--quiet", "-q")]
        if rest:
            cmd.shell(" ".join(rest), "git submodule foreach")
    elif args and args[0] in ("update", "add", "sync", "init"):
        _fetch_like(cmd, args[1:])


def _difftool(cmd: Cmd, args: list[str]) -> None:
    for i, a in enumerate(args):
        if a in ("-x", "--extcmd") and i + 1 < len(args):
            escape(cmd, "difftool --extcmd", args[i + 1])
        elif a.startswith("--extcmd="):
            escape(cmd, "difftool --extcmd", a.split("=", 1)[1])


def _rm(cmd: Cmd, args: list[str]) -> None:
    cached = "--cached" in args
    if not cached and any(a == "--force" or (a.startswith("-") and not a.startswith("--") and "f" in a) for a in args):
        cmd.fact("git.discard", "git rm -f deletes files even with uncommitted modifications")
    for a in args:
        if not a.startswith("-"):
            cmd.path(a, Access.READ if cached else Access.DELETE, op="" if cached else "delete")


def _credential(cmd: Cmd, args: list[str]) -> None:
    if args and args[0] in ("fill", "get"):
        cmd.fact("secret.read", "git credential fill prints stored credentials")
    elif args and args[0] in ("approve", "reject", "store", "erase"):
        cmd.fact("secret.write", f"git credential {args[0]} changes stored credentials")


def _serve(cmd: Cmd, args: list[str]) -> None:
    cmd.fact("net.listen", "serves the repository over the network")


def _send_email(cmd: Cmd, args: list[str]) -> None:
    cmd.fact("net.upload", "git send-email sends patches by mail")


def _archive(cmd: Cmd, args: list[str]) -> None:
    for i, a in enumerate(args):
        if a in ("-o", "--output") and i + 1 < len(args):
            cmd.path(args[i + 1], Access.WRITE)
        elif a.startswith("--output="):
            cmd.path(a.split("=", 1)[1], Access.WRITE)
        if a.startswith("--remote"):
            cmd.fact("git.fetch", "git archive --remote downloads from a remote")
        if a.startswith("--exec"):
            escape(cmd, "--exec")


def _hook(cmd: Cmd, args: list[str]) -> None:
    if args and args[0] == "run":
        cmd.fact("exec.script", "runs a git hook from the repository")


SUBCOMMANDS = {
    "push": _push, "branch": _branch, "reset": _reset, "clean": _clean, "checkout": _checkout, "restore": _restore,
    "stash": _stash, "filter-branch": _rewrite, "filter-repo": _rewrite, "reflog": _reflog, "gc": _gc,
    "update-ref": _update_ref, "replace": _rewrite, "config": _config, "remote": _remote, "fetch": _fetch_like,
    "pull": _fetch_like, "clone": _fetch_like, "ls-remote": _fetch_like, "commit": _commit, "rebase": _rebase,
    "bisect": _bisect, "submodule": _submodule, "difftool": _difftool, "mergetool": _difftool, "rm": _rm,
    "credential": _credential, "credential-store": _credential, "daemon": _serve, "instaweb": _serve,
    "send-email": _send_email, "archive": _archive, "hook": _hook, "merge": _commit, "am": _commit,
    "switch": _switch, "read-tree": _read_tree, "diff": _diff, "apply": _apply, "show": _show, "cat-file": _show,
    "grep": _grep, "blame": _file_args, "hash-object": _hash_object, "bundle": _bundle, "format-patch": _file_args,
    "tag": _file_args, "notes": _file_args,
}
HANDLERS = {"git": _git}

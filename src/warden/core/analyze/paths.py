"""Path resolution and classification, without touching the file system.

Symlinks are resolved only through ``env.realpath`` (supplied by adapters). Classification
turns a resolved path and its access into facts (secret location, agent guard, system file,
persistence point, device, critical directory); Bash and the file tools share it, so
``cat ~/.ssh/id_rsa`` and ``Read ~/.ssh/id_rsa`` are judged alike. Checks are plain string
operations: no regexes on agent-supplied text.
"""

from __future__ import annotations

import posixpath

from warden.core.analyze import AnalysisEnv
from warden.core.credentials import catalogue, credential_env_files, tree_holds_credentials
from warden.core.facts import Access, Fact, PathRef


def expand_home(raw: str, env: AnalysisEnv) -> str:
    home = home_of(env)
    if raw == "~" or raw.startswith("~/"):
        return home + raw[1:]
    for var in ("$HOME", "${HOME}"):
        if raw == var or raw.startswith(var + "/"):
            return home + raw[len(var):]
    return raw


def home_of(env: AnalysisEnv) -> str:
    return (env.env.get("HOME") or env.home or "/root").rstrip("/") or "/"


def is_within(path: str, root: str) -> bool:
    if not root:
        return False
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root + "/") or root == "/"


def resolve_path(raw: str, cwd: str, workspace: str, env: AnalysisEnv) -> tuple[str, bool]:
    """Absolute, normalized path and whether it stays inside the workspace.

    A workspace of ``/`` would put the whole machine "inside"; it counts as no workspace.
    """
    if workspace.rstrip("/") == "":
        workspace = ""
    path = expand_home(raw, env)
    if not path.startswith("/"):
        path = posixpath.join(cwd or workspace or "/", path)
    path = posixpath.normpath(path)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if env.realpath is not None:
        try:
            path = env.realpath(path)
        except Exception:  # an unresolvable path keeps its lexical form
            pass
        if not is_within(path, workspace) and workspace:
            # the workspace itself may sit behind a symlink (/home/dev/project -> /data/project)
            try:
                real_ws = env.realpath(workspace)
            except Exception:
                real_ws = workspace
            if real_ws != workspace and is_within(path, real_ws):
                return path, True
    return path, is_within(path, workspace)


# --- classification tables -------------------------------------------------------------

TEMP_ROOTS = ("/tmp", "/var/tmp", "/dev/shm", "/private/tmp")
# Writing or reading these is never a concern (streams, sinks, entropy).
HARMLESS = frozenset({"/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty",
                      "/dev/random", "/dev/urandom", "/dev/full", "/dev/fd", "/proc/self/fd"})
HARMLESS_PREFIXES = ("/dev/fd/", "/proc/self/fd/", "/dev/pts/")
# Deleting (or recursively chmod/chown-ing) one of these, or everything in one, is catastrophic.
CRITICAL_DIRS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/proc",
    "/root", "/sbin", "/srv", "/sys", "/usr", "/var", "/mnt", "/media", "/snap", "/run", "/usr/bin",
    "/usr/lib", "/usr/lib64", "/usr/local", "/usr/sbin", "/usr/share", "/usr/include", "/usr/local/bin",
    "/usr/local/lib", "/var/lib", "/var/log", "/var/spool", "/var/mail", "/var/www", "/var/backups",
    "/etc/ssh", "/System", "/Library", "/Applications", "/Users", "/private", "/nix", "/nix/store",
})
SYSTEM_ROOTS = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/opt",
                "/var", "/sys", "/proc", "/srv", "/root", "/snap", "/System", "/Library", "/nix")
# Credential locations come from the one catalogue (warden/core/credentials.json), shared with the
# sandbox masks and the environment scrub.
_CAT = catalogue()
HOME_SECRETS = _CAT.home_paths  # relative to the home directory (prefix match on path components)
# Inside .ssh only the public halves, host lists and client config are not secret.
SSH_PUBLIC_SUFFIXES = tuple(p for p in _CAT.home[0].public if p.startswith("."))
SSH_PUBLIC_NAMES = frozenset(p for p in _CAT.home[0].public if not p.startswith("."))
SYSTEM_SECRETS = _CAT.system_paths
SECRET_NAMES = _CAT.names  # basenames that hold credentials wherever they are
SECRET_SUFFIXES = _CAT.suffixes
PUBLIC_KEY_HINTS = _CAT.public_hints
ENV_EXAMPLES = _CAT.env_templates

# Agent configuration and guards: changing them changes what the agent may do.
WORKSPACE_GUARDS = (".claude", ".cursor", ".mcp.json", "warden.yaml", "warden.yml", ".warden", ".codex",
                    ".gemini", ".windsurf", ".continue", ".vscode/settings.json", ".vscode/tasks.json",
                    ".vscode/launch.json",
                    ".git/hooks", ".husky/_", ".cursorrules", ".roo", ".clinerules", ".aider.conf.yml")
# Guard directories that matter wherever they sit (a sub-project's .claude/ configures agents there too).
NESTED_GUARDS = (".claude", ".cursor", ".mcp.json", ".warden", "warden.yaml", ".codex", ".gemini",
                 ".envrc")  # direnv runs an .envrc in any directory the user enters
HOME_GUARDS = (".claude", ".claude.json", ".cursor", ".codex", ".gemini", ".warden", ".config/warden",
               ".continue", ".aider.conf.yml", ".config/claude", ".vscode/settings.json",
               ".gitconfig", ".config/git")
SYSTEM_GUARDS = ("/etc/warden", "/etc/gitconfig", "/etc/claude-code", "/Library/Application Support/ClaudeCode")
CI_FILES = (".github/workflows", ".gitlab-ci.yml", ".circleci", "Jenkinsfile", ".travis.yml",
            "azure-pipelines.yml", "bitbucket-pipelines.yml", ".buildkite", ".drone.yml", ".woodpecker",
            ".github/actions")
SHELL_RC = (".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zprofile",
            ".zshenv", ".zlogin", ".config/fish/config.fish", ".config/fish/conf.d", ".kshrc", ".cshrc",
            ".tcshrc", ".inputrc")
SYSTEM_RC = ("/etc/profile", "/etc/profile.d", "/etc/bash.bashrc", "/etc/bashrc", "/etc/zsh", "/etc/zshrc",
             "/etc/environment")
AUTH_FILES = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d",
              "/etc/pam.d", "/etc/ld.so.preload", "/etc/security", "/etc/ssh/sshd_config",
              "/etc/ssh/sshd_config.d")
ACCOUNT_DB = ("/etc/passwd", "/etc/group", "/etc/master.passwd")
CRON = ("/etc/cron", "/etc/crontab", "/etc/anacrontab", "/var/spool/cron", "/etc/cron.d", "/etc/cron.daily",
        "/etc/cron.hourly", "/etc/cron.weekly", "/etc/cron.monthly", "/var/spool/anacron", "/etc/at.allow")
SERVICES_SYS = ("/etc/systemd", "/lib/systemd", "/usr/lib/systemd", "/etc/init.d", "/etc/rc.local",
                "/etc/init", "/Library/LaunchDaemons", "/Library/LaunchAgents", "/etc/xdg/autostart",
                "/etc/udev/rules.d")
SERVICES_HOME = (".config/systemd", ".config/autostart", "Library/LaunchAgents", ".local/share/systemd")
BLOCK_DEVICE_PREFIXES = ("/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk", "/dev/disk",
                         "/dev/mapper/", "/dev/md", "/dev/dm-", "/dev/loop", "/dev/rdisk", "/dev/sr",
                         "/dev/mem", "/dev/kmem", "/dev/port", "/dev/root", "/dev/nbd", "/dev/zd", "/dev/ubd",
                         # keyboards, cameras, microphones: reading them is spying
                         "/dev/input/", "/dev/uinput", "/dev/video", "/dev/snd/", "/dev/hidraw", "/dev/dsp")


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


_SETS: dict[int, frozenset[str]] = {}


def _under_any(path: str, roots: tuple[str, ...] | frozenset[str], base: str = "") -> str:
    """The entry of ``roots`` (relative to ``base`` when given) that ``path`` is at or under, or ''.

    Walks the path's own prefixes (one set lookup per component) instead of every root: this
    runs for every path of every command.
    """
    if base:
        if not path.startswith(base + "/"):
            return ""
        rel = path[len(base) + 1:]
    else:
        rel = path
    table = _SETS.get(id(roots))
    if table is None:
        table = _SETS[id(roots)] = frozenset(roots)
    start = 1 if rel.startswith("/") else 0
    k = rel.find("/", start)
    while k != -1:
        if rel[:k] in table:
            return rel[:k]
        k = rel.find("/", k + 1)
    return rel if rel in table else ""


def has_glob(s: str) -> bool:
    return "*" in s or "?" in s or "[" in s


def is_temp(path: str, env: AnalysisEnv) -> bool:
    tmp = (env.env.get("TMPDIR") or "").rstrip("/")
    roots = TEMP_ROOTS + ((tmp,) if tmp and tmp != "/" else ())
    return any(_under(path, r) and path != r for r in roots) or path in roots


def is_harmless(path: str) -> bool:
    return path in HARMLESS or path.startswith(HARMLESS_PREFIXES)


def is_block_device(path: str) -> bool:
    return path.startswith(BLOCK_DEVICE_PREFIXES)


def is_critical(path: str, env: AnalysisEnv, workspace: str) -> bool:
    """Is this path (or the set a trailing wildcard names) one whose loss wrecks the machine or user?"""
    home = home_of(env)
    path = path.rstrip("/") or "/"
    if path in CRITICAL_DIRS or path == home:
        return True
    parent, base = posixpath.split(path)
    if parent in ("/home", "/Users"):
        return True  # another user's home directory
    if has_glob(base) and (parent in CRITICAL_DIRS or parent == home or base.strip("*") == ""):
        if parent in CRITICAL_DIRS or parent == home or is_within(home, parent):
            return True
    if has_glob(parent):  # /*/ or ~/*/x: the wildcard spans a critical level
        head = parent.split("*")[0].split("?")[0].split("[")[0].rstrip("/") or "/"
        if head in CRITICAL_DIRS or head == home:
            return True
    # A strict ancestor of the home directory or of the workspace.
    if workspace and is_within(workspace, path) and path != workspace.rstrip("/"):
        return True
    if is_within(home, path) and path != home:
        return True
    return False


_ABS_INDEX: dict[str, list[str]] = {}
_HOME_INDEX: dict[str, list[str]] = {}
_WS_INDEX: dict[str, list[str]] = {}
for _index, _tables in (
    (_ABS_INDEX, {"secret": SYSTEM_SECRETS, "guard": SYSTEM_GUARDS, "account": ACCOUNT_DB, "rc": SYSTEM_RC,
                  "auth": AUTH_FILES, "cron": CRON, "service": SERVICES_SYS, "system": SYSTEM_ROOTS}),
    (_HOME_INDEX, {"secret": HOME_SECRETS, "guard": HOME_GUARDS, "rc": SHELL_RC, "service": SERVICES_HOME}),
    (_WS_INDEX, {"guard": WORKSPACE_GUARDS, "ci": CI_FILES}),
):
    for _kind, _entries in _tables.items():
        for _e in _entries:
            _index.setdefault(_e, []).append(_kind)


def _hits(rel: str, index: dict[str, list[str]]) -> dict[str, str]:
    """Which tables ``rel`` falls under (kind -> table entry): one dict lookup per path component."""
    out: dict[str, str] = {}
    start = 1 if rel.startswith("/") else 0
    k = rel.find("/", start)
    while True:
        prefix = rel if k == -1 else rel[:k]
        kinds = index.get(prefix)
        if kinds:
            for kind in kinds:
                out.setdefault(kind, prefix)
        if k == -1:
            return out
        k = rel.find("/", k + 1)


class _Where:
    """A path located once against every table (absolute, home-relative, workspace-relative)."""

    __slots__ = ("abs", "home", "home_dir", "ws")

    def __init__(self, path: str, env: AnalysisEnv, workspace: str) -> None:
        home = home_of(env)
        self.home_dir = home
        self.abs = _hits(path, _ABS_INDEX)
        if path.startswith(home + "/"):
            self.home = _hits(path[len(home) + 1:], _HOME_INDEX)
        elif path.startswith("/root/"):  # another user's home (root's) holds the same secrets
            self.home = {k: v for k, v in _hits(path[6:], _HOME_INDEX).items() if k == "secret"}
        else:
            self.home = {}
        ws = workspace.rstrip("/")
        self.ws = _hits(path[len(ws) + 1:], _WS_INDEX) if ws and path.startswith(ws + "/") else {}


def secret_kind(path: str, env: AnalysisEnv, where: _Where | None = None) -> str:
    """What secret a path holds ("ssh private key", ".env file"...), or ''."""
    base = posixpath.basename(path).rstrip("*?")
    if "/.ssh/" in path or path.endswith("/.ssh"):
        if base.endswith(SSH_PUBLIC_SUFFIXES) or base in SSH_PUBLIC_NAMES:
            return ""
        if path.rstrip("/").endswith("/.ssh"):
            return "ssh directory"
        return "ssh key material"
    where = where or _Where(path, env, "")
    if "secret" in where.home:
        return f"~/{where.home['secret']}"
    if "secret" in where.abs:
        return where.abs["secret"]
    if path.startswith("/proc/") and base in ("environ", "mem", "maps", "auxv"):
        return f"process {base}"
    if base in SECRET_NAMES:
        return base
    if _CAT.is_env_file_name(base):
        return ".env file"
    if env.env and path in credential_env_files(env.env):
        return "a file a credential variable names"
    if base.endswith(SECRET_SUFFIXES) and not base.endswith(PUBLIC_KEY_HINTS):
        return f"key file ({base})"
    if "/etc/ssh/ssh_host_" in path and not base.endswith(".pub"):
        return "ssh host key"
    return ""


# What git reads to decide which programs to run, relative to a git directory. A git directory's
# `modules/<name>/` and `worktrees/<name>/` are git directories themselves (submodules, linked worktrees).
GIT_CONTROL = frozenset({"config", "config.worktree", "hooks", "commondir", "gitdir", "info"})
GIT_CONTROL_OBJECTS = ("objects/info/alternates", "objects/info/http-alternates")
GIT_NESTED_DIRS = ("modules", "worktrees")


def git_control_kind(path: str, writes_dir_entry: bool = True) -> str:
    """Is ``path`` part of what git executes from (hooks, config and the files that redirect to other
    configs: commondir, gitdir, info/, alternates, submodule and worktree git dirs, .gitmodules)?

    Lexical, over every ``.git`` component, so a nested or relocated git directory counts too.
    ``writes_dir_entry``: a write *of* ``.git`` itself (a ``gitdir:`` pointer file, a directory moved
    into place) redirects git as well; deleting it does not run anything.
    """
    if posixpath.basename(path) == ".gitmodules":
        return ".gitmodules (submodule update commands)"
    k = path.find("/.git")
    while k != -1:
        rest = path[k + 5:]
        if rest == "":
            if writes_dir_entry:
                return "a git directory or gitdir pointer (.git)"
        elif rest.startswith("/"):
            parts = rest[1:].split("/")
            while len(parts) >= 1 and parts[0] in GIT_NESTED_DIRS:
                if len(parts) <= 2:  # .git/modules or .git/modules/<name> itself: a whole git dir
                    return f"git {parts[0]} directory (.git/{'/'.join(parts)})"
                parts = parts[2:]
            rel = "/".join(parts)
            if (parts and parts[0] in GIT_CONTROL) or rel.startswith(GIT_CONTROL_OBJECTS):
                return f"git control file (.git/{rest[1:]})"
        k = path.find("/.git", k + 5)
    return ""


def guard_kind(path: str, env: AnalysisEnv, workspace: str, where: _Where | None = None) -> str:
    if env.warden_home and _under(path, env.warden_home.rstrip("/")):
        return "Warden state ($WARDEN_HOME)"
    where = where or _Where(path, env, workspace)
    if "guard" in where.ws:
        return where.ws["guard"]
    if "/.git/hooks" in path or path.endswith("/.git/hooks"):
        return "git hooks"
    padded = path + "/"
    for g in NESTED_GUARDS:
        if f"/{g}/" in padded:
            return g
    if "guard" in where.home:
        return f"~/{where.home['guard']}"
    return where.abs.get("guard", "")


def _ws_rel(path: str, workspace: str) -> str:
    if workspace and is_within(path, workspace):
        return path[len(workspace.rstrip("/")):] or "/"
    return ""


def classify(ref: PathRef, env: AnalysisEnv, workspace: str) -> list[Fact]:
    """Facts about one resolved path and how it is accessed."""
    path, access = ref.path, ref.access
    writes = access in (Access.WRITE, Access.DELETE)
    facts: list[Fact] = []
    data = {"path": path, "access": access.value}

    def add(kind: str, detail: str) -> None:
        facts.append(Fact(kind, detail, dict(data)))

    if is_harmless(path):
        return facts
    where = _Where(path, env, workspace)
    secret = secret_kind(path, env, where)
    if secret:
        # the project's own .env and key files are the project's to edit; a credential store is not,
        # even when the workspace is the home directory
        # (~/.env is catalogued for the sandbox masks, but with the home as workspace it is the project's)
        store = ("secret" in where.home and not _CAT.is_env_file_name(where.home["secret"])) or \
            "secret" in where.abs or "/.ssh" in path
        if writes and (store or not ref.in_workspace):
            add("secret.write", f"{access.value} of a credential location ({secret}): {path}")
        elif access == Access.READ:
            add("secret.read", f"reads a credential location ({secret}): {path}")
    guard = guard_kind(path, env, workspace, where)
    if not guard and writes:
        guard = git_control_kind(path, access == Access.WRITE)
    if guard and writes:
        add("guard.tamper", f"{access.value} of agent configuration or guards ({guard}): {path}")
    elif guard and ("warden" in guard.lower()) and access == Access.READ and not ref.in_workspace:
        add("guard.state_read", f"reads Warden's own state: {path}")
    if path.startswith("/dev/") and is_block_device(path):
        if writes:
            add("device.write", f"writes a raw device: {path}")
        else:
            add("device.read", f"reads a raw device: {path}")
    if not writes:
        if "account" in where.abs:
            add("sys.account_read", f"reads the account database: {path}")
        if not ref.in_workspace:
            add("path.outside_workspace", path)
        return facts
    # --- writes and deletes
    rel = _ws_rel(path, workspace)
    if "ci" in where.ws:
        add("ci.workflow_write", f"changes CI configuration: {path}")
    if rel and (rel == "/.git" or rel.startswith("/.git/")) and access == Access.DELETE and rel.count("/") <= 2:
        add("git.dir_delete", f"deletes git metadata: {path}")
    if rel == "/.git/config" or (not rel and path.endswith("/.git/config")):
        add("git.config_write", f"changes repository configuration (hooks, pagers, helpers): {path}")
    if workspace and path == workspace.rstrip("/") and access == Access.DELETE:
        add("fs.workspace_root_delete", f"deletes the whole workspace: {path}")
    if "rc" in where.home or "rc" in where.abs:
        add("persist.shell_rc", f"changes a shell start-up file: {path}")
    if posixpath.basename(path) in ("authorized_keys", "authorized_keys2") or _under(path, "/etc/ssh/sshd_config"):
        add("persist.authorized_keys", f"changes who may log in over ssh: {path}")
    if "auth" in where.abs:
        add("sys.auth_write", f"changes accounts, sudo or authentication: {path}")
    if path == "/proc/sysrq-trigger":
        add("sys.power", f"writes the magic SysRq trigger (reboot, crash, kill-all): {path}")
    elif path.startswith("/proc/sys/"):
        add("sys.kernel", f"changes a kernel parameter: {path}")
    if "cron" in where.abs:
        add("persist.cron", f"changes scheduled jobs: {path}")
    if "service" in where.abs or "service" in where.home:
        add("persist.service", f"changes services or autostart entries: {path}")
    if not ref.in_workspace and not is_temp(path, env):
        if "system" in where.abs and not path.startswith(where.home_dir + "/"):
            add("sys.file_write", f"{access.value} of a system path: {path}")
        add("fs.write_outside", f"{access.value} outside the workspace and temp dirs: {path}")
    if not ref.in_workspace:
        add("path.outside_workspace", path)
    return facts


def credentials_under(path: str, env: AnalysisEnv) -> str:
    """A catalogued credential location inside the tree at ``path`` (``~/.config`` holds ``~/.config/gh``), or ''.

    Judges the tree, not the path string: a directory is as sensitive as what it contains.
    """
    from warden.core.credentials import credential_locations_under

    tree = path.rstrip("/") or "/"
    for loc in credential_locations_under(tree, home_of(env), env.env):
        if loc != tree and (tree == "/" or loc.startswith(tree + "/")):
            return loc
    return ""


def bulk_read_facts(ref: PathRef, env: AnalysisEnv) -> list[Fact]:
    """A recursive read of a tree that holds catalogued credential locations (``grep -r x ~``, ``tar cz /``)."""
    if tree_holds_credentials(ref.path, home_of(env), env.env):
        inside = credentials_under(ref.path, env)
        return [Fact("secret.bulk_read", f"reads everything under {ref.path}, credential locations included"
                     + (f" ({inside})" if inside else ""), {"path": ref.path})]
    return []


def critical_facts(ref: PathRef, env: AnalysisEnv, workspace: str, op: str) -> list[Fact]:
    """``fs.critical`` when a destructive operation (delete, wipe, recursive chmod) hits a critical path.

    Deleting a tree that holds credential locations (``rm -rf ~/.config``) deletes those credentials:
    that is ``secret.write``, like deleting the credential file itself.
    """
    if is_critical(ref.path, env, workspace):
        return [Fact("fs.critical", f"{op} of a critical path: {ref.path}", {"path": ref.path, "op": op})]
    if op in ("delete", "move") and not ref.in_workspace:
        inside = credentials_under(ref.path, env)
        if inside and not secret_kind(ref.path, env):
            return [Fact("secret.write", f"{op} of {ref.path} removes the credential locations in it ({inside})",
                         {"path": ref.path})]
    return []


def path_facts(ref: PathRef, env: AnalysisEnv, workspace: str) -> list[Fact]:
    facts = classify(ref, env, workspace)
    if ref.access == Access.DELETE:
        facts.extend(critical_facts(ref, env, workspace, "delete"))
    return facts

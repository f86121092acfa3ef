"""Who acts and where: the actor and context the gateway puts on every action.

Read from the machine, never from the agent: the OS user, the host, git's ``user.email`` (read
from the config files, not by running git), ``$WARDEN_ACTOR`` (a service identity wins over all
of them), the current git branch (``.git/HEAD``, worktrees included) and the environment named by
CI variables or by the policy's ``settings.environments`` mapping. Values a caller put on the
action itself are kept: a program driving ``warden decide`` may know better.

Cheap enough for the hook path: a handful of small file reads, no subprocess.
"""

from __future__ import annotations

import fnmatch
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# CI systems and the variable that proves each one (checked in order; `CI` last, as the generic one).
CI_MARKERS: tuple[tuple[str, str], ...] = (
    ("GITHUB_ACTIONS", "github-actions"),
    ("GITLAB_CI", "gitlab-ci"),
    ("BUILDKITE", "buildkite"),
    ("CIRCLECI", "circleci"),
    ("JENKINS_URL", "jenkins"),
    ("TF_BUILD", "azure-pipelines"),
    ("CI", "ci"),
)
_FALSE = ("", "0", "false", "no", "off")
# CI variables naming the branch when the checkout's HEAD is detached (the usual case on CI).
CI_BRANCH_VARS = ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_BRANCH", "BUILDKITE_BRANCH", "CIRCLE_BRANCH",
                  "BRANCH_NAME")
MAX_CONFIG_BYTES = 256 * 1024


def git_dir(start: str) -> Path | None:
    """The repository directory for ``start`` (``.git`` itself, or the one a worktree's ``.git`` file names)."""
    path = Path(os.path.abspath(start or "."))
    for candidate in (path, *path.parents):
        dot = candidate / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            try:
                text = dot.read_text(errors="replace")[:4096]
            except OSError:
                return None
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:"):].strip())
                return target if target.is_absolute() else (candidate / target).resolve()
            return None
    return None


def current_branch(gitdir: Path | None) -> str:
    """The checked-out branch, or "" when HEAD is detached or there is no repository."""
    if gitdir is None:
        return ""
    try:
        head = (gitdir / "HEAD").read_text(errors="replace")[:4096].strip()
    except OSError:
        return ""
    return head.removeprefix("ref:").strip().removeprefix("refs/heads/") if head.startswith("ref:") else ""


def _config_value(path: Path, section: str, key: str) -> str:
    """``key`` in ``[section]`` of one git config file (the last one wins, as in git)."""
    try:
        text = path.read_bytes()[:MAX_CONFIG_BYTES].decode("utf-8", "replace")
    except OSError:
        return ""
    value, current = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            current = line[1:].split("]", 1)[0].strip().lower()
        elif current == section and "=" in line:
            k, v = line.split("=", 1)
            if k.strip().lower() == key:
                value = v.split("#", 1)[0].split(";", 1)[0].strip().strip('"')
    return value


def git_email(gitdir: Path | None, environ: Mapping[str, str]) -> str:
    """git's ``user.email``: repository config over global over XDG, as git resolves it."""
    home = environ.get("HOME") or str(Path.home())
    files = []
    if gitdir is not None:
        common = gitdir
        try:  # a worktree keeps its config in the main repository
            common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
        except OSError:
            pass
        files.append(common / "config")
    files.append(Path(environ.get("GIT_CONFIG_GLOBAL") or Path(home) / ".gitconfig"))
    files.append(Path(environ.get("XDG_CONFIG_HOME") or Path(home) / ".config") / "git" / "config")
    for f in files:
        email = _config_value(f, "user", "email")
        if email:
            return email
    return environ.get("GIT_AUTHOR_EMAIL", "") or environ.get("EMAIL", "")


def os_user(environ: Mapping[str, str]) -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return environ.get("USER") or environ.get("LOGNAME") or str(os.getuid())


def ci_provider(environ: Mapping[str, str]) -> str:
    for var, name in CI_MARKERS:
        if environ.get(var, "").strip().lower() not in _FALSE:
            return name
    return ""


def environment_name(environ: Mapping[str, str], named: Mapping[str, Mapping[str, Any]] | None) -> str:
    """``$WARDEN_ENVIRONMENT``, else the first policy-named environment whose variables all match,
    else ``ci`` on a CI system, else ``local``."""
    explicit = environ.get("WARDEN_ENVIRONMENT", "").strip()
    if explicit:
        return explicit
    for name, wanted in (named or {}).items():
        if wanted and all(fnmatch.fnmatchcase(environ.get(var, ""), str(glob)) for var, glob in wanted.items()):
            return str(name)
    return "ci" if ci_provider(environ) else "local"


def local_actor(environ: Mapping[str, str], cwd: str) -> dict[str, str]:
    user = os_user(environ)
    host = socket.gethostname()
    email = git_email(git_dir(cwd), environ)
    ident = environ.get("WARDEN_ACTOR", "").strip() or email or f"{user}@{host}"
    return {"id": ident, "user": user, "host": host, "email": email}


def local_context(environ: Mapping[str, str], cwd: str,
                  environments: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, str]:
    branch = current_branch(git_dir(cwd))
    if not branch:
        branch = next((environ[v] for v in CI_BRANCH_VARS if environ.get(v)), "")
    context = {"environment": environment_name(environ, environments), "branch": branch}
    provider = ci_provider(environ)
    if provider:
        context["ci"] = provider
    return {k: v for k, v in context.items() if v}

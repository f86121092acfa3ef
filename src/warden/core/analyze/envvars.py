"""Variables whose value changes what later commands execute (loader, shell start-up, pagers).

``LD_PRELOAD=/tmp/x.so ls`` runs attacker code inside ``ls``; ``IFS=,`` changes how every
later word splits; ``GIT_PAGER='sh -c ...'`` turns ``git log`` into a shell. Harmless common
settings (``GIT_PAGER=cat``, ``NODE_OPTIONS=--max-old-space-size=4096``) stay quiet.
"""

from __future__ import annotations

from warden.core.analyze.words import UNKNOWN

LOADER = frozenset({"LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "DYLD_LIBRARY_PATH",
                    "BASH_ENV", "ENV", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS", "PS4", "PYTHONSTARTUP",
                    "PERL5OPT", "PERL5LIB", "RUBYOPT", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_GLOBAL",
                    "GIT_CONFIG_SYSTEM", "GIT_DIR", "GIT_COMMON_DIR",  # another config, hooks and fsmonitor
                    "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR", "LESSOPEN", "LESSCLOSE", "ZDOTDIR", "GCONV_PATH",
                    "MAIL_CONFIG", "BROWSER", "GIT_ASKPASS", "SSH_ASKPASS", "SUDO_ASKPASS",
                    "GIT_SSH", "GIT_SSH_COMMAND", "GIT_PROXY_COMMAND", "GIT_EXTERNAL_DIFF", "RSYNC_RSH",
                    "CVS_RSH", "FCEDIT"})
# Variables naming a program to run; harmless when they name a plain viewer.
PROGRAM_VARS = frozenset({"PAGER", "GIT_PAGER", "MANPAGER", "EDITOR", "VISUAL", "GIT_EDITOR", "SYSTEMD_PAGER",
                          "GIT_SEQUENCE_EDITOR", "LESS", "PSQL_PAGER"})
SAFE_PROGRAM_VALUES = frozenset({"", "cat", "less", "less -R", "less -FRX", "-R", "-FRX", "more", "true", ":",
                                 "vim", "vi", "nano", "emacs", "code", "code --wait", "head", "tee", "delta"})
HISTORY = frozenset({"HISTFILE", "HISTSIZE", "HISTFILESIZE", "HISTCONTROL", "HISTIGNORE"})


def assignment_facts(name: str, values: list[str], scoped: bool = False) -> list[tuple[str, str]]:
    """Facts for ``name=value``; ``scoped`` when it prefixes one command (``IFS= read line``)."""
    out: list[tuple[str, str]] = []
    shown = " | ".join(v.replace(UNKNOWN, "⟨?⟩") for v in values)[:120]
    if name == "IFS":
        if scoped:
            return out  # only that command's own splitting changes (read, set)
        out.append(("exec.opaque", f"IFS={shown!r} changes how every later word is split"))
    elif name in LOADER:
        out.append(("exec.env_inject", f"{name}={shown} changes what programs load or run"))
    elif name in PROGRAM_VARS:
        if any(v.strip() not in SAFE_PROGRAM_VALUES for v in values):
            out.append(("exec.env_inject", f"{name}={shown} makes later commands run another program"))
    elif name == "NODE_OPTIONS":
        if any(flag in v for v in values for flag in ("--require", "-r ", "--import", "--loader", UNKNOWN)):
            out.append(("exec.env_inject", f"NODE_OPTIONS={shown} loads code into every node process"))
    elif name == "PATH":
        for v in values:
            first = v.split(":")[0]
            if first == UNKNOWN:  # PATH=$PATH:... keeps the trusted part first
                continue
            # the workspace's own bin dirs (./node_modules/.bin) are as trusted as its scripts
            if first == "" or first.startswith(("/tmp", "/var/tmp", "/dev/shm")):
                out.append(("exec.env_inject", f"PATH={shown} puts an untrusted directory first"))
                break
    elif name in HISTORY:
        out.append(("sys.history_tamper", f"{name}={shown} changes what the shell history records"))
    return out

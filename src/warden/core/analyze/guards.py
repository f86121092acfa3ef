"""Warden's own guards, and servers that publish a credential tree.

Two things no program table says: a command that stops or kills Warden itself (``pkill -f
warden``, ``kill $(pgrep -f warden)``, ``systemctl --user stop warden``) switches the guard
off, so it is ``guard.tamper``; and a file server whose root holds credential locations
(``python -m http.server`` run in ``~``, ``php -S ... -t ~``, ``npx http-server ~``) hands
those credentials to anyone who connects, so it is ``secret.read`` of that tree.
"""

from __future__ import annotations

from warden.core.analyze.invocation import Cmd
from warden.core.facts import Access

KILLERS = frozenset({"kill", "pkill", "killall", "skill", "systemctl", "service", "launchctl", "supervisorctl",
                     "pm2", "docker", "podman"})
STOP_WORDS = frozenset({"stop", "kill", "disable", "mask", "unload", "bootout", "rm", "restart", "delete"})
SERVERS = {"http-server": "positional", "serve": "positional", "live-server": "positional", "php": "-t",
           "ruby-httpd": "positional", "busybox-httpd": "-h"}


def stops_warden(cmd: Cmd) -> bool:
    if cmd.program not in KILLERS:
        return False
    words = [a.lower() for a in cmd.args]
    raw = cmd.inv.raw.lower()
    if cmd.program in ("kill", "pkill", "killall", "skill"):
        # the target is named, or computed by a lookup that names warden: kill $(pgrep -f warden)
        return any("warden" in w for w in words) or ("warden" in raw and ("pgrep" in raw or "pidof" in raw))
    return any(w in STOP_WORDS for w in words) and any("warden" in w for w in words)


def guard_facts(cmd: Cmd) -> None:
    if stops_warden(cmd):
        cmd.fact("guard.tamper", f"{cmd.program} stops or kills Warden's own processes (the guard)")


def serve_root(cmd: Cmd, root: str | None) -> None:
    """A file server publishing ``root`` (None: the working directory)."""
    from warden.core.analyze.paths import credentials_under, secret_kind

    roots = cmd.session.resolve(root, Access.READ) if root else [
        ref for cwd in cmd.session.cwds if cwd for ref in (cmd.session.resolve(cwd, Access.READ) or [])]
    for ref in roots or []:
        inside = credentials_under(ref.path, cmd.session.env) or secret_kind(ref.path, cmd.session.env)
        if inside:
            cmd.fact("secret.read", f"{cmd.program} serves {ref.path} over the network, credential locations "
                     f"included ({inside})", path=ref.path)


def file_server(cmd: Cmd, tool: str, args: list[str]) -> None:
    """npx http-server DIR, php -S ADDR -t DIR ..."""
    if tool == "php":
        if "-S" not in args:
            return
        root = args[args.index("-t") + 1] if "-t" in args and args.index("-t") + 1 < len(args) else None
        serve_root(cmd, root)
        return
    positional = [a for a in args if not a.startswith("-") and not a.isdigit()]
    serve_root(cmd, positional[0] if positional else None)

"""System control: power, services, processes, disks, firewall, users, scheduling, kernel,
logs and history, and the shell's own meta-commands (alias, trap, shopt, enable).
"""

from __future__ import annotations

from warden.core.analyze.invocation import SECRET, SECRET_ENV, Cmd, Flow
from warden.core.facts import Access


def _power(cmd: Cmd) -> None:
    if cmd.program in ("init", "telinit") and not any(a in ("0", "6", "1", "s", "S") for a in cmd.args):
        return
    if cmd.program == "shutdown" and any(a in ("-c", "--cancel") for a in cmd.args):
        return
    cmd.fact("sys.power", f"{cmd.program} shuts down, reboots or halts the machine")


READ_ONLY_SYSTEMCTL = ("status", "show", "cat", "is-active", "is-enabled", "is-failed", "list-units",
                       "list-unit-files", "list-timers", "list-sockets", "list-dependencies", "list-jobs", "help",
                       "get-default", "show-environment", "--version", "list-machines")


def _systemctl(cmd: Cmd) -> None:
    pos = [a for a in cmd.args if not a.startswith("-")]
    if not pos:
        return
    verb = pos[0]
    if verb in READ_ONLY_SYSTEMCTL:
        return
    if verb in ("poweroff", "reboot", "halt", "kexec", "suspend", "hibernate", "hybrid-sleep", "emergency",
                "rescue", "soft-reboot"):
        cmd.fact("sys.power", f"systemctl {verb}")
        return
    if verb in ("enable", "reenable", "link", "preset", "add-wants", "add-requires", "set-default", "edit"):
        cmd.fact("persist.service", f"systemctl {verb} {' '.join(pos[1:])} makes a service start automatically")
    if verb in ("stop", "disable", "mask", "kill") and any(s.split(".")[0] in (
            "auditd", "apparmor", "firewalld", "ufw", "falco", "osqueryd", "wazuh-agent", "crowdstrike", "falcon-sensor",
            "sshd", "rsyslog", "systemd-journald", "selinux", "clamav-daemon") for s in pos[1:]):
        cmd.fact("sys.security_off", f"systemctl {verb} {' '.join(pos[1:])} turns off a security or logging service")
    cmd.fact("sys.service", f"systemctl {verb} {' '.join(pos[1:])}")


def _service(cmd: Cmd) -> None:
    pos = [a for a in cmd.args if not a.startswith("-")]
    if len(pos) >= 2 and pos[1] not in ("status",):
        cmd.fact("sys.service", f"service {pos[0]} {pos[1]}")
        if pos[0] in ("auditd", "apparmor", "firewalld", "ufw", "rsyslog") and pos[1] in ("stop",):
            cmd.fact("sys.security_off", f"service {pos[0]} stop turns off a security or logging service")


def _launchctl(cmd: Cmd) -> None:
    if cmd.args and cmd.args[0] in ("load", "bootstrap", "enable", "submit"):
        cmd.fact("persist.service", f"launchctl {cmd.args[0]} installs a background job")
    elif cmd.args and cmd.args[0] in ("unload", "bootout", "disable", "kill", "remove", "stop"):
        cmd.fact("sys.service", f"launchctl {cmd.args[0]}")


def _kill(cmd: Cmd) -> None:
    args = cmd.args
    targets = [a for a in args if not a.startswith("-") or (a.lstrip("-").isdigit() and a.startswith("-")
               and not any(x.startswith("-") and not x.lstrip("-").isdigit() for x in [a]))]
    signal_opts = [a for a in args if a.startswith("-") and not a.lstrip("-").isdigit()]
    numeric = [a for a in args if a.lstrip("-").isdigit()]
    # `kill -9 -1` kills every process the user may signal; `kill 1` targets init.
    pids = numeric[1:] if numeric and (args and args[0] == numeric[0] and len(numeric) > 1 and args[0].startswith("-")
                                       and not signal_opts) else numeric
    if any(p in ("-1", "1") for p in pids) or "-1" in targets[-1:]:
        cmd.fact("sys.kill_all", "kill targets every process (-1) or init (1)")


def _killall(cmd: Cmd) -> None:
    cmd.fact("sys.kill", f"{cmd.program} kills processes by name")
    if cmd.program == "killall5" or (any(a in ("-u", "--user") for a in cmd.args) and False):
        cmd.fact("sys.kill_all", "kills every process")
    if cmd.program == "pkill" and any(a in ("-9", "-KILL") for a in cmd.args) and any(
            a in ("-u", "-U", "--euid", "--uid") for a in cmd.args):
        cmd.fact("sys.kill_all", "pkill kills every process of a user")


def _disk(cmd: Cmd) -> None:
    if cmd.program.startswith(("mkfs", "mke2fs", "mkswap", "mkdosfs", "mkntfs", "newfs")):
        cmd.fact("sys.format", f"{cmd.program} formats a device")
    elif cmd.program in ("fdisk", "sfdisk", "gdisk", "sgdisk", "parted", "cfdisk", "wipefs", "blkdiscard",
                         "badblocks", "hdparm", "nvme", "zpool", "zfs", "lvremove", "vgremove", "pvremove", "mdadm",
                         "cryptsetup", "dmsetup", "diskutil", "format"):
        read_only = any(a in ("-l", "--list", "print", "list", "status", "-I", "info", "--info", "show", "-n")
                        for a in cmd.args) and not any(a in ("--zap-all", "-Z", "destroy", "erase", "luksFormat",
                                                             "eraseDisk", "wipe") for a in cmd.args)
        if not read_only:
            cmd.fact("sys.format", f"{cmd.program} changes partitions, volumes or disks")
    for a in cmd.args:
        if a.startswith("/dev/"):
            cmd.path(a, Access.WRITE)


def _mount(cmd: Cmd) -> None:
    if cmd.program == "mount" and not [a for a in cmd.args if not a.startswith("-")]:
        return
    cmd.fact("sys.mount", f"{cmd.program} changes mounted file systems or swap")


def _firewall(cmd: Cmd) -> None:
    listing = any(a in ("-L", "-S", "--list", "list", "status", "--list-all", "-nL", "-vL", "-nvL", "--state",
                        "show") or a.startswith("--list") for a in cmd.args)
    if not listing:
        cmd.fact("sys.firewall", f"{cmd.program} changes firewall rules")
        if any(a in ("-F", "--flush", "disable", "stop", "flush", "-X") for a in cmd.args) or (
                "-P" in cmd.args and "ACCEPT" in cmd.args):
            cmd.fact("sys.security_off", f"{cmd.program} disables or flushes the firewall")


def _users(cmd: Cmd) -> None:
    if cmd.program in ("visudo", "vipw", "vigr"):
        cmd.fact("sys.auth_write", f"{cmd.program} edits sudoers or the account database")
        return
    if cmd.program == "passwd" and any(a in ("-S", "--status") for a in cmd.args):
        return
    cmd.fact("sys.users", f"{cmd.program} changes users, groups or passwords")
    joined = " ".join(cmd.args)
    if cmd.program in ("usermod", "gpasswd", "adduser") and any(g in joined.split() or f",{g}" in joined or
                                                               f"{g}," in joined for g in ("sudo", "wheel", "admin",
                                                                                          "root", "docker")):
        cmd.fact("priv.grant", f"{cmd.program} gives a user administrator rights")
    uid0 = any((a in ("-u", "--uid", "-ou", "-uo") or a.endswith("u")) and cmd.args[k + 1:k + 2] == ["0"]
               for k, a in enumerate(cmd.args) if a.startswith("-"))
    if cmd.program in ("useradd", "usermod", "adduser") and uid0:
        cmd.fact("priv.grant", f"{cmd.program} gives an account uid 0 (a second root)")


def _crontab(cmd: Cmd) -> None:
    args = cmd.args
    if args == ["-l"] or args[:1] == ["-l"] or (len(args) >= 2 and args[0] == "-u" and args[2:] == ["-l"]):
        return
    if "-r" in args:
        cmd.fact("persist.cron", "crontab -r deletes all scheduled jobs")
        return
    cmd.fact("persist.cron", "changes scheduled jobs (crontab)")
    files = [a for a in args if not a.startswith("-")]
    for f in files:
        if f != "-":
            cmd.path(f, Access.READ)
    stdin = cmd.inv.stdin
    if stdin is not None and stdin.text:
        for line in stdin.text.splitlines()[:64]:
            fields = line.split(None, 5)
            if len(fields) == 6 and not line.lstrip().startswith("#"):
                cmd.shell(fields[5], "cron job")
            elif line.startswith("@") and " " in line:
                cmd.shell(line.split(None, 1)[1], "cron job")


def _at(cmd: Cmd) -> None:
    if any(a in ("-l", "-c") for a in cmd.args) or cmd.program in ("atq",):
        return
    if cmd.program == "atrm":
        return
    cmd.fact("persist.cron", f"{cmd.program} schedules a command to run later")
    stdin = cmd.inv.stdin
    if stdin is not None and stdin.text:
        cmd.shell(stdin.text, f"{cmd.program} job")
    elif stdin is not None:
        cmd.opaque(f"{cmd.program} schedules commands the analyzer cannot see")
    for i, a in enumerate(cmd.args[:-1]):
        if a == "-f":
            cmd.path(cmd.args[i + 1], Access.EXEC)


def _kernel(cmd: Cmd) -> None:
    if cmd.program == "sysctl" and not any(a in ("-w", "--write", "-p", "--load", "--system") or "=" in a
                                           for a in cmd.args):
        return
    if cmd.program == "lsmod" or cmd.program == "modinfo":
        return
    cmd.fact("sys.kernel", f"{cmd.program} changes kernel modules or parameters")
    if cmd.program == "sysctl" and any("randomize_va_space=0" in a or "ptrace_scope=0" in a for a in cmd.args):
        cmd.fact("sys.security_off", "sysctl turns off a kernel protection")


def _security(cmd: Cmd) -> None:
    args = cmd.args
    off = (cmd.program == "setenforce" and args[:1] in (["0"], ["Permissive"], ["permissive"])) or (
        cmd.program == "auditctl" and (("-e" in args and "0" in args) or "-D" in args)) or (
        cmd.program in ("aa-disable", "aa-teardown", "aa-complain")) or (
        cmd.program == "spctl" and "--master-disable" in args) or (
        cmd.program == "csrutil" and "disable" in args)
    if off:
        cmd.fact("sys.security_off", f"{cmd.program} {' '.join(args)} turns off a security control")
    elif cmd.program not in ("getenforce", "sestatus", "aa-status"):
        cmd.fact("sys.security_config", f"{cmd.program} changes security settings")


def _history(cmd: Cmd) -> None:
    if any(a in ("-c", "-d", "-w", "-r", "-a", "-n", "-s") or a.startswith("-d") for a in cmd.args):
        cmd.fact("sys.history_tamper", "history changes or clears the shell history")


def _journal(cmd: Cmd) -> None:
    if any(a.startswith(("--vacuum", "--rotate", "--flush", "--relinquish")) for a in cmd.args):
        cmd.fact("sys.log_tamper", "journalctl deletes or rotates system logs")


def _set(cmd: Cmd) -> None:
    args = cmd.args
    if args[:1] == ["--"] or (args and not args[0].startswith(("-", "+"))):
        # `set -- a b c` replaces the positional parameters ("$@", $1...)
        rest = args[1:] if args[0] == "--" else args
        session = cmd.session
        session.vars["@"] = [" ".join(rest)]
        session.vars["*"] = [" ".join(rest)]
        for i in range(1, 10):
            session.vars[str(i)] = [rest[i - 1]] if i <= len(rest) else [""]
        return
    if not args:
        cmd.fact("secret.env_dump", "set prints every shell variable, including secrets in the environment")
        return
    if "+o" in args and "history" in args:
        cmd.fact("sys.history_tamper", "set +o history stops recording commands")


def _shopt(cmd: Cmd) -> None:
    if "expand_aliases" in cmd.args and "-s" in cmd.args:
        cmd.fact("shell.alias", "shopt -s expand_aliases: later words may be aliases")


def _alias(cmd: Cmd) -> None:
    for a in cmd.args:
        if "=" in a:
            name, _, value = a.partition("=")
            cmd.fact("shell.alias", f"alias {name} redefines a command name")
            cmd.shell(value, f"alias {name}")


def _trap(cmd: Cmd) -> None:
    args = [a for a in cmd.args if a not in ("-p", "-l", "--")]
    if len(args) >= 2 and args[0] not in ("", "-"):
        cmd.shell(args[0], "trap")


def _enable(cmd: Cmd) -> None:
    if "-f" in cmd.args:
        cmd.fact("exec.env_inject", "enable -f loads a shared library into the shell")


def _env_dump(cmd: Cmd) -> None:
    if cmd.program in ("env", "printenv") and cmd.args:
        names = [a for a in cmd.args if not a.startswith("-")]
        if any(_secret_name(n) for n in names):
            cmd.fact("secret.env_read", f"{cmd.program} prints a secret-looking variable")
        return
    if cmd.program in ("export", "declare", "typeset") and cmd.args not in ([], ["-p"], ["-x"], ["-px"]):
        return
    cmd.fact("secret.env_dump", f"{cmd.program} prints every environment variable, including secrets")
    cmd.out = Flow(frozenset({SECRET}))  # the dump sent anywhere else is exfiltration


def _secret_name(name: str) -> bool:
    up = name.upper()
    return any(k in up for k in ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "PRIVATE_KEY",
                                 "ACCESS_KEY", "CREDENTIAL", "SESSION_KEY", "AUTH_KEY"))


def echo_secret(cmd: Cmd) -> None:
    """Printing a secret-looking variable (echo $AWS_SECRET_ACCESS_KEY) exposes it."""
    if any(SECRET_ENV in t for t in cmd.taints[1:]):
        cmd.fact("secret.env_read", f"{cmd.program} prints a secret-looking variable")


def _opener(cmd: Cmd) -> None:
    targets = [a for a in cmd.args if not a.startswith("-")]
    refs = [cmd.session.resolve(t, Access.READ) for t in targets if "://" not in t]
    documents = (".html", ".htm", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".md", ".txt", ".csv", ".json")
    if targets and len(refs) == len(targets) and all(r and all(x.in_workspace for x in r) for r in refs) and all(
            t.lower().endswith(documents) for t in targets):
        return  # opening the project's own documents (a coverage report, docs) in their viewer
    cmd.fact("exec.open", f"{cmd.program} opens a file, URL or application with its default handler")


def _setcap(cmd: Cmd) -> None:
    cmd.fact("priv.setuid", "setcap gives a program extra privileges")
    caps = " ".join(a for a in cmd.args if not a.startswith("/")).lower()
    if any(c in caps for c in ("cap_setuid", "cap_sys_admin", "cap_dac_override", "cap_sys_ptrace", "=ep")):
        for a in cmd.args:
            if is_shell_like(a):
                cmd.fact("priv.grant", f"setcap gives {a} root-equivalent capabilities")


def is_shell_like(path: str) -> bool:
    """A shell or interpreter: with setuid or setuid-capabilities it is a root shell for anyone."""
    from warden.core.analyze.interpreters import SHELLS, lang_of

    base = path.rstrip("/").rsplit("/", 1)[-1]
    return base in SHELLS or lang_of(base) in ("python", "perl", "ruby", "node", "php", "lua") or base in (
        "env", "find", "vim", "vi", "less", "more", "awk", "gawk", "busybox", "nmap", "tclsh", "expect", "gdb")


def _sys_config(cmd: Cmd) -> None:
    if cmd.program in ("hostname",) and not [a for a in cmd.args if not a.startswith("-")]:
        return
    if cmd.program == "timedatectl" and (not cmd.args or cmd.args[0] in ("status", "show", "list-timezones")):
        return
    if cmd.program == "date" and not any(a in ("-s", "--set") or a.startswith("--set") for a in cmd.args):
        return
    cmd.fact("sys.config", f"{cmd.program} changes system settings")


def _chsh(cmd: Cmd) -> None:
    cmd.fact("sys.users", f"{cmd.program} changes a login shell or user details")


HANDLERS = {name: _power for name in ("shutdown", "reboot", "halt", "poweroff", "init", "telinit")}
HANDLERS.update({"systemctl": _systemctl, "service": _service, "launchctl": _launchctl, "kill": _kill,
                 "killall": _killall, "pkill": _killall, "killall5": _killall, "skill": _killall,
                 "crontab": _crontab, "at": _at, "batch": _at, "atq": _at, "atrm": _at, "history": _history,
                 "journalctl": _journal, "set": _set, "shopt": _shopt, "alias": _alias, "trap": _trap,
                 "enable": _enable, "env": _env_dump, "printenv": _env_dump, "export": _env_dump,
                 "declare": _env_dump, "typeset": _env_dump, "xdg-open": _opener, "open": _opener,
                 "gio-open": _opener, "sensible-browser": _opener, "setcap": _setcap, "hostname": _sys_config,
                 "hostnamectl": _sys_config, "timedatectl": _sys_config, "date": _sys_config, "hwclock": _sys_config,
                 "chsh": _chsh, "chfn": _chsh})
for _name in ("mkfs", "mkfs.ext2", "mkfs.ext3", "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs", "mkfs.vfat", "mkfs.fat",
              "mkfs.ntfs", "mkfs.exfat", "mke2fs", "mkswap", "mkdosfs", "mkntfs", "newfs", "fdisk", "sfdisk", "gdisk",
              "sgdisk", "parted", "cfdisk", "wipefs", "blkdiscard", "badblocks", "hdparm", "zpool", "zfs", "lvremove",
              "vgremove", "pvremove", "mdadm", "cryptsetup", "dmsetup", "diskutil"):
    HANDLERS[_name] = _disk
for _name in ("mount", "umount", "swapoff", "swapon", "losetup", "fsck"):
    HANDLERS[_name] = _mount
for _name in ("iptables", "ip6tables", "nft", "ufw", "firewall-cmd", "pfctl", "iptables-restore", "ebtables"):
    HANDLERS[_name] = _firewall
for _name in ("useradd", "userdel", "usermod", "adduser", "deluser", "passwd", "chpasswd", "groupadd", "groupdel",
              "groupmod", "gpasswd", "newusers", "chage", "visudo", "vipw", "vigr", "addgroup", "delgroup", "dscl",
              "sysadminctl"):
    HANDLERS[_name] = _users
for _name in ("modprobe", "insmod", "rmmod", "sysctl", "kexec", "lsmod", "modinfo", "depmod"):
    HANDLERS[_name] = _kernel
for _name in ("setenforce", "auditctl", "aa-disable", "aa-teardown", "aa-complain", "spctl", "csrutil",
              "getenforce", "sestatus", "semanage", "aa-status"):
    HANDLERS[_name] = _security

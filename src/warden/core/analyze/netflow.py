"""Network programs and data flows: destinations, uploads, downloads, listeners, reverse shells.

Per command: ``net.connect`` (with hosts), ``net.upload`` (data or files leave the machine),
``net.listen``, ``net.tunnel``, ``net.reverse_shell``; a network command's stdout is tainted
``net`` so a later ``| sh`` is ``flow.remote_exec``; files it saves are remembered so running
them later in the same action is too. Action level: secrets reaching the network
(``flow.exfil``) and the shell-plus-netcat reverse-shell shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warden.core.analyze.invocation import DYNAMIC, NET, SECRET, SECRET_ENV, Cmd, Flow
from warden.core.analyze.words import UNKNOWN
from warden.core.facts import Access

if TYPE_CHECKING:
    from warden.core.analyze.shell import Session

RAW_CLIENTS = frozenset({"nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "telnet", "socat", "cryptcat",
                         "pwncat", "sbd", "openssl", "gnutls-cli", "busybox-nc"})


def host_of(url: str) -> str:
    from warden.core.analyze.tools import host_of as _host_of

    return _host_of(url)


def _url_like(a: str) -> bool:
    return "://" in a or (a.count(".") >= 1 and not a.startswith(("-", "/", ".")) and "=" not in a and " " not in a)


def _exfil_check(cmd: Cmd, what: str) -> None:
    stdin = cmd.inv.stdin
    taint = cmd.all_taint() | (stdin.taint if stdin else frozenset())
    if SECRET in taint:
        cmd.session.action_fact("flow.exfil", f"{what} sends data read from a credential location")
    if SECRET_ENV in taint:
        cmd.fact("flow.secret_env_to_net", f"{what} sends the value of a secret-looking environment variable")


def _downloaded(cmd: Cmd, path: str) -> None:
    for ref in cmd.session.resolve(path, Access.WRITE) or []:
        cmd.session.downloads.add(ref.path)


def _curl(cmd: Cmd) -> None:
    args = cmd.args
    value_opts = {"-o", "--output", "-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F", "--form",
                  "-T", "--upload-file", "-H", "--header", "-X", "--request", "-u", "--user", "-x", "--proxy", "-K",
                  "--config", "-A", "--user-agent", "-e", "--referer", "-b", "--cookie", "-c", "--cookie-jar",
                  "--json", "--url", "-w", "--write-out", "-m", "--max-time", "--connect-timeout", "-r", "--range",
                  "--cacert", "--cert", "--key", "-E", "--resolve", "--retry", "-Y", "-y", "-z", "--form-string",
                  "--output-dir", "-D", "--dump-header", "--trace", "--trace-ascii", "--stderr", "--unix-socket",
                  "--connect-to", "-C", "--continue-at", "--limit-rate", "--max-filesize", "--interface"}
    urls: list[str] = []
    out_file: str | None = None
    remote_name = False
    upload = False
    i = 0
    while i < len(args):
        a = args[i]
        if a in value_opts and i + 1 < len(args):
            v = args[i + 1]
            if a in ("-o", "--output"):
                out_file = v
            elif a in ("-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F", "--form", "--json",
                       "--form-string"):
                upload = True
                at = v.split("@", 1)[1] if "@" in v else ""
                if at and a != "--form-string":
                    at = at.split(";", 1)[0]
                    if at == "-":
                        _exfil_check(cmd, "curl")
                    else:
                        cmd.path(at, Access.READ)
            elif a in ("-T", "--upload-file"):
                upload = True
                if v != "-":
                    cmd.path(v, Access.READ)
            elif a in ("-X", "--request") and v.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                upload = True
            elif a in ("-K", "--config"):
                cmd.path(v, Access.READ)
            elif a == "--url":
                urls.append(v)
            elif a in ("-c", "--cookie-jar", "-D", "--dump-header", "--trace", "--trace-ascii", "--stderr"):
                if v != "-":
                    cmd.path(v, Access.WRITE)
            i += 2
            continue
        if a in ("-O", "--remote-name", "--remote-name-all") or (a.startswith("-") and not a.startswith("--")
                                                                 and "O" in a):
            remote_name = True
        elif a.startswith("-o") and len(a) > 2 and not a.startswith("--"):
            out_file = a[2:]
        elif not a.startswith("-"):
            urls.append(a)
        i += 1
    _connect(cmd, urls, upload)
    for u in urls:
        if u.startswith("file://"):
            cmd.path(u[7:], Access.READ)
    if out_file and out_file != "-":
        cmd.path(out_file, Access.WRITE)
        _downloaded(cmd, out_file)
    elif remote_name:
        for u in urls:
            name = u.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            if name:
                cmd.path(name, Access.WRITE)
                _downloaded(cmd, name)
    else:
        cmd.out = Flow(frozenset({NET}))
        for op, target, _ in cmd.inv.redirects:
            if op in (">", ">>", ">|", "&>"):
                _downloaded(cmd, target)


def _wget(cmd: Cmd) -> None:
    args = cmd.args
    urls, out_file, prefix, upload = [], None, None, False
    i = 0
    while i < len(args):
        a = args[i]
        name, eq, value = a.partition("=")
        takes = {"-O", "--output-document", "-P", "--directory-prefix", "--post-file", "--post-data", "--body-file",
                 "--body-data", "-i", "--input-file", "-o", "--output-file", "-a", "--append-output", "-U",
                 "--user-agent", "--header", "-e", "--execute", "--method", "-T", "--timeout", "-t", "--tries",
                 "--user", "--password", "-l", "--level"}
        if name in takes:
            if not eq:
                value = args[i + 1] if i + 1 < len(args) else ""
                i += 1
            if name in ("-O", "--output-document"):
                out_file = value
            elif name in ("-P", "--directory-prefix"):
                prefix = value
            elif name in ("--post-file", "--body-file"):
                upload = True
                cmd.path(value, Access.READ)
            elif name in ("--post-data", "--body-data"):
                upload = True
            elif name in ("-i", "--input-file"):
                cmd.path(value, Access.READ)
            elif name in ("-o", "--output-file", "-a", "--append-output"):
                cmd.path(value, Access.WRITE)
            elif name == "--method" and value.upper() in ("POST", "PUT", "DELETE", "PATCH"):
                upload = True
        elif a.startswith("-O") and len(a) > 2:
            out_file = a[2:]
        elif a.startswith("-") and not a.startswith("--") and "O" in a[1:]:
            attached = a[a.index("O", 1) + 1:]
            if attached:
                out_file = attached
            else:
                out_file = args[i + 1] if i + 1 < len(args) else "-"
                i += 1
        elif not a.startswith("-"):
            urls.append(a)
        i += 1
    _connect(cmd, urls, upload)
    if out_file == "-":
        cmd.out = Flow(frozenset({NET}))
        for op, target, _ in cmd.inv.redirects:
            if op in (">", ">>", ">|", "&>"):
                _downloaded(cmd, target)
        return
    if out_file:
        cmd.path(out_file, Access.WRITE)
        _downloaded(cmd, out_file)
        return
    for u in urls:
        name = u.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "index.html"
        path = f"{prefix.rstrip('/')}/{name}" if prefix else name
        cmd.path(path, Access.WRITE)
        _downloaded(cmd, path)


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "[::1]", "ip6-localhost", "host.docker.internal"})


def is_loopback(host: str) -> bool:
    h = host.lower().strip("[]")
    return h in LOOPBACK or h.startswith("127.") or h.endswith(".localhost")


def _connect(cmd: Cmd, targets: list[str], upload: bool) -> None:
    if not targets and not upload:
        return  # `curl --version`, `wget -h`: no destination
    local = [t for t in targets if UNKNOWN not in t and is_loopback(host_of(t) or t.split(":")[0])]
    if targets and len(local) == len(targets):
        # this machine's own dev servers: nothing leaves it
        cmd.fact("net.local", f"{cmd.program} talks to a local service", hosts=[host_of(t) for t in local])
        _exfil_check(cmd, cmd.program)
        return
    hosts = []
    for t in targets:
        if UNKNOWN in t:
            hosts.append("")
            continue
        h = host_of(t)
        if h:
            hosts.append(h)
            cmd.host(h)
    shown = ", ".join(h or "⟨?⟩" for h in hosts) or "an unknown host"
    cmd.fact("net.connect", f"{cmd.program} connects to {shown}", hosts=hosts, program=cmd.program)
    if upload:
        cmd.fact("net.upload", f"{cmd.program} sends data to {shown}", hosts=hosts)
    # secrets in the URL, headers or body leave the machine even with a GET
    _exfil_check(cmd, cmd.program)


def _nc(cmd: Cmd) -> None:
    args = cmd.args
    listen = any(a.startswith("-") and "l" in a and not a.startswith("--") for a in args) or "--listen" in args
    exec_cmd = None
    positional: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-e", "-c", "--exec", "--sh-exec", "--lua-exec") and i + 1 < len(args):
            exec_cmd = args[i + 1]
            i += 2
            continue
        if a in ("-p", "-s", "-w", "-q", "-i", "-x", "-X", "-P", "-T", "-I", "-O", "-V", "-W", "-g", "-G"):
            i += 2
            continue
        if not a.startswith("-"):
            positional.append(a)
        i += 1
    if positional:
        cmd.host(positional[0])
    if exec_cmd is not None:
        cmd.fact("net.reverse_shell", f"{cmd.program} attaches a program to a network connection: {exec_cmd}")
        cmd.shell(exec_cmd, f"{cmd.program} -e")
    if listen:
        cmd.fact("net.listen", f"{cmd.program} listens for network connections")
    elif positional and is_loopback(positional[0]) and exec_cmd is None:
        cmd.fact("net.local", f"{cmd.program} talks to a local port", hosts=positional[:1])
    else:
        cmd.fact("net.connect", f"{cmd.program} opens a raw connection to {positional[0] if positional else '?'}",
                 hosts=positional[:1], program=cmd.program)
        if cmd.inv.stdin is not None or any(op == "<" for op, _, _ in cmd.inv.redirects):
            cmd.fact("net.upload", f"{cmd.program} sends its input over the network")
            _exfil_check(cmd, cmd.program)
    cmd.out = Flow(frozenset({NET}))


def _socat(cmd: Cmd) -> None:
    addrs = [a for a in cmd.args if not a.startswith("-") or a == "-"]
    for a in addrs:
        kind, _, rest = a.partition(":")
        k = kind.upper()
        if k in ("EXEC", "SYSTEM"):
            command = rest.split(",", 1)[0].strip("'\"")
            cmd.fact("net.reverse_shell", f"socat attaches a program to a connection: {command}")
            cmd.shell(command, "socat exec")
        elif k in ("FILE", "OPEN", "GOPEN", "CREATE", "CREAT"):
            target = rest.split(",", 1)[0]
            cmd.path(target, Access.WRITE if k in ("CREATE", "CREAT") else Access.READ)
            if k not in ("CREATE", "CREAT"):
                cmd.path(target, Access.READ)
        elif k.startswith(("TCP", "UDP", "SSL", "OPENSSL", "SCTP")):
            if "LISTEN" in k:
                cmd.fact("net.listen", "socat listens for network connections")
            else:
                host = rest.split(":", 1)[0]
                cmd.host(host)
                if is_loopback(host):
                    cmd.fact("net.local", f"socat talks to a local port on {host}", hosts=[host])
                else:
                    cmd.fact("net.connect", f"socat connects to {host}", hosts=[host], program="socat")
    cmd.out = Flow(frozenset({NET}))


def _telnet(cmd: Cmd) -> None:
    positional = [a for a in cmd.args if not a.startswith("-")]
    if positional:
        cmd.host(positional[0])
    cmd.fact("net.connect", f"telnet connects to {positional[0] if positional else '?'}", hosts=positional[:1],
             program="telnet")
    cmd.out = Flow(frozenset({NET}))


def _remote(spec: str) -> str:
    """Host of an scp/rsync operand like ``user@host:path``, or ''."""
    if ":" not in spec or spec.startswith(("/", ".")) or ("://" in spec and not spec.startswith(("rsync://", "scp://"))):
        return ""
    if "://" in spec:
        return host_of(spec)
    head = spec.split(":", 1)[0]
    return head.rsplit("@", 1)[-1] if head and "/" not in head else ""


def _ssh(cmd: Cmd) -> None:
    from warden.core.analyze.escapes import ssh_escapes

    args = cmd.args
    takes = set("bcDEeFIiJLlmOopQRSWw")
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-") and len(a) >= 2:
            letter = a[1]
            if letter in "LRD":
                cmd.fact("net.tunnel", f"ssh {a[:2]} opens a tunnel")
            if letter in takes and len(a) == 2:
                i += 2
                continue
            i += 1
            continue
        break
    ssh_escapes(cmd)
    rest = args[i:]
    if not rest:
        return
    host = rest[0].rsplit("@", 1)[-1]
    cmd.host(host)
    cmd.fact("net.connect", f"ssh connects to {host}", hosts=[host], program="ssh")
    if len(rest) > 1:
        cmd.fact("net.remote_exec", f"runs a command on {host}", host=host)
        cmd.shell(" ".join(rest[1:]), f"ssh {host}")
    cmd.out = Flow(frozenset({NET}))


def _copy_remote(cmd: Cmd) -> None:
    from warden.core.analyze.escapes import rsync_escapes, ssh_escapes

    if cmd.program == "rsync":
        rsync_escapes(cmd)
    else:
        ssh_escapes(cmd)
    takes = {"-P", "-i", "-F", "-o", "-c", "-l", "-S", "-J", "-e", "--rsh", "--exclude", "--include", "--filter",
             "-f", "--files-from", "--exclude-from", "--include-from", "--rsync-path", "--port", "--password-file",
             "--chmod", "--log-file", "--partial-dir", "--temp-dir", "-T", "--backup-dir", "--suffix"}
    ops = []
    i = 0
    args = cmd.args
    while i < len(args):
        a = args[i]
        if a in takes:
            i += 2
            continue
        if not a.startswith("-"):
            ops.append(a)
        i += 1
    if len(ops) < 2:
        return
    sources, dest = ops[:-1], ops[-1]
    dest_host = _remote(dest)
    src_hosts = [h for h in (_remote(s) for s in sources) if h]
    from warden.core.analyze.fsops import _bulk

    for s in sources:
        if not _remote(s):
            refs = cmd.path(s, Access.READ)
            if dest_host:
                _bulk(cmd, refs)
    if not dest_host:
        deleting = cmd.program == "rsync" and any(a.startswith(("--delete", "--remove-source-files")) for a in args)
        # rsync --delete makes dest match the source: everything else in dest is deleted
        cmd.path(dest, Access.DELETE if deleting else Access.WRITE, op="rsync --delete" if deleting else "")
    for h in src_hosts + ([dest_host] if dest_host else []):
        cmd.host(h)
    if dest_host:
        cmd.fact("net.upload", f"{cmd.program} copies files to {dest_host}", hosts=[dest_host])
        cmd.fact("net.connect", f"{cmd.program} connects to {dest_host}", hosts=[dest_host], program=cmd.program)
    if src_hosts:
        cmd.fact("net.connect", f"{cmd.program} copies files from {src_hosts[0]}", hosts=src_hosts,
                 program=cmd.program)
        if not dest_host:
            _downloaded(cmd, dest)


def _generic_client(cmd: Cmd) -> None:
    urls = [a for a in cmd.args if not a.startswith("-") and _url_like(a)]
    upload = cmd.program in ("sendmail", "mail", "mailx", "mutt", "swaks", "smbclient", "ftp", "lftp", "tftp",
                             "sftp", "ncftp") or any(a.upper() in ("POST", "PUT", "PATCH") for a in cmd.args)
    if cmd.program in ("http", "https", "xh", "xhs") and any("=" in a or "@" in a for a in cmd.args[1:]):
        upload = True
        for a in cmd.args:
            if "=@" in a or a.startswith("@") or ("@" in a and "=" not in a and ":" not in a.split("@", 1)[0]
                                                 and "://" not in a and not a.startswith("-")):
                # httpie: `@file` is the body, `field=@file` embeds a file, `field@file` uploads one
                cmd.path(a.split("@", 1)[1], Access.READ)
    _connect(cmd, urls[:4], upload)
    cmd.out = Flow(frozenset({NET}))


def _lookup(cmd: Cmd) -> None:
    for i, a in enumerate(cmd.args):
        if UNKNOWN in a and (SECRET in cmd.taint_of(i + 1) or DYNAMIC in cmd.taint_of(i + 1)):
            # a name built from command output is a channel out (DNS exfiltration)
            cmd.fact("net.connect", f"{cmd.program} sends computed data in a name it looks up", program=cmd.program)
            _exfil_check(cmd, cmd.program)
        if not a.startswith(("-", "@", "+")) and "." in a:
            cmd.host(a)
    cmd.fact("net.lookup", f"{cmd.program} queries a network service")


def _scan(cmd: Cmd) -> None:
    cmd.fact("net.scan", f"{cmd.program} scans or attacks network services")


def _sniff(cmd: Cmd) -> None:
    cmd.fact("net.sniff", f"{cmd.program} captures network traffic")


def _openssl(cmd: Cmd) -> None:
    args = cmd.args
    if not args:
        return
    sub = args[0]
    if sub == "s_client":
        host = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "-connect"), "")
        cmd.host(host.rsplit(":", 1)[0])
        cmd.fact("net.connect", f"openssl s_client connects to {host}", hosts=[host], program="openssl")
        cmd.out = Flow(frozenset({NET}))
        if cmd.inv.stdin is not None:
            cmd.fact("net.upload", "openssl s_client sends its input over the network")
            _exfil_check(cmd, "openssl s_client")
    elif sub == "s_server":
        cmd.fact("net.listen", "openssl s_server listens for connections")
    elif sub in ("enc", "base64", "aes-256-cbc", "des3") and "-d" in args:
        from warden.core.analyze.fsops import _decoder

        _decoder(cmd)
    for i, a in enumerate(args[:-1]):
        if a in ("-in", "-inkey", "-key"):
            cmd.path(args[i + 1], Access.READ)
        elif a == "-out":
            cmd.path(args[i + 1], Access.WRITE)


def devtcp(cmd: Cmd, target: str, op: str) -> None:
    """A redirection to bash's /dev/tcp/HOST/PORT is a raw network connection."""
    parts = target.split("/")
    host = parts[3] if len(parts) > 3 else ""
    cmd.host(host)
    cmd.fact("net.connect", f"opens a raw connection to {host} via {target}", hosts=[host], program=cmd.program or "")
    from warden.core.analyze.interpreters import SHELLS, lang_of

    raw = cmd.inv.raw
    shellish = cmd.argv and (cmd.argv[0].rsplit("/", 1)[-1] in SHELLS or lang_of(cmd.argv[0]) in (
        "python", "perl", "ruby", "php", "node") or cmd.argv[0] in ("exec", ":", ""))
    if shellish or "0>&1" in raw or "0<&" in raw or "<&" in raw or op == "<>":
        cmd.fact("net.reverse_shell", f"connects a shell to {target}: a reverse shell")
    if op.startswith(">") or op == "<>":
        cmd.fact("net.upload", f"sends data to {host}", hosts=[host])
        _exfil_check(cmd, f"redirect to {target}")
    if op in ("<", "<>"):
        cmd.out = Flow(frozenset({NET}))


def action_flows(session: Session) -> None:
    """Action-level shapes that span commands."""
    from warden.core.analyze.interpreters import SHELLS

    raw_client = stdin_shell = devtcp_shell = secret_read = uploads = False
    for c in session.commands:  # one pass: this runs for every action
        if not c.facts and c.program not in SHELLS:
            continue
        kinds = {f.kind for f in c.facts}
        shellish = c.program in SHELLS or c.program.rsplit("/", 1)[-1] in SHELLS or c.program == "exec"
        raw_client |= c.program in RAW_CLIENTS and bool(kinds & {"net.connect", "net.listen"})
        stdin_shell |= shellish and bool(kinds & {"exec.opaque", "exec.interactive", "exec.script_outside"})
        devtcp_shell |= shellish and ("/dev/tcp/" in c.raw or "/dev/udp/" in c.raw)
        secret_read |= "secret.read" in kinds
        uploads |= "net.upload" in kinds
    if devtcp_shell:
        session.action_fact("net.reverse_shell", "a shell is wired to a /dev/tcp connection")
    if raw_client and stdin_shell:
        session.action_fact("net.reverse_shell", "a shell reads from or writes to a raw network connection")
    if secret_read and uploads:
        session.action_fact("flow.exfil", "reads a credential location and sends data over the network")


HANDLERS = {"curl": _curl, "wget": _wget, "nc": _nc, "ncat": _nc, "netcat": _nc, "nc.traditional": _nc,
            "nc.openbsd": _nc, "cryptcat": _nc, "pwncat": _nc, "socat": _socat, "telnet": _telnet, "ssh": _ssh,
            "scp": _copy_remote, "rsync": _copy_remote, "sftp": _generic_client, "ftp": _generic_client,
            "lftp": _generic_client, "tftp": _generic_client, "http": _generic_client, "https": _generic_client,
            "xh": _generic_client, "aria2c": _generic_client, "lynx": _generic_client, "w3m": _generic_client,
            "links": _generic_client, "fetch": _generic_client, "sendmail": _generic_client, "mail": _generic_client,
            "mailx": _generic_client, "mutt": _generic_client, "swaks": _generic_client, "smbclient": _generic_client,
            "ncftp": _generic_client, "axel": _generic_client, "openssl": _openssl,
            "dig": _lookup, "nslookup": _lookup, "host": _lookup, "ping": _lookup, "ping6": _lookup,
            "traceroute": _lookup, "whois": _lookup, "mtr": _lookup, "tracepath": _lookup, "drill": _lookup,
            "nmap": _scan, "masscan": _scan, "zmap": _scan, "nikto": _scan, "hydra": _scan, "sqlmap": _scan,
            "gobuster": _scan, "ffuf": _scan, "dirb": _scan, "medusa": _scan, "hping3": _scan, "arp-scan": _scan,
            "responder": _scan, "ettercap": _scan, "bettercap": _scan, "john": _scan, "hashcat": _scan,
            "tcpdump": _sniff, "tshark": _sniff, "wireshark": _sniff, "dumpcap": _sniff, "ngrep": _sniff}

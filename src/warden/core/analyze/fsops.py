"""File-system programs: which arguments are paths, and whether they are read, written or deleted.

Also the small text producers a pipeline may feed into a shell (``echo``, ``printf``) and the
decoders that hide what it runs (``base64 -d``, ``xxd -r``, ``rev``, ``gunzip``), and ``cd``.
"""

from __future__ import annotations

import binascii

from warden.core.analyze.invocation import DECODE, DYNAMIC, SECRET, Cmd, Flow
from warden.core.analyze.paths import has_glob, secret_kind
from warden.core.analyze.words import UNKNOWN, decode_ansi_c
from warden.core.facts import Access


def operands(args: list[str], with_value: str = "", long_value: tuple[str, ...] = ()) -> tuple[list[str], set[str]]:
    """Split args into non-option operands and the set of option letters/names seen."""
    ops: list[str] = []
    flags: set[str] = set()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            ops += args[i + 1:]
            break
        if a.startswith("--") and len(a) > 2:
            name = a.split("=", 1)[0]
            flags.add(name)
            i += 2 if (name in long_value and "=" not in a) else 1
            continue
        if a.startswith("-") and len(a) > 1 and a[1:2] != UNKNOWN:
            for j, ch in enumerate(a[1:]):
                flags.add(ch)
                if ch in with_value:
                    if j + 2 == len(a):
                        i += 1
                    break
            i += 1
            continue
        ops.append(a)
        i += 1
    return ops, flags


def _bulk(cmd: Cmd, refs: list) -> None:
    from warden.core.analyze.paths import bulk_read_facts

    for ref in refs:
        for f in bulk_read_facts(ref, cmd.session.env):
            cmd.fact(f.kind, f.detail, **f.data)


def _reader_out(cmd: Cmd, files: list[str], recursive: bool = False) -> None:
    taint: set[str] = set()
    for f in files:
        refs = cmd.path(f, Access.READ)
        if recursive:
            _bulk(cmd, refs)
        for ref in refs:
            if secret_kind(ref.path, cmd.session.env):
                taint.add(SECRET)
    stdin = cmd.inv.stdin
    if not files and stdin is not None:
        cmd.out = stdin
        return
    cmd.out = Flow(frozenset(taint | {DYNAMIC}))


VALUE_LETTERS = {"head": "nc", "tail": "ncsp", "cut": "dfcb", "uniq": "fsw", "fold": "w", "fmt": "w", "nl": "bsvwinl",
                 "column": "stcoNR", "pr": "wlhoW", "split": "lbnaC", "od": "AjNtw", "hexdump": "neosC",
                 "strings": "nt", "paste": "d", "join": "12jteo", "iconv": "fto", "wc": "", "cat": "", "less": "xyjbhPp"}
LONG_VALUES = ("--lines", "--bytes", "--max-count", "--width", "--sleep-interval", "--pid", "--field-separator",
               "--key", "--output", "--delimiter", "--fields", "--characters")


def _read_all(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args, VALUE_LETTERS.get(cmd.program, ""), LONG_VALUES)
    _reader_out(cmd, ops)


# Options whose value names a file the program reads (a list of names, patterns, a format or data).
# A credential passed there is read like an operand: `date -f ~/.ssh/id_rsa` prints its lines.
OPTION_FILES: dict[str, tuple[str, ...]] = {
    "date": ("-f", "--file"), "file": ("-f", "--files-from", "-m", "--magic-file"),
    "sort": ("--files0-from",), "wc": ("--files0-from",), "du": ("--files0-from",),
    "tar": ("-T", "--files-from", "-X", "--exclude-from"), "bsdtar": ("-T", "--files-from", "-X", "--exclude-from"),
    "jq": ("-f", "--from-file"), "exiftool": ("-@",), "find": ("-files0-from",), "yq": ("--from-file",),
    "tree": ("--fromfile",),
}
# Options taking a name and then a file (`jq --rawfile NAME FILE`).
OPTION_FILES_2: dict[str, tuple[str, ...]] = {"jq": ("--rawfile", "--slurpfile")}


def option_files(cmd: Cmd) -> None:
    args = cmd.args
    if cmd.program == "tree" and "--fromfile" in args:
        # `tree --fromfile FILE...`: the operands are files whose lines are listed
        for a in args:
            if not a.startswith("-"):
                cmd.path(a, Access.READ)
        return
    names = OPTION_FILES.get(cmd.program, ())
    pairs = OPTION_FILES_2.get(cmd.program, ())
    for i, a in enumerate(args):
        if a in pairs and i + 2 < len(args):
            cmd.path(args[i + 2], Access.READ)
        elif a in names and i + 1 < len(args):
            cmd.path(args[i + 1], Access.READ)
        elif a.startswith("--") and "=" in a and a.split("=", 1)[0] in names:
            cmd.path(a.split("=", 1)[1], Access.READ)
        elif len(a) > 2 and not a.startswith("--") and a[:2] in names:
            cmd.path(a[2:], Access.READ)


def _list(cmd: Cmd) -> None:
    """ls, tree, du, stat ...: they show names and metadata, not contents (so ~/.ssh is fine).

    What ``ls`` prints stands for its operands (``cat $(ls ~/.ssh/id_*)`` reads those files).
    """
    ops, _ = operands(cmd.args, "IwT", ("--ignore", "--width", "--tabsize", "--hide", "--format", "--sort",
                                       "--time-style", "--color", "--block-size", "--quoting-style"))
    items = tuple(o for o in ops[:16]) if cmd.program in ("ls", "exa", "eza", "lsd", "dir", "vdir") else None
    cmd.out = Flow(frozenset({DYNAMIC}), items=items)


def _mktemp(cmd: Cmd) -> None:
    ops, _flags = operands(cmd.args, "p", ("--tmpdir", "--suffix"))
    base = "/tmp"
    for i, a in enumerate(cmd.args):
        if a == "-p" and i + 1 < len(cmd.args):
            base = cmd.args[i + 1]
        elif a.startswith("--tmpdir="):
            base = a.split("=", 1)[1]
    name = ops[0] if ops else "tmp.XXXXXXXXXX"
    path = name if "/" in name else f"{base.rstrip('/')}/{name}"
    cmd.out = Flow(frozenset(), path + "\n")


def _sort(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args, "kotTSz", ("--key", "--output", "--field-separator", "--temporary-directory",
                                          "--buffer-size", "--parallel", "--files0-from"))
    for i, a in enumerate(cmd.args):
        if a == "-o" and i + 1 < len(cmd.args):
            cmd.path(cmd.args[i + 1], Access.WRITE)
        elif a.startswith("--output="):
            cmd.path(a.split("=", 1)[1], Access.WRITE)
        elif a.startswith("-o") and len(a) > 2:
            cmd.path(a[2:], Access.WRITE)
    _reader_out(cmd, ops)


def _grep(cmd: Cmd) -> None:
    args = cmd.args
    has_pattern_opt = any(a in ("-e", "-f", "--regexp", "--file") or a.startswith(("--regexp=", "--file="))
                          for a in args)
    ops, flags = operands(args, "efABCmdD", ("--regexp", "--file", "--after-context", "--before-context",
                                        "--context", "--max-count", "--include", "--exclude", "--exclude-dir",
                                        "--label", "--color", "--colour", "--binary-files", "--devices",
                                        "--directories", "--glob", "--type", "-g", "-t", "--max-depth",
                                        "--pre", "--pre-glob", "--replace", "--type-add", "--sort"))
    for i, a in enumerate(args):
        if a in ("-f", "--file") and i + 1 < len(args):
            cmd.path(args[i + 1], Access.READ)
    files = ops if has_pattern_opt else ops[1:]
    if cmd.program in ("rg", "ag", "ack") and not files:
        files = ["."]
    recursive = cmd.program in ("rg", "ag", "ack", "ugrep", "sift", "pt") or bool(
        flags & {"r", "R", "--recursive", "--dereference-recursive"})
    _reader_out(cmd, files, recursive)
    if recursive and cmd.has("secret.bulk_read"):
        from warden.core.analyze.trees import hunts_credentials

        patterns = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-e", "--regexp")] or ops[:1]
        if any(hunts_credentials(p) for p in patterns):
            # the same judgement as the Grep tool: a credential hunt over a tree that holds credentials
            cmd.fact("secret.read", f"{cmd.program} searches credential locations for credentials")


def _jq(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args, "fL", ("--arg", "--argjson", "--slurpfile", "--rawfile", "--indent", "--from-file",
                                      "--args", "--jsonargs"))
    _reader_out(cmd, ops[1:])


def _first_is_not_path(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args)
    _reader_out(cmd, ops[1:])


def _delete(cmd: Cmd) -> None:
    ops, flags = operands(cmd.args)
    recursive = bool(flags & {"r", "R", "--recursive"}) or cmd.program in ("rmdir", "srm", "wipe")
    if "--no-preserve-root" in flags:
        cmd.fact("fs.no_preserve_root", "rm --no-preserve-root: the user asked to allow deleting /")
    if recursive:
        cmd.fact("fs.recursive_delete", "deletes directory trees")
    for target in ops:
        destructive = recursive or has_glob(target) or cmd.program in ("shred", "wipe", "srm")
        cmd.path(target, Access.DELETE, op="delete" if destructive else "")


def _shred(cmd: Cmd) -> None:
    ops, flags = operands(cmd.args, "nsx", ("--iterations", "--size", "--random-source"))
    access = Access.DELETE if flags & {"u", "--remove"} else Access.WRITE
    for target in ops:
        cmd.path(target, access, op="shred")


def _write_all(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args, "mdrtsZ", ("--mode", "--date", "--reference", "--size", "--context"))
    for target in ops:
        cmd.path(target, Access.WRITE)


def _copy(cmd: Cmd) -> None:
    ops, flags = operands(cmd.args, "tSmogZ", ("--target-directory", "--suffix", "--backup", "--mode", "--owner",
                                              "--group", "--context", "--reflink", "--sparse", "--preserve"))
    target_dir = next((cmd.args[i + 1] for i, a in enumerate(cmd.args[:-1]) if a in ("-t", "--target-directory")),
                      None)
    if target_dir is None:
        target_dir = next((a.split("=", 1)[1] for a in cmd.args if a.startswith("--target-directory=")), None)
    if target_dir is not None:
        sources, dest = ops, target_dir
    elif len(ops) >= 2:
        sources, dest = ops[:-1], ops[-1]
    else:
        sources, dest = ops, ""
    move = cmd.program == "mv"
    if flags & {"r", "R", "a", "--recursive", "--archive"}:
        for src in sources:
            _bulk(cmd, cmd.session.resolve(src, Access.READ) or [])
    for s in sources:
        cmd.path(s, Access.DELETE if move else Access.READ, op="move" if move else "")
        if move:
            cmd.path(s, Access.READ)
    if dest:
        cmd.path(dest, Access.WRITE)
        if cmd.program == "mv" or cmd.program == "cp":
            for s in sources:
                if s and UNKNOWN not in s and UNKNOWN not in dest and dest.endswith("/"):
                    cmd.path(dest.rstrip("/") + "/" + s.rstrip("/").rsplit("/", 1)[-1], Access.WRITE)


def _link(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args, "tS", ("--target-directory", "--suffix"))
    if len(ops) >= 2:
        links = cmd.path(ops[-1], Access.WRITE)
        for s in ops[:-1]:
            targets = cmd.session.resolve(s, Access.READ) or []
            for ref in targets:
                if secret_kind(ref.path, cmd.session.env):
                    cmd.fact("secret.link", f"links to a credential location: {ref.path}", path=ref.path)
            # later commands of this action that go through the link reach the target
            if len(ops) == 2 and targets and links:
                for link in links:
                    name = link.path
                    if ops[-1].endswith("/"):
                        name = name.rstrip("/") + "/" + s.rstrip("/").rsplit("/", 1)[-1]
                    cmd.session.links[name] = targets[0].path
    elif ops:
        cmd.path(ops[0].rstrip("/").rsplit("/", 1)[-1] or ".", Access.WRITE)


def _tee(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args, "", ("--output-error",))
    for f in ops:
        cmd.path(f, Access.WRITE)
    cmd.out = cmd.inv.stdin or Flow()


def _perm(cmd: Cmd) -> None:
    args = cmd.args
    ops, flags = operands([a for a in args if not (a[:1] in "+-" and a[1:2] in "rwxXstugo=" and cmd.program ==
                                                    "chmod")], "", ("--reference", "--from"))
    recursive = bool(flags & {"R", "--recursive"})
    # `--reference=FILE` replaces the mode or owner operand: every operand is a target
    referenced = any(a == "--reference" or a.startswith("--reference=") for a in args)
    if cmd.program == "chmod":
        modes = [a for a in args if a[:1] in "+-=" and len(a) > 1 and a[1:2] in "rwxXstugo="]
        if ops and not modes and not referenced:
            modes, ops = [ops[0]], ops[1:]
        for m in modes:
            setid = "s" in m if not m.isdigit() else (len(m) == 4 and m[0] in "2467")
            if setid:
                cmd.fact("priv.setuid", f"chmod {m} makes a program run with its owner's privileges")
                from warden.core.analyze.system import is_shell_like

                for target in ops:
                    if is_shell_like(target):
                        cmd.fact("priv.grant", f"chmod {m} {target}: a setuid shell or interpreter is a root shell")
    elif cmd.program in ("chown", "chgrp") and ops and not referenced:
        ops = ops[1:]
    for target in ops:
        cmd.path(target, Access.WRITE, op=f"{cmd.program} -R" if recursive else "")


def _dd(cmd: Cmd) -> None:
    for a in cmd.args:
        key, _, value = a.partition("=")
        if key == "if":
            _reader_out(cmd, [value])
        elif key == "of":
            cmd.path(value, Access.WRITE, op="dd")


def _truncate(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args, "sr", ("--size", "--reference"))
    for target in ops:
        cmd.path(target, Access.WRITE, op="truncate")


def _cd(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args)
    if cmd.program == "popd":
        cmd.session.change_dir(None)
        return
    target = ops[0] if ops else "~"
    cdpath = "CDPATH" in cmd.inv.assigns or "CDPATH" in cmd.session.vars
    if target == "-" or (cdpath and not target.startswith(("/", "~", "./", "../")) and target not in (".", "..")):
        # `CDPATH=/ cd etc` may land in /etc: with CDPATH set, a bare name can go anywhere
        cmd.session.change_dir(None)
    else:
        cmd.session.change_dir(target)


def _echo(cmd: Cmd) -> None:
    args = cmd.args
    interpret, newline = False, True
    while args and args[0][:1] == "-" and len(args[0]) > 1 and set(args[0][1:]) <= set("neE"):
        interpret |= "e" in args[0]
        newline &= "n" not in args[0]
        args = args[1:]
    text = " ".join(args)
    taint = frozenset().union(*cmd.taints[1:]) if len(cmd.taints) > 1 else frozenset()
    if interpret:
        if _hides_text(text):
            taint |= {DECODE}
        text = decode_ansi_c(text)
    cmd.out = Flow(taint, text + ("\n" if newline else ""))


def _hides_text(s: str) -> bool:
    """Numeric escapes (\\x72, \\162, \\u0072) spell text so that a reader of the command cannot see it."""
    return any(e in s for e in ("\\x", "\\0", "\\1", "\\u", "\\U"))


def _printf(cmd: Cmd) -> None:
    args = cmd.args
    if args and args[0] == "-v":
        return
    if not args:
        return
    fmt, rest = args[0], list(args[1:])
    out: list[str] = []
    i = 0
    f = decode_ansi_c(fmt)
    while i < len(f):
        c = f[i]
        if c == "%" and i + 1 < len(f):
            spec = f[i + 1]
            if spec == "%":
                out.append("%")
            elif spec in "sb":
                value = rest.pop(0) if rest else ""
                out.append(decode_ansi_c(value) if spec == "b" else value)
            elif spec in "dic" and rest:
                out.append(rest.pop(0))
            else:
                out.append(UNKNOWN)
            i += 2
            continue
        out.append(c)
        i += 1
    taint = frozenset().union(*cmd.taints[1:]) if len(cmd.taints) > 1 else frozenset()
    if _hides_text(fmt) or ("%b" in fmt and any(_hides_text(a) for a in args[1:])):
        taint |= {DECODE}
    cmd.out = Flow(taint, "".join(out))


def _b64decode(text: str) -> str | None:
    try:
        raw = binascii.a2b_base64("".join(text.split()).encode("ascii", "ignore") + b"==")
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", "replace")


def _decoder(cmd: Cmd) -> None:
    """base64 -d, xxd -r, rev, gunzip ...: output is data whose meaning was hidden."""
    args = cmd.args
    p = cmd.program
    decoding = {
        "base64": any(a in ("-d", "--decode", "-D") or (a.startswith("-") and "d" in a and not a.startswith("--"))
                      for a in args),
        "base32": any(a in ("-d", "--decode") for a in args),
        "basenc": any(a in ("-d", "--decode") for a in args),
        "xxd": any(a in ("-r", "-revert") or a.startswith("-r") for a in args),
        "openssl": bool(args) and (("-d" in args) or (args[0] in ("base64", "enc") and "-d" in args)),
    }.get(p, True)
    ops, _ = operands([a for a in args if a not in ("-d", "--decode", "-D", "-r", "-p", "-i", "-w0")],
                      "w", ("--wrap",))
    files = [o for o in ops if p not in ("openssl", "tr") and o not in ("base64", "enc")]
    for f in files:
        cmd.path(f, Access.READ)
    stdin = cmd.inv.stdin
    taint = set(stdin.taint if stdin else ()) | ({DECODE} if decoding else set())
    if not decoding:
        cmd.out = Flow(frozenset(taint | {DYNAMIC}))
        return
    text = None
    if stdin is not None and stdin.text is not None and not files:
        if p == "base64":
            text = _b64decode(stdin.text)
        elif p == "rev":
            text = "\n".join(line[::-1] for line in stdin.text.rstrip("\n").split("\n")) + "\n"
        elif p == "xxd" and "-p" in args:
            try:
                text = bytes.fromhex("".join(stdin.text.split())).decode("utf-8", "replace")
            except ValueError:
                text = None
    cmd.out = Flow(frozenset(taint), text)


def _passthrough_known(cmd: Cmd) -> None:
    cmd.out = cmd.inv.stdin or Flow()


def _install(cmd: Cmd) -> None:
    ops, flags = operands(cmd.args, "mogtSbZ", ("--mode", "--owner", "--group", "--target-directory", "--suffix"))
    for i, a in enumerate(cmd.args):
        mode = cmd.args[i + 1] if a in ("-m", "--mode") and i + 1 < len(cmd.args) else (
            a.split("=", 1)[1] if a.startswith("--mode=") else None)
        if mode and ("s" in mode if not mode.isdigit() else (len(mode) == 4 and mode[0] in "2467")):
            cmd.fact("priv.setuid", f"install -m {mode} makes a program run with its owner's privileges")
    if "d" in flags:
        for o in ops:
            cmd.path(o, Access.WRITE)
    elif len(ops) >= 2:
        for s in ops[:-1]:
            cmd.path(s, Access.READ)
        cmd.path(ops[-1], Access.WRITE)


def _archive_tar(cmd: Cmd) -> None:
    from warden.core.analyze.escapes import tar_escapes

    args = cmd.args
    mode = ""
    archive = None
    directory = None
    members: list[str] = []
    i = 0
    if args and not args[0].startswith("-"):
        letters = args[0]
        rest = args[1:]
        for ch in letters:
            if ch in "cxtru":
                mode = ch
        if "P" in letters:  # old-style bundled letters: `tar Pxf a.tar`
            cmd.fact("fs.unresolved_target", "tar -P keeps absolute paths", access="write")
        if "f" in letters and rest:
            archive, rest = rest[0], rest[1:]
        args = rest
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            name, eq, value = a.partition("=")
            if name in ("--file", "--directory") and not eq and i + 1 < len(args):
                value, i = args[i + 1], i + 1
            if name == "--file":
                archive = value
            elif name == "--directory":
                directory = value
            elif name in ("--extract", "--get"):
                mode = "x"
            elif name == "--create":
                mode = "c"
            elif name in ("--absolute-names",):
                cmd.fact("fs.unresolved_target", "tar -P writes or reads absolute paths from the archive",
                         access="write")
        elif a.startswith("-") and len(a) > 1:
            for j, ch in enumerate(a[1:]):
                if ch in "cxtru":
                    mode = ch
                if ch in "fCIT" and j + 2 == len(a) and i + 1 < len(args):
                    value = args[i + 1]
                    i += 1
                    if ch == "f":
                        archive = value
                    elif ch == "C":
                        directory = value
                    break
                if ch == "P":
                    cmd.fact("fs.unresolved_target", "tar -P keeps absolute paths", access="write")
        else:
            members.append(a)
        i += 1
    tar_escapes(cmd)
    if mode in ("c", "r", "u"):
        if archive and archive != "-":
            cmd.path(archive, Access.WRITE)
        for m in members:
            _bulk(cmd, cmd.session.resolve(m, Access.READ) or [])
            for ref in cmd.path(m, Access.READ):
                if secret_kind(ref.path, cmd.session.env):
                    cmd.out = Flow(frozenset({SECRET}))
    elif mode == "x":
        if archive and archive != "-":
            cmd.path(archive, Access.READ)
        cmd.path(directory or ".", Access.WRITE)
    elif archive and archive != "-":
        cmd.path(archive, Access.READ)


def _zip(cmd: Cmd) -> None:
    from warden.core.analyze.escapes import zip_escapes

    zip_escapes(cmd)
    ops, _ = operands(cmd.args, "bnitxTR", ("--temp-path", "--suffixes", "--unzip-command", "--password"))
    if cmd.program == "zip" and ops:
        cmd.path(ops[0], Access.WRITE)
        for m in ops[1:]:
            _bulk(cmd, cmd.path(m, Access.READ))
    elif cmd.program in ("7z", "7za") and ops and ops[0] in ("a", "u"):
        # `7z a ARCHIVE FILES...` (`-an`: no archive name, written to stdout with -so)
        members = ops[1:] if "-an" in cmd.args else ops[2:]
        if "-an" not in cmd.args and len(ops) > 1:
            cmd.path(ops[1], Access.WRITE)
        for m in members:
            _bulk(cmd, cmd.path(m, Access.READ))
    elif cmd.program in ("unzip", "7z", "7za", "unrar"):
        if cmd.program == "unzip" and any(a.startswith("-") and not a.startswith("--") and "K" in a for a in cmd.args):
            cmd.fact("priv.setuid", "unzip -K keeps setuid/setgid bits from the archive")
        dest = next((cmd.args[i + 1] for i, a in enumerate(cmd.args[:-1]) if a == "-d"), None)
        dest = dest or next((a[2:] for a in cmd.args if a.startswith("-o") and len(a) > 2), None)
        for m in ops[:1]:
            cmd.path(m, Access.READ)
        if not (set(cmd.args) & {"-l", "-t", "l", "t", "-v"}):
            cmd.path(dest or ".", Access.WRITE)


def _inplace(cmd: Cmd) -> None:
    """gzip/xz/... compress or decompress files in place (write), or filter stdin."""
    ops, flags = operands(cmd.args, "S", ("--suffix",))
    to_stdout = bool(flags & {"c", "--stdout", "--to-stdout"}) or cmd.program in ("zcat", "bzcat", "xzcat", "zstdcat")
    for f in ops:
        cmd.path(f, Access.READ if to_stdout else Access.WRITE)
    decompress = bool(flags & {"d", "--decompress"}) or cmd.program.startswith(("gun", "bun", "un", "z", "bz", "xz"))
    stdin = cmd.inv.stdin
    base = set(stdin.taint) if stdin else set()
    cmd.out = Flow(frozenset(base | ({DECODE} if decompress else {DYNAMIC})))


def _patch(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args, "pidDoBrFVYzg", ("--strip", "--input", "--directory", "--output", "--reject-file"))
    for i, a in enumerate(cmd.args[:-1]):
        if a in ("-i", "--input"):
            cmd.path(cmd.args[i + 1], Access.READ)
        if a in ("-o", "--output"):
            cmd.path(cmd.args[i + 1], Access.WRITE)
    if ops:
        cmd.path(ops[0], Access.WRITE)
    else:
        cmd.path(".", Access.WRITE)


def _mkfifo(cmd: Cmd) -> None:
    ops, _ = operands(cmd.args, "mZ", ("--mode", "--context"))
    for o in ops:
        cmd.path(o, Access.WRITE)
    if cmd.program == "mknod" and len(ops) >= 2 and ops[1] in ("b", "c"):
        cmd.fact("device.create", "mknod creates a device node")


LISTERS = ("ls", "tree", "du", "stat", "exa", "eza", "lsd", "namei", "lsattr", "getfacl", "ncdu", "dust", "dir",
           "vdir", "realpath", "readlink", "basename", "dirname", "test", "[", "file")
READERS = ("cat", "tac", "head", "tail", "less", "more", "bat", "batcat", "nl", "wc", "uniq", "cut", "paste", "diff",
           "cmp", "comm", "md5sum", "sha1sum", "sha256sum", "sha512sum",
           "b2sum", "cksum", "strings", "od", "hexdump", "column", "fold", "fmt", "pr", "expand", "unexpand",
           "realpath", "readlink", "look", "exa", "eza", "lsd", "fd", "fdfind", "colordiff", "delta", "diff3",
           "sdiff", "view", "pygmentize", "highlight", "iconv", "dos2unix", "unix2dos", "wdiff", "split", "csplit",
           "lsattr", "getfacl", "namei", "zdiff", "sum", "tokei", "cloc", "scc", "glow", "mdcat", "shasum",
           "numfmt", "join", "tsort", "ptx", "xmllint", "yamllint", "jsonlint", "yq", "xq", "gron", "mlr",
           "csvlook", "csvcut", "bc", "dc", "fzf", "zless", "zmore", "zgrep", "zegrep", "ncdu", "dust", "duf")
HANDLERS = {name: _read_all for name in READERS}
HANDLERS.update({name: _list for name in LISTERS})
HANDLERS.update({name: _grep for name in ("grep", "egrep", "fgrep", "rg", "ag", "ack", "ack-grep", "git-grep",
                                          "zgrep", "pcregrep", "ugrep", "sift", "pt")})
HANDLERS.update({
    "sort": _sort, "jq": _jq, "rm": _delete, "rmdir": _delete, "unlink": _delete, "srm": _delete, "wipe": _delete,
    "trash": _delete, "trash-put": _delete, "gio": _first_is_not_path, "shred": _shred,
    "touch": _write_all, "mkdir": _write_all, "fallocate": _write_all, "setfacl": _write_all,
    "chattr": _write_all, "cp": _copy, "mv": _copy, "rsync-local": _copy, "ln": _link, "link": _link, "tee": _tee,
    "chmod": _perm, "chown": _perm, "chgrp": _perm, "dd": _dd, "truncate": _truncate, "cd": _cd, "pushd": _cd,
    "popd": _cd, "echo": _echo, "printf": _printf, "base64": _decoder, "base32": _decoder, "basenc": _decoder,
    "xxd": _decoder, "rev": _decoder, "uudecode": _decoder, "openssl-dec": _decoder, "tr": _decoder,
    "install": _install, "tar": _archive_tar, "bsdtar": _archive_tar, "zip": _zip, "unzip": _zip, "7z": _zip,
    "7za": _zip, "unrar": _zip, "gzip": _inplace, "gunzip": _inplace, "zcat": _inplace, "bzip2": _inplace,
    "bunzip2": _inplace, "bzcat": _inplace, "xz": _inplace, "unxz": _inplace, "xzcat": _inplace, "zstd": _inplace,
    "unzstd": _inplace, "zstdcat": _inplace, "lz4": _inplace, "brotli": _inplace, "patch": _patch,
    "mkfifo": _mkfifo, "mknod": _mkfifo, "mktemp": _mktemp,
})

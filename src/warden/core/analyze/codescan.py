"""Scan interpreter code (python/perl/ruby/node/php ...) for what it will do to the system.

Not a parser for those languages: a bounded substring scan for call names, plus extraction
of the literal string arguments right after them. Shell-outs with literal commands are
analyzed as shell; literal paths given to deletes, opens and writes become path facts;
sockets, dynamic evaluation and decoding become facts the policy asks about. Code that
calls a shell-out with a non-literal argument is opaque.
"""

from __future__ import annotations

from warden.core.analyze.invocation import Cmd
from warden.core.analyze.words import UNKNOWN
from warden.core.facts import Access

# call name -> what it does. "shell": string runs in a shell; "argv": a list is an argv.
SHELL_OUT = {
    "python": ("os.system(", "os.popen(", "subprocess.getoutput(", "subprocess.getstatusoutput(",
               "commands.getoutput(", "pty.spawn(", "os.execl(", "os.execlp(", "os.execv(", "os.execvp(",
               "os.execve(", "os.spawnl(", "os.spawnv(", "os.spawnlp(", "os.posix_spawn(", "system(", "popen(",
               "check_output(", "check_call(", "subprocess.run(", "subprocess.call(", "subprocess.Popen(", "Popen(",
               "run(", "call(", "getoutput("),
    "perl": ("system(", "system ", "exec(", "exec ", "qx(", "qx{", "qx/", "open(", "`"),
    "ruby": ("system(", "system ", "exec(", "exec ", "%x(", "%x{", "IO.popen(", "Open3.capture2(",
             "Open3.capture3(", "Open3.popen3(", "spawn(", "`"),
    "node": ("execSync(", "exec(", "spawn(", "spawnSync(", "execFile(", "execFileSync(", "fork("),
    "php": ("system(", "exec(", "shell_exec(", "passthru(", "popen(", "proc_open(", "pcntl_exec(", "`"),
    "lua": ("os.execute(", "io.popen("),
    "Rscript": ("system(", "system2(", "shell("),
    "julia": ("run(`", "`"),
    "osascript": ("do shell script ",),
    "pwsh": ("Invoke-Expression", "iex ", "Start-Process", "cmd /c", "cmd.exe"),
    "tclsh": ("exec ",),
    "deno": ("Deno.run(", "Deno.Command(", "new Deno.Command("),
    "fsharp": ("Process.Start(",),
}
DELETES = ("shutil.rmtree(", "os.remove(", "os.unlink(", "os.rmdir(", "os.removedirs(", ".unlink(", ".rmdir(",
           "rmtree(", "unlink(", "unlink ", "rmdir(", "FileUtils.rm_rf(", "FileUtils.rm_r(", "FileUtils.rm(",
           "File.delete(", ".rmSync(", ".rmdirSync(", ".unlinkSync(", "fs.rm(", "rimraf(", "Remove-Item",
           ".promises.rm(", "file.remove(", "os.remove(", "Deno.remove(", "Deno.removeSync(")
OPENS = ("open(", "File.open(", "File.read(", "File.write(", "IO.read(", "readFileSync(", "writeFileSync(",
         "appendFileSync(", "file_get_contents(", "file_put_contents(", "fopen(", "Path(", "io.open(",
         "readFile(", "writeFile(", "Get-Content", "Set-Content", "slurp(", "Deno.readTextFile(",
         "Deno.readTextFileSync(", "Deno.writeTextFile(", "Deno.writeTextFileSync(")
WRITE_CALLS = ("File.write(", "writeFileSync(", "appendFileSync(", "file_put_contents(", "writeFile(",
               "Set-Content", ".write_text(", ".write_bytes(", "Deno.writeTextFile(", "Deno.writeTextFileSync(")
NETWORK = ("socket.", "socket(", "IO::Socket", "TCPSocket", "UDPSocket", "net.connect(", "net.Socket(",
           "net.createConnection(", "fsockopen(", "stream_socket_client(", "require('net')", 'require("net")',
           "urllib.request", "urlopen(", "requests.", "http.client", "httpx.", "LWP::", "HTTP::Tiny",
           "Net::HTTP", "open-uri", "fetch(", "http.get(", "https.get(", "http.request(", "https.request(",
           "curl_exec(", "Invoke-WebRequest", "Invoke-RestMethod", "Net.WebClient", "DownloadString(",
           "socket.http", "download.file(", "url(", "aiohttp", "websocket", "paramiko", "ftplib", "smtplib",
           "telnetlib", "Socket::", "new WebSocket", "XMLHttpRequest", 'require("socket")', "require('socket')",
           "using Sockets", "Sockets.connect(")
DUP_SHELL = ("dup2(", "pty.spawn(", "/bin/sh", "/bin/bash", "cmd.exe", "STDIN->fdopen", "open(STDIN", "popen(",
             "IO.popen", "shell_exec(", "system(", "subprocess",
             "fdopen(", "child_process", "-i", "spawn('sh'", 'spawn("sh"', "exec sh", "proc_open(", "run(pipeline(")
DYNAMIC = {
    "python": ("eval(", "exec(", "compile(", "importlib", "marshal.loads", "pickle.loads", "ctypes"),
    "perl": ("eval(", "eval \"", "eval $", "eval{", "eval {", "DynaLoader"),
    "ruby": ("eval(", "eval ", "instance_eval", "class_eval", ".send(", "Fiddle", "dlopen"),
    "node": ("eval(", "Function(", "vm.runIn", "process.dlopen"),
    "php": ("eval(", "create_function(", "assert(", "preg_replace(", "FFI::", "dl("),
    "pwsh": ("Invoke-Expression", "iex ", "iex(", "| iex"),
    "lua": ("loadstring(", "load("),
    "Rscript": ("eval(", "parse(text"),
    "julia": ("eval(", "Meta.parse"),
    "deno": ("eval(", "Function("),
}
DECODE = ("base64", "b64decode", "fromCharCode", "decode(", "unhexlify", "fromhex(", "codecs.", "zlib.",
          "gzinflate(", "str_rot13(", "rot13", "pack(", "atob(", "Buffer.from(", "[::-1]", "chr(", "FromBase64String",
          "bytes.fromhex", "reverse(", "strrev(")
ENV_DUMP = ("os.environ", "process.env", "ENV[", "%ENV", "getenv(", "$_ENV", "Sys.getenv")


MAX_LITERAL_SCAN = 16_384


def _literal_after(code: str, pos: int) -> tuple[list[str], bool]:
    """String literals of the argument starting at ``pos``: (values, complete?).

    Reads `'...'`, `"..."` and backquoted strings, a list of them (`["rm", "-rf", x]`), and
    stops at the first thing that is not a literal. Linear in the text read; reads <= 4 KB.
    """
    out: list[str] = []
    i, n = pos, min(len(code), pos + 4096)
    while i < n and code[i] in " \t\n":
        i += 1
    in_list = i < n and code[i] in "[("
    if in_list:
        i += 1
    while i < n:
        while i < n and code[i] in " \t\n,":
            i += 1
        if i >= n:
            break
        q = code[i]
        if q in ")]":
            return out, True
        # python prefixes r"..", f"..", b".."
        if q in "rfbuRFBU" and i + 1 < n and code[i + 1] in "'\"":
            if q in "fF":
                return out, False
            i += 1
            q = code[i]
        if q not in "'\"`":
            return out, False
        j = i + 1
        buf: list[str] = []
        while j < n and code[j] != q:
            if code[j] == "\\" and j + 1 < n:
                nxt = code[j + 1]
                buf.append({"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"'}.get(nxt, "\\" + nxt))
                j += 2
                continue
            buf.append(code[j])
            j += 1
        if j >= n:
            return out, False
        out.append("".join(buf))
        i = j + 1
        while i < n and code[i] in " \t\n":
            i += 1
        if not in_list:
            return out, i >= n or code[i] in ",);" or code[i] == "\n"
        if i < n and code[i] in "+.%":
            return out, False  # concatenation or formatting: not a literal
    return out, False


def _find_all(code: str, needle: str, limit: int = 16) -> list[int]:
    out, start = [], 0
    while len(out) < limit:
        k = code.find(needle, start)
        if k < 0:
            break
        out.append(k + len(needle))
        start = k + 1
    return out


def scan(cmd: Cmd, lang: str, code: str, via: str) -> None:
    cmd.fact("interp.code", f"{via}: {len(code)} characters of {lang}", lang=lang)
    _shell_outs(cmd, lang, code, via)
    scan_literals(cmd, code)
    for name in DELETES:
        for pos in _find_all(code, name, 8):
            values, _complete = _literal_after(code, pos)
            if values:
                for v in values[:1]:
                    cmd.path(v, Access.DELETE, op="delete")
            else:
                cmd.fact("fs.unresolved_target", f"{via} deletes a path computed at run time ({name.rstrip('(')})",
                         access="delete")
            if "rmtree" in name or "rm_rf" in name or "rmSync" in name or "rm_r" in name:
                cmd.fact("fs.recursive_delete", f"{via} deletes a directory tree")
    for name in OPENS:
        for pos in _find_all(code, name, 8):
            values, _ = _literal_after(code, pos)
            tail = code[pos:pos + 200]
            writes = name in WRITE_CALLS or any(m in tail.split(")")[0] for m in ("'w", '"w', "'a", '"a', "'x",
                                                                               "+'", '+"', "'>", '">', "'|"))
            if values and values[0]:
                cmd.path(values[0], Access.WRITE if writes else Access.READ)
            elif writes:
                cmd.fact("fs.unresolved_target", f"{via} writes a file whose path is computed at run time",
                         access="write")
    for name in (".write_text(", ".write_bytes(", ".read_text(", ".read_bytes("):
        if name in code:
            start = code.rfind("Path(", 0, code.find(name))
            values, _ = _literal_after(code, start + 5) if start >= 0 else ([], False)
            access = Access.WRITE if "write" in name else Access.READ
            if values:
                cmd.path(values[0], access)
            elif access == Access.WRITE:
                cmd.fact("fs.unresolved_target", f"{via} writes a file whose path is computed at run time",
                         access="write")
    net = [n for n in NETWORK if n in code] or (["a URL"] if ("http://" in code or "https://" in code) and any(
        c in code for c in ("get(", "open(", "contents(", "read(", "Download", "download(", "fetch", "request")) else [])
    if net:
        cmd.fact("net.connect", f"{via} opens network connections ({net[0].rstrip('(.')})", program=cmd.program)
        _hosts_in(cmd, code)
        if any(d in code for d in DUP_SHELL) and any(s in code for s in (
                "socket", "Socket", "net.", "fsockopen", 'require("net")', "require('net')")):
            cmd.fact("net.reverse_shell", f"{via} connects a socket to a shell or process: a reverse shell")
    stripped = code.replace("os.exec", "").replace("re.compile(", "").replace(".exec(", "")
    dyn = [d for d in DYNAMIC.get(lang, ()) if d in stripped]
    if dyn:
        cmd.opaque(f"{via} evaluates code built at run time ({dyn[0].rstrip('( ')})")
    if net and dyn:
        cmd.session.action_fact("flow.remote_exec", f"{via} fetches code from the network and evaluates it")
    if any(d in code for d in DECODE) and (dyn or any(s in code for s in SHELL_OUT.get(lang, ()))):
        cmd.session.action_fact("flow.decoded_exec", f"{via} decodes data and runs it")
    if any(e in code for e in ENV_DUMP) and net:
        cmd.session.action_fact("flow.exfil", f"{via} reads environment variables and uses the network")


def _shell_outs(cmd: Cmd, lang: str, code: str, via: str) -> None:
    for name in SHELL_OUT.get(lang, ()):
        if name == "`":
            parts = code.split("`")
            for inner in parts[1:-1:2][:8]:
                cmd.fact("interp.shell_out", f"{via} runs shell commands")
                cmd.shell(inner, f"{via} `...`")
            continue
        for pos in _find_all(code, name, 8):
            # skip method calls on other objects: re.sub(...).run( etc. are not shell-outs
            before = code[max(0, pos - len(name) - 1):pos - len(name)]
            if name in ("run(", "call(", "exec(", "system(", "popen(", "spawn(", "fork(") and before and (
                    before.isalnum() or before in "_"):
                continue
            if lang == "python" and name in ("run(", "call(", "Popen(", "exec(") and "subprocess" not in code \
                    and "os." not in code:
                continue
            if lang == "perl" and name == "open(" and "|" not in code[pos:pos + 200].split(")")[0]:
                continue
            cmd.fact("interp.shell_out", f"{via} runs commands ({name.rstrip('( ')})")
            values, complete = _literal_after(code, pos)
            if name in ("qx{", "qx/", "%x{", "qx(", "%x("):
                end = {"{": "}", "/": "/", "(": ")"}[name[-1]]
                k = code.find(end, pos)
                if k > pos:
                    cmd.shell(code[pos:k], f"{via} {name}")
                continue
            if lang == "osascript":
                values, complete = _literal_after(code, pos)
            if not values:
                cmd.opaque(f"{via} runs a command built at run time ({name.rstrip('( ')})")
                continue
            if lang == "fsharp":
                # Process.Start(FILE, ARGUMENTS): the arguments are one space-separated string
                values, complete = _literal_after(code, pos - 1)  # every literal up to `)`
                cmd.shell(" ".join(v for v in values if v) + ("" if complete else " " + UNKNOWN).replace(UNKNOWN, " "),
                          f"{via} {name.rstrip('(')}")
                continue
            if name.startswith(("os.execl", "os.execv", "os.spawn", "pcntl_exec")) or (len(values) > 1 and "shell=True" not in code):
                argv = [v for v in values if v]
                if name.startswith(("os.execl", "os.spawnl")) and len(argv) > 1:
                    argv = argv[1:] if argv[1] == argv[0].rsplit("/", 1)[-1] else argv
                if not complete:
                    argv.append(UNKNOWN)
                cmd.nested(argv, via=f"{via} {name.rstrip('(')}")
            else:
                text = values[0] if complete else values[0] + " " + UNKNOWN
                if not complete:
                    cmd.opaque(f"{via} runs a command partly built at run time")
                if lang == "perl" and name == "open(":
                    text = text.strip().strip("|").strip()
                cmd.shell(text.replace(UNKNOWN, " "), f"{via} {name.rstrip('( ')}")


def scan_literals(cmd: Cmd, code: str) -> None:
    """Any string literal naming a credential location counts as reading it (expanduser(...) etc.)."""
    from warden.core.analyze.paths import secret_kind

    count, i, n = 0, 0, min(len(code), MAX_LITERAL_SCAN)
    while i < n and count < 64:
        q = code[i]
        if q in "'\"":
            j = code.find(q, i + 1, n)
            if j < 0:
                break
            lit = code[i + 1:j]
            count += 1
            if 0 < len(lit) < 512 and lit[0] in "/~." and " " not in lit:
                for ref in cmd.session.resolve(lit, Access.READ) or []:
                    if secret_kind(ref.path, cmd.session.env):
                        cmd.path(lit, Access.READ)
            i = j + 1
        else:
            i += 1


def _hosts_in(cmd: Cmd, code: str) -> None:
    for marker in ("://",):
        for pos in _find_all(code, marker, 8):
            j = pos
            while j < len(code) and j < pos + 253 and (code[j].isalnum() or code[j] in ".-"):
                j += 1
            if j > pos:
                cmd.host(code[pos:j])
    for pos in _find_all(code, "connect((", 4):
        values, _ = _literal_after(code, pos)
        if values:
            cmd.host(values[0])

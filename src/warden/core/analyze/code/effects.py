"""What interpreter code does, as the same facts the shell analysis produces.

The language front ends (Python's ``ast``, tree-sitter grammars, a Perl tokenizer) evaluate
what they can of the code — string constants, concatenation, joins, the home directory — and
report *effects* here: a delete, a read, a write, a shell-out, an argv it runs, a network
request, a socket, a dump of the environment, code evaluated at run time. This module turns
each effect into path, host and command facts through the shell analyzer's own :class:`Cmd`
API, so ``shutil.rmtree(os.path.expanduser('~'))`` and ``rm -rf ~`` meet the same rules.

Values are plain ``str`` where the unknown parts are :data:`UNKNOWN` (never resolved as if
inside the workspace), ``list`` for sequences and ``None`` for nothing known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from warden.core.analyze.invocation import Cmd, show
from warden.core.analyze.words import UNKNOWN
from warden.core.facts import Access

# shell text cannot carry the NUL marker; an unset variable is unknown to the shell analysis too
_SHELL_UNKNOWN = '"${__warden_unknown__}"'
SHELLS = ("sh", "bash", "zsh", "dash", "ksh", "/bin/sh", "/bin/bash", "/bin/zsh", "/bin/dash", "cmd.exe", "powershell")


def text(v: Any) -> str | None:
    """A value as text, with unknown parts marked; None when nothing is known."""
    if isinstance(v, str):
        return v
    return None


def concat(a: Any, b: Any) -> str:
    ta, tb = text(a), text(b)
    return (ta if ta is not None else UNKNOWN) + (tb if tb is not None else UNKNOWN)


def join_path(parts: list[Any]) -> str:
    out = ""
    for p in parts:
        t = text(p)
        t = UNKNOWN if t is None else t
        if t.startswith("/") or not out:
            out = t
        else:
            out = out.rstrip("/") + "/" + t
    return out


@dataclass
class Effects:
    """Collects what one piece of code does and reports it on the command that runs it."""

    cmd: Cmd
    lang: str
    via: str
    home: str
    depth: int = 0
    net: bool = False
    upload: bool = False
    socket: bool = False
    spawned_shell: bool = False
    dup: bool = False
    env_dump: bool = False
    decoded: bool = False
    dynamic: bool = False
    computed_exec: bool = False
    hosts: list[str] = field(default_factory=list)

    # --- files -----------------------------------------------------------------------------
    def _target(self, v: Any, access: Access, *, op: str = "", recursive: bool = False) -> None:
        t = text(v)
        if t and t.startswith(("http://", "https://", "ftp://")) and access == Access.READ:
            self.request(t)  # file_get_contents("http://..."), open-uri: a fetch, not a file
            return
        what = {Access.DELETE: "deletes", Access.WRITE: "writes", Access.READ: "reads", Access.EXEC: "runs"}[access]
        if t is None or not t.replace(UNKNOWN, "") or t.startswith(UNKNOWN):
            if access != Access.READ:
                self.cmd.fact("fs.unresolved_target", f"{self.via} {what} a path computed at run time",
                              access=access.value)
            return
        if UNKNOWN in t:
            head, _, _tail = t.rpartition("/")
            if UNKNOWN in head or not head:
                if access != Access.READ:
                    self.cmd.fact("fs.unresolved_target", f"{self.via} {what} `{show(t)}`, computed at run time",
                                  access=access.value)
                return
            # a computed name under a literal directory: any entry of that directory (`D/*`)
            t = head + "/*"
        if recursive:
            self.cmd.fact("fs.recursive_delete", f"{self.via} deletes a directory tree")
        self.cmd.path(t, access, op=op)

    def delete(self, v: Any, recursive: bool = False) -> None:
        self._target(v, Access.DELETE, op="delete", recursive=recursive)

    def read(self, v: Any) -> None:
        self._target(v, Access.READ)

    def write(self, v: Any) -> None:
        self._target(v, Access.WRITE)

    def move(self, src: Any, dst: Any) -> None:
        self._target(src, Access.READ)
        self._target(src, Access.DELETE, op="move")
        self._target(dst, Access.WRITE)

    def copy(self, src: Any, dst: Any) -> None:
        self._target(src, Access.READ)
        self._target(dst, Access.WRITE)

    # --- processes ---------------------------------------------------------------------------
    def shell(self, v: Any) -> None:
        self.cmd.fact("interp.shell_out", f"{self.via} runs shell commands")
        t = text(v)
        if t is None or not t.replace(UNKNOWN, "").strip():
            self.cmd.opaque(f"{self.via} runs a command built at run time")
            self.computed_exec = True
            return
        if UNKNOWN in t:
            self.cmd.opaque(f"{self.via} runs a command partly built at run time: `{show(t)[:80]}`")
        words = t.replace(";", " ").split()
        if any(w in SHELLS or w.rsplit("/", 1)[-1] in ("sh", "bash", "zsh", "dash") for w in words[:3]):
            self.spawned_shell = True
        self.cmd.shell(t.replace(UNKNOWN, _SHELL_UNKNOWN), f"{self.via} shell-out")

    def argv(self, v: Any) -> None:
        self.cmd.fact("interp.shell_out", f"{self.via} runs commands")
        if isinstance(v, str):
            self.shell(v)
            return
        if not isinstance(v, list) or not v:
            self.cmd.opaque(f"{self.via} runs a command built at run time")
            self.computed_exec = True
            return
        argv: list[str] = [t if (t := text(a)) is not None else UNKNOWN for a in v]
        if argv[0].startswith(UNKNOWN):
            self.cmd.opaque(f"{self.via} runs a program computed at run time")
            self.computed_exec = True
            return
        if argv[0] in SHELLS or argv[0].rsplit("/", 1)[-1] in ("sh", "bash", "zsh", "dash"):
            self.spawned_shell = True
        if any(UNKNOWN in a for a in argv):
            argv = [a if UNKNOWN not in a else a.replace(UNKNOWN, "") + UNKNOWN for a in argv]
        self.cmd.nested(argv, via=f"{self.via} exec")

    # --- network, environment, dynamic code -----------------------------------------------------
    def request(self, url: Any, upload: bool = False) -> None:
        self.net = True
        self.upload = self.upload or upload
        t = text(url)
        if t and "://" in t and UNKNOWN not in t.split("://", 1)[1].split("/", 1)[0]:
            host = t.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
            if t.startswith("file://"):
                self.read(t[len("file://"):])
                return
            if host:
                self.hosts.append(host)

    def connect(self, host: Any) -> None:
        self.net = True
        self.socket = True
        t = text(host)
        if t and UNKNOWN not in t:
            self.hosts.append(t)

    def listen(self) -> None:
        self.cmd.fact("net.listen", f"{self.via} listens for network connections")

    def evaluate(self, code: Any) -> None:
        """``eval``/``exec`` of code: literal code is analyzed again, anything else is opaque."""
        self.dynamic = True
        t = text(code)
        if t is None or UNKNOWN in t or self.depth >= 4:
            self.cmd.opaque(f"{self.via} evaluates code built at run time")
            return
        from warden.core.analyze.code import analyze_code

        analyze_code(self.cmd, self.lang, t, f"{self.via} eval", depth=self.depth + 1)

    def opaque(self, why: str) -> None:
        self.cmd.opaque(f"{self.via} {why}")

    def finish(self) -> None:
        cmd = self.cmd
        for h in self.hosts:
            cmd.host(h)
        local = all(h in ("localhost", "127.0.0.1", "::1", "0.0.0.0") for h in self.hosts) and self.hosts
        if self.net:
            if local:
                cmd.fact("net.local", f"{self.via} talks to this machine")
            else:
                cmd.fact("net.connect", f"{self.via} opens network connections", program=cmd.program)
            if self.upload:
                cmd.fact("net.upload", f"{self.via} sends data over the network")
        if self.socket and (self.dup or self.spawned_shell or self.computed_exec):
            cmd.fact("net.reverse_shell", f"{self.via} connects a socket to a shell: a reverse shell")
        if self.env_dump:
            cmd.fact("secret.env_dump", f"{self.via} reads every environment variable")
            if self.net and not local:
                cmd.session.action_fact("flow.exfil", f"{self.via} sends the environment over the network")
        if self.net and self.dynamic and not local:
            cmd.session.action_fact("flow.remote_exec", f"{self.via} fetches code from the network and evaluates it")
        if self.decoded and (self.dynamic or cmd.has("interp.shell_out")):
            cmd.session.action_fact("flow.decoded_exec", f"{self.via} decodes data and runs it")


def _arg(args: list[Any], pos: int | None) -> Any:
    if pos is None or pos >= len(args):
        return None
    return args[pos]


def apply(fx: Effects, effect: str, pos: tuple[int | None, ...], args: list[Any], *, writes: bool = False,
          upload: bool = False) -> None:
    """Carry out one table effect on evaluated arguments (``writes``: an open mode that writes)."""
    a = _arg(args, pos[0] if pos else None)
    if effect in ("delete", "delete_tree"):
        fx.delete(a, recursive=effect == "delete_tree")
    elif effect == "read":
        (fx.write if writes else fx.read)(a)
    elif effect == "write":
        fx.write(a)
    elif effect == "move":
        fx.move(a, _arg(args, pos[1]))
    elif effect == "copy":
        fx.copy(a, _arg(args, pos[1]))
    elif effect == "shell":
        fx.shell(a)
    elif effect == "argv":
        fx.argv(a)
    elif effect == "prog_args":
        rest = _arg(args, pos[1])
        prog = text(a)
        if isinstance(rest, list):
            fx.argv([prog if prog is not None else UNKNOWN, *rest[1:]] if rest and text(rest[0]) == prog
                    else [prog if prog is not None else UNKNOWN, *rest])
        elif rest is None and len(args) <= (pos[1] or 0):
            fx.argv([a])
        else:
            fx.argv([prog if prog is not None else UNKNOWN, UNKNOWN])
    elif effect == "argv_rest":
        rest = args[pos[0] or 0:]
        if len(rest) == 1:
            fx.argv(rest[0])
        else:
            fx.argv(rest)
    elif effect in ("request", "upload"):
        fx.request(a, upload=effect == "upload" or upload)
    elif effect == "connect":
        fx.connect(a)
    elif effect == "listen":
        fx.listen()
    elif effect == "eval":
        fx.evaluate(a)
    elif effect == "dup":
        fx.dup = True
    elif effect == "decode":
        fx.decoded = True
    elif effect == "env_dump":
        fx.env_dump = True
    elif effect == "opaque":
        fx.opaque("loads or runs code the analyzer cannot follow")


def printf_format(fmt: Any) -> Any:
    """``sprintf("/bin/sh -i <&%d", fd)``: the format with every conversion unknown."""
    t = text(fmt)
    if t is None:
        return None
    out, i = "", 0
    while i < len(t):
        if t[i] == "%" and i + 1 < len(t):
            if t[i + 1] == "%":
                out += "%"
                i += 2
                continue
            j = i + 1
            while j < len(t) and not t[j].isalpha():
                j += 1
            out += UNKNOWN
            i = j + 1
        else:
            out += t[i]
            i += 1
    return out

"""The working types shared by the shell walker and the per-program analyzers.

An :class:`Invocation` is one simple command after word evaluation (fields, their taint,
redirections, where stdin comes from). A :class:`Cmd` is what a program analyzer fills in:
the :class:`~warden.core.facts.CommandInfo` the policy will see, plus the data the command
sends to stdout (so pipelines can tell ``curl ... | sh`` from ``cat notes | sh``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from warden.core.analyze.words import NAME, UNKNOWN
from warden.core.facts import Access, CommandInfo, Fact, PathRef

if TYPE_CHECKING:
    from warden.core.analyze.shell import Session

# Taint labels carried by data: where the bytes came from.
NET = "net"  # fetched from the network
DECODE = "decode"  # decoded / decompressed / reversed (obfuscated) data
SECRET = "secret"  # read from a credential location
DYNAMIC = "dynamic"  # produced by a command whose output the analyzer cannot compute
SECRET_ENV = "secret_env"  # the value of a secret-looking environment variable ($GITHUB_TOKEN)


@dataclass(frozen=True)
class Flow:
    """What a command reads on stdin or writes to stdout."""

    taint: frozenset[str] = frozenset()
    text: str | None = None  # the content, when the analyzer knows it (echo, heredoc, here-string)
    path: str | None = None  # the file it comes from (``< script.sh``)
    items: tuple[str, ...] | None = None  # paths a lister prints (``find ~ -name '*.pem'``), for xargs

    def merge(self, other: Flow) -> Flow:
        return Flow(self.taint | other.taint, None, None)


NO_FLOW = Flow()


@dataclass
class Invocation:
    argv: list[str]
    taints: list[frozenset[str]]
    raw: str
    via: tuple[str, ...] = ()
    assigns: dict[str, str] = field(default_factory=dict)
    redirects: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)
    stdin: Flow | None = None
    # argv index -> (taint, text) of a <(...) standing there, text when the analyzer could compute it
    procsubs: dict[int, tuple[frozenset[str], str | None]] = field(default_factory=dict)


def _implicit_names() -> frozenset[str]:
    from warden.core.analyze.implicit import IMPLICIT

    global _IMPLICIT_NAMES
    if _IMPLICIT_NAMES is None:
        _IMPLICIT_NAMES = frozenset(IMPLICIT)
    return _IMPLICIT_NAMES


_IMPLICIT_NAMES: frozenset[str] | None = None


def show(arg: str) -> str:
    if UNKNOWN not in arg and NAME not in arg:
        return arg
    return arg.replace(UNKNOWN, "⟨?⟩").replace(NAME, "⟨name⟩")


@dataclass
class Cmd:
    """A simple command being analyzed: argv without wrappers, and the CommandInfo to fill."""

    session: Session
    inv: Invocation
    argv: list[str]
    taints: list[frozenset[str]]
    via: tuple[str, ...]
    info: CommandInfo
    out: Flow = NO_FLOW

    @property
    def program(self) -> str:
        return self.info.program

    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    def taint_of(self, index: int) -> frozenset[str]:
        return self.taints[index] if index < len(self.taints) else frozenset()

    def all_taint(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for t in self.taints:
            out |= t
        return out

    def fact(self, kind: str, detail: str = "", **data: Any) -> None:
        for f in self.info.facts:
            if f.kind == kind and f.detail == detail:
                return
        self.info.facts.append(Fact(kind, detail, data))

    def has(self, kind: str) -> bool:
        return any(f.kind == kind for f in self.info.facts)

    def opaque(self, why: str) -> None:
        self.info.opaque = True
        self.fact("exec.opaque", why)

    def host(self, host: str) -> None:
        host = host.lower().rstrip(".")
        if host and host not in self.info.hosts:
            self.info.hosts.append(host)
            from warden.core.analyze.urls import is_metadata_host

            if is_metadata_host(host):
                self.fact("net.metadata", f"talks to a cloud instance-metadata endpoint, which hands out the "
                          f"machine's credentials: {host}", host=host)

    def path(self, raw: str, access: Access, *, op: str = "") -> list[PathRef]:
        """Resolve ``raw`` against every possible cwd and record it; unknown targets become facts."""
        refs = self.session.resolve(raw, access)
        if refs is None:
            if access != Access.READ:
                self.fact("fs.unresolved_target", f"cannot tell which path `{show(raw)}` names ({access.value})",
                          arg=show(raw), access=access.value)
            return []
        for ref in refs:
            if ref not in self.info.paths:
                self.info.paths.append(ref)
            if access == Access.WRITE and ref.path.rsplit("/", 1)[-1] in _implicit_names():
                from warden.core.analyze.implicit import note_write

                note_write(self, ref.path)
            if op:
                from warden.core.analyze.paths import critical_facts

                for f in critical_facts(ref, self.session.env, self.session.workspace, op):
                    self.fact(f.kind, f.detail, **f.data)
        return refs

    def nested(self, argv: list[str], taints: list[frozenset[str]] | None = None, via: str = "",
               stdin: Flow | None = None) -> list[Cmd]:
        """Analyze a command this one runs (``find -exec``, ``xargs``, ``sudo``...)."""
        inv = Invocation(argv=argv, taints=taints or [frozenset()] * len(argv), raw=self.inv.raw,
                         via=self.via + ((via,) if via else ()), stdin=stdin if stdin is not None else self.inv.stdin)
        ran = self.session.run(inv)
        # what the wrapped command prints is what this command prints (sudo, timeout, busybox ...)
        for c in ran:
            if c.out.taint or c.out.text is not None:
                self.out = Flow(self.out.taint | c.out.taint, c.out.text if len(ran) == 1 else None)
        return ran

    def shell(self, text: str, via: str, stdin: Flow | None = None) -> list[Cmd]:
        """Analyze shell code this command runs (``bash -c``, ``eval``, a trap, an alias...)."""
        return self.session.analyze_text(text, (*self.via, via), stdin=stdin)

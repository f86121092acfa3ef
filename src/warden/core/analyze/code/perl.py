"""Perl front end: a bounded tokenizer (there is no maintained tree-sitter grammar on PyPI for it).

Perl's syntax needs its own runtime to parse exactly, so this reads it the way the shell
analysis reads words: string literals with interpolation (``"$ENV{HOME}/x"``), ``.``
concatenation, scalar variables assigned from those, and calls written ``name(...)`` or
``name ARGS;`` whose name is in the ``perl`` part of ``specs/code_apis.yaml``. Backquotes and
``qx`` run shell commands. Whatever it cannot evaluate is unknown.
"""

from __future__ import annotations

from typing import Any

from warden.core.analyze.code import MAX_NODES, apis
from warden.core.analyze.code.effects import Effects, apply, concat, printf_format
from warden.core.analyze.words import UNKNOWN

_PAIRS = {"(": ")", "{": "}", "[": "]", "<": ">", "/": "/", "|": "|", "!": "!"}


def _tokens(code: str) -> list[tuple[str, str]]:
    """(kind, text): str, word, var, op, punct. Linear; at most MAX_NODES tokens."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(code)
    while i < n and len(out) < MAX_NODES:
        c = code[i]
        if c in " \t\r\n":
            i += 1
        elif c == "#":
            j = code.find("\n", i)
            i = n if j < 0 else j
        elif c in "'\"`":
            j = i + 1
            buf = []
            while j < n and code[j] != c:
                if code[j] == "\\" and j + 1 < n:
                    buf.append(code[j:j + 2])
                    j += 2
                    continue
                buf.append(code[j])
                j += 1
            out.append(("sq" if c == "'" else "bq" if c == "`" else "dq", "".join(buf)))
            i = j + 1
        elif c == "q" and code[i:i + 2] in ("qq", "qx", "qw") and i + 2 < n and code[i + 2] in _PAIRS:
            kind, close = code[i:i + 2], _PAIRS[code[i + 2]]
            j = code.find(close, i + 3)
            j = n if j < 0 else j
            out.append(({"qq": "dq", "qx": "bq", "qw": "qw"}[kind], code[i + 3:j]))
            i = j + 1
        elif c in "$@%" and i + 1 < n and (code[i + 1].isalnum() or code[i + 1] in "_{:"):
            j = i + 1
            while j < n and (code[j].isalnum() or code[j] in "_:"):
                j += 1
            name = code[i:j]
            if j < n and code[j] == "{":  # $ENV{HOME}
                k = code.find("}", j)
                if k > 0:
                    name += code[j:k + 1]
                    j = k + 1
            out.append(("var", name))
            i = j
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (code[j].isalnum() or code[j] in "_:" or code[j:j + 2] == "->"):
                j += 2 if code[j:j + 2] == "->" else 1
            out.append(("word", code[i:j]))
            i = j
        else:
            out.append(("op", c))
            i += 1
    return out


class _Perl:
    def __init__(self, fx: Effects) -> None:
        self.fx = fx
        self.vars: dict[str, Any] = {}
        self.table = apis()["perl"]

    def interpolate(self, s: str) -> str:
        out, i = "", 0
        while i < len(s):
            if s[i] == "\\" and i + 1 < len(s):
                out += {"n": "\n", "t": "\t"}.get(s[i + 1], s[i + 1])
                i += 2
            elif s[i] in "$@" and i + 1 < len(s) and (s[i + 1].isalnum() or s[i + 1] in "_{"):
                j = i + 1
                if s[j] == "{":
                    k = s.find("}", j)
                    name, j = "$" + s[j + 1:k], k + 1
                else:
                    while j < len(s) and (s[j].isalnum() or s[j] == "_"):
                        j += 1
                    name = s[i:j]
                    if j < len(s) and s[j] == "{":
                        k = s.find("}", j)
                        if k > 0:
                            name, j = name + s[j:k + 1], k + 1
                out = concat(out, self.var(name))
                i = j
            else:
                out += s[i]
                i += 1
        return out

    def var(self, name: str) -> Any:
        if name in ("$ENV{HOME}", "$ENV{'HOME'}", '$ENV{"HOME"}'):
            return self.fx.home
        if name in self.vars:
            return self.vars[name]
        if name.startswith("$ENV{"):
            return "${" + name[5:-1].strip("'\"") + "}"  # the environment variable, as the shell would see it
        if name[1:].isidentifier() and name[1:].isupper():
            # an unassigned upper-case scalar is most likely meant as the shell's variable of that name
            return "${" + name[1:] + "}"
        return UNKNOWN

    def value(self, toks: list[tuple[str, str]], i: int) -> tuple[Any, int]:
        """An expression of strings, variables and `.` from token i; (value, next index)."""
        val: Any = None
        first = True
        while i < len(toks):
            kind, t = toks[i]
            if kind == "sq":
                part: Any = t.replace("\\'", "'")
            elif kind == "dq":
                part = self.interpolate(t)
            elif kind == "var":
                part = self.var(t)
            elif kind == "word" and t == "sprintf" and i + 1 < len(toks):
                k = i + 2 if toks[i + 1] == ("op", "(") else i + 1
                fmt, i = self.value(toks, k)
                part = printf_format(fmt)
                i -= 1
            elif kind == "word" and t == "glob" and i + 1 < len(toks):
                k = i + 2 if toks[i + 1] == ("op", "(") else i + 1
                part, i = self.value(toks, k)
                i -= 1
            else:
                break
            val = part if first else concat(val, part)
            first = False
            i += 1
            if i < len(toks) and toks[i] == ("op", ".") :
                i += 1
                continue
            break
        return val, i

    def args(self, toks: list[tuple[str, str]], i: int) -> list[Any]:
        out: list[Any] = []
        paren = i < len(toks) and toks[i] == ("op", "(")
        if paren:
            i += 1
        while i < len(toks) and len(out) < 16:
            if toks[i] in (("op", ")"), ("op", ";")):
                break
            if toks[i] == ("op", ","):
                i += 1
                continue
            if toks[i][0] == "word" and toks[i][1] == "my":
                i += 1
                continue
            v, j = self.value(toks, i)
            if j == i:
                out.append(None)
                depth = 0
                while i < len(toks) and not (depth == 0 and toks[i] in (("op", ","), ("op", ")"), ("op", ";"))):
                    depth += {"(": 1, ")": -1}.get(toks[i][1], 0) if toks[i][0] == "op" else 0
                    i += 1
                continue
            out.append(v)
            i = j
        return out

    def run(self, code: str) -> None:
        toks = _tokens(code)
        for i, (kind, t) in enumerate(toks):  # scalar assignments: my $h = "...";
            if kind == "var" and i + 2 < len(toks) and toks[i + 1] == ("op", "=") and toks[i + 2][0] in ("sq", "dq", "var"):
                v, _ = self.value(toks, i + 2)
                self.vars.setdefault(t, v)
        for i, (kind, t) in enumerate(toks):
            if kind == "bq":
                self.fx.shell(self.interpolate(t))
            elif kind == "word":
                name = t.split("->")[0] if "->new" in t else t
                spec = self.table.get(t) or self.table.get(name)
                if spec is None or (i > 0 and toks[i - 1] in (("op", "$"), ("op", "&"))):
                    continue
                if i > 0 and toks[i - 1][0] == "word" and toks[i - 1][1] in ("use", "sub", "require"):
                    continue
                effect, pos = spec
                args = self.args(toks, i + 1)
                if t == "open" and args:
                    self.open(args)
                    continue
                apply(self.fx, effect, pos, args)

    def open(self, args: list[Any]) -> None:
        """open(FH, MODE, PATH) or open(FH, "<PATH"): reads, writes or runs (pipes)."""
        rest = args[1:]
        if len(rest) >= 2 and isinstance(rest[0], str):
            mode, target = rest[0].strip(), rest[1]
        elif rest and isinstance(rest[0], str):
            spec = rest[0].strip()
            mode = spec[:2] if spec.startswith((">>", "+<", "+>")) else spec[:1] if spec[:1] in "<>|" else "<"
            target = spec[len(mode):].strip() if spec[:1] in "<>|+" else spec
            if spec.endswith("|"):
                mode, target = "|", spec[:-1]
        else:
            return
        if "|" in mode:
            self.fx.shell(target)
        elif ">" in mode or "+" in mode:
            self.fx.write(target)
        else:
            self.fx.read(target)


def run_perl(fx: Effects, code: str) -> bool:
    _Perl(fx).run(code)
    return True

"""Shell word evaluation: what a word means after quoting, escapes and expansions.

A word evaluates to a list of *alternatives* (``for d in / ~`` gives ``$d`` two values), each a
list of fields (unquoted expansions split on whitespace). Text the analyzer cannot know — an
unset variable, ``$(...)`` output it cannot compute — is the :data:`UNKNOWN` character, so a
caller can tell ``rm $X`` (unknown target) from ``rm x``.

Everything is bounded: at most :data:`MAX_ALTS` alternatives per word and :data:`MAX_TEXT`
characters per value; beyond that a value collapses to UNKNOWN. No regexes on input text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable
import itertools

UNKNOWN = "\x00"
# A computed *file name* (one path component, no slash): `$(basename "$f")`. Paths treat it as `*`.
NAME = "\x06"
# Private markers for unquoted syntax that matters after concatenation.
_LB, _COMMA, _RB, _SPLIT = "\x01", "\x02", "\x03", "\x04"
MAX_ALTS = 16
MAX_TEXT = 8192

Vars = dict[str, "list[str] | None"]


@dataclass
class WordCtx:
    """What evaluation may know: tracked variables, the home dir, and a ``$(...)`` evaluator."""

    vars: Vars
    home: str
    cwd: str
    subst: Callable[[Any], str | None]  # command_substitution node -> its output, if computable
    taint: set[str] = field(default_factory=set)  # filled by subst: net / decode / secret / dynamic
    var_taint: dict[str, frozenset[str]] = field(default_factory=dict)  # where tracked variables came from
    warden_home: str = ""
    arrays: dict[str, list[str]] = field(default_factory=dict)  # tracked arrays: a=(rm -rf ~)


def text(node: Any) -> str:
    return node.text.decode("utf-8", "replace")


def _unescape_unquoted(s: str) -> str:
    if "\\" not in s and "{" not in s and "," not in s and "}" not in s:
        return s  # the common case: nothing to undo or mark
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n:
            if s[i + 1] != "\n":
                out.append(_mark(s[i + 1], quoted=True))
            i += 2
            continue
        out.append(_mark(c, quoted=False))
        i += 1
    return "".join(out)


def _mark(c: str, quoted: bool) -> str:
    if quoted:
        return c
    return {"{": _LB, ",": _COMMA, "}": _RB}.get(c, c)


def _unescape_double(s: str) -> str:
    if "\\" not in s:
        return s
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in '$`"\\\n':
            if s[i + 1] != "\n":
                out.append(s[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


_SIMPLE_ESC = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f",
               "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
_HEX = "0123456789abcdefABCDEF"


def decode_ansi_c(body: str) -> str:
    """Decode the inside of ``$'...'`` (bash's ANSI-C quoting)."""
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        i += 2
        if e in _SIMPLE_ESC:
            out.append(_SIMPLE_ESC[e])
        elif e == "x":
            j = i
            while j < n and j < i + 2 and body[j] in _HEX:
                j += 1
            out.append(chr(int(body[i:j], 16)) if j > i else "\\x")
            i = j
        elif e in "uU":
            j, limit = i, i + (4 if e == "u" else 8)
            while j < n and j < limit and body[j] in _HEX:
                j += 1
            try:
                out.append(chr(int(body[i:j], 16)) if j > i else "\\" + e)
            except (ValueError, OverflowError):
                out.append(UNKNOWN)
            i = j
        elif e in "01234567":
            j = i - 1
            while j < n and j < i + 2 and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i - 1:j], 8) & 0xFF))
            i = j
        elif e == "c" and i < n:
            out.append(chr(ord(body[i]) & 0x1F))
            i += 1
        else:
            out.append("\\" + e)
    return "".join(out)


def _product(a: list[str], b: list[str]) -> list[str]:
    if len(a) * len(b) > MAX_ALTS:
        return [UNKNOWN]
    out = [x + y for x in a for y in b]
    return [o if len(o) <= MAX_TEXT else UNKNOWN for o in out]


def _var(name: str, ctx: WordCtx) -> list[str]:
    if name in ctx.var_taint:
        ctx.taint.update(ctx.var_taint[name])
    if name not in ctx.vars and _secret_name(name):
        ctx.taint.add("secret_env")
    if name in ctx.vars:
        v = ctx.vars[name]
        return [UNKNOWN] if v is None else list(v)
    if name == "HOME":
        return [ctx.home]
    if name == "PWD":
        return [ctx.cwd]
    if name in ("TMPDIR", "TMP", "TEMP"):
        return ["/tmp"]
    if name == "WARDEN_HOME" and ctx.warden_home:
        return [ctx.warden_home]
    return [UNKNOWN]


def _secret_name(name: str) -> bool:
    up = name.upper()
    return any(k in up for k in ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "PRIVATE_KEY",
                                 "ACCESS_KEY", "CREDENTIAL", "SESSION_KEY", "AUTH_KEY"))


def _split_mark(values: list[str], ctx: WordCtx | None = None) -> list[str]:
    """An unquoted expansion is split into fields on $IFS (whitespace unless the script set it)."""
    ifs = None
    if ctx is not None and "IFS" in ctx.vars and len(ctx.vars["IFS"]) == 1 and UNKNOWN not in ctx.vars["IFS"][0]:
        ifs = ctx.vars["IFS"][0]
    out = []
    for v in values:
        if v == UNKNOWN:
            out.append(v)
        elif ifs is not None:
            parts = [v]
            for ch in ifs:
                parts = [q for p in parts for q in p.split(ch)]
            out.append(_SPLIT.join(p for p in parts if p))
        else:
            out.append(_SPLIT.join(v.split()) if v.strip() else "")
    return out


def _children_with_gaps(node: Any) -> list[Any]:
    """Children plus raw text between them (tree-sitter leaves some literal text unnamed)."""
    items: list[Any] = []
    pos = node.start_byte
    raw = node.text
    base = node.start_byte
    for ch in node.children:
        if ch.start_byte > pos:
            items.append(raw[pos - base:ch.start_byte - base].decode("utf-8", "replace"))
        items.append(ch)
        pos = ch.end_byte
    if pos < node.end_byte:
        items.append(raw[pos - base:].decode("utf-8", "replace"))
    return items


def evaluate(node: Any, ctx: WordCtx, quoted: bool = False, first: bool = True) -> list[str]:
    """Alternatives for one syntax node, with private markers still in place."""
    t = node.type
    if t == "word" or t == "number" or t == "special_variable_name" or t == "variable_name":
        s = text(node)
        if quoted:
            return [_unescape_double(s)]
        if first and s.startswith("~"):
            return _tilde(s, ctx)
        return [_unescape_unquoted(s)]
    if t == "raw_string":
        return [text(node)[1:-1]]
    if t == "ansi_c_string":
        return [decode_ansi_c(text(node)[2:-1])]
    if t == "string" or t == "translated_string" or t == "heredoc_body":
        alts = [""]
        for item in _children_with_gaps(node):
            if isinstance(item, str):
                piece = [_unescape_double(item.replace('"', "") if t != "heredoc_body" else item)]
            elif item.type in ('"', "$"):
                continue
            elif item.type in ("string_content", "heredoc_content"):
                piece = [_unescape_double(text(item))]
            elif item.type == "string":
                piece = evaluate(item, ctx, quoted=True)
            else:
                piece = evaluate(item, ctx, quoted=True, first=False)
            alts = _product(alts, piece)
        return alts
    if t == "concatenation":
        alts = [""]
        for i, item in enumerate(_children_with_gaps(node)):
            piece = [_unescape_unquoted(item)] if isinstance(item, str) else evaluate(item, ctx, quoted, i == 0)
            alts = _product(alts, piece)
        return alts
    if t == "simple_expansion":
        s = text(node)[1:]
        values = _var(s, ctx)
        # "$@" keeps one word per element even inside quotes
        return values if quoted and s != "@" else _split_mark(values, ctx)
    if t == "expansion":
        values = _expansion(node, ctx)
        body = text(node)
        every = body.endswith(("[@]}", "@}"))  # "${a[@]}", "${@}": one word per element
        return values if quoted and not every else _split_mark(values, ctx)
    if t == "command_substitution":
        out = ctx.subst(node)
        if out is None:
            return [UNKNOWN]
        out = out.rstrip("\n")
        return [out] if quoted else _split_mark([out], ctx)
    if t == "process_substitution":
        return ["/dev/fd/63"]
    if t == "brace_expression":
        # {1..3} is several words, not several possibilities: mark it as a brace list
        values = _brace_range(text(node))
        return [values[0] if len(values) == 1 else _LB + _COMMA.join(values) + _RB]
    if t == "arithmetic_expansion":
        return [UNKNOWN]
    return [text(node)]


def _tilde(s: str, ctx: WordCtx) -> list[str]:
    head, sep, rest = s.partition("/")
    user = head[1:]
    if user == "":
        base = _var("HOME", ctx)[0]
    elif user == "root":
        base = "/root"
    elif user in ("+", "-"):
        base = ctx.cwd
    else:
        base = UNKNOWN
    return [base + sep + _unescape_unquoted(rest)]


def _brace_range(s: str) -> list[str]:
    inner = s[1:-1]
    a, _, b = inner.partition("..")
    b = b.split("..")[0]
    try:
        lo, hi = int(a), int(b)
    except ValueError:
        if len(a) == 1 and len(b) == 1:
            lo, hi = ord(a), ord(b)
            step = 1 if hi >= lo else -1
            if abs(hi - lo) >= MAX_ALTS:
                return [UNKNOWN]
            return [chr(c) for c in range(lo, hi + step, step)]
        return [s]
    step = 1 if hi >= lo else -1
    if abs(hi - lo) >= MAX_ALTS:
        return [UNKNOWN]
    return [str(v) for v in range(lo, hi + step, step)]


_DEFAULT_OPS = (":-", "-", ":=", "=", ":?", "?")


def _expansion(node: Any, ctx: WordCtx) -> list[str]:
    body = text(node)[2:-1]
    if body.startswith("!"):
        return [UNKNOWN]  # indirection: the name itself comes from data
    length = body.startswith("#") and len(body) > 1
    if length:
        body = body[1:]
    i = 0
    while i < len(body) and (body[i].isalnum() or body[i] == "_"):
        i += 1
    if i == 0 and body[:1] in "@*#?$!-0":
        i = 1
    name, rest = body[:i], body[i:]
    if not name:
        return [UNKNOWN]
    if rest.startswith("[") and "]" in rest:
        index, rest = rest[1:rest.index("]")], rest[rest.index("]") + 1:]
        elements = ctx.arrays.get(name)
        if elements is None:
            return [UNKNOWN]
        if index in ("@", "*"):
            values = [" ".join(elements)]
        elif index.isdigit() and int(index) < len(elements):
            values = [elements[int(index)]]
        else:
            return [UNKNOWN]
        if length:
            return [str(len(elements))] if index in ("@", "*") else [str(len(values[0]))]
        return values if not rest else [UNKNOWN]
    values = _var(name, ctx)
    known = (name in ctx.vars and ctx.vars[name] is not None) or name in ("HOME", "PWD")
    if length:
        return [str(len(v)) if v != UNKNOWN else UNKNOWN for v in values]
    if rest == "":
        return values
    for op in (":-", ":=", ":?", ":+", "-", "=", "?", "+"):
        if rest.startswith(op):
            operand = _operand(node, ctx)
            if op.endswith("+"):
                if known:
                    return operand if all(v for v in values) else [""]
                return ["", *operand]
            if op in _DEFAULT_OPS:
                if known and all(v for v in values):
                    return values
                return operand if known else values + operand
    if any(v == UNKNOWN for v in values):
        return [UNKNOWN]
    try:
        return [_transform(v, rest) for v in values]
    except _Unknown:
        return [UNKNOWN]


def _operand(node: Any, ctx: WordCtx) -> list[str]:
    parts = [c for c in node.named_children if c.type not in ("variable_name", "special_variable_name")]
    if not parts:
        return [""]
    alts = [""]
    for p in parts:
        alts = _product(alts, evaluate(p, ctx, quoted=True, first=False))
    return alts


class _Unknown(Exception):
    pass


def _has_glob(s: str) -> bool:
    return "*" in s or "?" in s or "[" in s


def _transform(v: str, op: str) -> str:
    if op.startswith(":"):
        parts = op[1:].split(":")
        try:
            off = int(parts[0].strip() or 0)
            ln = int(parts[1]) if len(parts) > 1 and parts[1].strip() else None
        except ValueError:
            raise _Unknown from None
        s = v[off:] if off >= 0 else v[len(v) + off:]
        if ln is not None:
            s = s[:ln]  # bash: a negative length counts back from the end, as slicing does
        return s
    if op in ("^^", ",,", "^", ","):
        return {"^^": v.upper(), ",,": v.lower(), "^": v[:1].upper() + v[1:], ",": v[:1].lower() + v[1:]}[op]
    if op.startswith("//") or op.startswith("/"):
        every = op.startswith("//")
        pat, _, rep = op[2 if every else 1:].partition("/")
        pat, rep = _strip_q(pat), _strip_q(rep)
        if _has_glob(pat) or not pat:
            raise _Unknown
        return v.replace(pat, rep) if every else v.replace(pat, rep, 1)
    for pre in ("##", "#", "%%", "%"):
        if op.startswith(pre):
            pat = _strip_q(op[len(pre):])
            if _has_glob(pat):
                raise _Unknown
            return v.removeprefix(pat) if pre.startswith("#") else v.removesuffix(pat)
    raise _Unknown


def _strip_q(s: str) -> str:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s.replace("\\", "")


def _brace_expand(s: str, budget: list[int]) -> list[str]:
    start = s.find(_LB)
    while start != -1:
        depth, j, commas = 0, start, []
        while j < len(s):
            c = s[j]
            if c == _LB:
                depth += 1
            elif c == _RB:
                depth -= 1
                if depth == 0:
                    break
            elif c == _COMMA and depth == 1:
                commas.append(j)
            j += 1
        if j >= len(s):
            break
        if commas:
            pre, post = s[:start], s[j + 1:]
            bounds = [start, *commas, j]
            out: list[str] = []
            for a, b in itertools.pairwise(bounds):
                for tail in _brace_expand(s[a + 1:b] + post, budget):
                    budget[0] -= 1
                    if budget[0] < 0:
                        return [UNKNOWN]
                    out.append(pre + tail)
            return out
        start = s.find(_LB, start + 1)
    return [s]


def _restore(s: str) -> str:
    if _LB not in s and _COMMA not in s and _RB not in s:
        return s
    return s.replace(_LB, "{").replace(_COMMA, ",").replace(_RB, "}")


def fields(node: Any, ctx: WordCtx) -> list[list[str]]:
    """All alternatives of a word, each a list of final fields (markers resolved)."""
    if node.type == "word" and node.child_count == 0:
        s = text(node)
        if not s.startswith("~") and "\\" not in s and "{" not in s and "," not in s and "}" not in s:
            return [[s]]  # the common case: a plain word is itself
    result: list[list[str]] = []
    for alt in evaluate(node, ctx):
        words: list[str] = []  # brace expansion makes several words of one alternative
        for expanded in _brace_expand(alt, [64]) if _LB in alt else [alt]:
            expanded = _restore(expanded)
            if _SPLIT in expanded:
                words += [f for f in expanded.split(_SPLIT) if f]
            else:
                words.append(expanded)
        result.append(words)
        if len(result) > MAX_ALTS:
            return [[UNKNOWN]]
    return result


def flat(node: Any, ctx: WordCtx) -> list[str]:
    """Every field any alternative may produce (for arguments, where the union is what matters)."""
    out: list[str] = []
    for alt in fields(node, ctx):
        for f in alt:
            if f not in out:
                out.append(f)
    return out


def single(node: Any, ctx: WordCtx) -> str:
    """One value for contexts that take a single string (assignments, redirect targets)."""
    alts = fields(node, ctx)
    if len(alts) == 1:
        return " ".join(alts[0])
    return UNKNOWN


def literal_text(node: Any, ctx: WordCtx) -> str | None:
    """The word's value when it is fully known and unambiguous, else None."""
    v = single(node, ctx)
    return None if UNKNOWN in v else v

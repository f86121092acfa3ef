"""The tree-sitter-bash parser, built once per process on first use, and input bounds.

Importing this module is cheap; the grammar loads only when a command is first parsed,
so hook processes that never see a Bash action pay nothing.
"""

from __future__ import annotations

from typing import Any

# Bounds on untrusted input (house rule 7). A command longer than this is not parsed at all:
# the analyzer reports it as too large and opaque. Agents do not send 100 KB one-liners.
MAX_COMMAND_CHARS = 100_000
# Nesting of syntax nodes we descend into, and of re-parsed strings (bash -c, eval, ...).
MAX_NODE_DEPTH = 200
MAX_REPARSE_DEPTH = 8
# Total syntax nodes visited for one action, across re-parses; the walk stops past it.
MAX_NODES = 60_000
# Simple commands reported for one action; a script with more is summarised as opaque.
MAX_COMMANDS = 2_000

# tree-sitter-bash is quadratic in some structures (long pipelines, many pending heredocs, nested
# arrays): 2,000 pipes take ~0.2 s, 20,000 take a minute. Text inside quotes and heredoc bodies is
# cheap. Past these counts of operators outside quotes the text is not parsed as a whole.
MAX_PIPES = 256
MAX_HEREDOCS = 64
MAX_STRUCTURE = 2_000

_parser: Any = None


def too_complex(text: str) -> str:
    """Why ``text`` would be too expensive to parse as a whole, or ''. One linear pass, no regexes."""
    # Fast path (C-speed counts): raw counts under the limits cannot exceed them outside quotes.
    if len(text) <= MAX_PIPES:
        return ""  # too short to exceed any limit
    raw_heredocs = text.count("<<")
    if text.count("|") <= MAX_PIPES and raw_heredocs <= MAX_HEREDOCS and sum(
            map(text.count, "(){}`;&\n")) <= MAX_STRUCTURE:
        return ""
    pipes = heredocs = structure = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "'":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if ch == "<" and text.startswith("<<", i) and not text.startswith("<<<", i):
            heredocs += 1
            i = _skip_heredoc(text, i + 2)
            continue
        if ch == "|":
            if text.startswith("||", i):
                i += 2
                structure += 1
                continue
            pipes += 1
        elif ch in "(){}`;&\n":
            structure += 1
        i += 1
    raw_heredocs = text.count("<<") - text.count("<<<")
    if raw_heredocs > 8 * MAX_HEREDOCS:  # even inside an unterminated heredoc body they cost quadratic time
        return f"{raw_heredocs} heredoc operators"
    if pipes > MAX_PIPES:
        return f"{pipes} pipes"
    if heredocs > MAX_HEREDOCS:
        return f"{heredocs} heredocs"
    if structure > MAX_STRUCTURE:
        return f"{structure} operators"
    return ""


def _skip_heredoc(text: str, i: int) -> int:
    """Past the body of the heredoc whose operator ended at ``i``."""
    n = len(text)
    if i < n and text[i] == "-":
        i += 1
    while i < n and text[i] in " \t":
        i += 1
    j = i
    while j < n and text[j] not in " \t\n;|&<>()":
        j += 1
    delim = text[i:j].strip("'\"\\")
    if not delim:
        return j
    eol = text.find("\n", j)
    if eol < 0:
        return n
    k = eol + 1
    while k < n:
        end = text.find("\n", k)
        line = text[k:] if end < 0 else text[k:end]
        if line.strip("\t") == delim:
            return n if end < 0 else end
        if end < 0:
            return n
        k = end + 1
    return n


def parser() -> Any:
    global _parser
    if _parser is None:
        import tree_sitter_bash
        from tree_sitter import Language, Parser

        _parser = Parser(Language(tree_sitter_bash.language()))
    return _parser


def sanitize(text: str) -> str:
    """Replace code points the grammar cannot take with U+FFFD.

    tree-sitter-bash 0.25's scanner crashes the process (SIGSEGV) on some characters beyond the
    Basic Multilingual Plane; lone surrogates (binary input) are not valid UTF-8 either. Neither
    is shell syntax, so replacing them changes only the spelling of a word, never its structure.
    """
    if text.isascii():
        return text
    return "".join(c if c < "\ud800" or "\ue000" <= c <= "\uffff" else "\ufffd" for c in text)


def parse(text: str) -> Any:
    """Parse ``text`` and return the root node (error tolerant: never raises on bad syntax)."""
    return parser().parse(sanitize(text).encode("utf-8")).root_node

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

_parser: Any = None


def parser() -> Any:
    global _parser
    if _parser is None:
        import tree_sitter_bash
        from tree_sitter import Language, Parser

        _parser = Parser(Language(tree_sitter_bash.language()))
    return _parser


def parse(text: str) -> Any:
    """Parse ``text`` and return the root node (error tolerant: never raises on bad syntax)."""
    return parser().parse(text.encode("utf-8", "surrogatepass")).root_node

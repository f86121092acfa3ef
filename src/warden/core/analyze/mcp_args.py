"""MCP tool calls as facts: what a call reads, writes or destroys, judged from its name and arguments.

This is the plug-in point for MCP argument analysis. The MCP integration calls
:func:`definition_context` once per tool definition it learns (a compact, string-only summary of the
untrusted hints and the schema's path/URL/SQL/command fields, carried in ``Action.context``), and the
analyzer dispatch calls :func:`analyze_mcp` for every ``mcp__server__tool`` action. Everything a
policy needs comes out as facts, so "read-only calls allow, writes ask, destructive deny" needs no
per-tool list:

``mcp.read`` / ``mcp.write`` / ``mcp.destructive``  the call's effect (the worst part wins in policy)
``mcp.unknown``    neither the name nor the arguments say what the call does (the policy default applies)
``mcp.poisoned``   the tool's definition carries hidden instructions (see :mod:`mcp_poison`)
``mcp.hint_*``     the server's own annotations (untrusted: they may only make a call look worse)

The argument roles of :mod:`warden.core.analyze.arguments` (SQL through its parser, URLs, the
tool's verb, ``tool.read_only``) are folded in, and its SQL verdicts count as effects
(``db.destroy`` destructive, other ``db.*`` changes writes). Pure: no I/O; every walk is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from warden.core.action import Action
from warden.core.analyze import AnalysisEnv
from warden.core.facts import Access, Analysis, Fact, PathRef

READ, WRITE, DESTRUCTIVE = "mcp.read", "mcp.write", "mcp.destructive"
_RANK = {READ: 1, WRITE: 2, DESTRUCTIVE: 3}

# Verbs in tool names, by effect. A destructive verb anywhere wins over a write verb, which wins
# over a read verb: "get_and_delete_item" is destructive.
_DESTRUCTIVE_VERBS = frozenset(
    "delete remove rm drop destroy purge truncate wipe erase reset revoke terminate kill uninstall "
    "unlink rmdir shred nuke force".split()
)
_WRITE_VERBS = frozenset(
    "create add update write edit set put post insert append move mv rename copy cp commit push merge "
    "upload send publish modify patch apply run exec execute start stop restart trigger toggle checkout "
    "init install deploy comment assign label close reopen approve import sync save store replace "
    "mkdir make new enable disable cancel invite transfer fork rebase cherry revert stage unstage".split()
)
_READ_VERBS = frozenset(
    "get list read search find query show describe fetch view status diff log head tail stat count "
    "check inspect lookup info explain browse print cat tree ls grep blame download export echo ping "
    "whoami validate preview summarize resolve".split()
)
# Argument names whose string values are paths, URLs, shell command lines or SQL.
_PATH_KEYS = frozenset(
    "path paths file files file_path filepath filename directory dir folder source destination dest "
    "target repo_path repository root cwd working_dir src dst".split()
)
_COMMAND_KEYS = frozenset("command cmd shell script commandline command_line".split())
_SQL_KEYS = frozenset("sql query statement statements".split())

_SQL_READ = frozenset("select show explain describe desc values pragma".split())
_SQL_DESTRUCTIVE = frozenset("delete drop truncate alter revoke grant".split())
_SQL_WRITE = frozenset("insert update merge create upsert replace copy call exec execute set lock vacuum".split())
_SQL_START = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*([A-Za-z]+)", re.S)
_SQL_LOOKS = re.compile(r"^\s*(select|insert|update|delete|drop|truncate|alter|create|with|merge|grant|revoke)\b",
                        re.I)
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")

_MAX_STRINGS = 2000  # argument strings looked at per call (the rest still reach the secrets scan)
_MAX_DEPTH = 16


def name_words(name: str) -> list[str]:
    return [w.lower() for w in _WORD_SPLIT.split(name) if w]


@lru_cache(maxsize=4096)
def effect_of_name(tool: str) -> str:
    """``mcp.read`` / ``mcp.write`` / ``mcp.destructive`` from the tool's own name, or ``""``."""
    words = set(name_words(tool))
    if words & _DESTRUCTIVE_VERBS:
        return DESTRUCTIVE
    if words & _WRITE_VERBS:
        return WRITE
    if words & _READ_VERBS:
        return READ
    return ""


def sql_effect(text: str) -> str:
    """The worst effect of the statements in ``text`` (split on ``;``; a CTE is judged by all its words)."""
    worst = ""
    for stmt in text.split(";")[:50]:
        m = _SQL_START.match(stmt)
        if not m:
            continue
        first = m.group(1).lower()
        words = set(name_words(stmt[:20000]))
        if first == "with":  # WITH x AS (...) DELETE FROM ... : the main statement is further on
            effect = (DESTRUCTIVE if words & {"delete", "drop", "truncate"} else
                      WRITE if words & {"insert", "update", "merge"} else READ)
        elif first in _SQL_DESTRUCTIVE:
            effect = DESTRUCTIVE
        elif first in _SQL_WRITE:
            effect = WRITE
        elif first in _SQL_READ:
            effect = WRITE if "into" in words and first == "select" else READ
        else:
            effect = WRITE  # a statement we do not know is not read-only
        if _RANK.get(effect, 0) > _RANK.get(worst, 0):
            worst = effect
    return worst


def definition_context(server: str, identity: str, definition: Mapping[str, Any]) -> dict[str, str]:
    """What the analyzer should know about a tool definition, as ``Action.context`` entries.

    Kept to strings so the action stays JSON and policies can match on it (``context: {mcp.server: [db]}``).
    """
    from warden.core.analyze.mcp_poison import poisoning

    ctx = {"mcp.server": server, "mcp.identity": identity}
    annotations = definition.get("annotations")
    if isinstance(annotations, Mapping):
        names = {"readOnlyHint": "read_only", "destructiveHint": "destructive", "openWorldHint": "open_world"}
        hints = [v for k, v in names.items() if annotations.get(k) is True]
        if hints:
            ctx["mcp.hints"] = ",".join(hints)
    kinds: dict[str, str] = {}
    schema = definition.get("inputSchema")
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if isinstance(props, Mapping):
        for key, spec in list(props.items())[:200]:
            if not isinstance(spec, Mapping):
                continue
            fmt = str(spec.get("format", "")).lower()
            desc = str(spec.get("description", ""))[:500].lower()
            if fmt in ("uri", "url", "iri") or "url" in name_words(key):
                kinds[key] = "url"
            elif fmt == "path" or "file path" in desc or "directory path" in desc:
                kinds[key] = "path"
            elif "sql" in desc or "sql" in name_words(key):
                kinds[key] = "sql"
    if kinds:
        ctx["mcp.args"] = ",".join(f"{k}:{v}" for k, v in sorted(kinds.items()) if "," not in k and ":" not in k)
    findings = poisoning(definition)
    if findings:
        ctx["mcp.poison"] = ",".join(sorted({f.data["check"] for f in findings}))
    return ctx


def _strings(value: Any, key: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif depth < _MAX_DEPTH and isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, str(k), depth + 1)
    elif depth < _MAX_DEPTH and isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v, key, depth + 1)


def analyze_mcp(action: Action, env: AnalysisEnv) -> Analysis:
    """Facts for one MCP call: its effect from name, hints and arguments; paths, hosts and commands."""
    from warden.core.analyze.paths import path_facts, resolve_path
    from warden.core.analyze.tools import host_of

    result = Analysis()
    tool = action.tool.split("__", 2)[-1] if action.tool.count("__") >= 2 else action.tool
    ctx = action.context
    effects: list[tuple[str, str]] = []
    by_name = effect_of_name(tool)
    if by_name:
        effects.append((by_name, f"the tool name {tool!r} says so"))
    hints = set(filter(None, ctx.get("mcp.hints", "").split(",")))
    for hint in sorted(hints):
        result.facts.append(Fact(f"mcp.hint_{hint}", f"the server annotates {tool!r} as {hint} (untrusted)"))
    if "destructive" in hints and not by_name:
        effects.append((WRITE, "the server annotates it as destructive"))
    declared = dict(p.split(":", 1) for p in ctx.get("mcp.args", "").split(",") if ":" in p)
    access = Access.WRITE if _RANK.get(by_name, 0) >= 2 else Access.READ
    for n, (key, text) in enumerate(_strings(action.input, "")):
        if n >= _MAX_STRINGS:
            result.facts.append(Fact("mcp.args_truncated", f"only the first {_MAX_STRINGS} argument strings were analyzed"))
            break
        lkey = key.lower()
        kind = declared.get(key, "")
        if lkey in _COMMAND_KEYS and text.strip():
            from warden.core.analyze.shell import analyze_shell

            shell = analyze_shell(text, action.cwd, action.workspace, env)
            result.commands.extend(shell.commands)
            result.facts.extend(shell.facts)
            effects.append((WRITE, f"argument {key!r} is a command line"))
        elif kind == "sql" or (lkey in _SQL_KEYS and _SQL_LOOKS.match(text)) or (_SQL_LOOKS.match(text) and ";" in text):
            effect = sql_effect(text)
            if effect:
                effects.append((effect, f"argument {key!r} is SQL ({effect.split('.')[1]})"))
        elif kind == "url" or text.startswith(("http://", "https://", "ftp://", "ws://", "wss://")):
            host = host_of(text)
            if host:
                result.hosts.append(host)
        elif text.startswith("file://") or ((kind == "path" or lkey in _PATH_KEYS) and text and len(text) < 4096 \
                and "\n" not in text):
            if text.startswith("file://"):
                from urllib.parse import unquote, urlsplit

                text = unquote(urlsplit(text).path) or "/"
            resolved, inside = resolve_path(text, action.cwd, action.workspace, env)
            ref = PathRef(path=resolved, access=access, in_workspace=inside, raw=text)
            result.paths.append(ref)
            result.facts.extend(path_facts(ref, env, action.workspace))
    _fold_argument_analysis(action, env, result, effects)
    if ctx.get("mcp.poison"):
        result.facts.append(Fact("mcp.poisoned", f"the definition of {tool!r} carries {ctx['mcp.poison']}",
                                 {"checks": ctx["mcp.poison"].split(",")}))
    if effects:
        worst = max(effects, key=lambda e: _RANK[e[0]])
        why = "; ".join(dict.fromkeys(w for e, w in effects if e == worst[0]))
        result.facts.append(Fact(worst[0], f"{tool}: {why}"))
    else:
        result.facts.append(Fact("mcp.unknown", f"neither the name nor the arguments of {tool!r} say what it does"))
    return result


_DB_WRITES = frozenset({"db.write", "db.mutate", "db.schema", "db.exec", "db.privilege"})


def _fold_argument_analysis(action: Action, env: AnalysisEnv, result: Analysis,
                            effects: list[tuple[str, str]]) -> None:
    """Add what :mod:`warden.core.analyze.arguments` knows (SQL through its parser, URLs, the tool's
    verb, ``tool.read_only``) to this analysis, and let its SQL verdicts count as effects.

    Annotations are not handed over: they are the server's untrusted word and must not make a
    call read-only. Paths and commands come from the walk above (no duplicates)."""
    from warden.core.analyze.arguments import analyze_arguments

    inner = analyze_arguments(action.tool, action.input, None, cwd=action.cwd, workspace=action.workspace, env=env)
    known = {(f.kind, f.detail) for f in result.facts}
    for f in inner.facts:
        if f.kind.startswith(("db.", "net.", "tool.")) and (f.kind, f.detail) not in known:
            result.facts.append(f)
            if f.kind == "db.destroy":
                effects.append((DESTRUCTIVE, f"the SQL analyzer says: {f.detail}"))
            elif f.kind in _DB_WRITES:
                effects.append((WRITE, f"the SQL analyzer says: {f.detail}"))
    result.hosts.extend(h for h in inner.hosts if h not in result.hosts)

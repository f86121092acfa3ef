"""Arguments of any tool (MCP tools above all), judged by their shape and the tool's inputSchema.

Every string in the arguments is given a role — shell command, SQL, path, URL, or plain data —
from the declared schema (a property's name, ``format``, ``description``) when there is one,
else from the argument's name and shape. Each role goes to the analysis that already knows it:
shell strings to the shell analyzer, SQL to :mod:`warden.core.analyze.sql`, paths to the path
classification (with the access the tool's verb implies), URLs to :mod:`warden.core.analyze.urls`.

``tool.read_only`` is added when the tool's name says it reads (``get_``, ``list_``, ``search``
...) or every SQL statement it carries only reads, and nothing in its arguments writes, runs or
leaves the machine; the recommended policy allows those and asks for the rest. The MCP
gateway calls :func:`analyze_arguments` with the server's schema and annotations; the Claude
Code hook calls it without (the shapes alone).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from warden.core.analyze import AnalysisEnv
from warden.core.analyze.paths import path_facts, resolve_path
from warden.core.analyze.sql import looks_like_sql, sql_facts
from warden.core.analyze.urls import url_facts
from warden.core.facts import Access, Analysis, Fact, PathRef

MAX_DEPTH = 8
MAX_STRINGS = 256
MAX_STRING_CHARS = 100_000
SHELL_KEYS = frozenset({"command", "cmd", "script", "shell", "bash", "sh", "run", "exec", "commandline",
                        "command_line", "shell_command", "cmdline", "args"})
ARGV_KEYS = frozenset({"argv", "args", "arguments", "command", "cmd"})
SQL_KEYS = frozenset({"sql", "query", "statement", "stmt", "sql_query", "queries", "statements"})
PATH_KEYS = frozenset({"path", "file", "file_path", "filepath", "filename", "target", "dir", "directory", "source",
                       "destination", "dest", "src", "dst", "paths", "folder", "root", "cwd", "notebook_path",
                       "from", "to", "old_path", "new_path"})
URL_KEYS = frozenset({"url", "uri", "href", "endpoint", "link", "urls", "webhook", "base_url", "website"})
READ_VERBS = ("get", "list", "search", "read", "describe", "fetch", "find", "show", "view", "count", "lookup",
              "resolve", "explain", "status", "inspect", "query", "browse", "retrieve", "check", "info", "head",
              "diff", "tree", "stat", "download", "lint", "validate", "preview", "summarize", "analyze")
WRITE_VERBS = ("write", "create", "update", "edit", "put", "set", "add", "append", "move", "rename", "copy",
               "upload", "save", "patch", "insert", "replace", "push", "commit", "merge", "publish", "deploy",
               "send", "post", "comment", "close", "open", "fork", "star", "assign", "label", "apply")
DELETE_VERBS = ("delete", "remove", "drop", "destroy", "purge", "truncate", "erase", "wipe", "clear", "kill",
                "terminate", "unlink", "rm", "uninstall", "revoke", "archive")
EXEC_VERBS = ("execute", "exec", "run", "eval", "evaluate", "invoke", "call", "spawn", "shell", "terminal", "start")
# Facts from arguments that do not stop a read-only verdict (they describe, not act)
HARMLESS_KINDS = frozenset({"db.read", "net.public_read", "path.outside_workspace", "tool.verb"})
# Browser tools (playwright, puppeteer MCP servers): looking at a page is a read when every URL
# they are given is this machine's dev server or public documentation
BROWSE_VERBS = ("browser", "navigate", "goto", "screenshot", "snapshot", "visit", "render", "capture")


def tool_verb(tool: str) -> str:
    """``mcp__github__get_issue`` -> ``get``; ``mcp__db__execute_sql`` -> ``execute``."""
    name = tool.rsplit("__", 1)[-1] if "__" in tool else tool
    words = name.replace("-", "_").replace(".", "_")
    out, buf = [], ""
    for ch in words:  # split camelCase too: getIssue -> get, issue
        if ch == "_" or (ch.isupper() and buf and not buf[-1].isupper()):
            if buf:
                out.append(buf.lower())
            buf = "" if ch == "_" else ch
        else:
            buf += ch
    if buf:
        out.append(buf.lower())
    return out[0] if out else ""


def _verb_access(tool: str) -> tuple[str, Access]:
    name = tool.rsplit("__", 1)[-1].lower()
    verb = tool_verb(tool)
    if verb in DELETE_VERBS or any(f"_{v}" in name for v in DELETE_VERBS[:4]):
        return "delete", Access.DELETE
    if verb in WRITE_VERBS:
        return "write", Access.WRITE
    if verb in EXEC_VERBS:
        return "exec", Access.EXEC
    if verb in READ_VERBS:
        return "read", Access.READ
    return "other", Access.READ


def _schema_role(prop: Mapping[str, Any] | None) -> str:
    if not isinstance(prop, Mapping):
        return ""
    fmt = str(prop.get("format") or "").lower()
    if fmt in ("uri", "url", "iri", "uri-reference"):
        return "url"
    desc = str(prop.get("description") or "").lower()[:400]
    if "sql" in desc:
        return "sql"
    if "shell" in desc or "command line" in desc or "command to run" in desc or "bash" in desc:
        return "shell"
    if "url" in desc or "uri" in desc:
        return "url"
    if "path" in desc or "file" in desc or "directory" in desc:
        return "path"
    return ""


def _key_role(key: str, value: str) -> str:
    k = key.lower().split(".")[-1].split("[")[0]
    v = value.strip()
    if k in URL_KEYS or (("://" in v[:16]) and " " not in v):
        return "url"
    if k in SQL_KEYS:
        return "sql" if looks_like_sql(v) else ""
    if (looks_like_sql(v) and ";" in v) or (looks_like_sql(v) and k not in ("q", "text", "body", "title", "message")
                                         and any(w in v.upper() for w in (" FROM ", " TABLE ", " INTO ", " SET "))):
        return "sql"
    if k in SHELL_KEYS:
        return "shell"
    if k in PATH_KEYS or (v.startswith(("/", "~/")) and " " not in v and "\n" not in v and len(v) < 4096):
        return "path"
    return ""


class _Walk:
    def __init__(self, tool: str, cwd: str, workspace: str, env: AnalysisEnv, schema: Mapping[str, Any] | None):
        self.tool, self.cwd, self.workspace, self.env = tool, cwd, workspace, env
        self.schema = schema if isinstance(schema, Mapping) else None
        self.result = Analysis()
        self.strings = 0
        self.verb, self.access = _verb_access(tool)
        self.saw_sql = False
        self.saw_shell = False

    def fact(self, f: Fact) -> None:
        if f not in self.result.facts:
            self.result.facts.append(f)

    def walk(self, value: Any, key: str, prop: Mapping[str, Any] | None, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.fact(Fact("tool.args_too_deep", f"arguments nested deeper than {MAX_DEPTH} levels are not read"))
            return
        if isinstance(value, (Mapping, list)) and len(value) > 128:
            self.fact(Fact("tool.args_too_large", f"argument {key or 'list'} has {len(value)} entries; "
                           "only the first 128 are read"))
        if isinstance(value, Mapping):
            props = prop.get("properties") if isinstance(prop, Mapping) else None
            for k, v in list(value.items())[:128]:
                sub = props.get(k) if isinstance(props, Mapping) else None
                self.walk(v, f"{key}.{k}" if key else str(k), sub, depth + 1)
        elif isinstance(value, list):
            items = prop.get("items") if isinstance(prop, Mapping) else None
            last = key.rsplit(".", 1)[-1].lower()
            if last in ARGV_KEYS and value and all(isinstance(v, str) for v in value):
                self.shell(shlex.join(value[:256]), key)  # an argv list
                return
            for i, v in enumerate(value[:128]):
                self.walk(v, f"{key}[{i}]", items if isinstance(items, Mapping) else None, depth + 1)
        elif isinstance(value, str):
            self.strings += 1
            if self.strings > MAX_STRINGS:
                if self.strings == MAX_STRINGS + 1:
                    self.fact(Fact("tool.args_too_large", f"more than {MAX_STRINGS} strings; the rest are not read"))
                return
            if len(value) > MAX_STRING_CHARS:
                self.fact(Fact("tool.args_too_large", f"argument {key} has {len(value)} characters; not analyzed"))
                return
            self.string(value, key, prop)

    def string(self, value: str, key: str, prop: Mapping[str, Any] | None) -> None:
        role = _schema_role(prop) or _key_role(key, value)
        if role == "shell":
            self.shell(value, key)
        elif role == "sql":
            self.saw_sql = True
            for f in sql_facts(value, key):
                self.fact(f)
        elif role == "url":
            host, facts = url_facts(value, key)
            if host and host not in self.result.hosts:
                self.result.hosts.append(host)
            for f in facts:
                self.fact(f)
                if f.kind == "net.file_url":
                    self.path(str(f.data.get("path") or ""), Access.READ)
        elif role == "path":
            self.path(value, self.access if self.access != Access.EXEC else Access.READ)

    def shell(self, command: str, key: str) -> None:
        from warden.core.analyze.shell import analyze_shell

        self.saw_shell = True
        program = self.tool.rsplit("__", 1)[-1]
        if key.rsplit(".", 1)[-1].lower() in ("args", "arguments", "argv") and program.replace("-", "").isalnum() \
                and not command.lstrip().startswith(program) and program.lower() not in EXEC_VERBS:
            # mcp__k8s__kubectl {args: "delete ns prod"}: a tool named after a program takes its arguments
            command = f"{program} {command}"
        inner = analyze_shell(command, self.cwd, self.workspace, self.env)
        self.result.commands.extend(inner.commands)
        for f in inner.facts:
            self.fact(f)
        for h in inner.hosts:
            if h not in self.result.hosts:
                self.result.hosts.append(h)
        self.fact(Fact("tool.shell_arg", f"argument {key} is a shell command; analyzed as one", {"arg": key}))

    def path(self, raw: str, access: Access) -> None:
        if not raw:
            return
        resolved, inside = resolve_path(raw, self.cwd, self.workspace, self.env)
        ref = PathRef(path=resolved, access=access, in_workspace=inside, raw=raw)
        if ref not in self.result.paths:
            self.result.paths.append(ref)
        for f in path_facts(ref, self.env, self.workspace):
            self.fact(f)


def analyze_arguments(tool: str, args: Mapping[str, Any], schema: Mapping[str, Any] | None = None, *,
                      cwd: str = "", workspace: str = "", env: AnalysisEnv | None = None,
                      annotations: Mapping[str, Any] | None = None) -> Analysis:
    """Facts for one tool call's arguments. Never raises; bounded in depth, count and size."""
    env = env or AnalysisEnv()
    w = _Walk(tool, cwd or workspace or "/", workspace or cwd or "/", env, schema)
    try:
        w.walk(args, "", schema, 0)
    except RecursionError:
        w.fact(Fact("tool.args_too_deep", "arguments nested too deeply to analyze"))
    verb = w.verb
    w.fact(Fact("tool.verb", f"{tool} {verb}s", {"verb": verb}))
    if isinstance(annotations, Mapping) and annotations.get("destructiveHint") is True and verb != "read":
        w.fact(Fact("tool.destructive", f"{tool} declares itself destructive"))
    read_name = verb == "read" or (isinstance(annotations, Mapping) and annotations.get("readOnlyHint") is True
                                   and verb not in ("write", "delete", "exec"))
    sql_only_reads = w.saw_sql and all(f.kind == "db.read" for f in w.result.facts if f.kind.startswith("db."))
    clean = all(f.kind in HARMLESS_KINDS for f in w.result.facts) and not w.saw_shell and not any(
        p.access != Access.READ for p in w.result.paths)
    browse = tool_verb(tool) in BROWSE_VERBS and any(f.kind in ("net.local", "net.public_read")
                                                     for f in w.result.facts) and all(
        f.kind in HARMLESS_KINDS or f.kind == "net.local" for f in w.result.facts) and not w.saw_shell
    if browse:
        w.fact(Fact("tool.read_only", f"{tool} looks at this machine's pages or public documentation"))
    elif clean and (read_name or (sql_only_reads and verb in ("query", "execute", "run", "other", "sql"))):
        w.fact(Fact("tool.read_only", f"{tool} only reads (by its name and arguments)"))
    return w.result

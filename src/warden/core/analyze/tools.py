"""Per-tool analysis: turn each tool's input into paths, hosts and facts.

Bash goes to the shell analyzer; file tools yield resolved paths; web tools yield hosts.
Content-bearing inputs (a Write's content, a prompt, a command) are also scanned for
secrets, and every path is classified (secret location, agent configuration, system file).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from warden.core.action import Action
from warden.core.analyze import AnalysisEnv
from warden.core.analyze.paths import path_facts, resolve_path
from warden.core.analyze.secrets import content_facts
from warden.core.facts import Access, Analysis, Fact, PathRef

_FILE_TOOLS = {
    "Read": Access.READ,
    "NotebookRead": Access.READ,
    "Write": Access.WRITE,
    "Edit": Access.WRITE,
    "MultiEdit": Access.WRITE,
    "NotebookEdit": Access.WRITE,
}
_SEARCH_TOOLS = {"Glob", "Grep", "LS"}


def host_of(url: str) -> str:
    try:
        host = urlsplit(url if "://" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")


def _path_ref(raw: str, access: Access, action: Action, env: AnalysisEnv) -> PathRef:
    resolved, inside = resolve_path(raw, action.cwd, action.workspace, env)
    return PathRef(path=resolved, access=access, in_workspace=inside, raw=raw)


def analyze_tool(action: Action, env: AnalysisEnv) -> Analysis:
    tool, data = action.tool, action.input
    if tool == "Bash":
        from warden.core.analyze.shell import analyze_shell

        result = analyze_shell(action.command or "", action.cwd, action.workspace, env)
        from warden.core.analyze.changes import shell_change_facts

        result.facts.extend(shell_change_facts(result, action.workspace))
    elif action.is_mcp:
        from warden.core.analyze.arguments import analyze_arguments
        from warden.core.analyze.mcp_args import analyze_mcp

        # two views of one call (merged from two branches; to be folded into one analyzer): the MCP
        # gateway's (server identity, definitions, mcp.* facts) and the generic argument analysis
        # (shell strings, SQL, paths, URLs by shape; tool.* facts). Strictest wins over their rules.
        result = analyze_mcp(action, env)
        inner = analyze_arguments(action.tool, action.input, None, cwd=action.cwd, workspace=action.workspace,
                                  env=env)
        result.commands.extend(c for c in inner.commands if c not in result.commands)
        result.hosts.extend(h for h in inner.hosts if h not in result.hosts)
        result.paths.extend(p for p in inner.paths if p not in result.paths)
        result.facts.extend(f for f in inner.facts if f not in result.facts)
    else:
        result = Analysis()
        if tool in _FILE_TOOLS:
            raw = data.get("file_path") or data.get("notebook_path") or ""
            result.paths.append(_path_ref(str(raw), _FILE_TOOLS[tool], action, env))
        elif tool in _SEARCH_TOOLS:
            from warden.core.analyze.trees import glob_root, search_facts

            raw = glob_root(data, action.cwd) if tool == "Glob" else (data.get("path") or action.cwd or ".")
            ref = _path_ref(str(raw), Access.READ, action, env)
            result.paths.append(ref)
            # judged by the tree: Grep reads the contents of every file below, Glob and LS list names
            result.facts.extend(search_facts(tool, data, ref, env))
        elif tool == "WebFetch":
            from warden.core.analyze.urls import url_facts

            url = str(data.get("url", ""))
            host, facts = url_facts(url)
            result.hosts.append(host)
            result.facts.extend(facts)
            file_url = next((f for f in facts if f.kind == "net.file_url"), None)
            if file_url is not None:
                result.paths.append(_path_ref(str(file_url.data.get("path") or "/"), Access.READ, action, env))
            elif not host:
                result.facts.append(Fact("net.bad_url", f"cannot parse a host from {data.get('url')!r}"))
        for ref in result.paths:
            result.facts.extend(path_facts(ref, env, action.workspace))
        if tool in _FILE_TOOLS and result.paths and result.paths[0].access is Access.WRITE:
            from warden.core.analyze.changes import change_facts

            ref = result.paths[0]
            shown = ref.path[len(action.workspace) + 1:] if ref.in_workspace and action.workspace else ref.path
            result.facts.extend(change_facts(action, shown))
    return _with_content(result, action)


def _with_content(result: Analysis, action: Action) -> Analysis:
    result.facts.extend(content_facts(action))
    return result

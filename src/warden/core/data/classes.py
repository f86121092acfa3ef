"""Data classes over an action: what it reads, who may read it, where it sends it.

The policy's ``data:`` sections (one per layer that has one) compile to :class:`DataClasses`. For an
action this module yields facts the policy's rules act on:

* ``data.read`` — the action reads data of a class (a classified path, a classified MCP server or
  tool); detail names the class and the source;
* ``data.above_clearance`` — that class is above the reader's clearance (``..._ask`` when the policy's
  ``on_read_above`` is ask);
* ``flow.below_destination`` — data of a class goes to a destination (host, MCP server, model
  provider, git remote) cleared below it: in one command's pipeline (``cat customers.csv | curl``),
  or later in the session when the adapter hands in the classes the session has already read
  (``..._ask`` when ``on_send_above`` is ask).

Strictest wins everywhere: a path in two classes has the higher one; with several layers, the
reader's clearance and a destination's limit are the lowest any layer gives, and the reaction
(``on_read_above`` / ``on_send_above``) is the strictest.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from warden.core.facts import Access, Analysis, Fact
from warden.core.policy.globs import PathGlob, compile_hosts, compile_path

DEFAULT_CLASSES = ("public", "internal", "confidential", "restricted")


@dataclass
class _Layer:
    source: str
    classes: tuple[str, ...]
    paths: list[tuple[int, PathGlob]]
    hosts: list[tuple[int, Any]]
    mcp: dict[str, int]
    tools: list[tuple[str, int]]
    content: dict[str, int]
    clearance_default: int
    clearance_rules: list[tuple[Mapping[str, Any], int]]
    dest_default: int
    dest_hosts: list[tuple[Any, int]]
    dest_mcp: dict[str, int]
    dest_models: dict[str, int]
    dest_remotes: list[tuple[str, int]]
    on_read: str
    on_send: str
    redact: tuple[str, ...]


@dataclass
class DataClasses:
    classes: tuple[str, ...] = DEFAULT_CLASSES
    layers: list[_Layer] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.layers)

    def name(self, level: int) -> str:
        return self.classes[max(0, min(level, len(self.classes) - 1))]

    @property
    def redact_kinds(self) -> tuple[str, ...]:
        kinds: list[str] = []
        for layer in self.layers:
            kinds += [k for k in layer.redact if k not in kinds]
        return tuple(kinds)

    @property
    def on_read(self) -> str:
        return "deny" if any(x.on_read == "deny" for x in self.layers) else "ask"

    @property
    def on_send(self) -> str:
        return "deny" if any(x.on_send == "deny" for x in self.layers) else "ask"

    # -- classification ------------------------------------------------------------------------
    def path_level(self, path: str, home: str, workspace: str) -> int:
        return max((lvl for layer in self.layers for lvl, g in layer.paths if g.matches(path, home, workspace)),
                   default=-1)

    def host_level(self, host: str) -> int:
        return max((lvl for layer in self.layers for lvl, rx in layer.hosts if rx.match(host)), default=-1)

    def source_level(self, tool: str) -> int:
        """Class of what a tool returns: an MCP server's (mcp__server__tool) or a tool glob's."""
        best = -1
        server = tool.split("__")[1] if tool.startswith("mcp__") and tool.count("__") >= 2 else ""
        for layer in self.layers:
            if server and server in layer.mcp:
                best = max(best, layer.mcp[server])
            for glob, lvl in layer.tools:
                if fnmatch.fnmatchcase(tool, glob):
                    best = max(best, lvl)
        return best

    def content_level(self, kinds: Iterable[str]) -> int:
        kinds = list(kinds)
        return max((layer.content[k] for layer in self.layers for k in kinds if k in layer.content), default=-1)

    def clearance(self, actor: Mapping[str, Any]) -> int:
        """The lowest clearance any layer gives this actor (first matching rule per layer)."""
        out = len(self.classes)
        for layer in self.layers:
            level = layer.clearance_default
            for match, lvl in layer.clearance_rules:
                if _actor_matches(match, actor):
                    level = lvl
                    break
            out = min(out, level)
        return out

    def destination(self, *, host: str = "", mcp: str = "", model: str = "", remote: str = "") -> int:
        out = len(self.classes)
        for layer in self.layers:
            level = layer.dest_default
            if host:
                level = next((lvl for rx, lvl in layer.dest_hosts if rx.match(host)), layer.dest_default)
            elif mcp:
                level = layer.dest_mcp.get(mcp, layer.dest_default)
            elif model:
                level = layer.dest_models.get(model, layer.dest_default)
            elif remote:
                level = next((lvl for g, lvl in layer.dest_remotes if fnmatch.fnmatchcase(remote, g)), layer.dest_default)
            out = min(out, level)
        return out


def _actor_matches(match: Mapping[str, Any], actor: Mapping[str, Any]) -> bool:
    for key, field_name in (("id", "id"), ("agent", "agent")):
        globs = match.get(key)
        if globs and not any(fnmatch.fnmatchcase(str(actor.get(field_name, "")), g) for g in globs):
            return False
    roles = match.get("role")
    if roles and not any(fnmatch.fnmatchcase(str(r), g) for r in actor.get("roles", []) or [] for g in roles):
        return False
    return True


def _listify(v: Any) -> list[str]:
    return [v] if isinstance(v, str) else list(v or [])


def compile_data(sections: Sequence[tuple[str, Mapping[str, Any]]]) -> DataClasses:
    """One :class:`DataClasses` from the layers' dumped ``data:`` sections (lowest layer first)."""
    if not sections:
        return DataClasses()
    classes = tuple(sections[-1][1].get("classes") or DEFAULT_CLASSES)
    dc = DataClasses(classes=classes)
    for source, s in sections:
        own = tuple(s.get("classes") or DEFAULT_CLASSES)

        def lvl(name: str, own: tuple[str, ...] = own) -> int:
            # a class name is judged by its rank in the merged order (unknown names were load errors)
            return classes.index(name) if name in classes else len(classes) - 1 if name in own else 0

        clearance = s.get("clearance") or {}
        dest = s.get("destinations") or {}
        dc.layers.append(_Layer(
            source=source, classes=own,
            paths=[(lvl(c), compile_path(g)) for c, globs in (s.get("paths") or {}).items() for g in _listify(globs)],
            hosts=[(lvl(c), compile_hosts(_listify(globs))) for c, globs in (s.get("hosts") or {}).items()],
            mcp={k: lvl(v) for k, v in (s.get("mcp") or {}).items()},
            tools=[(k, lvl(v)) for k, v in (s.get("tools") or {}).items()],
            content={k: lvl(v) for k, v in (s.get("content") or {}).items()},
            clearance_default=lvl(clearance.get("default", "internal")),
            clearance_rules=[({k: _listify(v) for k, v in (r.get("actor") or {}).items() if v}, lvl(r["class"]))
                             for r in clearance.get("rules") or []],
            dest_default=lvl(dest.get("default", "public")),
            dest_hosts=[(compile_hosts([g]), lvl(c)) for g, c in (dest.get("hosts") or {}).items()],
            dest_mcp={k: lvl(v) for k, v in (dest.get("mcp") or {}).items()},
            dest_models={k: lvl(v) for k, v in (dest.get("models") or {}).items()},
            dest_remotes=[(g, lvl(c)) for g, c in (dest.get("remotes") or {}).items()],
            on_read=str(s.get("on_read_above", "deny")), on_send=str(s.get("on_send_above", "deny")),
            redact=tuple(s.get("redact") or ("card", "ssn", "national_id")),
        ))
    return dc


# --- facts for one action -------------------------------------------------------------------------


def data_facts(dc: DataClasses, action: Any, analysis: Analysis, home: str,
               carried: Sequence[tuple[int, str]] = ()) -> list[Fact]:
    """Facts about what the action reads and sends. ``carried``: (level, origin) already read this session."""
    if not dc.active:
        return []
    facts: list[Fact] = []
    actor = action.actor.to_json() if hasattr(action.actor, "to_json") else dict(action.actor or {})
    clearance = dc.clearance(actor)
    read: list[tuple[int, str]] = []
    refs = list(analysis.paths) + [p for c in analysis.commands for p in c.paths]
    for ref in refs:
        if ref.access is not Access.READ:
            continue
        level = dc.path_level(ref.path, home, action.workspace)
        if level >= 0:
            read.append((level, ref.path))
    src = dc.source_level(action.tool)
    if src >= 0:
        read.append((src, action.tool))
    for level, origin in read:
        facts.append(Fact("data.read", f"{dc.name(level)} data: {origin}", {"class": dc.name(level), "origin": origin}))
        if level > clearance:
            facts.append(Fact("data.above_clearance" + ("" if dc.on_read == "deny" else "_ask"),
                              f"{origin} is {dc.name(level)}; {actor.get('agent') or actor.get('id') or 'this reader'} "
                              f"is cleared for {dc.name(clearance) if clearance < len(dc.classes) else 'everything'}",
                              {"class": dc.name(level), "clearance": dc.name(clearance), "origin": origin}))
    # what leaves: hosts of this action, an MCP call's server, a push's remote
    carried_here = [*read, *carried]
    if not carried_here:
        return facts
    top_level, top_origin = max(carried_here, key=lambda x: x[0])
    dests: list[tuple[str, int]] = []
    for host in analysis.hosts:
        if host:
            dests.append((f"host {host}", dc.destination(host=host)))
    if action.tool.startswith("mcp__") and action.tool.count("__") >= 2 and not read:
        server = action.tool.split("__")[1]
        dests.append((f"MCP server {server}", dc.destination(mcp=server)))
    for cmd in analysis.commands:
        if cmd.program == "git" and "push" in cmd.argv[1:3]:
            remote = next((a for a in cmd.argv[2:] if not a.startswith("-") and a != "push"), "origin")
            dests.append((f"git remote {remote}", dc.destination(remote=remote)))
    for label, limit in dests:
        if top_level > limit:
            facts.append(Fact("flow.below_destination" + ("" if dc.on_send == "deny" else "_ask"),
                              f"{dc.name(top_level)} data ({top_origin}) would go to {label}, cleared for "
                              f"{dc.name(limit)} only", {"class": dc.name(top_level), "destination": label,
                                                         "limit": dc.name(limit), "origin": top_origin}))
    return facts

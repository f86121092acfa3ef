"""The policy side of one upstream MCP server, independent of transport.

The stdio proxy and the HTTP gateway both hand every client request to :meth:`Guard.on_request`
and every upstream answer to :meth:`Guard.on_response`; everything else passes through untouched.

- ``tools/call``, ``resources/read``, ``prompts/get``: decided by the policy as an action
  ``mcp__<server>__<tool>`` (``.../resources/read``, ``.../prompts/get``) with the arguments and the
  server identity; a refusal is an ``isError`` tool result (a JSON-RPC error for reads/prompts, which
  have no such result), never a transport failure.
- list responses: what the policy would deny, and tools whose pinned definition does not match
  (new, changed, renamed), are removed, page by page, so what is listed is what is callable.
- results: secrets redacted from every string (content, structuredContent, _meta), the field paths
  recorded; results that carry prompt-injection phrases taint the session; oversized results refused.
  (A call to a server not in ``settings.trusted_mcp`` taints the session in the gateway's control gate.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from warden.core.decision import Decision, Verdict
from warden.integrations.mcp import jsonrpc
from warden.integrations.mcp.pins import PinFile, PinStatus

GUARDED_REQUESTS = frozenset({"tools/call", "resources/read", "prompts/get", "resources/subscribe"})
LISTS = {"tools/list": "tools", "resources/list": "resources", "resources/templates/list": "resourceTemplates",
         "prompts/list": "prompts"}
FILTERED_RESULTS = frozenset({"tools/call", "resources/read", "prompts/get"})
MAX_LIST_PAGES = 100
MAX_DEFINITIONS = 5000


class Upstream(Protocol):
    async def request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        """Send a request of Warden's own and return the whole response message."""
        ...


# The HTTP gateway serves many client sessions over one guard per upstream: the session and agent of
# the request being handled travel in this context variable (None: the proxy's own session).
CLIENT: ContextVar[tuple[str, str] | None] = ContextVar("warden_mcp_client", default=None)

TaintHook = Callable[..., None]  # (session, server, tool, reason, source="mcp"|"injection")
Approver = Callable[[Any, Verdict], Awaitable[Verdict]]  # (action, ask verdict) -> final verdict


@dataclass
class GuardConfig:
    server: str  # the namespace in tool names: mcp__<server>__<tool>
    identity: str  # server_identity(name, origin)
    approve_first: bool = False  # pin the first listing of a never-seen server without asking
    max_result_bytes: int = 1024 * 1024
    relist_after: float = 60.0  # seconds: a call after that re-lists first (catches silent definition swaps)
    session: str = ""
    cwd: str = ""
    agent: str = ""  # the client's name from initialize (claude-code, cursor, ...)


@dataclass
class _State:
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> last offered definition
    statuses: dict[str, PinStatus] = field(default_factory=dict)
    contexts: dict[str, dict[str, str]] = field(default_factory=dict)
    listed: bool = False
    stale: bool = False
    listed_at: float = 0.0  # monotonic time of the last complete listing
    reported: set[str] = field(default_factory=set)  # (what, key) already audited this session
    taints: set[str] = field(default_factory=set)  # taint sources already reported this session
    first_listing_done: bool = False  # trust on first use ends with the first complete listing


class Guard:
    def __init__(self, config: GuardConfig, gateway: Any, pins: PinFile, *, taint: TaintHook | None = None,
                 approver: Approver | None = None) -> None:
        self.cfg = config
        self.gateway = gateway
        self.pins = pins
        self.taint_hook = taint
        self.approver = approver
        self.state = _State()
        self._key: bytes | None = None
        self._workspace = ""

    @property
    def workspace(self) -> str:
        """Found once: every call of this proxy runs in the same directory (saves a walk up the tree)."""
        if not self._workspace:
            self._workspace = self.gateway.workspace_for(self.cfg.cwd)
        return self._workspace

    # -- identity and recording ---------------------------------------------------------------
    @property
    def session(self) -> str:
        client = CLIENT.get()
        return client[0] if client else self.cfg.session

    @property
    def agent(self) -> str:
        client = CLIENT.get()
        return client[1] if client else self.cfg.agent

    def full_name(self, name: str) -> str:
        return f"mcp__{self.cfg.server}__{name}"

    def payload(self, tool: str, arguments: Any, context: Mapping[str, str], request_id: Any = "") -> dict[str, Any]:
        from warden.core.analyze.mcp_args import definition_context

        ctx = dict(context) if context else definition_context(self.cfg.server, self.cfg.identity, {})
        return {"tool_name": tool, "tool_input": arguments, "cwd": self.cfg.cwd, "session_id": self.session,
                "hook_event_name": "PreToolUse", "tool_use_id": "" if request_id in ("", None) else str(request_id),
                "workspace": self.workspace, "actor": {"agent": self.agent}, "context": ctx}

    def record(self, what: str, detail: str, *, tool: str = "", data: Mapping[str, Any] | None = None,
               once: str = "") -> None:
        """An ``mcp`` audit event (best effort: the action it describes is already refused or filtered)."""
        if once:
            once = f"{self.session}:{once}"
            if once in self.state.reported:
                return
            self.state.reported.add(once)
        if not getattr(self.gateway, "audit", False):
            return
        from warden.core.audit import mcp_event

        try:
            self.gateway.record(mcp_event(
                what=what, server=self.cfg.server, identity=self.cfg.identity, started_at=time.time(),
                detail=detail, data=data, session=self.session, tool=tool,
                actor={"id": "", "agent": self.agent, "roles": []}, redact=self.gateway.redactor()))
        except Exception:
            pass

    def quiet_verdict(self, payload: Mapping[str, Any]) -> Verdict:
        """The policy's answer without an audit event (used to filter lists, item by item)."""
        from warden.core.flow import decide

        try:
            action = self.gateway.normalize(payload)
            policy = self.gateway.policy_for(action.workspace or self.gateway.workspace_for(action.cwd))
            return decide(policy, action, self.gateway.analysis_env)
        except Exception as exc:
            return Verdict.fail_closed(f"cannot evaluate: {type(exc).__name__}: {exc}")

    # -- lists ------------------------------------------------------------------------------------
    def filter_list(self, method: str, request: Mapping[str, Any], response: dict[str, Any]) -> bool:
        """Filter one list page in place; True when something changed."""
        res = response.get("result")
        field_name = LISTS[method]
        if not isinstance(res, dict) or not isinstance(res.get(field_name), list):
            return False
        items = res[field_name]
        if method == "tools/list":
            params = request.get("params")
            fresh = not (isinstance(params, dict) and params.get("cursor"))
            kept = self._admit_tools(items, fresh, last=not res.get("nextCursor"))
        else:
            kept = [i for i in items[:MAX_DEFINITIONS] if isinstance(i, dict) and self._admit_item(method, i)]
        if len(kept) == len(items):
            return False
        res[field_name] = kept
        return True

    def _admit_tools(self, items: list[Any], fresh: bool, last: bool) -> list[dict[str, Any]]:
        from warden.core.analyze.mcp_args import definition_context

        st = self.state
        if fresh:
            st.definitions, st.statuses, st.contexts = {}, {}, {}
        tools = [t for t in items[:MAX_DEFINITIONS] if isinstance(t, dict) and _valid_name(t.get("name"))]
        if len(tools) != len(items):
            self.record("refused", f"{len(items) - len(tools)} malformed, misnamed or excess tool definitions "
                                   "dropped (names are 1-128 of A-Z a-z 0-9 _ - .)", once=f"malformed:{len(items)}")
        try:
            statuses, changes = self.pins.check(
                self.cfg.identity, self.cfg.server, tools, session=self.cfg.session,
                approve_first=self.cfg.approve_first and not st.first_listing_done)
        except Exception as exc:  # no pins, no tools: the store is the only proof a definition was approved
            self.record("upstream.error", f"pin store unavailable, every tool quarantined: {exc}", once="pins")
            statuses, changes = {t["name"]: PinStatus("new", "") for t in tools}, []
        for change in changes:
            self.record(change["what"], self._change_text(change), tool=self.full_name(change["tool"]), data=change)
        kept = []
        for tool in tools:
            name = tool["name"]
            st.definitions[name] = tool
            st.statuses[name] = statuses[name]
            ctx = definition_context(self.cfg.server, self.cfg.identity, tool)
            st.contexts[name] = ctx
            if ctx.get("mcp.poison"):
                self.record("poison", f"definition of {name} carries {ctx['mcp.poison']}",
                            tool=self.full_name(name), once=f"poison:{name}:{statuses[name].digest}")
            if not statuses[name].ok:
                continue
            verdict = self.quiet_verdict(self.payload(self.full_name(name), {}, ctx))
            if verdict.decision is not Decision.DENY:
                kept.append(tool)
        st.listed = True
        st.stale = False
        st.first_listing_done = st.first_listing_done or last
        if last:
            st.listed_at = time.monotonic()
        return kept

    def _change_text(self, change: Mapping[str, Any]) -> str:
        if change["what"] == "pin.approved":
            return f"{change['tool']} pinned on first use"
        extra = f" (was {change['renamed_from']})" if change.get("renamed_from") else ""
        return (f"{change['tool']} is {change['state']}{extra} and quarantined until approved: "
                f"warden mcp pins approve {self.cfg.server} {change['tool']}")

    def _item_payload(self, method: str, item: Mapping[str, Any]) -> dict[str, Any]:
        from warden.core.analyze.mcp_args import definition_context

        ctx = definition_context(self.cfg.server, self.cfg.identity, item)
        if method == "prompts/list":
            return self.payload(self.full_name("prompts/get"), {"name": str(item.get("name", ""))}, ctx)
        uri = item.get("uri") if method == "resources/list" else item.get("uriTemplate")
        return self.payload(self.full_name("resources/read"), {"uri": str(uri or "")}, ctx)

    def _admit_item(self, method: str, item: Mapping[str, Any]) -> bool:
        return self.quiet_verdict(self._item_payload(method, item)).decision is not Decision.DENY

    async def refresh_tools(self, upstream: Upstream) -> str:
        """List every page of tools ourselves (the client's view may be stale); "" or an error text."""
        cursor: Any = None
        for _ in range(MAX_LIST_PAGES):
            params = {"cursor": cursor} if cursor else None
            response = await upstream.request("tools/list", params)
            if "error" in response or not isinstance(response.get("result"), dict):
                return f"the server did not list its tools: {json.dumps(response.get('error'))[:300]}"
            cursor_in = cursor
            cursor = response["result"].get("nextCursor")
            self._admit_tools(response["result"].get("tools") or [], fresh=cursor_in is None, last=not cursor)
            if not cursor:
                return ""
        return f"the server's tool list has more than {MAX_LIST_PAGES} pages"

    def on_notification(self, msg: Mapping[str, Any]) -> None:
        if msg.get("method") == "notifications/tools/list_changed":
            self.state.stale = True  # a rug pull is caught before the next call, not only the next list

    # -- requests ---------------------------------------------------------------------------------
    async def on_request(self, msg: dict[str, Any], upstream: Upstream) -> dict[str, Any] | None:
        """None: forward ``msg`` upstream. A dict: the reply to send the client instead."""
        method = msg["method"]
        params = msg.get("params")
        if params is not None and not isinstance(params, dict):
            return self._refuse_rpc(msg, jsonrpc.INVALID_PARAMS, f"{method}: params must be an object")
        params = params or {}
        if method == "tools/call":
            return await self._on_call(msg, params, upstream)
        if method in ("resources/read", "resources/subscribe"):
            uri = params.get("uri")
            if not isinstance(uri, str):
                return self._refuse_rpc(msg, jsonrpc.INVALID_PARAMS, f"{method} needs a string uri")
            payload = self.payload(self.full_name("resources/read"), {"uri": uri}, {}, msg.get("id"))
        elif method == "prompts/get":
            name = params.get("name")
            if not isinstance(name, str):
                return self._refuse_rpc(msg, jsonrpc.INVALID_PARAMS, "prompts/get needs a string name")
            payload = self.payload(self.full_name("prompts/get"),
                                   {"name": name, "arguments": params.get("arguments") or {}}, {}, msg.get("id"))
        else:
            return None
        verdict = await self._decide(payload)
        if verdict.decision is Decision.ALLOW:
            return None
        # reads and prompts have no isError result; a JSON-RPC error with the reason is their refusal
        return jsonrpc.error(msg.get("id"), jsonrpc.INVALID_REQUEST, f"denied by Warden policy: {verdict.reason}",
                             {"warden": {"decision": verdict.decision.label}})

    async def _on_call(self, msg: dict[str, Any], params: dict[str, Any], upstream: Upstream) -> dict[str, Any] | None:
        name = params.get("name")
        args = params.get("arguments")
        if not isinstance(name, str):
            return self._refuse_rpc(msg, jsonrpc.INVALID_PARAMS, "tools/call needs a string name")
        if args is not None and not isinstance(args, dict):
            return self._refuse_call(msg, name, "the arguments must be a JSON object")
        st = self.state
        old = self.cfg.relist_after > 0 and time.monotonic() - st.listed_at > self.cfg.relist_after
        if st.stale or not st.listed or old:
            problem = await self.refresh_tools(upstream)
            if problem:
                return self._refuse_call(msg, name, f"cannot check the tool's definition: {problem}")
        status = st.statuses.get(name)
        if status is None:
            return self._refuse_call(msg, name, f"the server does not offer a tool named {name!r}")
        if not status.ok:
            what = {"changed": "its definition changed since it was approved (possible rug pull)",
                    "renamed": f"it is a renamed copy of {status.renamed_from!r}",
                    "new": "it has not been approved yet"}[status.state]
            return self._refuse_call(msg, name, f"the tool is quarantined: {what}; review and approve with "
                                                f"`warden mcp pins list` and `warden mcp pins approve "
                                                f"{self.cfg.server} {name}`")
        verdict = await self._decide(self.payload(self.full_name(name), args or {}, st.contexts.get(name, {}),
                                                  msg.get("id")))
        if verdict.decision is Decision.ALLOW:
            return None
        label = "denied" if verdict.decision is Decision.DENY else "asked for approval, which was not given,"
        return jsonrpc.tool_error(msg.get("id"), f"Warden {label} for {self.full_name(name)}: {verdict.reason}",
                                  {"warden": {"decision": "deny", "policy": verdict.decision.label}})

    async def _decide(self, payload: dict[str, Any]) -> Verdict:
        verdict = self.gateway.decide_payload(payload)  # recorded as a decision event
        if verdict.decision is Decision.ASK:
            if self.approver is not None:
                action = self.gateway.normalize(payload)
                return await self.approver(action, verdict)
            fallback = "deny"
            try:
                fallback = self.gateway.policy.settings.get("ask_fallback", "deny")
            except Exception:
                pass
            if fallback == "allow":
                return Verdict(Decision.ALLOW, verdict.reason, verdict.rules, verdict.facts)
            verdict.reason += " (no approver is connected to this MCP proxy, and settings.ask_fallback is deny)"
        return verdict

    def _refuse_call(self, msg: Mapping[str, Any], name: str, why: str) -> dict[str, Any]:
        self.record("refused", why, tool=self.full_name(name))
        return jsonrpc.tool_error(msg.get("id"), f"Warden refused {self.full_name(name)}: {why}",
                                  {"warden": {"decision": "deny"}})

    def _refuse_rpc(self, msg: Mapping[str, Any], code: int, why: str) -> dict[str, Any]:
        self.record("refused", why, tool=str(msg.get("method", "")))
        return jsonrpc.error(msg.get("id"), code, why)

    # -- results ----------------------------------------------------------------------------------
    def on_response(self, method: str, request: Mapping[str, Any], response: dict[str, Any], size: int) -> bool:
        """Filter one upstream answer in place; True when it changed (re-encode it)."""
        if method in LISTS:
            return self.filter_list(method, request, response)
        if method not in FILTERED_RESULTS or not isinstance(response.get("result"), dict):
            return False
        params = request.get("params") or {}
        subject = str(params.get("name") or params.get("uri") or "") if isinstance(params, dict) else ""
        tool = self.full_name(subject if method == "tools/call" else method)
        if size > self.cfg.max_result_bytes:
            why = f"the result is {size} bytes, more than the {self.cfg.max_result_bytes}-byte limit"
            self.record("refused", why, tool=tool, data={"bytes": size})
            if method == "tools/call":
                response["result"] = {"content": [{"type": "text", "text": f"Warden withheld the result: {why}"}],
                                      "isError": True}
            else:
                response.pop("result")
                response["error"] = {"code": jsonrpc.INTERNAL_ERROR, "message": f"Warden withheld the result: {why}"}
            return True
        strings: list[str] = []
        too_deep = _collect(response["result"], strings, 0)
        changed = self._redact(response, tool, strings, too_deep)
        self._injection(tool, strings)  # the server itself tainted the session when the call was decided
        return changed

    def _redact(self, response: dict[str, Any], tool: str, strings: list[str], too_deep: bool) -> bool:
        from warden.core.secrets import redact_data, scan_text

        # One scan over every string first: most results carry no secret, and scanning them joined
        # costs one engine pass instead of one per field. Only a hit pays for the field-by-field walk.
        if not too_deep and (not strings or not scan_text("\n".join(strings))):
            return False
        if self._key is None:
            from warden.adapters.redaction import fingerprint_key

            self._key = fingerprint_key(self.gateway.home)
        redacted, masked, findings = redact_data(response["result"], self._key)
        if not masked:
            return False
        response["result"] = redacted
        self.record("redacted", f"{len(findings)} secret(s) removed from the result of {tool}", tool=tool,
                    data={"fields": masked[:200], "rules": sorted({f.rule_id for f in findings})})
        return True

    def _taint(self, tool: str, source: str, reason: str) -> None:
        """Mark the session tainted: an audit event, and the control state later decisions read."""
        key = f"{self.session}:{source}:{reason}"
        if key in self.state.taints:
            return
        self.state.taints.add(key)
        self.record("taint", reason, tool=tool, data={"source": source, "server": self.cfg.server})
        if self.taint_hook is not None:
            try:
                self.taint_hook(self.session, self.cfg.server, tool, reason, source=source)
            except Exception as exc:
                self.record("upstream.error", f"the taint hook failed: {exc}")

    def _injection(self, tool: str, strings: list[str]) -> None:
        """A result that talks to the model ("ignore previous instructions") taints, even from a trusted server."""
        from warden.core.control.taint import injection_in

        budget, sample = 256 * 1024, []
        for text in strings:
            sample.append(text[:budget])
            budget -= len(sample[-1])
            if budget <= 0:
                break
        phrase = injection_in("\n".join(sample))
        if phrase:
            self._taint(tool, "injection", f"{tool} output contains {phrase!r}")


def _collect(value: Any, out: list[str], depth: int) -> bool:
    """Every string in a JSON value, keys included; True when it nests deeper than the redactor walks
    (then the redactor must run: it replaces what it cannot walk, so nothing passes unscanned)."""
    if isinstance(value, str):
        out.append(value)
        return False
    if depth >= 60 and isinstance(value, (dict, list)):
        return True
    deep = False
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(str(k))
            deep = _collect(v, out, depth + 1) or deep
    elif isinstance(value, list):
        for v in value:
            deep = _collect(v, out, depth + 1) or deep
    return deep


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")


def _valid_name(name: Any) -> bool:
    """The spec's tool-name alphabet: anything else (a '/', spaces, control characters) is refused, so
    no tool can pose as Warden's own ``resources/read`` and ``prompts/get`` actions."""
    return isinstance(name, str) and 0 < len(name) <= 128 and set(name) <= _NAME_CHARS

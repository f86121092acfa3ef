"""Audit events, shaped after OPA decision logs.

Every event is a plain JSON object with ``v`` (schema version), ``kind``, ``id``,
``timestamp`` (RFC 3339, UTC) and the who/where fields (``session``, ``actor``, ``agent``,
``tool``, ``tool_use_id``). Kinds:

``decision``  one verdict: ``input`` (the action, secrets redacted), ``masked`` (JSON pointers
              of every field the redactor changed), ``truncated`` (fields cut to the size bound),
              ``result`` (decision/reason/rules/facts/error), ``policy`` (digest + layer sources),
              ``duration_ms``.
``approval``  a human (or timeout) answered an ``ask``: ``decision_id``, ``approver``, ``granted``.
``outcome``   what came back from a tool: status, exit code, a redacted bounded summary.
``session``   ``phase`` start | end | stop.
``error``     something failed where it happened (``where``) and why (``error``).
``model``     one request through the model gateway: the model, the user's instruction, the plan the
              model gave, the tool calls it proposed (ids link to the hook decisions), token counts,
              what was redacted on the way out (field paths and rule ids, never values).
``control``   the control loop changed or refused state: ``op`` (approval.request, approval.vote,
              approval.refused, approval.expired, grant.use, kill, resume, limit.exceeded,
              loop.break, taint, ...), ``decision_id`` when a decision caused it, ``data``.
``mcp``       the MCP gateway acted on a server, not on one decision: ``what`` (pin.quarantined,
              pin.approved, pin.reset, refused, redacted, taint, poison, upstream.error), ``server``
              (name and identity), ``detail`` and ``data`` (field paths, digests, diffs — never values).

Builders are pure: the caller passes times and a ``redact`` callable (text -> redacted text),
so the core stays free of clocks and of the secrets engine. ``uuid4`` is the one impurity
when no id is given.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from warden.core.action import ACTOR_DETAILS
from warden.core.audit.redact import basic_redact
from warden.core.civil import civil_from_days

SCHEMA_VERSION = 1
KINDS = frozenset({"decision", "approval", "outcome", "session", "error", "model", "control", "mcp"})
SESSION_PHASES = frozenset({"start", "end", "stop"})

MAX_FIELD_CHARS = 8192  # longer strings are cut (with their length and a digest) to bound the log
MAX_DEPTH = 32
MAX_ITEMS = 1000

Redactor = Callable[[str], str]


def rfc3339(epoch: float) -> str:
    """Epoch seconds -> ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), by arithmetic: the core has no datetime.

    Every timestamp in the log has this one fixed-width form, so stores compare them as strings.
    """
    secs, micros = divmod(round(epoch * 1_000_000), 1_000_000)
    days, rem = divmod(secs, 86400)
    hh, rem = divmod(rem, 3600)
    mm, ss = divmod(rem, 60)
    year, month, day = civil_from_days(days)
    return f"{year:04d}-{month:02d}-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}.{micros:06d}Z"


def new_id() -> str:
    return str(uuid.uuid4())


class _Scrubber:
    """Redacts and bounds an untrusted JSON value, remembering which fields it changed."""

    def __init__(self, redact: Redactor | None) -> None:
        self.redact = redact or basic_redact
        # optional on the redactor: text -> True when the engine and the backstop are known to leave it as is
        self.known_clean: Callable[[str], bool] | None = getattr(redact, "known_clean", None)
        self.masked: list[str] = []
        self.truncated: list[str] = []

    def text(self, value: str, path: str) -> str:
        if self.known_clean is not None and self.known_clean(value):
            # seen before, and neither the engine nor the backstop changed it: the same answer again
            return value if len(value) <= MAX_FIELD_CHARS else self._cut(value, path)
        out = self.redact(value)
        if not isinstance(out, str):
            raise TypeError("the redact callable must return a string")
        if self.redact is not basic_redact:
            # Backstop after the caller's engine: well-known credential shapes never reach the
            # log in clear even if the engine judged them examples or missed them; its markers stay.
            out = basic_redact(out)
        if out != value:
            self.masked.append(path)
        if len(out) > MAX_FIELD_CHARS:
            out = self._cut(out, path)
        return out

    def _cut(self, out: str, path: str) -> str:
        digest = hashlib.sha256(out.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        self.truncated.append(path)
        return f"{out[:MAX_FIELD_CHARS]}…[truncated: {len(out)} chars, sha256:{digest}]"

    def value(self, value: Any, path: str, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.text(value, path)
        if value is None or isinstance(value, (bool, int)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)
        if depth >= MAX_DEPTH:
            self.truncated.append(path)
            return "…[truncated: too deep]"
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for i, (k, v) in enumerate(value.items()):
                if i >= MAX_ITEMS:
                    self.truncated.append(path)
                    break
                key = str(k)[:256]
                out[key] = self.value(v, f"{path}/{_pointer(key)}", depth + 1)
            return out
        if isinstance(value, (list, tuple)):
            items = [self.value(v, f"{path}/{i}", depth + 1) for i, v in enumerate(value[:MAX_ITEMS])]
            if len(value) > MAX_ITEMS:
                self.truncated.append(path)
            return items
        return self.text(repr(value), path)


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1") if "~" in key or "/" in key else key


def _json(obj: Any) -> Any:
    to_json = getattr(obj, "to_json", None)
    return to_json() if callable(to_json) else obj


def _action_fields(action: Any) -> dict[str, Any]:
    """Accept an Action, its JSON, or a raw (maybe invalid) hook payload."""
    a = _json(action) if action is not None else {}
    if not isinstance(a, Mapping):
        a = {"raw": repr(a)}
    actor: Mapping[str, Any] = a["actor"] if isinstance(a.get("actor"), Mapping) else {}
    def s(key: str) -> str:
        v = a.get(key, "")
        return v if isinstance(v, str) else ""
    return {
        "tool": s("tool_name"),
        "event": s("hook_event_name"),
        "session": s("session_id"),
        "tool_use_id": s("tool_use_id"),
        "cwd": s("cwd"),
        "workspace": s("workspace"),
        "actor": {"id": str(actor.get("id", "")), "agent": str(actor.get("agent", "")),
                  "roles": [str(r) for r in actor.get("roles", []) or []][:32],
                  **{k: str(actor[k]) for k in ACTOR_DETAILS if actor.get(k)}},
        "context": a.get("context") if isinstance(a.get("context"), Mapping) else {},
        "tool_input": a.get("tool_input", {}),
        "extra": {k: v for k, v in a.items() if k not in _ACTION_KEYS},
    }


_ACTION_KEYS = frozenset({"tool_name", "hook_event_name", "session_id", "tool_use_id", "cwd", "workspace",
                          "actor", "context", "tool_input"})


def _common(kind: str, event_id: str, started_at: float, who: Mapping[str, Any], sc: _Scrubber) -> dict[str, Any]:
    return {
        "v": SCHEMA_VERSION,
        "kind": kind,
        "id": event_id,
        "timestamp": rfc3339(started_at),
        "session": sc.text(str(who.get("session", "")), "/session"),
        "actor": sc.value(who.get("actor") or {"id": "", "agent": "", "roles": []}, "/actor"),
        "agent": sc.text(str((who.get("actor") or {}).get("agent", "")), "/agent"),
        "tool": sc.text(str(who.get("tool", "")), "/tool"),
        "tool_use_id": sc.text(str(who.get("tool_use_id", "")), "/tool_use_id"),
    }


def decision_event(action: Any, verdict: Any, *, policy_digest: str, policy_sources: list[str] | tuple[str, ...],
                   started_at: float, duration_ms: float, redact: Redactor | None = None,
                   decision_id: str | None = None, policy_texts: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One verdict as an audit event.

    ``action`` is an :class:`~warden.core.action.Action`, its JSON, or the raw payload that could not
    be parsed. ``verdict`` is a :class:`~warden.core.decision.Verdict` or its JSON. ``policy_texts``
    (source -> YAML text) is optional: a recorder stores it once per digest for evidence packs and
    strips it from the event.
    """
    sc = _Scrubber(redact)
    a = _action_fields(action)
    ev = _common("decision", decision_id or new_id(), started_at, a, sc)
    result = _json(verdict)
    if not isinstance(result, Mapping):
        raise TypeError("verdict must be a Verdict or its JSON object")
    ev.update({
        "duration_ms": round(float(duration_ms), 3),
        "event": a["event"],
        "cwd": sc.text(a["cwd"], "/cwd"),
        "workspace": sc.text(a["workspace"], "/workspace"),
        "context": sc.value(a["context"], "/context"),
        "policy": {"digest": str(policy_digest or result.get("policy_digest", "")),
                   "sources": [str(x) for x in policy_sources]},
        "input": sc.value(a["tool_input"], "/input"),
        "result": {
            "decision": str(result.get("decision", "deny")),
            "reason": sc.text(str(result.get("reason", "")), "/result/reason"),
            "rules": sc.value(list(result.get("rules", []) or []), "/result/rules"),
            "facts": sc.value(list(result.get("facts", []) or []), "/result/facts"),
        },
    })
    if result.get("error"):
        ev["result"]["error"] = sc.text(str(result["error"]), "/result/error")
    if a["extra"]:
        ev["payload_extra"] = sc.value(a["extra"], "/payload_extra")
    if policy_texts:
        ev["policy_texts"] = {str(k): str(v) for k, v in policy_texts.items()}
    ev["masked"] = sc.masked
    ev["truncated"] = sc.truncated
    return ev


def approval_event(*, decision_id: str, granted: bool, approver: str, via: str, started_at: float,
                   session: str = "", tool: str = "", tool_use_id: str = "", reason: str = "",
                   actor: Mapping[str, Any] | None = None, redact: Redactor | None = None,
                   approval_id: str | None = None) -> dict[str, Any]:
    """A human (or a timeout, ``via="timeout"``) answered an ``ask``."""
    sc = _Scrubber(redact)
    ev = _common("approval", approval_id or new_id(), started_at,
                 {"session": session, "tool": tool, "tool_use_id": tool_use_id, "actor": actor}, sc)
    ev.update({
        "decision_id": decision_id,
        "granted": bool(granted),
        "result": {"decision": "allow" if granted else "deny", "reason": sc.text(reason, "/result/reason")},
        "approver": {"id": sc.text(approver, "/approver/id"), "via": via},
    })
    ev["masked"] = sc.masked
    ev["truncated"] = sc.truncated
    return ev


def outcome_event(*, tool: str, started_at: float, status: str, tool_use_id: str = "", session: str = "",
                  decision_id: str = "", exit_code: int | None = None, output: str = "", duration_ms: float | None = None,
                  actor: Mapping[str, Any] | None = None, redact: Redactor | None = None,
                  event_id: str | None = None) -> dict[str, Any]:
    """What a tool returned, as far as the adapter knows: a redacted, bounded summary."""
    sc = _Scrubber(redact)
    ev = _common("outcome", event_id or new_id(), started_at,
                 {"session": session, "tool": tool, "tool_use_id": tool_use_id, "actor": actor}, sc)
    raw = output.encode("utf-8", "surrogatepass")
    ev.update({
        "decision_id": decision_id,
        "outcome": {
            "status": status,
            "exit_code": exit_code,
            "bytes": len(raw),
            "summary": sc.text(output[:2 * MAX_FIELD_CHARS], "/outcome/summary"),
        },
    })
    if duration_ms is not None:
        ev["duration_ms"] = round(float(duration_ms), 3)
    ev["masked"] = sc.masked
    ev["truncated"] = sc.truncated
    return ev


def session_event(*, phase: str, session: str, started_at: float, actor: Mapping[str, Any] | None = None,
                  detail: str = "", redact: Redactor | None = None, event_id: str | None = None) -> dict[str, Any]:
    if phase not in SESSION_PHASES:
        raise ValueError(f"session phase must be one of {sorted(SESSION_PHASES)}, got {phase!r}")
    sc = _Scrubber(redact)
    ev = _common("session", event_id or new_id(), started_at, {"session": session, "actor": actor}, sc)
    ev.update({"phase": phase, "detail": sc.text(detail, "/detail")})
    ev["masked"] = sc.masked
    ev["truncated"] = sc.truncated
    return ev


def error_event(*, where: str, error: str, started_at: float, session: str = "", tool: str = "",
                tool_use_id: str = "", decision_id: str = "", actor: Mapping[str, Any] | None = None,
                redact: Redactor | None = None, event_id: str | None = None) -> dict[str, Any]:
    sc = _Scrubber(redact)
    ev = _common("error", event_id or new_id(), started_at,
                 {"session": session, "tool": tool, "tool_use_id": tool_use_id, "actor": actor}, sc)
    ev.update({"where": where, "error": sc.text(error, "/error"), "decision_id": decision_id})
    ev["masked"] = sc.masked
    ev["truncated"] = sc.truncated
    return ev


def mcp_event(*, what: str, server: str, identity: str, started_at: float, detail: str = "",
              data: Mapping[str, Any] | None = None, session: str = "", tool: str = "", tool_use_id: str = "",
              actor: Mapping[str, Any] | None = None, redact: Redactor | None = None,
              event_id: str | None = None) -> dict[str, Any]:
    """Something the MCP gateway did about a server: a pin change, a refusal, a redaction, a taint."""
    sc = _Scrubber(redact)
    ev = _common("mcp", event_id or new_id(), started_at,
                 {"session": session, "tool": tool, "tool_use_id": tool_use_id, "actor": actor}, sc)
    ev.update({"what": what, "server": {"name": sc.text(server, "/server/name"), "identity": identity},
               "detail": sc.text(detail, "/detail"), "data": sc.value(dict(data or {}), "/data")})
    ev["masked"] = sc.masked
    ev["truncated"] = sc.truncated
    return ev


def model_event(*, started_at: float, session: str, actor: Mapping[str, Any] | None, api: str, provider: str,
                model: str, decision: str, reason: str = "", instruction: str = "", plan: str = "",
                reasoning: str = "", tool_calls: Sequence[Mapping[str, Any]] | None = None,
                input_tokens: int = 0, output_tokens: int = 0, cost_usd: float = 0.0,
                status: int = 0, latency_ms: float = 0.0, first_byte_ms: float | None = None,
                redacted: Sequence[Mapping[str, Any]] | None = None, response_findings: Sequence[str] | None = None,
                streamed: bool = False, error: str = "", redact: Redactor | None = None,
                event_id: str | None = None) -> dict[str, Any]:
    """One model request as the gateway saw it (the instruction and plan already redacted upstream;
    the scrubber redacts again and bounds every field)."""
    sc = _Scrubber(redact)
    calls = list(tool_calls or [])
    first = str(calls[0].get("id", "")) if calls else ""
    ev = _common("model", event_id or new_id(), started_at,
                 {"session": session, "tool": "Model", "tool_use_id": first, "actor": actor}, sc)
    ev.update({
        "api": api,
        "provider": sc.text(provider, "/provider"),
        "model": sc.text(model, "/model"),
        "result": {"decision": decision, "reason": sc.text(reason, "/result/reason")},
        "instruction": sc.text(instruction, "/instruction"),
        "plan": sc.text(plan, "/plan"),
        "reasoning": sc.text(reasoning, "/reasoning"),
        "tool_calls": sc.value([{"id": str(c.get("id", "")), "name": str(c.get("name", "")),
                                 "arguments": str(c.get("arguments", ""))[:2000]} for c in calls], "/tool_calls"),
        "usage": {"input_tokens": int(input_tokens), "output_tokens": int(output_tokens),
                  "cost_usd": round(float(cost_usd), 6)},
        "http_status": int(status),
        "streamed": bool(streamed),
        "latency_ms": round(float(latency_ms), 3),
        "first_byte_ms": None if first_byte_ms is None else round(float(first_byte_ms), 3),
        "redacted": sc.value(list(redacted or []), "/redacted"),
        "response_findings": [str(x) for x in (response_findings or [])][:100],
    })
    if error:
        ev["error"] = sc.text(error, "/error")
    ev["masked"] = sc.masked
    ev["truncated"] = sc.truncated
    return ev


def control_event(*, op: str, started_at: float, data: Mapping[str, Any], session: str = "", tool: str = "",
                  tool_use_id: str = "", decision_id: str = "", actor: Mapping[str, Any] | None = None,
                  redact: Redactor | None = None, event_id: str | None = None) -> dict[str, Any]:
    """One change (or refused change) of the control state: requests, votes, grants, kills, limits, taint."""
    sc = _Scrubber(redact)
    ev = _common("control", event_id or new_id(), started_at,
                 {"session": session, "tool": tool, "tool_use_id": tool_use_id, "actor": actor}, sc)
    ev.update({"op": op, "decision_id": decision_id, "data": sc.value(dict(data), "/data")})
    ev["masked"] = sc.masked
    ev["truncated"] = sc.truncated
    return ev


def validate_event(event: Mapping[str, Any]) -> None:
    """What a store insists on before it seals an event (it raises; the caller fails closed)."""
    if not isinstance(event, Mapping):
        raise TypeError(f"an audit event must be a JSON object, got {type(event).__name__}")
    kind = event.get("kind")
    if kind not in KINDS:
        raise ValueError(f"audit event kind must be one of {sorted(KINDS)}, got {kind!r}; build events with "
                         "warden.core.audit.decision_event / approval_event / outcome_event / session_event / "
                         "error_event / mcp_event")
    if not isinstance(event.get("id"), str) or not event["id"]:
        raise ValueError("audit event needs a non-empty string 'id' (the event builders set one)")


def event_summary(event: Mapping[str, Any]) -> dict[str, str]:
    """The indexed columns a store keeps beside the canonical body (for query and stats)."""
    result: Mapping[str, Any] = event["result"] if isinstance(event.get("result"), Mapping) else {}
    rules = result.get("rules") or []
    rule_ids = [str(r.get("id", "")) for r in rules if isinstance(r, Mapping)]
    inp: Mapping[str, Any] = event["input"] if isinstance(event.get("input"), Mapping) else {}
    subject = inp.get("command") or inp.get("file_path") or inp.get("url") or inp.get("query") or ""
    if event.get("kind") == "model":
        subject = event.get("model", "")
    return {
        "kind": str(event.get("kind", "")),
        "event_id": str(event.get("id", "")),
        "ts": str(event.get("timestamp", "")),
        "session": str(event.get("session", "")),
        "agent": str(event.get("agent", "")),
        "tool": str(event.get("tool", "")),
        "decision": str(result.get("decision", "")) if event.get("kind") in ("decision", "approval", "model") else "",
        "rules": "," + ",".join(rule_ids) + "," if rule_ids else "",
        "subject": str(subject)[:512] if isinstance(subject, str) else "",
        "tool_use_id": str(event.get("tool_use_id", ""))[:256],
    }

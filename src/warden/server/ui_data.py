"""What the web interface shows, computed once for the HTML pages and their JSON twins (``/v1/ui/...``).

Every function takes the :class:`~warden.server.keys.Principal` looking and scopes to it, so a page can
show nothing its JSON would not: a developer sees only their own requests, sessions and machines (an
event is theirs when its actor or the key that shipped it is theirs); approvers, auditors and admins see
everything. Roles are checked by the caller (the routes), scoping is done here.
"""

from __future__ import annotations

import calendar
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol

from warden.core.audit import rfc3339
from warden.core.control.risk import LEVELS, card_risk

if TYPE_CHECKING:
    from warden.server.keys import KeyStore, Principal


class Server(Protocol):
    """What the UI reads of :class:`warden.server.app.Server` (named, not imported: the app mounts the UI)."""

    state: Any  # the control loop's StateStore
    recorder: Any  # the audit recorder; .store is the AuditStore
    keys: KeyStore

    def require(self, who: Principal, *roles: str) -> None: ...


VERDICTS = ("allow", "ask", "deny")
STATUSES = ("pending", "approved", "denied", "expired", "all")
WINDOWS = {1: 300, 6: 1800, 24: 3600, 168: 6 * 3600, 720: 86400}  # hours shown -> bucket seconds
STALE_MINUTES = 15.0
PROBLEMS = ("error", "critical", "fail", "warn", "warning")  # doctor finding severities that need a person
MAX_SCAN = 20_000  # events read for one explorer page; the page says when it stopped there


def sees_all(p: Principal) -> bool:
    return p.can("approver", "auditor")


def can_vote(p: Principal) -> bool:
    return p.can("approver")


def can_download_packs(p: Principal) -> bool:
    """Who GET /v1/evidence/pack serves (warden.server.evidence_api): auditors, admins, developers (their own)."""
    return p.can("auditor", "developer")


def epoch_of(ts: str) -> float:
    """An audit timestamp (``YYYY-MM-DDTHH:MM:SS.ffffffZ``, always UTC) -> epoch seconds; 0.0 if unreadable."""
    try:
        whole, _, frac = ts.rstrip("Z").partition(".")
        return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float(f"0.{frac or 0}")
    except (ValueError, TypeError):
        return 0.0


def _obj(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``d[key]`` when it is an object, else {} (events and cards are untrusted JSON)."""
    v = d.get(key)
    return v if isinstance(v, Mapping) else {}


# -- events ---------------------------------------------------------------------------------------
def subject_of(ev: Mapping[str, Any]) -> str:
    inp = _obj(ev, "input")
    out = _obj(ev, "outcome")
    for v in (inp.get("command"), inp.get("file_path"), inp.get("url"), inp.get("query"), inp.get("prompt")):
        if isinstance(v, str) and v:
            return v
    return str(ev.get("op") or ev.get("phase") or ev.get("what") or ev.get("error") or out.get("summary") or "")


def verdict_of(ev: Mapping[str, Any]) -> str:
    res = _obj(ev, "result")
    return str(res.get("decision", "")) if ev.get("kind") in ("decision", "approval", "model") else ""


def origin_of(ev: Mapping[str, Any]) -> Mapping[str, Any]:
    return _obj(ev, "origin")


def actor_id(ev: Mapping[str, Any]) -> str:
    return str(_obj(ev, "actor").get("id", ""))


def machine_of(ev: Mapping[str, Any]) -> str:
    """The machine that shipped the event, or for a server decision the key that asked (its owner)."""
    return str(origin_of(ev).get("machine") or (actor_id(ev) if ev.get("kind") == "decision" else "") or "")


def owned_by(ev: Mapping[str, Any], owner: str) -> bool:
    return bool(owner) and owner in (actor_id(ev), str(origin_of(ev).get("owner", "")))


def search_text(ev: Mapping[str, Any]) -> str:
    """The redacted text full-text search looks in: subject, reason, rules, tool, outcome summary."""
    res = _obj(ev, "result")
    out = _obj(ev, "outcome")
    rules = " ".join(str(r.get("id", "")) for r in res.get("rules") or [] if isinstance(r, Mapping))
    return " ".join((subject_of(ev), str(res.get("reason", "")), rules, str(ev.get("tool", "")),
                     str(out.get("summary", "")), str(ev.get("session", "")))).lower()


@dataclass(frozen=True)
class EventFilter:
    session: str = ""
    agent: str = ""
    verdict: str = ""
    kind: str = ""
    machine: str = ""
    since: str = ""  # RFC 3339 or the browser's datetime-local (YYYY-MM-DDTHH:MM, read as UTC)
    until: str = ""
    q: str = ""

    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name != "session")

    def as_query(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def _stamp(value: str) -> str | None:
    """A filter time -> the log's fixed-width RFC 3339 (string comparison); None when empty or unreadable."""
    v = value.strip()
    if not v:
        return None
    if len(v) == 16:  # datetime-local without seconds
        v += ":00"
    e = epoch_of(v if "." in v else v + ".0Z")
    return rfc3339(e) if e else None


def find_events(server: Server, p: Principal, f: EventFilter, *, limit: int = 500) -> tuple[list[dict[str, Any]], bool]:
    """(events matching ``f`` newest first, whether the scan stopped at :data:`MAX_SCAN` events)."""
    from warden.adapters.store.base import Filters

    sql = Filters(session=f.session or None, agent=f.agent or None, kind=f.kind or None,
                  decision=f.verdict or None, since=_stamp(f.since), until=_stamp(f.until))
    raw = server.recorder.store.query(sql, limit=MAX_SCAN, newest_first=True)
    q = f.q.strip().lower()
    out = []
    for ev in raw:
        if not sees_all(p) and not owned_by(ev, p.owner):
            continue
        if f.machine and machine_of(ev) != f.machine:
            continue
        if q and q not in search_text(ev):
            continue
        out.append(ev)
        if len(out) >= limit:
            break
    # newest by the time it happened, not by arrival: a machine may ship yesterday's events today
    out.sort(key=lambda e: (str(e.get("timestamp", "")), int(e.get("seq", 0))), reverse=True)
    return out, len(raw) >= MAX_SCAN


def sessions(server: Server, p: Principal, f: EventFilter, *, limit: int = 200) -> dict[str, Any]:
    """The sessions with matching events, newest activity first, each summarised."""
    evs, capped = find_events(server, p, f, limit=MAX_SCAN)
    by: dict[str, dict[str, Any]] = {}
    for ev in evs:  # newest first
        sid = str(ev.get("session", ""))
        if not sid:
            continue
        s = by.get(sid)
        if s is None:
            s = by[sid] = {"session": sid, "last": ev.get("timestamp", ""), "first": ev.get("timestamp", ""),
                           "events": 0, "calls": 0, "allow": 0, "ask": 0, "deny": 0, "agents": set(),
                           "machines": set(), "actors": set(), "prompt": ""}
        s["first"] = ev.get("timestamp", "")
        s["events"] += 1
        if ev.get("kind") == "decision":
            if ev.get("tool") == "Prompt":
                s["prompt"] = subject_of(ev)  # the oldest prompt wins (events arrive newest first)
            else:
                s["calls"] += 1
                v = verdict_of(ev)
                if v in VERDICTS:
                    s[v] += 1
        for key, val in (("agents", ev.get("agent")), ("machines", machine_of(ev)), ("actors", actor_id(ev))):
            if val:
                s[key].add(str(val))
    rows = []
    for s in list(by.values())[:limit]:
        rows.append({**s, "agents": sorted(s["agents"]), "machines": sorted(s["machines"]), "actors": sorted(s["actors"])})
    for s in rows[:100]:  # a filter may have left the prompt out: each session's first prompt, looked up
        if not s["prompt"]:
            s["prompt"] = first_prompt(server, p, s["session"])
    facets = {"agents": sorted({a for s in rows for a in s["agents"]}),
              "machines": sorted({m for s in rows for m in s["machines"]})}
    return {"sessions": rows, "capped": capped, "matched_events": len(evs), "facets": facets}


def first_prompt(server: Server, p: Principal, session: str) -> str:
    from warden.adapters.store.base import Filters

    for ev in server.recorder.store.query(Filters(session=session, kind="decision", tool="Prompt"), limit=20):
        if sees_all(p) or owned_by(ev, p.owner):
            return subject_of(ev)
    return ""


def _link_key(ev: Mapping[str, Any]) -> tuple[str, str]:
    return str(ev.get("decision_id", "") or ""), str(ev.get("tool_use_id", "") or "")


def timeline(server: Server, p: Principal, session: str) -> dict[str, Any] | None:
    """One session as steps: the prompt, then each tool call with its verdict, approval, control changes and
    outcome attached (linked by decision id, else by tool_use_id). None when the viewer may see none of it."""
    from warden.adapters.store.base import Filters

    evs = server.recorder.store.query(Filters(session=session), limit=MAX_SCAN)
    if not sees_all(p):
        evs = [e for e in evs if owned_by(e, p.owner)]
    if not evs:
        return None
    evs.sort(key=lambda e: (str(e.get("timestamp", "")), int(e.get("seq", 0))))
    steps: list[dict[str, Any]] = []
    by_decision: dict[str, dict[str, Any]] = {}
    by_tool_use: dict[str, dict[str, Any]] = {}
    for ev in evs:  # index the decisions first: a shipped outcome may sort before a late-recorded decision
        if ev.get("kind") == "decision":
            step: dict[str, Any] = {"type": "prompt" if ev.get("tool") == "Prompt" else "call", "event": ev,
                                    "approvals": [], "controls": [], "outcomes": []}
            by_decision[str(ev.get("id", ""))] = step
            if ev.get("tool_use_id"):
                by_tool_use.setdefault(str(ev["tool_use_id"]), step)
    slot = {"approval": "approvals", "control": "controls", "outcome": "outcomes"}
    for ev in evs:
        kind = str(ev.get("kind", ""))
        if kind == "decision":
            steps.append(by_decision[str(ev.get("id", ""))])
            continue
        decision_id, tool_use_id = _link_key(ev)
        target = (by_decision.get(decision_id) or by_tool_use.get(tool_use_id)) if kind in slot else None
        if target is not None:
            target[slot[kind]].append(ev)
        else:
            steps.append({"type": kind, "event": ev, "approvals": [], "controls": [], "outcomes": []})
    agents = sorted({str(e.get("agent")) for e in evs if e.get("agent")})
    machines = sorted({machine_of(e) for e in evs if machine_of(e)})
    counts = {v: sum(1 for s in steps if s["type"] == "call" and verdict_of(s["event"]) == v) for v in VERDICTS}
    return {"session": session, "steps": steps, "events": len(evs), "agents": agents, "machines": machines,
            "first": evs[0].get("timestamp", ""), "last": evs[-1].get("timestamp", ""), "counts": counts}


# -- approvals ------------------------------------------------------------------------------------
def queue_item(req: Any, teams: tuple[dict[str, str], dict[str, str]]) -> dict[str, Any]:
    card: Mapping[str, Any] = req.card or {}
    asked = dict(card.get("requested_by") or {})
    if not asked:  # decided by POST /v1/decide on the server: the key that asked is the actor
        asked = {"key_owner": req.actor, "machine": "", "via": "POST /v1/decide"}
    by_key, by_owner = teams
    team = by_key.get(str(asked.get("key", ""))) or by_owner.get(req.actor, "")
    level, why = card_risk(card)
    actor_card = _obj(card, "actor")
    command = card.get("command")
    if not command:
        inp = _obj(card, "input")
        command = inp.get("file_path") or inp.get("url") or json.dumps(dict(inp))[:300]
    return {"id": req.id, "status": req.status, "tool": req.tool, "command": str(command), "actor": req.actor,
            "agent": req.agent or str(actor_card.get("agent", "")), "session": req.session, "rule": req.rule_id,
            "created_at": req.created_at, "expires_at": req.expires_at, "decided_at": req.decided_at,
            "quorum": req.quorum, "approvals": req.approvals, "grant": req.grant, "risk": level,
            "risk_reasons": why, "team": team, "machine": str(asked.get("machine", "")), "requested_by": asked,
            "card": dict(card), "votes": [v.to_json() for v in req.votes]}


def queue(server: Server, p: Principal, *, status: str = "pending", team: str = "", agent: str = "",
          risk: str = "", limit: int = 300) -> dict[str, Any]:
    """The requests this viewer may see, filtered; highest risk first, then oldest first."""
    if status not in STATUSES:
        status = "pending"
    server.state.expire_requests(time.time())
    reqs = server.state.list_requests(status=None if status == "all" else status, limit=limit)
    if not sees_all(p):
        reqs = [r for r in reqs if r.actor == p.owner]
    teams = server.keys.teams()
    items = [queue_item(r, teams) for r in reqs]
    facets = {"teams": sorted({i["team"] for i in items if i["team"]}),
              "agents": sorted({i["agent"] for i in items if i["agent"]}), "risks": list(LEVELS)}
    shown = [i for i in items if (not team or i["team"] == team) and (not agent or i["agent"] == agent)
             and (not risk or i["risk"] == risk)]
    rank = {level: n for n, level in enumerate(reversed(LEVELS))}
    shown.sort(key=lambda i: (i["status"] != "pending", rank[i["risk"]], i["created_at"]))
    return {"items": shown, "total": len(items), "facets": facets, "status": status}


def request_item(server: Server, p: Principal, request_id: str) -> dict[str, Any] | None:
    req = server.state.get_request(request_id)
    if req is None or (not sees_all(p) and req.actor != p.owner):
        return None
    return queue_item(req, server.keys.teams())


# -- dashboard ------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every figure shown is one a request really took)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q * len(ordered))))
    return ordered[rank - 1]


def _finding(f: Mapping[str, Any]) -> dict[str, str]:
    """A doctor finding in either shape clients send: ``{check, status, summary, fix}`` (warden sync) or
    ``{id, severity, message}``."""
    return {"id": str(f.get("check") or f.get("id") or ""),
            "severity": str(f.get("status") or f.get("severity") or "").lower(),
            "message": str(f.get("summary") or f.get("message") or ""), "fix": str(f.get("fix") or "")}


def _say(f: Mapping[str, str]) -> str:
    text = f"{f['message']} ({f['id']})" if f["id"] else f["message"]
    return f"{text}; fix: {f['fix']}" if f["fix"] else text


def machine_health(m: Mapping[str, Any], now: float, stale_s: float) -> dict[str, Any]:
    """One machine's state (ok | stale | unhealthy | unknown) and the reasons, from last_seen and its doctor report."""
    reasons: list[str] = []
    state = "ok"
    try:
        doctor = json.loads(m.get("doctor") or "{}")
    except ValueError:
        doctor = {"healthy": False, "findings": [{"id": "report", "severity": "error",
                                                  "message": "its last health report was not readable JSON"}]}
    if not isinstance(doctor, dict):
        doctor = {}
    quiet = now - float(m.get("last_seen") or 0)
    if quiet > stale_s:
        state = "stale"
        reasons.append(f"no contact for {duration_text(quiet)} (stale after {duration_text(stale_s)})")
    bad = [f for f in (_finding(x) for x in doctor.get("findings") or [] if isinstance(x, Mapping))
           if f["severity"] in PROBLEMS]
    if doctor.get("hooks_live") is False:
        state = "unhealthy"
        hook = [f for f in bad if "hook" in f"{f['id']} {f['message']}".lower()][:1]
        reasons.append("hooks not live" + (f": {_say(hook[0])}" if hook else ""))
        bad = [f for f in bad if f not in hook]
    if doctor.get("healthy") is False:
        state = "unhealthy"
        reasons += [f"doctor {f['severity']}: {_say(f)}" for f in bad]
        if not bad and doctor.get("hooks_live") is not False:
            reasons.append("doctor reports unhealthy (no finding given)")
    if not doctor:
        reasons.append("no doctor report yet (the client has not sent one)")
        if state == "ok":
            state = "unknown"
    return {"id": m.get("id", ""), "owner": m.get("owner", ""), "last_seen": m.get("last_seen"),
            "version": m.get("version", ""), "state": state, "reasons": reasons,
            "report_at": doctor.get("at"), "outbox_pending": doctor.get("outbox_pending"),
            "healthy": doctor.get("healthy"), "hooks_live": doctor.get("hooks_live")}


def duration_text(seconds: float) -> str:
    s = int(max(0, seconds))
    if s < 90:
        return f"{s} s"
    if s < 5400:
        return f"{round(s / 60)} min"
    if s < 2 * 86400:
        h, m = divmod(round(s / 60), 60)
        return f"{h} h {m} min" if m else f"{h} h"
    return f"{round(s / 86400)} days"


def _ranked(counts: Mapping[str, int], n: int = 10) -> list[list[Any]]:
    return [[k, v] for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def dashboard(server: Server, p: Principal, *, hours: int = 24, stale_minutes: float = STALE_MINUTES,
              now: float | None = None) -> dict[str, Any]:
    from warden.adapters.store.base import Filters

    now = time.time() if now is None else now
    hours = hours if hours in WINDOWS else 24
    step = WINDOWS[hours]
    start = (now - hours * 3600) // step * step + step  # whole buckets, the last one holds now
    series = [{"start": start + i * step, "allow": 0, "ask": 0, "deny": 0}
              for i in range(int((now - start) // step) + 1)]
    denied: dict[str, int] = {}
    asked: dict[str, int] = {}
    totals = dict.fromkeys(VERDICTS, 0)
    for ev in server.recorder.store.iter_query(Filters(kind="decision", since=rfc3339(start))):
        if not sees_all(p) and not owned_by(ev, p.owner):
            continue
        v = verdict_of(ev)
        if v not in VERDICTS:
            continue
        totals[v] += 1
        i = int((epoch_of(str(ev.get("timestamp", ""))) - start) // step)
        if 0 <= i < len(series):
            series[i][v] += 1
        if v in ("deny", "ask"):
            for r in (ev.get("result") or {}).get("rules") or []:
                if isinstance(r, Mapping) and r.get("effect") == v:
                    bucket = denied if v == "deny" else asked
                    bucket[str(r.get("id", ""))] = bucket.get(str(r.get("id", "")), 0) + 1
    server.state.expire_requests(now)
    reqs = server.state.list_requests(status=None, limit=5000)
    if not sees_all(p):
        reqs = [r for r in reqs if r.actor == p.owner]
    waits = [r.decided_at - r.created_at for r in reqs if r.status in ("approved", "denied")
             and r.decided_at is not None and r.decided_at >= start]
    machines = server.keys.machines()
    if not sees_all(p):
        machines = [m for m in machines if m.get("owner") == p.owner]
    health = [machine_health(m, now, stale_minutes * 60) for m in machines]
    return {"window_hours": hours, "bucket_s": step, "series": series, "totals": totals,
            "top_denied": _ranked(denied), "top_asked": _ranked(asked),
            "latency": {"decided": len(waits), "median_s": percentile(waits, 0.5), "p90_s": percentile(waits, 0.9)},
            "pending": sum(1 for r in reqs if r.status == "pending"),
            "kills": [k.to_json() for k in server.state.kills()],
            "machines": health, "attention": [m for m in health if m["state"] != "ok"],
            "stale_minutes": stale_minutes, "now": now}

